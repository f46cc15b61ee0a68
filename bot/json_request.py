"""python-telegram-bot's HTTPXRequest posting JSON bodies instead of form-urlencoded ones.

The Bot API takes a method's parameters four ways (Bot API, "Making requests"): URL query
string, `application/x-www-form-urlencoded`, `application/json` (except for uploading
files) and `multipart/form-data` (to upload files); JSON since the changelog of
September 7, 2015. python-telegram-bot posts every request without a file as a form:
each nested value (a card's keyboard, reply parameters) JSON-encoded first, then the
whole form percent-encoded by `urllib.parse.urlencode`, which turns every byte of
Chinese text into three characters (`%E4%BD%A0`). For a cached card that encoding was a
visible share of the bot's time, and its body three times its text (bench/chat.py).

`JsonRequest` sends the same parameters (`RequestData.parameters`, what the library
would have encoded) as one UTF-8 JSON object; a request with a file still goes as
multipart, through the library's own code. Timeouts, pool and errors are the library's:
the same `TimedOut` (with its pool message) and `NetworkError` as `HTTPXRequest` raises.

Both ways, encoding the body and reading the answer (`parse_json_payload`, which
python-telegram-bot's `BaseRequest` documents as the place to change the JSON library) go
through orjson: a card's caption and keyboard out, the sent photo message and every
batch of updates in, 3-10 x faster than the standard library's `json` (bench/chat.py,
docs/card-cost.md). Whatever orjson refuses (a value or key it cannot encode, an answer
that is not valid UTF-8) goes through the standard library as before, with its
`errors="replace"` reading of bad bytes. orjson reads an integer past 64 bits as a float;
the Bot API sends none (its identifiers have "at most 52 significant bits", Bot API, e.g.
Chat: id).
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import orjson
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, HTTPXRequest, RequestData

JSON_HEADERS = {"User-Agent": BaseRequest.USER_AGENT, "Content-Type": "application/json"}
#: python-telegram-bot's DefaultValue: a timeout not given (the request's own then applies)
_NOT_GIVEN = type(BaseRequest.DEFAULT_NONE)


def json_body(request_data: RequestData) -> bytes:
    """The request's parameters as one compact UTF-8 JSON object."""
    parameters = request_data.parameters
    try:
        return orjson.dumps(parameters)
    except TypeError:  # orjson.JSONEncodeError: a type or key orjson does not take
        return json.dumps(parameters, ensure_ascii=False, separators=(",", ":")).encode()


def parse_json(payload: bytes) -> Any:
    """The Bot API's answer as Python objects, as `BaseRequest.parse_json_payload` reads it."""
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError:  # bad UTF-8 or no JSON: the library's way
        return BaseRequest.parse_json_payload(payload)


class JsonRequest(HTTPXRequest):
    """`HTTPXRequest` with a JSON body for every request that uploads no file, and answers
    read by orjson."""

    @staticmethod
    def parse_json_payload(payload: bytes) -> dict[str, Any]:
        parsed: dict[str, Any] = parse_json(payload)
        return parsed

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if request_data is None or request_data.contains_files:
            return await super().do_request(
                url,
                method,
                request_data,
                read_timeout=read_timeout,
                write_timeout=write_timeout,
                connect_timeout=connect_timeout,
                pool_timeout=pool_timeout,
            )
        if self._client.is_closed:
            raise RuntimeError("This HTTPXRequest is not initialized!")
        own = self._client.timeout
        timeout = httpx.Timeout(
            connect=own.connect if isinstance(connect_timeout, _NOT_GIVEN) else connect_timeout,
            read=own.read if isinstance(read_timeout, _NOT_GIVEN) else read_timeout,
            write=own.write if isinstance(write_timeout, _NOT_GIVEN) else write_timeout,
            pool=own.pool if isinstance(pool_timeout, _NOT_GIVEN) else pool_timeout,
        )
        try:
            res = await self._client.request(
                method=method,
                url=url,
                headers=JSON_HEADERS,
                timeout=timeout,
                content=json_body(request_data),
            )
        except httpx.TimeoutException as err:  # as HTTPXRequest.do_request words them
            if isinstance(err, httpx.PoolTimeout):
                raise TimedOut(
                    message=(
                        "Pool timeout: All connections in the connection pool are occupied. "
                        "Request was *not* sent to Telegram. Consider adjusting the connection "
                        "pool size or the pool timeout."
                    )
                ) from err
            raise TimedOut from err
        except httpx.HTTPError as err:
            raise NetworkError(f"httpx.{err.__class__.__name__}: {err}") from err
        return res.status_code, res.content
