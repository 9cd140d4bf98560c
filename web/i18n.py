"""Chinese by default, English on request: Flask-Babel plus label helpers for domain values."""

from __future__ import annotations

from flask import has_request_context
from flask import session
from flask_babel import Babel
from flask_babel import get_locale
from flask_babel import gettext

from engine.domain.clock import to_local
from engine.domain.vocabulary import CASE_STATUSES
from engine.domain.vocabulary import ENUM_LABELS_EN
from engine.domain.vocabulary import ENUM_LABELS_ZH
from engine.domain.vocabulary import ROLES
from engine.domain.vocabulary import TIERS
from engine.i18n import install_translator

babel = Babel()


def select_locale() -> str:
    return session.get("lang") or "zh"


def ui_lang() -> str:
    locale = get_locale()
    return "en" if locale is not None and locale.language == "en" else "zh"


def label(kind: str, value) -> str:
    """Display label of a domain value (status, tier, role, or a Chinese domain term) in the UI language."""
    if value is None or value == "":
        return ""
    table = {"status": CASE_STATUSES, "tier": TIERS, "role": ROLES}.get(kind)
    en = ui_lang() == "en"
    if table is not None:
        zh_en = table.get(value)
        return (zh_en[1] if en else zh_en[0]) if zh_en else str(value)
    labels = ENUM_LABELS_EN if en else ENUM_LABELS_ZH
    return labels.get(kind, {}).get(value, str(value))


def period_name(code: str) -> str:
    """A figures period (2026, 2026-Q3, 2026-07, 2026-01-01~2026-03-31) in the UI language."""
    from engine.services.figures import parse_period

    try:
        period = parse_period(str(code))
    except Exception:  # noqa: BLE001 - shown as given
        return str(code)
    if ui_lang() != "en":
        return period.label
    text = period.code
    if "-Q" in text:
        year, quarter = text.split("-Q")
        return f"Q{quarter} {year}"
    if "~" in text:
        return text.replace("~", " – ")
    if len(text) == 7:
        return period.start.strftime("%b %Y")
    return text


def local_time(value, fmt: str = "%Y-%m-%d %H:%M") -> str:
    local = to_local(value)
    return local.strftime(fmt) if local else ""


def _engine_message(message: str) -> str:
    """Engine messages in the request's UI language (outside a request: the Chinese source)."""
    return gettext(message) if has_request_context() else message


def _engine_language() -> str:
    return ui_lang() if has_request_context() else "zh"


def init_app(app) -> None:
    babel.init_app(app, locale_selector=select_locale)
    install_translator(_engine_message, _engine_language)
    app.jinja_env.globals.update(get_locale=get_locale, label=label, ui_lang=ui_lang, period_name=period_name)
    app.jinja_env.filters["local_time"] = local_time
