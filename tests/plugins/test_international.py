"""The built-in international plugin: legal sources and checklists that apply
in every country. The hook implementations are called directly (no Flask app);
the last test also runs the core's validation of plugin data."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from npmtool import international

SOURCES = international.npmtool_legal_sources()
SOURCES_BY_CODE = {s["code"]: s for s in SOURCES}
TEMPLATES = international.npmtool_checklists()
TEMPLATES_BY_CODE = {t["code"]: t for t in TEMPLATES}

# Number of rules or articles in each instrument: a citation outside the range
# is a typo or a rule taken from another instrument.
RANGES = {
    "INT-CAT": (1, 33),
    "INT-OPCAT": (1, 37),
    "INT-MANDELA": (1, 122),
    "INT-BANGKOK": (1, 70),
    "INT-TOKYO": (1, 23),
    "INT-HAVANA": (1, 87),
    "INT-BODY-PRINCIPLES": (1, 39),
}
# How an article is cited in each source: "Art. 21(1)", "Rule 43(1)(b)",
# "Rule 6.1", "Principle 16".
CITATION = re.compile(r"^(Art\.|Rule|Principle) (\d+(?:\.\d+)?)((?:\(\d+\))?(?:\([a-z]\))?)$")
CITATION_WORD = {"INT-CAT": "Art.", "INT-OPCAT": "Art.", "INT-BODY-PRINCIPLES": "Principle"}


def all_items():
    for template in TEMPLATES:
        for section in template["sections"]:
            for item in section["items"]:
                yield template, section, item


def all_l10n(template):
    """Every localized text of a template, with where it is."""
    yield template["code"], template["titles"]
    for section in template["sections"]:
        yield section["code"], section["titles"]
        for item in section["items"]:
            for key in ("question", "guidance", "unit"):
                if key in item:
                    yield f"{item['code']}.{key}", item[key]
            for choice in item.get("choices", []):
                yield f"{item['code']}.{choice['code']}", choice["labels"]


def test_no_country_and_no_country_hooks():
    for hook in ("npmtool_country", "npmtool_facility_types", "npmtool_facility_registry",
                 "npmtool_authorities", "npmtool_validate_visit"):
        assert not hasattr(international, hook), hook


def test_legal_sources_are_the_un_instruments_with_their_resolutions():
    expected = {
        "INT-CAT": ("treaty", "A/RES/39/46", "1984-12-10"),
        "INT-OPCAT": ("treaty", "A/RES/57/199", "2002-12-18"),
        "INT-MANDELA": ("standard", "A/RES/70/175", "2015-12-17"),
        "INT-BANGKOK": ("standard", "A/RES/65/229", "2010-12-21"),
        "INT-TOKYO": ("standard", "A/RES/45/110", "1990-12-14"),
        "INT-HAVANA": ("standard", "A/RES/45/113", "1990-12-14"),
        "INT-BODY-PRINCIPLES": ("standard", "A/RES/43/173", "1988-12-09"),
    }
    assert {code: (s["kind"], s["number"], s["date"]) for code, s in SOURCES_BY_CODE.items()} == expected
    assert len(SOURCES) == len(SOURCES_BY_CODE)


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s["code"])
def test_legal_source_texts_and_article_numbers(source):
    for lang in ("ru", "en", "kk", "ky", "uz"):
        assert source["titles"][lang].strip()
    low, high = RANGES[source["code"]]
    numbers = [a["number"] for a in source["articles"]]
    assert len(numbers) == len(set(numbers)), "an article is listed twice"
    for article in source["articles"]:
        assert isinstance(article["number"], str)
        assert low <= int(float(article["number"])) <= high, article["number"]
        assert article["titles"]["ru"].strip() and article["titles"]["en"].strip()


def test_opcat_lists_the_npm_powers_and_the_ban_on_reprisals():
    articles = {a["number"]: a["titles"]["en"] for a in SOURCES_BY_CODE["INT-OPCAT"]["articles"]}
    assert {"19", "20", "21"} <= set(articles)
    assert "sanction" in articles["21"].lower()
    assert "private interviews" in articles["20"].lower()


def test_mandela_solitary_confinement_rules():
    rules = {a["number"]: a["titles"]["en"] for a in SOURCES_BY_CODE["INT-MANDELA"]["articles"]}
    assert "15 consecutive days" in rules["44"]
    assert "22 hours" in rules["44"]
    assert "dignity" in rules["1"].lower()
    assert "same standards" in rules["24"]


def test_templates_present_with_version_and_targeting():
    assert set(TEMPLATES_BY_CODE) == {"INT-CORE", "INT-WOMEN", "INT-JUV"}
    for template in TEMPLATES:
        assert template["version"] == "2026.1"
    assert "applies_to" not in TEMPLATES_BY_CODE["INT-CORE"]
    assert TEMPLATES_BY_CODE["INT-WOMEN"]["applies_to"] == {"populations": ["women"]}
    assert TEMPLATES_BY_CODE["INT-JUV"]["applies_to"] == {"populations": ["juveniles", "children"]}


@pytest.mark.parametrize("code, low, high", [("INT-CORE", 25, 35), ("INT-WOMEN", 10, 15), ("INT-JUV", 8, 12)])
def test_item_counts(code, low, high):
    count = sum(len(s["items"]) for s in TEMPLATES_BY_CODE[code]["sections"])
    assert low <= count <= high


def test_codes_are_unique_and_prefixed():
    items = Counter(item["code"] for _, _, item in all_items())
    assert [code for code, n in items.items() if n > 1] == []
    for template, section, item in all_items():
        assert section["code"].startswith(template["code"] + "-")
        assert item["code"].startswith(section["code"] + ".")
    for template in TEMPLATES:
        sections = [s["code"] for s in template["sections"]]
        assert len(sections) == len(set(sections))


def test_every_item_cites_an_existing_international_article():
    for _, _, item in all_items():
        assert item["legal_basis"], item["code"]
        for ref in item["legal_basis"]:
            source = ref["source"]
            assert source.startswith("INT-") and source in SOURCES_BY_CODE, (item["code"], source)
            match = CITATION.match(ref["article"])
            assert match, (item["code"], ref["article"])
            word, number = match.group(1), match.group(2)
            assert word == CITATION_WORD.get(source, "Rule"), (item["code"], ref["article"])
            low, high = RANGES[source]
            assert low <= int(float(number)) <= high, (item["code"], ref["article"])
            listed = {a["number"] for a in SOURCES_BY_CODE[source]["articles"]}
            assert number in listed, f"{item['code']}: {source} {number} missing from legal_sources.yaml"


def test_mandela_and_bangkok_rule_numbers_in_range():
    """The check the brief asks for, stated on its own: Mandela 1..122, Bangkok 1..70."""
    for _, _, item in all_items():
        for ref in item["legal_basis"]:
            if ref["source"] in ("INT-MANDELA", "INT-BANGKOK"):
                number = int(CITATION.match(ref["article"]).group(2))
                assert 1 <= number <= (122 if ref["source"] == "INT-MANDELA" else 70), (item["code"], ref)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t["code"])
def test_every_text_has_russian_and_english(template):
    for where, text in all_l10n(template):
        assert set(text) <= {"ru", "en", "kk", "ky", "uz", "kaa"}, where
        for lang in ("ru", "en"):
            assert isinstance(text.get(lang), str) and text[lang].strip(), f"{where}.{lang}"


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t["code"])
def test_questions_also_in_state_languages(template):
    for where, text in all_l10n(template):
        if where.endswith(".guidance"):
            continue  # guidance is in ru and en only
        for lang in ("kk", "ky", "uz"):
            assert text.get(lang, "").strip(), f"{where}.{lang}"
        assert "'" not in text["uz"], f"{where}.uz: use the Uzbek letters ʻ and ʼ, not an ASCII apostrophe"


def test_answer_types_are_mixed_and_complete():
    types = Counter(item["answer_type"] for _, _, item in all_items())
    core = Counter(i["answer_type"] for s in TEMPLATES_BY_CODE["INT-CORE"]["sections"] for i in s["items"])
    assert core["rating"] > sum(core.values()) / 2
    for kind in ("yesno", "number", "choice", "measurement"):
        assert core[kind] >= 1, kind
    assert set(types) <= {"rating", "yesno", "number", "choice", "text", "measurement"}
    for _, _, item in all_items():
        if item["answer_type"] == "choice":
            codes = [c["code"] for c in item["choices"]]
            assert len(codes) >= 2 and len(codes) == len(set(codes))
            assert all(re.match(r"^[a-z][a-z0-9_]*$", c) for c in codes)
        if item["answer_type"] == "number":
            assert item["unit"]["ru"] and item["unit"]["en"]


def test_core_has_the_living_space_measurement():
    measurements = [i for s in TEMPLATES_BY_CODE["INT-CORE"]["sections"] for i in s["items"]
                    if i["answer_type"] == "measurement"]
    assert [m["measurement"] for m in measurements] == [{"kind": "area_per_person", "norm": "min_m2_per_person"}]


def test_key_standards_are_covered():
    """The facts monitors rely on (DOMAIN.md §3) are each cited somewhere."""
    cited = {(ref["source"], CITATION.match(ref["article"]).group(2))
             for _, _, item in all_items() for ref in item["legal_basis"]}
    for ref in [("INT-CAT", "2"), ("INT-OPCAT", "20"), ("INT-OPCAT", "21"),
                ("INT-MANDELA", "1"), ("INT-MANDELA", "24"), ("INT-MANDELA", "43"),
                ("INT-MANDELA", "44"), ("INT-MANDELA", "45"), ("INT-TOKYO", "6.1"),
                ("INT-BANGKOK", "5"), ("INT-BANGKOK", "8"), ("INT-BANGKOK", "19"),
                ("INT-BANGKOK", "25"), ("INT-BANGKOK", "26"), ("INT-BANGKOK", "48"),
                ("INT-BANGKOK", "49"), ("INT-HAVANA", "67")]:
        assert ref in cited, ref


def test_harm_reduction_on_release_is_asked():
    texts = " ".join(i["question"]["en"] for s in TEMPLATES_BY_CODE["INT-CORE"]["sections"] for i in s["items"])
    for word in ("opioid agonist", "needle and syringe", "naloxone", "release"):
        assert word in texts, word


def test_core_validates_the_plugin():
    """The core's own start-up validation accepts the data."""
    from npmtool.plugins import PluginHost

    host = PluginHost(enabled=[], extra=[("international", international)])
    catalogue = host.catalogue
    assert set(catalogue.checklists) == {"INT-CORE", "INT-WOMEN", "INT-JUV"}
    assert all(s["country"] is None for s in catalogue.legal_sources.values())
    assert catalogue.plugins["international"].country_code is None
