"""No secret ever reaches the log, at DEBUG, through cards, errors and crashes.

The platform credentials are replaced by distinctive values the sandbox then accepts
(it reads SANDBOX_CREDENTIALS per request), so a leak of any of them is unmistakable.
"""

from __future__ import annotations

import io
import logging
import os
import re
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.app import build_application
from bot.config import load_settings
from bot.logs import RedactingFormatter, secret_values, setup_logging
from bot.services import build_services
from sandbox import core
from sandbox.botapi import BotApiEmulator
from sandbox.core import Fault
from sandbox.server import Sandbox
from tests.conftest import (
    E2E_TIERS,
    ROOMY_FLOOD_BURST,
    BotEnv,
    SettledClock,
    SettledLimiter,
    run_python,
)

REPO = Path(__file__).resolve().parent.parent
TELEGRAM_TOKEN = "424242424:SECRET-tg-Zq8vK3mW9pL2xR7nB5cT"
FAKE_CREDENTIALS = {
    "anjuke": {"key": "AKEY-q8Zr2LmX7vP4", "secret": "ASECRET-w3Nf9KcH1jYd"},
    "anjuke_open": {"app_id": "73519046", "secret": "OSECRET-t6Gb2VxQ8mRs"},
    "beike": {"token": "BTOKEN-p5Hn7WzL3kCe"},
    "xianyu": {"app_key": "XKEY-r4Jd8YuM2nFa", "secret": "XSECRET-v9Ke3TsB6qLw"},
    "aihuishou": {"app_id": "AHS-ID-b2Xc7NmQ4zPk", "secret": "HSECRET-y1Wd5RgJ8hVu"},
}
ALL_SECRETS = [TELEGRAM_TOKEN, TELEGRAM_TOKEN.split(":", 1)[1]] + [
    value for creds in FAKE_CREDENTIALS.values() for value in creds.values()
]


@pytest.fixture
def fake_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for platform, creds in FAKE_CREDENTIALS.items():
        monkeypatch.setitem(core.SANDBOX_CREDENTIALS, platform, dict(creds))


@pytest.fixture
def captured_log() -> Iterator[io.StringIO]:
    """The root logger as setup_logging leaves it, restored afterwards."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    noisy = {
        name: logging.getLogger(name).level for name in ("httpx", "httpcore", "aiohttp.access")
    }
    stream = io.StringIO()
    yield stream
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in saved[0]:
        root.addHandler(handler)
    root.setLevel(saved[1])
    for name, level in noisy.items():
        logging.getLogger(name).setLevel(level)


@pytest.fixture
async def logged_env(
    tmp_path: Path, fake_credentials: None, captured_log: io.StringIO
) -> AsyncIterator[BotEnv]:
    """As conftest's bot_env, with the distinctive token, logging from the very start."""
    clock = SettledClock()
    async with (
        Sandbox(clock=clock, tiers=E2E_TIERS) as sandbox,
        BotApiEmulator(token=TELEGRAM_TOKEN) as emulator,
    ):
        settings = load_settings(
            **{
                **sandbox.settings_overrides(),
                "telegram_api_url": emulator.base_url,
                "telegram_bot_token": TELEGRAM_TOKEN,
                "database_path": tmp_path / "bot.sqlite3",
                "log_level": "DEBUG",
                "flood_burst": ROOMY_FLOOD_BURST,  # no longer slowed by the pace: see conftest
            }
        )
        setup_logging(settings.log_level, secret_values(settings), stream=captured_log)
        services = build_services(settings, clock)
        # the bot's own limiter, its pace kept on the env's fake clock: its waits are logged
        # like the rest and cost no real time (on the wall clock each test took 11 s)
        limiter = SettledLimiter(clock)
        application = build_application(settings, services, rate_limiter=limiter)
        async with application:
            await application.start()
            await application.updater.start_polling(poll_interval=0.0, timeout=1)
            try:
                yield BotEnv(clock, sandbox, emulator, settings, services, application)
            finally:
                await application.updater.stop()
                await application.stop()


def leaks(text: str) -> list[str]:
    found = [s for s in ALL_SECRETS if s in text]
    found += re.findall(r"bot\d+:[^\s/*]+", text)
    found += [m for m in re.findall(r"(?:token|sign|secret|key)=[^&\s\"'*]+", text, re.IGNORECASE)]
    return found


async def drive(env: BotEnv) -> None:
    """Cards on every platform, every kind of error, a button, a short link and a crash."""
    user = env.user(3001, "zh-hans")
    await env.say(user, "https://bj.ke.com/ershoufang/101127449675.html")
    await env.say(user, "https://www.goofish.com/item?id=6987654321098")
    await env.say(user, "https://bj.anjuke.com/prop/view/A1234567890")
    [card] = await env.say(user, "【闲鱼】https://m.tb.cn/h.5abcDEF?tk=abc 「我在闲鱼发布了」")
    env.clock.advance(400)
    refresh = next(b["callback_data"] for b in card.buttons if b["callback_data"].startswith("r|"))
    await env.emulator.wait_for_callback_answer(await env.press(user, card, refresh))
    env.sandbox.state.inject("xianyu", Fault("http", status=500), times=3)
    await env.say(user, "https://www.goofish.com/item?id=712345678901")
    env.sandbox.state.inject("beike", Fault("code", code=100, msg="token invalid"))
    await env.say(user, "https://sh.ke.com/ershoufang/107108339402.html")
    env.sandbox.state.inject("anjuke", Fault("disconnect"))
    env.sandbox.state.inject("anjuke", Fault("malformed"))
    env.sandbox.state.inject("anjuke", Fault("code", status=401, code=29, msg="key 无效"))
    await env.say(user, "https://bj.anjuke.com/prop/view/A987654321")
    env.catalogue("xianyu").remove("734567890123")
    await env.say(user, "https://www.goofish.com/item?id=734567890123")
    # a crash inside a handler: the error handler logs the update with its traceback
    env.emulator.fail_next("sendMessage", 400, "Bad Request: can't parse entities")
    await env.say(user, "/start")


async def test_the_log_at_debug_holds_no_secret(
    logged_env: BotEnv, captured_log: io.StringIO
) -> None:
    await drive(logged_env)
    output = captured_log.getvalue()
    assert " DEBUG " in output and " ERROR " in output  # it did log, crash included
    assert "Traceback" in output
    assert leaks(output) == []


async def test_no_secret_even_with_http_libraries_logging_every_request(
    logged_env: BotEnv, captured_log: io.StringIO
) -> None:
    # someone debugging turns httpx up: its request lines carry the Bot API URL and the
    # Beike token in the query; the formatter still removes them
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    await drive(logged_env)
    output = captured_log.getvalue()
    assert "HTTP Request" in output
    assert leaks(output) == []


def test_running_without_a_token_names_the_variable_in_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    result = run_python(["-m", "bot"], tmp_path, env)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "TELEGRAM_BOT_TOKEN" in lines[0]
    assert "Traceback" not in result.stderr + result.stdout


# -- issue 10: personal data, file paths, crashes outside handlers -----------------------

PHONE, EMAIL = "13988888888", "k.wang@example.com"


def test_the_redactor_masks_real_bot_paths_only() -> None:
    formatter = RedactingFormatter("%(message)s")
    assert formatter.redact('File "/work/sandbox/botapi.py", line 3') == (
        'File "/work/sandbox/botapi.py", line 3'
    )
    assert formatter.redact("POST /bot424242:AAH-x_y/getMe") == "POST /bot***/getMe"
    assert formatter.redact("GET /file/bot424242:AAH-x_y/p.jpg") == "GET /file/bot***/p.jpg"


@pytest.mark.parametrize("level", ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"])
def test_phones_and_emails_are_masked_at_every_level(captured_log: io.StringIO, level: str) -> None:
    setup_logging("DEBUG", [], stream=captured_log)
    logging.getLogger("handlers.account").log(
        getattr(logging, level), "linking %s or %s (id 712345678901)", PHONE, EMAIL
    )
    output = captured_log.getvalue()
    assert f" {level} " in output
    assert PHONE not in output and EMAIL not in output
    assert "139****8888" in output and "***@example.com" in output
    assert "712345678901" in output  # a listing ID is no phone number


async def test_link_with_a_phone_or_email_never_reaches_the_log_even_when_it_crashes(
    logged_env: BotEnv, captured_log: io.StringIO
) -> None:
    user = logged_env.user(3002)
    emulator = logged_env.emulator
    await logged_env.say(user, f"/link {EMAIL}")
    await emulator.send_contact(user, "86" + PHONE)  # the verified phone: a look-up, a reply
    await emulator.wait_for_messages(user.id, len(logged_env.messages(user.id)) + 1)
    await logged_env.say(user, f"/link {PHONE}")
    emulator.fail_next("sendMessage", 400, "Bad Request: can't parse entities")
    before = len(logged_env.messages(user.id))
    await emulator.send_contact(user, "86" + PHONE)  # the crash: the error handler logs it
    await emulator.wait_for_messages(user.id, before + 1)  # "something went wrong"
    output = captured_log.getvalue()
    assert " DEBUG " in output and "unhandled error while handling update" in output
    assert PHONE not in output and EMAIL not in output
    assert leaks(output) == []


def test_an_uncaught_exception_goes_through_the_redactor(tmp_path: Path) -> None:
    code = (
        "from bot.logs import setup_logging\n"
        f"setup_logging('INFO', [{TELEGRAM_TOKEN!r}])\n"
        f"raise RuntimeError('boom ' + {TELEGRAM_TOKEN!r} + ' {PHONE}')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = run_python(["-c", code], tmp_path, env)
    assert result.returncode == 1
    assert "CRITICAL bot.crash: uncaught RuntimeError" in result.stderr
    assert "Traceback" in result.stderr  # the traceback is there, redacted
    assert TELEGRAM_TOKEN not in result.stderr and PHONE not in result.stderr


def test_the_asyncio_exception_handler_logs_through_the_redactor(
    captured_log: io.StringIO,
) -> None:
    from bot.logs import log_loop_exception

    setup_logging("INFO", [TELEGRAM_TOKEN], stream=captured_log)
    try:
        raise ValueError(f"lost task {TELEGRAM_TOKEN} {EMAIL}")
    except ValueError as exc:
        error = exc
    log_loop_exception(None, {"message": "Task exception was never retrieved", "exception": error})  # type: ignore[arg-type]
    output = captured_log.getvalue()
    assert "ERROR bot.crash: asyncio: Task exception was never retrieved" in output
    assert "ValueError" in output
    assert TELEGRAM_TOKEN not in output and EMAIL not in output


async def test_a_token_telegram_rejects_stops_the_bot_in_one_line_without_printing_it(
    tmp_path: Path,
) -> None:
    import asyncio

    async with BotApiEmulator(token="111:the-right-token-xxxxxxxxxxxxxx") as emulator:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
        env |= {
            "PYTHONPATH": str(REPO),
            "TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
            "TELEGRAM_API_URL": emulator.base_url,
            "DATABASE_PATH": str(tmp_path / "bot.sqlite3"),
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            cwd=tmp_path,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    output = (out + err).decode()
    assert process.returncode == 4
    # (the database's migration lines are logged before; the error is one line, no traceback)
    errors = [line for line in output.splitlines() if "error" in line.lower()]
    assert errors == ["error: Telegram rejected TELEGRAM_BOT_TOKEN (check it with @BotFather)"]
    assert "Traceback" not in output
    assert TELEGRAM_TOKEN.split(":", 1)[1] not in output
