"""engine.i18n: messages are looked up through the installed translator, then filled with their parameters;
with no translator they stay in Chinese."""

from __future__ import annotations

import pytest

from engine import i18n
from engine.errors import ValidationFailed
from engine.forms.schema import FormNotFound
from engine.forms.schema import load_form
from engine.i18n import _
from engine.i18n import install_translator
from engine.i18n import reader_language

ENGLISH = {
    "第%(n)s轮": "Round %(n)s",
    "没有名为 %(form)s 的表单": "There is no form called %(form)s",
    "表单有误，请按提示修改": "The form has errors; please correct them as shown",
    "请填写“%(title)s”": "Please fill in “%(title)s”",
}


@pytest.fixture(autouse=True)
def keep_translator(monkeypatch):
    """Whatever translator an earlier test's app installed is back in place afterwards."""
    monkeypatch.setattr(i18n, "_translate", i18n._translate)
    monkeypatch.setattr(i18n, "_language", i18n._language)


@pytest.fixture
def english():
    install_translator(lambda message: ENGLISH.get(message, message), lambda: "en")


def test_without_a_translator_messages_stay_chinese():
    install_translator(None)
    assert _("第%(n)s轮", n=2) == "第2轮"
    assert _("待办") == "待办"
    assert reader_language() == "zh"


def test_parameters_are_filled_after_translation(english):
    assert _("第%(n)s轮", n=2) == "Round 2"
    assert _("第%(n)s轮", n="50% 完成") == "Round 50% 完成"  # values are never read as placeholders
    assert _("没有英文的消息") == "没有英文的消息"  # no translation: the Chinese source
    assert _("完成率 100%") == "完成率 100%"  # without parameters nothing is formatted
    assert reader_language() == "en"


def test_engine_errors_use_the_installed_translator(english):
    with pytest.raises(FormNotFound) as raised:
        load_form("no such form")
    assert raised.value.message == "There is no form called no such form"

    with pytest.raises(ValidationFailed) as refused:
        load_form("sign_for").parse_submission({"sign_decision": "return"})
    assert refused.value.message == "The form has errors; please correct them as shown"
    # The field is named by its English title, as the English page shows it.
    assert refused.value.errors["return_reason"] == "Please fill in “Reason for return”"


def test_engine_errors_fall_back_to_chinese():
    install_translator(None)
    with pytest.raises(FormNotFound) as raised:
        load_form("no such form")
    assert raised.value.message == "没有名为 no such form 的表单"
    with pytest.raises(ValidationFailed) as refused:
        load_form("sign_for").parse_submission({"sign_decision": "return"})
    assert refused.value.errors["return_reason"] == "请填写“退单理由”"
