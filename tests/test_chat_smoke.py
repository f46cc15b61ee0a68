"""A first card end to end: emulator -> bot -> gateway -> sandbox -> card."""

from __future__ import annotations

from tests.conftest import BotEnv

#: platform strings that are HTML: unescaped, Telegram would refuse `<script>` (400 "can't
#: parse entities") and read `<b>`/`<i>` as formatting
TITLE = '<b>假</b> 双裕花园 & "西区" <script>'
COMMUNITY = "双裕<花园>"
AGENT = "张<i>忠良</i> & Co"


async def test_beike_link_gives_an_escaped_card_with_buttons(bot_env: BotEnv) -> None:
    beike = bot_env.catalogue("beike")
    code = beike.ids()[0]
    house = beike.house(code)
    house.title, house.community, house.agent_name = TITLE, COMMUNITY, AGENT
    user = bot_env.user(1001, "zh-hans")
    [card] = await bot_env.say(user, f"看看这个 https://m.ke.com/bj/ershoufang/{code}.html 怎么样")
    # the user reads every platform string exactly as the platform wrote it...
    for written in (TITLE, COMMUNITY, AGENT):
        assert written in card.visible
    # ...because it was sent escaped, so none of it became formatting
    raw = card.raw_caption if card.photo is not None else card.raw_text
    assert raw is not None
    assert "&lt;b&gt;假&lt;/b&gt;" in raw and "&lt;script&gt;" in raw and "&amp;" in raw
    assert "<script>" not in raw and "<i>" not in raw
    assert "沙盒" in card.visible
    callback_data = [b.get("callback_data", "") for b in card.buttons]
    assert f"r|beike:{house.city_id}:{code}" in callback_data
