"""Is it a good deal? The buttons that answer what a buyer asks after the card.

- 💡 Fair price? (Xianyu): the asking price against the same items on sale and the
  item's past sales (one call with the tier's `fields`, cached and single-flighted by
  the gateway), the Aihuishou trade-in value as a floor when a quote is cached, and a
  one-line verdict that never guesses: what the tier does not allow is said as such.
- 🧮 Mortgage (Anjuke, Beike sale cards): arithmetic on the listed price (`deals.mortgage`),
  no call of its own; the user's choices are buttons that edit the answer in place.
- 💬 Reviews (Anjuke): `evaluate_list`, asked for only when pressed, a few at a time.

Every upstream call is paid from the presser's budget (`payer_of`). The sums live in
`deals/`; this module only translates and renders.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    LinkPreviewOptions,
    Message,
    ReplyParameters,
    Update,
)
from telegram.constants import ParseMode

from clients.errors import NotPermitted, PlatformError
from clients.models import ItemMarket, Listing, ListingRef, PriceUnit
from clients.privacy import mask_personal_data
from clients.xianyu import (
    MARKET_FIELD_PERMISSION,
    MARKET_FIELD_TIERS,
    XianyuClient,
    first_tier_for,
    market_fields,
)
from clock import CHINA_TZ
from deals.mortgage import DOWN_PAYMENT_PERCENTS, LOAN_YEARS, Method, work_out
from devices.tradein import tradein_device
from gateway import Gateway
from handlers import callbacks as cb
from handlers.cards import (
    REVIEW_PLATFORMS,
    default_down,
    e,
    fact_label,
    kept_answer_line,
    money,
    mortgage_applies,
    platform_name,
    visible_length,
)
from handlers.common import edit_in_place, error_text, payer_of, services, strip_tags, user_lang
from handlers.context import BotContext
from handlers.texts import t

if TYPE_CHECKING:
    from deals.fair_price import OnSale, PastSales  # imported on the first fair price

log = logging.getLogger(__name__)

CAPTION_LIMIT = 1024
REVIEWS_PER_PAGE = 3


def yuan(value: Decimal) -> str:
    """`¥1,014,244.40`, `¥705,000`: to the fen, whole yuan without decimals."""
    fen = value.quantize(Decimal("0.01"))
    amount = f"{int(fen):,}" if fen == fen.to_integral_value() else f"{fen:,.2f}"
    return t("en", "price_yuan", price=amount)


def inline_summary(text: str, *, last_lines: int | None = None) -> str:
    """An answer as a callback alert (Telegram shows at most 200 characters)."""
    plain = html.unescape(re.sub(r"<[^>]+>", "", text))
    lines = [line for line in plain.splitlines() if line.strip()]
    if last_lines is not None:
        lines = lines[-last_lines:]
    summary = "\n".join(lines)
    return summary if len(summary) <= 200 else summary[:199] + "…"


# -- 💡 Fair price? --------------------------------------------------------------------------


async def on_fair_price(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    lang = user_lang(update, context)
    ref = cb.read(query.data, cb.FairPrice).ref
    s = services(context)
    gateway = s.gateway
    if ref.platform != "xianyu":
        await query.answer(t(lang, "fair_not_item"), show_alert=True)
        return
    client = gateway.client_of(XianyuClient)
    tier = client.config.tier or "personal"
    refused: NotPermitted | None = None
    market: ItemMarket | None = None
    try:
        if market_fields(tier):
            market = await gateway.xianyu_market(ref, payer=payer_of(update))
            listing = market.listing
        else:  # nothing more this tier may ask: the card's own answer (cached) is all there is
            listing = await gateway.listing(ref, payer=payer_of(update))
    except NotPermitted as exc:
        refused = exc
        try:
            listing = await gateway.listing(ref, payer=payer_of(update))
        except PlatformError as again:
            await query.answer(strip_tags(error_text(again, lang)), show_alert=True)
            return
    except PlatformError as exc:
        await query.answer(strip_tags(error_text(exc, lang)), show_alert=True)
        return
    now = s.clock.time()
    text, keyboard, sales = fair_price_answer(
        listing, market, lang, tier=tier, refused=refused, now=now, gateway=gateway
    )
    if query.message is None:  # a card shared by inline mode: the verdict, to the presser only
        await query.answer(inline_summary(text, last_lines=1), show_alert=True)
        return
    await query.answer()
    chat_id = query.message.chat.id if query.message else update.effective_chat.id  # type: ignore[union-attr]  # a button always has a chat
    reply_to = query.message.message_id if isinstance(query.message, Message) else None
    if sales is not None and sales.chartable and visible_length(text) <= CAPTION_LIMIT:
        # a chart sent once is sent again by Telegram's file_id (kept with the photos'), so
        # 100 presses on one item draw it once (~0.2 s of CPU) and upload it once
        chart_key = (
            "chart:"
            + listing.ref.key
            + ":"
            + ",".join(f"{sale.when:.0f}={sale.price}" for sale in sales.sales)
        )
        photo: str | InputFile | None = s.photo_ids.get(chart_key)
        if photo is None:
            photo = InputFile(await draw_once(chart_key, sales, now), filename="past-sales.png")
        sent = await context.bot.send_photo(
            chat_id,
            photo,
            caption=text,
            parse_mode=ParseMode.HTML,
            reply_markup=keyboard,
            reply_parameters=ReplyParameters(reply_to) if reply_to else None,
        )
        if sent.photo:
            s.photo_ids.remember(chart_key, sent.photo[-1].file_id)
        return
    await context.bot.send_message(
        chat_id,
        text,
        parse_mode=ParseMode.HTML,
        reply_markup=keyboard,
        reply_parameters=ReplyParameters(reply_to) if reply_to else None,
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    )


#: charts being drawn, by key: presses that arrive together share one drawing
_DRAWING: dict[str, asyncio.Task[bytes]] = {}
#: how many charts were drawn (bench/fair_price.py reads it)
charts_drawn = 0


async def draw_once(key: str, sales: PastSales, now: float) -> bytes:
    """The chart's PNG; one drawing (in a worker thread) however many ask for it at once."""
    task = _DRAWING.get(key)
    if task is None:
        task = asyncio.ensure_future(asyncio.to_thread(sales_chart, sales, now))
        _DRAWING[key] = task
        task.add_done_callback(lambda _t: _DRAWING.pop(key, None))
    return await asyncio.shield(task)


def sales_chart(sales: PastSales, now: float) -> bytes:
    """The past sales in the price-history chart's style (matplotlib loaded on first use)."""
    from handlers.chart import render_price_chart
    from storage.watches import PricePoint

    global charts_drawn
    charts_drawn += 1
    points = [PricePoint(s.price, "on_sale", s.when, s.when, 1) for s in sales.sales]
    return render_price_chart(points, PriceUnit.YUAN.value, now=now)


def fair_price_answer(
    listing: Listing,
    market: ItemMarket | None,
    lang: str,
    *,
    tier: str,
    refused: NotPermitted | None,
    now: float,
    gateway: Gateway,
) -> tuple[str, InlineKeyboardMarkup | None, PastSales | None]:
    """The answer's HTML, its buttons and the past sales (for the chart)."""
    from deals.fair_price import on_sale, past_sales  # on the first answer (and statistics)

    lines = [t(lang, "fair_title", title=e(listing.title[:120]))]
    asking = listing.price
    if asking is not None:
        lines.append(t(lang, "fair_asking", price=yuan(asking)))
    buttons: list[InlineKeyboardButton] = []
    verdict: list[str] = []
    missing: list[str] = []
    allowed = market_fields(tier)
    # -- the same items on sale
    standing: OnSale | None = None
    if refused is not None:
        lines.append(_refused_line(lang, "same_items", refused))
        missing.append(t(lang, "fair_v_missing_same"))
    elif "same_items" not in allowed:
        lines.append(_not_allowed_line(lang, "same_items", tier))
        missing.append(t(lang, "fair_v_missing_same"))
    elif market is not None and market.same_items and asking is not None:
        standing = on_sale(asking, market.same_items)
    if standing is not None:
        lines.append(
            t(
                lang,
                "fair_on_sale",
                count=standing.count,
                lowest=yuan(standing.lowest),
                median=yuan(standing.median),
                cheaper=standing.cheaper,
            )
        )
        for n, item in enumerate(standing.cheapest, 1):
            url = XianyuClient.build_url(item.item_id)
            lines.append(
                t(
                    lang,
                    "fair_cheap_item",
                    n=n,
                    price=yuan(item.price),
                    seller=e(item.seller[:30] or "—"),
                    url=html.escape(url),
                    item_id=e(item.item_id),
                )
            )
            buttons.append(
                InlineKeyboardButton(
                    t(lang, "btn_fair_card", price=yuan(item.price)),
                    callback_data=cb.encode(cb.ViewCard(ListingRef("xianyu", item.item_id))),
                )
            )
        verdict.append(_standing_words(lang, standing))
    elif refused is None and "same_items" in allowed:
        lines.append(t(lang, "fair_on_sale_none"))
        missing.append(t(lang, "fair_v_missing_same"))
    # -- past sales
    sales: PastSales | None = None
    if refused is not None:
        lines.append(_refused_line(lang, "trade_record", refused))
        missing.append(t(lang, "fair_v_missing_sales"))
    elif "trade_record" not in allowed:
        lines.append(_not_allowed_line(lang, "trade_record", tier))
        missing.append(t(lang, "fair_v_missing_sales"))
    else:
        sales = past_sales(market.trade_record or (), now) if market is not None else None
        if sales is None:
            lines.append(t(lang, "fair_sales_none"))
            missing.append(t(lang, "fair_v_missing_sales"))
        else:
            lines.append(
                t(
                    lang,
                    "fair_sales",
                    count=sales.count,
                    low=yuan(sales.low),
                    high=money(sales.high),
                    latest=yuan(sales.latest.price),
                    date=_date(sales.latest.when),
                )
            )
            verdict.append(_sales_words(lang, sales))
    # -- the trade-in floor: a cached quote only, never a second call
    device = tradein_device(listing)
    if device is not None:
        quote = None
        if not device.missing():
            quote = gateway.cached_quote(device.to_request())
        if quote is not None:
            lines.append(t(lang, "fair_floor", price=yuan(quote.final_price)))
            verdict.append(t(lang, "fair_v_floor", price=yuan(quote.final_price)))
        else:
            lines.append(t(lang, "fair_floor_unknown"))
            buttons.append(
                InlineKeyboardButton(
                    t(lang, "btn_tradein"), callback_data=cb.encode(cb.TradeIn(listing.ref))
                )
            )
    # -- the verdict, in plain words
    lines.append("")
    if verdict:
        sentence = "; ".join(verdict)
        lines.append(t(lang, "fair_verdict", verdict=sentence[:1].upper() + sentence[1:]))
    if missing and not verdict:
        lines.append(t(lang, "fair_verdict_none", missing="; ".join(missing)))
    kept = kept_answer_line("xianyu", market.as_of if market else listing.as_of, now, lang)
    if kept:  # a kept answer served past its lifetime (the user's budget is spent): its age
        lines.append(kept)
    keyboard = InlineKeyboardMarkup([buttons[i : i + 3] for i in range(0, len(buttons), 3)])
    return "\n".join(lines), keyboard if buttons else None, sales


def _needed(field: str) -> str:
    tiers = MARKET_FIELD_TIERS[field]
    first = first_tier_for(field)
    return first + (" or above" if len(tiers) > 1 else "")


def _not_allowed_line(lang: str, field: str, tier: str) -> str:
    what = t(lang, "fair_what_same" if field == "same_items" else "fair_what_sales")
    return t(
        lang,
        "fair_not_allowed",
        what=what,
        tier=e(tier),
        permission=MARKET_FIELD_PERMISSION[field],
        needed=_needed(field),
    )


def _refused_line(lang: str, field: str, refused: NotPermitted) -> str:
    what = t(lang, "fair_what_same" if field == "same_items" else "fair_what_sales")
    said = refused.platform_message or ""
    status = f"HTTP {refused.http_status}" if refused.http_status else ""
    words = e(" ".join(w for w in (status, said[:80]) if w) or refused.kind)
    return t(
        lang,
        "fair_refused",
        what=what,
        words=words,
        permission=MARKET_FIELD_PERMISSION[field],
        needed=_needed(field),
    )


def _standing_words(lang: str, standing: OnSale) -> str:
    from deals.fair_price import Standing

    if standing.standing is Standing.CHEAPEST:
        return t(lang, "fair_v_cheapest", count=standing.count)
    if standing.standing is Standing.DEAREST:
        return t(lang, "fair_v_dearest", count=standing.count)
    if standing.standing is Standing.AT:
        return t(lang, "fair_v_at", count=standing.count)
    key = "fair_v_under" if standing.from_median < 0 else "fair_v_over"
    return t(lang, key, amount=yuan(abs(standing.from_median)), count=standing.count)


def _sales_words(lang: str, sales: PastSales) -> str:
    if sales.recent_low is not None and sales.recent_high is not None:
        span = (
            yuan(sales.recent_low)
            if sales.recent_low == sales.recent_high
            else f"{yuan(sales.recent_low)}–{money(sales.recent_high)}"
        )
        return t(lang, "fair_v_sold_month", range=span)
    return t(
        lang, "fair_v_sold_before", price=yuan(sales.latest.price), date=_date(sales.latest.when)
    )


def _date(when: float) -> str:
    return datetime.fromtimestamp(when, CHINA_TZ).strftime("%Y-%m-%d")


# -- 🧮 Mortgage -----------------------------------------------------------------------------


async def on_mortgage(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    lang = user_lang(update, context)
    button = cb.read(query.data, cb.Mortgage)
    s = services(context)
    try:  # the card's own answer, cached: the arithmetic itself calls nobody
        listing = await s.gateway.listing(button.ref, payer=payer_of(update))
    except PlatformError as exc:
        await query.answer(strip_tags(error_text(exc, lang)), show_alert=True)
        return
    if not mortgage_applies(listing):
        await query.answer(t(lang, "mortgage_not_for_sale"), show_alert=True)
        return
    rate = Decimal(str(s.settings.mortgage_rate_percent))
    text = mortgage_text(listing, button, rate, lang)
    keyboard = mortgage_keyboard(listing, button, lang)
    message = query.message
    if message is None:  # a card shared by inline mode: the figures, to the presser only
        lines = text.splitlines()
        await query.answer(inline_summary("\n".join(lines[3:4] + lines[1:3])), show_alert=True)
        return
    if isinstance(message, Message) and message.text and message.text.startswith("🧮"):
        await edit_in_place(query, text, keyboard)  # a choice on the answer: edit it
        await query.answer()
        return
    await query.answer()
    await send_answer(update, context, message, text, keyboard)


async def send_answer(
    update: Update,
    context: BotContext,
    message: object,
    text: str,
    keyboard: InlineKeyboardMarkup | None,
) -> None:
    """A button's answer as a new message, replying to the card the button was on."""
    chat = message.chat if isinstance(message, Message) else update.effective_chat
    assert chat is not None  # a button pressed in a chat (inline buttons answer by alert)
    await context.bot.send_message(
        chat.id,
        text,
        parse_mode=ParseMode.HTML,
        reply_markup=keyboard,
        reply_parameters=ReplyParameters(message.message_id)
        if isinstance(message, Message)
        else None,
    )


def mortgage_text(listing: Listing, button: cb.Mortgage, rate: Decimal, lang: str) -> str:
    assert listing.price is not None
    price = listing.price * 10_000
    method = Method(button.method)
    plan = work_out(
        price,
        down_percent=button.down_percent,
        years=button.years,
        annual_rate_percent=rate,
        method=method,
    )
    lines = [
        t(lang, "mortgage_title", title=e(listing.title[:120])),
        t(
            lang,
            "mortgage_loan",
            price=yuan(price),
            percent=button.down_percent,
            down=yuan(plan.down_payment),
            loan=yuan(plan.loan),
        ),
        t(
            lang,
            "mortgage_terms",
            years=button.years,
            method=t(lang, f"mortgage_method_{method.value}"),
            rate=money(rate),
        ),
    ]
    if method is Method.EQUAL_INSTALMENT:
        lines.append(t(lang, "mortgage_monthly", payment=yuan(plan.first_payment)))
    else:
        lines.append(
            t(
                lang,
                "mortgage_monthly_falling",
                first=yuan(plan.first_payment),
                decrease=yuan(plan.monthly_decrease),
                last=yuan(plan.last_payment),
            )
        )
    lines.append(
        t(
            lang,
            "mortgage_interest",
            interest=yuan(plan.total_interest),
            total=yuan(plan.total_paid),
        )
    )
    lines.append(
        t(
            lang,
            "mortgage_first_split",
            principal=yuan(plan.first_principal),
            interest=yuan(plan.first_interest),
        )
    )
    figures = platform_figures(listing, lang)
    if figures:
        lines.append(
            t(
                lang,
                "mortgage_platform",
                platform=e(platform_name(listing.platform, lang)),
                figures=e(figures),
            )
        )
    lines.append(t(lang, "mortgage_rate_note"))
    return "\n".join(lines)


def platform_figures(listing: Listing, lang: str) -> str:
    """The listing's own 首付 / 月供 (Anjuke's down_payment and loan_month, Beike's 首付 line)."""
    parts = []
    for key in ("down_payment", "monthly_payment"):
        for fact in listing.facts:
            fact_key, _label, value = fact
            if fact_key == key and value.strip():
                parts.append(f"{fact_label(fact, lang)} {value.strip()}")
                break
    return " · ".join(parts)


def mortgage_keyboard(listing: Listing, button: cb.Mortgage, lang: str) -> InlineKeyboardMarkup:
    ref = button.ref
    downs = sorted({*DOWN_PAYMENT_PERCENTS, default_down(listing)})

    def mark(label: str, chosen: bool) -> str:
        return f"✓ {label}" if chosen else label

    row_down = [
        InlineKeyboardButton(
            mark(f"{d}%", d == button.down_percent),
            callback_data=cb.encode(cb.Mortgage(ref, d, button.years, button.method)),
        )
        for d in downs
    ]
    row_years = [
        InlineKeyboardButton(
            mark(t(lang, "btn_mortgage_years", years=y), y == button.years),
            callback_data=cb.encode(cb.Mortgage(ref, button.down_percent, y, button.method)),
        )
        for y in LOAN_YEARS
    ]
    row_method = [
        InlineKeyboardButton(
            mark(t(lang, f"mortgage_method_{m.value}"), m.value == button.method),
            callback_data=cb.encode(cb.Mortgage(ref, button.down_percent, button.years, m.value)),
        )
        for m in Method
    ]
    return InlineKeyboardMarkup([row_down, row_years, row_method])


# -- 💬 Reviews ------------------------------------------------------------------------------


async def on_reviews(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    lang = user_lang(update, context)
    button = cb.read(query.data, cb.Reviews)
    if button.ref.platform not in REVIEW_PLATFORMS:
        await query.answer(t(lang, "reviews_not_here"), show_alert=True)
        return
    s = services(context)
    try:
        listing = await s.gateway.listing(button.ref, payer=payer_of(update))
        reviews = await s.gateway.anjuke_reviews(button.ref, payer=payer_of(update))
    except PlatformError as exc:
        await query.answer(strip_tags(error_text(exc, lang)), show_alert=True)
        return
    text, keyboard = reviews_page(listing, reviews.reviews, button, lang)
    message = query.message
    if message is None:  # a card shared by inline mode: the newest review, to the presser only
        await query.answer(inline_summary("\n".join(text.splitlines()[1:6])), show_alert=True)
        return
    if button.page > 0 or (
        isinstance(message, Message) and message.text and message.text.startswith("💬")
    ):
        await edit_in_place(query, text, keyboard or InlineKeyboardMarkup([]))
        await query.answer()
        return
    await query.answer()
    await send_answer(update, context, message, text, keyboard)


def reviews_page(
    listing: Listing,
    reviews: tuple[Any, ...],
    button: cb.Reviews,
    lang: str,
) -> tuple[str, InlineKeyboardMarkup | None]:
    if not reviews:
        return t(lang, "reviews_none"), None
    pages = (len(reviews) + REVIEWS_PER_PAGE - 1) // REVIEWS_PER_PAGE
    page = min(button.page, pages - 1)
    shown = reviews[page * REVIEWS_PER_PAGE : (page + 1) * REVIEWS_PER_PAGE]
    lines = [
        t(lang, "reviews_title", title=e(listing.title[:120])),
        t(
            lang,
            "reviews_count",
            shown=f"{page * REVIEWS_PER_PAGE + 1}–{page * REVIEWS_PER_PAGE + len(shown)}",
            count=len(reviews),
        ),
    ]
    for review in shown:
        lines.append("")
        lines.append(
            t(
                lang,
                "review_line",
                rating=money(review.rating) if review.rating is not None else "—",
                date=e(review.date or "—"),
                comment=e(mask_personal_data(review.comment)[:400]),
            )
        )
    nav = []
    if page > 0:
        nav.append(
            InlineKeyboardButton(
                t(lang, "btn_reviews_newer"),
                callback_data=cb.encode(cb.Reviews(button.ref, page - 1)),
            )
        )
    if page + 1 < pages:
        nav.append(
            InlineKeyboardButton(
                t(lang, "btn_reviews_older"),
                callback_data=cb.encode(cb.Reviews(button.ref, page + 1)),
            )
        )
    return "\n".join(lines), InlineKeyboardMarkup([nav]) if nav else None
