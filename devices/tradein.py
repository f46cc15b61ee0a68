"""A second-hand item as the device Aihuishou would price: the trade-in check on Xianyu cards.

A Xianyu item describes a device in its title, its category (手机-苹果手机-iPhone 14 Pro)
and its `params` key-value pairs (存储容量, 运行内存, 功能状态, ...; seed 002). These
are read with the quote parser (`devices.parser`); nothing is guessed:

- the model must be recognised, or the item is not taken for a device;
- the condition is the one the seller wrote (95新 in the title), else Xianyu's own
  `condition` grade mapped onto Aihuishou's scale (seed 002's 全新 / 九成新 / 八成新 /
  七成新 / 六成新及以下 onto seed 003's grades); an unknown grade stays unknown;
- the function status is the params' 功能状态 when it names one, else what the text says;
- whatever is still missing is asked for by the quote flow.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from clients.aihuishou import CONDITIONS, FUNCTION_STATUSES
from clients.models import Listing
from devices.records import ParsedDevice

if TYPE_CHECKING:
    from devices.parser import Catalogue

PLATFORMS = frozenset({"xianyu"})
#: Xianyu grades (as `clients.xianyu` reads them) -> Aihuishou grades; Aihuishou's lowest
#: grade is 七成新及以下, so Xianyu's two lowest both land there
XIANYU_CONDITIONS: dict[str, str] = {
    "全新": "全新",
    "九成新": "九成新",
    "八成新": "八成新",
    "七成新": "七成新及以下",
    "六成新及以下": "七成新及以下",
}
#: params names that state the function status
FUNCTION_PARAMS = frozenset({"功能状态", "功能", "功能情况"})
#: params values that mean "everything works"
WORKING = frozenset({"正常", "功能正常", "完好", "全部正常"})


def item_description(listing: Listing) -> str:
    """The title, category and params as one text for the quote parser."""
    parts = [listing.title, listing.fact("category") or ""]
    parts += [f"{label}：{value}" for key, label, value in listing.facts if key == "param"]
    return " ".join(p for p in parts if p)


def platform_condition(listing: Listing) -> str | None:
    """Xianyu's own grade on Aihuishou's scale, or None when it is absent or unknown."""
    grade = (listing.fact("condition") or "").strip()
    if grade in CONDITIONS:
        return grade
    return XIANYU_CONDITIONS.get(grade)


def stated_function(listing: Listing) -> str | None:
    for key, label, text in listing.facts:
        if key != "param" or label not in FUNCTION_PARAMS:
            continue
        value = text.strip()
        if value in WORKING:
            return "正常"
        if value in FUNCTION_STATUSES:
            return value
    return None


def tradein_device(listing: Listing, catalogue: Catalogue | None = None) -> ParsedDevice | None:
    """The device a listing offers, with what it states; None when it is no device we price."""
    if listing.platform not in PLATFORMS:
        return None
    from devices.parser import load_catalogue, parse_description  # on the first Xianyu device card

    device = parse_description(item_description(listing), catalogue or load_catalogue())
    if device.model is None:
        return None
    condition = device.condition or platform_condition(listing)
    function_status = stated_function(listing) or device.function_status
    return replace(device, condition=condition, function_status=function_status)
