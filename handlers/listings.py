"""Listing cards: a message with links, share texts or IDs in, one card per listing out.

Buttons (refresh, photos, watch, which platform, which city) are written and read by
`handlers/callbacks.py`.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from asyncio import FIRST_COMPLETED
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    Message,
    Update,
)
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest
from telegram.ext import ApplicationHandlerStop, ExtBot

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
    payer_of,
    reply,
    reply_params,
    services,
    strip_tags,
    user_lang,
)
from handlers.context import BotContext
from handlers.message_forms import (
    MentionMemory,
    is_command,
    mentions_bot,
    reading_text,
    replied_listings,
)
from handlers.photos import PhotoSender, photo_sender
from handlers.sending import Lane, send_photo_answer
from handlers.texts import t

log = logging.getLogger(__name__)

REFRESH_MAX_AGE = 60.0  # a refresh within a minute of the last fetch reuses it
#: seconds a message's lookups may hold its update worker; what is still unanswered is
#: then waited for by a task the application owns, so a hanging platform holds no worker
HANDLER_PATIENCE = 0.5
#: seconds a mention may take before it gets "still fetching" (edited when it comes)
FETCH_PATIENCE = 4.0
#: seconds cards keep the order they were written in; after that a ready card goes out
#: without waiting for a slower one written before it
ORDER_GRACE = 1.0
ALBUM_SIZE = 10
CITY_BUTTONS = 8


@dataclass(frozen=True, slots=True)
class Outcome:
    """What to send for one mention: a listing, an error, or a question."""

    listing: Listing | None = None
    error: PlatformError | None = None
    text: str | None = None
    keyboard: InlineKeyboardMarkup | None = None


def find_listings(update: Update, context: BotContext) -> list[Found]:
    """The listings a message mentions: in its text or caption, hidden links included; for a
    message that only names the bot (a group member calling it), in the message it replies to.
    """
    message = update.effective_message
    if message is None:
        return []
    clients = services(context).listing_clients
    found = recognise(reading_text(message), clients)
    if not found and mentions_bot(message, context.bot.username, context.bot.id):
        found = replied_listings(message, clients)
    return found


def mention_memory(context: BotContext) -> MentionMemory:
    bot_data = context.bot_data
    if bot_data.mentions is None:
        bot_data.mentions = MentionMemory(services(context).clock.monotonic)
    return bot_data.mentions


async def on_listing_message(update: Update, context: BotContext) -> bool:
    """Answer a message that mentions listings; return False when it mentions none.

    What it mentioned is remembered (an edit answers only what it adds); an album's
    items share one card per listing, whichever caption names it.
    """
    found = find_listings(update, context)
    message = update.effective_message
    if message is not None:
        memory = mention_memory(context)
        memory.remember_message(message, found)
        fresh = memory.new_in_album(message, found)
        if found and not fresh:
            return True  # another item of the album has had these answered
        found = fresh
    if not found:
        return False
    await answer_mentions(update, context, found)
    return True


async def answer_mentions(update: Update, context: BotContext, found: list[Found]) -> None:
    """One card (or question, or error) per mention, each paid by the user who asked."""
    lang = user_lang(update, context)
    chat = update.effective_chat
    assert chat is not None
    tasks = [asyncio.create_task(resolve_mention(f, update, context, lang)) for f in found]
    # One pass of the event loop answers every cached mention. Only when something must
    # be fetched does 'typing' help; on a cache hit the card follows at once, and the
    # extra round trip first would cost a third of the reply rate (bench/chat.py).
    await asyncio.sleep(0)
    if all(task.done() for task in tasks):
        # every outcome is ready (cache hits): nothing to wait for, no waiting loop to run
        for outcome in worth_sending(task.result() for task in tasks):
            await send_outcome(update, context, outcome, lang)
        return
    await context.bot.send_chat_action(chat.id, ChatAction.TYPING)
    slow = await send_when_ready(update, context, tasks, lang, HANDLER_PATIENCE)
    if slow:
        mentions = [found[tasks.index(task)] for task in slow]
        context.application.create_task(
            finish_slow_mentions(update, context, mentions, slow, lang), update=update
        )


def worth_sending(outcomes: Iterable[Outcome]) -> Iterator[Outcome]:
    """The outcomes to send, in order: one 'budget used up' per message is enough
    (as `send_when_ready` keeps it across the batches it sends)."""
    budget_told = False
    for outcome in outcomes:
        if isinstance(outcome.error, BudgetExhausted):
            if budget_told:
                continue
            budget_told = True
        yield outcome


async def on_edited_message(update: Update, context: BotContext) -> None:
    """An edited message: a card for each listing the edit adds, once; nothing else.

    Why: an edit usually corrects a link; ignoring it leaves the user with the wrong card,
    while answering every edit repeats the card for each typo fixed around a right link.
    So only a listing the message did not mention before is answered, paid and flood-limited
    like a message. An edited command, an edit of a message the bot does not remember
    (before a restart) and the "no listing" hint get nothing (docs/message-forms.md).
    Runs before every other handler and stops the update there.
    """
    try:
        message = update.edited_message
        if message is not None and not is_command(message) and not message.is_automatic_forward:
            found = find_listings(update, context)
            added = mention_memory(context).added_by_edit(message, found)
            if added:
                await answer_mentions(update, context, added)
    except Exception as exc:  # the one error handler reports it, and the edit stops here
        await context.application.process_error(update, exc)
    raise ApplicationHandlerStop


async def finish_slow_mentions(
    update: Update,
    context: BotContext,
    mentions: list[Found],
    tasks: list[asyncio.Task[Outcome]],
    lang: str,
) -> None:
    """Send what comes within `FETCH_PATIENCE`; "still fetching" for the rest, edited later."""
    late = await send_when_ready(update, context, tasks, lang, FETCH_PATIENCE - HANDLER_PATIENCE)
    for task in late:
        await answer_later(update, context, mentions[tasks.index(task)], task, lang)


async def send_when_ready(
    update: Update,
    context: BotContext,
    tasks: list[asyncio.Task[Outcome]],
    lang: str,
    patience: float,
) -> list[asyncio.Task[Outcome]]:
    """Send each mention's outcome once it is ready; return those not ready in time.

    Cards go out in the order they were written for `ORDER_GRACE` seconds, then as each
    is ready; whatever is not ready after `patience` seconds is returned.
    """
    loop = asyncio.get_running_loop()
    start = loop.time()
    unsent = list(tasks)
    budget_told = False  # one 'budget used up' per message is enough
    while unsent:
        elapsed = loop.time() - start
        in_order = elapsed < ORDER_GRACE
        ready = (
            list(itertools.takewhile(asyncio.Task.done, unsent))
            if in_order
            else [task for task in unsent if task.done()]
        )
        for task in ready:
            unsent.remove(task)
            outcome = task.result()
            if isinstance(outcome.error, BudgetExhausted):
                if budget_told:
                    continue
                budget_told = True
            await send_outcome(update, context, outcome, lang)
        if ready:
            continue
        if elapsed >= patience:
            break
        waiting_for, until = (unsent[:1], ORDER_GRACE) if in_order else (unsent, patience)
        until = min(until, patience)
        await asyncio.wait(waiting_for, timeout=until - elapsed, return_when=FIRST_COMPLETED)
    return unsent


async def answer_later(
    update: Update,
    context: BotContext,
    found: Found,
    task: asyncio.Task[Outcome],
    lang: str,
) -> None:
    """Say "still fetching" now, and edit the answer in from a task the application owns
    (it outlives this handler, which frees its update worker)."""
    platform = found.ref.platform if found.ref else (found.platform or found.candidates[0].platform)
    placeholder = await reply(
        update, t(lang, "still_fetching", platform=platform_name(platform, lang))
    )
    if placeholder is None:
        return
    context.application.create_task(
        edit_when_ready(context, placeholder, task, lang), update=update
    )


async def edit_when_ready(
    context: BotContext, placeholder: Message, task: asyncio.Task[Outcome], lang: str
) -> None:
    outcome = await task
    keyboard = outcome.keyboard
    if outcome.listing is not None:
        card = card_for(outcome.listing, lang, sandbox=services(context).settings.demo)
        text, keyboard = card.text, card.keyboard
    elif outcome.error is not None:
        text = error_text(outcome.error, lang)
    else:
        text = outcome.text or ""
    # the background lane (bot/rate_limiter.py): this person was answered ("still
    # fetching") seconds ago; people waiting for a first reply go first. A platform that
    # comes back answers many such edits at once (bench/fairness.py, "write lock held
    # elsewhere" after "hanging Beike": the burst delayed every ordinary reply by 1.1 s).
    lane = {"rate_limit_args": Lane.BACKGROUND} if isinstance(context.bot, ExtBot) else {}
    await context.bot.edit_message_text(
        text,
        chat_id=placeholder.chat_id,
        message_id=placeholder.message_id,
        parse_mode=ParseMode.HTML,
        reply_markup=keyboard,
        disable_web_page_preview=True,
        **lane,  # type: ignore[arg-type]  # rate_limit_args is only for an ExtBot, checked above
    )


async def on_text(update: Update, context: BotContext) -> None:
    """A plain message: its listings' cards, and the update stops here. A message without
    listings goes on to the quote flow (`handlers.quotes`, a later handler group), then
    to `on_other_text`."""
    message = update.effective_message
    if message is not None and message.is_automatic_forward:
        raise ApplicationHandlerStop  # a channel's own post, copied to its discussion group
    if await on_listing_message(update, context):
        raise ApplicationHandlerStop  # an open quote question stays open, unanswered


async def on_other_text(update: Update, context: BotContext) -> None:
    """A plain message with no listing that is no device description nor an answer to an
    open question: a hint, in private chats only."""
    message = update.effective_message
    # an album's other captions would each repeat the hint
    if is_private(update) and not (message is not None and message.media_group_id):
        await reply(update, t(user_lang(update, context), "no_listing"))


async def resolve_mention(found: Found, update: Update, context: BotContext, lang: str) -> Outcome:
    s = services(context)
    ref = found.ref
    if found.short_url is not None:
        try:
            ref = await s.gateway.resolve_short_link(
                found.platform, found.short_url, payer=payer_of(update)
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
        return await city_question(ref.listing_id, update, context, lang)
    return await fetch(ref, update, context)


async def fetch(ref: ListingRef, update: Update, context: BotContext, **kw: Any) -> Outcome:
    """The listing for the user who asked (an upstream call is paid from their budget)."""
    gateway = services(context).gateway
    try:
        return Outcome(listing=await gateway.listing(ref, payer=payer_of(update), **kw))
    except PlatformError as exc:
        log.info("%s %s: %s", ref.platform, ref.listing_id, exc.kind)
        return Outcome(error=exc)


async def city_question(code: str, update: Update, context: BotContext, lang: str) -> Outcome:
    from clients.beike import CITIES

    s = services(context)
    user = await s.users.get(update.effective_user.id) if update.effective_user else None
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


def city_label(city: tuple[Any, ...], lang: str) -> str:
    _city_id, _slug, pinyin, chinese = city[:4]
    return chinese if lang == "zh" else pinyin.capitalize()


async def send_outcome(update: Update, context: BotContext, outcome: Outcome, lang: str) -> None:
    if outcome.listing is not None:
        await send_card(update, context, outcome.listing, lang)
    elif outcome.error is not None:
        await reply(update, error_text(outcome.error, lang))
    elif outcome.text is not None:
        await reply(update, outcome.text, reply_markup=outcome.keyboard)


async def send_card(update: Update, context: BotContext, listing: Listing, lang: str) -> bool:
    """The listing's card; True when sent. A cached card is sent as it was made: its
    keyboard serialised once (`Card.markup`), the sent photo read for its file_id only."""
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
            reply_markup=card.markup if fits else None,
            reply_parameters=reply_to,
        )
        if sent and fits:
            return True
        if sent:
            reply_to = None  # the text follows its photo directly
    await context.bot.send_message(
        chat.id,
        card.text,
        parse_mode=ParseMode.HTML,
        reply_markup=card.keyboard,
        reply_parameters=reply_to,
    )
    return True


async def send_photo(
    context: BotContext,
    chat_id: int,
    photos: PhotoSender,
    url: str,
    **kwargs: Any,
) -> bool:
    """Send one photo; False when it cannot be sent at all (the card then goes as text)."""
    source = await photos.source(url)
    for attempt in range(2):
        if source is None:
            return False
        try:
            sent = await send_photo_answer(
                context.bot,
                {"chat_id": chat_id, "photo": source, "parse_mode": ParseMode.HTML, **kwargs},
            )
        except BadRequest as exc:
            if attempt == 0 and isinstance(source, str) and source == url:
                source = await photos.fallback(url, exc)
                continue
            log.info("photo not sent: %s", exc.message)
            return False
        if source is not photos.known:  # a photo sent by its file_id is known already
            photos.remember_answer(url, sent)
        return True
    return False


# -- buttons -----------------------------------------------------------------------------


async def on_refresh(update: Update, context: BotContext) -> None:
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


async def on_photos(update: Update, context: BotContext) -> None:
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
    chat_id = query.message.chat.id if query.message else update.effective_chat.id  # type: ignore[union-attr]  # a button press has a chat
    reply_to = query.message.message_id if query.message else None
    if len(media) == 1:
        await context.bot.send_photo(chat_id, media[0].media, reply_to_message_id=reply_to)
    elif media:
        sent = await context.bot.send_media_group(chat_id, media, reply_to_message_id=reply_to)
        for url, message in zip(urls, sent, strict=False):
            photos.remember(url, message)


async def on_pick_platform(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    lang = user_lang(update, context)
    picked = cb.read(query.data, cb.PickPlatform)
    await query.answer()
    await remove_question(query.message, f"✓ {platform_name(picked.platform, lang)}")
    ref = picked.ref
    if ref is None:  # Beike: the city comes next
        outcome = await city_question(picked.listing_id, update, context, lang)
    else:
        outcome = await fetch(ref, update, context)
    await send_outcome(update, context, outcome, lang)


async def on_pick_city(update: Update, context: BotContext) -> None:
    from clients.beike import CITIES

    query = update.callback_query
    assert query is not None and query.data is not None
    lang = user_lang(update, context)
    picked = cb.read(query.data, cb.PickCity)
    city_id = picked.city_id
    await query.answer()
    if update.effective_user is not None:
        await services(context).users.set_default_city(update.effective_user.id, city_id)
    city = next((c for c in CITIES if c[0] == city_id), None)
    await remove_question(query.message, f"✓ {city_label(city, lang) if city else city_id}")
    await context.bot.send_chat_action(update.effective_chat.id, ChatAction.TYPING)  # type: ignore[union-attr]  # a button press has a chat
    outcome = await fetch(picked.ref, update, context)
    await send_outcome(update, context, outcome, lang)


async def remove_question(message: object, answer: str) -> None:
    """Keep the question, drop its buttons, and show what was chosen."""
    if isinstance(message, Message) and message.text:
        try:
            await message.edit_text(f"{message.text_html}\n{answer}", parse_mode=ParseMode.HTML)
        except BadRequest as exc:
            log.info("question not edited: %s", exc.message)
