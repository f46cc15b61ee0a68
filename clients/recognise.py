"""Find every listing a message mentions, across all listing platforms.

Each platform module recognises its own links and share texts (`find`) and
declares the shapes of its bare IDs (`BARE_ID_PATTERNS`). This module only
combines them: it orders mentions as they appear in the message, drops
duplicates, and turns a bare ID that fits several platforms into one
ambiguous mention whose candidates the user chooses between.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator

from clients.base import Found, ListingClient
from clients.links import linkish_spans
from clients.models import ListingRef

#: more than this many listings in one message are not looked up (quota protection)
MAX_MENTIONS = 10

# up to six letters: Lianjia's older codes lead with city and district letters (BJCY91736842)
_TOKEN = re.compile(r"(?<![A-Za-z0-9_])[A-Za-z]{0,6}\d{6,19}(?![A-Za-z0-9_])")


def fold_full_width(text: str) -> str:
    """Full-width letters, digits and punctuation to ASCII (same length for these)."""
    return unicodedata.normalize("NFKC", text)


def recognise(text: str, platforms: Iterable[type[ListingClient]]) -> list[Found]:
    platforms = tuple(platforms)
    found: list[Found] = []
    for cls in platforms:
        found.extend(cls.find(text))

    flat = fold_full_width(text)
    # Anything link-like is either a platform's link (found by its module) or not ours:
    # its digits are never read as a bare ID. The link-like spans are only looked for
    # when an ID-shaped token is left outside the platforms' links (a card's ID usually
    # sits in its link): a token that overlaps no span of either kind is one that
    # overlaps neither the first kind nor then the second.
    covered = [(f.start, f.start + max(1, len(f.text))) for f in found]
    tokens = list(_bare_tokens(_TOKEN.finditer(flat), covered))
    if tokens:
        tokens = list(_bare_tokens(iter(tokens), list(linkish_spans(flat))))
    for m in tokens:
        token = m.group()
        refs = tuple(r for cls in platforms if (r := cls.bare_ref(token)) is not None)
        if len(refs) == 1:
            ref = refs[0]
            found.append(Found(m.start(), token, ref=ref, needs_city=needs_city(ref, platforms)))
        elif refs:
            found.append(Found(m.start(), token, candidates=refs))

    found.sort(key=lambda f: f.start)
    unique: list[Found] = []
    seen: set[str] = set()
    for f in found:
        ident = mention_key(f)
        if ident in seen:
            continue
        seen.add(ident)
        unique.append(f)
    return unique[:MAX_MENTIONS]


def needs_city(ref: ListingRef, platforms: Iterable[type[ListingClient]]) -> bool:
    """True when `ref`'s platform names listings only with a city and `ref` has none yet."""
    return not ref.city_id and any(c.platform == ref.platform and c.NEEDS_CITY for c in platforms)


def _bare_tokens(
    tokens: Iterator[re.Match[str]], covered: list[tuple[int, int]]
) -> Iterator[re.Match[str]]:
    """The ID-shaped `tokens` (in the text's order) that overlap no covered span, in one
    sweep over both."""
    spans = sorted(covered)
    reach, index = -1, 0  # the furthest end among the spans that start before a token ends
    for m in tokens:
        while index < len(spans) and spans[index][0] < m.end():
            reach = max(reach, spans[index][1])
            index += 1
        if reach <= m.start():
            yield m


def mention_key(f: Found) -> str:
    """What makes two mentions one: the listing's key, the short link, or the ambiguous ID."""
    if f.ref is not None:
        return f.ref.key
    if f.short_url is not None:
        return "short:" + f.short_url
    return "ambiguous:" + f.text
