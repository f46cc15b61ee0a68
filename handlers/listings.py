"""Listing cards: a message with links, share texts or IDs in, one card per listing out.

Buttons (refresh, photos, watch, which platform, which city) are written and read by
`handlers/callbacks.py`.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    Message,
    Update,
)
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from clients.base import Found
from clients.errors import BudgetExhausted, PlatformError
from clients.models import Listing, ListingRef
from clients.recognise import needs_city, recognise
from handlers import callbacks as cb
from handlers.cards import card_for, platform_name, render_card
from handlers.common import (
    edit_in_place,
    error_text,
    is_private,
    one_budget_refusal,
    reply,
    reply_params,
    services,
    strip_tags,
    user_id_of,
    user_lang,
)
from handlers.photos import PhotoSender, photo_sender
from handlers.quotes import on_plain_text
from handlers.texts import t

log = logging.getLogger(__name__)

REFRESH_MAX_AGE = 60.0  # a refresh within a minute of the last fetch reuses it
ALBUM_SIZE = 10
CITY_BUTTONS = 8


@dataclass(frozen=True, slots=True)
class Outcome:
    """What to send for one mention: a listing, an error, or a question."""

    listing: Listing | None = None
    error: PlatformError | None = None
    text: str | None = None
    keyboard: InlineKeyboardMarkup | None = None


def find_listings(update: Update, context: ContextTypes.DEFAULT_TYPE) -> list[Found]:
    message = update.effective_message
    text = (message.text or message.caption or "") if message else ""
    return recognise(text, services(context).listing_clients) if text else []


async def on_listing_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Answer a message that mentions listings; return False when it mentions none."""
    found = find_listings(update, context)
    if not found:
        return False
    lang = user_lang(update, context)
    chat = update.effective_chat
    assert chat is not None
    tasks = [asyncio.ensure_future(resolve_mention(f, update, context, lang)) for f in found]
    # One pass of the event loop answers every cached mention. Only when something must
    # be fetched does 'typing' help; on a cache hit the card follows at once, and the
    # extra round trip first would cost a third of the reply rate (bench/chat.py).
    await asyncio.sleep(0)
    if not all(task.done() for task in tasks):
        await context.bot.send_chat_action(chat.id, ChatAction.TYPING)
    outcomes = await asyncio.gather(*tasks)
    for outcome in one_budget_refusal(outcomes, lambda o: o.error):
        await send_outcome(update, context, outcome, lang)
    return True


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A plain message: listings if it has any, else a hint (private chats only)."""
    if await on_listing_message(update, context):
        return
    if await on_plain_text(update, context):  # a typed answer or a device description
        return
    if is_private(update):
        await reply(update, t(user_lang(update, context), "no_listing"))


async def resolve_mention(
    found: Found, update: Update, context: ContextTypes.DEFAULT_TYPE, lang: str
) -> Outcome:
    s = services(context)
    ref = found.ref
    if found.short_url is not None:
        try:
            ref = await s.gateway.resolve_short_link(
                found.platform, found.short_url, user_id=user_id_of(update)
            )
        except BudgetExhausted as exc:
            return Outcome(error=exc)
        except PlatformError as exc:
            log.info("short link not resolved: %s", exc.kind)
            return Outcome(text=t(lang, "short_failed"))
        if ref is None:
            return Outcome(text=t(lang, "short_not_listing"))
    if found.candidates:
        buttons = [
            InlineKeyboardButton(
                platform_name(c.platform, lang),
                callback_data=cb.encode(cb.PickPlatform(c.platform, c.listing_id)),
            )
            for c in found.candidates
        ]
        return Outcome(
            text=t(lang, "which_platform", token=found.text),
            keyboard=InlineKeyboardMarkup([buttons]),
        )
    assert ref is not None
    if needs_city(ref, s.listing_clients):
        return city_question(ref.listing_id, update, context, lang)
    return await fetch(ref, update, context)


async def fetch(
    ref: ListingRef, update: Update, context: ContextTypes.DEFAULT_TYPE, **kw: object
) -> Outcome:
    """The listing for the user who asked (an upstream call is paid from their budget)."""
    gateway = services(context).gateway
    try:
        return Outcome(listing=await gateway.listing(ref, user_id=user_id_of(update), **kw))  # type: ignore[arg-type]
    except PlatformError as exc:
        log.info("%s %s: %s", ref.platform, ref.listing_id, exc.kind)
        return Outcome(error=exc)


def city_question(
    code: str, update: Update, context: ContextTypes.DEFAULT_TYPE, lang: str
) -> Outcome:
    from clients.beike import CITIES

    s = services(context)
    user = s.users.get(update.effective_user.id) if update.effective_user else None
    default = user.default_city if user else None
    cities = list(CITIES[:CITY_BUTTONS])
    buttons = []
    if default:
        chosen = next((c for c in CITIES if c[0] == default), None)
        if chosen is not None:
            cities = [c for c in cities if c[0] != default][: CITY_BUTTONS - 1]
            buttons.append(
                InlineKeyboardButton(
                    t(lang, "city_last", city=city_label(chosen, lang)),
                    callback_data=cb.encode(cb.PickCity(chosen[0], code)),
                )
            )
    buttons += [
        InlineKeyboardButton(city_label(c, lang), callback_data=cb.encode(cb.PickCity(c[0], code)))
        for c in cities
    ]
    rows = [buttons[i : i + 4] for i in range(0, len(buttons), 4)]
    return Outcome(text=t(lang, "which_city", code=code), keyboard=InlineKeyboardMarkup(rows))


def city_label(city: tuple, lang: str) -> str:  # type: ignore[type-arg]
    _city_id, _slug, pinyin, chinese = city[:4]
    return chinese if lang == "zh" else pinyin.capitalize()


async def send_outcome(
    update: Update, context: ContextTypes.DEFAULT_TYPE, outcome: Outcome, lang: str
) -> None:
    if outcome.listing is not None:
        await send_card(update, context, outcome.listing, lang)
    elif outcome.error is not None:
        await reply(update, error_text(outcome.error, lang))
    elif outcome.text is not None:
        await reply(update, outcome.text, reply_markup=outcome.keyboard)


async def send_card(
    update: Update, context: ContextTypes.DEFAULT_TYPE, listing: Listing, lang: str
) -> Message | None:
    s = services(context)
    chat = update.effective_chat
    assert chat is not None
    card = card_for(listing, lang, sandbox=s.settings.demo, now=s.clock.time())
    reply_to = reply_params(update)
    if card.photo:
        photos = photo_sender(s)
        fits = card.fits_caption
        sent = await send_photo(
            context,
            chat.id,
            photos,
            card.photo,
            caption=card.text if fits else None,
            reply_markup=card.keyboard if fits else None,
            reply_parameters=reply_to,
        )
        if sent is not None and fits:
            return sent
        if sent is not None:
            reply_to = None  # the text follows its photo directly
    return await context.bot.send_message(
        chat.id,
        card.text,
        parse_mode=ParseMode.HTML,
        reply_markup=card.keyboard,
        reply_parameters=reply_to,
    )


async def send_photo(
    context: ContextTypes.DEFAULT_TYPE,
    chat_id: int,
    photos: PhotoSender,
    url: str,
    **kwargs: object,
) -> Message | None:
    """Send one photo; None when it cannot be sent at all (the card then goes as text)."""
    source = await photos.source(url)
    for attempt in range(2):
        if source is None:
            return None
        try:
            sent = await context.bot.send_photo(
                chat_id, source, parse_mode=ParseMode.HTML, **kwargs
            )  # type: ignore[arg-type]
        except BadRequest as exc:
            if attempt == 0 and isinstance(source, str) and source == url:
                source = await photos.fallback(url, exc)
                continue
            log.info("photo not sent: %s", exc.message)
            return None
        photos.remember(url, sent)
        return sent
    return None


# -- buttons -----------------------------------------------------------------------------


async def on_refresh(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    lang = user_lang(update, context)
    ref = cb.read(query.data, cb.Refresh).ref
    outcome = await fetch(ref, update, context, max_age=REFRESH_MAX_AGE)
    if outcome.error is not None:
        await query.answer(strip_tags(error_text(outcome.error, lang)), show_alert=True)
        return
    assert outcome.listing is not None
    s = services(context)
    card = render_card(outcome.listing, lang, sandbox=s.settings.demo, now=s.clock.time())
    message = query.message
    is_photo = isinstance(message, Message) and bool(message.photo)
    if is_photo and not card.fits_caption:
        await query.answer(t(lang, "refreshed"))
        return
    changed = await edit_in_place(query, card.text, card.keyboard, caption=is_photo)
    await query.answer(t(lang, "refreshed" if changed else "refresh_unchanged"))


async def on_photos(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    lang = user_lang(update, context)
    ref = cb.read(query.data, cb.Photos).ref
    outcome = await fetch(ref, update, context)
    if outcome.error is not None:
        await query.answer(strip_tags(error_text(outcome.error, lang)), show_alert=True)
        return
    assert outcome.listing is not None
    urls = list(outcome.listing.photos[:ALBUM_SIZE])
    if not urls:
        await query.answer(t(lang, "no_more_photos"))
        return
    await query.answer()
    s = services(context)
    photos = photo_sender(s)
    media = []
    for url in urls:
        source = await photos.source(url)
        if source is not None:
            media.append(InputMediaPhoto(source))
    chat_id = query.message.chat.id if query.message else update.effective_chat.id  # type: ignore[union-attr]
    reply_to = query.message.message_id if query.message else None
    if len(media) == 1:
        await context.bot.send_photo(chat_id, media[0].media, reply_to_message_id=reply_to)
    elif media:
        sent = await context.bot.send_media_group(chat_id, media, reply_to_message_id=reply_to)
        for url, message in zip(urls, sent, strict=False):
            photos.remember(url, message)


async def on_pick_platform(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    lang = user_lang(update, context)
    picked = cb.read(query.data, cb.PickPlatform)
    await query.answer()
    await remove_question(query.message, f"✓ {platform_name(picked.platform, lang)}")
    ref = picked.ref
    if ref is None:  # Beike: the city comes next
        outcome = city_question(picked.listing_id, update, context, lang)
    else:
        outcome = await fetch(ref, update, context)
    await send_outcome(update, context, outcome, lang)


async def on_pick_city(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    from clients.beike import CITIES

    query = update.callback_query
    assert query is not None and query.data is not None
    lang = user_lang(update, context)
    picked = cb.read(query.data, cb.PickCity)
    city_id = picked.city_id
    await query.answer()
    if update.effective_user is not None:
        services(context).users.set_default_city(update.effective_user.id, city_id)
    city = next((c for c in CITIES if c[0] == city_id), None)
    await remove_question(query.message, f"✓ {city_label(city, lang) if city else city_id}")
    await context.bot.send_chat_action(update.effective_chat.id, ChatAction.TYPING)  # type: ignore[union-attr]
    outcome = await fetch(picked.ref, update, context)
    await send_outcome(update, context, outcome, lang)


async def remove_question(message: object, answer: str) -> None:
    """Keep the question, drop its buttons, and show what was chosen."""
    if isinstance(message, Message) and message.text:
        try:
            await message.edit_text(f"{message.text_html}\n{answer}", parse_mode=ParseMode.HTML)
        except BadRequest as exc:
            log.info("question not edited: %s", exc.message)
