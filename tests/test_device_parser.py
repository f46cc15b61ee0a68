"""Reading device descriptions: the catalogue, the parser's table of real-world phrasings,
what it refuses to guess, and how it tells a description from ordinary chat or a link."""

from __future__ import annotations

from dataclasses import FrozenInstanceError

import pytest

from bench.device_table import FIELDS
from clients.aihuishou import (
    CONDITIONS,
    DEVICE_TYPES,
    FUNCTION_STATUSES,
    STORAGE_OPTIONAL_TYPES,
)
from clients.models import QuoteRequest
from devices.parser import (
    BATTERY_WORN_BELOW,
    STORAGE_CHOICES,
    ParsedDevice,
    load_catalogue,
    looks_like_device,
    parse_description,
    split_descriptions,
)

#: the fields every table row pins; a row that leaves one out expects None there
PINNED = FIELDS

IPHONES = tuple(m.model for m in load_catalogue().models("苹果", "手机"))
MACBOOKS = tuple(m.model for m in load_catalogue().models("苹果", "笔记本"))

# (description, expected values); extra keys: device_type, battery_health, ambiguous, missing
Y9000P_YEARS = tuple(f"拯救者 Y9000P {year}" for year in (2023, 2021, 2022, 2024, 2025))

CASES: list[tuple[str, dict[str, object]]] = [
    # -- the examples from the issue
    (
        "iPhone14Pro 256G 国行 95新 电池87%",
        dict(
            brand="苹果",
            model="iPhone 14 Pro",
            storage="256GB",
            condition="95新",
            purchase_channel="国行",
            battery_health=87,
            missing=["function_status"],
        ),
    ),
    (
        "华为Mate60 Pro 12+512 屏幕碎了",
        dict(
            brand="华为",
            model="Mate 60 Pro",
            storage="512GB",
            ram="12GB",
            function_status="屏幕损坏",
            missing=["condition"],
        ),
    ),
    (
        "MacBook Air M2 8+256 九成新",
        dict(
            brand="苹果",
            model="MacBook Air M2",
            device_type="笔记本",
            storage="256GB",
            ram="8GB",
            condition="九成新",
            missing=["function_status"],
        ),
    ),
    # -- Apple phones, every way of writing them
    (
        "iPhone 14 Pro 256GB 九成新 功能正常",
        dict(
            brand="苹果",
            model="iPhone 14 Pro",
            storage="256GB",
            condition="九成新",
            function_status="正常",
            missing=[],
        ),
    ),
    (
        "iphone14pro 256g 9成新 无拆修",
        dict(
            brand="苹果",
            model="iPhone 14 Pro",
            storage="256GB",
            condition="九成新",
            function_status="正常",
            repair_history="无维修",
        ),
    ),
    (
        "苹果14pro 256 95新 完美",
        dict(
            brand="苹果",
            model="iPhone 14 Pro",
            storage="256GB",
            condition="95新",
            function_status="正常",
        ),
    ),
    (
        "苹果14pm 256 99新 功能正常",
        dict(
            brand="苹果",
            model="iPhone 14 Pro Max",
            storage="256GB",
            condition="99新",
            function_status="正常",
        ),
    ),
    (
        "苹果 14 pro max 512g 8成新",
        dict(brand="苹果", model="iPhone 14 Pro Max", storage="512GB", condition="八成新"),
    ),
    (
        "苹果手机 14pm 1T 九成新",
        dict(
            brand="苹果",
            model="iPhone 14 Pro Max",
            storage="1TB",
            condition="九成新",
            device_type="手机",
        ),
    ),
    (
        "IPHONE 15 PRO MAX 256GB 99新",
        dict(brand="苹果", model="iPhone 15 Pro Max", storage="256GB", condition="99新"),
    ),
    (
        "ｉＰｈｏｎｅ１４Ｐｒｏ　２５６Ｇ　９５新",
        dict(brand="苹果", model="iPhone 14 Pro", storage="256GB", condition="95新"),
    ),
    (
        "iPhone 16 Pro Max 512G 国行 99新 功能完好",
        dict(
            brand="苹果",
            model="iPhone 16 Pro Max",
            storage="512GB",
            condition="99新",
            function_status="正常",
            purchase_channel="国行",
        ),
    ),
    (
        "iphone16promax 1tb 全新 未激活",
        dict(brand="苹果", model="iPhone 16 Pro Max", storage="1TB", condition="全新"),
    ),
    (
        "爱疯13 128G 8成新 电池80%",
        dict(
            brand="苹果",
            model="iPhone 13",
            storage="128GB",
            condition="八成新",
            function_status="电池老化",
            battery_health=80,
        ),
    ),
    (
        "apple iphone 15 128gb like new, all functions work",
        dict(
            brand="苹果",
            model="iPhone 15",
            storage="128GB",
            condition="99新",
            function_status="正常",
        ),
    ),
    (
        "iPhone 15 Plus 256GB excellent, water damaged",
        dict(
            brand="苹果",
            model="iPhone 15 Plus",
            storage="256GB",
            condition="95新",
            function_status="进水",
        ),
    ),
    (
        "iPhone 12 64G 七成新 开不了机",
        dict(
            brand="苹果",
            model="iPhone 12",
            storage="64GB",
            condition="七成新及以下",
            function_status="无法开机",
        ),
    ),
    (
        "iPhone 12 Pro 128 6成新 屏幕裂了",
        dict(
            brand="苹果",
            model="iPhone 12 Pro",
            storage="128GB",
            condition="七成新及以下",
            function_status="屏幕损坏",
        ),
    ),
    (
        "iPhone 13 Pro 256G 9成新 面容坏了",
        dict(
            brand="苹果",
            model="iPhone 13 Pro",
            storage="256GB",
            condition="九成新",
            function_status="面容/指纹故障",
        ),
    ),
    (
        "iPhone 14 Pro 256G 95新 Face ID不能用",
        dict(
            brand="苹果",
            model="iPhone 14 Pro",
            storage="256GB",
            condition="95新",
            function_status="面容/指纹故障",
        ),
    ),
    (
        "iPhone 14 256G 95新 无面容",
        dict(
            brand="苹果",
            model="iPhone 14",
            storage="256GB",
            condition="95新",
            function_status="面容/指纹故障",
        ),
    ),
    (
        "iPhone 15 Pro 128GB 95新 cracked screen, face id broken",
        dict(
            brand="苹果",
            model="iPhone 15 Pro",
            storage="128GB",
            condition="95新",
            function_status="屏幕损坏",
        ),
    ),
    (
        "iPhone 15 Pro Max 256 港版 7成新 后摄坏了",
        dict(
            brand="苹果",
            model="iPhone 15 Pro Max",
            storage="256GB",
            condition="七成新及以下",
            function_status="摄像头故障",
            purchase_channel="港版",
        ),
    ),
    (
        "iPhone 13 128G 95新 battery health 84%",
        dict(
            brand="苹果",
            model="iPhone 13",
            storage="128GB",
            condition="95新",
            function_status="电池老化",
            battery_health=84,
        ),
    ),
    (
        "iPhone 13 128G 95新 电池85%",
        dict(
            brand="苹果",
            model="iPhone 13",
            storage="128GB",
            condition="95新",
            battery_health=85,
            missing=["function_status"],
        ),
    ),
    (
        "电池健康度 91% iPhone 14 Plus 256G 99新 一切正常",
        dict(
            brand="苹果",
            model="iPhone 14 Plus",
            storage="256GB",
            condition="99新",
            function_status="正常",
            battery_health=91,
        ),
    ),
    (
        "需要换电池 iPhone 13 Pro 256 9成新",
        dict(
            brand="苹果",
            model="iPhone 13 Pro",
            storage="256GB",
            condition="九成新",
            function_status="电池老化",
        ),
    ),
    (
        "iPhone 14 换过电池 电池100% 95新 256G 功能正常",
        dict(
            brand="苹果",
            model="iPhone 14",
            storage="256GB",
            condition="95新",
            function_status="正常",
            repair_history="更换过电池",
            battery_health=100,
        ),
    ),
    (
        "港版 iPhone 15 Pro 256G 95新 换过屏幕",
        dict(
            brand="苹果",
            model="iPhone 15 Pro",
            storage="256GB",
            condition="95新",
            repair_history="更换过屏幕",
            purchase_channel="港版",
        ),
    ),
    (
        "美版有锁 iPhone 14 128 8成新",
        dict(
            brand="苹果",
            model="iPhone 14",
            storage="128GB",
            condition="八成新",
            purchase_channel="美版",
        ),
    ),
    (
        "合约机 iPhone 13 256G 9成新 信号不好",
        dict(
            brand="苹果",
            model="iPhone 13",
            storage="256GB",
            condition="九成新",
            function_status="信号故障",
            purchase_channel="运营商",
        ),
    ),
    (
        "iPhone 12 128G 9成新 没进过水 屏幕没碎 功能正常",
        dict(
            brand="苹果",
            model="iPhone 12",
            storage="128GB",
            condition="九成新",
            function_status="正常",
        ),
    ),
    (
        "iphone 12 128g very good, no water damage, works fine",
        dict(
            brand="苹果",
            model="iPhone 12",
            storage="128GB",
            condition="九成新",
            function_status="正常",
        ),
    ),
    (
        "屏幕碎了但是功能正常 iPhone 14 Pro 256 95新",
        dict(
            brand="苹果",
            model="iPhone 14 Pro",
            storage="256GB",
            condition="95新",
            function_status="屏幕损坏",
        ),
    ),
    (
        "无进水 无拆修 iPhone 13 128G 9成新 face id不能用",
        dict(
            brand="苹果",
            model="iPhone 13",
            storage="128GB",
            condition="九成新",
            function_status="面容/指纹故障",
            repair_history="无维修",
        ),
    ),
    (
        "iPhone 16 128G 99新 喇叭有杂音",
        dict(
            brand="苹果",
            model="iPhone 16",
            storage="128GB",
            condition="99新",
            function_status="扬声器/麦克风故障",
        ),
    ),
    (
        "iPhone 16 Plus 256 95新 屏幕有坏点 进过水",
        dict(
            brand="苹果",
            model="iPhone 16 Plus",
            storage="256GB",
            condition="95新",
            function_status="进水",
        ),
    ),
    # -- Huawei, with its nickname
    (
        "华子 mate60pro 1T 9成新 无拆修",
        dict(
            brand="华为",
            model="Mate 60 Pro",
            storage="1TB",
            condition="九成新",
            function_status="正常",
            repair_history="无维修",
        ),
    ),
    (
        "华为 P60 Pro 8+256 九成新 功能正常 国行",
        dict(
            brand="华为",
            model="P60 Pro",
            storage="256GB",
            ram="8GB",
            condition="九成新",
            function_status="正常",
            purchase_channel="国行",
        ),
    ),
    (
        "华为 nova 12 8G+256G 95新 无拆修",
        dict(
            brand="华为",
            model="nova 12",
            storage="256GB",
            ram="8GB",
            condition="95新",
            function_status="正常",
            repair_history="无维修",
        ),
    ),
    (
        "huawei pura 70 pro 12+1T 99新",
        dict(brand="华为", model="Pura 70 Pro", storage="1TB", ram="12GB", condition="99新"),
    ),
    (
        "华为p70pro 512 准新",
        dict(brand="华为", model="Pura 70 Pro", storage="512GB", condition="99新"),
    ),
    (
        "Mate 60 Pro+ 16+1T 全新",
        dict(brand="华为", model="Mate 60 Pro+", storage="1TB", ram="16GB", condition="全新"),
    ),
    (
        "Mate60Pro加 16+512 99新",
        dict(brand="华为", model="Mate 60 Pro+", storage="512GB", ram="16GB", condition="99新"),
    ),
    (
        "华为 mate 50 pro 8+256 7成新 无法开机",
        dict(
            brand="华为",
            model="Mate 50 Pro",
            storage="256GB",
            ram="8GB",
            condition="七成新及以下",
            function_status="无法开机",
        ),
    ),
    (
        "华为 Mate 60 12+256 8成新 主板修过",
        dict(
            brand="华为",
            model="Mate 60",
            storage="256GB",
            ram="12GB",
            condition="八成新",
            repair_history="主板维修",
        ),
    ),
    (
        "二手入手 华为 P60 8+256 8成新",
        dict(
            brand="华为",
            model="P60",
            storage="256GB",
            ram="8GB",
            condition="八成新",
            purchase_channel="二手",
        ),
    ),
    # -- Xiaomi / Redmi
    (
        "小米14 12+256 八成新 进过水",
        dict(
            brand="小米",
            model="小米 14",
            storage="256GB",
            ram="12GB",
            condition="八成新",
            function_status="进水",
        ),
    ),
    (
        "xiaomi 14 pro 16+1t like new works perfectly",
        dict(
            brand="小米",
            model="小米 14 Pro",
            storage="1TB",
            ram="16GB",
            condition="99新",
            function_status="正常",
        ),
    ),
    (
        "MI 14 12+256 99新 功能正常",
        dict(
            brand="小米",
            model="小米 14",
            storage="256GB",
            ram="12GB",
            condition="99新",
            function_status="正常",
        ),
    ),
    (
        "小米 mi 14 8+256 屏幕没碎 无进水 九五新",
        dict(brand="小米", model="小米 14", storage="256GB", ram="8GB", condition="95新"),
    ),
    (
        "小米13 12+256 九成新 摄像头坏了",
        dict(
            brand="小米",
            model="小米 13",
            storage="256GB",
            ram="12GB",
            condition="九成新",
            function_status="摄像头故障",
        ),
    ),
    (
        "红米note13pro 8+128 八成新 没信号",
        dict(
            brand="小米",
            model="Redmi Note 13 Pro",
            storage="128GB",
            ram="8GB",
            condition="八成新",
            function_status="信号故障",
        ),
    ),
    (
        "Redmi Note 13 Pro 12+512 85新",
        dict(
            brand="小米", model="Redmi Note 13 Pro", storage="512GB", ram="12GB", condition="八成新"
        ),
    ),
    (
        "红米 K70 16+512 99新",
        dict(brand="小米", model="Redmi K70", storage="512GB", ram="16GB", condition="99新"),
    ),
    # -- OPPO, vivo, Honor, Samsung, OnePlus
    (
        "OPPO Find X7 Ultra 16+512 95新 听筒没声音",
        dict(
            brand="OPPO",
            model="Find X7 Ultra",
            storage="512GB",
            ram="16GB",
            condition="95新",
            function_status="扬声器/麦克风故障",
        ),
    ),
    (
        "oppo reno11 12+256 9成新 完美",
        dict(
            brand="OPPO",
            model="Reno 11",
            storage="256GB",
            ram="12GB",
            condition="九成新",
            function_status="正常",
        ),
    ),
    (
        "vivo X100 12+256 99新 指纹失灵",
        dict(
            brand="vivo",
            model="vivo X100",
            storage="256GB",
            ram="12GB",
            condition="99新",
            function_status="面容/指纹故障",
        ),
    ),
    (
        "iQOO 12 16+512 全新未拆封",
        dict(brand="vivo", model="iQOO 12", storage="512GB", ram="16GB", condition="全新"),
    ),
    (
        "屏幕有坏点 vivo X100 Pro 16+512 95新 换过屏",
        dict(
            brand="vivo",
            model="vivo X100 Pro",
            storage="512GB",
            ram="16GB",
            condition="95新",
            function_status="屏幕显示异常",
            repair_history="更换过屏幕",
        ),
    ),
    (
        "荣耀 Magic6 Pro 16+512 95新 无拆修",
        dict(
            brand="荣耀",
            model="Magic6 Pro",
            storage="512GB",
            ram="16GB",
            condition="95新",
            function_status="正常",
            repair_history="无维修",
        ),
    ),
    (
        "honor magic v2 16+512 99新 屏幕有绿线",
        dict(
            brand="荣耀",
            model="Magic V2",
            storage="512GB",
            ram="16GB",
            condition="99新",
            function_status="屏幕显示异常",
        ),
    ),
    (
        "Honor 90 12+256 9成新",
        dict(brand="荣耀", model="荣耀 90", storage="256GB", ram="12GB", condition="九成新"),
    ),
    (
        "三星 S24 8+256 9成新 功能正常",
        dict(
            brand="三星",
            model="Galaxy S24",
            storage="256GB",
            ram="8GB",
            condition="九成新",
            function_status="正常",
        ),
    ),
    (
        "Galaxy S24 Ultra 512GB good condition cracked screen battery 82%",
        dict(
            brand="三星",
            model="Galaxy S24 Ultra",
            storage="512GB",
            condition="九成新",
            function_status="屏幕损坏",
            battery_health=82,
        ),
    ),
    (
        "Galaxy S24U 256 95新",
        dict(brand="三星", model="Galaxy S24 Ultra", storage="256GB", condition="95新"),
    ),
    (
        "三星 fold5 512g 95新 内屏碎了",
        dict(
            brand="三星",
            model="Galaxy Z Fold5",
            storage="512GB",
            condition="95新",
            function_status="屏幕损坏",
        ),
    ),
    (
        "一加 Ace 3 16+512 9成新 进过水",
        dict(
            brand="一加",
            model="一加 Ace 3",
            storage="512GB",
            ram="16GB",
            condition="九成新",
            function_status="进水",
        ),
    ),
    (
        "oneplus 12 24+1t mint",
        dict(brand="一加", model="一加 12", storage="1TB", ram="24GB", condition="99新"),
    ),
    # -- tablets
    (
        "iPad Pro 11 M4 256G 99新",
        dict(
            brand="苹果",
            model="iPad Pro 11 (M4)",
            device_type="平板",
            storage="256GB",
            condition="99新",
        ),
    ),
    (
        "ipad pro 12.9 m2 1T 95新 功能正常",
        dict(
            brand="苹果",
            model="iPad Pro 12.9 (M2)",
            storage="1TB",
            condition="95新",
            function_status="正常",
        ),
    ),
    (
        "iPad 第十代 256G 8成新",
        dict(brand="苹果", model="iPad 10", storage="256GB", condition="八成新"),
    ),
    (
        "ipad mini 6 64g 95新 换过电池",
        dict(
            brand="苹果",
            model="iPad mini 6",
            storage="64GB",
            condition="95新",
            repair_history="更换过电池",
        ),
    ),
    (
        "官网购买 iPad Air 5 256G 99新",
        dict(
            brand="苹果",
            model="iPad Air 5",
            storage="256GB",
            condition="99新",
            purchase_channel="官网",
        ),
    ),
    (
        "小米平板6 8+256 95新",
        dict(
            brand="小米",
            model="小米平板 6",
            device_type="平板",
            storage="256GB",
            ram="8GB",
            condition="95新",
        ),
    ),
    (
        "MatePad Pro 11 12+512 99新",
        dict(brand="华为", model="MatePad Pro 11", storage="512GB", ram="12GB", condition="99新"),
    ),
    (
        # a size the catalogue does not list is read from its shape, not taken for the 11-inch
        "华为平板MatePad Pro 10.8英寸 6G+128G wifi版 95新",
        dict(brand="华为", model="MatePad Pro 10.8", storage="128GB", ram="6GB", condition="95新"),
    ),
    (
        "Sony Xperia Z5P 港版 换过电池，全新3440mah容量",
        dict(
            brand="索尼",
            model="Xperia Z5 Premium",
            purchase_channel="港版",
            repair_history="更换过电池",
            condition=None,
        ),
    ),
    (
        "惠普笔记本 九五新以上 没有拆修和暗病 4G内存",
        dict(
            brand="惠普",
            condition="95新",
            ram="4GB",
            repair_history="无维修",
            function_status="正常",
            ambiguous={"model": ("暗影精灵 10", "暗影精灵 11")},  # the brand's laptops
        ),
    ),
    (
        "Galaxy Tab S9 8+128 平板 99新",
        dict(brand="三星", model="Galaxy Tab S9", storage="128GB", ram="8GB", condition="99新"),
    ),
    # -- laptops (RAM required)
    (
        "MacBook Pro M1 8+256 8成新 电池老化",
        dict(
            brand="苹果",
            model="MacBook Pro 13 M1",
            storage="256GB",
            ram="8GB",
            condition="八成新",
            function_status="电池老化",
        ),
    ),
    (
        "macbook pro 14 m3 16G 1T 99新",
        dict(brand="苹果", model="MacBook Pro 14 M3", storage="1TB", ram="16GB", condition="99新"),
    ),
    (
        "MBA M1 8G 256G 95新 功能正常",
        dict(
            brand="苹果",
            model="MacBook Air M1",
            storage="256GB",
            ram="8GB",
            condition="95新",
            function_status="正常",
        ),
    ),
    (
        "MacBook Air 13 M2 内存16G 存储512G 9成新",
        dict(brand="苹果", model="MacBook Air M2", storage="512GB", ram="16GB", condition="九成新"),
    ),
    (
        "苹果笔记本 air m3 24+1T 全新",
        dict(brand="苹果", model="MacBook Air M3", storage="1TB", ram="24GB", condition="全新"),
    ),
    (
        "华为 MateBook X Pro 32+1T 95新",
        dict(brand="华为", model="MateBook X Pro", storage="1TB", ram="32GB", condition="95新"),
    ),
    (
        "MateBook 14 512G 95新 功能正常",
        dict(
            brand="华为",
            model="MateBook 14",
            storage="512GB",
            ram="16GB",
            condition="95新",
            function_status="正常",
            missing=[],
        ),
    ),
    (
        "ThinkPad X1 Carbon Gen 11 16+512 8成新 功能正常",
        dict(
            brand="联想",
            model="ThinkPad X1 Carbon Gen 11",
            storage="512GB",
            ram="16GB",
            condition="八成新",
            function_status="正常",
        ),
    ),
    (
        "联想 Y9000P 32G 2T 全新未拆封",
        # a Y9000P is sold every year: without its year it is asked, never taken for 2023
        dict(
            brand="联想",
            storage="2TB",
            ram="32GB",
            condition="全新",
            ambiguous={"model": Y9000P_YEARS},
        ),
    ),
    (
        "拯救者Y9000P 2023款 16+1T 99新 无拆修",
        dict(
            brand="联想",
            model="拯救者 Y9000P 2023",
            storage="1TB",
            ram="16GB",
            condition="99新",
            function_status="正常",
            repair_history="无维修",
        ),
    ),
    (
        "Surface Pro 9 16+256 95新",
        dict(brand="微软", model="Surface Pro 9", storage="256GB", ram="16GB", condition="95新"),
    ),
    # -- what must stay missing or ambiguous
    (
        "iPhone 14 Pro 256G",
        dict(
            brand="苹果",
            model="iPhone 14 Pro",
            storage="256GB",
            missing=["condition", "function_status"],
        ),
    ),
    (
        "256G 95新 功能正常",
        dict(storage="256GB", condition="95新", function_status="正常", missing=["brand", "model"]),
    ),
    (
        "iphone 14 p 128g",
        dict(
            brand="苹果",
            storage="128GB",
            ambiguous={"model": ("iPhone 14 Plus", "iPhone 14 Pro", "iPhone 14 Pro Max")},
            missing=["model", "condition", "function_status"],
        ),
    ),
    (
        "苹果手机 256G 95新",
        dict(
            brand="苹果",
            storage="256GB",
            condition="95新",
            device_type="手机",
            ambiguous={"model": IPHONES},
            missing=["model", "function_status"],
        ),
    ),
    (
        "苹果 air m2 256",
        dict(
            brand="苹果", storage="256GB", ambiguous={"model": ("iPad Air (M2)", "MacBook Air M2")}
        ),
    ),
    (
        "iPhone 12 mini 128G 9成新",
        dict(
            brand="苹果",
            model="iPhone 12 mini",
            device_type="手机",
            storage="128GB",
            condition="九成新",
            missing=["function_status"],
        ),
    ),
    (
        "Xiaomi 14 Ultra 16+512 95新",
        # not in the catalogue, read from its shape: the platform decides whether it prices it
        dict(
            brand="小米",
            model="小米 14 Ultra",
            condition="95新",
            ram="16GB",
            storage="512GB",
        ),
    ),
    (
        "MacBook Air 15 M2 8+256 95新",
        # the 15-inch Air is its own model, never the 13-inch one
        dict(
            brand="苹果",
            model="MacBook Air 15 M2",
            storage="256GB",
            ram="8GB",
            condition="95新",
        ),
    ),
    (
        "iPhone 14 Pro 和 iPhone 15 Pro 256G",
        dict(
            brand="苹果", storage="256GB", ambiguous={"model": ("iPhone 14 Pro", "iPhone 15 Pro")}
        ),
    ),
    (
        "iPhone 14 Pro 64G 95新",
        dict(
            brand="苹果",
            model="iPhone 14 Pro",
            condition="95新",
            ambiguous={"storage": ("128GB", "256GB", "512GB", "1TB")},
            missing=["storage", "function_status"],
        ),
    ),
    (
        "iPhone 14 Pro 128G 256G 95新",
        dict(
            brand="苹果",
            model="iPhone 14 Pro",
            condition="95新",
            ambiguous={"storage": ("128GB", "256GB")},
        ),
    ),
    (
        "iPhone 14 Pro 256G 95新 8成新",
        dict(
            brand="苹果",
            model="iPhone 14 Pro",
            storage="256GB",
            ambiguous={"condition": ("95新", "八成新")},
        ),
    ),
    (
        "MacBook Air M2 256G 95新 功能正常",
        dict(
            brand="苹果",
            model="MacBook Air M2",
            storage="256GB",
            condition="95新",
            function_status="正常",
            missing=["ram"],
        ),
    ),
    (
        "MacBook Air M2 12+256 95新",
        dict(
            brand="苹果",
            model="MacBook Air M2",
            storage="256GB",
            condition="95新",
            ambiguous={"ram": ("8GB", "16GB", "24GB")},
            missing=["ram", "function_status"],
        ),
    ),
    (
        "荣耀90新 256",
        dict(
            brand="荣耀",
            storage="256GB",
            condition="九成新",
            ambiguous={"model": ("Magic6 Pro", "荣耀 90", "Magic V2", "Magic7 Pro")},
        ),
    ),
    (
        "iPhone 13 128G 成色很好",
        dict(
            brand="苹果",
            model="iPhone 13",
            storage="128GB",
            missing=["condition", "function_status"],
        ),
    ),
    # -- old listings (转转 2016): a second model named in passing, old models, 基本全新
    (
        "vivo X5Pro 32G 如今苹果7上市",
        dict(
            storage="32GB",
            ambiguous={"model": ("vivo X5 Pro", "iPhone 7"), "brand": ("vivo", "苹果")},
        ),
    ),
    (
        "华为荣耀3C 2+16G",
        dict(brand="荣耀", model="荣耀 3C", storage="16GB", ram="2GB", device_type="手机"),
    ),
    (
        "魅族mx4pro 3+16g 9成新",
        dict(brand="魅族", model="魅族 MX4 Pro", storage="16GB", ram="3GB", condition="九成新"),
    ),
    ("小米5x 64G", dict(brand="小米", model="小米 5X", storage="64GB")),
    ("手机很好用，基本全新", dict(condition="99新", device_type="手机")),
    (
        "oppo find x 屏幕碎了",
        dict(brand="OPPO", model="Find X", function_status="屏幕损坏", device_type="手机"),
    ),
    (
        "华硕笔记本 4G/1T",
        dict(
            brand="华硕",
            storage="1TB",
            ram="4GB",
            device_type="笔记本",
            ambiguous={
                "model": (
                    "ROG 枪神 8",
                    "ROG 枪神 8 Plus",
                    "ROG 枪神 9",
                    "ROG 冰刃 4 Plus",
                    "天选 5 Pro",
                )
            },
        ),
    ),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0][:40] for c in CASES])
def test_description_is_read_into_platform_values(text: str, expected: dict[str, object]) -> None:
    parsed = parse_description(text)

    for name in PINNED:
        assert getattr(parsed, name) == expected.get(name), name
    for name in ("device_type", "battery_health"):
        if name in expected:
            assert getattr(parsed, name) == expected[name], name
    assert parsed.ambiguous == expected.get("ambiguous", {})
    if "missing" in expected:
        assert parsed.missing() == expected["missing"]


def test_table_is_large_and_varied() -> None:
    assert len(CASES) >= 80
    brands = {case[1].get("brand") for case in CASES}
    assert {"苹果", "华为", "小米", "OPPO", "vivo", "荣耀", "三星", "联想"} <= brands


def test_every_parsed_value_is_one_the_platform_knows() -> None:
    catalogue = load_catalogue()
    for text, _ in CASES:
        parsed = parse_description(text)
        assert parsed.condition in (None, *CONDITIONS)
        assert parsed.function_status in (None, *FUNCTION_STATUSES)
        assert parsed.device_type in (None, *DEVICE_TYPES)
        if parsed.model:
            model = catalogue.resolve(parsed.model)
            assert model is not None and parsed.brand == model.brand
            assert parsed.storage in (None, *(model.storage or STORAGE_CHOICES))


# -- rules ---------------------------------------------------------------------------------


def test_battery_threshold_decides_worn_battery() -> None:
    below = parse_description(f"iPhone 13 128G 95新 电池{BATTERY_WORN_BELOW - 1}%")
    at = parse_description(f"iPhone 13 128G 95新 电池{BATTERY_WORN_BELOW}% 功能正常")

    assert below.function_status == "电池老化"
    assert at.function_status == "正常"


def test_condition_is_never_defaulted() -> None:
    parsed = parse_description("iPhone 15 256G 功能正常 国行")

    assert parsed.condition is None
    assert parsed.missing() == ["condition"]


def test_function_status_needs_the_text_to_say_it_works() -> None:
    silent = parse_description("iPhone 15 256G 95新")
    says_so = parse_description("iPhone 15 256G 95新 功能正常")

    assert silent.function_status is None and "function_status" in silent.missing()
    assert says_so.function_status == "正常"


def test_twelve_plus_five_twelve_is_ram_and_storage_and_one_t_is_a_terabyte() -> None:
    parsed = parse_description("华为 Mate 60 Pro 12+1T 95新")
    spaced = parse_description("华为 Mate 60 Pro 12GB + 512GB 95新")

    assert (parsed.ram, parsed.storage) == ("12GB", "1TB")
    assert (spaced.ram, spaced.storage) == ("12GB", "512GB")


def test_missing_fields_come_in_asking_order_with_ram_only_for_laptops() -> None:
    laptop = parse_description("苹果笔记本")
    phone = parse_description("华为手机")

    assert laptop.missing() == ["model", "storage", "ram", "condition", "function_status"]
    assert phone.missing() == ["model", "storage", "condition", "function_status"]
    assert parse_description("").missing() == [
        "brand",
        "model",
        "storage",
        "condition",
        "function_status",
    ]


def test_complete_description_becomes_a_quote_request() -> None:
    parsed = parse_description("MacBook Air M2 8+256 九成新 功能正常 官网 无拆修")

    assert parsed.to_request() == QuoteRequest(
        device_type="笔记本",
        brand="苹果",
        model="MacBook Air M2",
        storage="256GB",
        condition="九成新",
        function_status="正常",
        ram="8GB",
        repair_history="无维修",
        purchase_channel="官网",
    )


def test_incomplete_description_refuses_to_become_a_request() -> None:
    with pytest.raises(ValueError, match="condition"):
        parse_description("iPhone 14 Pro 256G 功能正常").to_request()


def test_answers_fill_the_gaps_and_a_chosen_model_brings_its_brand() -> None:
    parsed = parse_description("苹果 air m2 256 95新")

    laptop = parsed.choose("model", "MacBook Air M2")
    assert (laptop.brand, laptop.device_type, laptop.storage) == ("苹果", "笔记本", "256GB")
    assert "model" not in laptop.ambiguous
    assert laptop.missing() == ["ram", "function_status"]
    assert laptop.options("ram") == ("8GB", "16GB", "24GB")
    done = laptop.choose("ram", "8GB").choose("function_status", "正常")
    assert done.to_request().model == "MacBook Air M2"


def test_choosing_a_model_drops_a_storage_it_is_not_sold_with() -> None:
    parsed = parse_description("苹果 64G 95新").choose("model", "iPhone 15 Pro")

    assert parsed.storage is None
    assert parsed.options("storage") == ("128GB", "256GB", "512GB", "1TB")


def test_options_offer_the_platform_values() -> None:
    parsed = parse_description("华为手机 256G")

    assert parsed.options("condition") == tuple(CONDITIONS)
    assert parsed.options("function_status") == FUNCTION_STATUSES
    assert "Mate 60 Pro" in parsed.options("model")
    assert "MateBook 14" not in parsed.options("model")  # a phone was asked for
    assert "华为" in ParsedDevice().options("brand")


def test_parsed_device_is_frozen() -> None:
    with pytest.raises(FrozenInstanceError):
        parse_description("iPhone 14").model = "x"  # type: ignore[misc]


# -- chat or device? -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "iPhone14Pro 256G 国行 95新 电池87%",
        "华为Mate60 Pro 12+512 屏幕碎了",
        "MacBook Air M2 8+256 九成新",
        "收一台 iphone 13 128g 9成新",
        "my old galaxy s23 256gb, cracked screen",
        "你好\n华为 P60 8+256 8成新",
    ],
)
def test_descriptions_look_like_devices(text: str) -> None:
    assert looks_like_device(text)


@pytest.mark.parametrize(
    "text",
    [
        "今天天气不错",
        "我想买个新手机",
        "华为的手机还不错",
        "iPhone 15 多少钱",
        "hello, how are you?",
        "ok 256 people came, mini meeting at 9",
        "https://www.goofish.com/item?id=736195543210 iPhone 14 Pro 256G 95新",
        "【闲鱼】https://m.tb.cn/h.5Fq0xAb 「iPhone 15 Pro 256G 99新」点击链接直接打开",
        "https://bj.ke.com/ershoufang/101127449675.html",
        "https://bj.anjuke.com/prop/view/AK2026011800001 三室两厅 95新装修",
        "goofish.com/item?id=736195543210 华为 Mate 60 Pro 12+512",
        "736195543210",
        "",
    ],
)
def test_chat_and_links_do_not_look_like_devices(text: str) -> None:
    assert not looks_like_device(text)


def test_each_line_is_one_description() -> None:
    text = "1. iPhone 14 Pro 256G 95新\n\n- 华为 Mate 60 12+256 9成新  \n  小米14 12+256 99新"

    assert split_descriptions(text) == [
        "iPhone 14 Pro 256G 95新",
        "华为 Mate 60 12+256 9成新",
        "小米14 12+256 99新",
    ]
    assert split_descriptions(" \n\n") == []


# -- the catalogue -------------------------------------------------------------------------


def test_catalogue_covers_phones_tablets_and_laptops_of_the_major_brands() -> None:
    catalogue = load_catalogue()

    assert load_catalogue() is catalogue  # loaded once
    assert len(catalogue) >= 60
    assert {m.device_type for m in catalogue} == set(DEVICE_TYPES)
    for brand in ("苹果", "华为", "小米", "OPPO", "vivo", "荣耀", "三星", "联想"):
        assert brand in catalogue.brands() and catalogue.models(brand)
    for model in catalogue:
        # a watch's storage is fixed per model: listed where known, never asked
        assert model.storage or model.device_type in STORAGE_OPTIONAL_TYPES, model.model
        assert not model.needs_ram or model.ram, model.model
    assert catalogue.get("iPhone 14 Pro") is catalogue.get("iphone14pro")
    assert catalogue.get("no such phone") is None


def test_closest_models_suggest_what_was_meant() -> None:
    catalogue = load_catalogue()

    assert catalogue.closest("iphon 14 pr")[0].model == "iPhone 14 Pro"
    assert catalogue.closest("macbok air m2")[0].model == "MacBook Air M2"
    mate = [m.model for m in catalogue.closest("mate 60", n=3)]
    assert mate[0] == "Mate 60"
    assert "Mate 60 Pro" in mate
    assert catalogue.closest("") == []


# -- issue 12: every form sellers write ------------------------------------------------------


@pytest.mark.parametrize(
    ("grade", "condition"),
    [
        ("全新", "全新"),
        ("全新未拆封", "全新"),
        ("99新", "99新"),
        ("几乎全新", "99新"),
        ("95新", "95新"),
        ("95成新", "95新"),
        ("9.5新", "95新"),
        ("9.3新", "九成新"),
        ("9新", "九成新"),
        ("9成新", "九成新"),
        ("九成新", "九成新"),
        ("8新", "八成新"),
        ("8成新", "八成新"),
        ("7成新", "七成新及以下"),
        ("7新", "七成新及以下"),
    ],
)
def test_every_grade_form_maps_to_one_platform_condition(grade: str, condition: str) -> None:
    parsed = parse_description(f"iPhone 13 128G {grade}")
    assert parsed.condition == condition
    assert parsed.model == "iPhone 13" and parsed.storage == "128GB"


@pytest.mark.parametrize(
    ("phrase", "function_status", "repair"),
    [
        ("无拆无修", "正常", "无维修"),
        ("原装无修", None, "无维修"),
        ("电池换过", None, "更换过电池"),
        ("屏幕有维修", None, "更换过屏幕"),
        ("面容正常", None, None),
        ("功能正常", "正常", None),
        ("功能正常 有锁", None, None),
        ("功能正常 ID锁", None, None),
        ("功能正常 无锁 无id锁", "正常", None),
    ],
)
def test_function_and_repair_phrases_state_only_what_they_say(
    phrase: str, function_status: str | None, repair: str | None
) -> None:
    parsed = parse_description(f"iPhone 13 128G 95新 {phrase}")
    assert (parsed.function_status, parsed.repair_history) == (function_status, repair)


@pytest.mark.parametrize(
    ("text", "storage", "ram"),
    [
        ("vivo Y66L 3+32G", "32GB", "3GB"),
        ("小米14 12+512", "512GB", "12GB"),
        ("iPhone 13 128g", "128GB", None),
        ("iPhone 13 Pro 1T", "1TB", None),
        ("iPhone 6 16G 全网通4G", "16GB", None),
        ("手机 2g内存+16g存储", "16GB", "2GB"),
        # a labelled RAM makes the bare size beside it the storage
        ("vivo X5Pro 32G 很好用，运行内存4G", "32GB", "4GB"),
        ("联想K860i 32G 2g运行内存", "32GB", "2GB"),
    ],
)
def test_storage_and_ram_forms(text: str, storage: str, ram: str | None) -> None:
    parsed = parse_description(text)
    assert (parsed.storage, parsed.ram) == (storage, ram)


@pytest.mark.parametrize(
    ("text", "model"),
    [
        ("iPhone 6 Plus", "iPhone 6 Plus"),
        ("iphone6splus", "iPhone 6s Plus"),
        ("苹果7p", "iPhone 7 Plus"),
        ("iPhone XS MAX", "iPhone XS Max"),
        ("iphonexr", "iPhone XR"),
        ("iPhone 17 Pro Max", "iPhone 17 Pro Max"),
        ("iPhone Air", "iPhone Air"),
        ("iPad mini 2", "iPad mini 2"),
        ("vivo Y66L", "vivo Y66L"),
        ("华为Mate 80 Pro", "Mate 80 Pro"),
        ("华为mate70pro+", "Mate 70 Pro+"),
        ("红米note12pro", "Redmi Note 12 Pro"),
        ("小米16", "小米 16"),
        ("三星 s22 ultra", "Galaxy S22 Ultra"),
        ("oppo reno 12", "Reno 12"),
        ("一加ace2", "一加 Ace 2"),
        ("荣耀x50", "荣耀 X50"),
        ("魅族21", "魅族 21"),
    ],
)
def test_models_are_read_from_their_shape_in_any_case_and_spacing(text: str, model: str) -> None:
    assert parse_description(f"{text} 95新").model == model
    assert parse_description(f"{text.upper()} 95新").model == model


@pytest.mark.parametrize(
    ("text", "ram", "storage"),
    [
        ("oppo findx 8G 128G", "8GB", "128GB"),  # a Find X with 8 GB, not a Find X8
        ("红米Note 8G 存储", None, "8GB"),  # no Redmi "Note 8G"
    ],
)
def test_a_size_after_a_model_name_is_never_its_generation(
    text: str, ram: str | None, storage: str
) -> None:
    parsed = parse_description(text)
    assert parsed.model is None  # asked, never guessed
    assert (parsed.ram, parsed.storage) == (ram, storage)


def test_a_model_the_seller_moved_to_is_not_the_one_sold() -> None:
    parsed = parse_description("国行SE 256G 换iPhone12mini后出 无拆无修")
    assert parsed.model is None


def test_key_value_lines_are_one_description() -> None:
    text = "品牌：Apple/苹果\n型号：iPhone 15\n存储容量：128GB\n成色：95新\n\niPhone 13 128G"
    assert split_descriptions(text) == [
        "品牌：Apple/苹果 型号：iPhone 15 存储容量：128GB 成色：95新",
        "iPhone 13 128G",
    ]
    parsed = parse_description(split_descriptions(text)[0])
    assert (parsed.model, parsed.storage, parsed.condition) == ("iPhone 15", "128GB", "95新")


def test_noise_is_ignored() -> None:
    parsed = parse_description(
        "iPhone 13 128G 午夜色 国行 95新 送壳膜充电器 ¥2,899 电话13812345678"
    )
    assert (parsed.model, parsed.storage, parsed.ram) == ("iPhone 13", "128GB", None)
    assert (parsed.condition, parsed.purchase_channel) == ("95新", "国行")


# -- watches --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "brand", "model"),
    [
        ("Apple Watch S10 46mm 95新", "苹果", "Apple Watch Series 10"),
        ("苹果手表S10 42mm GPS", "苹果", "Apple Watch Series 10"),
        ("iWatch S9 45mm 蜂窝版", "苹果", "Apple Watch Series 9"),
        ("AppleWatchSeriesS10 玫瑰金色42mm", "苹果", "Apple Watch Series 10"),
        ("applewatch series 7 41mm", "苹果", "Apple Watch Series 7"),
        ("苹果S10，46mm，还在保，9成新", "苹果", "Apple Watch Series 10"),
        ("Apple Watch Ultra 2 49mm 钛金属", "苹果", "Apple Watch Ultra 2"),
        ("Apple Watch SE 2 44mm", "苹果", "Apple Watch SE 2"),
        ("小米Watch S4 全新", "小米", "Xiaomi Watch S4"),
        ("Redmi Watch 5 九成新", "小米", "Redmi Watch 5"),
        ("华为 Watch GT 5 46mm", "华为", "WATCH GT 5"),
        ("华为手表 Watch Fit 3", "华为", "WATCH FIT 3"),
        ("华为watch 4 pro 48mm", "华为", "WATCH 4 Pro"),
        ("三星 Galaxy Watch 6 classic 47mm", "三星", "Galaxy Watch6 Classic"),
        ("OPPO Watch X 46mm", "OPPO", "OPPO Watch X"),
        ("vivo WATCH 3 46mm", "vivo", "vivo WATCH 3"),
        ("荣耀手表 GS 4 46mm", "荣耀", "荣耀手表 GS 4"),
    ],
)
def test_watches_are_read_by_shape_as_watches(text: str, brand: str, model: str) -> None:
    parsed = parse_description(text)

    assert (parsed.device_type, parsed.brand, parsed.model) == ("智能手表", brand, model)
    assert parsed.storage is None and parsed.ram is None  # 46mm, GPS, 蜂窝 are no sizes
    assert "storage" not in parsed.missing() and "model" not in parsed.ambiguous


@pytest.mark.parametrize(
    "text", ["苹果手表 42mm 95新 功能正常", "Apple Watch 46毫米 GPS 9成新", "二手手表 苹果 99新"]
)
def test_a_watch_without_its_model_is_offered_watches_only(text: str) -> None:
    parsed = parse_description(text)

    assert parsed.device_type == "智能手表" and parsed.brand == "苹果"
    offered = parsed.options("model")
    assert offered and all(name.startswith("Apple Watch") for name in offered)
    assert parsed.missing()[0] == "model"


def test_a_phone_brand_alone_is_offered_no_watches() -> None:
    offered = parse_description("苹果 256G 95新").options("model")

    assert offered and not any("Watch" in name for name in offered)


def test_a_watch_storage_is_read_only_when_stated() -> None:
    stated = parse_description("苹果watch s10 几乎全新 46mm gps加蜂窝 64g存储")
    request = parse_description("Apple Watch S10 46mm 95新 功能正常").to_request()

    assert stated.storage == "64GB"
    assert (request.device_type, request.model, request.storage) == (
        "智能手表",
        "Apple Watch Series 10",
        "",
    )


@pytest.mark.parametrize(
    ("text", "model", "storage"),
    [
        ("vivo y66L 32G 送手表 9成新", "vivo Y66L", "32GB"),
        ("OPPO Reno 8 256G 配小米手表", "Reno 8", "256GB"),
        ("苹果14 256G 送手表 95新", "iPhone 14", "256GB"),
    ],
)
def test_a_watch_given_with_a_phone_leaves_the_phone_a_phone(
    text: str, model: str, storage: str
) -> None:
    parsed = parse_description(text)

    assert (parsed.device_type, parsed.model, parsed.storage) == ("手机", model, storage)


# -- issue 22: laptops by year, size and chip; gaming series; cameras; headphones ------------


@pytest.mark.parametrize(
    ("text", "brand", "model", "device_type"),
    [
        ("2016 款 MacBook Pro 15 寸 16+512", "苹果", "MacBook Pro 15 2016", "笔记本"),
        ("14 寸 mbp m1 max 2021 年款", "苹果", "MacBook Pro 14 M1 Max", "笔记本"),
        (
            "MacBook Pro (13-inch, 2019, Two Thunderbolt 3 ports)",
            "苹果",
            "MacBook Pro 13 2019",
            "笔记本",
        ),
        ("99新苹果 MacBook Air 22年 13寸/13英寸", "苹果", "MacBook Air M2", "笔记本"),
        ("ROG 枪神 8 i9-14900HX 16G+1T", "华硕", "ROG 枪神 8", "笔记本"),
        ("惠普暗影精灵 11 14650H+RTX5060", "惠普", "暗影精灵 11", "笔记本"),
        ("机械革命翼龙 16 锐龙 AI9", "机械革命", "翼龙 16", "笔记本"),
        ("华硕 ROG 冰刃 4 plus", "华硕", "ROG 冰刃 4 Plus", "笔记本"),
        ("华硕ROG幻16 2022游戏本", "华硕", "ROG 幻16 2022", "笔记本"),
        ("Sony ZV-E10 微单", "索尼", "ZV-E10", "相机"),
        ("索尼 FX3 全画幅", "索尼", "FX3", "相机"),
        ("Sony索尼相机A7M3 A7m3 机身", "索尼", "A7M3", "相机"),
        ("佳能 R6 二代", "佳能", "EOS R6 Mark II", "相机"),
        ("佳能单反相机550D加镜头", "佳能", "EOS 550D", "相机"),
        ("尼康D5300单反相机", "尼康", "D5300", "相机"),
        ("GoPro5 black 9成新", "GoPro", "HERO5 Black", "相机"),
        ("森海塞尔 Momentum 4 头戴", "森海塞尔", "MOMENTUM 4 Wireless", "耳机"),
        ("Sennheiser HD600", "森海塞尔", "HD 600", "耳机"),
        ("出 Sony WH-1000XM4 黑色", "索尼", "WH-1000XM4", "耳机"),
        ("苹果AirPods Pro3代蓝牙耳机", "苹果", "AirPods Pro 3", "耳机"),
    ],
)
def test_laptops_cameras_and_headphones_are_read_by_their_shapes(
    text: str, brand: str, model: str, device_type: str
) -> None:
    parsed = parse_description(text)
    assert (parsed.brand, parsed.model, parsed.device_type) == (brand, model, device_type)


@pytest.mark.parametrize(
    ("text", "offered"),
    [
        # a size alone names several Macs: asked among that size's, nothing guessed
        ("[95 成新] MacBook Pro 13 寸", ("MacBook Pro 13 M1", "MacBook Pro 13 2019")),
        # a generation the text does not name is asked, never the newest
        ("联想ThinkPad X1 Carbon笔记本电脑，i7-5", ("ThinkPad X1 Carbon Gen 11",)),
        ("拯救者Y9000P 16+1T 95新", ("拯救者 Y9000P 2021", "拯救者 Y9000P 2023")),
        ("索尼 xm4 降噪耳机", ("WH-1000XM4", "WF-1000XM4")),
    ],
)
def test_a_model_the_text_does_not_pin_is_asked(text: str, offered: tuple[str, ...]) -> None:
    parsed = parse_description(text)
    assert parsed.model is None
    assert set(offered) <= set(parsed.options("model"))


@pytest.mark.parametrize(
    ("text", "model"),
    [
        ("M1 iPad Pro 12.9 256G", "iPad Pro 12.9 (M1)"),  # never the M2 model
        ("iPad Pro 12.9 2022 M2", "iPad Pro 12.9 (M2)"),
        ("Mate30Pro5G 8+256", "Mate 30 Pro 5G"),  # the 5G is part of the model
        ("华为mate30 5G", "Mate 30 5G"),
        ("mate 30 pro 4G", "Mate 30 Pro"),
    ],
)
def test_a_model_the_text_contradicts_is_never_read(text: str, model: str) -> None:
    assert parse_description(text).model == model


@pytest.mark.parametrize(
    "text",
    [
        "三星a7 64g",  # Samsung's A7, not Sony's camera
        "OPPO A73 128G",
        "苹果11寸iPad Air 紫色 256G",  # an 11-inch iPad, not an iPhone 11
    ],
)
def test_no_camera_or_phone_of_another_brand_or_kind_is_read(text: str) -> None:
    parsed = parse_description(text)
    assert parsed.device_type not in ("相机", "手机") or parsed.brand in ("三星", "OPPO")
    assert parsed.model is None or not parsed.model.startswith(("A7", "iPhone"))


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("iPhone 13 128G 有明显的磕碰", "八成新"),
        ("iPhone 13 128G 外观轻微使用痕迹", "九成新"),
        ("iPhone 13 128G 细微划痕", "九成新"),
    ],
)
def test_a_grade_only_described_is_asked_with_the_described_grade_first(
    text: str, first: str
) -> None:
    parsed = parse_description(text)
    assert parsed.condition is None and "condition" in parsed.missing()
    assert parsed.options("condition")[0] == first
    assert set(parsed.options("condition")) == set(CONDITIONS)


def test_a_range_of_grades_is_asked_and_an_official_price_is_no_channel() -> None:
    parsed = parse_description("出女票的一台 iPad Air 32G, 8-9 成新")
    assert parsed.condition is None and parsed.options("condition") == ("九成新", "八成新")
    assert parse_description("出教育优惠 airpods 3 代（官网售价 1349 款）").purchase_channel is None
