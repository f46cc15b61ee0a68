"""A first card end to end: emulator -> bot -> gateway -> sandbox -> card."""

from __future__ import annotations


async def test_beike_link_gives_an_escaped_card_with_buttons(bot_env):
    beike = bot_env.catalogue("beike")
    code = beike.ids()[0]
    user = bot_env.user(1001, "zh-hans")
    house = beike.house(code)
    replies = await bot_env.say(user, f"看看这个 https://m.ke.com/bj/ershoufang/{code}.html 怎么样")
    card = replies[0]
    assert "沙盒" in card.visible
    assert card.buttons
    print(house)
