"""What a parsed listing keeps, and what a kept answer weighs (issue 19, point 4).

A platform answer is read up to `PLATFORM_MAX_ANSWER_BYTES` (8 MiB, `clients.base`), and
such an answer parsed whole can hold 30-60 MB of Python objects (10,000 params as small
strings, 10,000 photo URLs, a title of millions of characters). A listing keeps only what
a card can show (`handlers/cards.py`: a 200-character title, 12 facts, 8 tags, the first
photo and an album of 10; Bot API: a caption of 1,024 and a message of 4,096 characters),
with room to spare for what other readers use (the trade-in check reads Xianyu's params).
Every listing parser cuts long lists while it reads them (`first`, `photo_urls`) and passes
its result through `bounded_listing`; numbers go through `sane_number`. Real answers are
far inside these limits (the seeds: 17 facts at most, about 10 photos, short words).

`approx_bytes` estimates what a kept value weighs, so the caches can be bounded in bytes
(`gateway`, `handlers.cards`). See `docs/memory.md`.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import fields, is_dataclass, replace
from decimal import Decimal
from enum import Enum
from itertools import islice
from typing import TypeVar

from clients.models import Fact, Listing

T = TypeVar("T")

#: cards, alerts and /watches show 200 characters of a title, then "…"
TITLE_CHARS = 200
#: a fact's label and value as kept (an Anjuke address or metro line is well under this)
FACT_LABEL_CHARS = 32
FACT_VALUE_CHARS = 200
#: facts other than params, in the platform's order; cards show 12 and the richest
#: seed (Anjuke, 000) has 17
FACTS_KEPT = 32
#: Xianyu's params: hidden on cards, read by the trade-in check (the seed lists 存储容量、
#: 颜色、功能状态 and the like)
PARAMS_KEPT = 32
#: cards show 8 tags
TAGS_KEPT = 8
TAG_CHARS = 32
#: an agent's or seller's name, and a status word we do not know (both shown as written)
NAME_CHARS = 64
#: the card's photo and an album of up to 10 (Bot API, sendMediaGroup: 2-10 items)
PHOTOS_KEPT = 10
#: a longer photo or page URL is dropped, never cut (a cut URL leads elsewhere)
URL_CHARS = 2048
#: an ID or city code from an answer; a longer one is not the platform's and the ID
#: asked for stands
ID_CHARS = 64
#: a number's text (price, area): a longer one is no number we could show
NUMBER_CHARS = 40
#: a number's size either way: 10**18 yuan or 10**-18 square metres is no listing's
NUMBER_EXPONENT = 18
ELLIPSIS = "…"


def clip(text: str, limit: int) -> str:
    """`text`, or its first `limit` characters and "…" when it is longer.

    A card that cuts at `limit` and adds "…" shows the same either way.
    """
    return text if len(text) <= limit else text[:limit] + ELLIPSIS


def first(items: Iterable[T], count: int) -> list[T]:
    """At most `count` items, read no further (a hostile list is not walked to its end)."""
    return list(islice(items, count))


def photo_urls(urls: Iterable[str]) -> tuple[str, ...]:
    """The first `PHOTOS_KEPT` distinct, non-empty URLs no longer than `URL_CHARS`."""
    kept: dict[str, None] = {}
    for url in urls:
        if url and len(url) <= URL_CHARS:
            kept[url] = None
            if len(kept) == PHOTOS_KEPT:
                break
    return tuple(kept)


def answer_id(answered: str, asked: str) -> str:
    """The ID an answer names, unless it is empty or too long to be one (then `asked`)."""
    return answered if answered and len(answered) <= ID_CHARS else asked


def sane_number(text: str) -> Decimal | None:
    """A finite number of at most `NUMBER_CHARS` characters and a sane size, else None.

    `Decimal("1e999999")` is eight characters and would print as a million digits.
    """
    if len(text) > NUMBER_CHARS:
        return None
    try:
        number = Decimal(text)
    except ArithmeticError:  # InvalidOperation
        return None
    if not number.is_finite() or (number and abs(number.adjusted()) > NUMBER_EXPONENT):
        return None
    return number


def bounded_facts(facts: Iterable[Fact]) -> tuple[Fact, ...]:
    """Facts in the platform's order: the first `FACTS_KEPT`, and the first `PARAMS_KEPT`
    params, each label and value clipped."""
    kept: list[Fact] = []
    others = params = 0
    for key, label, value in facts:
        if key == "param":
            params += 1
            if params > PARAMS_KEPT:
                continue
        else:
            others += 1
            if others > FACTS_KEPT:
                continue
        kept.append((key, clip(label, FACT_LABEL_CHARS), clip(value, FACT_VALUE_CHARS)))
        if others >= FACTS_KEPT and params >= PARAMS_KEPT:
            break
    return tuple(kept)


def bounded_listing(listing: Listing) -> Listing:
    """`listing` with every platform string and list cut at what a card can show."""
    return replace(
        listing,
        title=clip(listing.title, TITLE_CHARS),
        photos=photo_urls(listing.photos),
        facts=bounded_facts(listing.facts),
        tags=tuple(clip(tag, TAG_CHARS) for tag in listing.tags[:TAGS_KEPT]),
        agent=clip(listing.agent, NAME_CHARS) if listing.agent else listing.agent,
        status_word=clip(listing.status_word, NAME_CHARS),
    )


# -- what a kept value weighs ------------------------------------------------------------

#: how deep `approx_bytes` follows references; kept values are a few levels deep
_DEPTH = 6


def approx_bytes(value: object, _depth: int = 0) -> int:
    """A deterministic estimate of the bytes `value` keeps alive: the object and what it
    holds (strings, numbers, tuples, dataclasses, an exception's attributes).

    Shared singletons (None, booleans, enum members) count nothing; deeper than a few
    levels an object counts its own size only. Linear in what a bounded listing holds (a
    few dozen strings), so it is computed once per cached entry, not per read.
    """
    if value is None or isinstance(value, (bool, Enum)):
        return 0
    size = sys.getsizeof(value)
    if isinstance(value, (str, bytes, int, float, Decimal)) or _depth >= _DEPTH:
        return size
    depth = _depth + 1
    if isinstance(value, (tuple, list, set, frozenset)):
        return size + sum(approx_bytes(item, depth) for item in value)
    if isinstance(value, dict):
        return size + sum(approx_bytes(k, depth) + approx_bytes(v, depth) for k, v in value.items())
    if is_dataclass(value) and not isinstance(value, type):
        return size + sum(approx_bytes(getattr(value, f.name), depth) for f in fields(value))
    if isinstance(value, BaseException):
        return size + approx_bytes(value.args, depth) + approx_bytes(vars(value), depth)
    attributes = getattr(value, "__dict__", None)
    return size + (approx_bytes(attributes, depth) if attributes is not None else 0)
