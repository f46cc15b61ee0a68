"""JSON for the state kept between restarts (chat data of the quote flow), instead of pickle.

A pickle runs code when it is loaded, so a foreign or corrupt `chat_state` row could do
anything at start-up; this codec only ever builds plain values and the project's own
dataclasses, and checks each against its type hints. `encode` writes:

- None, bool, int, float, str, list as themselves; a dict with string keys as an object;
- `{"$decimal": "350.5"}`, `{"$tuple": [...]}`, `{"$dict": [[key, value], ...]}` (keys
  that are not strings), `{"$enum": "module:Name", "value": ...}`;
- `{"$dataclass": "module:Name", "fields": {...}}` for a dataclass of `ALLOWED_MODULES`.

`decode` raises `StateError` (a `ValueError`) for anything else: unknown tags, classes
outside `ALLOWED_MODULES` or that are not dataclasses/enums, missing or unknown fields,
values that do not fit the field's type hint. The caller drops that row with a warning.
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
import types
import typing
from decimal import Decimal, InvalidOperation
from typing import Any

#: where the stored dataclasses and enums may come from (modules of this project)
ALLOWED_MODULES = (
    "clients.",
    "devices.",
    "gateway.",
    "deals.",
    "handlers.",
    "watching.",
    "storage.",
)
#: modules that moved (issue 20: the device parser got a package of its own): a row
#: written before names the old module, and is read as the new one
MOVED_MODULES = {
    "clients.devices": "devices.parser",
    "clients.quote_flow": "devices.flow",
    "clients.tradein": "devices.tradein",
}
#: classes that moved out of their module (issue 19 point 5: the parsed device left the
#: parser, which is imported on the first quote), by their name before any move above
MOVED_CLASSES = {
    "devices.parser:ParsedDevice": "devices.records:ParsedDevice",
    "clients.devices:ParsedDevice": "devices.records:ParsedDevice",
}
#: nesting deeper than this is no state of ours
MAX_DEPTH = 50


class StateError(ValueError):
    """A stored value that is not what the bot writes: the row is dropped."""


def encode(value: Any) -> Any:
    """`value` as JSON-ready data (see the module docstring); TypeError for anything else."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, enum.Enum):
        return {"$enum": _name(type(value)), "value": encode(value.value)}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {
            f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init
        }
        return {"$dataclass": _name(type(value)), "fields": fields}
    if isinstance(value, tuple):
        return {"$tuple": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("$") for k in value):
            return {k: encode(v) for k, v in value.items()}
        return {"$dict": [[encode(k), encode(v)] for k, v in value.items()]}
    raise TypeError(f"{type(value).__name__} is not stored")


def decode(data: Any, depth: int = 0) -> Any:
    """The value `encode` wrote; `StateError` for anything it would not have written."""
    if depth > MAX_DEPTH:
        raise StateError("nested too deep")
    if data is None or isinstance(data, bool | int | float | str):
        return data
    if isinstance(data, list):
        return [decode(v, depth + 1) for v in data]
    if not isinstance(data, dict):
        raise StateError(f"unexpected {type(data).__name__}")
    tags = [k for k in data if k.startswith("$")]
    if not tags:
        return {k: decode(v, depth + 1) for k, v in data.items()}
    tag = tags[0]
    if tag == "$decimal" and len(data) == 1:
        try:
            return Decimal(_text(data[tag]))
        except InvalidOperation:
            raise StateError("malformed decimal") from None
    if tag == "$tuple" and len(data) == 1 and isinstance(data[tag], list):
        return tuple(decode(v, depth + 1) for v in data[tag])
    if tag == "$dict" and len(data) == 1 and isinstance(data[tag], list):
        pairs = data[tag]
        if not all(isinstance(p, list) and len(p) == 2 for p in pairs):
            raise StateError("malformed $dict")
        try:
            return {decode(k, depth + 1): decode(v, depth + 1) for k, v in pairs}
        except TypeError:  # an unhashable key
            raise StateError("malformed $dict key") from None
    if tag == "$enum" and set(data) == {"$enum", "value"}:
        cls = _class(data[tag])
        if not issubclass(cls, enum.Enum):
            raise StateError(f"{cls.__name__} is not an enum")
        try:
            return cls(decode(data["value"], depth + 1))
        except ValueError:
            raise StateError(f"no such {cls.__name__}") from None
    if tag == "$dataclass" and set(data) == {"$dataclass", "fields"}:
        return _dataclass(data, depth)
    raise StateError(f"unknown tag {tag}")


def _dataclass(data: dict[str, Any], depth: int) -> Any:
    cls = _class(data["$dataclass"])
    if not dataclasses.is_dataclass(cls):
        raise StateError(f"{cls.__name__} is not a dataclass")
    raw = data["fields"]
    if not isinstance(raw, dict):
        raise StateError(f"{cls.__name__}: fields are not an object")
    try:
        hints = typing.get_type_hints(cls)
    except Exception:  # a hint only a type checker can resolve: the fields go unchecked
        hints = {}
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = set(raw) - set(fields)
    if unknown:
        raise StateError(f"{cls.__name__}: unknown field {sorted(unknown)[0]}")
    values = {}
    for name, value in raw.items():
        decoded = decode(value, depth + 1)
        if not fits(decoded, hints.get(name, Any)):
            raise StateError(f"{cls.__name__}.{name}: not a {hints.get(name)}")
        values[name] = decoded
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:  # a required field missing, __post_init__ refusing
        raise StateError(f"{cls.__name__}: {type(exc).__name__}") from None


def fits(value: Any, hint: Any) -> bool:
    """Whether `value` is of the type `hint` says (the shapes our dataclasses use)."""
    if hint is Any or hint is object:
        return True
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return any(fits(value, arg) for arg in args)
    if hint is None or hint is type(None):
        return value is None
    if origin is typing.Literal:
        return value in args
    if origin in (list, tuple, dict, set, frozenset):
        if not isinstance(value, origin):
            return False
        if origin is dict:
            key, val = args or (Any, Any)
            return all(fits(k, key) and fits(v, val) for k, v in value.items())
        if origin is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
            return len(value) == len(args) and all(map(fits, value, args))
        item = args[0] if args else Any
        return all(fits(v, item) for v in value)
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(hint, type):
        return isinstance(value, hint)
    return True  # a hint this codec does not read (a TypeVar, a Protocol): not checked


def _name(cls: type) -> str:
    if not cls.__module__.startswith(ALLOWED_MODULES):
        raise TypeError(f"{cls.__module__}.{cls.__qualname__} is not stored")
    return f"{cls.__module__}:{cls.__qualname__}"


def _class(name: object) -> type:
    text = _text(name)
    module, _, qualname = MOVED_CLASSES.get(text, text).partition(":")
    module = MOVED_MODULES.get(module, module)
    if not module.startswith(ALLOWED_MODULES) or not qualname:
        raise StateError(f"class {text[:80]} is not allowed")
    try:
        value: Any = importlib.import_module(module)
        for part in qualname.split("."):
            value = getattr(value, part)
    except (ImportError, AttributeError):
        raise StateError(f"no class {text[:80]}") from None
    if not isinstance(value, type):
        raise StateError(f"{text[:80]} is not a class")
    return value


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise StateError("expected text")
    return value
