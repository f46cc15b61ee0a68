"""The callback-data codec: what every button writes, it reads back; nothing else gets in.

Forged data (a modified client can send any callback_data) answers "this button has
expired" and reaches no platform, no storage and no error handler.
"""

from __future__ import annotations

import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clients.models import ListingRef
from handlers import callbacks as cb
from handlers.texts import t
from tests.conftest import BotEnv

BEIKE = ListingRef("beike", "101127449675", "110000")
EXPIRED = t("en", "expired_button")

#: every button the bot writes, one of each kind
VALID = [
    cb.Refresh(BEIKE),
    cb.Photos(ListingRef("xianyu", "712345678901")),
    cb.Watch(ListingRef("anjuke", "AK2026011800001")),
    cb.ViewCard(BEIKE),
    cb.PickPlatform("xianyu", "712345678901"),
    cb.PickPlatform("beike", "712345678901"),
    # a kind of listing the link named (issue 11: never in the ID, always in the key)
    cb.Watch(ListingRef("anjuke", "245678", kind="new_home")),
    cb.Refresh(ListingRef("anjuke", "3166544960", kind="office")),
    cb.PickCity("310000", "107108339402"),
    cb.History(7),
    cb.Unwatch(2**62),
    cb.CreateAccount(1001, "AbC_-9xy"),
    cb.CancelAccount(1001, "AbC_-9xy"),
    cb.ForgetYes(1001),
    cb.ForgetNo(1001),
    cb.QuoteAnswer("AbC_-9", "option", 3),
    cb.QuoteAnswer("AbC_-9", "page", 1),
    cb.QuoteAnswer("AbC_-9", "cancel"),
    cb.QuoteCardAction("AbCd12xy", "c"),
    cb.QuoteCardAction("AbCd12xy", "f", 1),
    cb.QuoteCardAction("AbCd12xy", "r"),
]

#: the forged data of issue 10, and their cousins
FORGED = [
    "",
    "r|garbage",
    "p|zzz",
    "k|",
    "k|evil|123",
    "k|xianyu|../../etc",
    "c|999999|101127449675",
    "u|" + "9" * 28,
    "u|²",
    "u|0",
    "u|-1",
    "h|1.5",
    "w|beike:101127449675",  # Beike without its city
    "w|xianyu:110000:712345678901",  # a city where none belongs
    "r|anjuke:AK2026011800001:x",
    "r|anjuke:245678@palace",  # a kind Anjuke links never name
    "r|anjuke:245678@",
    "w|xianyu:712345678901@new_home",  # Xianyu links name no kind
    "v|beike:110000:101127449675|extra",
    "ar|1001|1",
    "ar|1001",  # an offer button from before offers were named: it names no offer
    "fy|",
    "q|tok|",
    "q|token|p-1",
    "q|token|9999",
    "qa|token|c99",
    "qa|token|z",
    "qa|../|r",
    "zz|1",
    "r" * 65,
]


@pytest.mark.parametrize("button", VALID, ids=lambda b: type(b).__name__)
def test_every_button_reads_back_as_written(button: cb.Button) -> None:
    data = cb.encode(button)
    assert len(data.encode()) <= cb.MAX_BYTES
    assert cb.decode(data) == button


@pytest.mark.parametrize("data", FORGED)
def test_forged_data_decodes_to_nothing(data: str) -> None:
    assert cb.decode(data) is None


def test_every_button_kind_has_its_handler() -> None:
    from handlers import BUTTONS, quotes

    answered = [k for _, kinds in BUTTONS for k in kinds] + list(quotes.CONVERSATION_BUTTONS)
    assert sorted(k.__name__ for k in answered) == sorted(k.__name__ for k in cb.KINDS)


def test_encoding_past_64_bytes_is_refused() -> None:
    with pytest.raises(ValueError, match="64 bytes"):
        cb.encode(cb.QuoteAnswer("A" * 80, "cancel"))


def upstream_calls(bot_env: BotEnv) -> int:
    return sum(c.calls for c in bot_env.sandbox.state.counters.values())


async def press_forged(bot_env: BotEnv, data: str) -> str | None:
    """Press `data` on a message of the bot's; the callback answer's text."""
    user = bot_env.user(1001)
    messages = bot_env.messages(user.id)
    if not messages:
        messages = await bot_env.say(user, "/start")
    query = await bot_env.emulator.press_data(user, messages[0], data)
    answer = await bot_env.emulator.wait_for_callback_answer(query)
    return answer.text


@pytest.mark.parametrize("data", FORGED)
async def test_forged_button_answers_expired_and_reaches_no_platform_or_storage(
    bot_env: BotEnv, caplog: pytest.LogCaptureFixture, data: str
) -> None:
    await press_forged(bot_env, "")  # the /start message to press on
    calls = upstream_calls(bot_env)
    with caplog.at_level(logging.WARNING):
        assert await press_forged(bot_env, data) == EXPIRED
    assert upstream_calls(bot_env) == calls
    assert (await bot_env.services.users.get(1001)).default_city is None  # c|999999 stored nothing
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


PREFIXES = [kind.PREFIX for kind in cb.KINDS]  # type: ignore[attr-defined]
fields = st.text(st.characters(codec="utf-8"), max_size=30)
forged_data = st.one_of(
    st.builds(lambda p, rest: f"{p}|{rest}", st.sampled_from(PREFIXES), fields),
    st.builds(lambda p, a, b: f"{p}|{a}|{b}", st.sampled_from(PREFIXES), fields, fields),
    st.text(max_size=70),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=forged_data)
async def test_fuzzed_callback_data_never_crashes_nor_calls_upstream_when_malformed(
    bot_env: BotEnv, data: str
) -> None:
    """Random data for every prefix through the real bot: never a traceback, and a
    malformed one answers 'expired' with no upstream call."""
    await press_forged(bot_env, "")
    calls = upstream_calls(bot_env)
    sent_before = len(bot_env.emulator.calls_to("sendMessage"))
    answer = await press_forged(bot_env, data)
    assert bot_env.emulator.refusals == []  # nothing Telegram would refuse
    if cb.decode(data) is None:
        assert answer == EXPIRED
        assert upstream_calls(bot_env) == calls
        assert len(bot_env.emulator.calls_to("sendMessage")) == sent_before  # no "Sorry"
