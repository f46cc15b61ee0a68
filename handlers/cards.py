"""Turn a `Listing` into a chat card: HTML text, the main photo and inline buttons.

Every string that came from a platform goes through `html.escape` here and
nowhere else; text keys come from `handlers.texts`.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeAlias

from cachetools import LRUCache
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from clients.bounds import approx_bytes
from clients.models import Fact, Listing, ListingKind, ListingStatus, PriceUnit
from deals.mortgage import Method
from devices.tradein import tradein_device
from handlers import callbacks as cb
from handlers.texts import LANGUAGES, label, t, vocab

CAPTION_LIMIT = 1024
TITLE_LIMIT = 200  # a 300-character title is cut on the card, kept whole on the platform

KIND_ICON = {
    ListingKind.SALE: "🏠",
    ListingKind.RENT: "🔑",
    ListingKind.NEW_HOME: "🏗",
    ListingKind.COMMERCIAL: "🏢",
    ListingKind.ITEM: "🛍",
}
STATUS_ICON = {
    ListingStatus.ON_SALE: "🟢",
    ListingStatus.SOLD: "🔴",
    ListingStatus.RENTED: "🔴",
    ListingStatus.TAKEN_DOWN: "⚫",
    ListingStatus.OTHER: "⚪",
}
#: facts shown on the card, in this order when present; others follow in the platform's order
FIRST_FACTS = (
    "layout",
    "area",
    "floor",
    "orientation",
    "community",
    "district",
    "decoration",
    "built_year",
    "condition",
    "location",
    "shipping",
    "seller_rating",
)
#: price_trend is shown on the price line, not as a fact
HIDDEN_FACTS = frozenset({"param", "house_code", "price_trend"})
#: facts whose values are a seed's fixed words (grades, shipping, guarantees), translated
#: for English readers; every other value is the platform's own and stays as written
VOCABULARY_FACTS = frozenset({"condition", "shipping", "guarantee", "seller_level"})
MAX_FACTS = 12
#: platforms whose sale cards get 🧮 Mortgage, and those whose cards get 💬 Reviews
MORTGAGE_PLATFORMS = frozenset({"anjuke", "beike"})
REVIEW_PLATFORMS = frozenset({"anjuke"})
#: the seed's `loan_month` is worked out over 30 years (按 30 年商贷基准利率计算)
DEFAULT_YEARS = 30
DEFAULT_DOWN = 30


#: a card's keyboard as plain data: rows of (text, callback_data, url), strings or None
KeyboardRows: TypeAlias = tuple[tuple[tuple[str, str | None, str | None], ...], ...]


@dataclass(frozen=True, slots=True)
class Card:
    """A listing's card. Its keyboard is kept as plain data (`rows`) and as the Bot API's
    InlineKeyboardMarkup JSON (`markup_json`), both made once per card: a remembered card
    is sent many times (python-telegram-bot would walk the keyboard's objects to serialise
    it on every send, docs/card-cost.md), and strings and tuples of strings are what the
    garbage collector stops walking (docs/gc-walk.md)."""

    text: str  # HTML
    photo: str | None
    rows: KeyboardRows
    visible_length: int = 0  # what Telegram counts against its limits
    markup_json: str = ""

    @property
    def fits_caption(self) -> bool:
        return self.visible_length <= CAPTION_LIMIT

    @property
    def keyboard(self) -> InlineKeyboardMarkup:
        """The keyboard as python-telegram-bot's objects (made on each call)."""
        return keyboard_of(self.rows)

    @property
    def markup(self) -> dict[str, Any]:
        """The keyboard as the Bot API's InlineKeyboardMarkup object, for a raw request."""
        markup: dict[str, Any] = json.loads(self.markup_json)
        return markup


def e(value: object) -> str:
    return html.escape(str(value), quote=False)


def money(value: Decimal) -> str:
    """`1234567.50` -> `1,234,567.5`; whole numbers without decimals."""
    normalized = value.normalize()
    if normalized == normalized.to_integral():
        return f"{int(normalized):,}"
    return f"{normalized:,f}"


def price_text(listing: Listing, lang: str) -> str:
    if listing.price is None:
        return "—"
    if listing.price_unit is PriceUnit.WAN_YUAN:
        return t(lang, "price_wan", price=money(listing.price), yuan=money(listing.price * 10000))
    if listing.price_unit is PriceUnit.YUAN_PER_MONTH:
        return t(lang, "price_month", price=money(listing.price))
    return t(lang, "price_yuan", price=money(listing.price))


def status_text(listing: Listing, lang: str) -> str:
    if listing.status is ListingStatus.OTHER and listing.status_word:
        return vocab(lang, listing.status_word)  # the platform's word, escaped by the caller
    if listing.status is ListingStatus.ON_SALE and listing.kind is ListingKind.RENT:
        return t(lang, "status_on_rent")
    return t(lang, f"status_{listing.status.value}")


def platform_name(platform: str, lang: str) -> str:
    return t(lang, f"platform_{platform}")


def duration_text(seconds: float, lang: str) -> str:
    """`5 h 12 min`, `40 min`, `3 d`: a wait or an age in the user's terms (never 0 min)."""
    minutes = max(1, round(seconds / 60))
    if minutes < 60:
        return t(lang, "duration_minutes", m=minutes)
    if minutes < 24 * 60:
        return t(lang, "duration_hours", h=minutes // 60, m=minutes % 60)
    return t(lang, "duration_days", d=minutes // (24 * 60))


def kept_answer_line(
    platform: str, as_of: float | None, now: float | None, lang: str
) -> str | None:
    """The age note of an answer kept past its lifetime (the gateway sets `as_of`)."""
    if as_of is None or now is None:
        return None
    age = duration_text(max(0.0, now - as_of), lang)
    return (
        "<i>" + e(t(lang, "kept_answer", age=age, platform=platform_name(platform, lang))) + "</i>"
    )


def render_card(
    listing: Listing, lang: str, *, sandbox: bool = False, now: float | None = None
) -> Card:
    title = (
        listing.title if len(listing.title) <= TITLE_LIMIT else listing.title[:TITLE_LIMIT] + "…"
    )
    lines = [f"{KIND_ICON.get(listing.kind, '📄')} <b>{e(title)}</b>"]

    price_line = f"💰 <b>{e(price_text(listing, lang))}</b>"
    if listing.unit_price is not None:
        price_line += " · " + e(t(lang, "unit_price", price=money(listing.unit_price)))
    if listing.original_price is not None and listing.original_price > (listing.price or 0):
        price_line += (
            " · <s>" + e(t(lang, "original_price", price=money(listing.original_price))) + "</s>"
        )
    trend = (listing.fact("price_trend") or "").strip()
    if trend:
        icon = "📉" if trend.startswith(("-", "−", "下")) else "📈"
        price_line += f" · {icon} " + e(t(lang, "price_trend", trend=trend))
    lines.append(price_line)
    lines.append(f"{STATUS_ICON[listing.status]} {e(status_text(listing, lang))}")

    lines.append("")
    for fact in ordered_facts(listing):
        lines.append(f"{e(fact_label(fact, lang))}: {e(fact_value(fact, lang))}")
    if listing.tags:
        lines.append("🏷 " + " · ".join(e(vocab(lang, tag)) for tag in listing.tags[:8]))
    if listing.agent:
        role = "seller" if listing.kind is ListingKind.ITEM else "agent"
        lines.append(f"👤 {e(t(lang, role))}: {e(listing.agent)}")

    footer = f"{e(platform_name(listing.platform, lang))} · <code>{e(listing.listing_id)}</code>"
    if sandbox:
        footer += f" · 🧪 {e(t(lang, 'sandbox'))}"
    lines.append("")
    lines.append(footer)
    kept = kept_answer_line(listing.platform, listing.as_of, now, lang)
    if kept:
        lines.append(kept)
    text = "\n".join(lines)
    keyboard = card_keyboard(listing, lang)
    rows = keyboard_rows(keyboard)
    if rows is None:  # card_keyboard makes callback and url buttons only
        raise TypeError("a card's buttons are callback or url buttons")
    return Card(
        text=text,
        visible_length=visible_length(text),
        photo=listing.photos[0] if listing.photos else None,
        rows=rows,
        markup_json=json.dumps(keyboard.to_dict(), ensure_ascii=False, separators=(",", ":")),
    )


#: bytes of rendered cards kept (each with the listing it was made from), least recently
#: used forgotten first: about 1,000 cards of real listings, 50 of the largest hostile ones
CARDS_BYTES = 8 * 1024 * 1024
#: a remembered card: the listing it shows (by identity), its text, photo, visible length,
#: keyboard rows, keyboard JSON and estimated bytes. Not the `Card` itself (a dataclass the
#: garbage collector walks in every full collection, and with python-telegram-bot's
#: keyboard 16 objects, 16,000 for a full cache): a tuple of strings, tuples and numbers it
#: stops walking (tests/test_gc_walk.py)
_Remembered: TypeAlias = tuple[Listing, str, str | None, int, KeyboardRows, str, int]
_RENDERED: LRUCache[tuple[str, str, bool], _Remembered] = LRUCache(
    maxsize=CARDS_BYTES, getsizeof=lambda kept: kept[6]
)


def keyboard_rows(keyboard: InlineKeyboardMarkup) -> KeyboardRows | None:
    """The keyboard as rows of (text, callback_data, url); None when a button has more."""
    rows = []
    for row in keyboard.inline_keyboard:
        buttons = []
        for button in row:
            data, url = button.callback_data, button.url
            if not (data is None or isinstance(data, str)) or button.to_dict().keys() - {
                "text",
                "callback_data",
                "url",
            }:
                return None
            buttons.append((button.text, data, url))
        rows.append(tuple(buttons))
    return tuple(rows)


def keyboard_of(rows: KeyboardRows) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        tuple(
            tuple(
                InlineKeyboardButton(text, callback_data=data, url=url) for text, data, url in row
            )
            for row in rows
        )
    )


def card_bytes(listing: Listing, card: Card) -> int:
    """What a remembered card weighs: its text, photo, keyboard (as rows and as JSON) and
    the listing it shows."""
    return (
        approx_bytes(listing)
        + approx_bytes(card.text)
        + approx_bytes(card.photo)
        + approx_bytes(card.rows)
        + approx_bytes(card.markup_json)
    )


def card_for(
    listing: Listing, lang: str, *, sandbox: bool = False, now: float | None = None
) -> Card:
    """`render_card`, remembered while the gateway keeps handing out the same cached answer.

    Cache hits return the very same `Listing` object, so identity tells that nothing
    changed; building the HTML and the keyboard costs more than the rest of a cached reply.
    """
    key = (listing.ref.key, lang, sandbox)
    hit = _RENDERED.get(key)  # a hit is the most recently used now
    if hit is not None and hit[0] is listing:
        _, text, photo, length, rows, markup_json, _ = hit
        return Card(text, photo, rows, length, markup_json)
    card = render_card(listing, lang, sandbox=sandbox, now=now)
    size = card_bytes(listing, card)
    if size <= CARDS_BYTES:
        _RENDERED[key] = (
            listing,
            card.text,
            card.photo,
            card.visible_length,
            card.rows,
            card.markup_json,
            size,
        )
    return card


def remembered_cards() -> tuple[int, int]:
    """Rendered cards remembered, and their bytes (estimated)."""
    return len(_RENDERED), int(_RENDERED.currsize)


def fact_label(fact: Fact, lang: str) -> str:
    """Our label for the fact's key, else the platform's field name in the reader's language."""
    fact_key, platform_label, _value = fact
    key = f"fact_{fact_key}"
    return t(lang, key) if key in LANGUAGES.get(lang, {}) else label(lang, platform_label)


def fact_value(fact: Fact, lang: str) -> str:
    """The platform's value as written, except a seed's fixed words (`九成新`, `包邮`)."""
    key, _label, value = fact
    if key not in VOCABULARY_FACTS:
        return value
    words = [vocab(lang, part) for part in value.split("、")]
    return "、".join(words) if lang == "zh" else ", ".join(words)


def ordered_facts(listing: Listing) -> list[Fact]:
    # a fact is (key, label, value)
    facts = [f for f in listing.facts if f[0] not in HIDDEN_FACTS and f[2].strip()]
    rank = {key: i for i, key in enumerate(FIRST_FACTS)}
    facts.sort(key=lambda f: rank.get(f[0], len(rank)))  # stable: platform order after
    return facts[:MAX_FACTS]


def card_keyboard(listing: Listing, lang: str) -> InlineKeyboardMarkup:
    ref = listing.ref
    rows = [
        [
            InlineKeyboardButton(t(lang, "btn_watch"), callback_data=cb.encode(cb.Watch(ref))),
            InlineKeyboardButton(t(lang, "btn_refresh"), callback_data=cb.encode(cb.Refresh(ref))),
        ]
    ]
    second = []
    if len(listing.photos) > 1:
        second.append(
            InlineKeyboardButton(
                t(lang, "btn_photos", count=min(10, len(listing.photos))),
                callback_data=cb.encode(cb.Photos(ref)),
            )
        )
    if tradein_device(listing) is not None:
        second.append(
            InlineKeyboardButton(t(lang, "btn_tradein"), callback_data=cb.encode(cb.TradeIn(ref)))
        )
    if listing.url.startswith(("https://", "http://")):
        second.append(
            InlineKeyboardButton(
                t(lang, "btn_open", platform=platform_name(listing.platform, lang)), url=listing.url
            )
        )
    if second:
        rows.append(second)
    deals = deal_buttons(listing, lang)
    if deals:
        rows.append(deals)
    return InlineKeyboardMarkup(rows)


# -- the buttons that answer "is it a good deal?" (handlers/deals.py answers them) -----------


def deal_buttons(listing: Listing, lang: str) -> list[InlineKeyboardButton]:
    ref = listing.ref
    buttons = []
    if listing.platform == "xianyu" and listing.kind is ListingKind.ITEM:
        buttons.append(
            InlineKeyboardButton(
                t(lang, "btn_fair_price"), callback_data=cb.encode(cb.FairPrice(ref))
            )
        )
    if mortgage_applies(listing):
        first = cb.Mortgage(
            ref, default_down(listing), DEFAULT_YEARS, Method.EQUAL_INSTALMENT.value
        )
        buttons.append(
            InlineKeyboardButton(t(lang, "btn_mortgage"), callback_data=cb.encode(first))
        )
    if listing.platform in REVIEW_PLATFORMS:
        buttons.append(
            InlineKeyboardButton(t(lang, "btn_reviews"), callback_data=cb.encode(cb.Reviews(ref)))
        )
    return buttons


def mortgage_applies(listing: Listing) -> bool:
    return (
        listing.platform in MORTGAGE_PLATFORMS
        and listing.kind in (ListingKind.SALE, ListingKind.NEW_HOME)
        and listing.price_unit is PriceUnit.WAN_YUAN
        and listing.price is not None
        and listing.price > 0
    )


def default_down(listing: Listing) -> int:
    """The seed's `down_payment` (参考首付比例, %) when the answer has one, else 30 %."""
    seed = _percent(listing.fact("down_payment") or "") if listing.platform == "anjuke" else None
    return seed if seed is not None else DEFAULT_DOWN


def _percent(text: str) -> int | None:
    match = re.fullmatch(r"\s*(\d{1,2})(?:\.0+)?\s*%?\s*", text)
    return int(match.group(1)) if match and 0 < int(match.group(1)) < 100 else None


def visible_length(html_text: str) -> int:
    """Length of the text a user sees (tags removed, entities decoded) in UTF-16 code units,
    which is how Telegram counts its limits."""
    plain = html.unescape(re.sub(r"<[^>]+>", "", html_text))
    return len(plain.encode("utf-16-le")) // 2
