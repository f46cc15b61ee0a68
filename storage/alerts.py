"""Price alerts: recorded before they are sent, marked sent after (table `alerts`, migration 3).

Each alert has a unique `alert_key` (watch, the base version it was measured
against, the observed change), so the same change can be recorded only once however
often it is observed. Alerts are inserted by `WatchStore.record_check` in the
transaction that moves the watch's base; delivery then walks `pending()` and
marks each one `sent` or `failed`. On start, whatever is still pending is sent.
Retention: a sent or given-up alert is deleted `ALERT_RETENTION_SECONDS` (30 days) after
it was sent or given up (`prune`, once per poll cycle); a pending one is never deleted.
"""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from storage.database import Database, dec, dec_text, transaction

if TYPE_CHECKING:
    import sqlite_utils

#: sent and given-up alerts are kept this long (for /stats and the operator), then deleted
ALERT_RETENTION_SECONDS = 30 * 86_400
PRUNE_BATCH = 5_000


@dataclass(frozen=True, slots=True)
class PendingAlert:
    """An alert to send, with what the message needs from its listing and watch."""

    id: int
    watch_id: int
    user_id: int
    chat_id: int
    ref_key: str
    changes: tuple[str, ...]
    old_price: Decimal | None
    new_price: Decimal | None
    lowest_price: Decimal | None
    status: str
    created_at: float
    attempts: int
    title: str
    url: str
    platform: str
    price_unit: str
    rule: str
    rule_value: Decimal | None
    #: the owner's language as the file has it (None: not known there), read with the
    #: alert so delivery asks the file nothing per user
    language: str | None = None


@dataclass(frozen=True, slots=True)
class AlertDraft:
    """An alert to record with a watch's new base."""

    key: str
    changes: tuple[str, ...]
    old_price: Decimal | None
    new_price: Decimal | None
    status: str


class AlertOwner(Protocol):
    """The watch an alert belongs to (`storage.watches.Watch`)."""

    @property
    def id(self) -> int: ...
    @property
    def user_id(self) -> int: ...
    @property
    def chat_id(self) -> int: ...
    @property
    def ref_key(self) -> str: ...


@dataclass(frozen=True, slots=True)
class AlertCounts:
    pending: int
    sent: int
    failed: int


def insert_alert(
    db: sqlite_utils.Database,
    watch: AlertOwner,
    draft: AlertDraft,
    lowest_price: Decimal | None,
    now: float,
) -> bool:
    """Record an alert (inside the caller's transaction); False when its key exists already."""
    cursor = db.execute(
        "INSERT INTO alerts (alert_key, watch_id, user_id, chat_id, ref_key, changes, "
        "old_price, new_price, lowest_price, status, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (alert_key) DO NOTHING",
        [
            draft.key,
            watch.id,
            watch.user_id,
            watch.chat_id,
            watch.ref_key,
            "+".join(draft.changes),
            dec_text(draft.old_price),
            dec_text(draft.new_price),
            dec_text(lowest_price),
            draft.status,
            now,
        ],
    )
    return cursor.rowcount == 1


def _mark_sent(db: sqlite_utils.Database, ids: list[int], now: float) -> set[int]:
    """Mark these alerts sent in one statement; the ids that were not sent before."""
    marked: set[int] = set()
    with transaction(db):
        for start in range(0, len(ids), 500):  # well under SQLite's limit of bound values
            chunk = ids[start : start + 500]
            marked.update(
                row[0]
                for row in db.execute(
                    "UPDATE alerts SET sent_at = ?, attempts = attempts + 1, last_error = NULL "
                    f"WHERE id IN ({', '.join('?' * len(chunk))}) AND sent_at IS NULL "
                    "RETURNING id",
                    [now, *chunk],
                ).fetchall()
            )
    return marked


def _pending_alert(r: tuple[Any, ...]) -> PendingAlert:
    return PendingAlert(
        int(r[0]),
        int(r[1]),
        int(r[2]),
        int(r[3]),
        r[4],
        tuple(r[5].split("+")),
        dec(r[6]),
        dec(r[7]),
        dec(r[8]),
        r[9],
        r[10],
        int(r[11]),
        r[12],
        r[13],
        r[14],
        r[15],
        r[16],
        dec(r[17]),
        r[18],
    )


class AlertStore:
    """Reads on the database's reader thread, writes awaited on its writer thread: an
    alert is marked sent only once the mark is on disk (else it is sent again, never lost)."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.clock = database.clock
        #: alert id -> its waiter: marks asked for and not written yet (`mark_sent`)
        self._marks: dict[int, asyncio.Future[bool]] = {}
        self._marking: asyncio.Task[None] | None = None

    async def pending(self, after_id: int = 0, limit: int = 500) -> list[PendingAlert]:
        """Unsent, not given-up alerts with id > `after_id`, oldest first."""
        rows = await self.database.fetchall(
            "SELECT a.id, a.watch_id, a.user_id, a.chat_id, a.ref_key, a.changes, "
            "a.old_price, a.new_price, a.lowest_price, a.status, a.created_at, a.attempts, "
            "l.title, l.url, l.platform, l.price_unit, s.rule, s.rule_value, u.language "
            "FROM alerts a "
            "JOIN watches s ON s.id = a.watch_id "
            "JOIN watched_listings l ON l.ref_key = a.ref_key "
            "LEFT JOIN users u ON u.user_id = a.user_id "
            "WHERE a.sent_at IS NULL AND a.failed_at IS NULL AND a.id > ? "
            "ORDER BY a.id LIMIT ?",
            [after_id, limit],
        )
        return [_pending_alert(r) for r in rows]

    async def mark_sent(self, alert_id: int) -> bool:
        """Mark the alert sent, on disk before this returns; False when it was already.

        Marks asked for while one is being written go together in the next write: one
        statement and one trip to the writer thread for a whole burst of deliveries
        (each trip costs a thread wake-up either way, and far more on a busy machine).
        A failed write (the file locked past the busy timeout) fails every mark in it.
        """
        loop = asyncio.get_running_loop()
        waiter = self._marks.get(alert_id)
        if waiter is None:
            waiter = self._marks[alert_id] = loop.create_future()
        marking = self._marking
        if marking is None or marking.done() or marking.get_loop() is not loop:
            self._marking = loop.create_task(self._write_marks())
        return await asyncio.shield(waiter)

    async def _write_marks(self) -> None:
        while self._marks:
            batch, self._marks = self._marks, {}
            write = functools.partial(_mark_sent, ids=list(batch), now=self.clock.time())
            try:
                marked = await self.database.run(write, inline=True)
            except BaseException as exc:
                for waiter in batch.values():
                    if not waiter.done():
                        waiter.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise
                continue
            for alert_id, waiter in batch.items():
                if not waiter.done():
                    waiter.set_result(alert_id in marked)

    async def mark_failed(self, alert_id: int, reason: str) -> None:
        """Given up: never sent again (the reason says why, for the operator)."""
        now = self.clock.time()
        await self.database.write(
            "UPDATE alerts SET failed_at = ?, attempts = attempts + 1, last_error = ? "
            "WHERE id = ? AND sent_at IS NULL",
            [now, reason[:200], alert_id],
            inline=True,
        )

    async def note_attempt(self, alert_id: int, error: str) -> int:
        """A failed try that may work later; return the tries so far."""
        row = await self.database.run(
            lambda db: db.execute(
                "UPDATE alerts SET attempts = attempts + 1, last_error = ? WHERE id = ? "
                "RETURNING attempts",
                [error[:200], alert_id],
            ).fetchone(),
            inline=True,
        )
        return int(row[0]) if row else 0

    async def fail_pending_for_chat(self, chat_id: int, reason: str) -> int:
        now = self.clock.time()
        return await self.database.write(
            "UPDATE alerts SET failed_at = ?, last_error = ? "
            "WHERE chat_id = ? AND sent_at IS NULL AND failed_at IS NULL",
            [now, reason, chat_id],
        )

    async def prune(self, before: float, batch: int = PRUNE_BATCH) -> int:
        """Delete alerts sent or given up before `before` (never a pending one); return
        how many. In batches, each its own short write, so no write waits long behind it.

        Safe for "never recorded twice": an alert's key names the base version it was
        measured against, and recording it moved the watch's base past that
        version in the same transaction, so no later check can make the same key again.
        """
        deleted = 0
        while True:
            n = await self.database.write(
                "DELETE FROM alerts WHERE id IN (SELECT id FROM alerts "
                "WHERE COALESCE(sent_at, failed_at) < ? LIMIT ?)",
                [before, batch],
            )
            deleted += n
            if n < batch:
                return deleted

    async def counts(self) -> AlertCounts:
        row = await self.database.fetch_aggregate(
            "SELECT COALESCE(SUM(sent_at IS NULL AND failed_at IS NULL), 0), "
            "COALESCE(SUM(sent_at IS NOT NULL), 0), COALESCE(SUM(failed_at IS NOT NULL), 0) "
            "FROM alerts"
        )
        return AlertCounts(int(row[0]), int(row[1]), int(row[2]))
