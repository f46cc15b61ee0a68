"""Recognition reads any message up to Telegram's 4,096 characters in linear time.

A message the bot cannot read in linear time blocks the event loop for every chat: the
old one-regex link finder backtracked over every run of word characters from every
start (1.5 s for one 4,096-character message). Two things are pinned here:

- `linkish_spans` finds exactly what that regex found (a hypothesis property against
  the regex as an oracle), so the rewrite changed the cost and nothing else;
- the Python work of recognising a message (links, bare IDs, device descriptions),
  counted exactly as the lines the interpreter runs, grows at most 4x from a 1,024- to
  a 4,096-character adversarial message: a count, not a time, so the test says the
  same on any machine;
- the work inside the regular-expression engine cannot be counted (CPython exposes no
  step count, and these machines have no instruction counters), and the old finder's
  cost was all there: it is timed by `bench/recognition.py` (the time ratio of the two
  lengths against the 16x of a quadratic scan, figures in BENCHMARKS.md), not here, as
  a time on a shared machine is no pass or fail. The adversarial shapes and the line
  counter live there too, so the bench and this test measure the same messages.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.recognition import ADVERSARIAL, forget_messages, lines_run, recognise_all
from clients import links, xianyu
from clients.links import has_link, linkish_spans
from clients.recognise import recognise
from clients.registry import LISTING_CLIENTS
from tests.conftest import BotEnv

#: the regex the linear finder replaced (clients/recognise.py before issue 9)
QUADRATIC_LINKISH = re.compile(
    r"(?:[a-z][a-z0-9+.-]*://|www\.)\S+|\b[\w.-]+\.(?:com|cn|net|org|io|me|xyz|top)\b\S*",
    re.IGNORECASE,
)

LINK_ALPHABET = st.sampled_from(
    [*"abcwWxyz019._-:/ \n链ａ@?=", "://", "www.", ".com", ".cn", "http", ".io"]
)


@settings(max_examples=2000, deadline=None)
@given(st.lists(LINK_ALPHABET, max_size=40).map("".join))
def test_linkish_spans_find_what_the_old_regex_found(text: str) -> None:
    expected = [m.span() for m in QUADRATIC_LINKISH.finditer(text)]
    assert list(linkish_spans(text)) == expected
    assert has_link(text) == bool(expected)


def grows_linearly(work: Callable[[str], object], make: Callable[[int], str]) -> bool:
    lines_run(work, make(1024))  # load the catalogue and compile patterns outside the count
    short, long = lines_run(work, make(1024)), lines_run(work, make(4096))
    return long <= 4 * short + 500


@pytest.mark.parametrize("shape", ADVERSARIAL)
def test_the_python_work_of_recognition_grows_linearly_with_the_message(shape: str) -> None:
    assert grows_linearly(recognise_all, ADVERSARIAL[shape])


def test_the_line_count_catches_a_scan_that_restarts_at_every_position() -> None:
    """The measure is not blind: the old finder's shape, spelt in Python, fails it."""

    def word_then_dot_com(text: str) -> None:
        for start in range(len(text)):
            end = start
            while end < len(text) and (text[end].isalnum() or text[end] in "._-"):
                end += 1
            if text[start:end].endswith(".com"):
                return

    assert not grows_linearly(word_then_dot_com, ADVERSARIAL["one long word"])
    assert grows_linearly(word_then_dot_com, ADVERSARIAL["ids among links"])


async def test_a_4096_character_hostile_message_gets_the_hint_and_links_still_work(
    bot_env: BotEnv,
) -> None:
    attacker, other = bot_env.user(9101), bot_env.user(9102)
    [hint] = await bot_env.say(attacker, "a." * 2048)
    assert "no listing" in hint.visible.lower()
    [card] = await bot_env.say(other, "https://www.goofish.com/item?id=756789012345")
    assert card.buttons  # a card with its buttons


SHARE_TEXT = (
    "【闲鱼】https://m.tb.cn/h.5AbCdEf?tk=xyz 「我在闲鱼发布了【iPhone 13 128G】」点击链接直接打开"
)


@pytest.mark.parametrize(
    "text",
    [
        "https://www.goofish.com/item?id=712345678901",
        SHARE_TEXT,
        "看 bj.ke.com/ershoufang/101127449675.html",
    ],
)
def test_a_message_s_link_candidates_are_read_once_for_every_platform(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each platform's `find` reads the same message: the candidates are cut out once."""
    reads: list[str] = []
    cut = links._url_candidates

    def counted(normal: str, scheme: re.Pattern[str]) -> Iterator[tuple[int, str]]:
        reads.append(normal)
        return cut(normal, scheme)

    monkeypatch.setattr(links, "_url_candidates", counted)
    forget_messages()
    assert recognise(text, LISTING_CLIENTS)
    assert reads == [text]


def test_an_app_link_glued_to_a_web_link_is_still_cut_apart_for_xianyu() -> None:
    text = "https://www.goofish.com/item?id=712345678901FLEAMARKET://item?id=698765432109876543"
    forget_messages()
    found = recognise(text, LISTING_CLIENTS)
    assert [f.ref.listing_id for f in found if f.ref] == ["712345678901", "698765432109876543"]


SCHEME_ALPHABET = st.sampled_from(
    [*"ab1=?/.: 链", "http://", "HTTPS://", "fleamarket://", "FleaMarket://", "item?id=", "ｆ"]
)


@settings(max_examples=1000, deadline=None)
@given(st.lists(SCHEME_ALPHABET, max_size=20).map("".join))
def test_xianyu_s_shared_candidates_are_those_its_own_schemes_cut(text: str) -> None:
    """Without an app link, the web schemes split a text where Xianyu's schemes do."""
    normal, _ = links.fold_with_origins(text)
    expected = list(links._url_candidates(normal, xianyu._SCHEME))
    assert list(links.url_candidates(normal, xianyu._link_schemes(normal))) == expected


def test_a_remembered_url_split_still_refuses_a_bad_port_to_whoever_checks_ports() -> None:
    """Every platform asks about each candidate; the answer is kept, the check is not."""
    forget_messages()
    for url in ("bj.anjuke.com:abc/prop/view/1", "https://m.tb.cn:99999/h.x"):
        assert links.split_url(url) is not None  # kept, with its port unread
        assert links.split_url(url, check_port=True) is None
        assert links.split_url(url) is not None
    assert links.split_url("https://[::1/x") is None
    assert links.split_url("HTTPS://M.TB.cn./h.x?a=1", check_port=True) == (
        "https",
        "m.tb.cn",
        "/h.x",
        "a=1",
    )


def test_each_candidate_is_split_once_for_every_platform(monkeypatch: pytest.MonkeyPatch) -> None:
    splits: list[str] = []
    urlsplit = links.urlsplit

    def counted(url: str) -> object:
        splits.append(url)
        return urlsplit(url)

    monkeypatch.setattr(links, "urlsplit", counted)
    forget_messages()
    assert recognise(SHARE_TEXT, LISTING_CLIENTS)
    assert len(splits) == len(set(splits))
