"""Price-alert rules: what a user asked for, and whether an observation meets it.

Pure functions and frozen dataclasses only (no Telegram, no SQL), so every case
can be tested exhaustively.

A watch keeps an explicit comparison *base*: the price and status the user
last heard about (when they started watching, or the last alert). Each check
compares the observed listing with that base, never with the first price ever
seen, so a rule alerts again on each further drop:

- any drop: every on-sale price below the base price alerts; the base becomes it;
- a drop of at least N percent: a price at or below `base * (1 - N/100)` alerts;
  the base becomes it, so each further N percent alerts again;
- at or below a target: the first price at or below the target alerts (also at the
  first check when it already is); after that only a price below the last
  alerted one. The base price starts empty: nothing has been alerted yet.

Every rule also alerts when the listing goes off sale (sold, rented, taken down)
and when it comes back on sale. A move between two off-sale states (sold, then
taken down) tells the user nothing new and only moves the base. Prices are not
compared while the listing is off sale.

Rules are typed by the user (`5%`, `2500`, `250万`, `¥3000`) and resolved against
the listing's price unit: a bare number is in the unit the card shows, `万` means
ten thousand yuan, `元`/`¥` means yuan.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum

from clients.models import ListingStatus, PriceUnit

#: a bare number at least this large for a listing priced in 万 is read as yuan
#: (nobody means a 1,000,000万 flat; everybody who types 3000000 means ¥3,000,000)
BARE_YUAN_THRESHOLD = Decimal(100_000)
WAN = Decimal(10_000)
MAX_PERCENT = Decimal(100)
#: the percentages a user may ask for: a drop of 1 % to 99 %
PERCENT_RANGE = (Decimal(1), Decimal(99))
#: targets a real listing can have, per price unit, in that unit: ¥1 up to ¥1bn for a
#: home, ¥1m a month for a rent, ¥10m for an item. Anything else is a typo or an attack
#: (a 3,000-digit target made every alert too long for Telegram).
TARGET_RANGE: dict[PriceUnit, tuple[Decimal, Decimal]] = {
    PriceUnit.WAN_YUAN: (Decimal("0.0001"), Decimal(100_000)),
    PriceUnit.YUAN_PER_MONTH: (Decimal(1), Decimal(1_000_000)),
    PriceUnit.YUAN: (Decimal(1), Decimal(10_000_000)),
}
MAX_INTEGER_DIGITS = 12  # more is out of every range: refused before any arithmetic


class RuleKind(StrEnum):
    ANY_DROP = "any_drop"
    PERCENT = "percent"
    TARGET = "target"


class Change(StrEnum):
    """One thing an alert tells the user."""

    PRICE_DROP = "price_drop"  # any drop / percent rule met
    TARGET_REACHED = "target_reached"
    SOLD = "sold"
    RENTED = "rented"
    TAKEN_DOWN = "taken_down"
    BACK_ON_SALE = "back_on_sale"


_OFF_SALE_CHANGE = {
    ListingStatus.SOLD: Change.SOLD,
    ListingStatus.RENTED: Change.RENTED,
    ListingStatus.TAKEN_DOWN: Change.TAKEN_DOWN,
}


class RuleError(ValueError):
    """The rule text cannot be used; `reason` is a text key for the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Rule:
    """A resolved rule: `value` is N for percent, the target price (listing's unit) for target."""

    kind: RuleKind
    value: Decimal | None = None

    def __post_init__(self) -> None:
        if self.kind is RuleKind.ANY_DROP:
            if self.value is not None:
                raise ValueError("any-drop rule takes no value")
        elif self.value is None or self.value <= 0:
            raise ValueError(f"{self.kind} rule needs a positive value")
        elif self.kind is RuleKind.PERCENT and self.value >= MAX_PERCENT:
            raise ValueError("percent must be below 100")


ANY_DROP = Rule(RuleKind.ANY_DROP)


@dataclass(frozen=True, slots=True)
class RuleInput:
    """A rule as typed, before the listing's price unit is known.

    `unit` is `listing` (bare number), `yuan` or `wan`.
    """

    kind: RuleKind
    value: Decimal | None = None
    unit: str = "listing"


@dataclass(frozen=True, slots=True)
class Base:
    """What the user last heard about: the comparison base of a watch.

    `version` counts the alerts so far; with the change it makes the alert's unique key.
    """

    price: Decimal | None
    status: ListingStatus
    version: int = 0


@dataclass(frozen=True, slots=True)
class Observation:
    price: Decimal | None
    status: ListingStatus


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of one observation for one watch.

    `changes` is empty when there is nothing to tell; `base` is the base from now on
    (it can move without an alert, e.g. sold -> taken down).
    """

    changes: tuple[Change, ...]
    base: Base
    old_price: Decimal | None
    new_price: Decimal | None
    status: ListingStatus

    @property
    def alert(self) -> bool:
        return bool(self.changes)

    def key(self, watch_id: int, previous: Base) -> str:
        """Unique per watch and observed change: the same change can never alert twice.

        Built from the base the change was measured against (its version) and what was
        seen, so a second evaluation of the same observation (two overlapping cycles, a
        replay after a crash) yields the same key.
        """
        changes = "+".join(c.value for c in self.changes)
        price = "-" if self.new_price is None else format(self.new_price.normalize(), "f")
        return f"{watch_id}:v{previous.version}:{changes}:{price}:{self.status.value}"


def initial_base(rule: Rule, price: Decimal | None, status: ListingStatus) -> Base:
    """The base when the user starts watching.

    Drop rules compare with the price when watched; a target rule has alerted nothing
    yet, so its base price is empty and the first price at or below target alerts.
    """
    if rule.kind is RuleKind.TARGET:
        return Base(None, status)
    return Base(price, status)


def evaluate(rule: Rule, base: Base, seen: Observation) -> Verdict:
    changes: list[Change] = []
    status = base.status
    # a status word we do not know says nothing we could alert on
    if seen.status is not base.status and seen.status is not ListingStatus.OTHER:
        if seen.status is ListingStatus.ON_SALE:
            changes.append(Change.BACK_ON_SALE)
        elif base.status is ListingStatus.ON_SALE:
            changes.append(_OFF_SALE_CHANGE[seen.status])
        status = seen.status

    price = base.price
    if seen.status is ListingStatus.ON_SALE and seen.price is not None:
        drop = _price_change(rule, base.price, seen.price)
        if drop is not None:
            changes.append(drop)
            price = seen.price
        elif base.price is None and rule.kind is not RuleKind.TARGET:
            # watched while the listing showed no price: its first price becomes the base
            price = seen.price

    version = base.version + 1 if changes else base.version
    return Verdict(
        changes=tuple(changes),
        base=Base(price, status, version),
        old_price=base.price,
        new_price=seen.price,
        status=seen.status,
    )


def _price_change(rule: Rule, base: Decimal | None, price: Decimal) -> Change | None:
    if rule.kind is RuleKind.TARGET:
        assert rule.value is not None
        if price <= rule.value and (base is None or price < base):
            return Change.TARGET_REACHED
        return None
    if base is None:
        return None
    if rule.kind is RuleKind.ANY_DROP:
        return Change.PRICE_DROP if price < base else None
    assert rule.value is not None
    threshold = base * (1 - rule.value / MAX_PERCENT)
    return Change.PRICE_DROP if price <= threshold else None


def change_percent(old: Decimal | None, new: Decimal | None) -> Decimal | None:
    """(new - old) / old in percent, one decimal place; None when it cannot be told."""
    if old is None or new is None or old == 0:
        return None
    return ((new - old) / old * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


# -- parsing what the user typed ------------------------------------------------------

_NUMBER = r"(\d+(?:\.\d{1,4})?)"
_PERCENT = re.compile(rf"(-?){_NUMBER}%")
_PRICE = re.compile(rf"(?:¥|rmb|cny)?{_NUMBER}(万元|万|w|元|yuan|rmb|cny|k)?")
_ANY_WORDS = frozenset({"any", "drop", "anydrop", "任意", "降价", "任何"})


def parse_rule(text: str) -> RuleInput:
    """`''`/`any` -> any drop, `5%` -> percent, `2500`/`250万`/`¥3000`/`3k` -> target.

    Raises `RuleError` with a text key (`rule_unknown`, `rule_percent_range`,
    `rule_price_range`).
    """
    flat = unicodedata.normalize("NFKC", text).strip().lower().replace(",", "").replace(" ", "")
    if not flat or flat in _ANY_WORDS:
        return RuleInput(RuleKind.ANY_DROP)
    if m := _PERCENT.fullmatch(flat):
        value = _decimal(m.group(2))
        low, high = PERCENT_RANGE
        if m.group(1) or not (low <= value <= high):  # `-5%` is no 5 % drop
            raise RuleError("rule_percent_range")
        return RuleInput(RuleKind.PERCENT, value.normalize())
    if m := _PRICE.fullmatch(flat):
        if len(m.group(1).split(".")[0]) > MAX_INTEGER_DIGITS:
            raise RuleError("rule_price_range")
        value = _decimal(m.group(1))
        suffix = m.group(2) or ""
        unit = "listing"
        if suffix in ("万元", "万", "w"):
            unit = "wan"
        elif suffix == "k":
            value, unit = value * 1000, "yuan"
        elif suffix or flat.startswith(("¥", "rmb", "cny")):
            unit = "yuan"
        if value <= 0:
            raise RuleError("rule_price_range")
        return RuleInput(RuleKind.TARGET, value, unit)
    raise RuleError("rule_unknown")


def resolve_rule(typed: RuleInput, unit: PriceUnit) -> Rule:
    """The rule in the listing's own price unit."""
    if typed.kind is not RuleKind.TARGET:
        return Rule(typed.kind, typed.value)
    assert typed.value is not None
    value = typed.value
    if unit is PriceUnit.WAN_YUAN:
        if typed.unit == "yuan" or (typed.unit == "listing" and value >= BARE_YUAN_THRESHOLD):
            value = value / WAN
    elif typed.unit == "wan":
        value = value * WAN
    low, high = TARGET_RANGE[unit]
    if not (low <= value <= high):
        raise RuleError("rule_price_range")
    return Rule(RuleKind.TARGET, value.normalize())


def _decimal(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation as exc:  # the regexes make this unreachable; kept for safety
        raise RuleError("rule_unknown") from exc
