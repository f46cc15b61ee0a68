"""What /watch makes of its arguments: which listing, which rule."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from clients.registry import LISTING_CLIENTS
from handlers.watches import command_args, split_watch_args
from watching.rules import RuleError, RuleInput, RuleKind

LINK = "https://www.goofish.com/item?id=712345678901"


def split(text: str) -> tuple[list[str], RuleInput]:
    found, rule = split_watch_args(text, LISTING_CLIENTS)
    return [f.ref.key for f in found if f.ref is not None], rule


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        (LINK, RuleInput(RuleKind.ANY_DROP)),
        (f"{LINK} 5%", RuleInput(RuleKind.PERCENT, D("5"))),
        (f"{LINK}   ５％ ", RuleInput(RuleKind.PERCENT, D("5"))),
        (f"{LINK} 4200", RuleInput(RuleKind.TARGET, D("4200"), "listing")),
        (f"{LINK} ¥4200", RuleInput(RuleKind.TARGET, D("4200"), "yuan")),
        (f"{LINK} any", RuleInput(RuleKind.ANY_DROP)),
    ],
)
def test_the_rule_follows_the_link(text: str, rule: RuleInput) -> None:
    assert split(text) == (["xianyu:712345678901"], rule)


def test_a_price_at_the_end_of_a_share_text_is_not_a_rule() -> None:
    text = f"【闲鱼】{LINK} 「iPhone 14 Pro 256G」 只要 4999"
    assert split(text) == (["xianyu:712345678901"], RuleInput(RuleKind.ANY_DROP))


def test_a_bare_id_alone_is_the_listing_not_a_target_price() -> None:
    keys, rule = split("A1234567890")
    assert keys == ["anjuke:A1234567890"] and rule == RuleInput(RuleKind.ANY_DROP)


def test_a_bad_rule_after_a_link_is_reported() -> None:
    with pytest.raises(RuleError) as caught:
        split(f"{LINK} 120%")
    assert caught.value.reason == "rule_percent_range"


def test_words_without_a_listing_find_nothing() -> None:
    assert split("hello 5%") == ([], RuleInput(RuleKind.ANY_DROP))


@pytest.mark.parametrize(
    ("text", "args"),
    [("/watch", ""), ("/watch  a b ", "a b"), ("/watch@sandbox_bot x 5%", "x 5%"), (None, "")],
)
def test_command_args(text: str | None, args: str) -> None:
    assert command_args(text) == args
