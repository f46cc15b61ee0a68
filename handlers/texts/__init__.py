"""User-facing text: one module per language, looked up by key.

`t(lang, key, **values)` formats a text; values that come from platforms or users
must already be HTML-escaped by the caller when the text is sent as HTML.

`plural(lang, key, n, **values)` formats a text that names a count: each language's
`PLURALS` holds, per key, one text per CLDR plural category (`one`, `other`, ...), and
Babel's CLDR rules pick the category for `n` (English: 1 is `one`, 0, 2 and 21 are
`other`; Chinese has `other` only).

`label(lang, name)` and `vocab(lang, word)` give an English reader the seeds' Chinese
field names and fixed words (grades, faults, status words) in English; a Chinese reader
and any word without a translation get the platform's word as written.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from telegram import User

from handlers.texts import en, zh

LANGUAGES = {"en": en.TEXTS, "zh": zh.TEXTS}
PLURALS = {"en": en.PLURALS, "zh": zh.PLURALS}


def lang_of(user: User | None) -> str:
    """Chinese for `zh*` language codes, English otherwise (CONTRACT section 2)."""
    code = (user.language_code if user else None) or ""
    return "zh" if code.lower().startswith("zh") else "en"


def t(lang: str, key: str, **values: object) -> str:
    table = LANGUAGES.get(lang, en.TEXTS)
    text = table.get(key) or en.TEXTS[key]
    return text.format(**values) if values else text


@cache
def _plural_rule(lang: str) -> Callable[[int], str]:
    """Babel's CLDR plural rule of `lang`, loaded on the first count (Babel's locale data
    costs start-up memory that a bot which never counts need not hold: bench/startup.py)."""
    from babel import Locale

    rule: Callable[[int], str] = Locale.parse(lang if lang in LANGUAGES else "en").plural_form
    return rule


def plural_category(lang: str, n: int) -> str:
    """The CLDR plural category of `n` in `lang` (Babel's rules): `one`, `other`, ..."""
    return str(_plural_rule(lang)(abs(n)))


def plural(lang: str, key: str, n: int, **values: object) -> str:
    """The text of `key` for the count `n` (given to the text as `{n}`)."""
    forms = PLURALS.get(lang, en.PLURALS).get(key) or en.PLURALS[key]
    text = forms.get(plural_category(lang, n)) or forms["other"]
    return text.format(n=n, **values)


def label(lang: str, name: str) -> str:
    """A platform's field name (`层高`) as a card label in `lang`; untranslated as written."""
    if lang == "zh":
        return name
    return LANGUAGES.get(lang, en.TEXTS).get(f"fl_{name}") or name


def vocab(lang: str, word: str) -> str:
    """A seed word the bot shows (`95新`, `无维修`, `VR看房`) in `lang`; unknown as written."""
    if lang == "zh":
        return word
    return LANGUAGES.get(lang, en.TEXTS).get(f"qv_{word}") or word
