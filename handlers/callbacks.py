"""The one codec for inline buttons' callback_data: every button is built and read here.

Each kind of button is a frozen dataclass with a prefix; `encode` turns one into at most
64 bytes, `decode` turns pressed data back into one, or None for anything malformed or
foreign (unknown prefix, a platform not in the registry, an ID of the wrong shape, a
city Beike does not have, an integer out of range). Handlers are registered with
`matches(kind)` so a malformed button reaches no handler, no platform and no storage;
`handlers/__init__.py` answers it "this button has expired".

    r|<ref key>                refresh a card in place
    p|<ref key>                a card's photos as an album
    w|<ref key>                watch the price
    v|<ref key>                an alert's "view the card"
    ti|<ref key>               a Xianyu card's trade-in value (an Aihuishou quote)
    fp|<ref key>               a Xianyu card's "fair price?" (same items, past sales)
    mg|<ref key>|<down %>|<years>|<i or p>   a sale card's mortgage, with those choices
    rv|<ref key>|<page>        an Anjuke card's reviews, that page
    k|<platform>|<id>          the platform of an ambiguous bare ID
    c|<city id>|<house code>   the city of a Beike code
    h|<watch id>        an alert's price history
    u|<watch id>        unwatch
    ar|<user id>|<offer>       create the offered Anjuke account (that offer)
    ax|<user id>|<offer>       cancel that offer
    fy|<user id>, fn|<user id> /forget: yes / no
    q|<token>|<answer>         a quote question: an option index, `p<page>` or `x` (cancel)
    qa|<token>|<action>        a quote card: `c`, `f`, `c<i>`, `f<i>`, `b` (back), `r` (again)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, TypeVar, overload

from clients import registry
from clients.aihuishou import CONDITIONS, FUNCTION_STATUSES
from clients.beike import CITIES
from clients.models import ListingRef

MAX_BYTES = 64  # Telegram's limit for callback_data
MAX_ID = 2**63 - 1  # SQLite's INTEGER, and beyond any Telegram user id
#: quote tokens are secrets.token_urlsafe(4 or 6)
_TOKEN = re.compile(r"[A-Za-z0-9_-]{4,16}")
_NUMBER = re.compile(r"[1-9][0-9]{0,18}")  # ASCII digits only: '²'.isdigit() is True
_INDEX = re.compile(r"0|[1-9][0-9]{0,2}")  # an option index or page, 0-999

CITY_IDS: frozenset[str] = frozenset(city[0] for city in CITIES)


def valid_ref(
    platform: str, listing_id: str, city_id: str | None = None, kind: str | None = None
) -> ListingRef | None:
    """The ref when every part is one we could have written: a registry platform, that
    platform's ID shape, a known city exactly when the platform needs one, and a kind of
    listing the platform's links name."""
    client = registry.listing_client(platform)
    if client is None or not client.is_listing_id(listing_id):
        return None
    if client.NEEDS_CITY != (city_id is not None) or (city_id and city_id not in CITY_IDS):
        return None
    if kind is not None and kind not in client.LINK_KINDS:
        return None
    return ListingRef(platform, listing_id, city_id, kind)


def ref_from_key(key: str) -> ListingRef | None:
    """`ListingRef.key` read back: `platform:id`, `platform:city:id`, either with `@kind`."""
    key, at, kind = key.partition("@")
    if at and not kind:
        return None
    parts = key.split(":")
    if len(parts) == 2:
        return valid_ref(parts[0], parts[1], kind=kind or None)
    if len(parts) == 3:
        return valid_ref(parts[0], parts[2], parts[1], kind or None)
    return None


B = TypeVar("B")


def number(text: str, maximum: int = MAX_ID) -> int | None:
    if not _NUMBER.fullmatch(text):
        return None
    value = int(text)
    return value if value <= maximum else None


def _one_field(kind: Callable[[Any], B], fields: list[str], read: Callable[[str], Any]) -> B | None:
    """A button of one field: `kind(read(field))`, or None when it does not read."""
    value = read(fields[0]) if len(fields) == 1 else None
    return kind(value) if value is not None else None


# -- the buttons ------------------------------------------------------------------------
# A kind that adds no field to its base is a plain subclass (with no slots of its own),
# not a dataclass again: it inherits the base's generated methods, which already compare,
# hash and print by the instance's own class, so `Refresh(ref) != Photos(ref)`. Making
# each one a dataclass compiled six methods per kind at import (~3.5 ms for the twelve,
# issue 19 point 5).


@dataclass(frozen=True, slots=True)
class _RefButton:
    ref: ListingRef
    PREFIX: ClassVar[str] = ""

    def fields(self) -> tuple[str, ...]:
        return (self.ref.key,)

    @classmethod
    def parse(cls, fields: list[str]) -> _RefButton | None:
        return _one_field(cls, fields, ref_from_key)


class Refresh(_RefButton):
    __slots__ = ()
    PREFIX: ClassVar[str] = "r"


class Photos(_RefButton):
    __slots__ = ()
    PREFIX: ClassVar[str] = "p"


class Watch(_RefButton):
    __slots__ = ()
    PREFIX: ClassVar[str] = "w"


class ViewCard(_RefButton):
    __slots__ = ()
    PREFIX: ClassVar[str] = "v"


class TradeIn(_RefButton):
    __slots__ = ()
    PREFIX: ClassVar[str] = "ti"


class FairPrice(_RefButton):
    __slots__ = ()
    PREFIX: ClassVar[str] = "fp"


_METHODS = ("i", "p")  # equal instalments (等额本息), equal principal (等额本金)


@dataclass(frozen=True, slots=True)
class Mortgage:
    """A mortgage answer's choices: down payment (1-99 %), years (1-30), method."""

    ref: ListingRef
    down_percent: int
    years: int
    method: str
    PREFIX: ClassVar[str] = "mg"

    def fields(self) -> tuple[str, ...]:
        return (self.ref.key, str(self.down_percent), str(self.years), self.method)

    @classmethod
    def parse(cls, fields: list[str]) -> Mortgage | None:
        if len(fields) != 4:
            return None
        ref = ref_from_key(fields[0])
        down = number(fields[1], 99)
        years = number(fields[2], 30)
        if ref is None or down is None or years is None or fields[3] not in _METHODS:
            return None
        return cls(ref, down, years, fields[3])


@dataclass(frozen=True, slots=True)
class Reviews:
    ref: ListingRef
    page: int = 0
    PREFIX: ClassVar[str] = "rv"

    def fields(self) -> tuple[str, ...]:
        return (self.ref.key, str(self.page))

    @classmethod
    def parse(cls, fields: list[str]) -> Reviews | None:
        if len(fields) != 2 or not _INDEX.fullmatch(fields[1]):
            return None
        ref = ref_from_key(fields[0])
        return None if ref is None else cls(ref, int(fields[1]))


@dataclass(frozen=True, slots=True)
class PickPlatform:
    platform: str
    listing_id: str
    PREFIX: ClassVar[str] = "k"

    def fields(self) -> tuple[str, ...]:
        return (self.platform, self.listing_id)

    @classmethod
    def parse(cls, fields: list[str]) -> PickPlatform | None:
        if len(fields) != 2:
            return None
        platform, listing_id = fields
        # Beike's city is asked next, so the ID alone is checked here
        client = registry.listing_client(platform)
        if client is None or not client.is_listing_id(listing_id):
            return None
        return cls(platform, listing_id)

    @property
    def ref(self) -> ListingRef | None:
        """The listing; None for a platform whose city is asked next (Beike)."""
        client = registry.listing_client(self.platform)
        if client is None or client.NEEDS_CITY:
            return None
        return ListingRef(self.platform, self.listing_id)


@dataclass(frozen=True, slots=True)
class PickCity:
    city_id: str
    house_code: str
    PREFIX: ClassVar[str] = "c"

    def fields(self) -> tuple[str, ...]:
        return (self.city_id, self.house_code)

    @classmethod
    def parse(cls, fields: list[str]) -> PickCity | None:
        if len(fields) != 2 or valid_ref("beike", fields[1], fields[0]) is None:
            return None
        return cls(fields[0], fields[1])

    @property
    def ref(self) -> ListingRef:
        return ListingRef("beike", self.house_code, self.city_id)


@dataclass(frozen=True, slots=True)
class _IdButton:
    """A button that names one number: a watch, or the user it was offered to."""

    id: int
    PREFIX: ClassVar[str] = ""

    def fields(self) -> tuple[str, ...]:
        return (str(self.id),)

    @classmethod
    def parse(cls, fields: list[str]) -> _IdButton | None:
        return _one_field(cls, fields, number)


class History(_IdButton):
    __slots__ = ()
    PREFIX: ClassVar[str] = "h"


class Unwatch(_IdButton):
    __slots__ = ()
    PREFIX: ClassVar[str] = "u"


@dataclass(frozen=True, slots=True)
class _OfferButton:
    """A button of one registration offer: the user it was offered to, and the offer."""

    id: int
    offer: str
    PREFIX: ClassVar[str] = ""

    def fields(self) -> tuple[str, ...]:
        return (str(self.id), self.offer)

    @classmethod
    def parse(cls, fields: list[str]) -> _OfferButton | None:
        if len(fields) != 2 or not _TOKEN.fullmatch(fields[1]):
            return None
        user_id = number(fields[0])
        return None if user_id is None else cls(user_id, fields[1])


class CreateAccount(_OfferButton):
    __slots__ = ()
    PREFIX: ClassVar[str] = "ar"


class CancelAccount(_OfferButton):
    __slots__ = ()
    PREFIX: ClassVar[str] = "ax"


class ForgetYes(_IdButton):
    __slots__ = ()
    PREFIX: ClassVar[str] = "fy"


class ForgetNo(_IdButton):
    __slots__ = ()
    PREFIX: ClassVar[str] = "fn"


@dataclass(frozen=True, slots=True)
class QuoteAnswer:
    """A quote question's button: an option, a page of options, or cancel."""

    token: str
    kind: Literal["option", "page", "cancel"]
    index: int = 0
    PREFIX: ClassVar[str] = "q"

    def fields(self) -> tuple[str, ...]:
        arg = {"option": str(self.index), "page": f"p{self.index}", "cancel": "x"}[self.kind]
        return (self.token, arg)

    @classmethod
    def parse(cls, fields: list[str]) -> QuoteAnswer | None:
        if len(fields) != 2 or not _TOKEN.fullmatch(fields[0]):
            return None
        token, arg = fields
        if arg == "x":
            return cls(token, "cancel")
        if arg[:1] == "p" and _INDEX.fullmatch(arg[1:]):
            return cls(token, "page", int(arg[1:]))
        if _INDEX.fullmatch(arg):
            return cls(token, "option", int(arg))
        return None


_CARD_CHOICES = {"c": len(CONDITIONS), "f": len(FUNCTION_STATUSES)}


@dataclass(frozen=True, slots=True)
class QuoteCardAction:
    """A quote card's button: `c`/`f` open a menu, `c<i>`/`f<i>` re-quote, `b` back, `r` again."""

    token: str
    action: Literal["c", "f", "b", "r"]
    index: int | None = None
    PREFIX: ClassVar[str] = "qa"

    def fields(self) -> tuple[str, ...]:
        return (self.token, self.action + ("" if self.index is None else str(self.index)))

    @classmethod
    def parse(cls, fields: list[str]) -> QuoteCardAction | None:
        if len(fields) != 2 or not _TOKEN.fullmatch(fields[0]):
            return None
        token, arg = fields
        if arg in ("c", "f", "b", "r"):
            return cls(token, arg)  # type: ignore[arg-type]  # arg is one of the Literal's values
        action, rest = arg[:1], arg[1:]
        if action in _CARD_CHOICES and _INDEX.fullmatch(rest) and int(rest) < _CARD_CHOICES[action]:
            return cls(token, action, int(rest))  # type: ignore[arg-type]  # action checked above
        return None


Button = (
    Refresh
    | Photos
    | Watch
    | ViewCard
    | TradeIn
    | FairPrice
    | Mortgage
    | Reviews
    | PickPlatform
    | PickCity
    | History
    | Unwatch
    | CreateAccount
    | CancelAccount
    | ForgetYes
    | ForgetNo
    | QuoteAnswer
    | QuoteCardAction
)
KINDS: tuple[type, ...] = (
    Refresh,
    Photos,
    Watch,
    ViewCard,
    TradeIn,
    FairPrice,
    Mortgage,
    Reviews,
    PickPlatform,
    PickCity,
    History,
    Unwatch,
    CreateAccount,
    CancelAccount,
    ForgetYes,
    ForgetNo,
    QuoteAnswer,
    QuoteCardAction,
)
_BY_PREFIX: dict[str, type] = {kind.PREFIX: kind for kind in KINDS}  # type: ignore[attr-defined]  # every kind has PREFIX


def encode(button: Button) -> str:
    data = "|".join((button.PREFIX, *button.fields()))
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"callback_data over {MAX_BYTES} bytes: {data!r}")
    return data


def decode(data: object) -> Button | None:
    """The button pressed, or None when `data` is not one this bot could have written."""
    if not isinstance(data, str) or len(data.encode()) > MAX_BYTES:
        return None
    prefix, _, rest = data.partition("|")
    kind = _BY_PREFIX.get(prefix)
    if kind is None or not rest:
        return None
    return kind.parse(rest.split("|"))  # type: ignore[attr-defined]  # every kind in KINDS defines parse


def matches(*kinds: type) -> Callable[[object], bool]:
    """A CallbackQueryHandler pattern: data that decodes to one of `kinds`."""
    return lambda data: isinstance(decode(data), kinds)


def malformed(data: object) -> bool:
    return decode(data) is None


T = TypeVar("T")
U = TypeVar("U")


@overload
def read(data: object, kind: type[T]) -> T: ...
@overload
def read(data: object, kind: type[T], other: type[U]) -> T | U: ...
def read(data: object, kind: type[Any], other: type[Any] | None = None) -> Any:
    """The button of a handler registered with `matches(kind)` (or `matches(kind, other)`),
    so it does decode: `read(data, Refresh)`, `read(data, ForgetYes, ForgetNo)`."""
    kinds = (kind,) if other is None else (kind, other)
    button = decode(data)
    if not isinstance(button, kinds):
        raise ValueError(f"not a {kinds!r} button")
    return button
