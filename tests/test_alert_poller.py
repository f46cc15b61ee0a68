"""The poll cycle and delivery against the sandbox platforms (real HTTP on 127.0.0.1).

A recording bot stands in for Telegram here; tests/test_alerts_e2e.py runs the same
promises through the Bot API emulator with the real Application.
"""

from __future__ import annotations

import itertools
import math
from datetime import timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest
from telegram import InlineKeyboardMarkup
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter

from clients.models import ListingStatus
from handlers.alerts import (
    render_alert,
    run_poll_cycle,
    send_pending_alerts,
)
from sandbox.core import Fault
from tests.alert_helpers import NOON, alert_env
from watching.delivery import MAX_SEND_ATTEMPTS
from watching.poller import checks_this_cycle, seconds_left_in_day

ITEM = "712345678901"  # Xianyu iPhone
OTHER = "6987654321098"  # Xianyu Huawei
HOSTILE = "756789012345"  # Xianyu '<b>全新</b> 小米手环8 & 原装充电器'
RENTAL = "2398427383"  # Anjuke rental, on the market


async def test_price_drop_alerts_every_watcher_exactly_once(tmp_path: Path) -> None:
    async with alert_env(tmp_path) as env:
        await env.watched_drop(ITEM, "5000", "4500")
        report = await run_poll_cycle(env.services, env.bot)
        assert report.alerts_created == 3
        assert sorted(s.chat_id for s in env.bot.sent) == [1, 2, 3]
        assert "5,000" in env.bot.sent[0].text and "4,500" in env.bot.sent[0].text
        for _ in range(3):  # the same price again and again: nothing more
            env.clock.advance(300)
            await run_poll_cycle(env.services, env.bot)
        assert len(env.bot.sent) == 3


async def test_each_further_drop_alerts_again(tmp_path: Path) -> None:
    async with alert_env(tmp_path) as env:
        env.set_price("xianyu", ITEM, "5000")
        await env.watch(1, "xianyu", ITEM)
        for price in ("4900", "4950", "4900", "4800"):
            env.set_price("xianyu", ITEM, price)
            env.clock.advance(300)
            await run_poll_cycle(env.services, env.bot)
        texts = [s.text for s in env.bot.to(1)]
        assert len(texts) == 2 and "4,900" in texts[0] and "4,800" in texts[1]


async def test_one_upstream_call_per_listing_however_many_watch_it(tmp_path: Path) -> None:
    async with alert_env(tmp_path) as env:
        for user in range(1, 41):
            await env.watch(user, "xianyu", ITEM)
        await env.watch(1, "xianyu", OTHER)
        before = env.sandbox.state.counters["xianyu"].calls
        report = await run_poll_cycle(env.services, env.bot)
        assert env.sandbox.state.counters["xianyu"].calls - before == 2
        assert report.checks == 2


async def test_no_alert_when_the_percent_rule_is_not_met(tmp_path: Path) -> None:
    async with alert_env(tmp_path) as env:
        env.set_price("xianyu", ITEM, "1000")
        await env.watch(1, "xianyu", ITEM, "10%")
        env.set_price("xianyu", ITEM, "901")
        await run_poll_cycle(env.services, env.bot)
        assert env.bot.sent == []
        env.set_price("xianyu", ITEM, "900")
        env.clock.advance(300)
        await run_poll_cycle(env.services, env.bot)
        assert len(env.bot.sent) == 1 and "−10.0%" in env.bot.sent[0].text


async def test_target_price_alerts_at_first_check_then_only_below_the_last_alert(
    tmp_path: Path,
) -> None:
    async with alert_env(tmp_path) as env:
        env.set_price("xianyu", ITEM, "4000")
        await env.watch(1, "xianyu", ITEM, "4200")
        await run_poll_cycle(env.services, env.bot)
        assert len(env.bot.sent) == 1 and "Target price reached" in env.bot.sent[0].text
        for price in ("4000", "4100", "4000", "3999"):
            env.set_price("xianyu", ITEM, price)
            env.clock.advance(300)
            await run_poll_cycle(env.services, env.bot)
        assert len(env.bot.sent) == 2 and "3,999" in env.bot.sent[1].text


async def test_no_alert_above_the_target(tmp_path: Path) -> None:
    async with alert_env(tmp_path) as env:
        env.set_price("xianyu", ITEM, "5000")
        await env.watch(1, "xianyu", ITEM, "¥3000")
        env.set_price("xianyu", ITEM, "3001")
        await run_poll_cycle(env.services, env.bot)
        assert env.bot.sent == []


async def test_sold_then_back_on_sale_is_told_to_every_watcher_once_each(tmp_path: Path) -> None:
    async with alert_env(tmp_path) as env:
        for user, rule in ((1, ""), (2, "5%"), (3, "100")):
            await env.watch(user, "xianyu", ITEM, rule)
        env.catalogue("xianyu").set_status(ITEM, ListingStatus.SOLD)
        await run_poll_cycle(env.services, env.bot)
        env.clock.advance(300)
        await run_poll_cycle(env.services, env.bot)
        assert sorted(s.chat_id for s in env.bot.sent) == [1, 2, 3]
        assert all("Sold" in s.text for s in env.bot.sent)
        env.catalogue("xianyu").set_status(ITEM, ListingStatus.ON_SALE)
        env.clock.advance(300)
        await run_poll_cycle(env.services, env.bot)
        back = env.bot.sent[3:]
        assert sorted(s.chat_id for s in back) == [1, 2, 3]
        assert all("Back on sale" in s.text for s in back)


async def test_a_removed_listing_is_reported_taken_down_once(tmp_path: Path) -> None:
    async with alert_env(tmp_path) as env:
        await env.watch(1, "xianyu", ITEM)
        await env.watch(2, "xianyu", ITEM)
        env.catalogue("xianyu").remove(ITEM)
        for _ in range(3):
            await run_poll_cycle(env.services, env.bot)
            env.clock.advance(300)
        assert sorted(s.chat_id for s in env.bot.sent) == [1, 2]
        assert all("Taken down" in s.text for s in env.bot.sent)


async def test_a_rental_that_is_let_is_reported_rented(tmp_path: Path) -> None:
    async with alert_env(tmp_path) as env:
        await env.watch(1, "anjuke", RENTAL)
        env.catalogue("anjuke").set_status(RENTAL, ListingStatus.RENTED)
        await run_poll_cycle(env.services, env.bot)
        assert len(env.bot.sent) == 1 and "Rented" in env.bot.sent[0].text


async def test_beike_listings_are_checked_in_their_city(tmp_path: Path) -> None:
    async with alert_env(tmp_path) as env:
        await env.watch(1, "beike", "101127449675", city_id="110000")
        env.set_price("beike", "101127449675", "199.5")
        await run_poll_cycle(env.services, env.bot)
        assert len(env.bot.sent) == 1 and "199.5 万" in env.bot.sent[0].text


async def test_alerts_use_the_users_stored_language(tmp_path: Path) -> None:
    async with alert_env(tmp_path) as env:
        written = env.services.users.touch(1, "zh")
        assert written is not None
        written.result()  # the write is queued on the database's thread: let it land
        env.set_price("xianyu", ITEM, "5000")
        await env.watch(1, "xianyu", ITEM)
        await env.watch(2, "xianyu", ITEM)
        env.set_price("xianyu", ITEM, "4000")
        await run_poll_cycle(env.services, env.bot)
        assert "降价了" in env.bot.to(1)[0].text
        assert "Price drop" in env.bot.to(2)[0].text


async def test_alerts_read_their_owners_language_with_them_not_one_read_per_user(
    tmp_path: Path,
) -> None:
    async with alert_env(tmp_path) as env:
        users = env.services.users
        for user, lang in ((1, "zh"), (2, "en"), (3, "zh")):
            written = users.touch(user, lang)
            assert written is not None
            written.result()
        users._languages.clear()  # as after a restart: the file is all that knows them
        users._languages[3] = "en"  # newer in memory than in the file: memory wins
        env.set_price("xianyu", ITEM, "5000")
        for user in (1, 2, 3, 4):
            await env.watch(user, "xianyu", ITEM)
        env.set_price("xianyu", ITEM, "4000")
        reads: list[str] = []
        env.services.database._reader_db.conn.set_trace_callback(reads.append)
        await run_poll_cycle(env.services, env.bot)
        env.services.database._reader_db.conn.set_trace_callback(None)
        assert "降价了" in env.bot.to(1)[0].text
        assert "Price drop" in env.bot.to(2)[0].text
        assert "Price drop" in env.bot.to(3)[0].text
        assert "Price drop" in env.bot.to(4)[0].text  # never seen: English
        assert [r for r in reads if "FROM users" in r] == []


async def test_the_alert_shows_prices_change_lowest_title_link_and_buttons(tmp_path: Path) -> None:
    async with alert_env(tmp_path) as env:
        env.set_price("xianyu", HOSTILE, "200")
        sub = await env.watch(1, "xianyu", HOSTILE)
        env.set_price("xianyu", HOSTILE, "150")
        await run_poll_cycle(env.services, env.bot)
        (message,) = env.bot.sent
        assert "¥200 → <b>¥150</b> (−25.0%)" in message.text
        assert "Lowest seen: ¥150" in message.text
        assert "&lt;b&gt;全新&lt;/b&gt; 小米手环8 &amp; 原装充电器" in message.text
        assert f'href="https://www.goofish.com/item?id={HOSTILE}"' in message.text
        buttons = [b for row in message.markup["inline_keyboard"] for b in row]
        assert [b["callback_data"] for b in buttons] == [
            f"v|xianyu:{HOSTILE}",
            f"h|{sub.id}",
            f"u|{sub.id}",
        ]
        assert all(len(b["callback_data"].encode()) <= 64 for b in buttons)
        # the Bot API's own object, as python-telegram-bot would have written it
        keyboard = InlineKeyboardMarkup.de_json(message.markup, None)
        assert keyboard is not None and keyboard.to_dict() == message.markup
        assert message.options == {
            "parse_mode": "HTML",
            "link_preview_options": {"is_disabled": True},
        }


async def test_lowest_price_seen_survives_a_rise(tmp_path: Path) -> None:
    async with alert_env(tmp_path) as env:
        env.set_price("xianyu", ITEM, "5000")
        await env.watch(1, "xianyu", ITEM)
        for price in ("4000", "4800", "3900"):
            env.set_price("xianyu", ITEM, price)
            env.clock.advance(300)
            await run_poll_cycle(env.services, env.bot)
        assert "Lowest seen: ¥3,900" in env.bot.sent[-1].text
        assert "¥4,000 → <b>¥3,900</b>" in env.bot.sent[-1].text


# -- delivery: exactly once in effect ---------------------------------------------------------


async def test_a_restart_between_recording_and_sending_delivers_the_alert_once(
    tmp_path: Path,
) -> None:
    async with alert_env(tmp_path) as env:
        env.set_price("xianyu", ITEM, "5000")
        await env.watch(1, "xianyu", ITEM)
        await env.watch(2, "xianyu", ITEM)
        env.set_price("xianyu", ITEM, "4000")
        report = await run_poll_cycle(env.services, env.bot, deliver=False)  # then: crash
        assert report.alerts_created == 2 and env.bot.sent == []
        await env.restart()
        delivered = await send_pending_alerts(env.services, env.bot)
        assert delivered.sent == 2
        assert sorted(s.chat_id for s in env.bot.sent) == [1, 2]
        env.clock.advance(300)
        await run_poll_cycle(env.services, env.bot)  # the same price, seen again
        await env.restart()
        await send_pending_alerts(env.services, env.bot)
        assert len(env.bot.sent) == 2


async def test_a_restart_with_nothing_pending_sends_nothing(tmp_path: Path) -> None:
    async with alert_env(tmp_path) as env:
        env.set_price("xianyu", ITEM, "5000")
        await env.watch(1, "xianyu", ITEM)
        env.set_price("xianyu", ITEM, "4000")
        await run_poll_cycle(env.services, env.bot)
        assert len(env.bot.sent) == 1
        await env.restart()
        assert (await send_pending_alerts(env.services, env.bot)).sent == 0
        await run_poll_cycle(env.services, env.bot)
        assert len(env.bot.sent) == 1


async def test_a_user_who_blocked_the_bot_is_paused_not_retried(tmp_path: Path) -> None:
    async with alert_env(tmp_path) as env:
        env.set_price("xianyu", ITEM, "5000")
        await env.watch(1, "xianyu", ITEM)
        await env.watch(2, "xianyu", ITEM)
        await env.watch(2, "xianyu", OTHER)
        env.bot.failures[2] = [Forbidden("Forbidden: bot was blocked by the user")]
        env.set_price("xianyu", ITEM, "4000")
        delivered = await run_poll_cycle(env.services, env.bot)
        assert delivered.alerts_created == 2
        assert [s.chat_id for s in env.bot.sent] == [1]
        subs = env.services.watches
        assert all(e.watch.paused_reason == "blocked" for e in await subs.for_user(2))
        assert (await subs.for_user(1))[0].watch.paused_reason is None
        env.set_price("xianyu", ITEM, "3000")
        env.clock.advance(300)
        await run_poll_cycle(env.services, env.bot)
        assert [s.chat_id for s in env.bot.sent] == [1, 1]  # user 2 neither alerted nor retried
        assert (await env.services.alerts.counts()).pending == 0


async def test_a_blocked_user_who_comes_back_is_watched_again(tmp_path: Path) -> None:
    async with alert_env(tmp_path) as env:
        env.set_price("xianyu", ITEM, "5000")
        await env.watch(2, "xianyu", ITEM)
        env.bot.failures[2] = [Forbidden("Forbidden: bot was blocked by the user")]
        env.set_price("xianyu", ITEM, "4000")
        await run_poll_cycle(env.services, env.bot)
        assert await env.services.watches.resume_chat(2) == 1
        env.set_price("xianyu", ITEM, "3000")
        env.clock.advance(300)
        await run_poll_cycle(env.services, env.bot)
        assert [s.chat_id for s in env.bot.sent] == [2]


@pytest.mark.parametrize(
    "error",
    [BadRequest("Can't parse entities"), BadRequest("Chat not found")],
)
async def test_a_bad_request_never_pauses_or_removes_watches(
    tmp_path: Path, error: Exception
) -> None:
    async with alert_env(tmp_path) as env:
        env.set_price("xianyu", ITEM, "5000")
        await env.watch(1, "xianyu", ITEM)
        env.bot.failures[1] = [error]
        env.set_price("xianyu", ITEM, "4000")
        await run_poll_cycle(env.services, env.bot)
        assert env.bot.sent == []
        entry = (await env.services.watches.for_user(1))[0]
        assert entry.watch.paused_reason is None
        env.set_price("xianyu", ITEM, "3000")
        env.clock.advance(300)
        await run_poll_cycle(env.services, env.bot)
        assert len(env.bot.sent) == 1 and "3,000" in env.bot.sent[0].text


async def test_a_network_fault_is_retried_on_the_next_run_and_sent_once(tmp_path: Path) -> None:
    async with alert_env(tmp_path) as env:
        env.set_price("xianyu", ITEM, "5000")
        await env.watch(1, "xianyu", ITEM)
        env.bot.failures[1] = [NetworkError("connection reset")]
        env.set_price("xianyu", ITEM, "4000")
        report = await run_poll_cycle(env.services, env.bot)
        assert report.alerts_created == 1 and env.bot.sent == []
        assert (await env.services.watches.for_user(1))[0].watch.paused_reason is None
        env.clock.advance(300)
        await run_poll_cycle(env.services, env.bot)
        await run_poll_cycle(env.services, env.bot)
        assert len(env.bot.sent) == 1 and "4,000" in env.bot.sent[0].text


async def test_an_alert_that_keeps_failing_is_given_up_without_touching_the_watch(
    tmp_path: Path,
) -> None:
    async with alert_env(tmp_path) as env:
        await env.watch(1, "xianyu", ITEM)
        env.bot.failures[1] = [NetworkError("down")] * MAX_SEND_ATTEMPTS
        env.catalogue("xianyu").set_status(ITEM, ListingStatus.SOLD)
        await run_poll_cycle(env.services, env.bot)
        for _ in range(MAX_SEND_ATTEMPTS):
            await send_pending_alerts(env.services, env.bot)
        counts = await env.services.alerts.counts()
        assert (counts.pending, counts.failed, counts.sent) == (0, 1, 0)
        assert await env.services.watches.count_for_user(1) == 1


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_retry_after_is_obeyed_and_the_alert_sent_once(tmp_path: Path) -> None:
    async with alert_env(tmp_path) as env:
        await env.watch(1, "xianyu", ITEM)
        env.bot.failures[1] = [RetryAfter(timedelta(seconds=7))]
        env.catalogue("xianyu").set_status(ITEM, ListingStatus.SOLD)
        env.clock.slept.clear()
        await run_poll_cycle(env.services, env.bot)
        assert 7.0 in env.clock.slept
        assert len(env.bot.sent) == 1


async def test_a_group_that_became_a_supergroup_gets_its_alert_there(tmp_path: Path) -> None:
    async with alert_env(tmp_path) as env:
        await env.watch(1, "xianyu", ITEM, chat_id=-100)
        env.bot.failures[-100] = [ChatMigrated(-1009)]
        env.catalogue("xianyu").set_status(ITEM, ListingStatus.SOLD)
        await run_poll_cycle(env.services, env.bot)
        assert [s.chat_id for s in env.bot.sent] == [-1009]
        assert (await env.services.watches.for_user(1))[0].watch.chat_id == -1009


async def test_one_chat_gets_at_most_one_message_per_second(tmp_path: Path) -> None:
    async with alert_env(tmp_path) as env:
        ids = [ITEM, OTHER, HOSTILE, "767890123456"]  # all on sale
        for listing_id in ids:
            env.set_price("xianyu", listing_id, "1000")
            await env.watch(1, "xianyu", listing_id)
            await env.watch(2, "xianyu", listing_id)
        for listing_id in ids:
            env.set_price("xianyu", listing_id, "900")
        await run_poll_cycle(env.services, env.bot)
        for chat in (1, 2):
            times = [s.at for s in env.bot.to(chat)]
            assert len(times) == 4
            assert all(b - a >= 1.0 for a, b in itertools.pairwise(times))


# -- planning within quota and rate ---------------------------------------------------------------


def test_the_cycle_share_spreads_the_quota_left_over_the_day() -> None:
    planned, credit = checks_this_cycle(
        watched=100, quota_left=70, per_second=1, interval=300, seconds_left=43_200, credit=0.0
    )
    assert planned == 0 and credit == pytest.approx(70 * 300 / 43_200)
    total, credit = 0, 0.0
    for n in range(144):  # the rest of the day, cycle by cycle
        planned, credit = checks_this_cycle(
            watched=100,
            quota_left=70 - total,
            per_second=1,
            interval=300,
            seconds_left=43_200 - n * 300,
            credit=credit,
        )
        credit -= planned
        total += planned
    assert 69 <= total <= 70


def test_the_cycle_never_plans_more_than_one_round_the_quota_or_half_the_rate() -> None:
    assert (
        checks_this_cycle(
            watched=5, quota_left=None, per_second=None, interval=300, seconds_left=1000, credit=0
        )[0]
        == 5
    )
    assert (
        checks_this_cycle(
            watched=5000, quota_left=3, per_second=None, interval=300, seconds_left=100, credit=0
        )[0]
        == 3
    )
    assert (
        checks_this_cycle(
            watched=5000,
            quota_left=10**6,
            per_second=1,
            interval=300,
            seconds_left=86_400,
            credit=0,
        )[0]
        == 150
    )
    assert (
        checks_this_cycle(
            watched=0, quota_left=10, per_second=1, interval=300, seconds_left=100, credit=3
        )[0]
        == 0
    )


def test_seconds_left_in_the_platform_day_count_to_midnight_in_china() -> None:
    assert seconds_left_in_day(NOON) == 12 * 3600
    assert seconds_left_in_day(NOON + 12 * 3600 - 1) == 1


async def test_a_small_quota_is_spread_evenly_and_never_overspent(tmp_path: Path) -> None:
    # Xianyu personal: 100 calls a day, 70 of them for polling after the chat reserve
    tiers = {"xianyu": "personal", "anjuke": "personal"}
    async with alert_env(tmp_path, tiers=tiers) as env:
        for listing_id in env.catalogue("xianyu").ids()[:8]:
            await env.watch(1, "xianyu", listing_id)  # 8 chat calls, from the same day's quota
        left = env.services.gateway.quota_left("xianyu")
        assert left == 70 - 8
        midnight = NOON + 12 * 3600
        checks: list[float] = []
        quota_errors = 0
        while env.clock.time() + 300 < midnight:
            report = await run_poll_cycle(env.services, env.bot)
            quota_errors += report.quota_errors
            checks += [env.clock.time()] * report.checks
            env.clock.advance(300)
        assert quota_errors == 0
        assert left - 1 <= len(checks) <= left  # all of it, none beyond
        assert env.sandbox.state.used_today("xianyu") <= 70
        gaps = [b - a for a, b in itertools.pairwise(checks)]
        even = 12 * 3600 / left
        assert max(gaps) <= even + 300 and min(gaps) >= even - 300


async def test_the_stalest_listings_are_checked_first(tmp_path: Path) -> None:
    async with alert_env(tmp_path) as env:
        ids = env.catalogue("xianyu").ids()[:3]
        for listing_id in ids:
            await env.watch(1, "xianyu", listing_id)
        rt = env.services.watching
        rt.credit["xianyu"] = -math.inf  # plan nothing this cycle...
        for listing_id, when in zip(ids, (30.0, 10.0, 20.0), strict=True):
            await rt.watches.record_failure(f"xianyu:{listing_id}", "transient", when)
        order = [w.listing_id for w in await rt.watches.stalest("xianyu", 3)]
        assert order == [ids[1], ids[2], ids[0]]


async def test_quota_refusal_stops_the_platform_for_the_cycle(tmp_path: Path) -> None:
    async with alert_env(tmp_path) as env:
        for listing_id in env.catalogue("xianyu").ids()[:3]:
            await env.watch(1, "xianyu", listing_id)
        env.sandbox.state.inject(
            "xianyu", Fault("code", status=403, code=7, msg="今日调用次数已达上限 access-count")
        )
        report = await run_poll_cycle(env.services, env.bot)
        (plan,) = report.plans
        assert plan.stopped == "quota" and report.quota_errors >= 1
        assert env.services.gateway.quota_left("xianyu") == 0  # the platform said so: stop today


async def test_a_failed_check_loses_nothing_and_is_retried(tmp_path: Path) -> None:
    async with alert_env(tmp_path) as env:
        env.set_price("xianyu", ITEM, "5000")
        await env.watch(1, "xianyu", ITEM)
        env.sandbox.state.inject("xianyu", Fault("http", status=500), times=3)
        env.set_price("xianyu", ITEM, "4000")
        report = await run_poll_cycle(env.services, env.bot)
        assert report.errors == 1 and env.bot.sent == []
        listing = await env.services.watches.listing(f"xianyu:{ITEM}")
        assert listing is not None and listing.last_error == "transient" and listing.errors == 1
        env.clock.advance(300)
        await run_poll_cycle(env.services, env.bot)
        assert len(env.bot.sent) == 1


async def test_disabled_platforms_are_skipped(tmp_path: Path) -> None:
    async with alert_env(tmp_path) as env:
        await env.watch(1, "xianyu", ITEM)
    async with alert_env(tmp_path, xianyu_app_secret="") as env:
        report = await run_poll_cycle(env.services, env.bot)
        assert report.plans == () and report.checks == 0


def test_render_alert_for_every_change_kind() -> None:
    from storage.alerts import PendingAlert

    def alert(changes: tuple[str, ...], status: str) -> PendingAlert:
        return PendingAlert(
            id=1,
            watch_id=9,
            user_id=1,
            chat_id=1,
            ref_key="anjuke:A1",
            changes=changes,
            old_price=D("350"),
            new_price=D("330.5"),
            lowest_price=D("330.5"),
            status=status,
            created_at=0.0,
            attempts=0,
            title="x" * 300,
            url="https://anjuke.com/a",
            platform="anjuke",
            price_unit="wan_yuan",
            rule="percent",
            rule_value=D("5"),
        )

    for changes, status, headline in [
        (("price_drop",), "on_sale", "Price drop"),
        (("target_reached",), "on_sale", "Target price reached"),
        (("sold",), "sold", "Sold"),
        (("rented",), "rented", "Rented"),
        (("taken_down",), "taken_down", "Taken down"),
        (("back_on_sale", "price_drop"), "on_sale", "Back on sale"),
    ]:
        text, _ = render_alert(alert(changes, status), "en")
        assert headline in text
        assert "x" * 201 not in text  # long titles are cut
        assert "a drop of 5% or more" in text
    text, _ = render_alert(alert(("price_drop",), "on_sale"), "en")
    assert "350 万 (¥3,500,000) → <b>330.5 万 (¥3,305,000)</b> (−5.6%)" in text
    zh, _ = render_alert(alert(("sold",), "sold"), "zh")
    assert "已售出" in zh and "最后价格" in zh


async def test_a_group_gets_at_most_twenty_alerts_a_minute(tmp_path: Path) -> None:
    async with alert_env(tmp_path) as env:
        ids = [ITEM, OTHER, HOSTILE, "767890123456"]
        for user, listing_id in enumerate(ids, start=1):
            env.set_price("xianyu", listing_id, "1000")
            await env.watch(user, "xianyu", listing_id, chat_id=-100)
            env.set_price("xianyu", listing_id, "900")
        await run_poll_cycle(env.services, env.bot)
        times = [s.at for s in env.bot.to(-100)]
        assert len(times) == 4
        assert all(b - a >= 3.0 for a, b in itertools.pairwise(times))


async def test_a_broken_watch_costs_no_other_listing_its_check(tmp_path: Path) -> None:
    async with alert_env(tmp_path) as env:
        env.set_price("xianyu", ITEM, "5000")
        env.set_price("xianyu", OTHER, "5000")
        broken = await env.watch(1, "xianyu", ITEM)
        await env.watch(2, "xianyu", OTHER)
        env.services.database.db.execute(
            "UPDATE watches SET rule = 'no-such-rule' WHERE id = ?", [broken.id]
        )
        env.set_price("xianyu", ITEM, "4000")
        env.set_price("xianyu", OTHER, "4000")
        report = await run_poll_cycle(env.services, env.bot)
        assert (report.checks, report.errors) == (1, 1)
        assert [s.chat_id for s in env.bot.sent] == [2]
        listing = await env.services.watches.listing(f"xianyu:{ITEM}")
        assert listing is not None and listing.price == D("5000")  # rolled back
        assert listing.last_error == "internal"  # and moved behind the others
