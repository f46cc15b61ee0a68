"""A byte-bounded cache whose entries expire, least recently used first out when full.

What `cachetools.TLRUCache` does for the gateway (the same rules: an entry lives until
`now + ttl_of(value)`, reading it makes it the most recently used, setting one first drops
the expired ones, then the least recently used until the new one fits, a value larger than
the whole budget raises `ValueError`), without an object per entry for the garbage
collector to walk. One difference no caller sees: an expired entry that is read is dropped
then, not at the next set (either way it is never served).

`TLRUCache` keeps one `_Item` instance per entry (in a heap and a dict), and Python's
collector walks every such object in every full collection: 3,000 of them at 100k-1M
watches, where each full collection stops the event loop (BENCHMARKS.md "Cost follows
change" (f)). Here the bookkeeping is atoms in builtin containers: the recency order is
the order of an `OrderedDict` (no per-entry objects), the expiry times and sizes are
floats and ints in dicts, and the expiry heap holds `(expires, key)` tuples of a float and
a string, which the collector stops tracking at their first collection. Only the cached
values themselves stay visible to it.
"""

from __future__ import annotations

import heapq
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

V = TypeVar("V")

#: the heap is rebuilt without its stale tuples when it is this many times the entries
HEAP_CLEANUP_FACTOR = 2


class TtlLru(Generic[V]):
    """Values by string key, bounded by `maxsize` in `getsizeof` units; each lives
    `ttl_of(value)` seconds of `timer` from when it was set."""

    def __init__(
        self,
        maxsize: int,
        ttl_of: Callable[[V], float],
        timer: Callable[[], float],
        getsizeof: Callable[[V], int],
    ) -> None:
        self.maxsize = maxsize
        self.currsize = 0
        self._ttl_of = ttl_of
        self._timer = timer
        self._getsizeof = getsizeof
        self._values: OrderedDict[str, V] = OrderedDict()  # least recently used first
        self._expires: dict[str, float] = {}
        self._sizes: dict[str, int] = {}
        #: (expires, key); a tuple whose time is no longer the key's is stale, skipped
        self._heap: list[tuple[float, str]] = []

    def __len__(self) -> int:
        return len(self._values)

    def __contains__(self, key: str) -> bool:
        return key in self._values and self._timer() < self._expires[key]

    def get(self, key: str) -> V | None:
        """The value while it lives (now the most recently used), else None."""
        try:
            value = self._values[key]
        except KeyError:
            return None
        if not self._timer() < self._expires[key]:
            self._remove(key)
            return None
        self._values.move_to_end(key)
        return value

    def values(self) -> list[V]:
        """The values held (expired ones not yet dropped included), least recently used first."""
        return list(self._values.values())

    def __setitem__(self, key: str, value: V) -> None:
        now = self._timer()
        self.expire(now)
        expires = now + self._ttl_of(value)
        if not now < expires:  # born expired: it replaces nothing
            self.pop(key)
            return
        size = self._getsizeof(value)
        if size > self.maxsize:
            raise ValueError("value too large")
        growth = size - self._sizes.get(key, 0)
        while self.currsize + growth > self.maxsize:  # the key itself may go too
            self._remove(next(iter(self._values)))
            growth = size - self._sizes.get(key, 0)
        self.currsize += growth
        self._values[key] = value
        self._values.move_to_end(key)
        self._sizes[key] = size
        self._expires[key] = expires
        heapq.heappush(self._heap, (expires, key))

    def pop(self, key: str, default: V | None = None) -> V | None:
        """Remove `key`; its value (even expired), else `default`."""
        if key not in self._values:
            return default
        value = self._values[key]
        self._remove(key)
        return value

    def expire(self, now: float | None = None) -> None:
        """Drop every entry whose time has come."""
        if now is None:
            now = self._timer()
        heap = self._heap
        if len(heap) > len(self._values) * HEAP_CLEANUP_FACTOR:
            heap[:] = [item for item in heap if self._expires.get(item[1]) == item[0]]
            heapq.heapify(heap)
        while heap and not now < heap[0][0]:
            expires, key = heapq.heappop(heap)
            if self._expires.get(key) == expires:
                self._remove(key)

    def clear(self) -> None:
        self._values.clear()
        self._expires.clear()
        self._sizes.clear()
        self._heap.clear()
        self.currsize = 0

    def _remove(self, key: str) -> None:
        del self._values[key]
        del self._expires[key]
        self.currsize -= self._sizes.pop(key)
