"""/forget: delete everything stored about the user, after an explicit confirmation.

Callback data:
    fy|<telegram user id>   yes, delete (only that user may press it)
    fn|<telegram user id>   keep everything

Deleted: the user's watches and their alerts (and a watched listing's snapshot
and history when nobody else watches it), the linked Anjuke account, the users
row (language, city) and the user's daily budget counts (`user_budget_usage`). The reply says what went. Nothing is written about the user
afterwards while answering: the language comes from Telegram, not from storage.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError

from handlers import callbacks as cb
from handlers.common import continue_in_private, is_private, reply, services
from handlers.context import BotContext, Services, application_of
from handlers.quotes import forget_quotes
from handlers.texts import lang_of, plural, t

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Forgotten:
    watches: int
    alerts: int
    account: bool
    settings: bool


async def forget_user(s: Services, user_id: int) -> Forgotten:
    """Delete every row about `user_id`; return what there was."""
    watches, alerts = await s.watches.delete_user(user_id)
    account = await s.accounts.delete(user_id)
    settings = await s.users.delete(user_id) > 0
    await s.gateway.forget_user_budgets(user_id)  # counts of calls, tied to the user's id
    return Forgotten(watches, alerts, account, settings)


async def forget_command(update: Update, context: BotContext) -> None:
    user = update.effective_user
    if user is None:
        return
    lang = lang_of(user)  # not user_lang: asking must not store anything new
    if not is_private(update):
        await continue_in_private(update, context, "forget")
        return
    s = services(context)
    watches = await s.watches.count_for_user(user.id)
    account = await s.accounts.get(user.id) is not None
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t(lang, "btn_forget_yes"), callback_data=cb.encode(cb.ForgetYes(user.id))
                ),
                InlineKeyboardButton(
                    t(lang, "btn_forget_no"), callback_data=cb.encode(cb.ForgetNo(user.id))
                ),
            ]
        ]
    )
    await reply(
        update,
        t(
            lang,
            "forget_confirm",
            watches=plural(lang, "n_watches", watches),
            account=t(lang, "forget_account_yes" if account else "forget_account_no"),
        ),
        reply_markup=keyboard,
    )


async def on_forget_button(update: Update, context: BotContext) -> None:
    query, user = update.callback_query, update.effective_user
    assert query is not None and query.data is not None and user is not None
    lang = lang_of(user)
    button = cb.read(query.data, cb.ForgetYes, cb.ForgetNo)
    if button.id != user.id:
        await query.answer(t(lang, "not_your_button"), show_alert=True)
        return
    await query.answer()
    try:
        await query.edit_message_reply_markup(None)
    except TelegramError as exc:
        log.info("forget buttons not removed: %s", type(exc).__name__)
    if isinstance(button, cb.ForgetNo):
        await reply(update, t(lang, "forget_kept"))
        return
    gone = await forget_user(services(context), user.id)
    if context.user_data is not None:
        context.user_data.clear()
    await forget_quotes(application_of(context), user.id)
    log.info("a user's data was deleted on request (/forget)")
    await reply(
        update,
        t(
            lang,
            "forget_done",
            watches=plural(lang, "n_watches", gone.watches),
            alerts=plural(lang, "n_alerts", gone.alerts),
            account=t(lang, "forget_account_yes" if gone.account else "forget_account_no"),
            settings=t(lang, "forget_settings_yes" if gone.settings else "forget_settings_no"),
        ),
    )
