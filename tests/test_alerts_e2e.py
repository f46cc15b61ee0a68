"""Price alerts, /link, /account, /forget and /stats end to end.

Real pieces only: the sandbox platforms and the Bot API emulator on 127.0.0.1, and the
bot's own `Application` (handlers, rate limiter, JobQueue, post_init) polling the
emulator. Poll cycles are run by calling `run_poll_cycle` with the application's bot,
as the JobQueue job does, so time stays on the fake clock.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from telegram.ext import Application

from bot.app import build_application
from bot.config import Settings, load_settings
from bot.services import Services, build_services
from clients.models import ListingRef, ListingStatus
from clock import FakeClock
from gateway.budget import SYSTEM
from handlers.alerts import run_poll_cycle
from sandbox.anjuke_open import USERS
from sandbox.botapi import BotApiEmulator, Chat, SentMessage, User
from sandbox.server import Sandbox
from tests.alert_helpers import GENEROUS, NOON
from tests.conftest import ROOMY_FLOOD_BURST, unpaced

TOKEN = "100000001:alerts-e2e-token"
ADMIN = 9000
ITEM = "712345678901"
ITEM_LINK = f"https://www.goofish.com/item?id={ITEM}"
OTHER_LINK = "https://www.goofish.com/item?id=6987654321098"
HOSTILE_LINK = "https://www.goofish.com/item?id=756789012345"
SOFA_LINK = "https://www.goofish.com/item?id=767890123456"


@dataclass
class Running:
    services: Services
    application: Application  # type: ignore[type-arg]


@dataclass
class BotWorld:
    clock: FakeClock
    sandbox: Sandbox
    emulator: BotApiEmulator
    settings: Settings
    app: Running | None = None

    @property
    def services(self) -> Services:
        assert self.app is not None
        return self.app.services

    @property
    def bot(self) -> Any:
        assert self.app is not None
        return self.app.application.bot

    def person(self, user_id: int, lang: str = "en") -> User:
        return self.emulator.user(user_id, first_name=f"U{user_id}", language_code=lang)

    async def say(
        self, user: User, text: str, chat: Chat | None = None, replies: int = 1
    ) -> list[SentMessage]:
        """The user writes; return the bot's new messages in that chat (at least `replies`)."""
        chat_id = chat.id if chat else user.id
        before = len(self.emulator.sent[chat_id])
        await self.emulator.send_text(user, chat, text)
        messages = await self.emulator.wait_for_messages(chat_id, before + replies, timeout=10)
        return messages[before:]

    async def share_phone(
        self, user: User, phone: str, *, contact_user_id: int | None = None
    ) -> SentMessage:
        """The user presses the request_contact button (their own verified number, unless
        `contact_user_id` says whose card it is); return the bot's answer."""
        before = len(self.emulator.sent[user.id])
        await self.emulator.send_contact(user, phone, contact_user_id=contact_user_id)
        messages = await self.emulator.wait_for_messages(user.id, before + 1, timeout=10)
        return messages[before]

    async def link(self, user: User, phone: str, command: str = "/link") -> SentMessage:
        """/link, then the verified phone; return the bot's answer to the phone."""
        (ask,) = await self.say(user, command)
        assert (
            ask.reply_markup is not None and ask.reply_markup["keyboard"][0][0]["request_contact"]
        )
        return await self.share_phone(user, phone)

    async def press_data(self, user: User, message: SentMessage, data: str) -> str | None:
        """Send `data` as if pressed on `message`, button or not; the callback answer's text."""
        query_id = await self.emulator.press_data(user, message, data)
        answer = await self.emulator.wait_for_callback_answer(query_id, timeout=10)
        return answer.text

    async def press(self, user: User, message: SentMessage, data: str) -> str | None:
        """Press the button with `data`; return the callback answer's text."""
        query_id = await self.emulator.press(user, message, data)
        answer = await self.emulator.wait_for_callback_answer(query_id, timeout=10)
        return answer.text

    async def poll(self) -> Any:
        self.clock.advance(300)
        return await run_poll_cycle(self.services, self.bot)

    def set_price(self, listing_id: str, price: str) -> None:
        self.sandbox.state.catalogues["xianyu"].set_price(listing_id, Decimal(price))

    def messages(self, chat_id: int) -> list[SentMessage]:
        return list(self.emulator.sent[chat_id])

    def alerts_to(self, chat_id: int) -> list[SentMessage]:
        return [
            m
            for m in self.emulator.sent[chat_id]
            if any(b.get("callback_data", "").startswith("h|") for b in m.buttons)
        ]

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Running]:
        """The bot process: services, Application, post_init (as run_polling does), polling."""
        services = build_services(self.settings, self.clock)
        # the one-a-second pace per chat only where the emulator enforces Telegram's limits
        limiter = True if self.emulator.enforce_limits else unpaced(self.clock)
        application = build_application(self.settings, services, rate_limiter=limiter)
        async with application:
            assert application.post_init is not None
            await application.post_init(application)
            await application.start()
            assert application.updater is not None
            await application.updater.start_polling(poll_interval=0, timeout=1)
            self.app = Running(services, application)
            try:
                yield self.app
            finally:
                self.app = None
                await application.updater.stop()
                await application.stop()


@contextlib.asynccontextmanager
async def world(
    tmp_path: Path, *, telegram_limits: bool = False, **settings: Any
) -> AsyncIterator[BotWorld]:
    """Sandbox and emulator on a fake clock; with `telegram_limits` the emulator enforces
    CONTRACT 4.2 in real time, since python-telegram-bot's rate limiter waits in real time."""
    clock = FakeClock(NOON)
    async with (
        Sandbox(clock=clock, tiers=GENEROUS) as sandbox,
        BotApiEmulator(
            token=TOKEN, clock=None if telegram_limits else clock, enforce_limits=telegram_limits
        ) as emulator,
    ):
        config = load_settings(
            require_token=True,
            **{
                **sandbox.settings_overrides(),
                "telegram_api_url": emulator.base_url,
                "telegram_bot_token": TOKEN,
                "database_path": tmp_path / "bot.sqlite3",
                "alert_interval_seconds": 3600,  # the JobQueue's own cycle stays out of the way
                "admin_ids": str(ADMIN),
                "flood_burst": ROOMY_FLOOD_BURST,
                **settings,
            },
        )
        yield BotWorld(clock, sandbox, emulator, config)


@pytest.fixture
async def bot_world(tmp_path: Path) -> AsyncIterator[BotWorld]:
    async with world(tmp_path) as w, w.running():
        yield w


def button(message: SentMessage, prefix: str) -> str:
    return next(
        b["callback_data"] for b in message.buttons if b.get("callback_data", "").startswith(prefix)
    )


# -- watching and alerts -------------------------------------------------------------------------


async def test_watch_then_a_drop_alerts_every_watcher_exactly_once(bot_world: BotWorld) -> None:
    w = bot_world
    w.set_price(ITEM, "5000")
    people = [w.person(n) for n in (101, 102, 103)]
    for person in people:
        (reply,) = await w.say(person, f"/watch {ITEM_LINK}")
        assert "Watching" in reply.visible and "any drop" in reply.visible
    w.set_price(ITEM, "4500")
    report = await w.poll()
    assert report.alerts_created == 3
    for person in people:
        (alert,) = w.alerts_to(person.id)
        assert "Price drop" in alert.visible
        assert "¥5,000 → ¥4,500 (−10.0%)" in alert.visible
        assert "Lowest seen: ¥4,500" in alert.visible
        assert alert.parse_mode == "HTML" and "<b>" not in alert.visible
        assert [b["callback_data"][:2] for b in alert.buttons] == ["v|", "h|", "u|"]
    # sent as the Bot API's own objects (handlers/sending.py), with what Defaults give others:
    # Bot API, sendMessage: parse_mode ("Formatting options": HTML), link_preview_options
    # (LinkPreviewOptions.is_disabled), reply_markup (an InlineKeyboardMarkup object)
    calls = [c for c in w.emulator.calls if c.method == "sendMessage" and "h|" in str(c.params)]
    assert len(calls) == 3
    assert all(c.params["link_preview_options"] == {"is_disabled": True} for c in calls)
    for _ in range(3):
        await w.poll()
    assert [len(w.alerts_to(p.id)) for p in people] == [1, 1, 1]


async def test_percent_rule_not_met_sends_nothing_until_it_is(bot_world: BotWorld) -> None:
    w = bot_world
    ann = w.person(111)
    w.set_price(ITEM, "1000")
    (reply,) = await w.say(ann, f"/watch {ITEM_LINK} 10%")
    assert "a drop of 10% or more" in reply.visible
    w.set_price(ITEM, "950")
    await w.poll()
    assert w.alerts_to(ann.id) == []
    w.set_price(ITEM, "899")
    await w.poll()
    assert len(w.alerts_to(ann.id)) == 1


async def test_target_price_alerts_at_the_first_check_then_only_lower(bot_world: BotWorld) -> None:
    w = bot_world
    ann = w.person(121)
    w.set_price(ITEM, "4000")
    (reply,) = await w.say(ann, f"/watch {ITEM_LINK} ¥4200")
    assert "at or below ¥4,200" in reply.visible and "first check" in reply.visible
    await w.poll()
    await w.poll()
    assert len(w.alerts_to(ann.id)) == 1
    assert "Target price reached" in w.alerts_to(ann.id)[0].visible
    w.set_price(ITEM, "4100")
    await w.poll()
    w.set_price(ITEM, "3900")
    await w.poll()
    alerts = w.alerts_to(ann.id)
    assert len(alerts) == 2 and "¥3,900" in alerts[1].visible


async def test_sold_and_taken_down_reach_every_watcher_once(bot_world: BotWorld) -> None:
    w = bot_world
    people = [w.person(n) for n in (131, 132)]
    for person in people:
        await w.say(person, f"/watch {ITEM_LINK} 50%")
        await w.say(person, f"/watch {OTHER_LINK} ¥1")
    catalogue = w.sandbox.state.catalogues["xianyu"]
    catalogue.set_status(ITEM, ListingStatus.SOLD)
    catalogue.remove("6987654321098")
    await w.poll()
    await w.poll()
    for person in people:
        texts = sorted(m.visible.split("\n")[0] for m in w.alerts_to(person.id))
        assert texts == ["⚫ Taken down · Xianyu", "🔴 Sold · Xianyu"]


async def test_the_cards_watch_button_watches_with_any_drop(bot_world: BotWorld) -> None:
    w = bot_world
    ann = w.person(141)
    (card,) = await w.say(ann, HOSTILE_LINK)
    answer = await w.press(ann, card, button(card, "w|"))
    assert answer is not None and "Watching" in answer
    again = await w.press(ann, card, button(card, "w|"))
    assert again is not None and "already watch" in again
    (listing,) = await w.say(ann, "/watches")
    assert "1. <b>&lt;b&gt;全新&lt;/b&gt; 小米手环8 &amp; 原装充电器</b>" in (
        listing.raw_text or ""
    )
    assert "any drop" in listing.visible and "not checked yet" in listing.visible


async def test_watches_unwatch_and_the_alert_buttons(bot_world: BotWorld) -> None:
    w = bot_world
    ann = w.person(151)
    w.set_price(ITEM, "5000")
    await w.say(ann, f"/watch {ITEM_LINK}")
    await w.say(ann, f"/watch {OTHER_LINK} 5%")
    w.set_price(ITEM, "4000")
    await w.poll()
    (alert,) = w.alerts_to(ann.id)

    before = len(w.messages(ann.id))
    await w.press(ann, alert, button(alert, "h|"))
    (chart,) = (await w.emulator.wait_for_messages(ann.id, before + 1))[before:]
    assert chart.photo is not None and chart.photo.size and chart.photo.size > 1000
    assert "lowest seen: ¥4,000" in chart.visible

    before = len(w.messages(ann.id))
    await w.press(ann, alert, button(alert, "v|"))
    (card,) = (await w.emulator.wait_for_messages(ann.id, before + 1))[before:]
    assert "¥4,000" in card.visible

    (listing,) = await w.say(ann, "/watches")
    assert "1. " in listing.visible and "2. " in listing.visible
    assert "checked just now" in listing.visible

    answer = await w.press(ann, alert, button(alert, "u|"))
    assert answer is not None and "Stopped watching" in answer
    (reply,) = await w.say(ann, "/unwatch 5")
    assert "no watch number 5" in reply.visible
    (reply,) = await w.say(ann, "/unwatch 1")
    assert "Stopped watching" in reply.visible
    (listing,) = await w.say(ann, "/watches")
    assert "watch nothing yet" in listing.visible


async def test_a_watch_that_asks_first_keeps_its_rule_through_the_answer(
    bot_world: BotWorld,
) -> None:
    w = bot_world
    ann = w.person(161)
    # a bare 12-digit number: Beike code or Xianyu item; the question comes first
    question, note = await w.say(ann, f"/watch {ITEM} 5%", replies=2)
    assert "Which platform" in question.visible
    assert "start watching" in note.visible
    before = len(w.messages(ann.id))
    await w.press(ann, question, button(question, "k|xianyu|"))
    card, started = (await w.emulator.wait_for_messages(ann.id, before + 2))[before:]
    assert "Xianyu" in card.visible and card.buttons
    assert "5%" in started.visible
    (listing,) = await w.say(ann, "/watches")
    assert "1. " in listing.visible and "5%" in listing.visible and "2. " not in listing.visible
    assert (await w.services.watches.counts()).active == 1

    # a Beike code: platform, then city, then the watch with a target price
    code = "101127449675"
    question, _ = await w.say(ann, f"/watch {code} 200万", replies=2)
    before = len(w.messages(ann.id))
    await w.press(ann, question, button(question, "k|beike|"))
    (city_question,) = (await w.emulator.wait_for_messages(ann.id, before + 1))[before:]
    assert "city" in city_question.visible.lower()
    before = len(w.messages(ann.id))
    await w.press(ann, city_question, button(city_question, "c|110000|"))
    card, started = (await w.emulator.wait_for_messages(ann.id, before + 2))[before:]
    assert "Beike" in card.visible
    assert "200" in started.visible
    assert (await w.services.watches.counts()).active == 2

    # a plain question answered later, with no /watch behind it, watches nothing
    question, *_ = await w.say(ann, ITEM)
    before = len(w.messages(ann.id))
    await w.press(ann, question, button(question, "k|xianyu|"))
    (card,) = (await w.emulator.wait_for_messages(ann.id, before + 1))[before:]
    assert (await w.services.watches.counts()).active == 2


async def test_bad_watch_input_gets_a_short_reply_and_changes_nothing(bot_world: BotWorld) -> None:
    w = bot_world
    cases = [
        ("/watch", "/watch &lt;link or ID&gt;"),
        (f"/watch {ITEM_LINK} 150%", "from 1% to 99%"),
        (f"/watch {ITEM_LINK} 0", "above zero"),
        # issue 10: never stored, never read as 'any drop'
        (f"/watch {ITEM_LINK} {'9' * 3000}", "not a price a listing can have"),
        (f"/watch {ITEM_LINK} 20000000", "not a price a listing can have"),
        (f"/watch {ITEM_LINK} -5%", "without a minus sign"),
        (f"/watch {ITEM_LINK} <b>", "didn't understand the rule “&lt;b&gt;”"),
        (f"/watch {ITEM_LINK} %", "<code>5%</code>"),
        (f"/watch {ITEM_LINK} ¥", "<code>2500</code>"),
        ("/unwatch ²", "no watch number"),
        ("/watch hello there", "found no listing"),
        (f"/watch {ITEM_LINK} {OTHER_LINK}", "one listing"),
        ("/unwatch abc", "no watch number"),
        ("/unwatch", "/unwatch &lt;number&gt;"),
    ]
    # one person per few inputs: more than FLOOD_BURST at once would be a flood (issue 9)
    for i, (text, expected) in enumerate(cases):
        ann = w.person(161 + i // 4)
        (reply,) = await w.say(ann, text)
        assert expected in (reply.raw_text or ""), text
        assert await w.services.watches.count_for_user(ann.id) == 0


async def test_the_watch_cap_is_kept(tmp_path: Path) -> None:
    async with world(tmp_path, max_watches_per_user=2) as w, w.running():
        ann = w.person(171)
        await w.say(ann, f"/watch {ITEM_LINK}")
        await w.say(ann, f"/watch {OTHER_LINK}")
        (reply,) = await w.say(ann, f"/watch {SOFA_LINK}")
        assert "already watch 2 listings" in reply.visible
        (reply,) = await w.say(ann, f"/watch {OTHER_LINK} 5%")  # changing a rule is fine
        assert "Rule changed" in reply.visible
        (card,) = await w.say(ann, SOFA_LINK)
        answer = await w.press(ann, card, button(card, "w|"))
        assert answer is not None and "already watch 2" in answer
        assert await w.services.watches.count_for_user(ann.id) == 2


async def test_forged_callbacks_cannot_touch_someone_elses_watch(bot_world: BotWorld) -> None:
    w = bot_world
    ann, mallory = w.person(181), w.person(182)
    w.set_price(ITEM, "5000")
    await w.say(ann, f"/watch {ITEM_LINK}")
    w.set_price(ITEM, "4000")
    await w.poll()
    (alert,) = w.alerts_to(ann.id)
    sent_before = len(w.messages(ann.id))
    for prefix in ("u|", "h|"):
        answer = await w.press(mallory, alert, button(alert, prefix))
        assert answer is not None and "isn't yours" in answer
    assert await w.services.watches.count_for_user(ann.id) == 1
    assert len(w.messages(ann.id)) == sent_before  # no chart went anywhere
    assert w.messages(mallory.id) == []


async def test_a_restart_between_recording_and_sending_delivers_once(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        people = [w.person(n) for n in (191, 192)]
        async with w.running():
            w.set_price(ITEM, "5000")
            for person in people:
                await w.say(person, f"/watch {ITEM_LINK}")
            w.set_price(ITEM, "4000")
            report = await run_poll_cycle(w.services, w.bot, deliver=False)
            assert report.alerts_created == 2
            # the process dies here: recorded, never sent
        assert all(w.alerts_to(p.id) == [] for p in people)
        async with w.running():  # post_init sends what is pending
            await w.emulator.wait_for(lambda: all(w.alerts_to(p.id) for p in people), 10)
            await w.poll()
        async with w.running():
            await w.poll()
            await w.say(people[0], "/watches")  # the bot has surely done its start-up work
        assert [len(w.alerts_to(p.id)) for p in people] == [1, 1]


async def test_a_restart_with_nothing_pending_sends_nothing(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        ann = w.person(201)
        async with w.running():
            w.set_price(ITEM, "5000")
            await w.say(ann, f"/watch {ITEM_LINK}")
            w.set_price(ITEM, "4000")
            await w.poll()
            assert len(w.alerts_to(ann.id)) == 1
        async with w.running():
            await w.say(ann, "/watches")
            await w.poll()
            await w.say(ann, "/watches")
        assert len(w.alerts_to(ann.id)) == 1
        assert len(w.emulator.calls_to("sendMessage")) == len(
            [m for m in w.messages(ann.id) if m.photo is None]
        )


async def test_a_user_who_blocked_the_bot_is_paused_and_resumes_on_return(
    bot_world: BotWorld,
) -> None:
    w = bot_world
    ann, bob = w.person(211), w.person(212)
    w.set_price(ITEM, "5000")
    await w.say(ann, f"/watch {ITEM_LINK}")
    await w.say(bob, f"/watch {ITEM_LINK}")
    w.emulator.block(bob.id)
    to_bob = len([c for c in w.emulator.calls_to("sendMessage") if c.get("chat_id") == bob.id])
    w.set_price(ITEM, "4000")
    await w.poll()
    assert len(w.alerts_to(ann.id)) == 1
    assert w.alerts_to(bob.id) == []
    (entry,) = await w.services.watches.for_user(bob.id)
    assert entry.watch.paused_reason == "blocked"
    w.set_price(ITEM, "3000")
    await w.poll()
    tried = [c for c in w.emulator.calls_to("sendMessage") if c.get("chat_id") == bob.id]
    assert len(tried) == to_bob + 1  # the first alert was tried once; nothing since
    (listing,) = await w.say(bob, "/watches")  # bob is back (writing unblocks)
    assert "paused" not in listing.visible
    w.set_price(ITEM, "2000")
    await w.poll()
    assert len(w.alerts_to(bob.id)) == 1 and "¥2,000" in w.alerts_to(bob.id)[0].visible


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # PTB's own
async def test_retry_after_from_telegram_is_obeyed_and_the_alert_arrives_once(
    bot_world: BotWorld,
) -> None:
    w = bot_world
    ann = w.person(221)
    w.set_price(ITEM, "5000")
    await w.say(ann, f"/watch {ITEM_LINK}")
    w.set_price(ITEM, "4000")
    w.emulator.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    waits_before = len(w.clock.slept)
    await w.poll()
    assert len(w.alerts_to(ann.id)) == 1
    # the bot's rate limiter waited retry_after (on the fake clock) before trying again
    assert any(wait >= 1.0 for wait in w.clock.slept[waits_before:])
    attempts = [c for c in w.emulator.calls_to("sendMessage") if c.get("chat_id") == ann.id]
    assert len(attempts) == 3  # watch reply, the refused alert, the alert


async def test_a_burst_of_alerts_within_telegrams_limits_arrives_complete_and_once(
    tmp_path: Path,
) -> None:
    async with world(tmp_path, telegram_limits=True) as w, w.running():
        people = [w.person(n) for n in range(600, 660)]
        w.set_price(ITEM, "5000")
        listing = await w.services.gateway.listing(ListingRef("xianyu", ITEM), payer=SYSTEM)
        for person in people:  # what /watch stores, without 60 chat round trips
            await w.services.watches.add(
                user_id=person.id,
                chat_id=person.id,
                listing=listing,
                rule="any_drop",
                rule_value=None,
                base_price=listing.price,
                max_per_user=50,
            )
        w.set_price(ITEM, "4000")
        report = await w.poll()
        assert report.alerts_created == 60
        assert [len(w.alerts_to(p.id)) for p in people] == [1] * 60


async def test_a_bad_request_from_telegram_pauses_nobody(bot_world: BotWorld) -> None:
    w = bot_world
    ann = w.person(231)
    w.set_price(ITEM, "5000")
    await w.say(ann, f"/watch {ITEM_LINK}")
    w.set_price(ITEM, "4000")
    w.emulator.fail_next("sendMessage", 400, "Bad Request: can't parse entities")
    await w.poll()
    assert w.alerts_to(ann.id) == []
    (entry,) = await w.services.watches.for_user(ann.id)
    assert entry.watch.paused_reason is None
    w.set_price(ITEM, "3000")
    await w.poll()
    assert len(w.alerts_to(ann.id)) == 1


async def test_alerts_speak_the_users_language(bot_world: BotWorld) -> None:
    w = bot_world
    li = w.person(241, lang="zh-hans")
    w.set_price(ITEM, "5000")
    (reply,) = await w.say(li, f"/watch {ITEM_LINK} 5%")
    assert "已关注" in reply.visible
    w.set_price(ITEM, "4000")
    await w.poll()
    (alert,) = w.alerts_to(li.id)
    assert "降价了" in alert.visible and "历史最低" in alert.visible


# -- /link, /account --------------------------------------------------------------------------------


async def test_link_asks_for_the_verified_phone_and_looks_nothing_up_before_it(
    bot_world: BotWorld,
) -> None:
    """Bot API, KeyboardButton: "request_contact: If True, the user's phone number will be
    sent as a contact when the button is pressed. Available in private chats only." """
    w = bot_world
    ann = w.person(300)
    calls = w.sandbox.state.counters["anjuke_open"].calls
    (ask,) = await w.say(ann, "/link 17895001")
    assert "Share my phone number" in ask.visible
    [[button]] = ask.reply_markup["keyboard"]
    assert button["request_contact"] is True
    assert w.sandbox.state.counters["anjuke_open"].calls == calls  # no walking of IDs
    assert "17895001" not in ask.visible and await w.services.accounts.get(ann.id) is None


async def test_link_the_account_of_the_verified_phone_and_show_it_masked(
    bot_world: BotWorld,
) -> None:
    w = bot_world
    ann = w.person(301)
    # Telegram writes the verified number in international form without "+" (Contact)
    reply = await w.link(ann, "8613988888888")
    assert "Linked Anjuke account 17895896" in reply.visible
    assert "139****8888" in reply.visible and "13988888888" not in reply.visible
    assert reply.reply_markup == {"remove_keyboard": True}
    (account,) = await w.say(ann, "/account")
    assert "139****8888" in account.visible and "k****@anjuke.com" in account.visible
    assert "13988888888" not in account.visible and "ken@anjuke.com" not in account.visible


async def test_a_named_account_is_linked_only_when_its_phone_is_the_verified_one(
    bot_world: BotWorld,
) -> None:
    w = bot_world
    ann = w.person(302)
    # 17895001's phone is 13700001111: ann proves 13988888888, so it is not hers
    reply = await w.link(ann, "+86 139 8888 8888", "/link 17895001")
    assert "not registered to the phone number Telegram verified" in reply.visible
    assert "17895001" not in reply.visible and "王" not in reply.visible
    assert await w.services.accounts.get(ann.id) is None
    # an unknown ID reads exactly like someone else's: nothing to walk
    unknown = await w.link(ann, "8613988888888", "/link 999")
    assert unknown.visible == reply.visible
    # someone else's email: the same
    lily = await w.link(ann, "8613988888888", "/link Lily@Example.com")
    assert lily.visible == reply.visible
    # a typed phone that is not the verified one is refused without a look-up
    calls = w.sandbox.state.counters["anjuke_open"].calls
    other = await w.link(ann, "8613988888888", "/link 13700001111")
    assert "not the phone number Telegram verified" in other.visible
    assert w.sandbox.state.counters["anjuke_open"].calls == calls
    # her own account, named by ID or by email, links
    mine = await w.link(ann, "8613988888888", "/link ken@anjuke.com")
    assert "Linked Anjuke account 17895896" in mine.visible


async def test_someone_elses_contact_card_proves_nothing(bot_world: BotWorld) -> None:
    """Bot API, Contact: "user_id: Optional. Contact's user identifier in Telegram": a card
    shared from the button is the sender's own; a forwarded card names someone else."""
    w = bot_world
    ann, ken = w.person(303), w.person(304)
    await w.say(ann, "/link")
    calls = w.sandbox.state.counters["anjuke_open"].calls
    reply = await w.share_phone(ann, "8613988888888", contact_user_id=ken.id)
    assert "not your own number" in reply.visible
    typed = await w.share_phone(ann, "8613988888888", contact_user_id=0)  # no user_id at all
    assert "not your own number" in typed.visible
    assert w.sandbox.state.counters["anjuke_open"].calls == calls
    assert await w.services.accounts.get(ann.id) is None
    # the request is still open: her own number now links
    mine = await w.share_phone(ann, "8613988888888")
    assert "Linked Anjuke account 17895896" in mine.visible


async def test_a_contact_without_a_link_request_links_nothing(bot_world: BotWorld) -> None:
    w = bot_world
    ann = w.person(305)
    reply = await w.share_phone(ann, "8613988888888")
    assert "Send /link first" in reply.visible
    assert await w.services.accounts.get(ann.id) is None


async def test_a_number_outside_mainland_china_is_explained(bot_world: BotWorld) -> None:
    w = bot_world
    ann = w.person(306)
    reply = await w.link(ann, "447700900123")
    assert "mainland China mobile numbers" in reply.visible
    assert await w.services.accounts.get(ann.id) is None


async def test_one_telegram_user_per_account(bot_world: BotWorld) -> None:
    w = bot_world
    ann, bob = w.person(307), w.person(308)
    assert "17895896" in (await w.link(ann, "8613988888888")).visible
    # bob's Telegram verified the same number (a recycled number, a shared phone)
    reply = await w.link(bob, "8613988888888")
    assert "already linked to another Telegram account" in reply.visible
    assert "17895896" not in reply.visible
    assert await w.services.accounts.get(bob.id) is None
    (account,) = await w.say(ann, "/account")
    assert "17895896" in account.visible
    # once ann lets go (/forget), bob's proof links it
    (question,) = await w.say(ann, "/forget")
    before = len(w.messages(ann.id))
    await w.press(ann, question, button(question, "fy|"))
    await w.emulator.wait_for_messages(ann.id, before + 1)
    assert "Linked Anjuke account 17895896" in (await w.link(bob, "8613988888888")).visible


async def test_an_unknown_verified_phone_is_offered_registration_for_that_phone_only(
    bot_world: BotWorld,
) -> None:
    w = bot_world
    ann, mallory = w.person(311), w.person(312)
    offer = await w.link(ann, "8613911112222", "/link 13911112222")
    assert "139****2222" in offer.visible and "(1011)" in offer.visible
    users = w.sandbox.app[USERS]
    count = len(users.users)
    assert (
        await w.press(mallory, offer, button(offer, "ar|"))
        == "This button belongs to someone else."
    )
    assert len(users.users) == count
    create = button(offer, "ar|")
    before = len(w.messages(ann.id))
    await w.press(ann, offer, create)
    (created,) = (await w.emulator.wait_for_messages(ann.id, before + 1))[before:]
    assert "Created Anjuke account 17895897" in created.visible
    assert len(users.users) == count + 1
    assert users.users[17895897].phone == "13911112222"
    (account,) = await w.say(ann, "/account")
    assert "created through this bot" in account.visible and "139****2222" in account.visible
    # the offer was used (and its buttons removed): the same data again registers nothing
    assert await w.press_data(ann, offer, create) == "This question has expired. Send /link again."
    assert len(users.users) == count + 1


async def test_the_create_button_registers_the_offer_it_was_shown_with(
    bot_world: BotWorld,
) -> None:
    """Two offers open (the user's number changed between them): the first offer's button
    registers the first offer's phone, not whichever offer came last."""
    w = bot_world
    ann = w.person(316)
    first = await w.link(ann, "8613911113333")
    second = await w.link(ann, "8613911114444")
    assert "139****3333" in first.visible and "139****4444" in second.visible
    before = len(w.messages(ann.id))
    await w.press(ann, first, button(first, "ar|"))
    (created,) = (await w.emulator.wait_for_messages(ann.id, before + 1))[before:]
    new_id = created.visible.split("Created Anjuke account ")[1].split()[0]
    assert w.sandbox.app[USERS].users[int(new_id)].phone == "13911113333"


async def test_a_cancelled_offer_registers_nothing(bot_world: BotWorld) -> None:
    w = bot_world
    ann = w.person(313)
    offer = await w.link(ann, "8613911115555")
    users = w.sandbox.app[USERS]
    count = len(users.users)
    create = button(offer, "ar|")
    before = len(w.messages(ann.id))
    await w.press(ann, offer, button(offer, "ax|"))
    (reply,) = (await w.emulator.wait_for_messages(ann.id, before + 1))[before:]
    assert "Cancelled" in reply.visible and len(users.users) == count
    assert await w.press_data(ann, offer, create) == "This question has expired. Send /link again."
    assert len(users.users) == count
    (account,) = await w.say(ann, "/account")
    assert "No Anjuke account linked" in account.visible


async def test_registration_refused_because_the_phone_got_an_account_meanwhile(
    bot_world: BotWorld,
) -> None:
    w = bot_world
    ann = w.person(314)
    offer = await w.link(ann, "8613922223333")
    w.sandbox.app[USERS].add("", "13922223333", "", "")  # someone registers it meanwhile
    before = len(w.messages(ann.id))
    await w.press(ann, offer, button(offer, "ar|"))
    (reply,) = (await w.emulator.wait_for_messages(ann.id, before + 1))[before:]
    assert "phone number already has an account (1001)" in reply.visible
    (account_reply,) = await w.say(ann, "/account")
    assert "No Anjuke account linked" in account_reply.visible


async def test_a_link_made_before_proof_shows_nothing_until_proven(bot_world: BotWorld) -> None:
    w = bot_world
    ann = w.person(317)
    # a row as an older version wrote it: linked by typing someone's phone, never proven
    await w.services.accounts.link(ann.id, "17895001", phone="13700001111", proven=False)
    (account,) = await w.say(ann, "/account")
    assert "show nothing" in account.visible
    assert "17895001" not in account.visible and "137" not in account.visible
    # an unproven row never blocks the real owner
    owner = w.person(318)
    assert "17895001" in (await w.link(owner, "8613700001111")).visible


async def test_link_refuses_bad_input_and_group_chats(bot_world: BotWorld) -> None:
    w = bot_world
    ann = w.person(315)
    (reply,) = await w.say(ann, "/link not-an-account")
    assert "not a phone number" in reply.visible
    group = w.emulator.group_chat(-100500, "Flat hunters")
    (reply,) = await w.say(ann, "/link 13988888888", chat=group)
    assert "private chat" in reply.visible
    assert await w.services.accounts.get(ann.id) is None


# -- /forget -----------------------------------------------------------------------------------------


async def test_forget_asks_then_deletes_everything_about_the_user(bot_world: BotWorld) -> None:
    w = bot_world
    ann, bob = w.person(401), w.person(402)
    w.set_price(ITEM, "5000")
    await w.say(ann, f"/watch {ITEM_LINK}")
    await w.say(ann, f"/watch {SOFA_LINK}")
    await w.say(bob, f"/watch {ITEM_LINK}")  # free: ann's answer is in the cache
    await w.link(bob, "8613700001111")  # bob's own upstream call
    await w.link(ann, "8613988888888")
    w.set_price(ITEM, "4000")
    await w.poll()
    (question,) = await w.say(ann, "/forget")
    assert "2 watches" in question.visible and "linked Anjuke account" in question.visible
    assert await w.press(bob, question, button(question, "fy|")) == (
        "This button belongs to someone else."
    )
    before = len(w.messages(ann.id))
    await w.press(ann, question, button(question, "fy|"))
    (done,) = (await w.emulator.wait_for_messages(ann.id, before + 1))[before:]
    assert "Deleted: 2 watches, 1 alert, your linked Anjuke account" in done.visible
    gateway = w.services.gateway
    # the calls ann's watches and link made are no longer counted against her id, in
    # memory or in the file; bob's count stays
    assert gateway.budget_left(ann.id, "xianyu") == gateway.budget_limit("xianyu")
    assert gateway.budget_left(ann.id, "anjuke_open") == gateway.budget_limit("anjuke_open")
    assert gateway.budget_left(bob.id, "anjuke_open") == gateway.budget_limit("anjuke_open") - 1
    conn = sqlite3.connect(str(w.settings.database_path))
    for table, column in (
        ("watches", "user_id"),
        ("alerts", "user_id"),
        ("linked_accounts", "user_id"),
        ("users", "user_id"),
        ("user_budget_usage", "user_id"),
    ):
        (count,) = conn.execute(
            f"SELECT COUNT(*) FROM {table} WHERE {column} = ?", [ann.id]
        ).fetchone()
        assert count == 0, table
    (sofa,) = conn.execute(
        "SELECT COUNT(*) FROM watched_listings WHERE listing_id = ?", ["767890123456"]
    ).fetchone()
    conn.close()
    assert sofa == 0  # only ann watched it
    assert await w.services.watches.count_for_user(bob.id) == 1


async def test_forget_can_be_declined(bot_world: BotWorld) -> None:
    w = bot_world
    ann = w.person(403)
    await w.say(ann, f"/watch {ITEM_LINK}")
    (question,) = await w.say(ann, "/forget")
    before = len(w.messages(ann.id))
    await w.press(ann, question, button(question, "fn|"))
    (reply,) = (await w.emulator.wait_for_messages(ann.id, before + 1))[before:]
    assert "Nothing was deleted" in reply.visible
    assert await w.services.watches.count_for_user(ann.id) == 1


# -- /stats -----------------------------------------------------------------------------------------


async def test_stats_for_admins_only(bot_world: BotWorld) -> None:
    w = bot_world
    ann, admin = w.person(501), w.person(ADMIN)
    await w.say(ann, f"/watch {ITEM_LINK}")
    await w.poll()
    (reply,) = await w.say(ann, "/stats")
    assert "operators" in reply.visible
    (stats,) = await w.say(admin, "/stats")
    text = stats.visible
    assert "Watches: 1 active, 0 paused" in text
    assert "Distinct listings watched: 1" in text
    assert "xianyu:" in text and "Cache hit rate" in text
    assert "Last poll cycle:" in text and "1 check, 0 errors" in text
