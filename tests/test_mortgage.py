"""Mortgage arithmetic against published worked examples, to the yuan (and the fen where
they give it).

Sources (public loan-calculator answers, each for the same 4.90 % benchmark rate):

- [A] http://m.789yingshi.cn/wenda/244196.html — 100,000 yuan, 10 years, equal instalments:
  月供 1055.77, 总还款 126692.4, 利息 26692.4, 首月利息 408.33, 首月本金 647.44.
- [B] http://372181.com/wenda/229816.html — 1,000,000 yuan, 20 years, equal instalments:
  月供 6544.44, 总还款 1570665.6, 利息 570665.6, 第1个月利息 4083.33, 本金 2461.11.
- [C] http://vdgb.cn/wenda/220578.html — 630,000 yuan, 30 years: equal instalments 月供
  3343.58; equal principal 第一期 4322.50, 每期递减 7.15, 还款总额 1094336.25, 利息总额
  464336.25. (Its equal-instalment total, 1203688.2, is the unrounded payment × 360; we
  follow [A] and [B], which charge the rounded payment each month, as a bank debits it.)
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from deals.mortgage import Method, loan_for, loan_schedule, work_out

RATE = Decimal("4.9")


def schedule(loan: int, years: int, method: Method):  # type: ignore[no-untyped-def]
    return loan_schedule(Decimal(loan), months=years * 12, annual_rate_percent=RATE, method=method)


@pytest.mark.parametrize(
    ("loan", "years", "monthly", "interest", "first_interest", "first_principal"),
    [
        (100_000, 10, "1055.77", "26692.40", "408.33", "647.44"),  # [A]
        (1_000_000, 20, "6544.44", "570665.60", "4083.33", "2461.11"),  # [B]
    ],
)
def test_equal_instalments_match_the_worked_examples_to_the_fen(
    loan: int, years: int, monthly: str, interest: str, first_interest: str, first_principal: str
) -> None:
    plan = schedule(loan, years, Method.EQUAL_INSTALMENT)
    assert plan.first_payment == plan.last_payment == Decimal(monthly)
    assert plan.total_interest == Decimal(interest)
    assert plan.total_paid == loan + Decimal(interest)
    assert plan.first_interest == Decimal(first_interest)
    assert plan.first_principal == Decimal(first_principal)


def test_equal_instalments_of_the_thirty_year_example() -> None:
    plan = schedule(630_000, 30, Method.EQUAL_INSTALMENT)  # [C]
    assert plan.first_payment == Decimal("3343.58")
    # to the yuan against [C]'s 573688.2 (exact payment): our rounded-payment figure differs
    # by the fen rounding of 360 payments only
    assert abs(plan.total_interest - Decimal("573688.2")) < 1


def test_equal_principal_matches_the_worked_example_to_the_fen() -> None:
    plan = schedule(630_000, 30, Method.EQUAL_PRINCIPAL)  # [C]
    assert plan.first_payment == Decimal("4322.50")
    assert plan.monthly_decrease == Decimal("7.15")
    assert plan.total_interest == Decimal("464336.25")
    assert plan.total_paid == Decimal("1094336.25")
    assert plan.first_principal == Decimal("1750.00")
    assert plan.first_interest == Decimal("2572.50")
    # the last month repays the last 1/360 and its own interest
    assert plan.last_payment == Decimal("1757.15")


def test_equal_principal_costs_less_interest_but_more_at_first() -> None:
    instalments = schedule(1_000_000, 20, Method.EQUAL_INSTALMENT)
    principal = schedule(1_000_000, 20, Method.EQUAL_PRINCIPAL)
    assert principal.total_interest < instalments.total_interest
    assert principal.first_payment > instalments.first_payment
    assert principal.first_interest == instalments.first_interest  # both owe P·r at first


def test_down_payment_is_taken_off_the_listed_price() -> None:
    assert loan_for(Decimal(2_350_000), 30) == (Decimal(705_000), Decimal(1_645_000))
    plan = work_out(
        Decimal(2_350_000),
        down_percent=30,
        years=30,
        annual_rate_percent=Decimal("3.5"),
        method=Method.EQUAL_INSTALMENT,
    )
    assert plan.loan == Decimal(1_645_000) and plan.down_payment == Decimal(705_000)
    assert plan.months == 360


def test_a_zero_rate_repays_the_loan_evenly() -> None:
    plan = loan_schedule(
        Decimal(120_000), months=120, annual_rate_percent=Decimal(0), method=Method.EQUAL_INSTALMENT
    )
    assert plan.first_payment == Decimal(1000) and plan.total_interest == 0


@pytest.mark.parametrize(
    "bad",
    [
        {"price": Decimal(0)},
        {"years": 0},
        {"down_percent": 100},
        {"annual_rate_percent": Decimal(-1)},
    ],
)
def test_impossible_loans_are_refused(bad: dict[str, object]) -> None:
    args: dict[str, object] = {
        "price": Decimal(1_000_000),
        "down_percent": 30,
        "years": 30,
        "annual_rate_percent": RATE,
        "method": Method.EQUAL_PRINCIPAL,
    }
    args.update(bad)
    price = args.pop("price")
    with pytest.raises(ValueError):
        work_out(price, **args)  # type: ignore[arg-type]


def test_the_rate_is_a_setting_with_a_current_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    from bot.config import SettingsError, load_settings

    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    monkeypatch.delenv("MORTGAGE_RATE_PERCENT", raising=False)
    assert load_settings(require_token=False).mortgage_rate_percent == 3.5
    monkeypatch.setenv("MORTGAGE_RATE_PERCENT", "3.05")
    assert load_settings(require_token=False).mortgage_rate_percent == 3.05
    for bad in ("-1", "25", "abc"):
        monkeypatch.setenv("MORTGAGE_RATE_PERCENT", bad)
        with pytest.raises(SettingsError, match=r"^MORTGAGE_RATE_PERCENT: "):
            load_settings(require_token=False)


async def test_the_rate_setting_reaches_the_answer(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import start_bot_env
    from tests.test_quotes_e2e import data_of, press

    async for env in start_bot_env(tmp_path, mortgage_rate_percent=4.9):
        user = env.user(7201, "en")
        [card] = await env.say(user, "https://bj.ke.com/ershoufang/101127449675.html")
        [answer] = await press(env, user, card, data_of(card, "🧮 Mortgage"))
        expected = work_out(
            Decimal(2_350_000),
            down_percent=30,
            years=30,
            annual_rate_percent=RATE,
            method=Method.EQUAL_INSTALMENT,
        )
        assert "30 years · equal instalments · 4.9% a year" in answer.visible
        assert f"Monthly: ¥{expected.first_payment:,}" in answer.visible
