"""Hostile platform answers (hypothesis): deep nesting, wrong types, huge strings.

Each client, over real HTTP to the sandbox, gets a random JSON answer in its own
success envelope, with the field names its parser reads and values of any JSON type.
Whatever comes, the client returns its model or raises a `PlatformError`: never a
RecursionError, TypeError, KeyError... past the error mapping.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.config import load_settings
from clients import aihuishou, anjuke, anjuke_open, beike, xianyu
from clients.errors import PlatformError
from clients.models import ListingRef, QuoteRequest
from clients.registry import build_clients
from clock import FakeClock
from sandbox.core import Fault
from sandbox.server import Sandbox

QUOTE = QuoteRequest("手机", "苹果", "iPhone 14 Pro", "256GB", "95新")


def field_names(module: object) -> list[str]:
    """Every field name the platform module reads from an answer (`.get("name")`, `["name"]`)."""
    source = inspect.getsource(module)  # type: ignore[arg-type]
    return sorted(set(re.findall(r"""(?:\.get\(|\[)"([A-Za-z_][A-Za-z0-9_]*)\"""", source)))


json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.just("x" * 200_000),  # a huge string
)


def answers(module: object, envelope: Callable[[Any], Any]) -> st.SearchStrategy[str]:
    names = st.sampled_from(field_names(module))
    values = st.recursive(
        json_leaf,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(names, inner, max_size=6),
        max_leaves=20,
    )
    objects = st.dictionaries(names, values, max_size=12)
    deep = st.integers(min_value=2_000, max_value=200_000).map(
        lambda n: json.dumps(envelope(None)).replace("null", "[" * n + "]" * n)
    )
    return st.one_of(objects.map(lambda o: json.dumps(envelope(o))), deep)


PLATFORMS: dict[str, tuple[object, Callable[[Any], Any]]] = {
    "anjuke": (anjuke, lambda o: {"item_get_response": {"house_detail": o}}),
    "beike": (beike, lambda o: {"code": 0, "data": o}),
    "xianyu": (xianyu, lambda o: {"item_get_response": {"item": o}}),
    "aihuishou": (aihuishou, lambda o: {"code": 0, "data": o}),
    "anjuke_open": (anjuke_open, lambda o: {"code": 200, "data": o}),
}


@pytest.fixture
async def platform_calls() -> AsyncIterator[
    tuple[Sandbox, dict[str, Callable[[], Awaitable[object]]]]
]:
    clock = FakeClock()
    async with Sandbox(clock=clock) as sandbox, httpx.AsyncClient() as http:
        settings_ = load_settings(require_token=False, **sandbox.settings_overrides())
        clients: dict[str, Any] = build_clients(settings_.platform_configs(), http, clock)
        calls = {
            "anjuke": lambda: clients["anjuke"].fetch_listing(ListingRef("anjuke", "A1234567890")),
            "beike": lambda: clients["beike"].fetch_listing(
                ListingRef("beike", "101127449675", "110000")
            ),
            "xianyu": lambda: clients["xianyu"].fetch_listing(ListingRef("xianyu", "712345678901")),
            "aihuishou": lambda: clients["aihuishou"].fetch_quote(QUOTE),
            "anjuke_open": lambda: clients["anjuke_open"].get_info("13800138000", "phone"),
        }
        yield sandbox, calls


def hostile(platform: str):  # type: ignore[no-untyped-def]
    module, envelope = PLATFORMS[platform]
    return answers(module, envelope)


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_every_client_survives_hostile_answers(
    platform_calls: tuple[Sandbox, dict[str, Callable[[], Awaitable[object]]]],
    platform: str,
    data: st.DataObject,
) -> None:
    sandbox, calls = platform_calls
    body = data.draw(hostile(platform))
    sandbox.state.clock.advance(2)  # type: ignore[attr-defined]  # the tiers' per-second limits
    sandbox.state.inject(platform, Fault("json", body=body))
    try:
        await calls[platform]()
    except PlatformError:
        pass  # mapped: what the user is told
    assert sandbox.state.take_fault(platform) is None  # the hostile answer was the one read
