"""The trade-in quote flow's decisions, without Telegram.

`handlers/quotes.py` runs the flow as a python-telegram-bot `ConversationHandler` whose
states are the questions (`QUESTIONS`, the parser's `ASK_ORDER`: brand, model, storage,
ram, condition, function_status). What needs no Telegram lives here, so it is tested
on its own (`tests/test_quote_flow.py`):

- which question comes next for a device (`next_question`), and whether one is still
  open (`still_asked`);
- what a question offers (`question_options`) and which page of it a keyboard shows
  (`page_of`);
- reading a typed answer (`read_answer`), which may fill several questions at once;
- which devices a message describes (`devices_in_command`, `devices_in_message`);
- what to ask when the platform does not record a model (`closest_instead`);
- whether a question has been quiet too long (`expired`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING

from devices.records import ASK_ORDER, ParsedDevice

if TYPE_CHECKING:
    from devices.parser import Catalogue

# The parser (`devices.parser`) is imported by the functions that read text, on the first
# quote: every one of them is handed a `Catalogue`, which only the parser makes.

#: every question the flow may ask, one conversation state each, in the order asked
QUESTIONS: tuple[str, ...] = ASK_ORDER
#: fields a typed answer may fill besides the one asked for ("256G 95新" answers two)
EXTRA_FIELDS = ("storage", "ram", "condition", "function_status")
#: descriptions quoted from one message; the rest are ignored with a note
MAX_DEVICES = 20


@dataclass
class Pending:
    """A device still to quote; `not_recorded` is the model the platform refused, and
    `asking` the asking price of the listing it comes from (the trade-in check)."""

    device: ParsedDevice
    not_recorded: str | None = None
    asking: Decimal | None = None


def next_question(device: ParsedDevice) -> str | None:
    """The question to ask about `device` next; None when it can be quoted."""
    missing = device.missing()
    if not missing:
        return None if device.device_type else "model"
    # A model that could belong to several brands is asked directly: it brings its brand.
    if missing[0] == "brand" and device.ambiguous.get("model"):
        return "model"
    return missing[0]


def still_asked(device: ParsedDevice, question: str) -> bool:
    """Whether `question` is still the one to ask (not answered meanwhile by another update)."""
    return next_question(device) == question


def question_options(device: ParsedDevice, question: str, catalogue: Catalogue) -> tuple[str, ...]:
    """The values to offer as buttons; empty when there is nothing to offer."""
    options = device.options(question, catalogue)
    if not options and question == "model":
        options = tuple(m.model for m in catalogue.offered(device.brand, device.device_type))
    return options


@dataclass(frozen=True)
class Page:
    """One page of a question's options: `first` is the index of its first option."""

    first: int
    shown: tuple[str, ...]
    previous: int | None
    next: int | None


def page_of(options: tuple[str, ...], number: int, size: int) -> Page:
    """Page `number` (0-based, clamped to the pages there are) of `size` options each."""
    last = max(0, (len(options) - 1) // size)
    number = min(max(0, number), last)
    first = number * size
    return Page(
        first=first,
        shown=options[first : first + size],
        previous=number - 1 if number > 0 else None,
        next=number + 1 if number < last else None,
    )


def read_answer(
    device: ParsedDevice,
    question: str,
    options: tuple[str, ...],
    text: str,
    catalogue: Catalogue,
    label: Callable[[str], str] = lambda value: value,
) -> ParsedDevice | None:
    """The device with a typed answer applied, or None when the text answers nothing.

    An option is matched as written, by its `label` (the English one: "Good (90%)") and,
    for sizes, without its unit ("256", "256g"); otherwise the text is parsed as a
    description and must agree with the device (another model is a new description,
    not an answer). What else it states that is still missing is taken too.
    """
    from devices.parser import compact, matching_form, parse_description

    wanted = compact(matching_form(text))
    if not wanted:
        return None
    for value in options:
        spellings = {compact(matching_form(value)), compact(matching_form(label(value)))}
        if question in ("storage", "ram"):
            spellings.add(compact(matching_form(value)).removesuffix("b"))  # 256g, 1t
            spellings.add(compact(matching_form(value)).removesuffix("gb"))  # 256
        if wanted in spellings:
            return device.choose(question, value, catalogue)
    parsed = parse_description(text, catalogue)
    if question == "model" and parsed.model is None and device.brand:
        parsed = parse_description(f"{device.brand} {text}", catalogue)
    if question != "model" and parsed.model and parsed.model != device.model:
        return None  # another device: a new description, not an answer
    stated: str | None = getattr(parsed, question, None)
    if stated is None:
        return None
    if (
        question != "model"
        and stated not in options
        and not (question == "brand" and catalogue.brand(stated))
    ):
        return None
    answered = device.choose(question, stated, catalogue)
    for other in EXTRA_FIELDS:
        extra = getattr(parsed, other)
        if (
            getattr(answered, other) is None
            and extra
            and extra in answered.options(other, catalogue)
        ):
            answered = answered.choose(other, extra, catalogue)
    return answered


def answered_value(answered: ParsedDevice, question: str, text: str) -> str:
    """The value a typed answer gave to `question`, to show on the closed question."""
    value = getattr(answered, question, None)
    return value if isinstance(value, str) and value else text.strip()[:60]


def devices_in_command(text: str, catalogue: Catalogue) -> tuple[list[ParsedDevice], int]:
    """`/quote <text>`: one device per line (at most MAX_DEVICES) and how many were left
    out; no text at all is one empty device, asked about from its brand."""
    from devices.parser import parse_description, split_descriptions

    descriptions = split_descriptions(text)
    devices = [parse_description(d, catalogue) for d in descriptions[:MAX_DEVICES]]
    return devices or [ParsedDevice()], len(descriptions) - len(devices)


def describes_device(text: str, catalogue: Catalogue) -> bool:
    """Whether a plain message (no command, no listing) starts a quote by itself."""
    from devices.parser import looks_like_device

    return looks_like_device(text, catalogue)


def devices_in_message(text: str, catalogue: Catalogue) -> tuple[list[ParsedDevice], int]:
    """A plain message's devices: the lines that name a brand or model (at most
    MAX_DEVICES) and how many were left out."""
    from devices.parser import parse_description, split_descriptions

    devices = [parse_description(line, catalogue) for line in split_descriptions(text)]
    devices = [d for d in devices if d.brand or d.model or d.ambiguous.get("brand")]
    return devices[:MAX_DEVICES], max(0, len(devices) - MAX_DEVICES)


def closest_instead(pending: Pending, catalogue: Catalogue, count: int) -> Pending | None:
    """A model the platform does not record: the same device, asking which of the `count`
    closest catalogue models it is; None when the catalogue has none to offer."""
    device = pending.device
    if not device.model:
        return None
    closest = [
        m.model
        for m in catalogue.closest(device.model, count + 1, device.device_type)
        if m.model != device.model
    ][:count]
    if not closest:
        return None
    retry = replace(
        device,
        model=None,
        device_type=None,
        ambiguous={**device.ambiguous, "model": tuple(closest)},
    )
    return Pending(retry, not_recorded=device.model, asking=pending.asking)


def expired(active_at: float, now: float, timeout: float) -> bool:
    """Whether a question last active at `active_at` has been quiet past `timeout` seconds."""
    return now - active_at > timeout
