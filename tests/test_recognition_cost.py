"""Recognition reads any message up to Telegram's 4,096 characters in linear time.

A message the bot cannot read in linear time blocks the event loop for every chat: the
old one-regex link finder backtracked over every run of word characters from every
start (1.5 s for one 4,096-character message). Two things are pinned here:

- `linkish_spans` finds exactly what that regex found (a hypothesis property against
  the regex as an oracle), so the rewrite changed the cost and nothing else;
- the cost of recognising a message (links, bare IDs, device descriptions) grows by
  about 4x from a 1,024- to a 4,096-character adversarial message, never by the 16x
  of a quadratic scan. Time is compared as a ratio between the two lengths, each the
  best of several runs, so the machine's speed does not enter.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clients.devices import looks_like_device
from clients.links import has_link, linkish_spans
from clients.recognise import recognise
from clients.registry import LISTING_CLIENTS
from tests.conftest import BotEnv

#: the regex the linear finder replaced (clients/recognise.py before issue 9)
QUADRATIC_LINKISH = re.compile(
    r"(?:[a-z][a-z0-9+.-]*://|www\.)\S+|\b[\w.-]+\.(?:com|cn|net|org|io|me|xyz|top)\b\S*",
    re.IGNORECASE,
)

#: messages built to make a backtracking scan pay n^2: long runs that almost match
ADVERSARIAL: dict[str, Callable[[int], str]] = {
    "one long word": lambda n: "a" * n,
    "dotted name without a domain": lambda n: "a." * (n // 2),
    "scheme without ://": lambda n: "a" * (n - 1) + ":",
    "hyphenated word": lambda n: "a-" * (n // 2),
    "letters digits dots": lambda n: ("ab1." * n)[:n],
    "full-width letters": lambda n: "ａ" * n,
    "glued schemes": lambda n: ("http://" * n)[:n],
    "chinese": lambda n: "链" * n,
    "ids among links": lambda n: ("1234567 a.com " * n)[:n],
    "device words": lambda n: ("iphone 128g " * n)[:n],
}

LINK_ALPHABET = st.sampled_from(
    [*"abcwWxyz019._-:/ \n链ａ@?=", "://", "www.", ".com", ".cn", "http", ".io"]
)


@settings(max_examples=2000, deadline=None)
@given(st.lists(LINK_ALPHABET, max_size=40).map("".join))
def test_linkish_spans_find_what_the_old_regex_found(text: str) -> None:
    expected = [m.span() for m in QUADRATIC_LINKISH.finditer(text)]
    assert list(linkish_spans(text)) == expected
    assert has_link(text) == bool(expected)


def recognition_cost(text: str) -> float:
    """Best of seven: the least the machine's other work added to the measurement."""
    best = float("inf")
    for _ in range(7):
        start = time.perf_counter()
        recognise(text, LISTING_CLIENTS)
        looks_like_device(text)
        best = min(best, time.perf_counter() - start)
    return best


@pytest.mark.parametrize("shape", ADVERSARIAL)
def test_recognition_cost_grows_linearly_with_the_message(shape: str) -> None:
    make = ADVERSARIAL[shape]
    recognition_cost(make(1024))  # warm caches (catalogue, compiled patterns)
    ratio = recognition_cost(make(4096)) / recognition_cost(make(1024))
    assert ratio < 10, f"{shape}: 4x the text cost {ratio:.1f}x the time (quadratic: 16x)"


async def test_a_4096_character_hostile_message_gets_the_hint_and_links_still_work(
    bot_env: BotEnv,
) -> None:
    attacker, other = bot_env.user(9101), bot_env.user(9102)
    [hint] = await bot_env.say(attacker, "a." * 2048)
    assert "no listing" in hint.visible.lower()
    [card] = await bot_env.say(other, "https://www.goofish.com/item?id=756789012345")
    assert card.buttons  # a card with its buttons
