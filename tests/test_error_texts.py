"""Every error kind of the platform layer has its own short reply in both languages."""

from __future__ import annotations

import pytest

from clients.errors import ERROR_KINDS, BadRequest
from handlers.common import error_text
from handlers.texts import LANGUAGES


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("kind", ERROR_KINDS, ids=lambda k: k.kind)
def test_each_error_kind_has_its_own_localized_reply(kind, lang):
    assert f"error_{kind.kind}" in LANGUAGES[lang]
    text = error_text(kind("xianyu", "detail that must not be shown", code=999), lang)
    assert ("Xianyu" if lang == "en" else "闲鱼") in text
    assert "detail that must not be shown" not in text and "999" not in text
    assert len(text) < 200


def test_replies_differ_between_kinds():
    texts = {error_text(kind("beike"), "en") for kind in ERROR_KINDS}
    assert len(texts) == len(ERROR_KINDS)


def test_a_refused_quote_is_not_called_a_wrong_id():
    text = error_text(BadRequest("aihuishou", code=400), "en")
    assert "ID" not in text and "description" in text
