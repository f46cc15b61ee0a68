"""Telegram handlers: they only translate between chat and the platform layer.

`register(application)` adds every handler in one place, in priority order.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from handlers import common, listings
from handlers.texts import lang_of, t


async def watch_coming_soon(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer(t(lang_of(update.effective_user), "watch_soon"), show_alert=True)


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler(["start", "help"], common.start))
    application.add_handler(CallbackQueryHandler(listings.on_refresh, pattern=r"^r\|"))
    application.add_handler(CallbackQueryHandler(listings.on_photos, pattern=r"^p\|"))
    application.add_handler(CallbackQueryHandler(listings.on_pick_platform, pattern=r"^k\|"))
    application.add_handler(CallbackQueryHandler(listings.on_pick_city, pattern=r"^c\|"))
    application.add_handler(CallbackQueryHandler(watch_coming_soon, pattern=r"^w\|"))
    application.add_handler(
        MessageHandler((filters.TEXT | filters.CAPTION) & ~filters.COMMAND, listings.on_text)
    )
    application.add_error_handler(common.on_error)
