"""`python -m bot check`: one call per platform, one table, every refusal explained.

The CLI runs in a real child process (`run_python`), against the sandbox platforms and
the Bot API emulator served from this test's event loop on 127.0.0.1. Each credential is
broken in turn and the line that explains it is checked, with distinctive secrets that
must never reach stdout or stderr.
"""

from __future__ import annotations

import asyncio
import io
import os
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from clock import SystemClock, china_day
from sandbox.botapi import BotApiEmulator
from sandbox.core import SANDBOX_CREDENTIALS, Fault
from sandbox.server import Sandbox
from storage.database import Database
from tests.conftest import run_python

REPO = Path(__file__).resolve().parent.parent
TOKEN = "424242424:SECRET-tg-Zq8vK3mW9pL2xR7nB5cT"
#: distinctive credentials the sandbox is told to accept (none may ever be printed)
GOOD = {
    "anjuke": {"key": "AKEY-q8Zr2LmX7vP4", "secret": "ASECRET-w3Nf9KcH1jYd"},
    "anjuke_open": {"app_id": "73519046", "secret": "OSECRET-t6Gb2VxQ8mRs"},
    "beike": {"token": "BTOKEN-p5Hn7WzL3kCe"},
    "xianyu": {"app_key": "XKEY-r4Jd8YuM2nFa", "secret": "XSECRET-v9Ke3TsB6qLw"},
    "aihuishou": {"app_id": "AHS-ID-b2Xc7NmQ4zPk", "secret": "HSECRET-y1Wd5RgJ8hVu"},
}
#: wrong ones, as distinctive
WRONG = {
    "ANJUKE_KEY": "AKEY-WRONG-h2Vb9QxT",
    "ANJUKE_SECRET": "ASECRET-WRONG-k7Lm3PzR",
    "ANJUKE_OPEN_APP_ID": "99887766",
    "ANJUKE_OPEN_SECRET": "OSECRET-WRONG-c4Nd8WqY",
    "BEIKE_TOKEN": "BTOKEN-WRONG-f6Gj2ReU",
    "XIANYU_APP_KEY": "XKEY-WRONG-m1Sx5TbK",
    "XIANYU_APP_SECRET": "XSECRET-WRONG-p9Hc4VnE",
    "AIHUISHOU_APP_ID": "AHS-ID-WRONG-z3Fq7LwD",
    "AIHUISHOU_APP_SECRET": "HSECRET-WRONG-u8Ry2MkG",
    "TELEGRAM_BOT_TOKEN": "434343434:SECRET-WRONG-tg-Jh5Pw8Kd",
}
SECRETS = [TOKEN, *(v for creds in GOOD.values() for v in creds.values()), *WRONG.values()]
PLATFORMS = ("anjuke", "beike", "xianyu", "aihuishou", "anjuke_open")
LABELS = {
    "anjuke": "Anjuke ",
    "beike": "Beike ",
    "xianyu": "Xianyu ",
    "aihuishou": "Aihuishou ",
    "anjuke_open": "Anjuke open API ",
    "telegram": "Telegram ",
}


class ClockAhead(SystemClock):
    """The platforms' clock, `seconds` ahead of this machine's."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def time(self) -> float:
        return time.time() + self.seconds


@pytest.fixture
def sandbox_accepts_distinctive_credentials(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for platform, creds in GOOD.items():
        for name, value in creds.items():
            monkeypatch.setitem(SANDBOX_CREDENTIALS[platform], name, value)
    yield


def settings_env(
    sandbox: Sandbox, emulator: BotApiEmulator, database: Path, **env: str
) -> dict[str, str]:
    """The environment an operator sets: every platform on the sandbox, good credentials."""
    base = sandbox.base_url
    settings = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": emulator.base_url,
        "DATABASE_PATH": str(database),
        "ANJUKE_API_URL": f"{base}/anjuke/item_get",
        "ANJUKE_KEY": GOOD["anjuke"]["key"],
        "ANJUKE_SECRET": GOOD["anjuke"]["secret"],
        "ANJUKE_TIER": sandbox.state.tiers["anjuke"],
        "ANJUKE_OPEN_API_URL": f"{base}/site/",
        "ANJUKE_OPEN_APP_ID": GOOD["anjuke_open"]["app_id"],
        "ANJUKE_OPEN_SECRET": GOOD["anjuke_open"]["secret"],
        "BEIKE_API_URL": base,
        "BEIKE_TOKEN": GOOD["beike"]["token"],
        "XIANYU_API_URL": f"{base}/router/rest",
        "XIANYU_APP_KEY": GOOD["xianyu"]["app_key"],
        "XIANYU_APP_SECRET": GOOD["xianyu"]["secret"],
        "XIANYU_TIER": sandbox.state.tiers["xianyu"],
        "AIHUISHOU_API_URL": f"{base}/api/v2/item_get_inquir",
        "AIHUISHOU_APP_ID": GOOD["aihuishou"]["app_id"],
        "AIHUISHOU_APP_SECRET": GOOD["aihuishou"]["secret"],
        "AIHUISHOU_TIER": sandbox.state.tiers["aihuishou"],
    }
    return {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(REPO), **settings, **env}


async def run_check(
    tmp_path: Path, env: dict[str, str], *args: str
) -> subprocess.CompletedProcess[str]:
    # the sandbox and emulator answer from this event loop: the child is waited for in a thread
    return await asyncio.to_thread(run_python, ["-m", "bot", "check", *args], tmp_path, env)


def table(result: subprocess.CompletedProcess[str]) -> dict[str, str]:
    """The table's row per platform (and Telegram), by platform id."""
    rows: dict[str, str] = {}
    for line in result.stdout.splitlines()[2:]:
        for platform, label in LABELS.items():
            if line.startswith(label) and not (platform == "anjuke" and "open API" in line):
                rows[platform] = line
    return rows


def assert_no_secret(result: subprocess.CompletedProcess[str]) -> None:
    output = result.stdout + result.stderr
    for secret in SECRETS:
        assert secret not in output, f"a secret was printed: {secret}"
    assert "Traceback" not in output


def quota_used(database: Path) -> dict[str, int]:
    with sqlite3.connect(database) as conn:
        rows = conn.execute("SELECT platform, used FROM quota_usage").fetchall()
    return dict(rows)


async def test_check_demo_passes_with_one_table(tmp_path: Path) -> None:
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(REPO)}
    result = await run_check(tmp_path, env, "--demo")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "This check makes 1 call per platform (6 in all: Telegram getMe and 5 platforms) "
        "and counts against today's quota."
    )
    assert lines[1].split()[:3] == ["platform", "reachable", "credentials"]
    rows = table(result)
    assert set(rows) == {*PLATFORMS, "telegram"}
    assert "ok: @sandbox_bot" in rows["telegram"]
    for platform in PLATFORMS:
        assert "  yes  " in rows[platform] and "accepted" in rows[platform], rows[platform]
        assert "  ok: " in rows[platform], rows[platform]
    assert len(lines) == 2 + 6  # the spending line, the header, one row each: nothing else


async def test_good_credentials_pass_with_one_call_each_counted_in_the_quota_ledger(
    tmp_path: Path, sandbox_accepts_distinctive_credentials: None
) -> None:
    database = tmp_path / "bot.sqlite3"
    async with Sandbox() as sandbox, BotApiEmulator(token=TOKEN) as emulator:
        result = await run_check(tmp_path, settings_env(sandbox, emulator, database))
        calls = {p: sandbox.state.counters[p].calls for p in PLATFORMS}
        get_me = [call for call in emulator.calls if call.method == "getMe"]
    assert result.returncode == 0, result.stdout + result.stderr
    assert_no_secret(result)
    assert calls == dict.fromkeys(PLATFORMS, 1)
    assert len(get_me) == 1
    rows = table(result)
    assert "personal" in rows["anjuke"] and "49 of 50" in rows["anjuke"]
    assert "99 of 100" in rows["xianyu"] and "99 of 100" in rows["aihuishou"]
    assert "no daily number" in rows["beike"]
    # the platform counted each call, so the bot's ledger does too
    assert quota_used(database) == dict.fromkeys(PLATFORMS, 1)


async def refused_rows(tmp_path: Path, *wrong: str) -> dict[str, str]:
    """The check's table rows with the settings `wrong` given values the platforms
    refuse: it must fail (exit 1) and show no secret."""
    async with Sandbox() as sandbox, BotApiEmulator(token=TOKEN) as emulator:
        env = settings_env(
            sandbox, emulator, tmp_path / "bot.sqlite3", **{n: WRONG[n] for n in wrong}
        )
        result = await run_check(tmp_path, env)
    assert result.returncode == 1
    assert_no_secret(result)
    return table(result)


async def test_wrong_keys_and_token_are_each_explained(
    tmp_path: Path, sandbox_accepts_distinctive_credentials: None
) -> None:
    rows = await refused_rows(
        tmp_path,
        "ANJUKE_KEY",
        "ANJUKE_OPEN_APP_ID",
        "BEIKE_TOKEN",
        "XIANYU_APP_KEY",
        "AIHUISHOU_APP_ID",
        "TELEGRAM_BOT_TOKEN",
    )
    assert "refused" in rows["telegram"] and "TELEGRAM_BOT_TOKEN" in rows["telegram"]
    expected = {
        "anjuke": ("wrong key", "ANJUKE_KEY", "签名验证失败(401): key/secret 错误或过期"),
        "anjuke_open": ("wrong app_id", "ANJUKE_OPEN_APP_ID", "401: 没有权限，签名等验证失败"),
        "beike": ("wrong token", "BEIKE_TOKEN", "100: Invalid or Inactive Token"),
        "xianyu": ("wrong app key", "XIANYU_APP_KEY", "签名验证失败(401): app_key/app_secret 错误"),
        "aihuishou": (
            "wrong app_id",
            "AIHUISHOU_APP_ID",
            "401 Unauthorized: app_id/app_secret 错误",
        ),
    }
    for platform, words in expected.items():
        assert "  refused  " in rows[platform], rows[platform]
        for word in words:
            assert word in rows[platform], (word, rows[platform])


async def test_wrong_secrets_are_each_explained(
    tmp_path: Path, sandbox_accepts_distinctive_credentials: None
) -> None:
    rows = await refused_rows(
        tmp_path,
        "ANJUKE_SECRET",
        "ANJUKE_OPEN_SECRET",
        "XIANYU_APP_SECRET",
        "AIHUISHOU_APP_SECRET",
    )
    for platform, setting in {
        "anjuke": "ANJUKE_SECRET",
        "anjuke_open": "ANJUKE_OPEN_SECRET",
        "xianyu": "XIANYU_APP_SECRET",
        "aihuishou": "AIHUISHOU_APP_SECRET",
    }.items():
        assert "  refused  " in rows[platform], rows[platform]
        assert "signature refused" in rows[platform] and setting in rows[platform]
    assert "ok: " in rows["beike"] and "ok: @" in rows["telegram"]


async def test_a_clock_skewed_past_each_seeds_tolerance_is_explained(
    tmp_path: Path, sandbox_accepts_distinctive_credentials: None
) -> None:
    # the platforms' clock is 11 minutes ahead of ours: past Xianyu's and Aihuishou's 5
    # minutes and the open API's 10; Anjuke and Beike send no timestamp
    async with Sandbox(clock=ClockAhead(660)) as sandbox, BotApiEmulator(token=TOKEN) as emulator:
        result = await run_check(tmp_path, settings_env(sandbox, emulator, tmp_path / "b.sqlite3"))
    assert result.returncode == 1
    assert_no_secret(result)
    rows = table(result)
    for platform, seed in {
        "xianyu": "时间戳有效期为 5 分钟,超出则签名失效",
        "aihuishou": "timestamp 偏差 > 5 分钟",
        "anjuke_open": "API服务端允许客户端请求时间误差为10分钟",
    }.items():
        assert "clock skew" in rows[platform] and seed in rows[platform], rows[platform]
        assert "  refused  " in rows[platform]
    assert "ok: " in rows["anjuke"] and "ok: " in rows["beike"]


async def test_permission_and_quota_refusals_are_each_explained(
    tmp_path: Path, sandbox_accepts_distinctive_credentials: None
) -> None:
    database = tmp_path / "bot.sqlite3"
    async with Sandbox() as sandbox, BotApiEmulator(token=TOKEN) as emulator:
        state = sandbox.state
        # the platforms' own count says the day is spent (ours does not know yet)
        state.counters["anjuke"].by_day[state.day()] = 50
        state.counters["xianyu"].by_day[state.day()] = 100
        # an account or tier without the permission: the seeds' documented answers
        state.inject("beike", Fault("code", code=600, msg="Permission Denied"))
        state.inject("aihuishou", Fault("code", status=403, code=403, msg="权限不足"))
        state.inject("anjuke_open", Fault("code", code=403, msg="禁止访问，访问ip被禁止"))
        result = await run_check(tmp_path, settings_env(sandbox, emulator, database))
    assert result.returncode == 1
    assert_no_secret(result)
    rows = table(result)
    for platform, words in {
        "anjuke": ("daily quota used up", "日调用上限", "0 of 50"),
        "xianyu": ("daily quota used up", "日调用上限", "0 of 100"),
        "beike": ("no permission", "600: Permission Denied"),
        "aihuishou": ("no permission", "403 Forbidden: 权限不足"),
        "anjuke_open": ("no permission", "403: 禁止访问，访问ip被禁止"),
    }.items():
        for word in words:
            assert word in rows[platform], (word, rows[platform])
        assert "  yes  " in rows[platform]
    # the bot's ledger now knows the platforms' word: no call today would be answered
    with sqlite3.connect(database) as conn:
        spent = dict(conn.execute("SELECT platform, exhausted FROM quota_usage").fetchall())
    assert spent["anjuke"] == 1 and spent["xianyu"] == 1


async def test_a_day_our_ledger_says_is_spent_makes_no_call_and_off_platforms_are_listed(
    tmp_path: Path, sandbox_accepts_distinctive_credentials: None
) -> None:
    database = tmp_path / "bot.sqlite3"
    store = Database(database)
    store.db.execute(
        "INSERT INTO quota_usage (platform, day, used, exhausted) VALUES ('anjuke', ?, 50, 0)",
        [china_day(SystemClock())],
    )
    store.close()
    async with Sandbox() as sandbox, BotApiEmulator(token=TOKEN) as emulator:
        env = settings_env(sandbox, emulator, database, BEIKE_TOKEN="", AIHUISHOU_APP_SECRET="")
        env["XIANYU_API_URL"] = "http://127.0.0.1:9/router/rest"  # nothing listens there
        result = await run_check(tmp_path, env)
        anjuke_calls = sandbox.state.counters["anjuke"].calls
    assert result.returncode == 1
    assert_no_secret(result)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("This check makes 1 call per platform (4 in all:")
    rows = table(result)
    assert anjuke_calls == 0
    assert "not called" in rows["anjuke"] and "daily quota used up" in rows["anjuke"]
    assert "off: no credentials" in rows["beike"] and "off: no credentials" in rows["aihuishou"]
    assert "unreachable" in rows["xianyu"] and "  no  " in rows["xianyu"]
    assert "ok: " in rows["anjuke_open"]


async def test_a_probe_that_fails_in_our_own_code_spoils_only_its_row(
    tmp_path: Path,
    sandbox_accepts_distinctive_credentials: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bot.check import run_check as check
    from bot.config import load_settings
    from clients.xianyu import XianyuClient

    async def broken(self: XianyuClient) -> str:
        raise RuntimeError("a bug reading the answer")

    monkeypatch.setattr(XianyuClient, "probe_call", broken)
    async with Sandbox() as sandbox, BotApiEmulator(token=TOKEN) as emulator:
        env = settings_env(sandbox, emulator, tmp_path / "bot.sqlite3")
        settings = load_settings(
            **{k.lower(): v for k, v in env.items() if k not in ("PATH", "PYTHONPATH")}
        )
        out = io.StringIO()
        code = await check(settings, out=out)
    assert code == 1
    result = subprocess.CompletedProcess([], code, out.getvalue(), "")
    rows = table(result)
    assert "check failed: RuntimeError" in rows["xianyu"]
    assert all("ok: " in rows[p] for p in PLATFORMS if p != "xianyu")


@pytest.mark.parametrize(
    ("platform", "status", "code", "message", "cause", "accepted"),
    [
        # the seeds' own words, whatever the sandbox says
        ("anjuke", 401, None, "签名验证失败", "wrong secret", False),
        ("anjuke", 401, 29, "key 无效或已过期", "wrong key", False),
        ("anjuke", 200, None, "签名验证失败", "wrong secret", False),
        ("anjuke", 403, None, "未申请anjuke.item.get接口权限", "no permission", None),
        ("anjuke", 400, None, "房源不存在", None, True),
        ("xianyu", 401, 32, "isv.timestamp-expired 时间戳已过期", "clock skew", False),
        ("xianyu", 403, 11, "IP 不在白名单", "no permission", None),
        ("aihuishou", 400, 400, "timestamp 偏差超过5分钟", "clock skew", False),
        ("aihuishou", 404, 404, "型号未收录", None, True),
        ("aihuishou", 403, 403, "配额耗尽", "daily quota used up", None),
        ("beike", 200, 601, "Insufficient Balance", "no balance left", None),
        ("beike", 200, 100, "Invalid or Inactive Token", "wrong token", False),
        ("anjuke_open", 200, 401, "没有权限，签名等验证失败", "wrong secret", False),
        ("anjuke_open", 200, 1011, "获得信息失败，用户不存在", None, True),
    ],
)
def test_each_documented_answer_reads_as_its_meaning(
    platform: str,
    status: int,
    code: int | None,
    message: str,
    cause: str | None,
    accepted: bool | None,
) -> None:
    import httpx

    from clients.registry import build_clients

    # built switched off, with an HTTP client never used: only the answer is read
    client = build_clients({}, httpx.AsyncClient(), SystemClock())[platform]
    result = client.probe_result(client.error_for(status, code, message))
    assert result.accepted is accepted
    if cause is None:
        assert result.refusal is None and result.ok
    else:
        assert result.refusal is not None and result.refusal.cause.startswith(cause)
        assert not result.ok
