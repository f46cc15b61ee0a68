"""/link and /account: the user's Anjuke account (CONTRACT 3.5), in private chats only.

Seed 004 has no proof of ownership: get-info answers for any phone, email or ID, and
register creates an account for any phone. Telegram has one: a reply-keyboard button
with `request_contact` shares the phone number Telegram verified for the user (Bot API,
KeyboardButton: "request_contact ... the user's phone number will be sent as a
contact"), and a shared contact whose `user_id` is the sender's own id is that proof
(Bot API, Contact: "user_id: Contact's user identifier in Telegram"; a forwarded or
typed contact card carries another id, or none). So:

    /link [phone|email|anjuke id]   asks for the verified phone (a keyboard button);
                                    nothing is looked up before it comes
    (the shared contact)            looks the account up and links it only when its phone
                                    is the verified one; when Anjuke has no account for
                                    that phone (1011), offers to create one for it
                                    behind an explicit confirmation button
    /account                        a proven link, phone and email masked

One Telegram user per account (storage: a unique index over proven links). An account
the user has not proven is never described: not found and not yours read the same.

Callback data:
    ar|<telegram user id>|<offer>   create the account of that offer (only that user)
    ax|<telegram user id>|<offer>   cancel that offer

Requests and offers wait in `user_data` (memory) for at most `OFFER_TTL` seconds; an
offer is dropped on use, so it registers at most once (the gateway never retries a
registration) and a button registers the offer it was shown with, not a later one.
The personal data is stored only in `linked_accounts` and never logged.
"""

from __future__ import annotations

import html
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import TelegramError

from clients.errors import AccountExists, NotFound, PlatformError
from clock import CHINA_TZ
from gateway.budget import Payer
from handlers import callbacks as cb
from handlers.common import continue_in_private, error_text, is_private, reply, services, user_lang
from handlers.context import BotContext
from handlers.texts import t
from handlers.watches import command_args
from storage.accounts import AccountTaken, LinkedAccount, mask_email, mask_name, mask_phone

log = logging.getLogger(__name__)

OFFER_TTL = 600.0
#: offers kept per user: a button of an older offer still registers what it showed
MAX_OFFERS = 3
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
_PHONE = re.compile(r"(?:\+?86)?(1[3-9]\d{9})")
_ANJUKE_ID = re.compile(r"\d{1,12}")
_PHONE_SEPARATORS = re.compile(r"[\s\-()]")
_NOT_DIGITS = re.compile(r"\D")


@dataclass(frozen=True, slots=True)
class AccountName:
    """What the user typed, classified as the open API's `type`."""

    account: str
    kind: str  # phone / email / id

    def __repr__(self) -> str:  # personal data: never in a log line or traceback
        return f"AccountName(kind={self.kind!r})"


@dataclass(frozen=True, slots=True)
class LinkRequest:
    """A /link waiting for the verified phone; `name` is the account the user named."""

    name: AccountName | None
    made_at: float

    def __repr__(self) -> str:
        return f"LinkRequest(name={self.name!r})"


@dataclass(frozen=True, slots=True)
class Offer:
    """Registration offered for the verified phone."""

    phone: str
    made_at: float

    def __repr__(self) -> str:
        return "Offer(phone=<hidden>)"


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


def mainland_mobile(phone: str | None) -> str | None:
    """The 11-digit mainland mobile number in a phone as Telegram or Anjuke writes it
    (`8613988888888`, `+86 139 8888 8888`, `13988888888`); None for any other number."""
    if not phone:
        return None
    digits = _NOT_DIGITS.sub("", phone)
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits if _PHONE.fullmatch(digits) and len(digits) == 11 else None


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


def share_phone_keyboard(lang: str) -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        [[KeyboardButton(t(lang, "btn_share_phone"), request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


async def link_command(update: Update, context: BotContext) -> None:
    lang = user_lang(update, context)
    user, message = update.effective_user, update.effective_message
    if user is None or message is None:
        return
    if not is_private(update):
        await continue_in_private(update, context, "link")
        return
    arg = command_args(message.text)
    name = None
    if arg:
        name = classify_account(arg)
        if name is None:
            await reply(update, t(lang, "link_bad_account") + "\n" + t(lang, "link_usage"))
            return
    await ask_for_phone(update, context, name)


async def ask_for_phone(update: Update, context: BotContext, name: AccountName | None) -> None:
    """Remember what the user asked for; the proof (their verified phone) comes next."""
    assert context.user_data is not None
    context.user_data["link_request"] = LinkRequest(name, services(context).clock.monotonic())
    lang = user_lang(update, context)
    await reply(update, t(lang, "link_share_phone"), reply_markup=share_phone_keyboard(lang))


async def link_from_group(update: Update, context: BotContext) -> None:
    """`/start link` (the group's "continue in private" button): /link without an account."""
    await ask_for_phone(update, context, None)


async def on_contact(update: Update, context: BotContext) -> None:
    """A shared contact in a private chat: the proof a /link waits for."""
    lang = user_lang(update, context)
    user, message = update.effective_user, update.effective_message
    if user is None or message is None or message.contact is None:
        return
    done = ReplyKeyboardRemove()
    if message.contact.user_id != user.id:
        # someone else's card, forwarded or typed: it proves nothing about this user
        await reply(
            update, t(lang, "link_not_own_contact"), reply_markup=share_phone_keyboard(lang)
        )
        return
    assert context.user_data is not None
    s = services(context)
    request = context.user_data.pop("link_request", None)
    if not isinstance(request, LinkRequest) or s.clock.monotonic() - request.made_at > OFFER_TTL:
        await reply(update, t(lang, "link_no_request"), reply_markup=done)
        return
    phone = mainland_mobile(message.contact.phone_number)
    if phone is None:
        await reply(update, t(lang, "link_not_mainland"), reply_markup=done)
        return
    name = request.name
    if name is not None and name.kind == "phone" and name.account != phone:
        await reply(update, t(lang, "link_not_your_phone"), reply_markup=done)
        return
    kind, account = ("phone", phone) if name is None else (name.kind, name.account)
    try:
        found = await s.gateway.anjuke_user(account, kind, payer=Payer.user(user.id))
    except NotFound:
        if kind != "phone":  # not found and not yours read the same
            await reply(update, t(lang, "link_not_yours"), reply_markup=done)
            return
        await offer_registration(update, context, phone)
        return
    except PlatformError as exc:
        await reply(update, account_error(exc, lang), reply_markup=done)
        return
    if mainland_mobile(found.phone) != phone:
        await reply(update, t(lang, "link_not_yours"), reply_markup=done)
        return
    try:
        linked = await s.accounts.link(
            user.id, found.user_id, name=found.name, phone=phone, email=found.email
        )
    except AccountTaken:
        await reply(update, t(lang, "link_taken"), reply_markup=done)
        return
    await reply(
        update,
        t(
            lang,
            "link_done",
            id=html.escape(linked.anjuke_user_id),
            details=account_details(linked, lang),
        ),
        reply_markup=done,
    )


async def offer_registration(update: Update, context: BotContext, phone: str) -> None:
    """Anjuke has no account for the verified phone: offer one, behind a confirmation."""
    user = update.effective_user
    assert user is not None and context.user_data is not None
    lang = user_lang(update, context)
    token = secrets.token_urlsafe(6)
    offers: dict[str, Offer] = context.user_data.setdefault("link_offers", {})
    offers[token] = Offer(phone, services(context).clock.monotonic())
    while len(offers) > MAX_OFFERS:
        offers.pop(next(iter(offers)))
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t(lang, "btn_create_account"),
                    callback_data=cb.encode(cb.CreateAccount(user.id, token)),
                ),
                InlineKeyboardButton(
                    t(lang, "btn_cancel"),
                    callback_data=cb.encode(cb.CancelAccount(user.id, token)),
                ),
            ]
        ]
    )
    await reply(
        update,
        t(lang, "link_offer_phone", account=html.escape(mask_phone(phone) or "")),
        reply_markup=keyboard,
    )


def account_error(exc: PlatformError, lang: str) -> str:
    """Anjuke's account codes explained: 1001 phone taken, 1002 email taken, 1000/1010 failed."""
    if isinstance(exc, AccountExists):
        return t(lang, "link_exists_email" if exc.code == 1002 else "link_exists_phone")
    if exc.code in (1000, 1010) or exc.kind == "transient":
        return t(lang, "link_failed")
    return error_text(exc, lang)


def _take_offer(
    update: Update, context: BotContext
) -> tuple[cb.CreateAccount | cb.CancelAccount, Offer | None] | None:
    """The button pressed and its offer (popped: one use); None when it is not the
    presser's own button (answered here)."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    button = cb.read(query.data, cb.CreateAccount, cb.CancelAccount)
    if button.id != user.id:
        return None
    offers = context.user_data.get("link_offers", {}) if context.user_data is not None else {}
    offer = offers.pop(button.offer, None) if isinstance(offers, dict) else None
    if not isinstance(offer, Offer):
        return button, None
    if services(context).clock.monotonic() - offer.made_at > OFFER_TTL:
        return button, None
    return button, offer


async def on_register_button(update: Update, context: BotContext) -> None:
    """The confirmation: create the account offered with this very button, link it."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    lang = user_lang(update, context)
    taken = _take_offer(update, context)
    if taken is None:
        await query.answer(t(lang, "not_your_button"), show_alert=True)
        return
    _, offer = taken
    if offer is None:
        await query.answer(t(lang, "link_expired"), show_alert=True)
        return
    await query.answer()
    await _drop_buttons(query)
    s = services(context)
    try:
        new_id = await s.gateway.anjuke_register(payer=Payer.user(user.id), phone=offer.phone)
    except PlatformError as exc:
        log.info("anjuke registration failed: %s (code %s)", exc.kind, exc.code)
        await reply(update, account_error(exc, lang), reply_markup=ReplyKeyboardRemove())
        return
    try:
        linked = await s.accounts.link(user.id, new_id, registered_by_bot=True, phone=offer.phone)
    except AccountTaken:
        await reply(update, t(lang, "link_taken"), reply_markup=ReplyKeyboardRemove())
        return
    await reply(
        update,
        t(lang, "link_created", id=html.escape(new_id), details=account_details(linked, lang)),
        reply_markup=ReplyKeyboardRemove(),
    )


async def on_cancel_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    lang = user_lang(update, context)
    if _take_offer(update, context) is None:
        await query.answer(t(lang, "not_your_button"), show_alert=True)
        return
    await query.answer()
    await _drop_buttons(query)
    await reply(update, t(lang, "link_cancelled"), reply_markup=ReplyKeyboardRemove())


async def _drop_buttons(query: CallbackQuery) -> None:
    """The question stays; its buttons go, so it cannot be answered twice."""
    try:
        await query.edit_message_reply_markup(None)
    except TelegramError as exc:  # an old message may not be editable; the answer matters more
        log.info("offer buttons not removed: %s", type(exc).__name__)


async def account_command(update: Update, context: BotContext) -> None:
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
    if not linked.proven:  # linked before ownership was checked: nothing is shown
        await reply(update, t(lang, "account_unproven"))
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
