"""The quote flow's decisions without Telegram (devices/flow.py): which question comes
next, what it offers, reading a typed answer, paging, the timeout."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.flow import (
    MAX_DEVICES,
    QUESTIONS,
    Pending,
    answered_value,
    closest_instead,
    describes_device,
    devices_in_command,
    devices_in_message,
    expired,
    next_question,
    page_of,
    question_options,
    read_answer,
    still_asked,
)
from devices.parser import ASK_ORDER, ParsedDevice, load_catalogue, parse_description

CAT = load_catalogue()
ENGLISH = {"九成新": "Good (90%)", "95新": "Excellent (95%)", "正常": "Works perfectly"}


def english(value: str) -> str:
    return ENGLISH.get(value, value)


def iphone(**fields: object) -> ParsedDevice:
    return ParsedDevice(device_type="手机", brand="苹果", model="iPhone 14 Pro", **fields)  # type: ignore[arg-type]


# -- which question next ------------------------------------------------------------------


def test_the_questions_are_the_parsers_fields_in_its_order():
    assert QUESTIONS == ASK_ORDER
    assert QUESTIONS[:2] == ("brand", "model")


@pytest.mark.parametrize(
    ("text", "asked"),
    [
        ("", ["brand", "model", "storage", "condition", "function_status"]),
        ("苹果", ["model", "storage", "condition", "function_status"]),
        ("iPhone 14 Pro", ["storage", "condition", "function_status"]),
        ("iPhone 14 Pro 256G", ["condition", "function_status"]),
        ("iPhone 14 Pro 256G 95新", ["function_status"]),
        ("iPhone 14 Pro 256G 95新 功能正常", []),
        ("MacBook Air M2 512G", ["ram", "condition", "function_status"]),
        ("Apple Watch S10 46mm", ["condition", "function_status"]),  # a watch: no storage
    ],
)
def test_each_missing_field_is_asked_in_order_until_the_device_can_be_quoted(text, asked):
    device = parse_description(text, CAT)
    seen = []
    while (question := next_question(device)) is not None:
        assert question in QUESTIONS and still_asked(device, question)
        seen.append(question)
        options = question_options(device, question, CAT)
        assert options, question
        device = device.choose(question, options[0], CAT)
        assert not still_asked(device, question)
    assert seen == asked
    assert device.complete


def test_a_model_several_brands_share_is_asked_before_the_brand():
    device = ParsedDevice(ambiguous={"model": ("Mate 60 Pro", "iPhone 14 Pro")})
    assert device.missing()[0] == "brand"
    assert next_question(device) == "model"
    assert question_options(device, "model", CAT) == ("Mate 60 Pro", "iPhone 14 Pro")


def test_a_device_with_every_field_but_its_type_is_asked_its_model():
    device = ParsedDevice(
        brand="苹果",
        model="iPhone 14 Pro",
        storage="256GB",
        condition="95新",
        function_status="正常",
    )
    assert next_question(device) == "model"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_any_description_is_asked_only_questions_the_flow_has_states_for(text):
    device = parse_description(text, CAT)
    question = next_question(device)
    assert question is None or question in QUESTIONS
    if question is None:
        assert device.complete


def test_a_model_question_with_no_candidates_offers_the_brands_models():
    device = ParsedDevice(brand="苹果")
    offered = question_options(device, "model", CAT)
    assert "iPhone 14 Pro" in offered and "MacBook Air M2" in offered


# -- pages --------------------------------------------------------------------------------


def test_pages_cover_every_option_once_and_clamp_out_of_range_numbers():
    options = tuple(f"m{i}" for i in range(30))
    pages = [page_of(options, n, 12) for n in range(3)]
    assert [p.shown for p in pages] == [options[:12], options[12:24], options[24:]]
    assert [(p.previous, p.next) for p in pages] == [(None, 1), (0, 2), (1, None)]
    assert [p.first for p in pages] == [0, 12, 24]
    assert page_of(options, 99, 12) == pages[2]
    assert page_of(options, -5, 12) == pages[0]
    assert page_of((), 0, 12).shown == ()


# -- reading a typed answer ---------------------------------------------------------------


@pytest.mark.parametrize("typed", ["256GB", "256gb", "256G", "256", " 256 "])
def test_a_size_is_read_with_or_without_its_unit(typed):
    device = iphone()
    options = question_options(device, "storage", CAT)
    answered = read_answer(device, "storage", options, typed, CAT)
    assert answered is not None and answered.storage == "256GB"


def test_a_grade_is_read_in_the_platforms_word_and_by_its_english_label():
    device = iphone(storage="256GB")
    options = question_options(device, "condition", CAT)
    for typed in ("九成新", "good (90%)"):
        answered = read_answer(device, "condition", options, typed, CAT, english)
        assert answered is not None and answered.condition == "九成新", typed


def test_one_typed_answer_can_fill_several_questions():
    device = ParsedDevice(device_type="手机", brand="苹果", model="iPhone 13")
    options = question_options(device, "storage", CAT)
    answered = read_answer(device, "storage", options, "128G 九成新 works perfectly", CAT)
    assert answered is not None
    assert (answered.storage, answered.condition, answered.function_status) == (
        "128GB",
        "九成新",
        "正常",
    )
    assert next_question(answered) is None
    assert answered_value(answered, "storage", "128G 九成新 works perfectly") == "128GB"


def test_a_model_is_read_with_the_brand_already_known():
    device = ParsedDevice(brand="华为")
    options = question_options(device, "model", CAT)
    answered = read_answer(device, "model", options, "mate60 pro", CAT)
    assert answered is not None and answered.model == "Mate 60 Pro"
    assert answered.brand == "华为" and answered.device_type


@pytest.mark.parametrize(
    ("question", "typed"),
    [
        ("storage", "hmm not sure"),
        ("storage", "333GB"),  # not a size this model is sold with
        ("storage", "华为Mate60 Pro 512G"),  # another device: a new description
        ("condition", "lol"),
        ("condition", ""),
        ("function_status", "   "),
    ],
)
def test_text_that_answers_nothing_is_no_answer(question, typed):
    device = iphone(storage="256GB") if question != "storage" else iphone()
    options = question_options(device, question, CAT)
    assert read_answer(device, question, options, typed, CAT, english) is None


@settings(max_examples=200, deadline=None)
@given(
    question=st.sampled_from(["storage", "condition", "function_status", "model", "brand"]),
    text=st.text(max_size=60) | st.sampled_from(["256", "95新", "正常", "iPhone 15", "小米"]),
)
def test_a_typed_answer_never_fails_and_fills_the_question_it_answers(question, text):
    device = {"model": ParsedDevice(brand="苹果"), "brand": ParsedDevice()}.get(question, iphone())
    options = question_options(device, question, CAT)
    answered = read_answer(device, question, options, text, CAT, english)
    if answered is not None:
        assert getattr(answered, question) is not None
        assert not still_asked(answered, question)


# -- which devices a message describes ----------------------------------------------------------


def test_quote_without_text_asks_from_the_brand_and_long_lists_are_cut():
    assert devices_in_command("", CAT) == ([ParsedDevice()], 0)
    lines = "\n".join(f"iPhone 13 128G 95新 功能正常 #{i}" for i in range(MAX_DEVICES + 5))
    devices, dropped = devices_in_command(lines, CAT)
    assert len(devices) == MAX_DEVICES and dropped == 5


def test_a_plain_message_describes_devices_only_with_a_model_and_a_detail_and_no_link():
    assert describes_device("华为Mate60 Pro 12+512 九成新", CAT)
    assert not describes_device("hello there", CAT)
    assert not describes_device("iPhone 14 Pro https://www.goofish.com/item?id=712345678901", CAT)
    devices, dropped = devices_in_message("iPhone 13 128G\nnice weather\n小米14 256G", CAT)
    assert [d.model for d in devices] == ["iPhone 13", "小米 14"] and dropped == 0


# -- a model the platform does not record ---------------------------------------------------------


def test_a_model_the_platform_does_not_record_becomes_a_model_question_of_close_models():
    pending = Pending(
        ParsedDevice(device_type="手机", brand="一加", model="一加 12", storage="256GB"),
        asking=Decimal("1999"),
    )
    instead = closest_instead(pending, CAT, 4)
    assert instead is not None
    assert instead.not_recorded == "一加 12" and instead.asking == Decimal("1999")
    assert next_question(instead.device) == "model"
    offered = question_options(instead.device, "model", CAT)
    assert 0 < len(offered) <= 4 and "一加 12" not in offered
    assert instead.device.storage == "256GB"  # what was known stays
    assert closest_instead(Pending(ParsedDevice(brand="苹果")), CAT, 4) is None


def test_a_question_expires_only_after_the_timeout():
    assert not expired(1000.0, 1600.0, 600.0)
    assert expired(1000.0, 1600.5, 600.0)
