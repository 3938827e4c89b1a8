"""Translations: Russian and English are complete for every page; the
catalogues of the state languages exist and the language is switchable."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).parents[1]
TRANSLATIONS = ROOT / "npmtool" / "translations"
KEYWORDS = {"_": None, "_l": None, "lazy_gettext": None, "gettext": None, "ngettext": (1, 2)}


def source_messages() -> set[str]:
    """Every user-facing string in the code and templates, as Babel extracts it."""
    method_map = [("npmtool/**.py", "python"), ("npmtool/templates/**.html", "jinja2")]
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, keywords=KEYWORDS, options_map={"npmtool/templates/**.html": {}}):
        found.add(message if isinstance(message, str) else message[0])
    return {m for m in found if m}


def catalogue(language: str):
    with open(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po", "rb") as handle:
        return read_po(handle, locale=language)


@pytest.fixture(scope="module")
def messages():
    return source_messages()


@pytest.mark.parametrize("language", ["ru", "en", "kk", "ky", "uz"])
def test_catalogue_exists_and_knows_every_string(messages, language):
    known = {m.id if isinstance(m.id, str) else m.id[0] for m in catalogue(language) if m.id}
    missing = sorted(messages - known)
    assert missing == [], f"run `make messages`; missing from {language}: {missing[:5]}"


def test_russian_is_complete(messages):
    untranslated = [m.id for m in catalogue("ru") if m.id and (not m.string or
                    (isinstance(m.string, tuple) and not all(m.string)) or m.fuzzy)]
    assert untranslated == []


@pytest.mark.parametrize("language", ["ru", "kk", "ky", "uz"])
def test_placeholders_survive_translation(language):
    for message in catalogue(language):
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = set(re.findall(r"%\(\w+\)\w", ids[-1]))
        for text in strings:
            if text:
                assert set(re.findall(r"%\(\w+\)\w", text)) <= expected | set(re.findall(r"%\(\w+\)\w", ids[0])), \
                    (language, message.id)


def test_pages_render_in_russian(client, auth, make_user, make_facility):
    auth.login(make_user("admin"))
    client.post("/language", data={"language": "ru", "next": "/"})
    facility = make_facility(country="KG")
    for url, expected in (("/", "Добро пожаловать"), ("/facilities/", "Места лишения свободы"),
                          (f"/facilities/{facility.id}", "Общие сведения"), ("/admin/users", "Учётные записи")):
        page = client.get(url).data.decode()
        assert expected in page, url


def test_plugin_texts_follow_the_language(client, auth, make_user, make_facility):
    from npmtool.i18n import tr

    assert tr({"ru": "Следственный изолятор", "en": "Pre-trial centre", "ky": "Тергөө абагы"}, "ky") == "Тергөө абагы"
    assert tr({"ru": "Следственный изолятор", "en": "Pre-trial centre"}, "uz") == "Следственный изолятор"
