"""Inline mode: typing `@bot <link>` in any chat offers the listing's card to share.

The card is the chat's card (`handlers.cards.card_for`), from the gateway's cache like
any other ask; Telegram keeps the answer for `INLINE_CACHE_SECONDS` too. The shared
message keeps the link buttons and the "is it a good deal?" buttons (💡, 🧮, 💬), which
answer whoever presses them with a short alert paid from their own budget
(`handlers/deals.py`); a watch or refresh button pressed by someone else in someone
else's chat has nothing to act on.
"""

from __future__ import annotations

from telegram import (
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    Update,
)

from clients.errors import PlatformError
from clients.models import Listing, ListingRef
from clients.recognise import recognise
from gateway.budget import Payer
from handlers.cards import card_for, deal_buttons, price_text, status_text
from handlers.common import error_text, services, strip_tags
from handlers.context import BotContext, Services
from handlers.texts import lang_of, t

#: the listing lifetime the gateway caches chat answers for (CONTRACT 4.1)
INLINE_CACHE_SECONDS = 300
TITLE_LIMIT = 100
START_PARAMETER = "inline"


async def on_inline_query(update: Update, context: BotContext) -> None:
    query = update.inline_query
    if query is None:
        return
    lang = lang_of(query.from_user)
    s = services(context)
    payer = Payer.user(query.from_user.id)  # inline mode pays like a message (no side door)
    ref = await first_listing_ref(query.query, s, payer)
    if ref is None:
        await query.answer([], cache_time=INLINE_CACHE_SECONDS, button=hint(t(lang, "inline_hint")))
        return
    try:
        listing = await s.gateway.listing(ref, payer=payer)
    except PlatformError as exc:
        # not cached by Telegram: the platform may answer next time
        await query.answer([], cache_time=0, button=hint(strip_tags(error_text(exc, lang))))
        return
    await query.answer([card_result(listing, lang, s)], cache_time=INLINE_CACHE_SECONDS)


async def first_listing_ref(text: str, s: Services, payer: Payer) -> ListingRef | None:
    """The first listing the text names on its own (no platform or city question needed)."""
    for found in recognise(text, s.listing_clients):
        if found.short_url is not None:
            try:
                return await s.gateway.resolve_short_link(
                    found.platform, found.short_url, payer=payer
                )
            except PlatformError:
                return None
        if found.ref is not None and not found.needs_city:
            return found.ref
    return None


def card_result(listing: Listing, lang: str, s: Services) -> InlineQueryResultArticle:
    card = card_for(listing, lang, sandbox=s.settings.demo)
    links = [[b for b in row if b.url] for row in card.keyboard.inline_keyboard]
    links.append(deal_buttons(listing, lang))
    photo = card.photo if card.photo and card.photo.startswith("https://") else None
    return InlineQueryResultArticle(
        id=listing.ref.key,
        title=listing.title[:TITLE_LIMIT],
        description=f"{price_text(listing, lang)} · {status_text(listing, lang)}",
        input_message_content=InputTextMessageContent(card.text),
        reply_markup=InlineKeyboardMarkup([row for row in links if row]),
        thumbnail_url=photo,
    )


def hint(text: str) -> InlineQueryResultsButton:
    """Shown above the (empty) results; pressing it opens a private chat with the bot."""
    return InlineQueryResultsButton(text=text, start_parameter=START_PARAMETER)
