"""`/demo_drop [percent]`, registered only in `--demo`: the sandbox lowers a price now.

Every listing the user watches gets cheaper by `percent` (default 10) in the sandbox,
and a poll cycle runs at once, so the alert (and its 📈 chart) follows in seconds.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from telegram import Update

from clients.models import ListingRef
from handlers.alerts import poll_job
from handlers.common import reply, services, user_lang
from handlers.context import BotContext
from handlers.texts import plural, t

DEFAULT_DROP = Decimal(10)
COMMAND = "demo_drop"


def drop_percent(args: list[str]) -> Decimal | None:
    """The percent asked for (1-90, `%` optional), the default without one; None if malformed."""
    if not args:
        return DEFAULT_DROP
    try:
        percent = Decimal(args[0].removesuffix("%"))
    except InvalidOperation:
        return None
    return percent if percent.is_finite() and 1 <= percent <= 90 and len(args) == 1 else None


async def demo_drop_command(update: Update, context: BotContext) -> None:
    user = update.effective_user
    if user is None:
        return
    lang = user_lang(update, context)
    s = services(context)
    market = s.demo_market
    percent = drop_percent(context.args or [])
    if market is None or percent is None:
        await reply(update, t(lang, "demo_drop_usage"))
        return
    lowered = 0
    for entry in await s.watches.for_user(user.id):
        price = entry.listing.price
        if price is None or entry.watch.paused_reason is not None:
            continue
        new_price = (price * (100 - percent) / 100).quantize(price)
        ref = ListingRef.from_key(entry.listing.ref_key)
        lowered += market.set_listing_price(ref, new_price)
    if not lowered:
        await reply(update, t(lang, "demo_drop_nothing"))
        return
    await reply(
        update,
        t(
            lang,
            "demo_drop_done",
            listings=plural(lang, "n_watched_listings", lowered),
            percent=percent,
        ),
    )
    assert context.job_queue is not None
    context.job_queue.run_once(poll_job, when=0, name="demo-poll")
