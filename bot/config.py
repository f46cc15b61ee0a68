"""Settings (CONTRACT section 1): environment variables, then a `.env` file, loaded once.

Secrets are `SecretStr`: their repr is masked, so printing settings never leaks them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from clients.base import PlatformConfig
from clients.budget import BudgetPolicy


class SettingsError(Exception):
    """One clear line naming the variable that is missing or malformed."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
    )

    telegram_bot_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"
    database_path: Path = Path("data/bot.sqlite3")
    alert_interval_seconds: int = Field(300, ge=1)
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    max_watches_per_user: int = Field(50, ge=1)
    #: per-user budgets of upstream calls per platform day (README, "Fair shares")
    user_daily_share: float = Field(0.2, gt=0, le=1)
    user_daily_floor: int = Field(5, ge=1)
    user_daily_unmetered: int = Field(100, ge=1)
    user_daily_short_links: int = Field(30, ge=1)
    #: a user's watches on a platform are capped so each is checked at least this often a day
    watch_min_checks_per_day: int = Field(4, ge=1)
    #: flood control (bot/flood.py): updates one user may send back to back, then per minute
    flood_burst: int = Field(8, ge=1, le=1000)
    flood_per_minute: float = Field(20, gt=0, le=6000)
    log_level: Literal["CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"] = "INFO"

    #: webhook mode (README "Running"): Telegram POSTs updates to this public HTTPS URL;
    #: empty means long polling
    webhook_url: str = ""
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = Field(8443, ge=1, le=65535)
    #: Telegram sends it in X-Telegram-Bot-Api-Secret-Token; required with WEBHOOK_URL
    webhook_secret_token: SecretStr = SecretStr("")

    anjuke_api_url: str = "https://api.anjuke.com/anjuke/item_get"
    anjuke_key: str = ""
    anjuke_secret: SecretStr = SecretStr("")
    anjuke_tier: Literal["personal", "enterprise_basic", "enterprise_advanced"] = "personal"

    anjuke_open_api_url: str = "http://api.anjuke.com/site/"
    anjuke_open_app_id: str = ""
    anjuke_open_secret: SecretStr = SecretStr("")

    beike_api_url: str = "https://api.justoneapi.com"
    beike_token: SecretStr = SecretStr("")

    xianyu_api_url: str = "https://gw.api.taobao.com/router/rest"
    xianyu_app_key: str = ""
    xianyu_app_secret: SecretStr = SecretStr("")
    xianyu_tier: Literal["personal", "enterprise_basic", "enterprise_advanced"] = "personal"

    aihuishou_api_url: str = "https://open.aihuishou.com/api/v2/item_get_inquir"
    aihuishou_app_id: str = ""
    aihuishou_app_secret: SecretStr = SecretStr("")
    aihuishou_tier: Literal["test", "commercial"] = "test"

    #: seconds one platform request may take in all (connect, headers, whole body); unset:
    #: each platform's own (Beike 60 s as CONTRACT 3.2 asks, Xianyu and Aihuishou 10 s,
    #: Anjuke and the open API 15 s)
    platform_deadline_seconds: float | None = Field(None, gt=0, le=600)
    #: bytes of one platform answer read at most; reading stops there
    platform_max_answer_bytes: int = Field(8 * 1024 * 1024, ge=1024)

    #: set by `--demo` (cards then say `sandbox`)
    demo: bool = Field(False, exclude=True)
    #: where Xianyu short links are resolved instead of m.tb.cn (the sandbox sets it)
    short_link_base: str | None = Field(None, exclude=True)
    #: photo origins fetched though not https/public (the sandbox's); honoured only with `demo`
    trusted_photo_origins: tuple[str, ...] = Field((), exclude=True)

    @field_validator("webhook_secret_token", mode="after")
    @classmethod
    def _telegram_secret_shape(cls, value: SecretStr) -> SecretStr:
        secret = value.get_secret_value()
        if secret and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise ValueError("expected 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @property
    def webhook(self) -> bool:
        return bool(self.webhook_url)

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper().strip() if isinstance(value, str) else value

    @field_validator("anjuke_tier", "xianyu_tier", "aihuishou_tier", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.lower().strip() if isinstance(value, str) else value

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [part for part in value.replace(" ", "").split(",") if part]
            if not all(part.lstrip("-").isdigit() for part in parts):
                raise ValueError("expected comma-separated Telegram user ids")
            return frozenset(int(part) for part in parts)
        return value

    @field_validator("telegram_api_url", "anjuke_open_api_url", "beike_api_url", mode="after")
    @classmethod
    def _no_trailing_slash_except_open(cls, value: str, info) -> str:  # type: ignore[no-untyped-def]
        if info.field_name == "anjuke_open_api_url":
            return value if value.endswith("/") else value + "/"
        return value.rstrip("/")

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


def load_settings(*, require_token: bool = True, **overrides: object) -> Settings:
    """Load settings once; raise `SettingsError` with one line naming the bad variable."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        err = exc.errors()[0]
        name = str(err["loc"][0]).upper() if err.get("loc") else "settings"
        raise SettingsError(f"{name}: {_short(err['msg'])}") from None
    if require_token and not (
        settings.telegram_bot_token and settings.telegram_bot_token.get_secret_value()
    ):
        raise SettingsError("TELEGRAM_BOT_TOKEN is not set (get one from @BotFather)")
    if settings.webhook and not settings.webhook_secret_token.get_secret_value():
        raise SettingsError("WEBHOOK_SECRET_TOKEN is required with WEBHOOK_URL")
    return settings


def _short(msg: str) -> str:
    # pydantic messages never include the input value here, so no secret is echoed.
    return msg.split("\n", 1)[0]
