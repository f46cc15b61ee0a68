"""Phone numbers and emails masked wherever text may carry them: platform text shown in
chat (reviews are written by people, who write their numbers into them) and every log
line (bot/logs.py uses these patterns).

A mainland mobile in any common form (`+86 139 1234 5678`, `139-1234-5678`,
`(139)12345678`, `8613912345678` as Telegram's Contact writes it, full-width digits)
becomes `139****5678`; an email, whatever script its local part is in, `***@example.com`.
"""

from __future__ import annotations

import re

_DIGIT = "[0-9\uff10-\uff19]"  # ASCII and full-width digits
_SEP = "[ \t\u3000.\\-\u2010-\u2015\uff0d]{0,3}"  # spaces, dots, dashes, full-width ones
PHONE = re.compile(
    rf"(?<!{_DIGIT})"
    # +86 / 0086 / 86 / (+86), in ASCII or full width
    rf"((?:[(\uff08]?(?:[+\uff0b]|00|\uff10\uff10)?[8\uff18][6\uff16][)\uff09]?{_SEP})?"
    rf"[(\uff08]?)([1\uff11][3-9\uff13-\uff19]{_DIGIT})[)\uff09]?{_SEP}"
    rf"{_DIGIT}{{4}}{_SEP}({_DIGIT}{{4}})(?!{_DIGIT})"
)
#: any script in the local part (`张三@example.com`), ASCII or full-width at sign
EMAIL = re.compile(r"[\w.%+\-]+[@\uff20]([\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,})")


def mask_phones(text: str) -> str:
    return PHONE.sub(r"\1\2****\3", text)


def mask_emails(text: str) -> str:
    return EMAIL.sub(r"***@\1", text)


def mask_personal_data(text: str) -> str:
    """`text` with phone numbers and emails masked."""
    return mask_emails(mask_phones(text))
