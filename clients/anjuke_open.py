"""Anjuke open API (安居客开放API), user accounts: register and look up (CONTRACT 3.5).

Protocol (seed 004):
- `GET {ANJUKE_OPEN_API_URL}v1/user/get-info/` with `account` and `type` (`email` / `phone`
  / `id`), and `GET {ANJUKE_OPEN_API_URL}v1/user/register/` with `name`, `phone`, `email`,
  `password` (at least one of name, phone, email; the platform makes up a missing name or
  password). Every call also carries `app_id`, `timestamp` (Unix seconds; the server
  allows 10 minutes of difference), `format=json` and `sign`.
- `sign = lower(md5("k1=v1k2=v2..." + secret))`: every parameter except `sign` (empty
  values left out), as `name=value`, sorted by name (byte value), joined with nothing
  between them, the secret appended. The secret is never sent.
- Answers are JSON with `code`:

  | code | meaning | error |
  |---|---|---|
  | 200 | ok: get-info gives `id`, `name`, `phone`, `email`; register gives `id` | |
  | 400 | 参数错误 | BadRequest |
  | 401 | 没有权限，签名等验证失败 | NotPermitted |
  | 403 | 禁止访问，访问ip被禁止 | NotPermitted |
  | 1000 | 注册失败，重新尝试 | Transient |
  | 1001 | 注册失败，手机号已经存在 | AccountExists, `field = "phone"` |
  | 1002 | 注册失败，邮箱已经存在 | AccountExists, `field = "email"` |
  | 1010 | 获得信息失败，重新尝试 | Transient |
  | 1011 | 获得信息失败，用户不存在 | NotFound |

  The same codes may come as the HTTP status (400 / 401 / 403); a 5xx, a timeout or a
  body that is not JSON is Transient. An unknown code is Transient too: nothing says
  the call did what was asked.
- No published tiers or quotas (TIERS is empty). Account data is personal: never cached.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

from clients.base import ErrorMap, ErrorRule, Limits, PlatformClient
from clients.errors import (
    AccountExists,
    BadRequest,
    NotFound,
    NotPermitted,
    PlatformError,
    Transient,
)
from clients.models import AnjukeUser
from clients.probe import Refusal

log = logging.getLogger(__name__)

PLATFORM = "anjuke_open"
GET_INFO_PATH = "v1/user/get-info/"
REGISTER_PATH = "v1/user/register/"
ACCOUNT_TYPES = frozenset({"email", "phone", "id"})

CODE_OK = 200
CODE_BAD_PARAMETERS = 400
CODE_NOT_AUTHORISED = 401
CODE_IP_FORBIDDEN = 403
CODE_REGISTER_FAILED = 1000
CODE_PHONE_EXISTS = 1001
CODE_EMAIL_EXISTS = 1002
CODE_GET_INFO_FAILED = 1010
CODE_NO_SUCH_USER = 1011


def sign(params: Mapping[str, str], secret: str) -> str:
    """`lower(md5("name1=value1name2=value2..." + secret))` over the non-empty params but `sign`."""
    pairs = sorted(
        ((k, v) for k, v in params.items() if k != "sign" and v not in ("", None)),
        key=lambda pair: pair[0].encode(),
    )
    text = "".join(f"{k}={v}" for k, v in pairs) + secret
    return hashlib.md5(text.encode("utf-8")).hexdigest().lower()


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


#: the seed's codes (it documents no HTTP statuses beyond them)
ERRORS = ErrorMap(
    codes={
        CODE_BAD_PARAMETERS: (ErrorRule(BadRequest, "parameters refused"),),
        CODE_NOT_AUTHORISED: (ErrorRule(NotPermitted, "app id, signature or timestamp refused"),),
        CODE_IP_FORBIDDEN: (ErrorRule(NotPermitted, "access from this IP forbidden"),),
        CODE_REGISTER_FAILED: (ErrorRule(Transient, "platform failed, try again"),),
        CODE_PHONE_EXISTS: (ErrorRule(AccountExists, "phone already registered"),),
        CODE_EMAIL_EXISTS: (ErrorRule(AccountExists, "email already registered"),),
        CODE_GET_INFO_FAILED: (ErrorRule(Transient, "platform failed, try again"),),
        CODE_NO_SUCH_USER: (ErrorRule(NotFound, "no such user"),),
    }
)
#: `python -m bot check`: the seed's return codes (返回码说明), quoted
_SEED_401 = "401: 没有权限，签名等验证失败"
REFUSALS: tuple[Refusal, ...] = (
    Refusal(
        "clock skew: the timestamp is more than 10 minutes off",
        "this machine's clock (sync it with NTP)",
        "timestamp: API服务端允许客户端请求时间误差为10分钟",
        codes=(CODE_NOT_AUTHORISED,),
        words=("时间", "timestamp"),
        credentials_refused=True,
    ),
    Refusal(
        "wrong app_id",
        "ANJUKE_OPEN_APP_ID",
        _SEED_401,
        codes=(CODE_NOT_AUTHORISED,),
        words=("app_id", "app id", "appid"),
        credentials_refused=True,
    ),
    Refusal(
        "wrong secret (signature refused)",
        "ANJUKE_OPEN_SECRET",
        _SEED_401,
        codes=(CODE_NOT_AUTHORISED,),
        credentials_refused=True,
    ),
    Refusal(
        "no permission: this IP is forbidden",
        "the app's IP whitelist",
        "403: 禁止访问，访问ip被禁止",
        codes=(CODE_IP_FORBIDDEN,),
    ),
)
#: get-info of user id 0, which nobody has: 1011 用户不存在 (or 400 参数错误) means the
#: app_id, timestamp and signature passed (those are 401); no one's data is asked for
PROBE_ACCOUNT = ("0", "id")


class AnjukeOpenClient(PlatformClient):
    """Anjuke user accounts: look one up, register a new one."""

    platform = PLATFORM
    ERRORS: ClassVar[ErrorMap] = ERRORS
    REFUSALS: ClassVar[tuple[Refusal, ...]] = REFUSALS
    TIERS: ClassVar[dict[str, Limits]] = {}

    async def get_info(self, account: str, account_type: str) -> AnjukeUser:
        """The account named by `account` (an email, a phone number or a user id)."""
        account = account.strip()
        if account_type not in ACCOUNT_TYPES or not account:
            # Checked here: the platform would only answer 400 for it.
            raise BadRequest(self.platform, "account type must be email, phone or id")
        body = await self._call(GET_INFO_PATH, {"account": account, "type": account_type})
        data = body.get("data")
        user: dict[str, Any] = data if isinstance(data, dict) else body
        user_id = _text(user.get("id"))
        if not user_id:
            raise Transient(self.platform, "answer without a user id")
        return AnjukeUser(
            user_id=user_id,
            name=_text(user.get("name")) or None,
            phone=_text(user.get("phone")) or None,
            email=_text(user.get("email")) or None,
        )

    async def register(
        self,
        *,
        name: str | None = None,
        phone: str | None = None,
        email: str | None = None,
        password: str | None = None,
    ) -> str:
        """Create an account and return its user id (the platform invents a missing password)."""
        if not any((name, phone, email)):
            raise BadRequest(self.platform, "name, phone or email is required")
        fields = {
            "name": name or "",
            "phone": phone or "",
            "email": email or "",
            "password": password or "",
        }
        body = await self._call(REGISTER_PATH, fields)
        user_id = _text(body.get("id"))
        if not user_id:
            raise Transient(self.platform, "answer without a user id")
        return user_id

    async def probe_call(self) -> str:
        await self.get_info(*PROBE_ACCOUNT)  # an account there would be personal: not shown
        return f"user id {PROBE_ACCOUNT[0]} answered"

    async def _call(self, path: str, fields: Mapping[str, str]) -> dict[str, Any]:
        params = {
            "app_id": self.config.key,
            "timestamp": str(int(self.clock.time())),
            "format": "json",
            **fields,
        }
        params = {k: v for k, v in params.items() if v}
        params["sign"] = sign(params, self.config.secret.get_secret_value())
        url = self.config.api_url + path  # ANJUKE_OPEN_API_URL ends with "/"
        response = await self.send(self.http.build_request("GET", url, params=params))
        return self._answer(response)

    def _answer(self, response: httpx.Response) -> dict[str, Any]:
        status, body = self.read_answer(response)  # a 4xx without a body: the status is the code
        code = body.get("code", status if status != 200 else None)
        try:
            code = int(code) if code is not None else None
        except (TypeError, ValueError):
            code = None
        if code == CODE_OK and status == 200:
            return body
        raise self._error(code if code not in (None, CODE_OK) else status, body, status)

    def _error(self, code: int, body: Mapping[str, Any], status: int) -> PlatformError:
        message = _text(body.get("msg") or body.get("message"))
        error = self.error_for(status, code, message)
        if isinstance(error, AccountExists):
            error.field = "phone" if code == CODE_PHONE_EXISTS else "email"
        return error
