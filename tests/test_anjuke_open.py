"""Anjuke open API user accounts: signature, register, get-info and error mapping."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator

import httpx
import pytest

from bot.config import load_settings
from clients.anjuke_open import AnjukeOpenClient, sign
from clients.base import Limits, PlatformConfig
from clients.errors import (
    AccountExists,
    BadRequest,
    NotFound,
    NotPermitted,
    PlatformError,
    Transient,
)
from clients.models import AnjukeUser
from clock import FakeClock
from sandbox.anjuke_open import USERS
from sandbox.core import Fault
from sandbox.server import Sandbox


def md5_hex(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


# -- signature ------------------------------------------------------------------------------


def test_signature_of_the_seed_get_info_example() -> None:
    params = {
        "app_id": "10001",
        "timestamp": "1442888568",
        "format": "json",
        "account": "13988888888",
        "type": "phone",
    }

    expected = md5_hex(
        "account=13988888888app_id=10001format=jsontimestamp=1442888568type=phone" + "secret_key"
    )
    assert sign(params, "secret_key") == expected


def test_signature_leaves_out_sign_and_empty_values_and_keeps_raw_values() -> None:
    params = {
        "app_id": "10001",
        "timestamp": "1442888568",
        "format": "json",
        "name": "肯",
        "email": "ken@anjuke.com",
        "phone": "",
        "password": "a&b=c",
        "sign": "5cefc3438fbf787875ffec6cd596346d",
    }

    expected = md5_hex(
        "app_id=10001email=ken@anjuke.comformat=jsonname=肯password=a&b=ctimestamp=1442888568" + "s"
    )
    assert sign(params, "s") == expected


async def test_open_api_has_no_tier_limits() -> None:
    async with httpx.AsyncClient() as http:
        client = AnjukeOpenClient(http, PlatformConfig("http://x/site/"), FakeClock())

    assert AnjukeOpenClient.TIERS == {}
    assert client.limits == Limits()


# -- against the sandbox --------------------------------------------------------------------


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox(clock=FakeClock()) as sb:
        yield sb


def open_config(sandbox: Sandbox, **changes: object) -> PlatformConfig:
    overrides = {**sandbox.settings_overrides(), **changes}
    return load_settings(require_token=False, **overrides).anjuke_open()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def client(sandbox: Sandbox, http: httpx.AsyncClient) -> AnjukeOpenClient:
    return AnjukeOpenClient(http, open_config(sandbox), sandbox.state.clock)


@pytest.mark.parametrize(
    ("account", "account_type"),
    [("13988888888", "phone"), ("ken@anjuke.com", "email"), ("17895896", "id")],
)
async def test_seeded_user_is_found_by_phone_email_or_id(
    client: AnjukeOpenClient, account: str, account_type: str
) -> None:
    user = await client.get_info(account, account_type)

    assert user == AnjukeUser("17895896", "ken", "13988888888", "ken@anjuke.com")


async def test_request_is_signed_with_app_id_and_timestamp_and_never_the_secret(
    sandbox: Sandbox,
) -> None:
    sent: list[httpx.Request] = []

    async def remember(request: httpx.Request) -> None:
        sent.append(request)

    async with httpx.AsyncClient(event_hooks={"request": [remember]}) as http:
        client = AnjukeOpenClient(http, open_config(sandbox), sandbox.state.clock)
        await client.get_info("13988888888", "phone")

    url = sent[0].url
    query = dict(url.params)
    assert url.path == "/site/v1/user/get-info/"
    assert query["app_id"] == "10001"
    assert query["timestamp"] == str(int(sandbox.state.clock.time()))
    assert query["format"] == "json"
    assert query["sign"] == md5_hex(
        f"account=13988888888app_id=10001format=jsontimestamp={query['timestamp']}type=phone"
        + "sandbox-open-secret"
    )
    assert "sandbox-open-secret" not in str(url)


async def test_hostile_user_name_comes_through_unchanged(client: AnjukeOpenClient) -> None:
    user = await client.get_info("17895002", "id")

    assert user.name == "<b>Lily</b> & 🏠"
    assert user.phone is None


async def test_unknown_user_is_not_found(client: AnjukeOpenClient) -> None:
    with pytest.raises(NotFound) as caught:
        await client.get_info("13000000000", "phone")

    assert caught.value.code == 1011


async def test_unknown_account_type_is_refused_without_a_call(
    sandbox: Sandbox, client: AnjukeOpenClient
) -> None:
    with pytest.raises(BadRequest):
        await client.get_info("ken", "name")

    assert sandbox.state.counters["anjuke_open"].calls == 0


async def test_registered_user_can_be_looked_up(sandbox: Sandbox, client: AnjukeOpenClient) -> None:
    user_id = await client.register(name="小李", phone="13611112222", email="li@example.com")

    assert user_id == "17895897"
    user = await client.get_info(user_id, "id")
    assert user == AnjukeUser(user_id, "小李", "13611112222", "li@example.com")
    assert sandbox.app[USERS].users[17895897].password  # made up by the platform


async def test_register_with_only_an_email_gets_a_made_up_name(client: AnjukeOpenClient) -> None:
    user_id = await client.register(email="solo@example.com")

    user = await client.get_info("solo@example.com", "email")
    assert user.user_id == user_id
    assert user.name


async def test_register_without_name_phone_or_email_is_refused_without_a_call(
    sandbox: Sandbox, client: AnjukeOpenClient
) -> None:
    with pytest.raises(BadRequest):
        await client.register(password="only-a-password")

    assert sandbox.state.counters["anjuke_open"].calls == 0


async def test_taken_phone_is_reported_with_its_field(client: AnjukeOpenClient) -> None:
    with pytest.raises(AccountExists) as caught:
        await client.register(name="new", phone="13988888888")

    assert caught.value.field == "phone"
    assert caught.value.code == 1001


async def test_taken_email_is_reported_with_its_field(client: AnjukeOpenClient) -> None:
    with pytest.raises(AccountExists) as caught:
        await client.register(name="new", email="ken@anjuke.com")

    assert caught.value.field == "email"
    assert caught.value.code == 1002


async def test_malformed_phone_is_a_bad_request(client: AnjukeOpenClient) -> None:
    with pytest.raises(BadRequest) as caught:
        await client.register(phone="12345")

    assert type(caught.value) is BadRequest
    assert caught.value.code == 400


async def test_wrong_secret_is_not_permitted(sandbox: Sandbox, http: httpx.AsyncClient) -> None:
    client = AnjukeOpenClient(
        http, open_config(sandbox, anjuke_open_secret="wrong"), sandbox.state.clock
    )

    with pytest.raises(NotPermitted) as caught:
        await client.get_info("13988888888", "phone")

    assert caught.value.code == 401
    assert "wrong" not in str(caught.value)


async def test_unknown_app_id_is_not_permitted(sandbox: Sandbox, http: httpx.AsyncClient) -> None:
    client = AnjukeOpenClient(
        http, open_config(sandbox, anjuke_open_app_id="99999"), sandbox.state.clock
    )

    with pytest.raises(NotPermitted):
        await client.get_info("13988888888", "phone")


@pytest.mark.parametrize("skew", [-601, 601])
async def test_timestamp_more_than_ten_minutes_off_is_refused(
    sandbox: Sandbox, http: httpx.AsyncClient, skew: float
) -> None:
    client_clock = FakeClock(start=sandbox.state.clock.time() + skew)
    client = AnjukeOpenClient(http, open_config(sandbox), client_clock)

    with pytest.raises(NotPermitted) as caught:
        await client.get_info("13988888888", "phone")

    assert caught.value.code == 401


@pytest.mark.parametrize("skew", [-590, 590])
async def test_timestamp_within_ten_minutes_is_accepted(
    sandbox: Sandbox, http: httpx.AsyncClient, skew: float
) -> None:
    client_clock = FakeClock(start=sandbox.state.clock.time() + skew)
    client = AnjukeOpenClient(http, open_config(sandbox), client_clock)

    assert (await client.get_info("13988888888", "phone")).user_id == "17895896"


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault("code", code=400, msg="参数错误"), BadRequest),
        (Fault("code", code=401, msg="没有权限，签名等验证失败"), NotPermitted),
        (Fault("code", code=403, msg="禁止访问，访问ip被禁止"), NotPermitted),
        (Fault("code", code=1000, msg="注册失败，重新尝试或联系管理员"), Transient),
        (Fault("code", code=1010, msg="获得信息失败，重新尝试或联系管理员"), Transient),
        (Fault("code", code=1011, msg="获得信息失败，用户不存在"), NotFound),
        (Fault("code", code=1001, msg="注册失败，手机号已经存在"), AccountExists),
        (Fault("code", code=1002, msg="注册失败，邮箱已经存在"), AccountExists),
        (Fault("code", code=9999, msg="unknown"), Transient),
        (Fault("http", status=400), BadRequest),
        (Fault("http", status=401), NotPermitted),
        (Fault("http", status=403), NotPermitted),
        (Fault("http", status=500), Transient),
        (Fault("http", status=503), Transient),
        (Fault("malformed"), Transient),
        (Fault("disconnect"), Transient),
    ],
)
async def test_platform_errors_are_mapped(
    sandbox: Sandbox, client: AnjukeOpenClient, fault: Fault, error: type[PlatformError]
) -> None:
    sandbox.state.inject("anjuke_open", fault)

    with pytest.raises(error) as caught:
        await client.get_info("13988888888", "phone")

    assert type(caught.value) is error
    if fault.kind == "code":
        assert caught.value.code == fault.code
        assert caught.value.platform_message == fault.msg
    if fault.kind == "http":
        assert caught.value.http_status == fault.status


async def test_register_errors_are_mapped_too(sandbox: Sandbox, client: AnjukeOpenClient) -> None:
    sandbox.state.inject("anjuke_open", Fault("code", code=1000, msg="注册失败，重新尝试"))

    with pytest.raises(Transient):
        await client.register(phone="13600000000")
    # the failed attempt registered nothing: the same phone can be registered now
    assert await client.register(phone="13600000000")


async def test_timeout_is_transient(sandbox: Sandbox) -> None:
    sandbox.state.inject("anjuke_open", Fault("timeout", delay=1.0))

    async with httpx.AsyncClient(timeout=0.2) as http:
        client = AnjukeOpenClient(http, open_config(sandbox), sandbox.state.clock)
        with pytest.raises(Transient):
            await client.get_info("13988888888", "phone")
