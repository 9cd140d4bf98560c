"""Engine messages in the reader's language: written in Chinese and marked with `_()` (Babel extracts them with
web/'s into one catalog); the web layer installs a translator that answers in the request's UI language.

Only what is shown to the person acting is translated (errors, check problems, import reports); what is stored
as the record (case events, notifications) stays in the source language, as written at the time.
"""

from __future__ import annotations

from collections.abc import Callable


def _same(message: str) -> str:
    return message


def _chinese() -> str:
    return "zh"


_translate: Callable[[str], str] = _same
_language: Callable[[], str] = _chinese


def install_translator(
    translate: Callable[[str], str] | None, language: Callable[[], str] | None = None
) -> None:
    """Use `translate(msgid) -> text` for every message from now on (None: the Chinese source text);
    `language()` names the reader's language ("zh" or "en") for data that carries both (a form field's title)."""
    global _translate, _language
    _translate = translate or _same
    _language = language or _chinese


def reader_language() -> str:
    """The language messages are being written in: "en", or "zh" (the default)."""
    return _language()


def _(message: str, **params) -> str:
    """`message` translated, then filled with `params` (named placeholders: `_("第%(n)s轮", n=2)`)."""
    text = _translate(message)
    return text % params if params else text
