"""Watched listings, their price history, and who watches them.

Tables (migration 3): `watched_listings` (the latest snapshot of each watched
listing), `price_history` (one row per stretch of equal observations), and
`watches` (one per user and listing, with its rule and comparison base).

`record_check` is the poller's one write per checked listing: in a single
transaction it records the observation, moves the snapshot, asks the caller's
`decide` what the observation means for each active watch, stores the new
bases and inserts the alerts. A crash either keeps all of it or none of it, so an
alert is never lost between "seen" and "recorded" and never recorded twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from clients.models import Listing, ListingStatus
from storage.alerts import AlertDraft, insert_alert
from storage.database import Database, dec, dec_text, transaction

if TYPE_CHECKING:
    import sqlite_utils

#: price-history stretches kept per listing: what the chart draws (`history`), no more
HISTORY_KEPT = 2000


class WatchLimitReached(Exception):
    """The user already holds the maximum number of watches."""

    def __init__(self, limit: int, platform: str | None = None) -> None:
        super().__init__(f"at most {limit} watches per user")
        self.limit = limit
        #: set when the cap is the platform's (its quota), not the overall one
        self.platform = platform


@dataclass(frozen=True, slots=True)
class WatchedListing:
    ref_key: str
    platform: str
    listing_id: str
    city_id: str | None
    title: str
    url: str
    price_unit: str
    price: Decimal | None
    status: str
    lowest_price: Decimal | None
    first_seen_at: float
    last_checked_at: float | None
    last_seen_at: float | None
    last_error: str | None
    errors: int


_LISTING_COLUMNS = (
    "ref_key, platform, listing_id, city_id, title, url, price_unit, price, status, "
    "lowest_price, first_seen_at, last_checked_at, last_seen_at, last_error, errors"
)


def _listing(row: tuple[Any, ...]) -> WatchedListing:
    return WatchedListing(
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        row[5],
        row[6],
        dec(row[7]),
        row[8],
        dec(row[9]),
        row[10],
        row[11],
        row[12],
        row[13],
        int(row[14]),
    )


@dataclass(frozen=True, slots=True)
class Watch:
    id: int
    user_id: int
    chat_id: int
    ref_key: str
    rule: str
    rule_value: Decimal | None
    watched_price: Decimal | None
    base_price: Decimal | None
    base_status: str
    base_version: int
    paused_reason: str | None
    created_at: float
    last_alert_at: float | None


_SUB_COLUMNS = (
    "id, user_id, chat_id, ref_key, rule, rule_value, watched_price, base_price, base_status, "
    "base_version, paused_reason, created_at, last_alert_at"
)


def _watch(row: tuple[Any, ...]) -> Watch:
    return Watch(
        int(row[0]),
        int(row[1]),
        int(row[2]),
        row[3],
        row[4],
        dec(row[5]),
        dec(row[6]),
        dec(row[7]),
        row[8],
        int(row[9]),
        row[10],
        row[11],
        row[12],
    )


@dataclass(frozen=True, slots=True)
class WatchEntry:
    """One line of a user's /watches: the watch with its listing's snapshot."""

    number: int  # 1-based, in the order the user started watching
    watch: Watch
    listing: WatchedListing


@dataclass(frozen=True, slots=True)
class NewBase:
    price: Decimal | None
    status: str
    version: int


@dataclass(frozen=True, slots=True)
class Decision:
    """What one observation means for one watch: its base from now on, maybe an alert."""

    base: NewBase
    alert: AlertDraft | None = None


@dataclass(frozen=True, slots=True)
class CheckResult:
    listing: WatchedListing
    alerts_created: int
    duplicates: int  # alerts whose key existed already (the same change seen again)
    decisions: int = 0  # watches decided (none when nothing changed for anyone)


@dataclass(frozen=True, slots=True)
class PricePoint:
    price: Decimal | None
    status: str
    first_observed_at: float
    last_observed_at: float
    observations: int


@dataclass(frozen=True, slots=True)
class WatchCounts:
    users: int  # distinct users with a watch
    active: int
    paused: int
    listings: int  # distinct listings with at least one active watch


def _get_listing(db: sqlite_utils.Database, ref_key: str) -> WatchedListing | None:
    row = db.execute(
        f"SELECT {_LISTING_COLUMNS} FROM watched_listings WHERE ref_key = ?", [ref_key]
    ).fetchone()
    return _listing(row) if row else None


def _get_watch(db: sqlite_utils.Database, watch_id: int) -> Watch | None:
    row = db.execute(f"SELECT {_SUB_COLUMNS} FROM watches WHERE id = ?", [watch_id]).fetchone()
    return _watch(row) if row else None


def _observe(
    db: sqlite_utils.Database, ref_key: str, price: Decimal | None, status: str, now: float
) -> None:
    """Record one observation in the history (extends the last row when nothing changed)."""
    last = db.execute(
        "SELECT id, price, status FROM price_history WHERE ref_key = ? "
        "ORDER BY first_observed_at DESC, id DESC LIMIT 1",
        [ref_key],
    ).fetchone()
    if last is not None and dec(last[1]) == price and last[2] == status:
        db.execute(
            "UPDATE price_history SET last_observed_at = ?, observations = observations + 1 "
            "WHERE id = ?",
            [now, last[0]],
        )
        return
    db.execute(
        "INSERT INTO price_history (ref_key, price, status, first_observed_at, "
        "last_observed_at) VALUES (?, ?, ?, ?, ?)",
        [ref_key, dec_text(price), status, now, now],
    )
    # retention: the chart draws the last HISTORY_KEPT stretches; older ones go (a
    # listing's history grows only when its price or status changes, so this is rare)
    db.execute(
        "DELETE FROM price_history WHERE id IN (SELECT id FROM price_history "
        "WHERE ref_key = ? ORDER BY first_observed_at DESC, id DESC LIMIT -1 OFFSET ?)",
        [ref_key, HISTORY_KEPT],
    )


def _save_snapshot(
    db: sqlite_utils.Database, listing: Listing, now: float, *, checked: bool
) -> None:
    key = listing.ref.key
    row = db.execute(
        "SELECT lowest_price FROM watched_listings WHERE ref_key = ?", [key]
    ).fetchone()
    lowest = dec(row[0]) if row else None
    if listing.status is ListingStatus.ON_SALE and listing.price is not None:
        lowest = listing.price if lowest is None else min(lowest, listing.price)
    db.execute(
        f"""
        INSERT INTO watched_listings ({_LISTING_COLUMNS})
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, 0)
        ON CONFLICT (ref_key) DO UPDATE SET
            title = excluded.title, url = excluded.url, price_unit = excluded.price_unit,
            price = excluded.price, status = excluded.status,
            lowest_price = excluded.lowest_price,
            last_checked_at = COALESCE(excluded.last_checked_at, last_checked_at),
            last_seen_at = excluded.last_seen_at, last_error = NULL, errors = 0
        """,
        [
            key,
            listing.platform,
            listing.listing_id,
            listing.city_id,
            listing.title,
            listing.url,
            listing.price_unit.value,
            dec_text(listing.price),
            listing.status.value,
            dec_text(lowest),
            now,
            now if checked else None,
            now,
        ],
    )


def _drop_unwatched(db: sqlite_utils.Database, ref_keys: list[str]) -> None:
    # A listing nobody watches any more is forgotten with its history: it said what
    # the last watcher was interested in.
    for key in set(ref_keys):
        db.execute(
            "DELETE FROM watched_listings WHERE ref_key = ? AND NOT EXISTS "
            "(SELECT 1 FROM watches WHERE ref_key = ?)",
            [key, key],
        )


class WatchStore:
    """Reads on the database's reader thread; writes, each one transaction, on its writer
    thread. The writes are awaited: a watch is durable before the user hears of it."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.clock = database.clock
        # chats that may have paused watches: every pause adds its chat, the database's
        # are added on the first resume check, a resume removes it. A chat wrongly here
        # costs one read; none paused is ever missing. So an update from a chat with no
        # paused watch (nearly all of them) needs no database round trip.
        self._maybe_paused: set[int] = set()
        self._paused_loaded = False
        self._pauses = 0  # pauses begun: a resume check that saw one begin keeps the chat

    # -- listings and their history -------------------------------------------------

    async def listing(self, ref_key: str) -> WatchedListing | None:
        return await self.database.read(lambda db: _get_listing(db, ref_key))

    async def history(self, ref_key: str, limit: int | None = None) -> list[PricePoint]:
        """The listing's observations, oldest first (the most recent `limit` stretches,
        by default all that are kept: `HISTORY_KEPT`)."""
        limit = HISTORY_KEPT if limit is None else limit
        rows = await self.database.fetchall(
            "SELECT price, status, first_observed_at, last_observed_at, observations FROM ("
            " SELECT * FROM price_history WHERE ref_key = ?"
            " ORDER BY first_observed_at DESC, id DESC LIMIT ?"
            ") ORDER BY first_observed_at, id",
            [ref_key, limit],
        )
        return [PricePoint(dec(r[0]), r[1], r[2], r[3], int(r[4])) for r in rows]

    # -- watching ------------------------------------------------------------------

    async def add(
        self,
        *,
        user_id: int,
        chat_id: int,
        listing: Listing,
        rule: str,
        rule_value: Decimal | None,
        base_price: Decimal | None,
        max_per_user: int,
        max_on_platform: int | None = None,
    ) -> tuple[Watch, bool]:
        """Watch `listing` (or change the rule of an existing watch); return it and whether it is new.

        Watching again replaces the rule and restarts the base from the current price:
        the user has just seen it. Raises `WatchLimitReached` for a new watch beyond
        `max_per_user`, or beyond `max_on_platform` watches on the listing's platform. The listing's snapshot and history are recorded as well.
        """
        now = self.clock.time()
        key = listing.ref.key
        values = [
            chat_id,
            rule,
            dec_text(rule_value),
            dec_text(listing.price),
            dec_text(base_price),
            listing.status.value,
            now,
        ]

        def work(db: sqlite_utils.Database) -> tuple[Watch, bool]:
            with transaction(db):
                existing = db.execute(
                    "SELECT id FROM watches WHERE user_id = ? AND chat_id = ? AND ref_key = ?",
                    [user_id, chat_id, key],
                ).fetchone()
                if existing is None:
                    _check_caps(db, user_id, listing.platform, max_per_user, max_on_platform)
                _save_snapshot(db, listing, now, checked=False)
                _observe(db, key, listing.price, listing.status.value, now)
                if existing is None:
                    sub_id = db.execute(
                        "INSERT INTO watches (chat_id, rule, rule_value, watched_price, "
                        "base_price, base_status, updated_at, user_id, ref_key, created_at) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [*values, user_id, key, now],
                    ).lastrowid
                else:
                    sub_id = existing[0]
                    # the version keeps counting, so no earlier alert key can ever come back
                    db.execute(
                        "UPDATE watches SET chat_id = ?, rule = ?, rule_value = ?, "
                        "watched_price = ?, base_price = ?, base_status = ?, updated_at = ?, "
                        "paused_reason = NULL WHERE id = ?",
                        [*values, sub_id],
                    )
            assert sub_id is not None  # sqlite3 types lastrowid Optional; an INSERT sets it
            sub = _get_watch(db, int(sub_id))
            assert sub is not None
            return sub, existing is None

        # one short transaction, safe to run twice: inline when the writer is idle
        return await self.database.run(work, inline=True)

    async def get(self, watch_id: int) -> Watch | None:
        return await self.database.read(lambda db: _get_watch(db, watch_id))

    async def owned(self, watch_id: int, user_id: int) -> Watch | None:
        """The watch if `user_id` holds it; None for anyone else's (or none)."""
        row = await self.database.fetchone(
            f"SELECT {_SUB_COLUMNS} FROM watches WHERE id = ? AND user_id = ?",
            [watch_id, user_id],
        )
        return _watch(row) if row else None

    async def of_user_for(self, user_id: int, ref_key: str, chat_id: int) -> Watch | None:
        """The user's watch to one listing in one chat, if any."""
        row = await self.database.fetchone(
            f"SELECT {_SUB_COLUMNS} FROM watches WHERE user_id = ? AND ref_key = ? AND chat_id = ?",
            [user_id, ref_key, chat_id],
        )
        return _watch(row) if row else None

    async def count_for_user(self, user_id: int) -> int:
        (count,) = await self.database.fetch_aggregate(
            "SELECT COUNT(*) FROM watches WHERE user_id = ?", [user_id]
        )
        return int(count)

    async def for_user(self, user_id: int, chat_id: int | None = None) -> list[WatchEntry]:
        """The user's watches (in one chat, when given), numbered in the order they
        were started."""
        sub_cols = ", ".join(f"s.{c.strip()}" for c in _SUB_COLUMNS.split(","))
        listing_cols = ", ".join(f"l.{c.strip()}" for c in _LISTING_COLUMNS.split(","))
        rows = await self.database.fetchall(
            f"SELECT {sub_cols}, {listing_cols} FROM watches s "
            "JOIN watched_listings l ON l.ref_key = s.ref_key "
            "WHERE s.user_id = ? AND (? IS NULL OR s.chat_id = ?) "
            "ORDER BY s.created_at, s.id",
            [user_id, chat_id, chat_id],
        )
        width = len(_SUB_COLUMNS.split(","))
        return [
            WatchEntry(n, _watch(r[:width]), _listing(r[width:]))
            for n, r in enumerate(rows, start=1)
        ]

    async def unwatch(self, watch_id: int, user_id: int) -> WatchedListing | None:
        """Remove the user's own watch (its alerts go with it); None when not theirs."""

        def work(db: sqlite_utils.Database) -> WatchedListing | None:
            with transaction(db):
                row = db.execute(
                    "SELECT ref_key FROM watches WHERE id = ? AND user_id = ?",
                    [watch_id, user_id],
                ).fetchone()
                if row is None:
                    return None
                listing = _get_listing(db, row[0])
                db.execute("DELETE FROM watches WHERE id = ?", [watch_id])
                _drop_unwatched(db, [row[0]])
            return listing

        return await self.database.run(work)

    async def delete_user(self, user_id: int) -> tuple[int, int]:
        """Every watch of the user and their alerts; return (watches, alerts)."""

        def work(db: sqlite_utils.Database) -> tuple[int, int]:
            with transaction(db):
                keys = [
                    r[0]
                    for r in db.execute("SELECT ref_key FROM watches WHERE user_id = ?", [user_id])
                ]
                (alerts,) = db.execute(
                    "SELECT COUNT(*) FROM alerts WHERE user_id = ?", [user_id]
                ).fetchone()
                # alerts of this user in any chat (a group watch made by them) go too
                db.execute("DELETE FROM alerts WHERE user_id = ?", [user_id])
                subs = db.execute("DELETE FROM watches WHERE user_id = ?", [user_id]).rowcount
                # watches the bot could not keep, told or not (migration 10)
                db.execute("DELETE FROM retired_watches WHERE user_id = ?", [user_id])
                _drop_unwatched(db, keys)
            return int(subs), int(alerts)

        return await self.database.run(work)

    # -- blocked users ---------------------------------------------------------------

    async def pause_chat(self, chat_id: int, reason: str) -> int:
        now = self.clock.time()
        self._maybe_paused.add(chat_id)  # before the write: no resume check can miss it
        self._pauses += 1
        return await self.database.write(
            "UPDATE watches SET paused_reason = ?, updated_at = ? "
            "WHERE chat_id = ? AND paused_reason IS NULL",
            [reason, now, chat_id],
        )

    async def resume_chat(self, chat_id: int) -> int:
        """The chat talks to us again (so it unblocked the bot): its watches run again."""
        # called on every update: memory decides first, then a read, so the common case
        # neither reads nor writes
        if not self._paused_loaded:
            rows = await self.database.fetchall(
                "SELECT DISTINCT chat_id FROM watches WHERE paused_reason IS NOT NULL"
            )
            self._maybe_paused.update(int(row[0]) for row in rows)
            self._paused_loaded = True
        if chat_id not in self._maybe_paused:
            return 0
        pauses = self._pauses
        paused = await self.database.fetchone(
            "SELECT 1 FROM watches WHERE chat_id = ? AND paused_reason IS NOT NULL LIMIT 1",
            [chat_id],
        )
        if paused is None:
            if self._pauses == pauses:  # no pause began meanwhile (its write may be late)
                self._maybe_paused.discard(chat_id)
            return 0
        now = self.clock.time()
        resumed = await self.database.write(
            "UPDATE watches SET paused_reason = NULL, updated_at = ? "
            "WHERE chat_id = ? AND paused_reason IS NOT NULL",
            [now, chat_id],
        )
        if self._pauses == pauses:
            self._maybe_paused.discard(chat_id)
        return resumed

    async def move_chat(self, old_chat_id: int, new_chat_id: int) -> int:
        """A group became a supergroup: its watches follow it."""
        if old_chat_id in self._maybe_paused:
            self._maybe_paused.add(new_chat_id)

        def work(db: sqlite_utils.Database) -> int:
            with transaction(db):
                db.execute(
                    "UPDATE alerts SET chat_id = ? WHERE chat_id = ?", [new_chat_id, old_chat_id]
                )
                return int(
                    db.execute(
                        "UPDATE watches SET chat_id = ? WHERE chat_id = ?",
                        [new_chat_id, old_chat_id],
                    ).rowcount
                )

        return await self.database.run(work)

    # -- what the poller needs -------------------------------------------------------

    async def watched_counts(self) -> dict[str, int]:
        """Platform -> listings with at least one active watch."""
        # `watched` is kept by triggers (migration 12): a walk of one partial index
        rows = await self.database.fetchall(
            "SELECT platform, COUNT(*) FROM watched_listings WHERE watched = 1 GROUP BY platform"
        )
        return {r[0]: int(r[1]) for r in rows}

    async def stalest(self, platform: str, limit: int) -> list[WatchedListing]:
        """Up to `limit` actively watched listings, never-checked first, then least recently."""
        if limit <= 0:
            return []
        # NULL (never checked) sorts first in SQLite: the order is the index's own
        # (watched_listings_stalest, migration 12), so only `limit` entries are read
        # the rows become `WatchedListing`s on the reader thread too: 3,000 of them built
        # on the event loop held it ~8-12 ms (BENCHMARKS.md, issue 19 point 3)
        return await self.database.read(
            lambda db: [
                _listing(r)
                for r in db.execute(
                    f"SELECT {_LISTING_COLUMNS} FROM watched_listings WHERE platform = ? "
                    "AND watched = 1 ORDER BY last_checked_at, first_seen_at LIMIT ?",
                    [platform, limit],
                )
            ]
        )

    async def record_failure(self, ref_key: str, error_kind: str, now: float) -> None:
        """A check that got no usable answer: it counts as checked, so others get their turn."""
        await self.database.write(
            "UPDATE watched_listings SET last_checked_at = ?, last_error = ?, "
            "errors = errors + 1 WHERE ref_key = ?",
            [now, error_kind, ref_key],
            inline=True,
        )

    async def record_check(
        self,
        ref_key: str,
        listing: Listing | None,
        status: str,
        now: float,
        decide: Callable[[Watch], Decision],
    ) -> CheckResult:
        """Record one observation and what it means for every active watch, atomically.

        `listing` is None when the platform says the listing no longer exists; `status`
        is then `taken_down` and the price stays what was last seen. `decide` runs on
        the database's writer thread, inside the transaction: it must only compute.

        Cost follows change: when the observation is the one every watch was
        last decided on (`decided_*`, migration 12), only the watches their owner
        changed since are decided. For the others a decision on the same observation
        against the base it already moved is a no-op (`watching.rules.evaluate` is
        idempotent), so skipping them changes nothing but the cost.
        """

        def work(db: sqlite_utils.Database) -> CheckResult:
            with transaction(db):
                decided = db.execute(
                    "SELECT decided_price, decided_status, decided_at FROM watched_listings "
                    "WHERE ref_key = ?",
                    [ref_key],
                ).fetchone()
                after = _record_observation(db, ref_key, listing, status, now)
                same = (
                    decided is not None
                    and decided[2] is not None
                    and decided[1] == status
                    and dec(decided[0]) == after.price
                )
                created, duplicates, decided_now = _apply_decisions(
                    db, after, now, decide, changed_since=decided[2] if same else None
                )
                db.execute(
                    "UPDATE watched_listings SET decided_price = ?, decided_status = ?, "
                    "decided_at = ? WHERE ref_key = ?",
                    [dec_text(after.price), status, now, ref_key],
                )
            return CheckResult(after, created, duplicates, decided_now)

        # inline when the writer is idle; a check that decides many watches runs past
        # the inline CPU limit and is run again on the writer thread (storage/database.py)
        return await self.database.run(work, inline=True)

    # -- numbers for /stats ------------------------------------------------------------

    async def counts(self) -> WatchCounts:
        row = await self.database.fetch_aggregate(
            "SELECT COUNT(DISTINCT user_id), COALESCE(SUM(paused_reason IS NULL), 0), "
            "COALESCE(SUM(paused_reason IS NOT NULL), 0), "
            "COUNT(DISTINCT CASE WHEN paused_reason IS NULL THEN ref_key END) "
            "FROM watches"
        )
        return WatchCounts(int(row[0]), int(row[1]), int(row[2]), int(row[3]))


def _check_caps(
    db: sqlite_utils.Database,
    user_id: int,
    platform: str,
    max_per_user: int,
    max_on_platform: int | None,
) -> None:
    """Raise `WatchLimitReached` when the user may not start one more watch."""
    (count,) = db.execute("SELECT COUNT(*) FROM watches WHERE user_id = ?", [user_id]).fetchone()
    if count >= max_per_user:
        raise WatchLimitReached(max_per_user)
    if max_on_platform is None:
        return
    (on_platform,) = db.execute(
        "SELECT COUNT(*) FROM watches s JOIN watched_listings l "
        "ON l.ref_key = s.ref_key WHERE s.user_id = ? AND l.platform = ?",
        [user_id, platform],
    ).fetchone()
    if on_platform >= max_on_platform:
        raise WatchLimitReached(max_on_platform, platform)


def _record_observation(
    db: sqlite_utils.Database, ref_key: str, listing: Listing | None, status: str, now: float
) -> WatchedListing:
    """The snapshot and history after one check (inside the caller's transaction)."""
    before = _get_listing(db, ref_key)
    if before is None:  # nobody watches it any more (unwatched during the check)
        raise LookupError(ref_key)
    if listing is not None:
        _save_snapshot(db, listing, now, checked=True)
        price = listing.price
    else:
        price = before.price
        db.execute(
            "UPDATE watched_listings SET status = ?, last_checked_at = ?, "
            "last_seen_at = ?, last_error = NULL, errors = 0 WHERE ref_key = ?",
            [status, now, now, ref_key],
        )
    _observe(db, ref_key, price, status, now)
    after = _get_listing(db, ref_key)
    assert after is not None
    return after


def _apply_decisions(
    db: sqlite_utils.Database,
    listing: WatchedListing,
    now: float,
    decide: Callable[[Watch], Decision],
    *,
    changed_since: float | None = None,
) -> tuple[int, int, int]:
    """New bases and alerts for every active watch (with `changed_since`, only
    those whose owner changed them since); (alerts created, duplicates, decisions)."""
    created = duplicates = 0
    if changed_since is None:
        rows = db.execute(
            f"SELECT {_SUB_COLUMNS} FROM watches WHERE ref_key = ? AND paused_reason IS NULL",
            [listing.ref_key],
        )
    else:
        rows = db.execute(
            f"SELECT {_SUB_COLUMNS} FROM watches WHERE ref_key = ? "
            "AND paused_reason IS NULL AND updated_at >= ?",
            [listing.ref_key, changed_since],
        )
    base_updates = []
    decided = 0
    # one watch at a time, never a list of all of them: a listing watched by
    # 100,000 people would otherwise hold 100,000 objects at once, and the full garbage
    # collections they set off stop every thread (the event loop's too)
    for row in rows:
        sub = _watch(row)
        decided += 1
        decision = decide(sub)
        base = decision.base
        if (base.price, base.status, base.version) != (
            sub.base_price,
            sub.base_status,
            sub.base_version,
        ):
            base_updates.append(
                (
                    dec_text(base.price),
                    base.status,
                    base.version,
                    now if decision.alert else sub.last_alert_at,
                    sub.id,
                )
            )
        if decision.alert is not None:
            if insert_alert(db, sub, decision.alert, listing.lowest_price, now):
                created += 1
            else:
                duplicates += 1
    if base_updates:
        # `updated_at` is the owner's (migration 12): a base the poller moved was decided
        # on this observation and needs no decision until the observation changes
        db.conn.executemany(
            "UPDATE watches SET base_price = ?, base_status = ?, "
            "base_version = ?, last_alert_at = ? WHERE id = ?",
            base_updates,
        )
    return created, duplicates, decided
