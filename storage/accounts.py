"""The Anjuke account a user linked with /link (table `linked_accounts`, migrations 4, 10).

The only place personal data (name, phone, email) is stored. The dataclass keeps
those fields out of its repr, so a log line or traceback that prints a
`LinkedAccount` never shows them; `masked_phone` / `masked_email` are what chat shows.

A link is `proven` when it was made for the phone number Telegram verified for the user
(a shared contact whose `user_id` is the sender's). Only proven links are shown, and
one Anjuke account has at most one proven owner (a unique index; `AccountTaken`).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from storage.database import Database


class AccountTaken(Exception):
    """Another Telegram user holds a proven link to this Anjuke account."""


@dataclass(frozen=True, slots=True)
class LinkedAccount:
    user_id: int
    anjuke_user_id: str
    name: str | None = field(default=None, repr=False)
    phone: str | None = field(default=None, repr=False)
    email: str | None = field(default=None, repr=False)
    registered_by_bot: bool = False
    linked_at: float = 0.0
    proven: bool = False


def mask_phone(phone: str | None) -> str | None:
    """`13812345678` -> `138****5678`; shorter numbers keep only their last two digits."""
    if not phone:
        return None
    p = phone.strip()
    if len(p) >= 11:
        return p[:3] + "*" * (len(p) - 7) + p[-4:]
    return "*" * max(1, len(p) - 2) + p[-2:]


def mask_email(email: str | None) -> str | None:
    """`ken.li@anjuke.com` -> `k****@anjuke.com`."""
    if not email:
        return None
    local, at, domain = email.strip().partition("@")
    if not at:
        return mask_phone(email)
    return (local[:1] + "****" if local else "****") + "@" + domain


def mask_name(name: str | None) -> str | None:
    """`王小明` -> `王**`: enough to recognise one's own account, not to identify someone."""
    if not name:
        return None
    return name[:1] + "*" * min(4, max(1, len(name) - 1))


class AccountStore:
    def __init__(self, database: Database) -> None:
        self.database = database
        self.clock = database.clock

    async def get(self, user_id: int) -> LinkedAccount | None:
        row = await self.database.fetchone(
            "SELECT user_id, anjuke_user_id, name, phone, email, registered_by_bot, "
            "linked_at, proven FROM linked_accounts WHERE user_id = ?",
            [user_id],
        )
        if row is None:
            return None
        return LinkedAccount(
            int(row[0]), row[1], row[2], row[3], row[4], bool(row[5]), row[6], bool(row[7])
        )

    async def owner(self, anjuke_user_id: str) -> int | None:
        """The Telegram user holding the proven link to this account, if any."""
        row = await self.database.fetchone(
            "SELECT user_id FROM linked_accounts WHERE anjuke_user_id = ? AND proven = 1",
            [anjuke_user_id],
        )
        return None if row is None else int(row[0])

    async def link(
        self,
        user_id: int,
        anjuke_user_id: str,
        *,
        name: str | None = None,
        phone: str | None = None,
        email: str | None = None,
        registered_by_bot: bool = False,
        proven: bool = True,
    ) -> LinkedAccount:
        """Link (or re-link) the user's account; a new link replaces the old one.

        Raises `AccountTaken` when another user holds a proven link to the same account."""
        now = self.clock.time()
        try:
            await self.database.write(
                "INSERT INTO linked_accounts (user_id, anjuke_user_id, name, phone, email, "
                "registered_by_bot, linked_at, proven) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (user_id) DO UPDATE SET anjuke_user_id = excluded.anjuke_user_id, "
                "name = excluded.name, phone = excluded.phone, email = excluded.email, "
                "registered_by_bot = excluded.registered_by_bot, "
                "linked_at = excluded.linked_at, proven = excluded.proven",
                [
                    user_id,
                    anjuke_user_id,
                    name,
                    phone,
                    email,
                    int(registered_by_bot),
                    now,
                    int(proven),
                ],
            )
        except sqlite3.IntegrityError as exc:  # linked_accounts_one_owner
            raise AccountTaken(anjuke_user_id) from exc
        return LinkedAccount(
            user_id, anjuke_user_id, name, phone, email, registered_by_bot, now, proven
        )

    async def delete(self, user_id: int) -> bool:
        deleted = await self.database.write(
            "DELETE FROM linked_accounts WHERE user_id = ?", [user_id]
        )
        return deleted == 1

    async def count(self) -> int:
        (n,) = await self.database.fetch_aggregate("SELECT COUNT(*) FROM linked_accounts")
        return int(n)
