"""A listing's price over time as a PNG (matplotlib, Agg backend: no display needed).

Only the object-oriented API is used (a `Figure` drawn by the Agg canvas,
`FigureCanvasAgg`): no pyplot, hence no backend to pick and no global state, so a
chart can be drawn in a worker thread while the bot keeps running. Text on the chart
is ASCII only (servers often lack CJK fonts); the listing's title goes in the photo's
caption instead.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from datetime import datetime

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure

from clients.models import ListingStatus, PriceUnit
from clock import CHINA_TZ
from storage.watches import PricePoint

UNIT_LABELS = {
    PriceUnit.WAN_YUAN.value: "price (10,000 CNY)",
    PriceUnit.YUAN_PER_MONTH.value: "rent (CNY / month)",
    PriceUnit.YUAN.value: "price (CNY)",
}


def has_prices(stretches: Sequence[PricePoint]) -> bool:
    return any(s.price is not None and s.status == ListingStatus.ON_SALE for s in stretches)


def render_price_chart(
    stretches: Sequence[PricePoint], price_unit: str, *, now: float | None = None
) -> bytes:
    """PNG bytes of the on-sale price as steps; off-sale periods shaded grey."""
    fig = Figure(figsize=(8, 4), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    times: list[datetime] = []
    prices: list[float] = []
    for s in stretches:
        if s.status != ListingStatus.ON_SALE:
            ax.axvspan(
                _when(s.first_observed_at),  # type: ignore[arg-type]  # matplotlib converts dates (its units), its stubs say float
                _when(max(s.last_observed_at, s.first_observed_at + 60)),  # type: ignore[arg-type]  # as above
                color="0.85",
                lw=0,
            )
            if prices and not math.isnan(prices[-1]):  # break the line while off sale
                times.append(_when(s.first_observed_at))
                prices.append(math.nan)
            continue
        if s.price is None:
            continue
        times += [_when(s.first_observed_at), _when(s.last_observed_at)]
        prices += [float(s.price), float(s.price)]
    last = stretches[-1] if stretches else None
    if (
        now is not None
        and last is not None
        and last.status == ListingStatus.ON_SALE
        and times
        and _when(now) > times[-1]
    ):
        times.append(_when(now))  # the last price holds until now
        prices.append(prices[-1])
    shown = [p for p in prices if not math.isnan(p)]
    if shown:
        ax.step(times, prices, where="post", color="#1f77b4", lw=2)  # type: ignore[arg-type]  # matplotlib converts dates (its units), its stubs say float
        ax.plot(times, prices, "o", color="#1f77b4", ms=3)  # type: ignore[arg-type]  # matplotlib converts dates (its units), its stubs say float
        low = min(shown)
        ax.axhline(low, color="#2ca02c", lw=1, ls="--")
        ax.annotate(
            "lowest " + _amount(low),
            (times[0], low),
            textcoords="offset points",
            xytext=(4, 4),
            color="#2ca02c",
            fontsize=8,
        )
        spread = max(shown) - low
        pad = spread * 0.15 if spread else max(abs(low) * 0.05, 1.0)
        ax.set_ylim(low - pad, max(shown) + pad)
    locator = AutoDateLocator(tz=CHINA_TZ)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator, tz=CHINA_TZ))
    ax.set_ylabel(UNIT_LABELS.get(price_unit, "price"))
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()


def _when(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, CHINA_TZ)


def _amount(value: float) -> str:
    return f"{value:,.2f}".rstrip("0").rstrip(".")
