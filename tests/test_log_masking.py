"""The log masker (bot/logs.py), property-tested: phones in every common form, emails in
any script, Telegram names and usernames never reach a log line (issue 18 point 7)."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from telegram import Chat, User

from bot.logs import RedactingFormatter, setup_logging

redact = RedactingFormatter("%(message)s").redact
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
TO_ASCII = str.maketrans("０１２３４５６７８９", "0123456789")

#: text around a phone: anything but digits (a digit next to it makes a longer number)
surrounding = st.text(
    st.characters(exclude_categories=["Nd", "Cs"], exclude_characters="+＋"), max_size=20
).map(lambda s: s + " ")
phones = st.tuples(st.sampled_from("3456789"), st.text("0123456789", min_size=9, max_size=9)).map(
    lambda p: "1" + p[0] + p[1]
)


@st.composite
def written_phones(draw: st.DrawFn) -> tuple[str, str]:
    """A mobile number and one way a person writes it."""
    number = draw(phones)
    a, b, c = number[:3], number[3:7], number[7:]
    sep = draw(st.sampled_from(["", " ", "-", ".", "　", "－", " - "]))
    first = draw(st.sampled_from([a, f"({a})", f"（{a}）"]))
    prefix = draw(st.sampled_from(["", "+86 ", "+86", "86", "0086-", "(+86) ", "＋８６ ", "+86-"]))
    text = f"{prefix}{first}{sep}{b}{sep}{c}"
    if draw(st.booleans()):
        text = text.translate(FULL_WIDTH)
    return number, text


def digits_of(text: str) -> str:
    return "".join(ch for ch in text.translate(TO_ASCII) if ch.isdigit())


@given(written_phones(), surrounding, surrounding)
def test_a_phone_in_any_common_form_is_masked(phone: tuple[str, str], before: str, after: str):
    number, written = phone
    out = redact(f"{before}{written} {after}")
    assert number not in digits_of(out)  # the whole number is gone, in any digits
    assert number[:3] + "****" + number[7:] in out.translate(TO_ASCII)


@pytest.mark.parametrize(
    "written",
    [
        "+86 139 1234 5678",
        "139-1234-5678",
        "(139)12345678",
        "１３９１２３４５６７８",
        "0086 13912345678",
    ],
)
def test_the_issues_phone_forms_are_masked(written: str) -> None:
    out = redact(f"linking {written} now")
    assert "1234" not in out.translate(TO_ASCII) and "****" in out


local_parts = (
    st.text(st.characters(categories=["L"]), min_size=1, max_size=12)
    .map(
        lambda s: s + "."  # a dot and a letter: as in k.wang
    )
    .map(lambda s: s + "w")
)


@given(local_parts, st.sampled_from(["example.com", "qq.com", "mail.163.com"]))
def test_an_email_with_a_local_part_in_any_script_is_masked(local: str, domain: str) -> None:
    assert redact(f"mail {local}@{domain} sent") == f"mail ***@{domain} sent"


def test_the_issues_email_is_masked() -> None:
    assert redact("linking 张三@example.com") == "linking ***@example.com"


names = st.text(st.characters(categories=["L"]), min_size=3, max_size=16)
usernames = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{4,31}", fullmatch=True)


@given(names, names, usernames)
def test_telegram_names_and_usernames_never_reach_the_log(first: str, last: str, username: str):
    user = User(5001, first, False, last_name=last, username=username)
    chat = Chat(5001, "private", first_name=first, last_name=last, username=username)
    skeleton = redact(repr(User(5001, "x", False, last_name="y", username="zzzzz")))
    assume(all(n not in skeleton for n in (first, last, username)))
    for text in (repr(user), repr(chat), str(user.to_dict()), f"from @{username}: hi"):
        out = redact(text)
        assert first not in out and last not in out and username not in out, out


@given(st.text(max_size=200))
def test_the_masker_never_fails_and_masks_nothing_twice(text: str) -> None:
    once = redact(text)
    assert redact(once) == once


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    stream = io.StringIO()
    yield stream
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in saved[0]:
        root.addHandler(handler)
    root.setLevel(saved[1])


@pytest.mark.parametrize("level", ["INFO", "WARNING", "ERROR"])
def test_a_user_object_logged_above_debug_shows_no_name(captured: io.StringIO, level: str) -> None:
    setup_logging("DEBUG", [], stream=captured)
    user = User(5001, "王小明", False, last_name="Wang", username="xiaoming_w")
    logging.getLogger("handlers").log(getattr(logging, level), "update from %r", user)
    out = captured.getvalue()
    assert f" {level} " in out and "5001" in out
    assert "王小明" not in out and "Wang" not in out and "xiaoming_w" not in out
