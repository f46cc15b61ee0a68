"""No side door around budgets and flood control (issue 18 point 1).

Every kind of update the bot handles is driven through the real application (the
emulator's long polling, or the update queue webhook updates also land in), and:

- every handler registered in `application.handlers` (and inside the quote
  conversation) is matched by at least one update of the corpus below, so a handler
  added later without an entry here fails the test;
- the flood guard screens every one of those updates, with a chat or without;
- every gateway call they make names the sender as its payer, and the entry points
  that reach a platform move the sender's budget row.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from telegram import Update
from telegram.ext import BaseHandler, ConversationHandler, TypeHandler

from clients.models import ListingRef
from gateway import Gateway
from gateway.budget import SYSTEM, Payer
from handlers import callbacks as cb
from handlers import listings
from sandbox.botapi import SentMessage
from tests.conftest import BotEnv, start_bot_env

ACTOR = 5001
OTHER = 5002
#: the record handler this test adds to see every update the bot handles
RECORD_GROUP = -100


def handlers_of(handler: BaseHandler[Any, Any, Any]) -> Iterator[BaseHandler[Any, Any, Any]]:
    """The handler, or for a conversation every handler it may hand an update to."""
    if isinstance(handler, ConversationHandler):
        for inner in itertools.chain(
            handler.entry_points, *handler.states.values(), handler.fallbacks
        ):
            yield from handlers_of(inner)
    else:
        yield handler


class Watcher:
    """What the bot did with each update: the payers of its gateway calls, and when it ended."""

    def __init__(self, env: BotEnv) -> None:
        self.env = env
        self.updates: list[Update] = []
        self.payers: list[tuple[str, Payer]] = []
        self.done = 0
        self._done_changed = asyncio.Condition()
        gateway: Gateway = env.services.gateway
        for name in ("listing", "quote", "resolve_short_link", "anjuke_user", "anjuke_register"):
            setattr(gateway, name, self._recording(name, getattr(gateway, name)))
        processor = env.application.update_processor
        original = processor.process_update

        async def process_update(update: object, coroutine: Awaitable[Any]) -> None:
            try:
                await original(update, coroutine)
            finally:
                async with self._done_changed:
                    self.done += 1
                    self._done_changed.notify_all()

        processor.process_update = process_update  # type: ignore[method-assign]

        async def record(update: Update, _context: object) -> None:
            self.updates.append(update)

        env.application.add_handler(TypeHandler(Update, record), group=RECORD_GROUP)

    def _recording(self, name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        async def recorded(*args: Any, **kwargs: Any) -> Any:
            if kwargs.get("priority", "chat") == "chat":
                self.payers.append((name, kwargs.get("payer")))  # type: ignore[arg-type]
            return await method(*args, **kwargs)

        return recorded

    async def handled(self, count: int) -> None:
        """Wait until the application has finished `count` updates in all."""
        async with self._done_changed, asyncio.timeout(10):
            await self._done_changed.wait_for(lambda: self.done >= count)


def new_items(env: BotEnv, count: int, first_id: int) -> list[str]:
    return env.catalogue("xianyu").add_copies(count, first_id=first_id)


def link(item_id: str) -> str:
    return f"https://www.goofish.com/item?id={item_id}"


async def test_every_handler_that_can_reach_a_platform_pays_from_the_askers_budget(
    bot_env: BotEnv,
) -> None:
    env = bot_env
    watcher = Watcher(env)
    guard = env.application.update_processor.guard  # type: ignore[attr-defined]
    emulator = env.emulator
    actor = env.user(ACTOR)
    chat = emulator.private_chat(actor)
    items = iter(new_items(env, 13, 830_000_000_000))
    budget = env.services.gateway.budget_left
    steps = 0
    card: SentMessage | None = None

    async def step(push: Callable[[], Awaitable[Any]], pays: str | None = None) -> None:
        nonlocal steps
        screened = guard.admitted + guard.dropped
        left = budget(ACTOR, pays) if pays else None
        await push()
        steps += 1
        await watcher.handled(steps)
        assert guard.admitted + guard.dropped == screened + 1, "the flood guard never saw it"
        if pays:
            assert budget(ACTOR, pays) == left - 1, f"{pays}: the sender's budget did not move"

    async def text(words: str, pays: str | None = None) -> None:
        await step(lambda: emulator.send_text(actor, None, words), pays)

    async def press(data: str, pays: str | None = None) -> None:
        assert card is not None
        await step(lambda: emulator.press_data(actor, card, data), pays)

    async def queued(kind: str, payload: dict[str, Any], pays: str | None = None) -> None:
        """An update put on the update queue, as a webhook update arrives."""
        update = Update.de_json({"update_id": 10**7 + steps, kind: payload}, env.application.bot)
        await step(lambda: env.application.update_queue.put(update), pays)

    def message(**fields: Any) -> dict[str, Any]:
        return {
            "message_id": 10**6 + steps,
            "from": actor.to_api(),
            "chat": chat.to_api(),
            "date": int(env.clock.time()),
            **fields,
        }

    # messages and captions
    await text(link(next(items)), pays="xianyu")
    card = env.messages(ACTOR)[-1]
    photo = [{"file_id": "f", "file_unique_id": "u", "width": 1, "height": 1}]
    await queued("message", message(photo=photo, caption=link(next(items))), pays="xianyu")
    await queued("edited_message", message(text=link(next(items)), edit_date=1))
    # inline mode
    inline_item = next(items)
    await step(lambda: emulator.send_inline_query(actor, link(inline_item)), pays="xianyu")
    # commands
    for command in ("/start", "/help", "/start link", "/start account", "/start watches"):
        await text(command)
    await text(f"/watch {link(next(items))}", pays="xianyu")
    await text("/watches")
    await text("/link 13912345678")  # nothing is looked up before the verified phone
    await step(lambda: emulator.send_contact(actor, "8613912345678"), pays="anjuke_open")
    await text("/account")
    await text("/quote iPhone 13 128GB 95新 功能正常", pays="aihuishou")
    quote_card = env.messages(ACTOR)[-1]
    await text("iPhone 12 128GB 95新 功能正常", pays="aihuishou")  # a device description
    await text("/cancel")
    await text("/stats")
    # buttons
    await press("garbage")
    await press(cb.encode(cb.Refresh(ListingRef("xianyu", next(items)))), pays="xianyu")
    await press(cb.encode(cb.Photos(ListingRef("xianyu", next(items)))), pays="xianyu")
    await press(cb.encode(cb.Watch(ListingRef("xianyu", next(items)))), pays="xianyu")
    await press(cb.encode(cb.ViewCard(ListingRef("xianyu", next(items)))))
    await press(cb.encode(cb.TradeIn(ListingRef("xianyu", next(items)))), pays="xianyu")
    await press(cb.encode(cb.FairPrice(ListingRef("xianyu", next(items)))), pays="xianyu")
    house = ListingRef("anjuke", "AK2026011800001")
    await press(cb.encode(cb.Mortgage(house, 30, 30, "i")), pays="anjuke")  # the listing
    await press(cb.encode(cb.Reviews(house)), pays="anjuke")  # evaluate_list
    await press(cb.encode(cb.PickPlatform("xianyu", next(items))), pays="xianyu")
    await press(cb.encode(cb.PickCity("110000", "101127449675")), pays="beike")
    for kind in (cb.History, cb.Unwatch, cb.ForgetNo):
        await press(cb.encode(kind(1)))
    for offer in (cb.CreateAccount, cb.CancelAccount):
        await press(cb.encode(offer(1, "AbCd12xy")))
    await press("q|abcd|x")
    again = [
        b["callback_data"] for b in quote_card.buttons if b.get("callback_data", "")[:3] == "qa|"
    ]
    await press(again[0] if again else "qa|abcd|r")
    await text("/unwatch 1")
    await text("/forget")
    await text("/start forget")
    await press(cb.encode(cb.ForgetYes(1)))
    # a caption is never a command (Bot API: only `entities` carry bot_command)
    await queued("message", message(photo=photo, caption="/watch 1"))

    ours = [h for group in env.application.handlers.values() for h in group]
    unmatched = [
        handler
        for top in ours
        if not (isinstance(top, TypeHandler) and top.callback.__name__ == "record")
        for handler in handlers_of(top)
        if not any(handler.check_update(u) not in (None, False) for u in watcher.updates)
        and handler.callback.__name__ != "on_timeout"
    ]
    assert not unmatched, f"no update of this test reaches {unmatched}: add one that does"
    # The text handler comes first in its group, so a plain text skips the walk past the
    # others: that changes nothing only while none of them takes an update it takes.
    group = env.application.handlers[0]
    assert group[0].callback is listings.on_text
    for update in watcher.updates:
        takers = [h.callback.__name__ for h in group if h.check_update(update) not in (None, False)]
        assert "on_text" not in takers or takers == ["on_text"], (update, takers)
    taken = [u for u in watcher.updates if group[0].check_update(u) not in (None, False)]
    assert len(taken) >= 4  # texts and captions, with and without a listing
    assert watcher.payers, "no gateway call was made at all"
    assert {payer for _name, payer in watcher.payers} == {Payer.user(ACTOR)}


async def test_one_users_inline_queries_stop_at_their_budget_and_another_user_still_gets_answers(
    tmp_path: Path,
) -> None:
    async for env in start_bot_env(tmp_path, xianyu_tier="personal"):
        limit = env.services.gateway.budget_limit("xianyu")
        assert limit == 6  # 20 % of the 30 calls kept for chat
        calls = env.sandbox.state.counters["xianyu"].calls
        spender = env.user(ACTOR)
        answers = []
        for item in new_items(env, limit + 4, 840_000_000_000):
            query_id = await env.emulator.send_inline_query(spender, link(item))
            answers.append(await env.emulator.wait_for_inline_answer(query_id))
        assert [len(a.results) for a in answers] == [1] * limit + [0] * 4
        refused = answers[-1]
        assert (
            refused.button is not None and "all 6 of your Xianyu lookups" in refused.button["text"]
        )
        assert env.sandbox.state.counters["xianyu"].calls - calls == limit
        assert env.services.gateway.budget_left(ACTOR, "xianyu") == 0

        other = env.user(OTHER)
        (item,) = new_items(env, 1, 850_000_000_000)
        query_id = await env.emulator.send_inline_query(other, link(item))
        (result,) = (await env.emulator.wait_for_inline_answer(query_id)).results
        assert result["id"] == f"xianyu:{item}"
        assert env.services.gateway.budget_left(OTHER, "xianyu") == limit - 1


async def test_an_inline_flood_is_dropped_by_the_guard_and_told_to_slow_down_once(
    tmp_path: Path,
) -> None:
    async for env in start_bot_env(tmp_path, flood_burst=3, flood_per_minute=1):
        calls = env.sandbox.state.counters["xianyu"].calls
        flooder = env.user(ACTOR)
        answers = []
        for item in new_items(env, 6, 860_000_000_000):
            query_id = await env.emulator.send_inline_query(flooder, link(item))
            answers.append(await env.emulator.wait_for_inline_answer(query_id))
        assert [len(a.results) for a in answers] == [1, 1, 1, 0, 0, 0]
        warned = [a for a in answers if a.button is not None]
        assert len(warned) == 1 and warned[0] is answers[3]
        assert env.sandbox.state.counters["xianyu"].calls - calls == 3

        # somebody else is not held up by the flood
        (item,) = new_items(env, 1, 870_000_000_000)
        query_id = await env.emulator.send_inline_query(env.user(OTHER), link(item))
        assert (await env.emulator.wait_for_inline_answer(query_id)).results


def test_a_platform_call_without_a_payer_cannot_be_written() -> None:
    with pytest.raises(ValueError):
        Payer(None)
    with pytest.raises(TypeError):
        Payer.user("5001")  # type: ignore[arg-type]
    assert SYSTEM.is_system and not Payer.user(ACTOR).is_system
