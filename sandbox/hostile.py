"""Hostile maximal answers: a platform's success envelope filled to just under a byte cap.

Used by `tests/test_memory_bounds.py` and `bench/memory.py` (issue 19, point 4) with
`Fault("json", body=...)`. Two shapes, both valid answers the parsers read:

- `long`: every string field the parser reads at the same great length (one emoji and
  ASCII letters, so Python keeps 4 bytes per character: the most memory per answer byte),
  10,000 params or info entries and 10,000 photo URLs (the first one longer than any URL a
  listing keeps);
- `many`: strings of 1,000 characters and the list the parser reads longest (Xianyu
  params, Beike infoList, Anjuke img_list) filled with the smallest entries that fit.

Prices and statuses stay real ones, so a card can be checked against the answer.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from clients.base import MAX_ANSWER_BYTES

SHAPES = ("long", "many")
PLATFORMS = ("xianyu", "anjuke", "beike")
#: a character outside the BMP: Python then keeps 4 bytes for every character of the string
WIDE = "🏠"
LIST_ENTRIES = 10_000
MANY_STRING = 1_000
PHOTO_PATH = "p" * 120


def long_text(length: int, tag: str = "") -> str:
    """`length` characters: the tag, one emoji, then ASCII letters."""
    head = tag + WIDE
    return head + "x" * max(0, length - len(head))


def photo_url(i: int) -> str:
    """Distinct photo URLs of about 160 characters; the first is longer than any kept."""
    if i == 0:
        return "https://img.example.com/" + "q" * 3000 + ".jpg"
    return f"https://img{i % 97}.example.com/{PHOTO_PATH}/{i:05d}.jpg"


def _xianyu(text: Callable[[str], str], shape: str, entries: int) -> dict[str, Any]:
    item: dict[str, Any] = {
        "item_id": text("item_id"),
        "title": text("title"),
        "price": "5299.00",
        "original_price": "8999.00",
        "status": "onsale",
        "pic_url": photo_url(0),
        "condition": text("condition"),
        "category": text("category"),
        "location": text("location"),
        "seller_score": text("seller_score"),
        "seller_level": text("seller_level"),
        "logistics": text("logistics"),
        "guarantee": text("guarantee"),
        "sales": text("sales"),
        "valid_time": text("valid_time"),
        "seller_nick": text("seller_nick"),
    }
    if shape == "long":
        item["item_imgs"] = [{"url": photo_url(i)} for i in range(1, LIST_ENTRIES)]
        item["params"] = {f"参数{i:05d}": long_text(100, f"{i}") for i in range(entries)}
    else:
        item["item_imgs"] = [{"url": photo_url(i)} for i in range(1, 12)]
        item["params"] = {f"k{i}": "v" for i in range(entries)}
    return {"item_get_response": {"item": item}}


def _anjuke(text: Callable[[str], str], shape: str, entries: int) -> dict[str, Any]:
    names = (
        "house_id house_style area_build area_use floor orientation room_height "
        "building_name region address metro_info school_info commerce_info price_trend "
        "down_payment loan_month house_code broker_shop vr_url video_url house_name broker_name"
    ).split()
    detail: dict[str, Any] = {name: text(name) for name in names}
    detail.update(house_type="二手房", transaction_status="在售", price="860", unit_price="95000")
    if shape == "long":
        detail["img_list"] = [{"url": photo_url(i)} for i in range(LIST_ENTRIES)]
    else:
        detail["img_list"] = [f"//i{i}" for i in range(entries)]
    return {"item_get_response": {"house_detail": detail}}


def _beike(text: Callable[[str], str], shape: str, entries: int) -> dict[str, Any]:
    basic: dict[str, Any] = {
        "houseCode": text("houseCode"),
        "cityId": text("cityId"),
        "title": text("title"),
        "mUrl": "https://m.ke.com/" + text("mUrl"),
        "communityName": text("communityName"),
        "price": 2350000,
        "unitPrice": 37067,
        "area": 63.4,
        "blueprintBedroomNum": 1,
        "blueprintHallNum": 1,
        "isOffSale": 0,
    }
    if shape == "long":
        pictures = [{"imgUrl": photo_url(i)} for i in range(LIST_ENTRIES)]
        info = [{"name": f"字段{i}:", "value": long_text(100, f"{i}")} for i in range(LIST_ENTRIES)]
    else:
        pictures = [{"imgUrl": photo_url(i)} for i in range(12)]
        info = [{"name": "n", "value": "v"} for _ in range(entries)]
    data = {
        "basicInfo": basic,
        "headPictures": [{"imgObjectList": pictures}],
        "colorTags": [{"desc": text(f"tag{i}")} for i in range(20)],
        "basicList": [{"name": "房型", "value": text("layout")}],
        "infoList": [{"name": "楼层:", "value": text("floor")}, *info],
        "infoJumpList": [{"id": "xiaoqurukou", "name": "小区:", "value": text("district")}],
        "verificationInfo": {"agentName": text("agentName")},
    }
    return {"code": 0, "data": data}


_BUILDERS = {"xianyu": _xianyu, "anjuke": _anjuke, "beike": _beike}


def maximal_answer(platform: str, shape: str = "long", limit: int = MAX_ANSWER_BYTES) -> str:
    """The platform's answer in `shape`, as JSON text of just under `limit` bytes (UTF-8)."""
    build = _BUILDERS[platform]

    def size(text: Callable[[str], str], entries: int) -> int:
        body = json.dumps(build(text, shape, entries), ensure_ascii=False)
        return len(body.encode())

    margin = 1024
    if shape == "long":
        entries = LIST_ENTRIES
        base = size(lambda tag: "", entries)
        fields = size(lambda tag: "s", entries) - base  # how many string fields grow
        # each string: one 4-byte emoji and ASCII, `length + 3` bytes
        length = (limit - margin - base) // fields - 3
        body = json.dumps(build(lambda tag: long_text(length), shape, entries), ensure_ascii=False)
    else:

        def text(tag: str) -> str:
            return long_text(MANY_STRING)

        empty, entries = size(text, 0), 10_000
        for _ in range(2):  # the mean entry grows with its digits: estimate twice
            per_entry = (size(text, entries) - empty) / entries
            entries = int((limit - margin - empty) / per_entry)
        while size(text, entries) > limit - margin:
            entries -= entries // 1000 + 1
        body = json.dumps(build(text, shape, entries), ensure_ascii=False)
    assert len(body.encode()) < limit, (platform, shape, len(body.encode()))
    return body
