"""Simulated Anjuke open API user accounts: `GET /site/v1/user/register/` and `.../get-info/`.

Checks, in order: injected faults; `app_id` (401); `timestamp` within 10 minutes of the
sandbox clock either way (401); `sign` recomputed with the secret (401); then the
call's own parameters (400). Register refuses a taken phone (1001) or email (1002) and
makes up a missing password, and a name when it is missing or taken (as the seed says);
get-info answers 1011 for an unknown account. Every answer is HTTP 200 with the code
in the body, as the seed's examples show; `Fault("http", status=...)` gives other
statuses, `Fault("code", code=1000|1010|403...)` the platform's other codes.

The codes are the ones documented in `clients/anjuke_open.py`, written out here again
because this module plays the platform and must not take its answers from the client.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from sandbox.core import SANDBOX_CREDENTIALS, Fault, SandboxState, fault_answer

PLATFORM = "anjuke_open"
BASE_PATH = "/site/v1/user/"
TIMESTAMP_WINDOW_SECONDS = 10 * 60
PHONE = re.compile(r"1[3-9]\d{9}")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
FIRST_NEW_ID = 17895897


@dataclass
class User:
    user_id: int
    name: str
    phone: str
    email: str
    password: str


SEED_USERS: tuple[User, ...] = (
    User(17895896, "ken", "13988888888", "ken@anjuke.com", "anjuke2015"),
    User(17895001, "王小明", "13700001111", "xiaoming@example.com", "pw-xm"),
    User(17895002, "<b>Lily</b> & 🏠", "", "lily@example.com", "pw-lily"),
)


class UserTable:
    """The sandbox's accounts, in memory."""

    def __init__(self, users: tuple[User, ...] = SEED_USERS) -> None:
        self.users: dict[int, User] = {u.user_id: User(**vars(u)) for u in users}
        self._next_id = FIRST_NEW_ID

    def find(self, account: str, account_type: str) -> User | None:
        for user in self.users.values():
            if account_type == "id" and str(user.user_id) == account:
                return user
            if account_type == "phone" and user.phone and user.phone == account:
                return user
            if account_type == "email" and user.email and user.email.lower() == account.lower():
                return user
        return None

    def add(self, name: str, phone: str, email: str, password: str) -> User:
        user_id = self._next_id
        self._next_id += 1
        if not name or any(u.name == name for u in self.users.values()):
            name = f"{name or 'ajk'}_{user_id}"  # the platform makes one up
        user = User(user_id, name, phone, email, password or f"auto-{user_id}")
        self.users[user_id] = user
        return user


#: where tests find the accounts: `sandbox.app[USERS]`
USERS: web.AppKey[UserTable] = web.AppKey("anjuke_open_users", UserTable)


def expected_sign(params: dict[str, str], secret: str) -> str:
    pairs = sorted((k, v) for k, v in params.items() if k != "sign" and v)
    return hashlib.md5(("".join(f"{k}={v}" for k, v in pairs) + secret).encode()).hexdigest()


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


Body = dict[str, Any]


def _error(code: int, msg: str) -> Body:
    return {"code": code, "msg": msg}


async def _fault_answer(request: web.Request, fault: Fault) -> web.StreamResponse | None:
    """The answer an injected fault gives instead of the real one (None: answer normally after it)."""
    return await fault_answer(
        request, fault, _fault_error, malformed_body="<html>502 Bad Gateway</html>"
    )


def _fault_error(fault: Fault) -> web.StreamResponse:
    code = fault.code if fault.code is not None else 1010
    return web.json_response(_error(int(code), fault.msg), status=fault.status, dumps=_dumps)


def _refusal(state: SandboxState, params: dict[str, str]) -> Body | None:
    credentials = SANDBOX_CREDENTIALS[PLATFORM]
    if params.get("app_id") != credentials["app_id"]:
        return _error(401, "没有权限，app_id 无效")
    timestamp = params.get("timestamp", "")
    if not re.fullmatch(r"\d{1,12}", timestamp) or (
        abs(state.clock.time() - int(timestamp)) > TIMESTAMP_WINDOW_SECONDS
    ):
        return _error(401, "没有权限，时间戳误差超过10分钟")
    if params.get("format", "json") != "json":
        return _error(400, "参数错误，format 暂只支持 json")
    if not hmac.compare_digest(
        params.get("sign", ""), expected_sign(params, credentials["secret"])
    ):
        return _error(401, "没有权限，签名验证失败")
    return None


def register(app: web.Application, state: SandboxState) -> None:
    table = UserTable()
    app[USERS] = table

    async def handle(request: web.Request) -> web.StreamResponse:
        counters = state.note_call(PLATFORM)
        fault = state.take_fault(PLATFORM)
        if fault is not None:
            answer = await _fault_answer(request, fault)
            if answer is not None:
                return answer
        params = dict(request.query.items())
        body = _refusal(state, params)
        if body is None:
            if request.match_info["action"] == "register":
                body = _register(table, params)
            else:
                body = _get_info(table, params)
        if body["code"] == 200:
            counters.ok += 1
        else:
            counters.rejected += 1
        return web.json_response(body, dumps=_dumps)

    app.router.add_get(BASE_PATH + "{action:register|get-info}/", handle)


def _register(table: UserTable, params: dict[str, str]) -> Body:
    name, phone, email = (params.get(k, "").strip() for k in ("name", "phone", "email"))
    if not (name or phone or email):
        return _error(400, "参数错误，name、phone、email 至少有一项必传")
    if phone and not PHONE.fullmatch(phone):
        return _error(400, "参数错误，手机号格式不正确")
    if email and not EMAIL.fullmatch(email):
        return _error(400, "参数错误，邮箱格式不正确")
    if phone and table.find(phone, "phone"):
        return _error(1001, "注册失败，手机号已经存在")
    if email and table.find(email, "email"):
        return _error(1002, "注册失败，邮箱已经存在")
    user = table.add(name, phone, email, params.get("password", ""))
    return {"code": 200, "id": user.user_id}


def _get_info(table: UserTable, params: dict[str, str]) -> Body:
    account, account_type = params.get("account", "").strip(), params.get("type", "")
    if not account or account_type not in ("email", "phone", "id"):
        return _error(400, "参数错误，account 和 type(email/phone/id) 必传")
    user = table.find(account, account_type)
    if user is None:
        return _error(1011, "获得信息失败，用户不存在")
    return {
        "code": 200,
        "id": user.user_id,
        "name": user.name,
        "phone": user.phone,
        "email": user.email,
    }
