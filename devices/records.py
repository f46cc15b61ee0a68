"""A parsed device description and the questions a quote asks, without the parser.

`ParsedDevice` is what the quote flow keeps between messages (and what restarts restore,
`storage/state_json.py`); the parser that fills it (`devices/parser.py`: the catalogue,
one trie regex per alias set, the keyword tables) is imported on the first quote, not at
start-up (issue 19 point 5). `devices.parser` re-exports `ParsedDevice` and the constants.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from clients.aihuishou import (
    CONDITIONS,
    DEVICE_TYPES,
    FUNCTION_STATUSES,
    PURCHASE_CHANNELS,
    RAM_REQUIRED_TYPES,
    REPAIR_HISTORIES,
    STORAGE_OPTIONAL_TYPES,
)
from clients.models import QuoteRequest


class CatalogueModel(Protocol):
    """What a parsed device reads of a catalogue model (`devices.parser.Model`)."""

    @property
    def brand(self) -> str: ...
    @property
    def device_type(self) -> str: ...
    @property
    def model(self) -> str: ...
    @property
    def storage(self) -> tuple[str, ...]: ...
    @property
    def ram(self) -> tuple[str, ...]: ...
    @property
    def needs_ram(self) -> bool: ...


class CatalogueView(Protocol):
    """What a parsed device asks of the catalogue (`devices.parser.Catalogue`); a
    protocol, so this module needs no import of the parser."""

    def brands(self) -> Sequence[str]: ...
    def models(
        self, brand: str | None = None, device_type: str | None = None
    ) -> Sequence[CatalogueModel]: ...
    def offered(self, brand: str | None, device_type: str | None) -> Sequence[CatalogueModel]: ...
    def resolve(self, model: str) -> CatalogueModel | None: ...


#: the required fields, in the order the bot asks for them (ram only for computers)
ASK_ORDER = ("brand", "model", "storage", "ram", "condition", "function_status")
#: what to offer for a model the catalogue does not list (the platform checks it)
STORAGE_CHOICES = ("16GB", "32GB", "64GB", "128GB", "256GB", "512GB", "1TB")
RAM_CHOICES = ("4GB", "6GB", "8GB", "12GB", "16GB", "32GB")


#: the parser's `load_catalogue`, set by `devices.parser` when it is imported: the parser
#: imports this module, never the other way round (no cycle, and no parser at start-up).
#: The bot always passes its catalogue; the default serves calls without one.
default_catalogue: Callable[[], CatalogueView] | None = None


def _catalogue() -> CatalogueView:
    if default_catalogue is None:
        raise RuntimeError("no catalogue: pass one, or import devices.parser first")
    return default_catalogue()


@dataclass(frozen=True)
class ParsedDevice:
    """What a description says, in the platform's values; `None` where it does not say.

    `ambiguous` maps a field to the values the text could mean (or the options to
    choose from when it named one that does not exist), for 'did you mean' buttons.
    """

    device_type: str | None = None
    brand: str | None = None
    model: str | None = None
    storage: str | None = None
    ram: str | None = None
    condition: str | None = None
    function_status: str | None = None
    repair_history: str | None = None
    purchase_channel: str | None = None
    battery_health: int | None = None
    ambiguous: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def needs_ram(self) -> bool:
        return self.device_type in RAM_REQUIRED_TYPES

    def missing(self) -> list[str]:
        """Required fields still unknown, in the order to ask for them."""
        return [
            name
            for name in ASK_ORDER
            if getattr(self, name) is None
            and (name != "ram" or self.needs_ram)
            and (name != "storage" or self.device_type not in STORAGE_OPTIONAL_TYPES)
        ]

    @property
    def complete(self) -> bool:
        return self.device_type is not None and not self.missing()

    def to_request(self) -> QuoteRequest:
        """The quote request; only when nothing is missing (ValueError otherwise)."""
        missing = self.missing()
        if missing or self.device_type is None:
            raise ValueError(f"description incomplete: {', '.join(missing or ['device_type'])}")
        assert self.brand and self.model and self.condition and self.function_status
        return QuoteRequest(
            device_type=self.device_type,
            brand=self.brand,
            model=self.model,
            storage=self.storage or "",  # empty only where the type needs none (watches)
            condition=self.condition,
            function_status=self.function_status,
            ram=self.ram,
            repair_history=self.repair_history,
            purchase_channel=self.purchase_channel,
        )

    def options(self, name: str, catalogue: CatalogueView | None = None) -> tuple[str, ...]:
        """The values to offer for one field: the ambiguous candidates, else every valid value."""
        if self.ambiguous.get(name):
            return self.ambiguous[name]
        catalogue = catalogue or _catalogue()
        model = catalogue.resolve(self.model) if self.model else None
        if name == "brand":
            brands = catalogue.brands()
            if self.device_type:
                brands = [b for b in brands if catalogue.models(b, self.device_type)]
            return tuple(brands)
        if name == "model":
            return tuple(m.model for m in catalogue.offered(self.brand, self.device_type))
        if name == "storage":
            return (model.storage or STORAGE_CHOICES) if model else ()
        if name == "ram":
            return (model.ram or RAM_CHOICES) if model else ()
        if name == "device_type":
            return DEVICE_TYPES
        return {
            "condition": tuple(CONDITIONS),
            "function_status": FUNCTION_STATUSES,
            "repair_history": REPAIR_HISTORIES,
            "purchase_channel": PURCHASE_CHANNELS,
        }.get(name, ())

    def choose(self, name: str, value: str, catalogue: CatalogueView | None = None) -> ParsedDevice:
        """A copy with one field answered (a button press); a model brings its brand and type.

        Storage and RAM that the chosen model is not sold with are dropped (asked again).
        """
        ambiguous = {k: v for k, v in self.ambiguous.items() if k != name}
        if name != "model":
            changes: dict[str, object] = {name: value}
            if name == "brand" and self.brand != value:
                changes["model"] = None
                ambiguous.pop("model", None)
            return replace(self, ambiguous=ambiguous, **changes)  # type: ignore[arg-type]  # fields by name
        catalogue = catalogue or _catalogue()
        model = catalogue.resolve(value)
        if model is None:
            raise ValueError(f"unknown model: {value}")
        storage = self.storage if self.storage in (model.storage or STORAGE_CHOICES) else None
        ram = self.ram if self.ram in (model.ram or RAM_CHOICES) else None
        if model.needs_ram and ram is None and len(model.ram) == 1:
            ram = model.ram[0]
        return replace(
            self,
            model=model.model,
            brand=model.brand,
            device_type=model.device_type,
            storage=storage,
            ram=ram,
            ambiguous=ambiguous,
        )
