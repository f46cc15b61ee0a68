"""Real-world link and share-text forms -> the listings the central recogniser finds.

Each row: what a user pastes -> the mentions, in message order, as
(platform, id, city id | None | SHORT | AMBIGUOUS). A short link's id is the link to
follow; an ambiguous bare ID's platform is its candidates joined with "|".
"""

from __future__ import annotations

import pytest

from clients.base import Found
from clients.recognise import MAX_MENTIONS, recognise
from clients.registry import LISTING_CLIENTS

SHORT = "short"
AMBIGUOUS = "ambiguous"
BJ, SH, GZ, SZ, HZ, WH, CD, NJ, JN = (
    "110000",
    "310000",
    "440100",
    "440300",
    "330100",
    "420100",
    "510100",
    "320100",
    "370101",
)


def mentions(text: str) -> list[tuple[str, str, str | None]]:
    return [as_row(f) for f in recognise(text, LISTING_CLIENTS)]


def as_row(found: Found) -> tuple[str, str, str | None]:
    if found.ref is not None:
        # the kind a link shows (Anjuke new homes, shops, offices) is written `id@kind`
        ident = found.ref.listing_id + (f"@{found.ref.kind}" if found.ref.kind else "")
        return (found.ref.platform, ident, found.ref.city_id or None)
    if found.short_url is not None:
        return (found.platform, found.short_url, SHORT)
    return ("|".join(c.platform for c in found.candidates), found.text, AMBIGUOUS)


def ak(listing_id: str) -> tuple[str, str, None]:
    return ("anjuke", listing_id, None)


def xy(listing_id: str) -> tuple[str, str, None]:
    return ("xianyu", listing_id, None)


def bk(code: str, city: str | None) -> tuple[str, str, str | None]:
    return ("beike", code, city)


ANJUKE = [
    # second-hand
    ("https://bj.anjuke.com/prop/view/A1234567890", [ak("A1234567890")]),
    ("https://beijing.anjuke.com/prop/view/A1234567890", [ak("A1234567890")]),
    (
        "http://bj.anjuke.com/prop/view/A1234567890?from=esf_list&spread=commsearch_p",
        [ak("A1234567890")],
    ),
    ("https://BJ.ANJUKE.COM/prop/view/A1234567890", [ak("A1234567890")]),
    ("https://m.anjuke.com/bj/sale/A1234567890/", [ak("A1234567890")]),
    ("https://m.anjuke.com/bj/sale/A1234567890", [ak("A1234567890")]),
    ("https://wuhu.anjuke.com/prop/view/S1234567890123456?from=share", [ak("S1234567890123456")]),
    ("https://shanghai.anjuke.com/prop/view/S1234567890123456#photos", [ak("S1234567890123456")]),
    ("https://bj.anjuke.com/prop/view/A987654321", [ak("A987654321")]),
    # rent
    ("https://bj.zu.anjuke.com/fangyuan/2398427383", [ak("2398427383")]),
    ("https://m.anjuke.com/sh/rent/1234567890123456/", [ak("1234567890123456")]),
    ("https://m.anjuke.com/sh/rent/2398427383/", [ak("2398427383")]),
    ("https://sh.zu.anjuke.com/fangyuan/1234567890123456?shangquan=1", [ak("1234567890123456")]),
    # new homes
    ("https://hz.fang.anjuke.com/loupan/245678.html", [ak("245678@new_home")]),
    ("https://bj.fang.anjuke.com/loupan/canshu-245678.html", [ak("245678@new_home")]),
    ("https://m.anjuke.com/hz/loupan/245678/", [ak("245678@new_home")]),
    # commercial
    ("https://sh.sp.anjuke.com/shou/3187906783", [ak("3187906783@shop")]),
    ("https://bj.sp.anjuke.com/zu/3187906783/", [ak("3187906783@shop")]),
    ("https://sh.xzl.anjuke.com/zu/3166544960", [ak("3166544960@office")]),
    ("https://bj.xzl.anjuke.com/shou/3166544960", [ak("3166544960@office")]),
    # AK IDs anywhere on anjuke.com
    ("https://bj.anjuke.com/fangyuan/AK2026011800001", [ak("AK2026011800001")]),
    ("https://m.anjuke.com/ershou/detail?house_id=AK2026011800001", [ak("AK2026011800001")]),
    ("https://m.anjuke.com/house/detail?house_id=AK2026011800001&city=bj", [ak("AK2026011800001")]),
    # share texts and Chinese punctuation
    ("看看这套房：https://bj.anjuke.com/prop/view/A1234567890，价格不错！", [ak("A1234567890")]),
    (
        "【安居客】望京 3室 https://m.anjuke.com/bj/sale/A987654321/?isauction=1 点击查看",
        [ak("A987654321")],
    ),
    ("（安居客）https://bj.anjuke.com/prop/view/A1234567890）", [ak("A1234567890")]),
    ("“https://bj.anjuke.com/prop/view/A1234567890”", [ak("A1234567890")]),
    ("<https://bj.anjuke.com/prop/view/A1234567890>", [ak("A1234567890")]),
    ("房源：https://bj.anjuke.com/prop/view/A1234567890。", [ak("A1234567890")]),
    (
        "ｈｔｔｐｓ：／／ｂｊ．ａｎｊｕｋｅ．ｃｏｍ／ｐｒｏｐ／ｖｉｅｗ／Ａ１２３４５６７８９０",
        [ak("A1234567890")],
    ),
    # without a scheme
    ("bj.anjuke.com/prop/view/A1234567890", [ak("A1234567890")]),
    ("链接:bj.anjuke.com/prop/view/A1234567890", [ak("A1234567890")]),
    ("m.anjuke.com/bj/sale/A1234567890/", [ak("A1234567890")]),
    # bare IDs
    ("A1234567890", [ak("A1234567890")]),
    ("A123456789", [ak("A123456789")]),
    ("房源编号：A1234567890", [ak("A1234567890")]),
    ("AK2026011800001", [ak("AK2026011800001")]),
    ("编号AK2026011800001，", [ak("AK2026011800001")]),
    ("S1234567890123456", [ak("S1234567890123456")]),
    ("2398427383", [ak("2398427383")]),
    ("Ａ１２３４５６７８９０", [ak("A1234567890")]),
    ("２３９８４２７３８３", [ak("2398427383")]),
    (
        "A1234567890、A987654321，还有 2398427383",
        [ak("A1234567890"), ak("A987654321"), ak("2398427383")],
    ),
    # the same listing twice is one mention
    (
        "https://bj.anjuke.com/prop/view/A1234567890 https://bj.anjuke.com/prop/view/A1234567890",
        [ak("A1234567890")],
    ),
    ("https://bj.anjuke.com/prop/view/A1234567890 A1234567890", [ak("A1234567890")]),
    # issue 11: rent `gfangyuan` pages and mobile rent pages with `-N` after the ID
    ("https://bj.zu.anjuke.com/gfangyuan/2398427383", [ak("2398427383")]),
    ("https://sh.zu.anjuke.com/gfangyuan/1234567890123456?from=list", [ak("1234567890123456")]),
    ("https://m.anjuke.com/bj/rent/2398427383-3/", [ak("2398427383")]),
    ("https://m.anjuke.com/sh/rent/1234567890123456-12/?isauction=1", [ak("1234567890123456")]),
    ("https://bj.zu.anjuke.com/fangyuan/2398427383-1", [ak("2398427383")]),
]

BEIKE = [
    # issue 11: sold (`chengjiao`) pages name the same house code
    ("https://bj.ke.com/chengjiao/101127449675.html", [bk("101127449675", BJ)]),
    ("https://m.ke.com/sh/chengjiao/107108339402.html", [bk("107108339402", SH)]),
    ("https://bj.lianjia.com/chengjiao/101130512345.html", [bk("101130512345", BJ)]),
    ("https://bj.ke.com/ershoufang/101127449675.html", [bk("101127449675", BJ)]),
    ("https://m.ke.com/sh/ershoufang/107108339402.html", [bk("107108339402", SH)]),
    ("https://bj.lianjia.com/ershoufang/101130512345.html", [bk("101130512345", BJ)]),
    ("https://m.lianjia.com/gz/ershoufang/108400123456.html", [bk("108400123456", GZ)]),
    (
        "https://m.ke.com/bj/ershoufang/101127449675.html?fb_expo_id=123&share_source=wx",
        [bk("101127449675", BJ)],
    ),
    ("https://sh.ke.com/ershoufang/107108339402.html#pic", [bk("107108339402", SH)]),
    ("http://gz.lianjia.com/ershoufang/108400123456.html", [bk("108400123456", GZ)]),
    ("https://sz.ke.com/ershoufang/105600234567.html", [bk("105600234567", SZ)]),
    ("https://m.lianjia.com/hz/ershoufang/103100345678.html", [bk("103100345678", HZ)]),
    ("https://wh.ke.com/ershoufang/104200456789.html，", [bk("104200456789", WH)]),
    ("https://jn.ke.com/ershoufang/101127449675.html", [bk("101127449675", JN)]),
    ("https://m.ke.com/chengdu/ershoufang/106500567890.html", [bk("106500567890", CD)]),
    ("https://nj.lianjia.com/ershoufang/103900678901.html?sug=1", [bk("103900678901", NJ)]),
    ("https://bj.ke.com/ershoufang/101127449675.html?cityId=110000", [bk("101127449675", BJ)]),
    ("看这个https://bj.ke.com/ershoufang/101127449675.html很好", [bk("101127449675", BJ)]),
    ("bj.ke.com/ershoufang/101127449675.html", [bk("101127449675", BJ)]),
    (
        "ｈｔｔｐｓ：／／ｂｊ．ｋｅ．ｃｏｍ／ｅｒｓｈｏｕｆａｎｇ／１０１１２７４４９６７５．ｈｔｍｌ",
        [bk("101127449675", BJ)],
    ),
    (
        "【贝壳找房】双裕花园西区 1室1厅 https://m.ke.com/bj/ershoufang/101127449675.html?share=1 快来看看",
        [bk("101127449675", BJ)],
    ),
    (
        "我在贝壳找房发现了一套好房【双裕花园西区】，https://m.ke.com/bj/ershoufang/101127449675.html 复制链接在浏览器打开",
        [bk("101127449675", BJ)],
    ),
    # the mini-program path names the city
    ("pages/ershou/esfDetail?cityId=110000&houseCode=101127449675", [bk("101127449675", BJ)]),
    # no city in the link: asked later
    ("https://m.ke.com/ershoufang/101127449675.html", [bk("101127449675", None)]),
    ("https://foo.ke.com/ershoufang/101127449675.html", [bk("101127449675", None)]),
    # Lianjia's older codes carry the city in their letters
    ("https://bj.lianjia.com/ershoufang/BJCY91736842.html", [bk("BJCY91736842", BJ)]),
    ("BJCY91736842", [bk("BJCY91736842", BJ)]),
    ("房源编码：BJCY91736842", [bk("BJCY91736842", BJ)]),
    # a bare 12-digit code also fits Xianyu
    ("101127449675", [("beike|xianyu", "101127449675", AMBIGUOUS)]),
    ("贝壳找房 编号 101127449675", [("beike|xianyu", "101127449675", AMBIGUOUS)]),
]

XIANYU = [
    # issue 11: the path form, and ssr pages with `id=` among other numeric parameters
    ("https://www.goofish.com/item/712345678901", [xy("712345678901")]),
    ("https://goofish.com/item/6987654321098/", [xy("6987654321098")]),
    (
        "https://ssr.m.goofish.com/item?categoryId=50025969&userId=2201234567890&id=712345678901",
        [xy("712345678901")],
    ),
    (
        "https://ssr.m.goofish.com/wow/moyu/moyu-project/item-detail/pages/index"
        "?spm=a2170.1&sellerId=2209876543210&itemId=6987654321098&ut_sk=1",
        [xy("6987654321098")],
    ),
    ("https://www.goofish.com/item?id=712345678901", [xy("712345678901")]),
    ("https://goofish.com/item?id=712345678901", [xy("712345678901")]),
    ("https://h5.m.goofish.com/item?id=698765432109876543&ut_sk=share", [xy("698765432109876543")]),
    ("https://h5.m.goofish.com/item?id=7012345678901234", [xy("7012345678901234")]),
    (
        "https://www.goofish.com/item?spm=a21ybx.item.0.0&id=6987654321098&categoryId=126862528",
        [xy("6987654321098")],
    ),
    ("https://2.taobao.com/item.htm?id=6987654321098", [xy("6987654321098")]),
    ("https://2.taobao.com/item.htm?spm=2007.1000337.0.0&id=712345678901", [xy("712345678901")]),
    ("fleamarket://item?id=712345678901", [xy("712345678901")]),
    ("fleamarket://item?id=698765432109876543&from=share", [xy("698765432109876543")]),
    (
        "https://market.m.taobao.com/app/idleFish-F2e/widle-taobao-rax/page-detail"
        "?id=6987654321098&itemId=6987654321098",
        [xy("6987654321098")],
    ),
    (
        "https://market.m.taobao.com/app/idleFish-F2e/widle-taobao-rax/page-detail"
        "?wh_weex=true&id=712345678901",
        [xy("712345678901")],
    ),
    ("www.goofish.com/item?id=712345678901", [xy("712345678901")]),
    ("ｇｏｏｆｉｓｈ．ｃｏｍ／ｉｔｅｍ？ｉｄ＝７１２３４５６７８９０１", [xy("712345678901")]),
    ("链接：https://www.goofish.com/item?id=712345678901；价格可议", [xy("712345678901")]),
    (
        "https://www.goofish.com/item?id=712345678901、https://www.goofish.com/item?id=6987654321098",
        [xy("712345678901"), xy("6987654321098")],
    ),
    # share texts with short links: followed later
    (
        "【闲鱼】https://m.tb.cn/h.5abcDEF?tk=abc CZ0001 「我在闲鱼发布了【iPhone 14 Pro】」点击链接直接打开",
        [("xianyu", "https://m.tb.cn/h.5abcDEF?tk=abc", SHORT)],
    ),
    (
        "【闲鱼】https://m.tb.cn/h.5xyGHIJ?tk=Xyz123 HU9196 「我在闲鱼发布了【MacBook Air M2】」 点击链接直接打开",
        [("xianyu", "https://m.tb.cn/h.5xyGHIJ?tk=Xyz123", SHORT)],
    ),
    (
        "【咸鱼】 m.tb.cn/h.5abcDEF 「iPhone 14 Pro 256G」",
        [("xianyu", "https://m.tb.cn/h.5abcDEF", SHORT)],
    ),
    ("https://m.tb.cn/h.5abcDEF", [("xianyu", "https://m.tb.cn/h.5abcDEF", SHORT)]),
    ("打开闲鱼App，https://m.tb.cn/h.5abcDEF", [("xianyu", "https://m.tb.cn/h.5abcDEF", SHORT)]),
    (
        "https://m.tb.cn/h.5abcDEF 闲鱼 https://m.tb.cn/h.5xyGHIJ",
        [
            ("xianyu", "https://m.tb.cn/h.5abcDEF", SHORT),
            ("xianyu", "https://m.tb.cn/h.5xyGHIJ", SHORT),
        ],
    ),
    # bare IDs: 13 digits are only Xianyu's; 12 and 16 digits fit other platforms too
    ("6987654321098", [xy("6987654321098")]),
    ("698765432109876543", [xy("698765432109876543")]),
    ("712345678901", [("beike|xianyu", "712345678901", AMBIGUOUS)]),
    ("7012345678901234", [("anjuke|xianyu", "7012345678901234", AMBIGUOUS)]),
    ("闲鱼商品 ID：7012345678901234", [("anjuke|xianyu", "7012345678901234", AMBIGUOUS)]),
    ("1234567890123456", [("anjuke|xianyu", "1234567890123456", AMBIGUOUS)]),
]

MIXED = [
    (
        "https://bj.ke.com/ershoufang/101127449675.html https://www.goofish.com/item?id=712345678901 "
        "https://bj.anjuke.com/prop/view/A1234567890",
        [bk("101127449675", BJ), xy("712345678901"), ak("A1234567890")],
    ),
    (
        "先看闲鱼 https://www.goofish.com/item?id=6987654321098 ，再看贝壳 https://bj.ke.com/ershoufang/"
        "101127449675.html ；最后安居客 https://bj.anjuke.com/prop/view/A1234567890",
        [xy("6987654321098"), bk("101127449675", BJ), ak("A1234567890")],
    ),
    (
        "https://bj.anjuke.com/prop/view/A1234567890\nhttps://bj.ke.com/ershoufang/101127449675.html",
        [ak("A1234567890"), bk("101127449675", BJ)],
    ),
    (
        "房子 A1234567890 和手机 6987654321098，还有 BJCY91736842",
        [ak("A1234567890"), xy("6987654321098"), bk("BJCY91736842", BJ)],
    ),
]

NEGATIVE = [
    "",
    "今天天气不错",
    "https://ke.com.example.org/ershoufang/101127449675.html",
    "https://anjuke.com@evil.example/prop/view/A1234567890",
    "https://evil-goofish.com/item?id=712345678901",
    "https://goofish.com.evil.cn/item?id=712345678901",
    "https://notanjuke.com/prop/view/A1234567890",
    "https://anjuke.com.cn.example/prop/view/A1234567890",
    "https://bj.anjuke.com.evil.example/prop/view/A1234567890",
    "https://ke.com.cn/ershoufang/101127449675.html",
    "https://www.example.com/item?id=712345678901",
    "https://item.taobao.com/item.htm?id=600000000001",
    "https://item.taobao.com/item.htm?id=712345678901",
    "https://detail.tmall.com/item.htm?id=712345678901",
    "https://bj.ke.com/xiaoqu/1111027380919/",
    "https://bj.ke.com/ershoufang/",
    "https://bj.anjuke.com/sale/",
    "https://www.goofish.com/search?q=iphone",
    "电话 13800138000",
    "QQ 12345678901",
    "订单号 20260118123456789012",
    "123456",
    "价格 1200000 元",
    "2026-01-18 12:00",
    "A12345678",
    # issue 11: wrong lengths, lookalike hosts, list pages
    "https://bj.ke.com/ershoufang/10112744967.html",
    "https://bj.ke.com/ershoufang/1011274496751.html",
    "https://bj.ke.com/chengjiao/",
    "https://bj.zu.anjuke.com/gfangyuan/23984273",
    "https://m.anjuke.com/bj/rent/",
    "https://www.goofish.com/item/12345",
    "https://goofish.com.example.org/item/712345678901",
    "https://ssr.m.goofish.com/search?categoryId=50025969&userId=2201234567890",
]

POSITIVE = ANJUKE + BEIKE + XIANYU + MIXED


def test_the_table_covers_at_least_80_forms() -> None:
    assert len(POSITIVE) >= 80
    assert {row[0] for _, rows in POSITIVE for row in rows} >= {
        "anjuke",
        "beike",
        "xianyu",
        "beike|xianyu",
        "anjuke|xianyu",
    }


@pytest.mark.parametrize(
    ("text", "expected"), POSITIVE, ids=lambda v: v if isinstance(v, str) else ""
)
def test_a_link_form_is_recognised(text: str, expected: list[tuple[str, str, str | None]]) -> None:
    assert mentions(text) == expected


@pytest.mark.parametrize("text", NEGATIVE)
def test_lookalikes_and_other_numbers_are_no_listing(text: str) -> None:
    assert mentions(text) == []


def test_a_message_with_many_listings_is_cut_at_the_limit_in_order() -> None:
    ids = [
        f"https://www.goofish.com/item?id={800_000_000_000 + n}" for n in range(MAX_MENTIONS + 3)
    ]
    found = mentions(" ".join(ids))
    assert [row[1] for row in found] == [str(800_000_000_000 + n) for n in range(MAX_MENTIONS)]


def test_positions_point_into_the_original_text() -> None:
    text = "看看：https://www.goofish.com/item?id=712345678901，还有 A1234567890"
    found = recognise(text, LISTING_CLIENTS)
    assert [text[f.start : f.start + 5] for f in found] == ["https", "A1234"]


# -- forms found in public code, with their source ------------------------------------------
# Each row: (text, platform, id or None for "must not be taken", source). The source is
# the file in the public GitHub code index (find_string) where the link appears as
# written; cities are checked by the tables above, so only platform and ID are here.
GH = "github code index, file id "
SOURCED: list[tuple[str, str | None, str | None, str]] = [
    ("https://fz.anjuke.com/prop/view/A1756546458?from=filter&spread=commsearch_p", "anjuke", "A1756546458", GH + "37431513997"),
    ("https://shanghai.anjuke.com/prop/view/A1686520304", "anjuke", "A1686520304", GH + "68296247282"),
    ("http://shanghai.anjuke.com/prop/view/A296279944?from=structured_dict-saleMetro-salesxq&spread=comm", "anjuke", "A296279944", GH + "39495786483"),
    ("https://guangzhou.anjuke.com/prop/view/A1484458022", "anjuke", "A1484458022", GH + "29040974517"),
    ("https://qinhuangdao.anjuke.com/prop/view/A1305238435?from=filter&spread=commsearch_t&position=1", "anjuke", "A1305238435", GH + "7398282027"),
    ("https://tianjin.anjuke.com/prop/view/A1572029927?from=filter&spread=filtersearch&invalid=1", "anjuke", "A1572029927", GH + "3532097208"),
    ("https://beijing.anjuke.com/prop/view/A1912068142?from=esf_list_spfy&spread=filtersearch", "anjuke", "A1912068142", GH + "46725715223"),
    ("http://shanghai.anjuke.com/prop/view/A452471080?from=structured_dict-saleMetro&spread=filtersearch", "anjuke", "A452471080", GH + "11020192976"),
    ("https://xz.ke.com/ershoufang/103140664533.html", "beike", "103140664533", GH + "33016089605"),
    ("https://gz.ke.com/ershoufang/108406667810.html", "beike", "108406667810", GH + "2752016409"),
    ("https://su.ke.com/ershoufang/107108541337.html", "beike", "107108541337", GH + "7654957571"),
    ("https://bj.ke.com/ershoufang/101111224667.html", "beike", "101111224667", GH + "39919363428"),
    ("https://jiangmen.ke.com/ershoufang/105124490657.html", "beike", "105124490657", GH + "63535967825"),
    ("https://sh.ke.com/ershoufang/107115438394.html?fb_expo_id=sample", "beike", "107115438394", GH + "70937808260"),
    ("https://bj.ke.com/ershoufang/101112085073.html", "beike", "101112085073", GH + "32226862101"),
    ("https://sz.ke.com/ershoufang/105123170923.html", "beike", "105123170923", GH + "61586665245"),
    ("https://tj.ke.com/ershoufang/101118681080.html", "beike", "101118681080", GH + "20001290632"),
    ("https://wh.ke.com/ershoufang/104113418870.html", "beike", "104113418870", GH + "28098676797"),
    ("http://xm.lianjia.com/ershoufang/105101004155.html", "beike", "105101004155", GH + "8325956300"),
    ("http://bj.lianjia.com/ershoufang/101100766770.html", "beike", "101100766770", GH + "40081685765"),
    ("https://nj.lianjia.com/ershoufang/103102480999.html", "beike", "103102480999", GH + "2192117272"),
    ("https://cd.lianjia.com/ershoufang/106115530736.html", "beike", "106115530736", GH + "42476706186"),
    ("https://sh.lianjia.com/ershoufang/107100152911.html", "beike", "107100152911", GH + "27232713096"),
    ("https://gz.lianjia.com/ershoufang/108402692493.html", "beike", "108402692493", GH + "32879934321"),
    ("https://sh.lianjia.com/ershoufang/107101243278.html", "beike", "107101243278", GH + "34939476501"),
    ("http://bj.lianjia.com/ershoufang/101092240289.html", "beike", "101092240289", GH + "19048892900"),
    ("https://sh.ke.com/chengjiao/107109353602.html", "beike", "107109353602", GH + "23128032696"),
    ("https://gz.ke.com/chengjiao/108400942598.html", "beike", "108400942598", GH + "33679837999"),
    ("https://sh.ke.com/chengjiao/107101451728.html", "beike", "107101451728", GH + "68296247282"),
    ("http://2.taobao.com/item.htm?id=592838761902", "xianyu", "592838761902", GH + "27219961047"),
    ("https://2.taobao.com/item.htm?id=543176478313", "xianyu", "543176478313", GH + "40965077572"),
    ("https://2.taobao.com/item.htm?id=598183962091", "xianyu", "598183962091", GH + "17415181854"),
    ("http://nj.ke.com/ershoufang/103102654878.html?fb_expo_id=462181816624578560", "beike", "103102654878", GH + "37160584139"),
    ("https://m.ke.com/zz/ershoufang/104104033251.html?fb_expo_id=31223291789028147", "beike", "104104033251", GH + "24323815280"),
    ("https://m.ke.com/sh/ershoufang/107102472292.html", "beike", "107102472292", GH + "27209998190"),
    ("https://sz.lianjia.com/ershoufang/105123170923.html", "beike", "105123170923", GH + "61586665245"),
    ("https://shanghai.anjuke.com/prop/view/A2029684545?from=filter&spread=commsearch&invalid=1", "anjuke", "A2029684545", GH + "19335044751"),
    ("https://heb.anjuke.com/prop/view/S3375048294555659?auction=221&hpType=27&entry=136&position=0", "anjuke", "S3375048294555659", GH + "14724224197"),
    ("https://www.goofish.com/item?id=1045171414271", "xianyu", "1045171414271", GH + "71342794032"),
    ("https://market.m.taobao.com/app/idleFish-F2e/fish-pc/web/detail.html?id=595237376060", "xianyu", "595237376060", GH + "1353218772"),
    ("https://bj.zu.anjuke.com/fangyuan/1244278867", "anjuke", "1244278867", GH + "3555268456"),
    ("http://bj.zu.anjuke.com/fangyuan/1064876755", "anjuke", "1064876755", GH + "11950800927"),
    ("https://wh.zu.anjuke.com/fangyuan/1240407006", "anjuke", "1240407006", GH + "1224156144"),
    ("https://hz.zu.anjuke.com/fangyuan/1118629308", "anjuke", "1118629308", GH + "24379535379"),
    ("https://sz.zu.anjuke.com/fangyuan/1286839211", "anjuke", "1286839211", GH + "39528738667"),
    ("https://yan.zu.anjuke.com/fangyuan/1164176099?from=Filter_8", "anjuke", "1164176099", GH + "38843857077"),
    ("http://sh.zu.anjuke.com/fangyuan/1028777309", "anjuke", "1028777309", GH + "19067892930"),
    ("https://hz.zu.anjuke.com/fangyuan/1246915268", "anjuke", "1246915268", GH + "4960520990"),
    ("https://hf.zu.anjuke.com/fangyuan/1299356733", "anjuke", "1299356733", GH + "30108986821"),
    ("http://m.anjuke.com/sh/sale/A355519299/?isauction=200", "anjuke", "A355519299", GH + "39328783795"),
    ("http://m.anjuke.com/sh/sale/A296152362/?isauction=0&position=3", "anjuke", "A296152362", GH + "39005934606"),
    ("https://m.anjuke.com/sh/sale/S4642025165036553/", "anjuke", "S4642025165036553", GH + "68412630279"),
    ("https://sh.ke.com/ershoufang/107114117310.html", "beike", "107114117310", GH + "67327222447"),
    ("https://sh.ke.com/ershoufang/107114156799.html", "beike", "107114156799", GH + "67201740740"),
    ("https://sh.ke.com/ershoufang/107104514874.html", "beike", "107104514874", GH + "19091984528"),
    ("https://bj.ke.com/ershoufang/101103481530.html?fb_expo_id=111843257925292033", "beike", "101103481530", GH + "44198818178"),
    ("https://bj.ke.com/ershoufang/101103599958.html", "beike", "101103599958", GH + "43981856621"),
    ("https://bj.ke.com/ershoufang/101113237601.html", "beike", "101113237601", GH + "35209335770"),
    ("https://bj.ke.com/ershoufang/101103599958.html?fb_expo_id=111874061422358528", "beike", "101103599958", GH + "43477108761"),
    ("https://bj.ke.com/ershoufang/101124058522.html", "beike", "101124058522", GH + "67195894342"),
    ("'(\"2022-02-06\" \"KKK\" https://bj.ke.com/ershoufang/101113237601.html))", "beike", "101113237601", GH + "35209335770"),
    ("window.open('https://bj.ke.com/ershoufang/101112085073.html');", "beike", "101112085073", GH + "32550582577"),
    ("{'link': 'https://bj.ke.com/ershoufang/101112085073.html', 'city': '北京'}", "beike", "101112085073", GH + "32909536681"),
    ("<a href=\"https://sh.ke.com/ershoufang/107114117310.html\" title=\"世茂滨江全明户型\">", "beike", "107114117310", GH + "67387425963"),
    # must not be taken: list and search pages, wrong lengths, placeholders
    ("https://www.goofish.com/item?id=123456", None, None, GH + "58796892267"),
    ("https://www.goofish.com/item?id=123", None, None, GH + "65805819072"),
    ("https://cz.zu.anjuke.com/fangyuan/1.html", None, None, GH + "69212471448"),
    ("http://m.anjuke.com/sh/sale/", None, None, GH + "23272185032"),
    ("http://m.anjuke.com/sh/sale/pudong/a2000000_2500000-b0-0_0-0_0-0", None, None, GH + "39196740790"),
    ("https://m.anjuke.com/sh/sale/?from=anjuke_home/", None, None, GH + "18175139751"),
    ("https://m.anjuke.com/sh/sale/pudong/?from=anjuke_home&page=1", None, None, GH + "18621388509"),
    ("http://m.anjuke.com/sh/sale/10086/", None, None, GH + "39528939699"),
    ("https://market.m.taobao.com/app/idleFish-F2e/widle-message/message-list.html", None, None, GH + "69572213289"),
    ("https://market.m.taobao.com/app/idleFish-F2e/IdleFish4Weex/Recycle/RecycleCatPick?wh_weex=true", None, None, GH + "43577202026"),
    ("https://market.m.taobao.com/app/idleFish-F2e/fish-appraise/pages/readme/index.html?ut_sk=1.YPvlgcNC4OMDAKMRUEgXOh3J_1243", None, None, GH + "48374294577"),
    ("https://m.ke.com/cq/ershoufang/", None, None, GH + "54801572694"),
    ("https://m.ke.com/wh/ershoufang", None, None, GH + "69767340277"),
    ("https://m.ke.com/chuzu/sh/", None, None, GH + "108430181"),
    ("https://m.lianjia.com/sh/jingjiren/?page_size=15&_t=1&offset=0", None, None, GH + "36995984851"),
    ("http://xm.lianjia.com/ershoufang/", None, None, GH + "42856590181"),
    ("https://m.lianjia.com/", None, None, GH + "24356873460"),
    ("https://xm.lianjia.com/ershoufang/douxilu/", None, None, GH + "43715401366"),
    ("https://m.lianjia.com/chuzu/wh/zufang/WH1706605334535077888.html", None, None, GH + "45237031320"),
    ("https://xa.ke.com/ershoufang/", None, None, GH + "3653978744"),
    ("https://bj.ke.com/ershoufang/tongzhou/co32ba80ea100bp251ep499/", None, None, GH + "34625709075"),
    ("https://cq.ke.com/ershoufang/co32f2l3c3611099957604/?sug=%E4%B8%9C", None, None, GH + "10705490264"),
    ("https://sz.ke.com/ershoufang/", None, None, GH + "32033479844"),
    ("http://sh.lianjia.com/ershoufang/addMyFavorHouse.json", None, None, GH + "33239092005"),
    ("https://lf.lianjia.com/ershoufang/yanjiao/", None, None, GH + "29170389780"),
    ("http://nj.lianjia.com/ershoufang/", None, None, GH + "22350048075"),
    ("https://sh.lianjia.com/ershoufang/xuhui/", None, None, GH + "35788518630"),
    ("http://bj.lianjia.com/ershoufang/rs%E9%80%9A%E5%B7%9E", None, None, GH + "6460857135"),
    ("https://xy.zu.anjuke.com/fangyuan/xiangchengbc/p1", None, None, GH + "4561316868"),
    ("https://hz.zu.anjuke.com/fangyuan/p1/", None, None, GH + "26238889624"),
    ("https://cs.zu.anjuke.com/fangyuan/p2/", None, None, GH + "38240744089"),
    ("https://hz.zu.anjuke.com/fangyuan/hushu/", None, None, GH + "4847560114"),
    ("https://gz.zu.anjuke.com/fangyuan/tianhe/p1/", None, None, GH + "30202395483"),
    ("http://bj.zu.anjuke.com/fangyuan/", None, None, GH + "47125223644"),
    ("https://cz.zu.anjuke.com/fangyuan/wujin/", None, None, GH + "69212471448"),
    ("https://cd.fang.anjuke.com/loupan/s", None, None, GH + "45618400023"),
    ("https://wh.fang.anjuke.com/loupan/all/p2/", None, None, GH + "17170274194"),
    ("https://sz.fang.anjuke.com/loupan/", None, None, GH + "23914306023"),
    ("https://sh.fang.anjuke.com/loupan/s?kw=%E5%A4%A9%E6%B2%B3", None, None, GH + "4801469570"),
    ("https://hai.fang.anjuke.com/loupan/", None, None, GH + "63276144468"),
    ("http://zz.fang.anjuke.com/loupan/all/", None, None, GH + "8346960439"),
    ("https://m.anjuke.com/sh/zf/?from=anjuke_home", None, None, GH + "10870488405"),
    ("http://xm.anjuke.com/sale/?from=navigation", None, None, GH + "31583483776"),
    ("https://m.anjuke.com/xm/loupan/?jump=site", None, None, GH + "41028920909"),
    ("http://m.anjuke.com/sh/community/?p=4", None, None, GH + "32554344779"),
    ("https://m.anjuke.com/gu/community/?from=anjuke_home&p=1", None, None, GH + "27805921425"),
    ("http://nanjing.lianjia.com/ershoufang/101.html", None, None, GH + "56050886840"),
    ("http://bj.lianjia.com/zufang/", None, None, GH + "19048892900"),
    ("https://gz.ke.com/xiaoqu/tianhe/", None, None, GH + "33679837999"),
    ("https://2.taobao.com/item.htm?id=123456789", None, None, GH + "65765890583"),
    ("https://2.taobao.com/item.htm?id=1", None, None, GH + "70727836327"),
    ("https://2.taobao.com/item.htm?id=777888", None, None, GH + "61017912635"),
    ("https://2.taobao.com/item.htm?id=test12345", None, None, GH + "4692142180"),
    ("https://www.goofish.com/item?id=111", None, None, GH + "71648215399"),
    ("https://www.goofish.com/item?id=1001", None, None, GH + "61495860529"),
    ("https://www.goofish.com/item?id=wheel-001", None, None, GH + "68585870359"),
]  # fmt: skip


def test_at_least_120_sourced_forms_of_which_twenty_must_not_be_taken() -> None:
    assert len(SOURCED) >= 120
    assert sum(1 for _, platform, _, _ in SOURCED if platform is None) >= 20
    assert all(source.startswith(GH) for *_, source in SOURCED)


@pytest.mark.parametrize(("text", "platform", "listing_id", "source"), SOURCED)
def test_a_sourced_form_is_read_as_its_source_shows(
    text: str, platform: str | None, listing_id: str | None, source: str
) -> None:
    found = [(f.ref.platform, f.ref.listing_id) for f in recognise(text, LISTING_CLIENTS) if f.ref]
    candidates = [f for f in recognise(text, LISTING_CLIENTS) if f.ref is None]

    if platform is None:
        assert found == [] and candidates == [], source
    else:
        assert found == [(platform, listing_id)], source
