"""Telegram handlers: they only translate between chat and the platform layer.

`register(application)` adds every handler in one place, in priority order.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from handlers import (
    account,
    admin,
    alerts,
    common,
    deals,
    demo,
    forget,
    inline,
    listings,
    quotes,
    watches,
)
from handlers import callbacks as cb
from handlers.context import BotApplication, BotContext

#: every button kind of the codec (handlers/callbacks.py) and the handler that answers it,
#: but for the quote conversation's own (`quotes.CONVERSATION_BUTTONS`)
BUTTONS: tuple[
    tuple[Callable[[Update, BotContext], Coroutine[Any, Any, None]], tuple[type, ...]], ...
] = (
    (listings.on_refresh, (cb.Refresh,)),
    (listings.on_photos, (cb.Photos,)),
    (listings.on_pick_platform, (cb.PickPlatform,)),
    (listings.on_pick_city, (cb.PickCity,)),
    (watches.on_watch_button, (cb.Watch,)),
    (watches.on_view_card_button, (cb.ViewCard,)),
    (watches.on_history_button, (cb.History,)),
    (watches.on_unwatch_button, (cb.Unwatch,)),
    (account.on_register_button, (cb.CreateAccount,)),
    (account.on_cancel_button, (cb.CancelAccount,)),
    (forget.on_forget_button, (cb.ForgetYes, cb.ForgetNo)),
    (quotes.on_card_button, (cb.QuoteCardAction,)),
    (deals.on_fair_price, (cb.FairPrice,)),
    (deals.on_mortgage, (cb.Mortgage,)),
    (deals.on_reviews, (cb.Reviews,)),
)


#: the quote flow's group: after the listings (group 0), which stop an update they answer,
#: and after the follow-up of a platform/city answer (group 1)
QUOTES_GROUP = 2


def register(application: BotApplication) -> None:
    # Forms of message (docs/message-forms.md). An edit gets a card only for a listing it
    # adds, and goes no further; a channel's posts are not answered (nobody asked, nobody pays)
    application.add_handler(
        MessageHandler(filters.UpdateType.EDITED_MESSAGE, listings.on_edited_message), group=-2
    )
    application.add_handler(
        MessageHandler(
            filters.UpdateType.CHANNEL_POSTS | filters.UpdateType.EDITED, common.ignore_update
        ),
        group=-2,
    )
    # plain text: the cards of the listings it mentions, and the update stops there.
    # First of its group, as most updates are plain text: the group's other handlers take
    # commands (TYPED excludes a message that starts with one, as a CommandHandler needs),
    # inline queries, buttons and contacts (which have no text or caption), so none of them
    # can take what this one takes, and the walk past them for every text is saved.
    # (tests/test_side_doors_e2e.py checks the two are apart on every kind of update.)
    application.add_handler(MessageHandler(quotes.TYPED, listings.on_text))
    # /start <payload>: the group's "continue in private" buttons (common.continue_in_private)
    for payload, go_on in (
        ("link", account.link_from_group),
        ("account", account.account_command),
        ("forget", forget.forget_command),
        ("watches", watches.watches_command),
    ):
        deep_link = filters.Regex(f"^/start {payload}$") & filters.ChatType.PRIVATE
        application.add_handler(CommandHandler("start", go_on, deep_link))
    application.add_handler(CommandHandler(["start", "help"], common.start))
    application.add_handler(InlineQueryHandler(inline.on_inline_query))
    # first: button data the codec does not read (forged, foreign, from an older version).
    # python-telegram-bot hands empty data to every pattern, so this one must come first.
    application.add_handler(CallbackQueryHandler(common.on_expired_button, pattern=cb.malformed))
    for on_button, kinds in BUTTONS:
        application.add_handler(CallbackQueryHandler(on_button, pattern=cb.matches(*kinds)))
    # price alerts, Anjuke account, /forget, /stats (watches.py, alerts.py, account.py, ...)
    application.add_handler(TypeHandler(Update, alerts.resume_on_contact), group=-1)
    application.add_handler(CommandHandler("watch", watches.watch_command))
    application.add_handler(CommandHandler("watches", watches.watches_command))
    application.add_handler(CommandHandler("unwatch", watches.unwatch_command))
    application.add_handler(CommandHandler("link", account.link_command))
    application.add_handler(CommandHandler("account", account.account_command))
    # the proof /link waits for: a contact shared from the request_contact button
    application.add_handler(
        MessageHandler(filters.CONTACT & filters.ChatType.PRIVATE, account.on_contact)
    )
    application.add_handler(CommandHandler("forget", forget.forget_command))
    application.add_handler(CommandHandler("stats", admin.stats_command))
    if application.bot_data.services.demo_market is not None:
        application.add_handler(CommandHandler(demo.COMMAND, demo.demo_drop_command))
    # after a platform/city answer has shown the card: the /watch that asked, if any
    application.add_handler(
        CallbackQueryHandler(
            watches.on_question_answered, pattern=cb.matches(cb.PickPlatform, cb.PickCity)
        ),
        group=1,
    )
    # trade-in quotes (handlers/quotes.py), for text without listings: a ConversationHandler
    # per chat and user, one state per question. Its questions read only the messages of
    # users who have one open; the rest (and updates without a user) go on to the handlers
    # after it in this group: the buttons and /cancel of no open question, and the hint.
    application.add_handler(quotes.conversation_handler(listings.on_other_text), group=QUOTES_GROUP)
    application.add_handler(
        CallbackQueryHandler(quotes.on_closed_question_button, pattern=cb.matches(cb.QuoteAnswer)),
        group=QUOTES_GROUP,
    )
    application.add_handler(CommandHandler("cancel", quotes.cancel_command), group=QUOTES_GROUP)
    application.add_handler(
        MessageHandler(quotes.TYPED, listings.on_other_text), group=QUOTES_GROUP
    )
    application.add_error_handler(common.on_error)
