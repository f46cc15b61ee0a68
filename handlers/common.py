"""What every handler shares: services, language, replies for errors, /start and /help."""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from telegram import (
    BotCommand,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest
from telegram.ext import ApplicationHandlerStop
from telegram.helpers import create_deep_linked_url

from clients.errors import BudgetExhausted, PlatformError
from gateway.budget import SHORT_LINKS, Payer
from handlers.cards import duration_text
from handlers.context import BotApplication, BotContext, Services
from handlers.texts import LANGUAGES, lang_of, plural, t
from storage.database import StorageBusy, StorageFull

log = logging.getLogger(__name__)

T = TypeVar("T")

COMMANDS = (
    "start",
    "help",
    "quote",
    "watch",
    "watches",
    "unwatch",
    "link",
    "account",
    "forget",
    "cancel",
)


def services(context: BotContext) -> Services:
    return context.bot_data.services


def strip_tags(text: str) -> str:
    """An HTML text as plain text for a callback answer (200 characters at most)."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))[:200]


def user_lang(update: Update, context: BotContext) -> str:
    """The user's language; remembered so background alerts can use it too."""
    lang = lang_of(update.effective_user)
    if update.effective_user is not None:
        services(context).users.touch(update.effective_user.id, lang)
    return lang


def payer_of(update: Update) -> Payer:
    """Who asked: the user whose budget pays for the upstream calls of this update.

    An update with no user (a channel post, an anonymous group admin) is paid by the chat
    that sent it, so it gets a budget of its own rather than none (bot/flood.py keys its
    bucket the same way).
    """
    sender = sender_id(update)
    if sender is None:
        raise ValueError(f"nobody to pay for {update_summary(update)}")
    return Payer.user(sender)


def sender_id(update: Update) -> int | None:
    """The user behind an update, else the chat it came from (None: neither)."""
    if update.effective_user is not None:
        return update.effective_user.id
    message = update.effective_message
    if message is not None and message.sender_chat is not None:
        return message.sender_chat.id
    return update.effective_chat.id if update.effective_chat is not None else None


def one_budget_refusal(results: Iterable[T], error_of: Callable[[T], object]) -> list[T]:
    """`results` without every 'budget used up' after the first: one per message is enough."""
    kept: list[T] = []
    told = False
    for result in results:
        if isinstance(error_of(result), BudgetExhausted):
            if told:
                continue
            told = True
        kept.append(result)
    return kept


def is_private(update: Update) -> bool:
    return update.effective_chat is not None and update.effective_chat.type == ChatType.PRIVATE


def reply_params(update: Update) -> ReplyParameters | None:
    """In groups, answer as a reply to the message that asked, so it's clear whose it is."""
    message = update.effective_message
    if message is None or is_private(update):
        return None
    return ReplyParameters(message_id=message.message_id, allow_sending_without_reply=True)


def error_text(error: PlatformError, lang: str) -> str:
    platform = t(lang, f"platform_{error.platform}") if error.platform else ""
    if isinstance(error, BudgetExhausted):
        wait = duration_text(error.resets_in, lang)
        return t(
            lang,
            "error_budget_exhausted_short_links"
            if error.budget == SHORT_LINKS
            else "error_budget_exhausted",
            used=plural(
                lang,
                "short_links_used" if error.budget == SHORT_LINKS else "budget_used",
                error.limit,
                platform=html.escape(platform),
            ),
            wait=wait,
        )
    # a platform may word an error its own way (a quote has no ID to check)
    key = f"error_{error.kind}_{error.platform}"
    if key not in LANGUAGES["en"]:
        key = f"error_{error.kind}"
    return t(lang, key, platform=html.escape(platform))


async def reply(update: Update, text: str, **kwargs: Any) -> Message | None:
    message = update.effective_message
    if message is None:
        return None
    return await message.get_bot().send_message(
        message.chat_id,
        text,
        parse_mode=ParseMode.HTML,
        reply_parameters=reply_params(update),
        message_thread_id=message.message_thread_id if message.is_topic_message else None,
        **kwargs,
    )


#: /start payloads of the "continue in private" button: the command to go on with
PRIVATE_PAYLOADS = ("link", "account", "forget", "watches")


async def continue_in_private(update: Update, context: BotContext, payload: str) -> None:
    """In a group, personal data is never shown: a button opens the private chat instead."""
    lang = lang_of(update.effective_user)
    url = create_deep_linked_url(context.bot.username, payload)
    button = InlineKeyboardButton(t(lang, "btn_continue_private"), url=url)
    await reply(update, t(lang, "private_only"), reply_markup=InlineKeyboardMarkup([[button]]))


async def edit_in_place(
    query: CallbackQuery,
    text: str,
    keyboard: InlineKeyboardMarkup | None,
    *,
    caption: bool = False,
) -> bool:
    """Edit the pressed message's text (or caption) and buttons; False when nothing changed.

    Telegram refuses an edit that changes nothing ("message is not modified"); that is an
    answer, not an error. Any other refusal is raised.
    """
    try:
        if caption:
            await query.edit_message_caption(text, parse_mode=ParseMode.HTML, reply_markup=keyboard)
        else:
            await query.edit_message_text(
                text,
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard,
            )
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            raise
        return False
    return True


async def start(update: Update, context: BotContext) -> None:
    lang = user_lang(update, context)
    await reply(update, t(lang, "start"))


async def ignore_update(update: Update, context: BotContext) -> None:
    """An update the bot does not answer (a channel's posts, their edits): it goes no further."""
    raise ApplicationHandlerStop


async def on_expired_button(update: Update, context: BotContext) -> None:
    """Button data no handler reads: say so, and touch nothing else (no later handler group,
    such as the quote flow's, sees it: PTB hands empty data to every pattern)."""
    if update.callback_query is not None:
        await update.callback_query.answer(t(lang_of(update.effective_user), "expired_button"))
    raise ApplicationHandlerStop


def update_summary(update: object) -> str:
    """What the log may say about an update: its id, its kind and the user's id, no content."""
    if not isinstance(update, Update):
        return type(update).__name__
    kinds = ("message", "edited_message", "callback_query", "inline_query", "my_chat_member")
    kind = next((k for k in kinds if getattr(update, k, None) is not None), "other")
    user = update.effective_user.id if update.effective_user else None
    return f"update {update.update_id} ({kind}) from user {user}"


def is_disk_full(error: object) -> bool:
    return isinstance(error, StorageFull)


def is_database_busy(error: object) -> bool:
    """A write that found the file locked (another process) for the whole busy timeout."""
    return isinstance(error, StorageBusy)


def storage_trouble(error: object) -> str | None:
    """'full' or 'busy' when a write failed for the database's sake (the user is told
    that nothing was saved), else None."""
    if is_disk_full(error):
        return "full"
    if is_database_busy(error):
        return "busy"
    return None


async def on_error(update: object, context: BotContext) -> None:
    """The one error handler: log what the update was (never its text), tell the user."""
    trouble = storage_trouble(context.error)
    if trouble is not None:
        log.error("the database is %s (%s): %s", trouble, context.error, update_summary(update))
    else:
        log.error(
            "unhandled error while handling %s", update_summary(update), exc_info=context.error
        )
    if isinstance(update, Update) and update.effective_chat is not None:
        lang = lang_of(update.effective_user)
        key = f"error_storage_{trouble}" if trouble else "error_internal"
        try:
            await context.bot.send_message(update.effective_chat.id, t(lang, key))
        except Exception:  # the chat may be gone; the log line above is what matters
            log.warning("could not tell the user about the error", exc_info=True)


async def set_commands(application: BotApplication) -> None:
    """The command menu in English (default) and Chinese."""
    for lang, code in (("en", None), ("zh", "zh")):
        commands = [BotCommand(c, t(lang, f"cmd_{c}")) for c in COMMANDS]
        await application.bot.set_my_commands(commands, language_code=code)
