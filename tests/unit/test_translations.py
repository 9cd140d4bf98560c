"""The English catalog covers every Chinese source string, keeps its placeholders, and compiles and loads.

Messages are extracted in-process with the same configuration as `pybabel extract` (babel.cfg), and the
catalog is compiled to a temporary directory, so nothing here depends on a compiled .mo in the tree.
"""

from __future__ import annotations

import gettext
import re
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

REPO = Path(__file__).resolve().parents[2]
BABEL_CFG = REPO / "babel.cfg"
TRANSLATIONS = REPO / "web" / "translations"
EN_PO = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"

HOW_TO_FIX = (
    "Run the extract / update commands in docs/i18n.md, translate the new entries in "
    f"{EN_PO.relative_to(REPO)} (remove any '#, fuzzy' flag once checked), then compile."
)

# printf-style conversions as Python's % operator sees them: %(name)s, %s, %d, %.2f, ... (but not %%).
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsa%]")


def _key(msgid, context):
    singular = msgid[0] if isinstance(msgid, (tuple, list)) else msgid
    return singular if context is None else f"{context}\x04{singular}"


def _placeholders(text: str) -> Counter:
    return Counter(m for m in PLACEHOLDER.findall(text) if m != "%%")


@pytest.fixture(scope="module")
def extracted() -> dict[tuple[str, str | None], list[str]]:
    """(msgid, msgctxt) -> source locations, extracted exactly as `pybabel extract -F babel.cfg .` does."""
    with BABEL_CFG.open(encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f, str(BABEL_CFG))
    found: dict[tuple[str, str | None], list[str]] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        str(REPO), method_map, options_map, keywords=DEFAULT_KEYWORDS
    ):
        msgid = message[0] if isinstance(message, (tuple, list)) else message
        if msgid:
            found.setdefault((msgid, context), []).append(f"{filename}:{lineno}")
    return found


@pytest.fixture(scope="module")
def catalog():
    with EN_PO.open("rb") as f:
        return read_po(f, locale="en")


def test_extraction_finds_the_ui_strings(extracted):
    # Guards the guard: a babel.cfg that matched no files would make the coverage test pass vacuously.
    assert ("待办", None) in extracted
    assert any(loc.startswith("web/templates/") for locs in extracted.values() for loc in locs)
    assert any(re.match(r"web/.+\.py:", loc) for locs in extracted.values() for loc in locs)


def test_every_source_string_has_an_english_translation(extracted, catalog):
    missing = []
    for (msgid, context), locations in sorted(extracted.items(), key=lambda kv: kv[1][0]):
        entry = catalog.get(msgid, context=context)
        strings = entry.string if entry is not None else ""
        strings = list(strings) if isinstance(strings, (tuple, list)) else [strings]
        if entry is None:
            why = "not in catalog"
        elif entry.fuzzy:
            why = "fuzzy"
        elif not all(s and s.strip() for s in strings):
            why = "untranslated"
        else:
            continue
        missing.append(f"  {msgid!r} ({why}; {locations[0]})")
    assert not missing, (
        f"{len(missing)} source string(s) lack a reviewed English translation in "
        f"{EN_PO.relative_to(REPO)}:\n" + "\n".join(missing) + "\n" + HOW_TO_FIX
    )


def test_catalog_has_no_fuzzy_entries(catalog):
    fuzzy = [repr(m.id) for m in catalog if m.id and m.fuzzy]
    assert not catalog.fuzzy, "the catalog header is marked fuzzy; pybabel compile would skip it"
    assert not fuzzy, "fuzzy entries (machine guesses awaiting review):\n  " + "\n  ".join(fuzzy)


def test_placeholders_are_kept(catalog):
    wrong = []
    for message in catalog:
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, (tuple, list)) else (message.id,)
        strs = message.string if isinstance(message.string, (tuple, list)) else (message.string,)
        expected = _placeholders(ids[0])
        for text in strs:
            if text and _placeholders(text) != expected:
                wrong.append(
                    f"  {ids[0]!r} -> {text!r}: expected {sorted(expected.elements())}, "
                    f"got {sorted(_placeholders(text).elements())}"
                )
    assert not wrong, "placeholders differ between msgid and msgstr:\n" + "\n".join(wrong)


def test_catalog_passes_babel_checks(catalog):
    problems = [f"  {m.id!r}: {'; '.join(map(str, errors))}" for m, errors in catalog.check()]
    assert not problems, "pybabel compile would report:\n" + "\n".join(problems)


@pytest.fixture(scope="module")
def compiled_dir(catalog, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("translations")
    target = root / "en" / "LC_MESSAGES"
    target.mkdir(parents=True)
    with (target / "messages.mo").open("wb") as f:
        write_mo(f, catalog)
    return root


def test_compiled_catalog_loads_and_translates(compiled_dir):
    with (compiled_dir / "en" / "LC_MESSAGES" / "messages.mo").open("rb") as f:
        en = gettext.GNUTranslations(f)
    assert en.gettext("待办") == "Tasks"
    assert en.gettext("诉求台账") == "Case ledger"
    assert en.gettext("登记诉求") == "Register a problem"
    assert en.gettext("第%(n)s轮") % {"n": 2} == "Round 2"


def test_flask_babel_serves_english_from_the_compiled_catalog(compiled_dir):
    """The app's own locale selector and directory layout: session lang "en" gives English, default Chinese."""
    from flask import Flask
    from flask import render_template_string
    from flask import session
    from flask_babel import gettext as _

    from web.i18n import init_app

    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="test", BABEL_DEFAULT_LOCALE="zh", BABEL_TRANSLATION_DIRECTORIES=str(compiled_dir)
    )
    init_app(app)

    with app.test_request_context():
        session["lang"] = "en"
        assert _("销号") == "Close out"
        assert (
            render_template_string('{{ _("第%(n)s轮", n=3) }} · {{ _("牵头单位") }}') == "Round 3 · Lead unit"
        )

    with app.test_request_context():
        assert _("销号") == "销号"
        assert render_template_string('{{ _("第%(n)s轮", n=3) }}') == "第3轮"
