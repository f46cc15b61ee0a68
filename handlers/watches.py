"""/watch, /watches, /unwatch and the buttons that watch, unwatch, chart and show a listing.

    /watch <link or id> [rule]   rule: nothing (any drop), 5% (a drop of 5% or more),
                                 2500 / 250万 / ¥3000 (at or below that price)
    /watches                     the user's watches, numbered
    /unwatch <number>

Callback data (at most 64 bytes):
    w|<ref key>     watch with the default rule (the card's button)
    v|<ref key>     show the listing's card (from an alert)
    h|<sub id>      the watch's price history as a chart
    u|<sub id>      stop watching

A callback that names a watch acts only when the watch belongs to the
user who pressed it; anyone else (a forged or forwarded button) is told so and
nothing changes.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.constants import ParseMode

from clients.base import Found
from clients.models import Listing
from clients.recognise import fold_full_width, recognise
from gateway import Priority
from handlers import callbacks as cb
from handlers import listings
from handlers.alerts import format_price, rule_text
from handlers.cards import duration_text, platform_name, status_text
from handlers.common import (
    continue_in_private,
    error_text,
    is_private,
    reply,
    services,
    strip_tags,
    user_lang,
)
from handlers.context import BotContext, Services
from handlers.message_forms import reading_text, replied_listings
from handlers.texts import plural, t
from storage.watches import Watch, WatchEntry, WatchLimitReached
from watching.poller import DAY, daily_checks_per_listing, watch_cap
from watching.rules import (
    ANY_DROP,
    Rule,
    RuleError,
    RuleInput,
    RuleKind,
    initial_base,
    parse_rule,
    resolve_rule,
)

log = logging.getLogger(__name__)

TITLE_IN_LIST = 60
MESSAGE_BUDGET = 3500  # characters per /watches message (Telegram allows 4096)
BUTTONS_PER_ROW = 5
#: a last word with a digit or a rule sign is a rule attempt (`5%`, `-5%`, `%`, `¥`, `<b>`)
_RULE_LIKE = re.compile(r"[\d%¥$<>=+\-]")
_ANY_WORDS = frozenset({"any", "drop", "任意", "降价", "任何"})


def command_args(text: str | None) -> str:
    """What follows the command (`/watch@bot a b` -> `a b`)."""
    parts = (text or "").split(maxsplit=1)
    return parts[1].strip() if len(parts) > 1 else ""


def split_watch_args(text: str, platforms: tuple[type, ...]) -> tuple[list[Found], RuleInput]:
    """The listing mentions and the rule of `/watch` arguments.

    The rule is the last word when it directly follows the listing mention and has a
    digit (`5%`, `2500`, `250万`) or is an 'any' word. Otherwise the whole text is the
    listing: a pasted share text may well end with a price of its own (`… 350万`),
    which is no rule. Raises `RuleError` for a rule that cannot be used.
    """
    words = text.split()
    if len(words) >= 2:
        last = words[-1]
        rest = text[: text.rstrip().rfind(last)]
        if (
            _RULE_LIKE.search(unicodedata.normalize("NFKC", last)) or last.lower() in _ANY_WORDS
        ) and not recognise(last, platforms):
            found = recognise(rest, platforms)
            if found and not rest[max(f.start + len(f.text) for f in found) :].strip():
                return found, parse_rule(last)
    return recognise(text, platforms), RuleInput(RuleKind.ANY_DROP)


def alert_chat_id(update: Update) -> int:
    """Alerts go to the chat where the watch was made."""
    chat = update.effective_chat
    if chat is not None:
        return chat.id
    assert update.effective_user is not None
    return update.effective_user.id


# -- /watch -------------------------------------------------------------------------------


async def watch_command(update: Update, context: BotContext) -> None:
    lang = user_lang(update, context)
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    s = services(context)
    args = command_args(reading_text(message))  # hidden links written out
    try:
        found, typed = split_watch_args(args, s.listing_clients)
        if not found and len(args.split()) <= 1:
            # `/watch` or `/watch 5%` as a reply: the listing is in the replied message
            found = replied_listings(message, s.listing_clients)
            if found:
                typed = parse_rule(args)
    except RuleError as exc:
        await reply(update, t(lang, exc.reason, rule=rule_word(args)))
        return
    if not args and not found:
        await reply(update, t(lang, "watch_usage"))
        return
    if not found:
        await reply(update, t(lang, "no_listing"))
        return
    if len(found) > 1:
        await reply(update, t(lang, "watch_one_listing"))
        return
    outcome = await listings.resolve_mention(found[0], update, context, lang)
    if outcome.error is not None:
        await reply(update, error_text(outcome.error, lang))
        return
    if outcome.listing is None:  # a question first (which platform, which city)
        # the answer (a button) shows the card; the watch, with the rule typed here,
        # follows from `on_question_answered`
        context.user_data[PENDING_WATCH] = PendingWatch(  # type: ignore[index]  # a user's message: PTB gives user_data
            chat_id=message.chat_id,
            token=found[0].text,
            typed=typed,
            rule_text=rule_word(args),
            asked_at=s.clock.monotonic(),
        )
        await listings.send_outcome(update, context, outcome, lang)
        await reply(update, t(lang, "watch_pick_first"))
        return
    await finish_watch(update, context, outcome.listing, typed, rule_word(args), lang)


def rule_word(args: str) -> str:
    """What the user typed as the rule, for an error message."""
    return html.escape(args.split()[-1]) if args.split() else ""


@dataclass(frozen=True, slots=True)
class PendingWatch:
    """A /watch waiting for the user to say which platform or city an ID is from."""

    chat_id: int
    token: str  # the bare ID or code as typed
    typed: RuleInput
    rule_text: str
    asked_at: float


PENDING_WATCH = "pending_watch"
PENDING_WATCH_TTL = 600.0  # seconds a question keeps the watch that asked it


async def on_question_answered(update: Update, context: BotContext) -> None:
    """After a platform/city button (handled by listings): make the watch that asked for it.

    Runs in a later handler group, once the card is out. The button names the ID; the
    pending watch is the pressing user's own, in this chat, and not older than 10 min.
    """
    query, user = update.callback_query, update.effective_user
    if query is None or query.data is None or user is None or context.user_data is None:
        return
    pending = context.user_data.get(PENDING_WATCH)
    if not isinstance(pending, PendingWatch):
        return
    s = services(context)
    chat = update.effective_chat
    if (
        chat is None
        or chat.id != pending.chat_id
        or s.clock.monotonic() - pending.asked_at > PENDING_WATCH_TTL
    ):
        context.user_data.pop(PENDING_WATCH, None)
        return
    button = cb.decode(query.data)
    ref = button.ref if isinstance(button, cb.PickPlatform | cb.PickCity) else None
    if ref is None:
        return  # a city question comes next; the watch waits for its answer
    if fold_full_width(ref.listing_id).upper() != fold_full_width(pending.token).upper():
        return  # a button of some other question
    context.user_data.pop(PENDING_WATCH, None)
    outcome = await listings.fetch(ref, update, context)  # the card just fetched it: a cache hit
    if outcome.listing is None:
        return  # the card's reply already said what went wrong
    lang = user_lang(update, context)
    await finish_watch(update, context, outcome.listing, pending.typed, pending.rule_text, lang)


async def finish_watch(
    update: Update,
    context: BotContext,
    listing: Listing,
    typed: RuleInput,
    typed_rule: str,
    lang: str,
) -> None:
    try:
        rule = resolve_rule(typed, listing.price_unit)
    except RuleError as exc:
        await reply(update, t(lang, exc.reason, rule=typed_rule))
        return
    try:
        sub, created = await add_watch(update, context, listing, rule)
    except WatchLimitReached as exc:
        await reply(update, limit_text(context, exc, lang))
        return
    text = t(
        lang,
        "watch_started" if created else "watch_updated",
        title=html.escape(listing.title[:200]),
        price=html.escape(format_price(listing.price, listing.price_unit, lang)),
        status=html.escape(status_text(listing, lang)),
        rule=html.escape(rule_text(sub.rule, sub.rule_value, listing.price_unit, lang)),
    )
    if (
        rule.kind is RuleKind.TARGET
        and listing.price is not None
        and rule.value is not None
        and listing.price <= rule.value
    ):
        text += "\n" + t(lang, "watch_target_met")
    text += "\n" + await frequency_text(services(context), listing.platform, lang)
    await reply(update, text)


async def frequency_text(s: Services, platform: str, lang: str) -> str:
    """How often the poll planner can check one of this platform's watched listings."""
    watched = (await s.watches.watched_counts()).get(platform, 1)
    background = s.gateway.daily_allowance(platform, Priority.BACKGROUND)
    checks = daily_checks_per_listing(
        watched=watched,
        background_per_day=background,
        per_second=s.gateway.limits(platform).per_second,
        interval=float(s.settings.alert_interval_seconds),
    )
    every = duration_text(DAY / checks, lang)
    if background is None:
        return t(lang, "watch_frequency_unmetered", every=every)
    name = html.escape(platform_name(platform, lang))
    return t(
        lang,
        "watch_frequency",
        platform=name,
        every=every,
        checks=plural(lang, "n_checks", background),
        listings=plural(lang, "n_listings", watched),
    )


def platform_watch_cap(s: Services, platform: str) -> int:
    """Watches one user may hold on `platform` on this tier (docs/gateway.md, "Fair shares")."""
    return watch_cap(
        max_per_user=s.settings.max_watches_per_user,
        background_per_day=s.gateway.daily_allowance(platform, Priority.BACKGROUND),
        min_checks=s.settings.watch_min_checks_per_day,
    )


def limit_text(context: BotContext, exc: WatchLimitReached, lang: str) -> str:
    if exc.platform is None:
        return t(lang, "watch_limit", listings=plural(lang, "n_listings", exc.limit))
    name = html.escape(platform_name(exc.platform, lang))
    checks = services(context).settings.watch_min_checks_per_day
    return t(
        lang,
        "watch_limit_platform",
        listings=plural(lang, "n_platform_listings", exc.limit, platform=name),
        platform=name,
        times=plural(lang, "n_times", checks),
    )


async def add_watch(
    update: Update, context: BotContext, listing: Listing, rule: Rule
) -> tuple[Watch, bool]:
    s = services(context)
    assert update.effective_user is not None
    base = initial_base(rule, listing.price, listing.status)
    return await s.watches.add(
        user_id=update.effective_user.id,
        chat_id=alert_chat_id(update),
        listing=listing,
        rule=rule.kind.value,
        rule_value=rule.value,
        base_price=base.price,
        max_per_user=s.settings.max_watches_per_user,
        max_on_platform=platform_watch_cap(s, listing.platform),
    )


async def on_watch_button(update: Update, context: BotContext) -> None:
    """The card's 🔔 button: watch with the default rule (an existing watch keeps its rule)."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and query.data is not None and user is not None
    lang = user_lang(update, context)
    s = services(context)
    ref = cb.read(query.data, cb.Watch).ref
    existing = await s.watches.of_user_for(user.id, ref.key, alert_chat_id(update))
    if existing is not None:
        unit = await listing_unit(s, ref.key)
        rule = rule_text(existing.rule, existing.rule_value, unit, lang)
        await query.answer(t(lang, "watch_button_already", rule=rule), show_alert=True)
        return
    outcome = await listings.fetch(ref, update, context)
    if outcome.error is not None:
        await query.answer(strip_tags(error_text(outcome.error, lang)), show_alert=True)
        return
    assert outcome.listing is not None
    try:
        await add_watch(update, context, outcome.listing, ANY_DROP)
    except WatchLimitReached as exc:
        await query.answer(strip_tags(limit_text(context, exc, lang)), show_alert=True)
        return
    await query.answer(t(lang, "watch_button_started"), show_alert=True)


async def listing_unit(s: Services, ref_key: str) -> str:
    listing = await s.watches.listing(ref_key)
    return listing.price_unit if listing else "yuan"


# -- /watches and /unwatch --------------------------------------------------------------------


def checked_text(entry: WatchEntry, now: float, lang: str) -> str:
    when = entry.listing.last_checked_at
    if when is None:
        return t(lang, "checked_never")
    ago = max(0.0, now - when)
    if ago < 60:
        return t(lang, "checked_just_now")
    if ago < 3600:
        return t(lang, "checked_minutes", n=int(ago // 60))
    if ago < 86400:
        return t(lang, "checked_hours", n=int(ago // 3600))
    return t(lang, "checked_days", n=int(ago // 86400))


def watch_line(entry: WatchEntry, now: float, lang: str) -> str:
    listing, sub = entry.listing, entry.watch
    title = (
        listing.title
        if len(listing.title) <= TITLE_IN_LIST
        else (listing.title[:TITLE_IN_LIST] + "…")
    )
    price = format_price(listing.price, listing.price_unit, lang)
    if listing.status != "on_sale":
        price += " · " + t(lang, f"status_{listing.status}")
    line = t(
        lang,
        "watches_line",
        number=entry.number,
        title=html.escape(title),
        price=html.escape(price),
        rule=html.escape(rule_text(sub.rule, sub.rule_value, listing.price_unit, lang)),
        checked=html.escape(checked_text(entry, now, lang)),
    )
    if sub.paused_reason:
        line += " · " + t(lang, "watches_paused")
    return line


def platform_caps_text(s: Services, entries: list[WatchEntry], lang: str) -> Iterator[str]:
    """A line for each platform watched whose tier allows fewer watches than the bot's cap."""
    watched = Counter(entry.listing.platform for entry in entries)
    for platform, count in sorted(watched.items()):
        cap = platform_watch_cap(s, platform)
        if cap < s.settings.max_watches_per_user:
            name = html.escape(platform_name(platform, lang))
            yield "\n" + t(lang, "watches_platform_cap", platform=name, count=count, limit=cap)


async def chat_watches(update: Update, s: Services, user_id: int) -> list[WatchEntry]:
    """The watches /watches lists and /unwatch numbers: in private all of the user's, in a
    group only those made in that group (alerts go there anyway)."""
    chat = update.effective_chat
    in_group = chat is not None and not is_private(update)
    return await s.watches.for_user(user_id, chat.id if in_group and chat is not None else None)


async def watches_command(update: Update, context: BotContext) -> None:
    lang = user_lang(update, context)
    user = update.effective_user
    if user is None:
        return
    s = services(context)
    entries = await chat_watches(update, s, user.id)
    if not entries and await s.watches.count_for_user(user.id):
        await continue_in_private(update, context, "watches")  # watched elsewhere only
        return
    if not entries:
        await reply(update, t(lang, "watches_empty"))
        return
    now = s.clock.time()
    header = t(lang, "watches_header", count=len(entries), limit=s.settings.max_watches_per_user)
    header += "".join(platform_caps_text(s, entries, lang))
    chunks: list[tuple[list[str], list[WatchEntry]]] = [([header], [])]
    size = len(header)
    for entry in entries:
        line = watch_line(entry, now, lang)
        if size + len(line) > MESSAGE_BUDGET:
            chunks.append(([], []))
            size = 0
        chunks[-1][0].append(line)
        chunks[-1][1].append(entry)
        size += len(line) + 1
    chunks[-1][0].append("\n" + t(lang, "watches_footer"))
    for lines, shown in chunks:
        buttons = [
            InlineKeyboardButton(
                t(lang, "btn_unwatch_n", number=e.number),
                callback_data=cb.encode(cb.Unwatch(e.watch.id)),
            )
            for e in shown
        ]
        rows = [buttons[i : i + BUTTONS_PER_ROW] for i in range(0, len(buttons), BUTTONS_PER_ROW)]
        await reply(
            update,
            "\n".join(lines),
            reply_markup=InlineKeyboardMarkup(rows),
        )


async def unwatch_command(update: Update, context: BotContext) -> None:
    lang = user_lang(update, context)
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    arg = command_args(message.text).lstrip("#")
    if not arg:
        await reply(update, t(lang, "unwatch_usage"))
        return
    if not re.fullmatch(r"[0-9]{1,6}", arg):  # ASCII only: '²'.isdigit() is True
        await reply(update, t(lang, "unwatch_bad_number", number=html.escape(arg[:20])))
        return
    s = services(context)
    number = int(arg)
    entries = await chat_watches(update, s, user.id)
    if not 1 <= number <= len(entries):
        await reply(update, t(lang, "unwatch_bad_number", number=number))
        return
    gone = await s.watches.unwatch(entries[number - 1].watch.id, user.id)
    title = gone.title[:200] if gone else entries[number - 1].listing.title[:200]
    await reply(update, t(lang, "unwatch_done", title=html.escape(title)))


# -- buttons that name a watch --------------------------------------------------------


async def on_unwatch_button(update: Update, context: BotContext) -> None:
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    lang = user_lang(update, context)
    sub_id = cb.read(query.data, cb.Unwatch).id
    gone = await services(context).watches.unwatch(sub_id, user.id)
    if gone is None:
        await query.answer(t(lang, "not_your_watch"), show_alert=True)
        return
    await query.answer(strip_tags(t(lang, "unwatch_done", title=gone.title[:100])))


async def on_history_button(update: Update, context: BotContext) -> None:
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    lang = user_lang(update, context)
    s = services(context)
    sub_id = cb.read(query.data, cb.History).id
    sub = await s.watches.owned(sub_id, user.id)
    if sub is None:
        await query.answer(t(lang, "not_your_watch"), show_alert=True)
        return
    # matplotlib is imported on the first chart only: ~25 MB the bot need not hold otherwise
    from handlers.chart import has_prices, render_price_chart

    listing = await s.watches.listing(sub.ref_key)
    points = await s.watches.history(sub.ref_key)
    if listing is None or not has_prices(points):
        await query.answer(t(lang, "history_empty"), show_alert=True)
        return
    await query.answer()
    now = s.clock.time()
    # drawing takes ~0.2 s of CPU: keep the event loop free for everyone else
    png = await asyncio.to_thread(render_price_chart, points, listing.price_unit, now=now)
    caption = t(
        lang,
        "history_caption",
        title=html.escape(listing.title[:200]),
        price=html.escape(format_price(listing.price, listing.price_unit, lang)),
        lowest=html.escape(format_price(listing.lowest_price, listing.price_unit, lang)),
    )
    chat_id = query.message.chat.id if query.message else user.id
    await context.bot.send_photo(
        chat_id,
        InputFile(png, filename="price-history.png"),
        caption=caption,
        parse_mode=ParseMode.HTML,
    )


async def on_view_card_button(update: Update, context: BotContext) -> None:
    """An alert's 📄 button: the listing's card, as for a pasted link."""
    query = update.callback_query
    assert query is not None and query.data is not None
    lang = user_lang(update, context)
    ref = cb.read(query.data, cb.ViewCard).ref
    await query.answer()
    outcome = await listings.fetch(ref, update, context)
    await listings.send_outcome(update, context, outcome, lang)
