"""Turn an Aihuishou `Quote` into a chat card: the final price first, then how it was made.

    💱 iPhone 14 Pro · 256GB
    💰 ¥3,906
    ¥4,200 × 0.93 − ¥0 × 1.02 = ¥3,906      (the seed's price model)
    95新 · 正常 · ...
    ⚠️ Aihuishou did not accept condition “95新”, ...   (only when a value of ours was refused)
    🚚 door-to-door 11:00-13:00 · 🏪 in store 2.3 km · 📦 mail-in
    ⏳ valid until 2026-11-24 17:05 (UTC+8)

Every string that came from the platform or the user goes through `html.escape`
here and nowhere else; the card's buttons carry a short token only (the request
itself stays on the server, see `handlers.quotes`).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from decimal import Decimal

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from clients.models import Quote, QuoteRequest, RecycleOption
from handlers import callbacks as cb
from handlers.cards import kept_answer_line
from handlers.texts import t, vocab

#: a very long platform note is cut on the card
NOTE_LIMIT = 200
RECYCLE_ICON = {"上门": "🚚", "到店": "🏪", "邮寄": "📦"}
#: the card's label of each field a refused value may be replaced in (`Quote.substituted`)
FIELD_KEY = {
    "condition": "quote_condition",
    "function_status": "quote_function",
    "repair_history": "quote_repair",
    "purchase_channel": "quote_channel",
}
RECYCLE_KEY = {
    "上门": "quote_recycle_door",
    "到店": "quote_recycle_store",
    "邮寄": "quote_recycle_mail",
}


@dataclass(frozen=True, slots=True)
class QuoteCard:
    text: str
    keyboard: InlineKeyboardMarkup | None


def e(value: object) -> str:
    return html.escape(str(value), quote=False)


def money(amount: Decimal) -> str:
    """¥ with thousands separators; cents only when there are any."""
    if amount == amount.to_integral_value():
        return f"¥{amount:,.0f}"
    return f"¥{amount:,.2f}"


def number(value: Decimal) -> str:
    """A factor without trailing zeros: 0.90 -> 0.9, 1.000 -> 1."""
    text = format(value.normalize(), "f")
    return text


def value_label(lang: str, value: str) -> str:
    """A platform value (condition grade, fault, repair, channel) in the user's language."""
    return vocab(lang, value)


def device_title(request: QuoteRequest) -> str:
    parts = [request.model, request.storage]
    if request.ram:
        parts.append(request.ram)
    return " · ".join(p for p in parts if p)  # a watch may have no storage


def recycle_text(option: RecycleOption, lang: str) -> str:
    key = RECYCLE_KEY.get(option.kind)
    label = t(lang, key) if key else option.kind
    text = f"{RECYCLE_ICON.get(option.kind, '♻️')} {e(label)}"
    if option.time_window:
        text += f" {e(option.time_window)}"
    if option.store_distance_km is not None:
        text += " " + e(t(lang, "quote_store_km", km=number(option.store_distance_km)))
    return text


def render_quote(
    quote: Quote,
    lang: str,
    token: str | None = None,
    *,
    sandbox: bool = False,
    now: float | None = None,
    asking: Decimal | None = None,
) -> QuoteCard:
    """The card; `asking` (a listing's asking price) adds the trade-in comparison."""
    req = quote.request
    lines = [
        f"💱 <b>{e(device_title(req))}</b>",
        f"💰 <b>{e(money(quote.final_price))}</b>",
    ]
    if asking is not None:
        compared = t(lang, "tradein_compare", asking=money(asking), pays=money(quote.final_price))
        lines.append(f"🏷 {e(compared)}")
    lines += [
        e(
            t(
                lang,
                "quote_breakdown",
                base=money(quote.base_price),
                discount=number(quote.condition_discount),
                deduction=money(quote.function_deduction),
                coefficient=number(quote.market_coefficient),
                final=money(quote.final_price),
            )
        ),
        "",
        f"{e(t(lang, 'quote_condition'))}: {e(value_label(lang, req.condition))}",
        f"{e(t(lang, 'quote_function'))}: {e(value_label(lang, req.function_status))}",
    ]
    if req.repair_history:
        lines.append(f"{e(t(lang, 'quote_repair'))}: {e(value_label(lang, req.repair_history))}")
    if req.purchase_channel:
        lines.append(f"{e(t(lang, 'quote_channel'))}: {e(value_label(lang, req.purchase_channel))}")
    for name, refused, used in quote.substituted:
        text = t(
            lang,
            "quote_seed_value",
            field=t(lang, FIELD_KEY[name]) if name in FIELD_KEY else name,
            refused=value_label(lang, refused),
            used=value_label(lang, used),
        )
        lines.append(f"⚠️ {e(text)}")
    if quote.spec:
        spec = quote.spec if len(quote.spec) <= NOTE_LIMIT else quote.spec[:NOTE_LIMIT] + "…"
        lines.append(f"{e(t(lang, 'quote_spec'))}: {e(spec)}")
    if quote.recycle_options:
        lines.append("")
        lines.append(e(t(lang, "quote_recycle")))
        lines.extend(recycle_text(option, lang) for option in quote.recycle_options)
    if quote.valid_until:
        lines.append("")
        lines.append("⏳ " + e(t(lang, "quote_valid_until", time=quote.valid_until)))
    footer = e(t(lang, "platform_aihuishou"))
    if quote.device_id:
        footer += f" · <code>{e(quote.device_id)}</code>"
    if sandbox:
        footer += f" · 🧪 {e(t(lang, 'sandbox'))}"
    lines.append("")
    lines.append(footer)
    kept = kept_answer_line("aihuishou", quote.as_of, now, lang)
    if kept:
        lines.append(kept)
    return QuoteCard("\n".join(lines), card_keyboard(token, lang) if token else None)


def card_keyboard(token: str, lang: str) -> InlineKeyboardMarkup:
    """Change condition, change function status (each re-quotes with one change), again."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t(lang, "btn_quote_condition"),
                    callback_data=cb.encode(cb.QuoteCardAction(token, "c")),
                ),
                InlineKeyboardButton(
                    t(lang, "btn_quote_function"),
                    callback_data=cb.encode(cb.QuoteCardAction(token, "f")),
                ),
            ],
            [
                InlineKeyboardButton(
                    t(lang, "btn_quote_again"),
                    callback_data=cb.encode(cb.QuoteCardAction(token, "r")),
                )
            ],
        ]
    )
