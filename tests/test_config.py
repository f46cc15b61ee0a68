"""Settings per CONTRACT section 1: defaults, .env, one clear line for bad values, masked secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import SettingsError, load_settings
from tests.conftest import run_python

ROOT = Path(__file__).resolve().parents[1]
SETTING_NAMES = (
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_API_URL",
    "DATABASE_PATH",
    "ALERT_INTERVAL_SECONDS",
    "ADMIN_IDS",
    "MAX_WATCHES_PER_USER",
    "LOG_LEVEL",
    "ANJUKE_API_URL",
    "ANJUKE_KEY",
    "ANJUKE_SECRET",
    "ANJUKE_TIER",
    "ANJUKE_OPEN_API_URL",
    "ANJUKE_OPEN_APP_ID",
    "ANJUKE_OPEN_SECRET",
    "BEIKE_API_URL",
    "BEIKE_TOKEN",
    "XIANYU_API_URL",
    "XIANYU_APP_KEY",
    "XIANYU_APP_SECRET",
    "XIANYU_TIER",
    "AIHUISHOU_API_URL",
    "AIHUISHOU_APP_ID",
    "AIHUISHOU_APP_SECRET",
    "AIHUISHOU_TIER",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def test_defaults_follow_the_contract(monkeypatch):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "1:abc")
    s = load_settings()
    assert s.telegram_api_url == "https://api.telegram.org"
    assert str(s.database_path) == "data/bot.sqlite3"
    assert s.alert_interval_seconds == 300
    assert s.max_watches_per_user == 50
    assert s.admin_ids == frozenset()
    assert s.anjuke_tier == "personal" and s.xianyu_tier == "personal"
    assert s.aihuishou_tier == "test"
    assert s.anjuke_api_url == "https://api.anjuke.com/anjuke/item_get"
    assert s.anjuke_open_api_url == "http://api.anjuke.com/site/"
    assert s.beike_api_url == "https://api.justoneapi.com"
    assert s.xianyu_api_url == "https://gw.api.taobao.com/router/rest"
    assert s.aihuishou_api_url == "https://open.aihuishou.com/api/v2/item_get_inquir"
    assert not s.beike().has_credentials and not s.anjuke().has_credentials


def test_dotenv_is_read_and_the_environment_wins(monkeypatch, tmp_path):
    (tmp_path / ".env").write_text(
        "TELEGRAM_BOT_TOKEN=1:fromfile\nADMIN_IDS=5, 7\nXIANYU_TIER=enterprise_basic\n"
    )
    monkeypatch.setenv("XIANYU_TIER", "enterprise_advanced")
    s = load_settings()
    assert s.telegram_bot_token.get_secret_value() == "1:fromfile"
    assert s.admin_ids == frozenset({5, 7})
    assert s.xianyu_tier == "enterprise_advanced"


def test_missing_token_names_the_variable():
    with pytest.raises(SettingsError, match=r"^TELEGRAM_BOT_TOKEN"):
        load_settings()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ALERT_INTERVAL_SECONDS", "often"),
        ("ANJUKE_TIER", "gold"),
        ("ADMIN_IDS", "me"),
        ("MAX_WATCHES_PER_USER", "0"),
        ("AIHUISHOU_TIER", "free"),
    ],
)
def test_malformed_setting_is_one_line_naming_the_variable(monkeypatch, name, value):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "1:abc")
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert str(info.value).startswith(name)
    assert "\n" not in str(info.value)


def test_secrets_are_masked_when_settings_are_printed(monkeypatch):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:very-secret-token")
    monkeypatch.setenv("BEIKE_TOKEN", "beike-secret-token")
    monkeypatch.setenv("XIANYU_APP_SECRET", "xianyu-secret-value")
    s = load_settings()
    text = repr(s) + str(s) + repr(s.beike()) + repr(s.xianyu())
    for secret in ("very-secret-token", "beike-secret-token", "xianyu-secret-value"):
        assert secret not in text


def test_bot_refuses_to_start_with_a_malformed_setting_in_one_line(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "TELEGRAM_BOT_TOKEN": "1:abc",
        "ALERT_INTERVAL_SECONDS": "x",
        "PYTHONPATH": str(ROOT),
    }
    done = run_python(["-m", "bot"], tmp_path, env)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]
    assert "ALERT_INTERVAL_SECONDS" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("source", ["environment", ".env"])
def test_demo_only_settings_cannot_be_switched_on_outside_demo(monkeypatch, tmp_path, source):
    """DEMO, TRUSTED_PHOTO_ORIGINS and SHORT_LINK_BASE would make a production bot trust
    the sandbox's photo host and send short links elsewhere: no variable reaches them."""
    hostile = {
        "DEMO": "true",
        "TRUSTED_PHOTO_ORIGINS": '["http://127.0.0.1:8080", "http://169.254.169.254"]',
        "SHORT_LINK_BASE": "http://127.0.0.1:8080",
    }
    if source == ".env":
        lines = [f"{name}={value}" for name, value in hostile.items()]
        (tmp_path / ".env").write_text("\n".join(lines) + "\n", encoding="utf-8")
    else:
        for name, value in hostile.items():
            monkeypatch.setenv(name, value)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "1:abc")
    settings = load_settings()
    assert settings.demo is False
    assert settings.trusted_photo_origins == ()
    assert settings.short_link_base is None
    assert settings.xianyu().short_link_base is None
    # --demo (and the tests) set them in code, as before
    demo = load_settings(demo=True, trusted_photo_origins=("http://127.0.0.1:1",))
    assert demo.demo and demo.trusted_photo_origins == ("http://127.0.0.1:1",)


def test_a_malformed_secret_is_named_never_echoed(monkeypatch):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "1:abc")
    monkeypatch.setenv("WEBHOOK_URL", "https://bot.example.com/hook")
    monkeypatch.setenv("WEBHOOK_SECRET_TOKEN", "has spaces and a s3cr3t!")
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert str(info.value).startswith("WEBHOOK_SECRET_TOKEN")
    assert "s3cr3t" not in str(info.value)


def test_names_are_not_case_sensitive_and_numbers_are_checked(monkeypatch):
    monkeypatch.setenv("telegram_bot_token", "1:abc")
    monkeypatch.setenv("flood_per_minute", "0")
    with pytest.raises(SettingsError, match=r"^FLOOD_PER_MINUTE: must be greater than 0"):
        load_settings()
    monkeypatch.setenv("flood_per_minute", "30.5")
    monkeypatch.setenv("Log_Level", "debug")
    s = load_settings()
    assert s.flood_per_minute == 30.5 and s.log_level == "DEBUG"
