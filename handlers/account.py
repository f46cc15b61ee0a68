"""/link and /account: the user's Anjuke account (CONTRACT 3.5), in private chats only.

    /link <phone|email|anjuke id>   look the account up (get-info) and link it; when
                                    Anjuke has none (1011) offer to create one
                                    (register) behind an explicit confirmation button
    /account                        the link, phone and email masked

Callback data:
    ar|<telegram user id>   create the account offered (only that user may press it)
    ax|<telegram user id>   cancel the offer

What the user typed for an offer waits in `user_data` (memory) for at most
`OFFER_TTL` seconds and is dropped on use, so one offer registers at most once:
the gateway never retries a registration, and a second press finds nothing. The
account's personal data is stored only in `linked_accounts` and never logged.
"""

from __future__ import annotations

import html
import logging
import re
from dataclasses import dataclass
from datetime import datetime

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from clients.budget import Payer
from clients.clock import CHINA_TZ
from clients.errors import AccountExists, NotFound, PlatformError
from handlers import callbacks as cb
from handlers.common import continue_in_private, error_text, is_private, reply, services, user_lang
from handlers.texts import t
from handlers.watches import command_args
from storage.accounts import LinkedAccount, mask_email, mask_name, mask_phone

log = logging.getLogger(__name__)

OFFER_TTL = 600.0
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
_PHONE = re.compile(r"(?:\+?86)?(1[3-9]\d{9})")
_ANJUKE_ID = re.compile(r"\d{1,12}")
_PHONE_SEPARATORS = re.compile(r"[\s\-()]")


@dataclass(frozen=True, slots=True)
class AccountName:
    """What the user typed, classified as the open API's `type`."""

    account: str
    kind: str  # phone / email / id

    def __repr__(self) -> str:  # personal data: never in a log line or traceback
        return f"AccountName(kind={self.kind!r})"

    @property
    def masked(self) -> str:
        if self.kind == "phone":
            return mask_phone(self.account) or ""
        if self.kind == "email":
            return mask_email(self.account) or ""
        return self.account


@dataclass(frozen=True, slots=True)
class Offer:
    name: AccountName
    made_at: float


def classify_account(text: str) -> AccountName | None:
    """A phone number (mainland mobile, +86 allowed), an email address or an Anjuke user id."""
    text = text.strip()
    if _EMAIL.fullmatch(text):
        return AccountName(text.lower(), "email")
    compact = _PHONE_SEPARATORS.sub("", text)
    if m := _PHONE.fullmatch(compact):
        return AccountName(m.group(1), "phone")
    if _ANJUKE_ID.fullmatch(text):
        return AccountName(text, "id")
    return None


def account_details(account: LinkedAccount, lang: str) -> str:
    lines = []
    for key, value in (
        ("account_name", mask_name(account.name)),
        ("account_phone", mask_phone(account.phone)),
        ("account_email", mask_email(account.email)),
    ):
        if value:
            lines.append(t(lang, key, value=html.escape(value)))
    return "\n".join(lines)


async def link_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    lang = user_lang(update, context)
    user, message = update.effective_user, update.effective_message
    if user is None or message is None:
        return
    if not is_private(update):
        await continue_in_private(update, context, "link")
        return
    arg = command_args(message.text)
    if not arg:
        await reply(update, t(lang, "link_usage"))
        return
    name = classify_account(arg)
    if name is None:
        await reply(update, t(lang, "link_bad_account") + "\n" + t(lang, "link_usage"))
        return
    s = services(context)
    try:
        found = await s.gateway.anjuke_user(name.account, name.kind, payer=Payer.user(user.id))
    except NotFound:
        if name.kind == "id":
            await reply(update, t(lang, "link_not_found_id", account=html.escape(name.account)))
            return
        assert context.user_data is not None
        context.user_data["link_offer"] = Offer(name, s.clock.monotonic())
        keyboard = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        t(lang, "btn_create_account"),
                        callback_data=cb.encode(cb.CreateAccount(user.id)),
                    ),
                    InlineKeyboardButton(
                        t(lang, "btn_cancel"), callback_data=cb.encode(cb.CancelAccount(user.id))
                    ),
                ]
            ]
        )
        await reply(
            update,
            t(lang, f"link_offer_{name.kind}", account=html.escape(name.masked)),
            reply_markup=keyboard,
        )
        return
    except PlatformError as exc:
        await reply(update, account_error(exc, name, lang))
        return
    linked = await s.accounts.link(
        user.id,
        found.user_id,
        name=found.name,
        phone=found.phone,
        email=found.email,
    )
    await reply(
        update,
        t(
            lang,
            "link_done",
            id=html.escape(linked.anjuke_user_id),
            details=account_details(linked, lang),
        ),
    )


def account_error(exc: PlatformError, name: AccountName, lang: str) -> str:
    """Anjuke's account codes explained: 1001 phone taken, 1002 email taken, 1000/1010 failed."""
    if isinstance(exc, AccountExists):
        key = "link_exists_email" if exc.code == 1002 else "link_exists_phone"
        return t(lang, key, account=html.escape(name.account))
    if exc.code in (1000, 1010) or exc.kind == "transient":
        return t(lang, "link_failed")
    return error_text(exc, lang)


def offer_owner(data: str | None) -> int:
    return cb.read(data, cb.CreateAccount | cb.CancelAccount).id


async def on_register_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The confirmation: create the account offered, link it."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    lang = user_lang(update, context)
    if offer_owner(query.data) != user.id:
        await query.answer(t(lang, "not_your_button"), show_alert=True)
        return
    s = services(context)
    offer = context.user_data.pop("link_offer", None) if context.user_data is not None else None
    if not isinstance(offer, Offer) or s.clock.monotonic() - offer.made_at > OFFER_TTL:
        await query.answer(t(lang, "link_expired"), show_alert=True)
        return
    await query.answer()
    await _drop_buttons(query)
    name = offer.name
    try:
        new_id = await s.gateway.anjuke_register(
            payer=Payer.user(user.id), **{name.kind: name.account}
        )
    except PlatformError as exc:
        log.info("anjuke registration failed: %s (code %s)", exc.kind, exc.code)
        await reply(update, account_error(exc, name, lang))
        return
    linked = await s.accounts.link(
        user.id,
        new_id,
        registered_by_bot=True,
        **{name.kind: name.account},
    )
    await reply(
        update,
        t(lang, "link_created", id=html.escape(new_id), details=account_details(linked, lang)),
    )


async def on_cancel_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    lang = user_lang(update, context)
    if offer_owner(query.data) != user.id:
        await query.answer(t(lang, "not_your_button"), show_alert=True)
        return
    if context.user_data is not None:
        context.user_data.pop("link_offer", None)
    await query.answer()
    await _drop_buttons(query)
    await reply(update, t(lang, "link_cancelled"))


async def _drop_buttons(query: CallbackQuery) -> None:
    """The question stays; its buttons go, so it cannot be answered twice."""
    try:
        await query.edit_message_reply_markup(None)
    except TelegramError as exc:  # an old message may not be editable; the answer matters more
        log.info("offer buttons not removed: %s", type(exc).__name__)


async def link_from_group(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`/start link` (the group's "continue in private" button): how /link works."""
    await reply(update, t(user_lang(update, context), "link_usage"))


async def account_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    lang = user_lang(update, context)
    user = update.effective_user
    if user is None:
        return
    if not is_private(update):
        await continue_in_private(update, context, "account")
        return
    linked = await services(context).accounts.get(user.id)
    if linked is None:
        await reply(update, t(lang, "account_none"))
        return
    date = datetime.fromtimestamp(linked.linked_at, CHINA_TZ).strftime("%Y-%m-%d")
    await reply(
        update,
        t(
            lang,
            "account_show",
            id=html.escape(linked.anjuke_user_id),
            details=account_details(linked, lang),
            date=date,
            created=t(lang, "account_created_by_bot") if linked.registered_by_bot else "",
        ),
    )
