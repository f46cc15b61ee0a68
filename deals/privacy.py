"""Personal data in platform text masked before it is shown, as the log formatter masks it.

Reviews are written by people, and people write their phone numbers and emails into
them. A phone in any common form (`+86 139 1234 5678`, `139-1234-5678`, full-width
digits) becomes `139****5678`; an email `***@example.com`. The patterns are the log
redactor's (bot/logs.py), kept here too because handlers may not import `bot`.
"""

from __future__ import annotations

import re

_DIGIT = "[0-9\uff10-\uff19]"
_SEP = "[ \t\u3000.\\-\u2010-\u2015\uff0d]{0,3}"
_PHONE = re.compile(
    rf"(?<!{_DIGIT})"
    rf"((?:[(\uff08]?(?:[+\uff0b]|00|\uff10\uff10)?[8\uff18][6\uff16][)\uff09]?{_SEP})?"
    rf"[(\uff08]?)([1\uff11][3-9\uff13-\uff19]{_DIGIT})[)\uff09]?{_SEP}"
    rf"{_DIGIT}{{4}}{_SEP}({_DIGIT}{{4}})(?!{_DIGIT})"
)
_EMAIL = re.compile(r"[\w.%+\-]+[@\uff20]([\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,})")


def mask_personal_data(text: str) -> str:
    """`text` with phone numbers and emails masked."""
    return _EMAIL.sub(r"***@\1", _PHONE.sub(r"\1\2****\3", text))
