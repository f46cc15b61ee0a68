"""User-facing text: one module per language, looked up by key.

`t(lang, key, **values)` formats a text; values that come from platforms or users
must already be HTML-escaped by the caller when the text is sent as HTML.
"""

from __future__ import annotations

from telegram import User

from handlers.texts import en, zh

LANGUAGES = {"en": en.TEXTS, "zh": zh.TEXTS}


def lang_of(user: User | None) -> str:
    """Chinese for `zh*` language codes, English otherwise (CONTRACT section 2)."""
    code = (user.language_code if user else None) or ""
    return "zh" if code.lower().startswith("zh") else "en"


def t(lang: str, key: str, **values: object) -> str:
    table = LANGUAGES.get(lang, en.TEXTS)
    text = table.get(key) or en.TEXTS[key]
    return text.format(**values) if values else text
