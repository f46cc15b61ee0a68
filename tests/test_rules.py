"""Price-alert rules: parsing what users type, and when an observation alerts."""

from __future__ import annotations

import random
from decimal import Decimal as D
from pathlib import Path

import pytest

from clients.models import ListingStatus, PriceUnit
from watching.rules import (
    ANY_DROP,
    Base,
    Change,
    Observation,
    Rule,
    RuleError,
    RuleInput,
    RuleKind,
    change_percent,
    evaluate,
    initial_base,
    parse_rule,
    resolve_rule,
)

ON = ListingStatus.ON_SALE
SOLD = ListingStatus.SOLD
RENTED = ListingStatus.RENTED
DOWN = ListingStatus.TAKEN_DOWN


def seen(price: str | None, status: ListingStatus = ON) -> Observation:
    return Observation(D(price) if price is not None else None, status)


def run(
    rule: Rule,
    watched: str | None,
    prices: list[str | tuple[str | None, ListingStatus]],
    status: ListingStatus = ON,
) -> list[tuple[tuple[Change, ...], D | None, D | None]]:
    """Feed observations in order; return (changes, old, new) of each alert."""
    base = initial_base(rule, D(watched) if watched is not None else None, status)
    alerts = []
    for item in prices:
        price, st = item if isinstance(item, tuple) else (item, ON)
        verdict = evaluate(rule, base, seen(price, st))
        if verdict.alert:
            alerts.append((verdict.changes, verdict.old_price, verdict.new_price))
        base = verdict.base
    return alerts


# -- parsing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", RuleInput(RuleKind.ANY_DROP)),
        ("any", RuleInput(RuleKind.ANY_DROP)),
        ("降价", RuleInput(RuleKind.ANY_DROP)),
        ("5%", RuleInput(RuleKind.PERCENT, D("5"))),
        ("1%", RuleInput(RuleKind.PERCENT, D("1"))),
        ("99%", RuleInput(RuleKind.PERCENT, D("99"))),
        ("７.５％", RuleInput(RuleKind.PERCENT, D("7.5"))),
        ("2500", RuleInput(RuleKind.TARGET, D("2500"), "listing")),
        ("2,500", RuleInput(RuleKind.TARGET, D("2500"), "listing")),
        ("¥2500", RuleInput(RuleKind.TARGET, D("2500"), "yuan")),
        ("￥2500", RuleInput(RuleKind.TARGET, D("2500"), "yuan")),
        ("2500元", RuleInput(RuleKind.TARGET, D("2500"), "yuan")),
        ("3k", RuleInput(RuleKind.TARGET, D("3000"), "yuan")),
        ("250万", RuleInput(RuleKind.TARGET, D("250"), "wan")),
        ("250W", RuleInput(RuleKind.TARGET, D("250"), "wan")),
        ("350.5万元", RuleInput(RuleKind.TARGET, D("350.5"), "wan")),
    ],
)
def test_rule_text_is_understood(text: str, expected: RuleInput) -> None:
    assert parse_rule(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("0%", "rule_percent_range"),
        ("100%", "rule_percent_range"),
        ("150%", "rule_percent_range"),
        ("0", "rule_price_range"),
        ("0万", "rule_price_range"),
        ("cheap", "rule_unknown"),
        ("5%%", "rule_unknown"),
        ("1e5", "rule_unknown"),
        ("-2500", "rule_unknown"),
        # issue 10: negative, tiny, huge or nonsense rules are refused, never 'any drop'
        ("-5%", "rule_percent_range"),
        ("0.5%", "rule_percent_range"),
        ("99.5%", "rule_percent_range"),
        ("%", "rule_unknown"),
        ("¥", "rule_unknown"),
        ("<b>", "rule_unknown"),
        ("9" * 3000, "rule_price_range"),
        ("¥" + "9" * 13, "rule_price_range"),
        ("2500.123456", "rule_unknown"),
    ],
)
def test_bad_rule_text_is_refused_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(RuleError) as caught:
        parse_rule(text)
    assert caught.value.reason == reason


@pytest.mark.parametrize(
    ("typed", "unit"),
    [
        ("100001万", PriceUnit.WAN_YUAN),  # over ¥1bn for a home
        ("999999999999", PriceUnit.WAN_YUAN),
        ("¥20000000", PriceUnit.YUAN),  # over ¥10m for an item
        ("0.5", PriceUnit.YUAN),  # under ¥1
        ("2000000", PriceUnit.YUAN_PER_MONTH),  # a ¥2m monthly rent
    ],
)
def test_targets_outside_a_sane_range_for_the_unit_are_refused(typed: str, unit: PriceUnit) -> None:
    with pytest.raises(RuleError) as caught:
        resolve_rule(parse_rule(typed), unit)
    assert caught.value.reason == "rule_price_range"


@pytest.mark.parametrize(
    ("typed", "unit"),
    [
        ("100000万", PriceUnit.WAN_YUAN),
        ("¥1", PriceUnit.YUAN),
        ("1000000", PriceUnit.YUAN_PER_MONTH),
    ],
)
def test_targets_at_the_edges_of_the_range_are_taken(typed: str, unit: PriceUnit) -> None:
    assert resolve_rule(parse_rule(typed), unit).kind is RuleKind.TARGET


@pytest.mark.parametrize(
    ("typed", "unit", "target"),
    [
        ("250", PriceUnit.WAN_YUAN, D("250")),  # a bare number is in the card's unit
        ("250万", PriceUnit.WAN_YUAN, D("250")),
        ("¥3000000", PriceUnit.WAN_YUAN, D("300")),
        ("3000000", PriceUnit.WAN_YUAN, D("300")),  # nobody means 3,000,000万
        ("250万", PriceUnit.YUAN, D("2500000")),
        ("2500", PriceUnit.YUAN, D("2500")),
        ("¥4500", PriceUnit.YUAN_PER_MONTH, D("4500")),
        ("0.45万", PriceUnit.YUAN_PER_MONTH, D("4500")),
    ],
)
def test_target_is_resolved_in_the_listings_unit(typed: str, unit: PriceUnit, target: D) -> None:
    rule = resolve_rule(parse_rule(typed), unit)
    assert rule.kind is RuleKind.TARGET and rule.value == target


def test_percent_and_any_drop_do_not_depend_on_the_unit() -> None:
    assert resolve_rule(parse_rule("5%"), PriceUnit.WAN_YUAN) == Rule(RuleKind.PERCENT, D("5"))
    assert resolve_rule(parse_rule(""), PriceUnit.YUAN) == ANY_DROP


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        (RuleKind.ANY_DROP, D("1")),
        (RuleKind.PERCENT, None),
        (RuleKind.PERCENT, D("100")),
        (RuleKind.TARGET, D("0")),
        (RuleKind.TARGET, D("-1")),
    ],
)
def test_invalid_rules_cannot_be_built(kind: RuleKind, value: D | None) -> None:
    with pytest.raises(ValueError):
        Rule(kind, value)


# -- any drop --------------------------------------------------------------------------------


def test_any_drop_alerts_each_price_below_the_last_alerted() -> None:
    alerts = run(ANY_DROP, "100", ["100", "99", "99", "98.5", "120", "99", "98"])
    assert alerts == [
        ((Change.PRICE_DROP,), D("100"), D("99")),
        ((Change.PRICE_DROP,), D("99"), D("98.5")),
        ((Change.PRICE_DROP,), D("98.5"), D("98")),
    ]


def test_any_drop_never_alerts_on_equal_or_higher_prices() -> None:
    assert run(ANY_DROP, "100", ["100", "101", "150", "100"]) == []


def test_any_drop_after_a_rise_compares_with_the_last_alerted_price_not_the_peak() -> None:
    # watchers that compared with the first price only would alert once and never again;
    # those that compared with the last price seen would alert 110 -> 105, above the base
    alerts = run(ANY_DROP, "100", ["90", "110", "105", "89"])
    assert [new for _, _, new in alerts] == [D("90"), D("89")]


def test_any_drop_without_a_price_when_watched_starts_from_the_first_price_seen() -> None:
    assert run(ANY_DROP, None, ["100", "100", "95"]) == [((Change.PRICE_DROP,), D("100"), D("95"))]


# -- percent -------------------------------------------------------------------------------


def test_percent_alerts_at_exactly_n_percent_and_then_again_from_the_new_base() -> None:
    rule = Rule(RuleKind.PERCENT, D("10"))
    alerts = run(rule, "100", ["95", "91", "90", "85", "81.1", "81"])
    assert alerts == [
        ((Change.PRICE_DROP,), D("100"), D("90")),
        ((Change.PRICE_DROP,), D("90"), D("81")),
    ]


def test_percent_is_measured_from_the_base_not_from_each_small_step() -> None:
    rule = Rule(RuleKind.PERCENT, D("5"))
    # 1 % steps never make 5 % between two checks, but do from the base
    prices = ["99", "98", "97", "96", "95", "94"]
    assert [new for _, _, new in run(rule, "100", prices)] == [D("95")]


def test_percent_with_fractional_n() -> None:
    rule = Rule(RuleKind.PERCENT, D("2.5"))
    assert [new for _, _, new in run(rule, "200", ["195.01", "195"])] == [D("195")]


# -- target --------------------------------------------------------------------------------


def test_target_alerts_on_the_first_check_when_the_price_already_is_at_or_below() -> None:
    rule = Rule(RuleKind.TARGET, D("100"))
    assert run(rule, "90", ["90"]) == [((Change.TARGET_REACHED,), None, D("90"))]


def test_target_then_alerts_only_below_the_last_alerted_price() -> None:
    rule = Rule(RuleKind.TARGET, D("80"))
    alerts = run(rule, "100", ["90", "80", "80", "79", "85", "79", "78", "120", "77"])
    assert [new for _, _, new in alerts] == [D("80"), D("79"), D("78"), D("77")]


def test_target_never_alerts_above_the_target() -> None:
    rule = Rule(RuleKind.TARGET, D("80"))
    assert run(rule, "100", ["99", "90", "80.01"]) == []


# -- status --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "change"),
    [(SOLD, Change.SOLD), (RENTED, Change.RENTED), (DOWN, Change.TAKEN_DOWN)],
)
@pytest.mark.parametrize(
    "rule", [ANY_DROP, Rule(RuleKind.PERCENT, D("10")), Rule(RuleKind.TARGET, D("1"))]
)
def test_every_rule_alerts_when_the_listing_goes_off_sale(
    rule: Rule, status: ListingStatus, change: Change
) -> None:
    alerts = run(rule, "100", [("100", status), ("100", status)])
    assert alerts == [((change,), initial_base(rule, D("100"), ON).price, D("100"))]


@pytest.mark.parametrize(
    "rule", [ANY_DROP, Rule(RuleKind.PERCENT, D("10")), Rule(RuleKind.TARGET, D("1"))]
)
def test_every_rule_alerts_when_the_listing_is_back_on_sale(rule: Rule) -> None:
    alerts = run(rule, "100", [("100", DOWN), ("100", ON), ("100", ON)])
    assert [c for c, _, _ in alerts] == [(Change.TAKEN_DOWN,), (Change.BACK_ON_SALE,)]


def test_a_move_between_off_sale_states_is_not_news() -> None:
    assert [c for c, _, _ in run(ANY_DROP, "100", [("100", SOLD), ("100", DOWN)])] == [
        (Change.SOLD,)
    ]


def test_prices_are_not_compared_while_off_sale() -> None:
    alerts = run(ANY_DROP, "100", [("100", SOLD), ("50", SOLD), ("40", DOWN)])
    assert [c for c, _, _ in alerts] == [(Change.SOLD,)]


def test_back_on_sale_at_a_lower_price_tells_both() -> None:
    alerts = run(ANY_DROP, "100", [("100", SOLD), ("90", ON)])
    assert alerts[-1] == ((Change.BACK_ON_SALE, Change.PRICE_DROP), D("100"), D("90"))


def test_watching_an_off_sale_listing_alerts_when_it_returns() -> None:
    alerts = run(ANY_DROP, "100", [("100", SOLD), ("100", ON)], status=SOLD)
    assert [c for c, _, _ in alerts] == [(Change.BACK_ON_SALE,)]


def test_a_listing_that_loses_its_price_does_not_alert() -> None:
    assert run(ANY_DROP, "100", [None, None]) == []


# -- base, version and key -------------------------------------------------------------------


def test_version_counts_alerts_only() -> None:
    base = initial_base(ANY_DROP, D("100"), ON)
    quiet = evaluate(ANY_DROP, base, seen("100"))
    assert quiet.base.version == 0 and not quiet.alert
    loud = evaluate(ANY_DROP, base, seen("90"))
    assert loud.base == Base(D("90"), ON, 1)


def test_the_same_change_seen_twice_against_the_same_base_has_the_same_key() -> None:
    base = Base(D("100"), ON, 3)
    first = evaluate(ANY_DROP, base, seen("90.00"))
    again = evaluate(ANY_DROP, base, seen("90"))
    assert first.key(7, base) == again.key(7, base) == "7:v3:price_drop:90:on_sale"
    assert first.key(8, base) != first.key(7, base)


def test_a_genuine_second_sale_gets_a_new_key() -> None:
    base = Base(D("100"), ON, 0)
    sold = evaluate(ANY_DROP, base, seen("100", SOLD))
    back = evaluate(ANY_DROP, sold.base, seen("100", ON))
    sold_again = evaluate(ANY_DROP, back.base, seen("100", SOLD))
    keys = {sold.key(1, base), back.key(1, sold.base), sold_again.key(1, back.base)}
    assert len(keys) == 3


@pytest.mark.parametrize("seed", range(20))
def test_random_walks_keep_the_promises(seed: int) -> None:
    """Whatever the prices do: alerted prices fall strictly, targets hold, keys never repeat."""
    rng = random.Random(seed)
    rules = [
        ANY_DROP,
        Rule(RuleKind.PERCENT, D(rng.choice(["1", "5", "12.5"]))),
        Rule(RuleKind.TARGET, D(rng.randint(50, 120))),
    ]
    for rule in rules:
        base = initial_base(rule, D(100), ON)
        keys: set[str] = set()
        alerted: list[D] = []
        price = D(100)
        for _ in range(300):
            price = max(D(1), price + D(rng.randint(-60, 50)) / 10)
            status = rng.choices([ON, SOLD, DOWN], weights=[90, 5, 5])[0]
            verdict = evaluate(rule, base, Observation(price, status))
            if verdict.alert:
                key = verdict.key(1, base)
                assert key not in keys
                keys.add(key)
                price_changes = {Change.PRICE_DROP, Change.TARGET_REACHED} & set(verdict.changes)
                if price_changes:
                    if alerted:
                        assert price < alerted[-1]
                    if rule.kind is RuleKind.PERCENT and base.price is not None:
                        assert price <= base.price * (1 - rule.value / 100)  # type: ignore[operator]
                    if rule.kind is RuleKind.TARGET:
                        assert price <= rule.value  # type: ignore[operator]
                    alerted.append(price)
            base = verdict.base


def test_change_percent() -> None:
    assert change_percent(D("100"), D("90")) == D("-10.0")
    assert change_percent(D("3"), D("2")) == D("-33.3")
    assert change_percent(None, D("2")) is None
    assert change_percent(D("0"), D("2")) is None


def test_targets_stored_before_rules_were_bounded_become_any_drop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from storage import database

    path = tmp_path / "bot.sqlite3"
    monkeypatch.setattr(database, "MIGRATIONS", database.MIGRATIONS[:6])
    old = database.Database(path)
    old.db.execute(
        "INSERT INTO watched_listings (ref_key, platform, listing_id, title, url, price_unit, "
        "status, first_seen_at) VALUES ('xianyu:712345678901', 'xianyu', '712345678901', 't', "
        "'u', 'yuan', 'on_sale', 0)"
    )
    for user_id, value in ((1, "9" * 3000), (2, "2500")):
        old.db.execute(
            # the table's name before the migration "one word: subscriptions are watches"
            "INSERT INTO subscriptions (user_id, chat_id, ref_key, rule, rule_value, "
            "base_status, created_at, updated_at) VALUES (?, ?, 'xianyu:712345678901', "
            "'target', ?, 'on_sale', 0, 0)",
            [user_id, user_id, value],
        )
    old.close()
    monkeypatch.undo()
    new = database.Database(path)
    rows = new.db.execute("SELECT user_id, rule, rule_value FROM watches ORDER BY user_id")
    assert rows.fetchall() == [(1, "any_drop", None), (2, "target", "2500")]
    new.close()
