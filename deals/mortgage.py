"""Mortgage arithmetic: equal instalments (等额本息) and equal principal (等额本金).

Monthly rate r = annual rate / 12, n months, loan P:

- equal instalments: every month pays P·r·(1+r)^n / ((1+r)^n − 1); the first month's
  interest is P·r, the rest of the payment is principal; total interest = payment·n − P;
- equal principal: every month repays P/n of principal plus interest on what is still
  owed, so the first month pays P/n + P·r and each later one P/n·r less; total interest
  = P·r·(n+1)/2.

Computed with `Decimal` at 28 digits and rounded to the fen (0.01 yuan, half up) when
shown. The total interest of equal instalments is what the borrower pays: the payment
rounded to the fen, every month, less the loan (100,000 yuan over 10 years at 4.9 % is
1,055.77 × 120 − 100,000 = 26,692.40 yuan), as the cited calculators do
(tests/test_mortgage.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from enum import StrEnum

FEN = Decimal("0.01")
#: the choices offered by buttons
DOWN_PAYMENT_PERCENTS = (20, 30, 35)
LOAN_YEARS = (10, 20, 25, 30)


class Method(StrEnum):
    EQUAL_INSTALMENT = "i"  # 等额本息
    EQUAL_PRINCIPAL = "p"  # 等额本金


@dataclass(frozen=True, slots=True)
class Mortgage:
    """One loan worked out; amounts in yuan, rounded to the fen."""

    price: Decimal
    down_payment: Decimal
    loan: Decimal
    months: int
    annual_rate_percent: Decimal
    method: Method
    first_payment: Decimal
    first_principal: Decimal
    first_interest: Decimal
    last_payment: Decimal
    total_interest: Decimal
    #: equal principal: how much less each month pays than the one before (0 otherwise)
    monthly_decrease: Decimal

    @property
    def total_paid(self) -> Decimal:
        return self.loan + self.total_interest


def _fen(value: Decimal) -> Decimal:
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


def loan_for(price: Decimal, down_percent: Decimal | int) -> tuple[Decimal, Decimal]:
    """(down payment, loan) of a price, the down payment rounded to the yuan."""
    down = (price * Decimal(down_percent) / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return down, price - down


def work_out(
    price: Decimal,
    *,
    down_percent: Decimal | int,
    years: int,
    annual_rate_percent: Decimal,
    method: Method,
) -> Mortgage:
    """The loan on `price` with `down_percent` down, over `years`, at `annual_rate_percent`."""
    if price <= 0 or years <= 0 or not 0 <= Decimal(down_percent) < 100:
        raise ValueError("price and years must be positive, the down payment under 100 %")
    if annual_rate_percent < 0:
        raise ValueError("the rate cannot be negative")
    down, loan = loan_for(price, down_percent)
    return loan_schedule(
        loan,
        months=years * 12,
        annual_rate_percent=annual_rate_percent,
        method=method,
        price=price,
        down_payment=down,
    )


def loan_schedule(
    loan: Decimal,
    *,
    months: int,
    annual_rate_percent: Decimal,
    method: Method,
    price: Decimal | None = None,
    down_payment: Decimal = Decimal(0),
) -> Mortgage:
    """The figures of one loan of `loan` yuan over `months`."""
    with localcontext() as ctx:
        ctx.prec = 28
        r = annual_rate_percent / 100 / 12
        if method is Method.EQUAL_INSTALMENT:
            if r == 0:
                payment = loan / months
            else:
                growth = (1 + r) ** months
                payment = loan * r * growth / (growth - 1)
            first_interest = loan * r
            first_principal = payment - first_interest
            total_interest = _fen(payment) * months - loan
            first = last = payment
            decrease = Decimal(0)
        else:
            principal = loan / months
            first_interest = loan * r
            first_principal = principal
            first = principal + first_interest
            last = principal + principal * r
            total_interest = loan * r * (months + 1) / 2
            decrease = principal * r
    return Mortgage(
        price=price if price is not None else loan + down_payment,
        down_payment=down_payment,
        loan=loan,
        months=months,
        annual_rate_percent=annual_rate_percent,
        method=method,
        first_payment=_fen(first),
        first_principal=_fen(first_principal),
        first_interest=_fen(first_interest),
        last_payment=_fen(last),
        total_interest=_fen(total_interest),
        monthly_decrease=_fen(decrease),
    )
