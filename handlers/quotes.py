"""Trade-in quotes: a free-text device description in, an Aihuishou quote card out.

`/quote <description>` or a plain message that clearly describes a device
(`clients.devices.looks_like_device`, called from `handlers.listings.on_text` when
the message has no listing) starts a quote. A field the description does not give,
or gives ambiguously, is asked for with inline buttons, one question at a time; a
typed answer works too. Several descriptions (one per line) get one card each; the
gateway keeps upstream calls to Aihuishou's 5 at once and caches each quote for
10 minutes, so asking again costs no quota.

The flow is a python-telegram-bot `ConversationHandler` (`conversation_handler`), per
chat and per user: two people asking in one group never mix. Its one state, ASKING,
means "a question is open"; what is being asked lives in `context.chat_data` under
the user's id, and the card states under `CARDS_KEY`. Both, and the conversation
states, are kept by the bot's persistence (`bot.persistence`, in the SQLite
file), so a question answered or a card button pressed after a restart still works.
The conversation ends with the last card, with /cancel, or after
`CONVERSATION_TIMEOUT` seconds without an answer (the handler's `conversation_timeout`,
a JobQueue job; a restart loses that job, so the clock is checked as well).

A Xianyu card that describes a device has a trade-in button (`ti|<listing key>`): it
quotes the same device (`clients.tradein`), asking for what the item does not say,
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

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from clients.aihuishou import CONDITIONS, FUNCTION_STATUSES, KIND_TYPES, seed_retry
from clients.devices import (
    Catalogue,
    ParsedDevice,
    compact,
    load_catalogue,
    looks_like_device,
    matching_form,
    parse_description,
    split_descriptions,
)
from clients.errors import BadRequest as PlatformBadRequest
from clients.errors import NotFound, PlatformError
from clients.models import Quote, QuoteRequest
from clients.tradein import tradein_device
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
from handlers.context import BotApplication
from handlers.message_forms import replied_texts
from handlers.quote_card import card_keyboard, e, render_quote, value_label
from handlers.texts import plural, t

log = logging.getLogger(__name__)

#: seconds without an answer after which a quote conversation ends
CONVERSATION_TIMEOUT = 600.0
#: descriptions quoted from one message; the rest are ignored with a note
MAX_DEVICES = 20
PAGE_SIZE = 12
CLOSEST_MODELS = 4
#: quote cards per chat whose buttons still work (token -> request), oldest forgotten first
CARDS_PER_CHAT = 100
#: chat_data keys of this flow; the persistence keeps these and nothing else
STATE_PREFIX = "quote"
CARDS_KEY = "quote_cards"
#: the conversation's one state: a question is open
ASKING = 0
#: option buttons per row, by the field asked for
COLUMNS = {"brand": 3, "model": 2, "storage": 3, "ram": 3, "condition": 3, "function_status": 2}
#: fields a typed answer may fill besides the one asked for
EXTRA_FIELDS = ("storage", "ram", "condition", "function_status")


@dataclass
class Pending:
    """A device still being asked about; `not_recorded` is the model the platform refused."""

    device: ParsedDevice
    not_recorded: str | None = None
    asking: Decimal | None = None  # a listing's asking price, for the trade-in check


@dataclass
class Conversation:
    """One user's quote questions in one chat."""

    token: str
    lang: str
    touched: float  # clock.time() of the last question (wall time: it outlives a restart)
    current: Pending | None = None
    queue: list[Pending] = field(default_factory=list)
    field: str | None = None
    options: tuple[str, ...] = ()
    page: int = 0
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
    return load_catalogue()


# -- the ConversationHandler ----------------------------------------------------------------

Callback = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[object]]


def conversation_state(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """ASKING while the user has a question open in this chat, else END."""
    return ASKING if active_conversation(update, context) is not None else ConversationHandler.END


def in_conversation(
    callback: Callback,
) -> Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[int]]:
    """A handler callback that tells the ConversationHandler the state it leaves behind."""

    async def handle(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        await callback(update, context)
        return conversation_state(update, context)

    return handle


#: the buttons the conversation answers (every other kind: handlers.BUTTONS)
CONVERSATION_BUTTONS: tuple[type, ...] = (cb.QuoteAnswer, cb.TradeIn)


def conversation_handler(on_text: Callback) -> ConversationHandler:  # type: ignore[type-arg]
    """The quote flow; `on_text` is the bot's plain-text handler (listings, descriptions and
    typed answers all arrive as text, so one handler reads them in every state)."""
    every: list[BaseHandler] = [  # type: ignore[type-arg]
        CommandHandler("quote", in_conversation(quote_command)),
        CommandHandler("cancel", in_conversation(cancel_command)),
        CallbackQueryHandler(
            in_conversation(on_question_button), pattern=cb.matches(cb.QuoteAnswer)
        ),
        CallbackQueryHandler(in_conversation(on_tradein_button), pattern=cb.matches(cb.TradeIn)),
        MessageHandler(
            (filters.TEXT | filters.CAPTION) & ~filters.COMMAND, in_conversation(on_text)
        ),
    ]
    with warnings.catch_warnings():
        # per_message=False is meant: the conversation is per chat and user, and a button
        # names its question by token (PTB warns that buttons are not tracked per message)
        warnings.filterwarnings("ignore", "If 'per_message=False'", PTBUserWarning)
        return ConversationHandler(
            entry_points=every,
            states={ASKING: every, ConversationHandler.TIMEOUT: [TypeHandler(Update, on_timeout)]},
            fallbacks=[],
            per_chat=True,
            per_user=True,
            per_message=False,
            conversation_timeout=CONVERSATION_TIMEOUT,
            name="quote",
            persistent=True,
        )


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


async def quote_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`/quote <description>`; several lines give several quotes; none asks from the brand."""
    message = update.effective_message
    assert message is not None
    lang = user_lang(update, context)
    parts = (message.text or "").split(maxsplit=1)
    text = parts[1] if len(parts) > 1 else ""
    if not text.strip():  # `/quote` as a reply: the device text is the replied message
        text = next(iter(replied_texts(message)), "")
    descriptions = split_descriptions(text)
    devices = [parse_description(d, catalogue()) for d in descriptions[:MAX_DEVICES]]
    await start_quotes(
        update, context, devices or [ParsedDevice()], lang, dropped=len(descriptions) - len(devices)
    )


async def on_plain_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """A plain message without listings: a typed answer, or a device description.

    Returns False when the message is neither, so the caller can give its hint.
    """
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None:
        return False
    text = message.text or message.caption or ""
    lang = user_lang(update, context)
    conv = active_conversation(update, context)
    if conv is not None and conv.current is not None and conv.field is not None:
        answered = typed_answer(conv.current.device, conv.field, conv.options, text)
        if answered is not None:
            chosen = getattr(answered, conv.field) or text.strip()[:60]
            # the state changes before the first await, so a second answer finds no question
            conv.current.device, conv.current.not_recorded, conv.field = answered, None, None
            await close_question(
                context, message.chat_id, conv, f"✓ {e(value_label(lang, chosen))}"
            )
            await advance(update, context, conv)
            return True
    if looks_like_device(text, catalogue()):
        lines = split_descriptions(text)
        devices = [parse_description(line, catalogue()) for line in lines]
        devices = [d for d in devices if d.brand or d.model or d.ambiguous.get("brand")]
        await start_quotes(
            update, context, devices[:MAX_DEVICES], lang, dropped=max(0, len(devices) - MAX_DEVICES)
        )
        return True
    if conv is not None and message.chat.type == "private":
        await reply(update, t(lang, "quote_typed_unknown"))
        return True
    return False


async def cancel_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    lang = user_lang(update, context)
    conv = end_conversation(update, context)
    if conv is None:
        await reply(update, t(lang, "quote_nothing_to_cancel"))
        return
    chat = update.effective_chat
    assert chat is not None
    await close_question(context, chat.id, conv, "✖")
    await reply(update, t(lang, "quote_cancelled"))


# -- the conversation ---------------------------------------------------------------------


def active_conversation(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Conversation | None:
    """The user's conversation in this chat, unless it has timed out."""
    user = update.effective_user
    if user is None or context.chat_data is None:
        return None
    conv: Conversation | None = context.chat_data.get(state_key(user.id))
    if conv is None:
        return None
    if services(context).clock.time() - conv.touched > CONVERSATION_TIMEOUT:
        end_conversation(update, context)
        return None
    return conv


def is_current(update: Update, context: ContextTypes.DEFAULT_TYPE, conv: Conversation) -> bool:
    user = update.effective_user
    chat_data = context.chat_data or {}
    return user is not None and chat_data.get(state_key(user.id)) is conv


def end_conversation(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Conversation | None:
    user = update.effective_user
    if user is None or context.chat_data is None:
        return None
    return context.chat_data.pop(state_key(user.id), None)


async def start_quotes(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    devices: list[ParsedDevice],
    lang: str,
    *,
    dropped: int = 0,
    asking: Decimal | None = None,
) -> None:
    """Quote every complete description at once; then ask about the others, one by one.

    `asking` is the asking price of the listing the devices come from (trade-in check)."""
    chat, user = update.effective_chat, update.effective_user
    assert chat is not None and user is not None
    previous = end_conversation(update, context)
    if previous is not None:
        await close_question(context, chat.id, previous, "✖")
    conv = Conversation(
        token=secrets.token_urlsafe(4), lang=lang, touched=services(context).clock.time()
    )
    complete = [d for d in devices if d.complete]
    conv.queue = [Pending(d, asking=asking) for d in devices if not d.complete]
    if complete:
        await context.bot.send_chat_action(chat.id, ChatAction.TYPING)
        results = await asyncio.gather(
            *(fetch_quote(update, context, d.to_request()) for d in complete)
        )
        answers = one_budget_refusal(zip(complete, results, strict=True), lambda a: a[1])
        for device, result in answers:
            pending = await deliver(update, context, Pending(device, asking=asking), result, lang)
            if pending is not None:
                conv.queue.append(pending)
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
    if conv.queue:
        assert context.chat_data is not None
        context.chat_data[state_key(user.id)] = conv
        await advance(update, context, conv)


async def advance(update: Update, context: ContextTypes.DEFAULT_TYPE, conv: Conversation) -> None:
    """Ask the next question, or quote the device that has everything; end when done."""
    while True:
        if not is_current(update, context, conv):
            return  # cancelled or replaced while a quote was being fetched
        if conv.current is None:
            if not conv.queue:
                end_conversation(update, context)
                return
            conv.current = conv.queue.pop(0)
        device = conv.current.device
        name = next_field(device)
        if name is not None:
            if await ask(update, context, conv, name):
                return
            await reply(
                update, t(conv.lang, "quote_cannot_ask", field=t(conv.lang, f"quote_field_{name}"))
            )
            conv.current = None
            continue
        await context.bot.send_chat_action(update.effective_chat.id, ChatAction.TYPING)  # type: ignore[union-attr]
        result = await fetch_quote(update, context, device.to_request())
        conv.current = await deliver(update, context, conv.current, result, conv.lang)


def next_field(device: ParsedDevice) -> str | None:
    missing = device.missing()
    if not missing:
        return None if device.device_type else "model"
    # A model that could belong to several brands is asked directly: it brings its brand.
    if missing[0] == "brand" and device.ambiguous.get("model"):
        return "model"
    return missing[0]


async def ask(
    update: Update, context: ContextTypes.DEFAULT_TYPE, conv: Conversation, name: str
) -> bool:
    """Send the question for one field with its buttons; False when there is nothing to offer."""
    assert conv.current is not None
    device = conv.current.device
    options = device.options(name, catalogue())
    if not options and name == "model":
        options = tuple(m.model for m in catalogue().offered(device.brand, device.device_type))
    if not options:
        return False
    conv.field, conv.options, conv.page = name, options, 0
    lang = conv.lang
    text = ""
    if conv.current.not_recorded:
        text = t(lang, "quote_not_recorded", model=e(conv.current.not_recorded)) + "\n"
    known = describe(device, lang)
    text += t(lang, f"quote_ask_{name}")
    if known:
        text += f"\n<i>{e(known)}</i>"
    text += "\n" + t(lang, "quote_type_or_press")
    conv.question_text = text
    conv.touched = services(context).clock.time()
    sent = await reply(update, text, reply_markup=question_keyboard(conv))
    conv.question_id = sent.message_id if sent is not None else None
    return True


def describe(device: ParsedDevice, lang: str) -> str:
    """What is known so far, for the question: 苹果 · iPhone 14 Pro · 256GB · 95新 (the grade
    in the reader's language)."""
    condition = value_label(lang, device.condition) if device.condition else None
    parts = [device.model or device.brand, device.storage, device.ram, condition]
    return " · ".join(p for p in parts if p)


def question_keyboard(conv: Conversation) -> InlineKeyboardMarkup:
    lang, token = conv.lang, conv.token
    first = conv.page * PAGE_SIZE
    shown = conv.options[first : first + PAGE_SIZE]
    columns = COLUMNS.get(conv.field or "", 2)
    buttons = [
        InlineKeyboardButton(
            value_label(lang, value),
            callback_data=cb.encode(cb.QuoteAnswer(token, "option", first + i)),
        )
        for i, value in enumerate(shown)
    ]
    rows = [buttons[i : i + columns] for i in range(0, len(buttons), columns)]
    nav = []
    if conv.page > 0:
        nav.append(
            InlineKeyboardButton(
                "◀", callback_data=cb.encode(cb.QuoteAnswer(token, "page", conv.page - 1))
            )
        )
    if first + PAGE_SIZE < len(conv.options):
        nav.append(
            InlineKeyboardButton(
                "▶", callback_data=cb.encode(cb.QuoteAnswer(token, "page", conv.page + 1))
            )
        )
    nav.append(
        InlineKeyboardButton(
            t(lang, "btn_cancel"), callback_data=cb.encode(cb.QuoteAnswer(token, "cancel"))
        )
    )
    rows.append(nav)
    return InlineKeyboardMarkup(rows)


async def on_timeout(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """No answer in time (the ConversationHandler's timeout): drop the state and say so on
    the question itself."""
    assert isinstance(update, Update)
    conv = end_conversation(update, context)
    chat = update.effective_chat
    if conv is not None and chat is not None:
        await close_question(context, chat.id, conv, t(conv.lang, "quote_timed_out"))


async def close_question(
    context: ContextTypes.DEFAULT_TYPE, chat_id: int, conv: Conversation, note: str
) -> None:
    """Keep the question, drop its buttons, and say what happened to it."""
    question_id, conv.question_id = conv.question_id, None
    if question_id is None:
        return
    try:
        await context.bot.edit_message_text(
            f"{conv.question_text}\n{note}",
            chat_id=chat_id,
            message_id=question_id,
            parse_mode=ParseMode.HTML,
        )
    except BadRequest as exc:
        log.info("quote question not edited: %s", exc.message)


def typed_answer(
    device: ParsedDevice, name: str, options: tuple[str, ...], text: str
) -> ParsedDevice | None:
    """The device with a typed answer applied, or None when the text answers nothing."""
    wanted = compact(matching_form(text))
    if not wanted:
        return None
    cat = catalogue()
    for value in options:
        spellings = {
            compact(matching_form(value)),
            compact(matching_form(value_label("en", value))),
        }
        if name in ("storage", "ram"):
            spellings.add(compact(matching_form(value)).removesuffix("b"))  # 256g, 1t
            spellings.add(compact(matching_form(value)).removesuffix("gb"))  # 256
        if wanted in spellings:
            return device.choose(name, value, cat)
    parsed = parse_description(text, cat)
    if name == "model" and parsed.model is None and device.brand:
        parsed = parse_description(f"{device.brand} {text}", cat)
    if name != "model" and parsed.model and parsed.model != device.model:
        return None  # another device: a new description, not an answer
    value = getattr(parsed, name, None)
    if value is None:
        return None
    if name != "model" and value not in options and not (name == "brand" and cat.brand(value)):
        return None
    answered = device.choose(name, value, cat)
    for other in EXTRA_FIELDS:  # "256G 95新" answers more than one question
        extra = getattr(parsed, other)
        if getattr(answered, other) is None and extra and extra in answered.options(other, cat):
            answered = answered.choose(other, extra, cat)
    return answered


# -- quoting and cards --------------------------------------------------------------------


async def fetch_quote(
    update: Update, context: ContextTypes.DEFAULT_TYPE, request: QuoteRequest
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
    context: ContextTypes.DEFAULT_TYPE,
    pending: Pending,
    result: Quote | PlatformError,
    lang: str,
) -> Pending | None:
    """Send the card or the error; a model the platform does not record comes back as a
    question with the closest catalogue models."""
    device = pending.device
    if isinstance(result, Quote):
        await send_card(update, context, result, lang, asking=pending.asking)
        return None
    if isinstance(result, PlatformBadRequest) and device.device_type in KIND_TYPES:
        kind = t(lang, f"quote_kind_{KIND_TYPES[device.device_type]}")
        await reply(update, t(lang, "quote_kind_not_quoted", kind=kind))
        return None
    if isinstance(result, NotFound) and device.model:
        closest = [
            m.model
            for m in catalogue().closest(device.model, CLOSEST_MODELS + 1, device.device_type)
            if m.model != device.model
        ][:CLOSEST_MODELS]
        if closest:
            retry = replace(
                device,
                model=None,
                device_type=None,
                ambiguous={**device.ambiguous, "model": tuple(closest)},
            )
            return Pending(retry, not_recorded=device.model, asking=pending.asking)
    await reply(update, error_text(result, lang))
    return None


def remember_card(context: ContextTypes.DEFAULT_TYPE, state: CardState) -> str:
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
    context: ContextTypes.DEFAULT_TYPE,
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


# -- buttons ------------------------------------------------------------------------------


async def on_question_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None and context.chat_data is not None
    lang = user_lang(update, context)
    answer = cb.read(query.data, cb.QuoteAnswer)
    token = answer.token
    conv = active_conversation(update, context)
    message = query.message
    if (
        conv is None
        or conv.token != token
        or message is None
        or message.message_id != conv.question_id
    ):
        owned = any(
            isinstance(c, Conversation) and c.token == token for c in context.chat_data.values()
        )
        await query.answer(
            t(lang, "not_your_button" if owned else "quote_expired"), show_alert=owned
        )
        return
    chat_id = message.chat.id
    if answer.kind == "cancel":
        end_conversation(update, context)
        await query.answer()
        await close_question(context, chat_id, conv, t(lang, "quote_cancelled"))
        return
    if answer.kind == "page":
        conv.page = answer.index
        await query.answer()
        await query.edit_message_reply_markup(question_keyboard(conv))
        return
    index = answer.index
    if conv.current is None or conv.field is None or not 0 <= index < len(conv.options):
        await query.answer(t(lang, "quote_expired"))
        return
    value = conv.options[index]
    # the state changes before the first await, so a second press finds no question
    conv.current.device = conv.current.device.choose(conv.field, value, catalogue())
    conv.current.not_recorded, conv.field = None, None
    await close_question(context, chat_id, conv, f"✓ {e(value_label(lang, value))}")
    await query.answer()
    await advance(update, context, conv)


async def on_card_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
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


async def on_tradein_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """💱 on a Xianyu card: quote the item's device on Aihuishou, asking for what it omits."""
    query = update.callback_query
    assert query is not None and query.data is not None
    lang = user_lang(update, context)
    ref = cb.read(query.data, cb.TradeIn).ref
    try:
        listing = await services(context).gateway.listing(ref, payer=payer_of(update))
    except PlatformError as exc:
        await query.answer(strip_tags(error_text(exc, lang)), show_alert=True)
        return
    device = tradein_device(listing, catalogue())
    if device is None:
        await query.answer(t(lang, "tradein_no_device"), show_alert=True)
        return
    await query.answer()
    await start_quotes(update, context, [device], lang, asking=listing.price)
