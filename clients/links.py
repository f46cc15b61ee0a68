"""Finding link candidates in chat text, for the platform clients' `find`.

What it promises:
- `fold_with_origins(text)`: the text in NFKC, character by character (full-width `ｈｔｔｐｓ：／／`
  and `：？＝` become ASCII), with the position in the original text of every character
  of the result, so a link found in the normal form is reported where the user wrote it.
- `url_candidates(normal, scheme)`: every run of URL characters in normalised text with
  its start, split where a second scheme starts (links glued together), leading
  non-alphanumerics and trailing punctuation trimmed, and a word and colon glued before a
  scheme-less link ("链接:bj.anjuke.com/...") dropped, while `host:port` is kept.
  Candidates are only candidates: which of them are a platform's links, and what they
  name, is decided by the platform's own patterns (domains, paths, IDs) in its module.
- `split_url(url)` and `subdomain_of(host, domain)`: the host is parsed out of the
  authority, never searched for in the text, so `anjuke.com.example.org`,
  `anjuke.com@evil.example` and `notanjuke.com` are not `anjuke.com`.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterator, Sequence
from urllib.parse import urlsplit

#: the schemes of ordinary web links
HTTP_SCHEME = re.compile(r"https?://", re.IGNORECASE)

_URL_TOKEN = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
_TRAILING_PUNCTUATION = ".,;:!?)]}'\"*"
#: a word and a colon glued before a scheme-less link ("链接:bj.anjuke.com/..."), not a port
_LABEL_PREFIX = re.compile(r"^[^/:]*:(?!\d)")


@functools.lru_cache(maxsize=16)
def fold_with_origins(text: str) -> tuple[str, Sequence[int]]:
    """NFKC per character (full-width `：？＝` become ASCII) and where each output char came from.

    Every listing platform's `find` reads the same message in turn, so the last few
    answers are remembered; a text already in NFKC (every ASCII text, most Chinese
    ones) maps onto itself.
    """
    if text.isascii() or unicodedata.is_normalized("NFKC", text):
        return text, range(len(text))
    out: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        normal = unicodedata.normalize("NFKC", char)
        out.append(normal)
        origin.extend([index] * len(normal))
    return "".join(out), tuple(origin)


def url_candidates(normal: str, scheme: re.Pattern[str] = HTTP_SCHEME) -> Iterator[tuple[int, str]]:
    """Every run of URL characters, split where a second `scheme` starts, edges trimmed.

    Yields (start in `normal`, candidate); map the start through `fold_with_origins`'s origin.
    """
    for match in _URL_TOKEN.finditer(normal):
        token, base = match.group(), match.start()
        starts = sorted({0, *(m.start() for m in scheme.finditer(token))})
        for begin, end in zip(starts, [*starts[1:], len(token)], strict=True):
            piece = token[begin:end]
            lead = 0
            while lead < len(piece) and not piece[lead].isalnum():
                lead += 1
            piece = piece[lead:].rstrip(_TRAILING_PUNCTUATION)
            label = _LABEL_PREFIX.match(piece) if "://" not in piece else None
            if label:  # "B:bj.ke.com/..." from "B：bj.ke.com/...": the colon is not a port
                lead += label.end()
                piece = piece[label.end() :]
            if piece:
                yield base + begin + lead, piece


def split_url(url: str, *, check_port: bool = False) -> tuple[str, str, str, str] | None:
    """(scheme, host, path, query) of a URL with or without scheme, or None when unparsable.

    The scheme is lower case ('' when the link has none), the host lower case without a
    trailing dot. `check_port` also refuses a malformed port (`host:abc`).
    """
    try:
        parts = urlsplit(url if "://" in url else "//" + url)
        host = (parts.hostname or "").rstrip(".")
        if check_port:
            parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return None
    return parts.scheme.lower(), host, parts.path, parts.query


def subdomain_of(host: str, domain: str) -> str | None:
    """The labels of `host` before `domain` ('' for the domain itself), else None."""
    if host == domain:
        return ""
    if host.endswith("." + domain):
        return host[: -len(domain) - 1]
    return None
