"""Trade-in quotes: a free-text device description in, an Aihuishou quote card out.

`/quote <description>`, a plain message that clearly describes a device (no listing in
it: listings are answered first, `handlers.listings.on_text`), or the trade-in button of
a Xianyu card starts a quote. A field the description does not give, or gives
ambiguously, is asked for with inline buttons, one question at a time; a typed answer
works too. Several descriptions (one per line) get one card each; the gateway keeps
upstream calls to Aihuishou's 5 at once and caches each quote for 10 minutes, so
asking again costs no quota.

The flow is a python-telegram-bot `ConversationHandler` (`conversation_handler`), per
chat and per user (two people asking in one group never mix), shaped like PTB's
`conversationbot.py`: one state per question, named after the field it asks
(`devices.flow.QUESTIONS`: brand, model, storage, ram, condition,
function_status), and every callback returns the next state:

    entry points   /quote, a device description, 💱 trade-in button  -> first question or END
    <question>     a button or a typed answer                         -> next question or END
                   a page button, or text that answers nothing        -> the same question
                   a new device description                           -> its first question
    fallbacks      /cancel                                            -> END
                   /quote, 💱 trade-in button                          -> start over
    TIMEOUT        `CONVERSATION_TIMEOUT` seconds without an update   -> END (question says so)

Only updates of an open question reach the question states; a message that mentions a
listing never does (it gets its card and the question stays open), and with no question
open only the entry points are read. What the questions are about (the devices still to
quote, the options sent, the question's message) is kept in `context.chat_data` under
the user's id (`QuoteDraft`), the card states under `CARDS_KEY`. Both and the
conversation's state are kept by the bot's persistence (`bot.persistence`, JSON in the
SQLite file), so after a restart the same question is still open. PTB's timeout job
does not survive a restart, so the draft also keeps the time of its last update and a
question quiet for longer than the timeout is ended by the next update that reaches it.

The decisions that need no Telegram (which question comes next, reading a typed answer,
paging) are in `devices.flow`.

A Xianyu card that describes a device has a trade-in button (`ti|<listing key>`): it
quotes the same device (`devices.tradein`), asking for what the item does not say,
and the card compares the asking price with what Aihuishou pays.

Callback data (at most 64 bytes; tokens only, the state stays here):
    q|<conversation token>|<i>     answer the current question with option i
    q|<conversation token>|p<n>    show page n of the options
    q|<conversation token>|x       cancel the conversation
    qa|<card token>|c / f          show condition grades / function statuses to change
    qa|<card token>|c<i> / f<i>    re-quote with that one change
    qa|<card token>|b              back to the card's own buttons
    qa|<card token>|r              quote again
    ti|<listing key>               trade-in value of a listing
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from clients.aihuishou import CONDITIONS, FUNCTION_STATUSES, KIND_TYPES, seed_retry
from clients.errors import BadRequest as PlatformBadRequest
from clients.errors import NotFound, PlatformError
from clients.models import Quote, QuoteRequest
from devices.flow import (
    MAX_DEVICES,
    QUESTIONS,
    Pending,
    answered_value,
    closest_instead,
    describes_device,
    devices_in_command,
    devices_in_message,
    expired,
    next_question,
    page_of,
    question_options,
    read_answer,
    still_asked,
)
from devices.records import ParsedDevice
from devices.tradein import tradein_device
from handlers import callbacks as cb
from handlers.common import (
    edit_in_place,
    error_text,
    one_budget_refusal,
    payer_of,
    reply,
    services,
    strip_tags,
    user_lang,
)
from handlers.context import BotApplication, BotContext
from handlers.message_forms import replied_texts
from handlers.quote_card import card_keyboard, e, render_quote, value_label
from handlers.texts import plural, t

if TYPE_CHECKING:
    from devices.parser import Catalogue

log = logging.getLogger(__name__)

#: seconds without an answer after which a quote conversation ends
CONVERSATION_TIMEOUT = 600.0
PAGE_SIZE = 12
CLOSEST_MODELS = 4
#: quote cards per chat whose buttons still work (token -> request), oldest forgotten first
CARDS_PER_CHAT = 100
#: chat_data keys of this flow; the persistence keeps these and nothing else
STATE_PREFIX = "quote"
CARDS_KEY = "quote_cards"
#: option buttons per row, by the question
COLUMNS = {"brand": 3, "model": 2, "storage": 3, "ram": 3, "condition": 3, "function_status": 2}
#: the messages a question reads: text or a caption, no command (listings never get here)
TYPED = (filters.TEXT | filters.CAPTION) & ~filters.COMMAND
#: the buttons the conversation answers (every other kind: handlers.BUTTONS)
CONVERSATION_BUTTONS: tuple[type, ...] = (cb.QuoteAnswer, cb.TradeIn)


@dataclass
class QuoteDraft:
    """One user's open quote question in one chat (`chat_data["quote:<user id>"]`).

    Which question is open is the conversation's state, not kept here; this is what the
    question is about: the device asked about first in `pending`, then the ones still to
    quote, and the question's message with the values its buttons stand for.
    """

    token: str  # names the question's buttons
    lang: str
    active_at: float  # clock.time() of the conversation's last update (wall time)
    pending: list[Pending] = field(default_factory=list)
    options: tuple[str, ...] = ()  # the values the question's buttons stand for, as sent
    question_id: int | None = None  # the message with the buttons
    question_text: str = ""  # its HTML, to edit it when answered


@dataclass
class CardState:
    request: QuoteRequest
    owner_id: int | None
    asking: Decimal | None = None


def state_key(user_id: int) -> str:
    return f"{STATE_PREFIX}:{user_id}"


def catalogue() -> Catalogue:
    """The device catalogue; the first call imports the parser (`devices/records.py`)."""
    from devices.parser import load_catalogue

    return load_catalogue()


# -- the ConversationHandler ----------------------------------------------------------------

Callback = Callable[[Update, BotContext], Awaitable[object]]
State = object  # a question's name, ConversationHandler.END, or None (stay)


class DescribesDevice(filters.MessageFilter):
    """A message whose text or caption describes a device to quote by itself."""

    def filter(self, message: Message) -> bool:
        return describes_device(message.text or message.caption or "", catalogue())


def conversation_handler(on_other_text: Callback) -> ConversationHandler[BotContext]:
    """The quote flow. `on_other_text` answers a plain message that is neither an answer
    nor a description when it reaches a question that is no longer open."""
    quote = CommandHandler("quote", quote_command)
    tradein = CallbackQueryHandler(on_tradein_button, pattern=cb.matches(cb.TradeIn))
    states: dict[object, list[BaseHandler[Update, BotContext, object]]] = {
        question: question_handlers(question, on_other_text) for question in QUESTIONS
    }
    states[ConversationHandler.TIMEOUT] = [TypeHandler(Update, on_timeout)]
    with warnings.catch_warnings():
        # per_message=False is meant: the conversation is per chat and user, and a button
        # names its question by token (PTB warns that buttons are not tracked per message)
        warnings.filterwarnings("ignore", "If 'per_message=False'", PTBUserWarning)
        return ConversationHandler(
            entry_points=[
                quote,
                tradein,
                MessageHandler(TYPED & DescribesDevice(), on_description),
            ],
            states=states,
            # a new /quote or trade-in button while a question is open starts over
            fallbacks=[CommandHandler("cancel", cancel_command), quote, tradein],
            per_chat=True,
            per_user=True,
            per_message=False,
            conversation_timeout=CONVERSATION_TIMEOUT,
            name="quote",
            persistent=True,
        )


def question_handlers(
    question: str, on_other_text: Callback
) -> list[BaseHandler[Update, BotContext, object]]:
    """The handlers of the state that asks `question`: its buttons, and a typed answer."""

    async def answer_by_button(update: Update, context: BotContext) -> State:
        return await on_question_button(update, context, question)

    async def answer_by_text(update: Update, context: BotContext) -> State:
        return await on_typed_answer(update, context, question, on_other_text)

    return [
        CallbackQueryHandler(answer_by_button, pattern=cb.matches(cb.QuoteAnswer)),
        MessageHandler(TYPED, answer_by_text),
    ]


async def forget_quotes(application: BotApplication, user_id: int) -> None:
    """/forget: the user's open questions, quote cards and conversation states, in every chat."""
    changed = []
    for chat_id, chat_data in application.chat_data.items():
        cards: dict[str, CardState] = chat_data.get(CARDS_KEY) or {}
        mine = [token for token, card in cards.items() if card.owner_id == user_id]
        for token in mine:
            del cards[token]
        if not cards:
            chat_data.pop(CARDS_KEY, None)
        if chat_data.pop(state_key(user_id), None) is not None or mine:
            changed.append(chat_id)
    application.mark_data_for_update_persistence(chat_ids=changed)
    await application.bot_data.services.conversations.forget_user(user_id)


# -- entry points -------------------------------------------------------------------------


async def quote_command(update: Update, context: BotContext) -> State:
    """`/quote <description>`; several lines give several quotes; none asks from the brand."""
    message = update.effective_message
    assert message is not None
    parts = (message.text or "").split(maxsplit=1)
    text = parts[1] if len(parts) > 1 else ""
    if not text.strip():  # `/quote` as a reply: the device text is the replied message
        text = next(iter(replied_texts(message)), "")
    devices, dropped = devices_in_command(text, catalogue())
    return await start_quotes(update, context, devices, user_lang(update, context), dropped=dropped)


async def on_description(update: Update, context: BotContext) -> State:
    """A plain message that describes one or more devices (`DescribesDevice`)."""
    message = update.effective_message
    assert message is not None
    devices, dropped = devices_in_message(message.text or message.caption or "", catalogue())
    if not devices:
        return ConversationHandler.END
    return await start_quotes(update, context, devices, user_lang(update, context), dropped=dropped)


async def cancel_command(update: Update, context: BotContext) -> State:
    """/cancel: end the open question, if there is one."""
    lang = user_lang(update, context)
    draft = end_draft(update, context)
    if draft is None:
        await reply(update, t(lang, "quote_nothing_to_cancel"))
        return ConversationHandler.END
    chat = update.effective_chat
    assert chat is not None
    await close_question(context, chat.id, draft, t(lang, "quote_closed_cancelled"))
    await reply(update, t(lang, "quote_cancelled"))
    return ConversationHandler.END


async def on_tradein_button(update: Update, context: BotContext) -> State:
    """💱 on a Xianyu card: quote the item's device on Aihuishou, asking for what it omits.
    When it cannot, an open question stays open (None keeps the state)."""
    query = update.callback_query
    assert query is not None and query.data is not None
    lang = user_lang(update, context)
    ref = cb.read(query.data, cb.TradeIn).ref
    try:
        listing = await services(context).gateway.listing(ref, payer=payer_of(update))
    except PlatformError as exc:
        await query.answer(strip_tags(error_text(exc, lang)), show_alert=True)
        return None
    device = tradein_device(listing, catalogue())
    if device is None:
        await query.answer(t(lang, "tradein_no_device"), show_alert=True)
        return None
    await query.answer()
    return await start_quotes(update, context, [device], lang, asking=listing.price)


# -- outside the conversation -------------------------------------------------------------


async def on_closed_question_button(update: Update, context: BotContext) -> None:
    """A question's button pressed when its presser has no question open."""
    query = update.callback_query
    assert query is not None and query.data is not None
    await refuse_question_button(update, context, cb.read(query.data, cb.QuoteAnswer).token)


async def refuse_question_button(update: Update, context: BotContext, token: str) -> None:
    """Someone else's question says so; an ended one says it has ended."""
    query = update.callback_query
    user = update.effective_user
    assert query is not None
    lang = user_lang(update, context)
    mine = state_key(user.id) if user is not None else None
    owned = any(
        isinstance(draft, QuoteDraft) and draft.token == token and key != mine
        for key, draft in (context.chat_data or {}).items()
    )
    await query.answer(t(lang, "not_your_button" if owned else "quote_expired"), show_alert=owned)


# -- the questions ------------------------------------------------------------------------


async def on_question_button(update: Update, context: BotContext, question: str) -> State:
    """A button of the question `question`: an option, another page, or cancel."""
    query = update.callback_query
    assert query is not None and query.data is not None
    lang = user_lang(update, context)
    answer = cb.read(query.data, cb.QuoteAnswer)
    draft = await open_draft(update, context)
    message = query.message
    if (
        draft is None
        or draft.token != answer.token
        or message is None
        or message.message_id != draft.question_id
    ):
        await refuse_question_button(update, context, answer.token)
        return ConversationHandler.END if draft is None else None
    chat_id = message.chat.id
    draft.active_at = services(context).clock.time()
    if answer.kind == "cancel":
        end_draft(update, context)
        await query.answer()
        await close_question(context, chat_id, draft, t(lang, "quote_cancelled"))
        return ConversationHandler.END
    if answer.kind == "page":
        await query.answer()
        await query.edit_message_reply_markup(question_keyboard(draft, question, answer.index))
        return None
    current = draft.pending[0] if draft.pending else None
    index = answer.index
    if current is None or not 0 <= index < len(draft.options):
        await query.answer(t(lang, "quote_expired"))
        return None
    if not still_asked(current.device, question):  # the state follows the draft
        await query.answer(t(lang, "quote_expired"))
        return next_question(current.device)
    value = draft.options[index]
    # the device changes before the first await, so a second press finds no open question
    current.device = current.device.choose(question, value, catalogue())
    current.not_recorded = None
    await close_question(context, chat_id, draft, f"✓ {e(value_label(lang, value))}")
    await query.answer()
    return await advance(update, context, draft)


async def on_typed_answer(
    update: Update, context: BotContext, question: str, on_other_text: Callback
) -> State:
    """Text while `question` is open: an answer, a new description, or neither."""
    message = update.effective_message
    assert message is not None
    text = message.text or message.caption or ""
    draft = await open_draft(update, context)
    if draft is None:  # the question has ended: the text is an ordinary message
        return await outside_question(update, context, text, on_other_text)
    current = draft.pending[0] if draft.pending else None
    if current is None:
        return None
    if not still_asked(current.device, question):
        # answered by another update meanwhile: ignored, and the state follows the draft
        return next_question(current.device)
    lang = draft.lang
    draft.active_at = services(context).clock.time()
    label = partial(value_label, "en")
    answered = read_answer(current.device, question, draft.options, text, catalogue(), label)
    if answered is not None:
        # the device changes before the first await, so a second answer finds no question
        current.device, current.not_recorded = answered, None
        chosen = answered_value(answered, question, text)
        await close_question(context, message.chat_id, draft, f"✓ {e(value_label(lang, chosen))}")
        return await advance(update, context, draft)
    if describes_device(text, catalogue()):
        return await on_description(update, context)
    if message.chat.type == "private":
        await reply(update, t(user_lang(update, context), "quote_typed_unknown"))
    return None  # group chatter: the question stays open, unanswered


async def outside_question(
    update: Update, context: BotContext, text: str, on_other_text: Callback
) -> State:
    """Text that reached a question which has ended: a description starts a quote; anything
    else is answered as if no question had been open."""
    if describes_device(text, catalogue()):
        return await on_description(update, context)
    await on_other_text(update, context)
    return ConversationHandler.END


async def on_timeout(update: object, context: BotContext) -> None:
    """No update in time (the ConversationHandler's timeout): drop the draft and say so on
    the question itself."""
    assert isinstance(update, Update)
    draft = end_draft(update, context)
    chat = update.effective_chat
    if draft is not None and chat is not None:
        context.application.mark_data_for_update_persistence(chat_ids=[chat.id])
        await close_question(context, chat.id, draft, t(draft.lang, "quote_timed_out"))


# -- the draft ----------------------------------------------------------------------------


async def open_draft(update: Update, context: BotContext) -> QuoteDraft | None:
    """The user's draft in this chat; None when there is none or it has been quiet past the
    timeout (a conversation restored after a restart has lost its timeout job): that one
    ends here as the job would have ended it."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None or context.chat_data is None:
        return None
    draft = context.chat_data.get(state_key(user.id))
    if not isinstance(draft, QuoteDraft):
        return None
    if expired(draft.active_at, services(context).clock.time(), CONVERSATION_TIMEOUT):
        end_draft(update, context)
        await close_question(context, chat.id, draft, t(draft.lang, "quote_timed_out"))
        return None
    return draft


def is_current(update: Update, context: BotContext, draft: QuoteDraft) -> bool:
    user = update.effective_user
    chat_data = context.chat_data or {}
    return user is not None and chat_data.get(state_key(user.id)) is draft


def end_draft(update: Update, context: BotContext) -> QuoteDraft | None:
    user = update.effective_user
    if user is None or context.chat_data is None:
        return None
    draft = context.chat_data.pop(state_key(user.id), None)
    return draft if isinstance(draft, QuoteDraft) else None


async def start_quotes(
    update: Update,
    context: BotContext,
    devices: list[ParsedDevice],
    lang: str,
    *,
    dropped: int = 0,
    asking: Decimal | None = None,
) -> State:
    """Quote every complete description at once; then ask about the others, one by one.
    Returns the first question's state, or END when nothing is left to ask.

    `asking` is the asking price of the listing the devices come from (trade-in check)."""
    chat, user = update.effective_chat, update.effective_user
    assert chat is not None and user is not None
    previous = end_draft(update, context)
    if previous is not None:
        await close_question(context, chat.id, previous, t(lang, "quote_closed_replaced"))
    draft = QuoteDraft(
        token=secrets.token_urlsafe(4), lang=lang, active_at=services(context).clock.time()
    )
    complete = [d for d in devices if d.complete]
    draft.pending = [Pending(d, asking=asking) for d in devices if not d.complete]
    if complete:
        await context.bot.send_chat_action(chat.id, ChatAction.TYPING)
        results = await asyncio.gather(
            *(fetch_quote(update, context, d.to_request()) for d in complete)
        )
        answers = one_budget_refusal(zip(complete, results, strict=True), lambda a: a[1])
        for device, result in answers:
            pending = await deliver(update, context, Pending(device, asking=asking), result, lang)
            if pending is not None:
                draft.pending.append(pending)
    if dropped:
        await reply(
            update,
            t(
                lang,
                "quote_too_many",
                devices=plural(lang, "n_devices", MAX_DEVICES),
                dropped=plural(lang, "quote_dropped", dropped),
            ),
        )
    if not draft.pending:
        return ConversationHandler.END
    assert context.chat_data is not None
    context.chat_data[state_key(user.id)] = draft
    return await advance(update, context, draft)


async def advance(update: Update, context: BotContext, draft: QuoteDraft) -> State:
    """Ask the next question (its name is the next state), or quote the device that has
    everything; END when every device is done. None when another update replaced or
    cancelled the draft meanwhile (its own callback says the state)."""
    while True:
        if not is_current(update, context, draft):
            return None
        if not draft.pending:
            end_draft(update, context)
            return ConversationHandler.END
        current = draft.pending[0]
        question = next_question(current.device)
        if question is None:
            await context.bot.send_chat_action(update.effective_chat.id, ChatAction.TYPING)  # type: ignore[union-attr]  # a message has a chat
            result = await fetch_quote(update, context, current.device.to_request())
            instead = await deliver(update, context, current, result, draft.lang)
            if draft.pending and draft.pending[0] is current:
                draft.pending[0:1] = [instead] if instead is not None else []
            continue
        if question in QUESTIONS and await ask(update, context, draft, question):
            return question
        field_name = t(draft.lang, f"quote_field_{question}")
        await reply(update, t(draft.lang, "quote_cannot_ask", field=field_name))
        draft.pending.pop(0)


async def ask(update: Update, context: BotContext, draft: QuoteDraft, question: str) -> bool:
    """Send `question` about the first pending device with its buttons; False when there
    is nothing to offer."""
    current = draft.pending[0]
    device = current.device
    options = question_options(device, question, catalogue())
    if not options:
        return False
    draft.options = options
    lang = draft.lang
    text = ""
    if current.not_recorded:
        text = t(lang, "quote_not_recorded", model=e(current.not_recorded)) + "\n"
    known = describe(device, lang)
    text += t(lang, f"quote_ask_{question}")
    if known:
        text += f"\n<i>{e(known)}</i>"
    text += "\n" + t(lang, "quote_type_or_press")
    draft.question_text = text
    draft.active_at = services(context).clock.time()
    sent = await reply(update, text, reply_markup=question_keyboard(draft, question, 0))
    draft.question_id = sent.message_id if sent is not None else None
    return True


def describe(device: ParsedDevice, lang: str) -> str:
    """What is known so far, for the question: 苹果 · iPhone 14 Pro · 256GB · 95新 (the grade
    in the reader's language)."""
    condition = value_label(lang, device.condition) if device.condition else None
    parts = [device.model or device.brand, device.storage, device.ram, condition]
    return " · ".join(p for p in parts if p)


def question_keyboard(draft: QuoteDraft, question: str, page: int) -> InlineKeyboardMarkup:
    lang, token = draft.lang, draft.token
    shown = page_of(draft.options, page, PAGE_SIZE)
    columns = COLUMNS.get(question, 2)
    buttons = [
        InlineKeyboardButton(
            value_label(lang, value),
            callback_data=cb.encode(cb.QuoteAnswer(token, "option", shown.first + i)),
        )
        for i, value in enumerate(shown.shown)
    ]
    rows = [buttons[i : i + columns] for i in range(0, len(buttons), columns)]
    nav = []
    if shown.previous is not None:
        nav.append(
            InlineKeyboardButton(
                "◀", callback_data=cb.encode(cb.QuoteAnswer(token, "page", shown.previous))
            )
        )
    if shown.next is not None:
        nav.append(
            InlineKeyboardButton(
                "▶", callback_data=cb.encode(cb.QuoteAnswer(token, "page", shown.next))
            )
        )
    nav.append(
        InlineKeyboardButton(
            t(lang, "btn_cancel"), callback_data=cb.encode(cb.QuoteAnswer(token, "cancel"))
        )
    )
    rows.append(nav)
    return InlineKeyboardMarkup(rows)


async def close_question(context: BotContext, chat_id: int, draft: QuoteDraft, note: str) -> None:
    """Keep the question, drop its buttons, and say what happened to it."""
    question_id, draft.question_id = draft.question_id, None
    if question_id is None:
        return
    try:
        await context.bot.edit_message_text(
            f"{draft.question_text}\n{note}",
            chat_id=chat_id,
            message_id=question_id,
            parse_mode=ParseMode.HTML,
        )
    except BadRequest as exc:
        log.info("quote question not edited: %s", exc.message)


# -- quoting and cards --------------------------------------------------------------------


async def fetch_quote(
    update: Update, context: BotContext, request: QuoteRequest
) -> Quote | PlatformError:
    """The quote, or the error to explain.

    When Aihuishou refuses a value the seed does not write (ours: 95新, 进水, 港版...), the
    quote is asked once more with the seed's own value for that field (`seed_retry`); the
    card then says which value was used. The retry is a second upstream call, paid like any
    other from the same user's budget (docs/assumptions.md, "The way out").
    """
    gateway = services(context).gateway
    payer = payer_of(update)
    try:
        return await gateway.quote(request, payer=payer)
    except PlatformError as exc:
        log.info("quote %s %s: %s", request.model, request.storage, exc.kind)
        retry = seed_retry(request, exc)
        if retry is None:
            return exc
        seed_request, used = retry
        log.warning(
            "aihuishou refused %s=%s; quoting once with the seed's %s",
            used.field,
            used.refused,
            used.used,
        )
    try:
        quote = await gateway.quote(seed_request, payer=payer)
    except PlatformError as exc:
        log.info("quote %s with the seed's %s: %s", request.model, used.used, exc.kind)
        return exc
    return replace(quote, substituted=((used.field, used.refused, used.used),))


async def deliver(
    update: Update,
    context: BotContext,
    pending: Pending,
    result: Quote | PlatformError,
    lang: str,
) -> Pending | None:
    """Send the card or the error; a model the platform does not record comes back as a
    question with the closest catalogue models."""
    if isinstance(result, Quote):
        await send_card(update, context, result, lang, asking=pending.asking)
        return None
    device_type = pending.device.device_type
    if (
        isinstance(result, PlatformBadRequest)
        and device_type is not None
        and device_type in KIND_TYPES
    ):
        kind = t(lang, f"quote_kind_{KIND_TYPES[device_type]}")
        await reply(update, t(lang, "quote_kind_not_quoted", kind=kind))
        return None
    if isinstance(result, NotFound):
        instead = closest_instead(pending, catalogue(), CLOSEST_MODELS)
        if instead is not None:
            return instead
    await reply(update, error_text(result, lang))
    return None


def remember_card(context: BotContext, state: CardState) -> str:
    """Keep a card's request in the chat's data (persisted); the chat's oldest go first."""
    assert context.chat_data is not None
    cards: dict[str, CardState] = context.chat_data.setdefault(CARDS_KEY, {})
    token = secrets.token_urlsafe(6)
    cards[token] = state
    for oldest in list(cards)[: max(0, len(cards) - CARDS_PER_CHAT)]:
        del cards[oldest]
    return token


async def send_card(
    update: Update,
    context: BotContext,
    quote: Quote,
    lang: str,
    *,
    asking: Decimal | None = None,
) -> Message | None:
    user = update.effective_user
    token = remember_card(context, CardState(quote.request, user.id if user else None, asking))
    s = services(context)
    card = render_quote(
        quote, lang, token, sandbox=s.settings.demo, now=s.clock.time(), asking=asking
    )
    return await reply(update, card.text, reply_markup=card.keyboard)


# -- the card's buttons ------------------------------------------------------------------


async def on_card_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    lang = user_lang(update, context)
    action = cb.read(query.data, cb.QuoteCardAction)
    token, arg = action.token, action.action
    cards: dict[str, CardState] = (context.chat_data or {}).get(CARDS_KEY) or {}
    state = cards.get(token)
    if state is None:
        await query.answer(t(lang, "quote_card_expired"), show_alert=True)
        return
    user = update.effective_user
    if state.owner_id is not None and user is not None and user.id != state.owner_id:
        await query.answer(t(lang, "not_your_button"), show_alert=True)
        return
    if arg in ("c", "f") and action.index is None:
        values = tuple(CONDITIONS) if arg == "c" else FUNCTION_STATUSES
        buttons = [
            InlineKeyboardButton(
                value_label(lang, v), callback_data=cb.encode(cb.QuoteCardAction(token, arg, i))
            )
            for i, v in enumerate(values)
        ]
        rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
        rows.append(
            [InlineKeyboardButton("◀", callback_data=cb.encode(cb.QuoteCardAction(token, "b")))]
        )
        await query.answer()
        await query.edit_message_reply_markup(InlineKeyboardMarkup(rows))
        return
    request = state.request
    if arg == "b":
        await query.answer()
        await query.edit_message_reply_markup(card_keyboard(token, lang))
        return
    if arg == "c" and action.index is not None:
        request = replace(request, condition=tuple(CONDITIONS)[action.index])
    elif arg == "f" and action.index is not None:
        request = replace(request, function_status=FUNCTION_STATUSES[action.index])
    result = await fetch_quote(update, context, request)
    if not isinstance(result, Quote):
        await query.answer(strip_tags(error_text(result, lang)), show_alert=True)
        return
    state.request = result.request  # the seed's value when ours was refused
    s = services(context)
    card = render_quote(
        result, lang, token, sandbox=s.settings.demo, now=s.clock.time(), asking=state.asking
    )
    changed = await edit_in_place(query, card.text, card.keyboard)
    await query.answer(t(lang, "quote_requoted" if changed else "quote_unchanged"))
