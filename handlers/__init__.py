"""Telegram handlers: they only translate between chat and the platform layer.

`register(application)` adds every handler in one place, in priority order.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from handlers import account, admin, alerts, common, forget, listings, quotes, watches


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler(["start", "help"], common.start))
    application.add_handler(CallbackQueryHandler(listings.on_refresh, pattern=r"^r\|"))
    application.add_handler(CallbackQueryHandler(listings.on_photos, pattern=r"^p\|"))
    application.add_handler(CallbackQueryHandler(listings.on_pick_platform, pattern=r"^k\|"))
    application.add_handler(CallbackQueryHandler(listings.on_pick_city, pattern=r"^c\|"))
    # price alerts, Anjuke account, /forget, /stats (watches.py, alerts.py, account.py, ...)
    application.add_handler(TypeHandler(Update, alerts.resume_on_contact), group=-1)
    application.add_handler(CommandHandler("watch", watches.watch_command))
    application.add_handler(CommandHandler("watches", watches.watches_command))
    application.add_handler(CommandHandler("unwatch", watches.unwatch_command))
    application.add_handler(CommandHandler("link", account.link_command))
    application.add_handler(CommandHandler("account", account.account_command))
    application.add_handler(CommandHandler("forget", forget.forget_command))
    application.add_handler(CommandHandler("stats", admin.stats_command))
    application.add_handler(CallbackQueryHandler(watches.on_watch_button, pattern=r"^w\|"))
    application.add_handler(CallbackQueryHandler(watches.on_view_card_button, pattern=r"^v\|"))
    application.add_handler(CallbackQueryHandler(watches.on_history_button, pattern=r"^h\|"))
    application.add_handler(CallbackQueryHandler(watches.on_unwatch_button, pattern=r"^u\|"))
    application.add_handler(CallbackQueryHandler(account.on_register_button, pattern=r"^ar\|"))
    application.add_handler(CallbackQueryHandler(account.on_cancel_button, pattern=r"^ax\|"))
    application.add_handler(CallbackQueryHandler(forget.on_forget_button, pattern=r"^f[yn]\|"))
    # after a platform/city answer has shown the card: the /watch that asked, if any
    application.add_handler(
        CallbackQueryHandler(watches.on_question_answered, pattern=r"^[kc]\|"), group=1
    )
    # trade-in quotes (handlers/quotes.py): a ConversationHandler per chat and user. Typed
    # answers, descriptions and listings all arrive as text, so it reads every text message
    # (through listings.on_text); the plain handler after it serves updates without a user
    application.add_handler(quotes.conversation_handler(listings.on_text))
    application.add_handler(CallbackQueryHandler(quotes.on_card_button, pattern=r"^qa\|"))
    application.add_handler(
        MessageHandler((filters.TEXT | filters.CAPTION) & ~filters.COMMAND, listings.on_text)
    )
    application.add_error_handler(common.on_error)
