"""Finding link candidates in chat text, for the platform clients' `find`.

What it promises:
- `fold_with_origins(text)`: the text in NFKC, character by character (full-width `ｈｔｔｐｓ：／／`
  and `：？＝` become ASCII), with the position in the original text of every character
  of the result, so a link found in the normal form is reported where the user wrote it.
- `url_candidates(normal, scheme)`: every run of URL characters in normalised text with
  its start (read once per message and scheme: every platform's `find` reads the same
  message in turn), split where a second scheme starts (links glued together), leading
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


def url_candidates(
    normal: str, scheme: re.Pattern[str] = HTTP_SCHEME
) -> tuple[tuple[int, str], ...]:
    """Every run of URL characters, split where a second `scheme` starts, edges trimmed.

    (start in `normal`, candidate) in order; map the start through `fold_with_origins`'s
    origin. Remembered like `fold_with_origins`: the platforms read one message in turn.
    """
    return _remembered_candidates(normal, scheme)  # one key, whether `scheme` is given or not


def forget_texts() -> None:
    """Empty what is remembered of the last texts (benchmarks read each one as new)."""
    fold_with_origins.cache_clear()
    _remembered_candidates.cache_clear()
    _split_url.cache_clear()


@functools.lru_cache(maxsize=16)
def _remembered_candidates(normal: str, scheme: re.Pattern[str]) -> tuple[tuple[int, str], ...]:
    return tuple(_url_candidates(normal, scheme))


def _url_candidates(normal: str, scheme: re.Pattern[str]) -> Iterator[tuple[int, str]]:
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
    split = _split_url(url)
    if split is None or (check_port and not split[1]):
        return None
    return split[0]


@functools.lru_cache(maxsize=64)
def _split_url(url: str) -> tuple[tuple[str, str, str, str], bool] | None:
    """`split_url`'s parts and whether the port is well formed: every platform's
    recogniser asks about each candidate of a message, so the last ones are remembered."""
    try:
        parts = urlsplit(url if "://" in url else "//" + url)
        host = (parts.hostname or "").rstrip(".")
    except ValueError:
        return None
    try:
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        port_ok = False
    else:
        port_ok = True
    return (parts.scheme.lower(), host, parts.path, parts.query), port_ok


def subdomain_of(host: str, domain: str) -> str | None:
    """The labels of `host` before `domain` ('' for the domain itself), else None."""
    if host == domain:
        return ""
    if host.endswith("." + domain):
        return host[: -len(domain) - 1]
    return None


# -- anything link-like, in linear time ------------------------------------------------
#
# What reads as a link: a scheme (`[a-z][a-z0-9+.-]*://`) or `www.` and what follows up to
# the next space, or a dotted name ending in a common top-level domain
# (`word.com`, `bj.ke.com/...`) and what follows. The one-regex spelling of this
# (`[\w.-]+\.(?:com|...)\b\S*`) backtracks over every run of word characters from every
# start: a 4,096-character word cost a second. Here each space-free chunk is read once:
# its anchors (`://`, `www.`, `.com`) are found by literal search, and the link's start
# is found by walking back over the characters a scheme or name allows.

_CHUNK = re.compile(r"\S+")
_SCHEME_OR_WWW = re.compile(r"://|www\.", re.IGNORECASE)
_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-")
_NAME_RUN = re.compile(r"[\w.-]+")
_TOP_LEVEL = re.compile(r"\.(?:com|cn|net|org|io|me|xyz|top)(?!\w)", re.IGNORECASE)


def linkish_spans(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of every link-like part of `text`; each reaches to the next space."""
    for chunk in _CHUNK.finditer(text):
        start = _linkish_start(chunk.group())
        if start is not None:
            yield chunk.start() + start, chunk.end()


def has_link(text: str) -> bool:
    return next(linkish_spans(text), None) is not None


def _linkish_start(chunk: str) -> int | None:
    starts = [s for s in (_scheme_start(chunk), _domain_start(chunk)) if s is not None]
    return min(starts, default=None)


def _scheme_start(chunk: str) -> int | None:
    """Where the first `scheme://x` or `www.x` in a space-free chunk begins."""
    best: int | None = None
    # a walk back stops at the ':' or '/' of the previous `://`: each character is walked once
    for anchor in _SCHEME_OR_WWW.finditer(chunk):
        at, end = anchor.start(), anchor.end()
        if end >= len(chunk):  # nothing follows the anchor
            break
        if anchor.group() == "://":
            begin = at
            while begin > 0 and chunk[begin - 1] in _SCHEME_CHARS:
                begin -= 1
            while begin < at and not (chunk[begin].isascii() and chunk[begin].isalpha()):
                begin += 1
            start = begin if begin < at else None
        else:
            start = at
        if start is not None:
            best = start if best is None else min(best, start)
    return best


def _domain_start(chunk: str) -> int | None:
    """Where the first dotted name ending in a common top-level domain begins."""
    for run in _NAME_RUN.finditer(chunk):
        first_word = next((i for i in range(run.start(), run.end()) if _is_word(chunk[i])), None)
        if first_word is None:
            continue
        if _TOP_LEVEL.search(chunk, first_word + 1, run.end()):
            return first_word
    return None


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"
