"""Price alerts in the chat: the JobQueue jobs, the alert message, sending it with the Bot.

The decisions (plan, check, record, decide, deliver in order) are in `watching/`;
this module wires them to python-telegram-bot and renders what they produce:

- `poll_job` runs `watching.poller.poll_cycle` every `ALERT_INTERVAL_SECONDS`, then
  `watching.delivery.deliver_pending` in the background;
- `TelegramAlertSender` renders one alert (`render_alert`) in its user's language and
  sends it, translating Telegram's answers (blocked, migrated, flood control, ...)
  into `SendResult`s; Telegram's limits are kept by the application's rate limiter
  (`bot/rate_limiter.py`, whose `retry_after` handling we back up).

`run_poll_cycle(services, bot, now)` is one cycle and its delivery, for tests and
benchmarks with a `FakeClock`.
"""

from __future__ import annotations

import asyncio
import html
import logging
from decimal import Decimal
from typing import Any

from telegram import Bot, Update
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from clients.models import ListingRef, ListingStatus, PriceUnit
from handlers import callbacks as cb
from handlers.cards import money
from handlers.context import BotApplication, BotContext, Services
from handlers.sending import Lane, retry_after_seconds, send_message_raw
from handlers.texts import t
from storage.alerts import PendingAlert
from storage.retired import RetiredWatch, RetiredWatchStore
from watching.delivery import DeliveryReport, Outcome, SendResult, deliver_pending
from watching.poller import CycleReport, PlatformPlan, poll_cycle
from watching.rules import Change, RuleKind, change_percent

log = logging.getLogger(__name__)

TITLE_LIMIT = 200


async def run_poll_cycle(
    services: Services, bot: Bot | None, now: float | None = None, *, deliver: bool = True
) -> CycleReport:
    """One poll cycle and, when `deliver` and a bot, the delivery of what it recorded:
    each platform's alerts as soon as that platform is done (else what earlier runs left)."""
    if not deliver or bot is None:
        return await poll_cycle(services.watching, now)
    deliveries: list[asyncio.Task[DeliveryReport]] = []

    def deliver_now(_plan: PlatformPlan, alerts: int) -> None:
        if alerts:
            deliveries.append(asyncio.create_task(send_pending_alerts(services, bot)))

    report = await poll_cycle(services.watching, now, on_platform_done=deliver_now)
    if deliveries:
        await asyncio.gather(*deliveries)
    else:  # nothing new: what earlier runs left unsent
        await send_pending_alerts(services, bot)
    return report


async def send_pending_alerts(services: Services, bot: Bot) -> DeliveryReport:
    """Every unsent alert, through `bot` (see `watching.delivery.deliver_pending`), then
    the notices of watches the bot could not keep."""
    sender = TelegramAlertSender(services, bot)
    report = await deliver_pending(services.watching, sender)
    await send_retired_notices(services, sender)
    return report


async def send_retired_notices(services: Services, sender: TelegramAlertSender) -> int:
    """Tell each owner once which watch could not be kept and why; return how many went.

    Sent like alerts (the application's rate limiter paces each chat), one delivery at a
    time; a notice is marked told when Telegram takes it, so no restart sends it twice. A
    flood-control answer or a network error leaves the rest for the next delivery.
    """
    store = RetiredWatchStore(services.database)
    told = 0
    async with services.watching.delivery_lock:
        for notice in await store.untold():
            text = retired_text(notice, await sender.language(notice.user_id))
            try:
                await sender.bot.send_message(notice.chat_id, text)
            except (Forbidden, BadRequest) as exc:  # blocked, or the chat is gone: for good
                log.info("retired-watch notice %d refused: %s", notice.id, type(exc).__name__)
                await store.mark_failed(notice.id)
                continue
            except TelegramError as exc:  # flood control, network: the next delivery retries
                log.warning("retired-watch notice %d not sent (%s)", notice.id, type(exc).__name__)
                break
            await store.mark_told(notice.id)
            told += 1
    if told:
        log.info("told %d owner(s) of watches that could not be kept", told)
    return told


def retired_text(notice: RetiredWatch, lang: str) -> str:
    title = notice.title if len(notice.title) <= TITLE_LIMIT else notice.title[:TITLE_LIMIT] + "…"
    return t(
        lang,
        f"watch_retired_{notice.reason}",
        title=html.escape(title),
        platform=html.escape(t(lang, f"platform_{notice.platform}")),
        id=html.escape(notice.listing_id),
    )


class TelegramAlertSender:
    """Renders and sends one alert; says what Telegram's answer means for delivery."""

    def __init__(self, services: Services, bot: Bot) -> None:
        self.services = services
        self.bot = bot
        self.languages: dict[int, str] = {}

    async def language(self, user_id: int) -> str:
        if user_id not in self.languages:
            user = await self.services.users.get(user_id)
            self.languages[user_id] = (user.language if user else None) or "en"
        return self.languages[user_id]

    async def __call__(self, alert: PendingAlert, chat_id: int) -> SendResult:
        try:
            # the file's language came with the alert; memory holds one newer than the file
            lang = self.services.users.remembered_language(alert.user_id) or alert.language
            text, markup = render_alert(alert, lang or "en")
        except Exception:  # a rendering bug must not stop the others; the alert stays
            log.exception("alert %d could not be rendered", alert.id)
            return SendResult(Outcome.FAILED, "render")
        params = {
            "chat_id": chat_id,
            "text": text,
            # what the application's Defaults give every other message (bot/app.py)
            "parse_mode": "HTML",
            "link_preview_options": {"is_disabled": True},
            "reply_markup": markup,
        }
        try:
            # alerts take the background lane: a reply someone waits for goes first
            await send_message_raw(self.bot, params, Lane.BACKGROUND)
        except RetryAfter as exc:
            return SendResult(Outcome.RETRY_AFTER, wait=retry_after_seconds(exc))
        except Forbidden:
            return SendResult(Outcome.BLOCKED)
        except ChatMigrated as exc:
            return SendResult(Outcome.MOVED, new_chat_id=exc.new_chat_id)
        except BadRequest as exc:
            log.error("alert %d refused by Telegram: %s", alert.id, exc.message)
            return SendResult(Outcome.REFUSED, f"bad_request: {exc.message}")
        except NetworkError as exc:
            log.warning("alert %d not sent (%s); will retry", alert.id, type(exc).__name__)
            return SendResult(Outcome.FAILED, type(exc).__name__)
        except TelegramError as exc:
            log.error("alert %d not sent: %s", alert.id, type(exc).__name__)
            return SendResult(Outcome.FAILED, type(exc).__name__)
        return SendResult(Outcome.SENT)


# -- the alert message ------------------------------------------------------------------


def format_price(price: Decimal | None, unit: str, lang: str) -> str:
    if price is None:
        return "—"
    if unit == PriceUnit.WAN_YUAN:
        return t(lang, "price_wan", price=money(price), yuan=money(price * 10000))
    if unit == PriceUnit.YUAN_PER_MONTH:
        return t(lang, "price_month", price=money(price))
    return t(lang, "price_yuan", price=money(price))


def rule_text(rule: str, value: Decimal | None, unit: str, lang: str) -> str:
    if rule == RuleKind.PERCENT:
        return t(lang, "rule_percent", percent=money(value or Decimal(0)))
    if rule == RuleKind.TARGET:
        return t(lang, "rule_target", price=format_price(value, unit, lang))
    return t(lang, "rule_any_drop")


_HEADLINE_ORDER = (
    Change.SOLD,
    Change.RENTED,
    Change.TAKEN_DOWN,
    Change.BACK_ON_SALE,
    Change.TARGET_REACHED,
    Change.PRICE_DROP,
)


def render_alert(alert: PendingAlert, lang: str) -> tuple[str, dict[str, Any]]:
    """The alert's HTML text and buttons (view card, price history, unwatch), the buttons
    as the Bot API's InlineKeyboardMarkup object (`send_message_raw`: an alert reads
    nothing back, and python-telegram-bot's button objects cost more than its text)."""
    changes = set(alert.changes)
    headline = next(c for c in _HEADLINE_ORDER if c.value in changes)
    title = alert.title if len(alert.title) <= TITLE_LIMIT else alert.title[:TITLE_LIMIT] + "…"
    e = html.escape
    lines = [f"{t(lang, f'alert_{headline.value}')} · {e(t(lang, f'platform_{alert.platform}'))}"]
    if alert.url.startswith(("https://", "http://")):
        lines.append(f'<a href="{e(alert.url, quote=True)}">{e(title)}</a>')
    else:
        lines.append(f"<b>{e(title)}</b>")

    unit = alert.price_unit
    old, new = alert.old_price, alert.new_price
    price_moved = bool(changes & {Change.PRICE_DROP.value, Change.TARGET_REACHED.value})
    off_sale = alert.status != ListingStatus.ON_SALE
    if off_sale:
        lines.append(t(lang, "alert_last_price", price=e(format_price(new, unit, lang))))
    elif old is not None and new is not None and (price_moved or old != new):
        percent = change_percent(old, new)
        lines.append(
            t(
                lang,
                "alert_price_change",
                old=e(format_price(old, unit, lang)),
                new=e(format_price(new, unit, lang)),
                percent=f"{percent:+}".replace("-", "−") if percent is not None else "",
            )
        )
    else:
        lines.append(t(lang, "alert_price_now", price=e(format_price(new, unit, lang))))
    if alert.lowest_price is not None:
        lines.append(t(lang, "alert_lowest", price=e(format_price(alert.lowest_price, unit, lang))))
    lines.append(t(lang, "alert_rule", rule=e(rule_text(alert.rule, alert.rule_value, unit, lang))))

    markup = {
        "inline_keyboard": [
            [
                {
                    "text": t(lang, "btn_view_card"),
                    "callback_data": cb.encode(cb.ViewCard(ListingRef.from_key(alert.ref_key))),
                },
                {
                    "text": t(lang, "btn_history"),
                    "callback_data": cb.encode(cb.History(alert.watch_id)),
                },
                {
                    "text": t(lang, "btn_unwatch"),
                    "callback_data": cb.encode(cb.Unwatch(alert.watch_id)),
                },
            ]
        ]
    }
    return "\n".join(lines), markup


# -- wiring into the Application ----------------------------------------------------------

POLL_JOB = "price-alerts-poll"
FIRST_POLL_AFTER = 30.0  # seconds after start; restarts must not starve the checks


async def poll_job(context: BotContext) -> None:
    """The JobQueue callback: one cycle, then delivery in the background (it may take long)."""
    services = context.bot_data.services
    started = False

    def deliver_now(_plan: PlatformPlan, alerts: int) -> None:
        # a platform's alerts go out while slower platforms are still being checked
        nonlocal started
        if alerts:
            started = True
            context.application.create_task(
                send_pending_alerts(services, context.bot), name="price-alerts-delivery"
            )

    await poll_cycle(services.watching, on_platform_done=deliver_now)
    if not started and not services.watching.delivery_lock.locked():
        context.application.create_task(
            send_pending_alerts(services, context.bot), name="price-alerts-delivery"
        )


async def deliver_job(context: BotContext) -> None:
    """Send what a previous run recorded but did not send (run once at start)."""
    await send_pending_alerts(context.bot_data.services, context.bot)


def start_alerts(application: BotApplication) -> None:
    """Schedule the poll job and the delivery of alerts left unsent by a previous run."""
    services = application.bot_data.services
    job_queue = application.job_queue
    if job_queue is None:
        log.error("no JobQueue (python-telegram-bot[job-queue] missing): price alerts are off")
        return
    interval = services.settings.alert_interval_seconds
    job_queue.run_once(deliver_job, when=0, name="price-alerts-pending")
    job_queue.run_repeating(
        poll_job,
        interval=interval,
        first=min(float(interval), FIRST_POLL_AFTER),
        name=POLL_JOB,
        job_kwargs={"max_instances": 1, "coalesce": True},
    )


async def resume_on_contact(update: Update, context: BotContext) -> None:
    """Any update from a chat whose watches were paused (it had blocked the bot) resumes them."""
    chat = update.effective_chat
    if chat is None:
        return
    if await context.bot_data.services.watches.resume_chat(chat.id):
        log.info("a chat that had blocked the bot is back: its watches resume")
