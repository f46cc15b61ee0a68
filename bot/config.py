"""Settings (CONTRACT section 1): environment variables, then a `.env` file, loaded once.

Each setting is one `Setting` row below: its name (the variable, upper-cased), its
default and how its text is read. Secrets are `SecretStr`: their repr is masked, so
printing settings never leaks them. A bad value stops start-up with one line naming the
variable, and never echoes a secret.

Why no pydantic-settings: it cost a third of the bot's start (about 9 MB and 0.13 s of
imports, bench/startup.py) for thirty flat variables; `.env` files are read with
python-dotenv, the library pydantic-settings itself uses for them.

Settings that only `--demo` and the test suite may set (the sandbox's marks) are not
variables at all: they are `load_settings` arguments, so no environment can switch them on.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from clients.base import PlatformConfig, SecretStr
from gateway.budget import BudgetPolicy

PLATFORM_TIERS = ("personal", "enterprise_basic", "enterprise_advanced")
LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")


class SettingsError(Exception):
    """One clear line naming the variable that is missing or malformed."""


# -- readers: text (or an override's value) -> the setting's value, or ValueError ------------


def _text(value: object) -> str:
    return value.get_secret_value() if isinstance(value, SecretStr) else str(value)


def _integer(low: int | None = None, high: int | None = None) -> Callable[[object], int]:
    def read(value: object) -> int:
        if isinstance(value, bool):
            raise ValueError("expected a whole number")
        if isinstance(value, int):
            number = value
        else:
            text = _text(value).strip()
            if not re.fullmatch(r"[+-]?\d+", text):
                raise ValueError("expected a whole number")
            number = int(text)
        _check_range(number, low, high)
        return number

    return read


def _number(
    low: float | None = None, high: float | None = None, *, above: float | None = None
) -> Callable[[object], float]:
    def read(value: object) -> float:
        if isinstance(value, bool):
            raise ValueError("expected a number")
        try:
            number = float(value if isinstance(value, int | float) else _text(value).strip())
        except ValueError:
            raise ValueError("expected a number") from None
        if number != number or number in (float("inf"), float("-inf")):
            raise ValueError("expected a number")
        if above is not None and number <= above:
            raise ValueError(f"must be greater than {above:g}")
        _check_range(number, low, high)
        return number

    return read


def _check_range(number: float, low: float | None, high: float | None) -> None:
    if low is not None and number < low:
        raise ValueError(f"must be at least {low:g}")
    if high is not None and number > high:
        raise ValueError(f"must be at most {high:g}")


def _choice(choices: tuple[str, ...], *, upper: bool = False) -> Callable[[object], str]:
    def read(value: object) -> str:
        text = _text(value).strip()
        text = text.upper() if upper else text.lower()
        if text not in choices:
            raise ValueError("expected one of " + ", ".join(choices))
        return text

    return read


def _plain(value: object) -> str:
    return _text(value)


def _path(value: object) -> Path:
    return value if isinstance(value, Path) else Path(_text(value))


def _secret(value: object) -> SecretStr:
    return value if isinstance(value, SecretStr) else SecretStr(str(value))


def _optional_secret(value: object) -> SecretStr | None:
    return None if value is None else _secret(value)


def _url(value: object) -> str:
    return _text(value).strip().rstrip("/")


def _url_with_slash(value: object) -> str:
    text = _text(value).strip()
    return text if text.endswith("/") else text + "/"


def _telegram_ids(value: object) -> frozenset[int]:
    if isinstance(value, frozenset | set | list | tuple):
        return frozenset(int(v) for v in value)
    parts = [part for part in _text(value).replace(" ", "").split(",") if part]
    if not all(re.fullmatch(r"-?\d+", part) for part in parts):
        raise ValueError("expected comma-separated Telegram user ids")
    return frozenset(int(part) for part in parts)


def _webhook_secret(value: object) -> SecretStr:
    secret = _secret(value)
    text = secret.get_secret_value()
    if text and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", text):
        raise ValueError("expected 1-256 characters of A-Z, a-z, 0-9, _ and -")
    return secret


def _flag(value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ValueError("expected true or false")


def _origins(value: object) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list | tuple) else (str(value),)


def _optional_number(
    high: float | None = None, *, above: float | None = None
) -> Callable[[object], float | None]:
    read = _number(high=high, above=above)
    return lambda value: None if value is None or _text(value).strip() == "" else read(value)


def _optional_text(value: object) -> str | None:
    return None if value is None else _text(value)


def _setting(default: Any, read: Callable[[object], Any], *, env: bool = True) -> Any:
    """A dataclass field with its reader; `env=False`: an argument only, never a variable."""
    return field(default=default, metadata={"read": read, "env": env})


@dataclass(slots=True)
class Settings:
    """The bot's settings; see CONTRACT section 1 for each variable."""

    telegram_bot_token: SecretStr | None = _setting(None, _optional_secret)
    telegram_api_url: str = _setting("https://api.telegram.org", _url)
    database_path: Path = _setting(Path("data/bot.sqlite3"), _path)
    alert_interval_seconds: int = _setting(300, _integer(1))
    admin_ids: frozenset[int] = _setting(frozenset(), _telegram_ids)
    max_watches_per_user: int = _setting(50, _integer(1))
    #: per-user budgets of upstream calls per platform day (docs/gateway.md, "Fair shares")
    user_daily_share: float = _setting(0.2, _number(high=1, above=0))
    user_daily_floor: int = _setting(5, _integer(1))
    user_daily_unmetered: int = _setting(100, _integer(1))
    user_daily_short_links: int = _setting(30, _integer(1))
    #: a user's watches on a platform are capped so each is checked at least this often a day
    watch_min_checks_per_day: int = _setting(4, _integer(1))
    #: flood control (bot/flood.py): updates one user may send back to back, then per minute
    flood_burst: int = _setting(8, _integer(1, 1000))
    flood_per_minute: float = _setting(20.0, _number(high=6000, above=0))
    log_level: str = _setting("INFO", _choice(LOG_LEVELS, upper=True))
    #: the yearly rate (%) the 🧮 Mortgage button works with (docs/deals.md):
    #: the 5-year-plus LPR, 3.5 % since 20 May 2025; banks quote new home loans around it
    mortgage_rate_percent: float = _setting(3.5, _number(0, 20))

    #: webhook mode (README "Running"): Telegram POSTs updates to this public HTTPS URL;
    #: empty means long polling
    webhook_url: str = _setting("", _plain)
    webhook_listen: str = _setting("0.0.0.0", _plain)
    webhook_port: int = _setting(8443, _integer(1, 65535))
    #: Telegram sends it in X-Telegram-Bot-Api-Secret-Token; required with WEBHOOK_URL
    webhook_secret_token: SecretStr = _setting(SecretStr(""), _webhook_secret)

    anjuke_api_url: str = _setting("https://api.anjuke.com/anjuke/item_get", _plain)
    anjuke_key: str = _setting("", _plain)
    anjuke_secret: SecretStr = _setting(SecretStr(""), _secret)
    anjuke_tier: str = _setting("personal", _choice(PLATFORM_TIERS))

    anjuke_open_api_url: str = _setting("http://api.anjuke.com/site/", _url_with_slash)
    anjuke_open_app_id: str = _setting("", _plain)
    anjuke_open_secret: SecretStr = _setting(SecretStr(""), _secret)

    beike_api_url: str = _setting("https://api.justoneapi.com", _url)
    beike_token: SecretStr = _setting(SecretStr(""), _secret)

    xianyu_api_url: str = _setting("https://gw.api.taobao.com/router/rest", _plain)
    xianyu_app_key: str = _setting("", _plain)
    xianyu_app_secret: SecretStr = _setting(SecretStr(""), _secret)
    xianyu_tier: str = _setting("personal", _choice(PLATFORM_TIERS))

    aihuishou_api_url: str = _setting("https://open.aihuishou.com/api/v2/item_get_inquir", _plain)
    aihuishou_app_id: str = _setting("", _plain)
    aihuishou_app_secret: SecretStr = _setting(SecretStr(""), _secret)
    aihuishou_tier: str = _setting("test", _choice(("test", "commercial")))

    #: seconds one platform request may take in all (connect, headers, whole body); unset:
    #: each platform's own (Beike 60 s as CONTRACT 3.2 asks, Xianyu and Aihuishou 10 s,
    #: Anjuke and the open API 15 s)
    platform_deadline_seconds: float | None = _setting(None, _optional_number(high=600, above=0))
    #: bytes of one platform answer read at most; reading stops there
    platform_max_answer_bytes: int = _setting(8 * 1024 * 1024, _integer(1024))

    #: set by `--demo` (cards then say `sandbox`)
    demo: bool = _setting(False, _flag, env=False)
    #: where Xianyu short links are resolved instead of m.tb.cn (the sandbox sets it)
    short_link_base: str | None = _setting(None, _optional_text, env=False)
    #: photo origins fetched though not https/public (the sandbox's); honoured only with `demo`
    trusted_photo_origins: tuple[str, ...] = _setting((), _origins, env=False)

    def __repr__(self) -> str:
        shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self))
        return f"Settings({shown})"

    __str__ = __repr__

    @property
    def webhook(self) -> bool:
        return bool(self.webhook_url)

    def secret_values(self) -> list[str]:
        """Every secret's value, and the keys and app ids (credentials too): what the log
        redactor removes."""
        values: list[str] = []
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, SecretStr):
                values.append(value.get_secret_value())
            elif f.name.endswith(("_key", "_app_id")) and isinstance(value, str):
                values.append(value)
        return values

    def budget_policy(self) -> BudgetPolicy:
        return BudgetPolicy(
            share=self.user_daily_share,
            floor=self.user_daily_floor,
            unmetered=self.user_daily_unmetered,
            short_links=self.user_daily_short_links,
            admin_ids=self.admin_ids,
        )

    # -- per-platform views for the clients ------------------------------------------

    def platform_configs(self) -> dict[str, PlatformConfig]:
        """Each platform's settings, by platform name (`clients.registry.build_clients`)."""
        return {
            "anjuke": self.anjuke(),
            "anjuke_open": self.anjuke_open(),
            "beike": self.beike(),
            "xianyu": self.xianyu(),
            "aihuishou": self.aihuishou(),
        }

    def anjuke(self) -> PlatformConfig:
        return PlatformConfig(
            self.anjuke_api_url,
            self.anjuke_key,
            self.anjuke_secret,
            self.anjuke_tier,
            **self._bounds(),
        )

    def anjuke_open(self) -> PlatformConfig:
        return PlatformConfig(
            self.anjuke_open_api_url,
            self.anjuke_open_app_id,
            self.anjuke_open_secret,
            **self._bounds(),
        )

    def beike(self) -> PlatformConfig:
        return PlatformConfig(
            self.beike_api_url, "", self.beike_token, key_optional=True, **self._bounds()
        )

    def xianyu(self) -> PlatformConfig:
        return PlatformConfig(
            self.xianyu_api_url,
            self.xianyu_app_key,
            self.xianyu_app_secret,
            self.xianyu_tier,
            short_link_base=self.short_link_base,
            **self._bounds(),
        )

    def aihuishou(self) -> PlatformConfig:
        return PlatformConfig(
            self.aihuishou_api_url,
            self.aihuishou_app_id,
            self.aihuishou_app_secret,
            self.aihuishou_tier,
            **self._bounds(),
        )

    def _bounds(self) -> dict[str, Any]:
        """What every platform request is held to: its deadline and the answer size cap."""
        return {
            "deadline": self.platform_deadline_seconds,
            "max_answer_bytes": self.platform_max_answer_bytes,
        }


def _variables(env_file: Path) -> dict[str, str]:
    """The environment over the `.env` file, names upper-cased (names are not case-sensitive)."""
    found: dict[str, str] = {}
    if env_file.is_file():
        from dotenv import dotenv_values  # only when there is a file to read

        for name, value in dotenv_values(env_file, encoding="utf-8").items():
            if value is not None:
                found[name.upper()] = value
    for name, value in os.environ.items():
        found[name.upper()] = value
    return found


def load_settings(*, require_token: bool = True, **overrides: object) -> Settings:
    """Load settings once; raise `SettingsError` with one line naming the bad variable.

    `overrides` (the demo and tests) win over the environment and may set any setting,
    including the argument-only ones."""
    variables = _variables(Path(".env"))
    values: dict[str, Any] = {}
    for f in fields(Settings):
        name = f.name.upper()
        if f.name in overrides:
            raw: object = overrides[f.name]
        elif f.metadata["env"] and name in variables:
            raw = variables[name]
        else:
            continue
        if raw is None and f.default is None:
            values[f.name] = None
            continue
        try:
            values[f.name] = f.metadata["read"](raw)
        except (ValueError, TypeError) as exc:
            raise SettingsError(f"{name}: {str(exc).splitlines()[0]}") from None
    unknown = set(overrides) - {f.name for f in fields(Settings)}
    if unknown:
        raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
    settings = Settings(**values)
    if require_token and not (
        settings.telegram_bot_token and settings.telegram_bot_token.get_secret_value()
    ):
        raise SettingsError("TELEGRAM_BOT_TOKEN is not set (get one from @BotFather)")
    if settings.webhook and not settings.webhook_secret_token.get_secret_value():
        raise SettingsError("WEBHOOK_SECRET_TOKEN is required with WEBHOOK_URL")
    return settings
