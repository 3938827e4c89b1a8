"""Facts of the Kyrgyzstan plugin that users rely on.

The hook implementations are called directly: no application is needed.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

import npmtool_kyrgyzstan as kg

REQUIRED = {"ru", "en"}


@pytest.fixture(scope="module")
def country():
    return kg.npmtool_country(settings={})


@pytest.fixture(scope="module")
def sources():
    return {s["code"]: s for s in kg.npmtool_legal_sources()}


@pytest.fixture(scope="module")
def types():
    return {t["code"]: t for t in kg.npmtool_facility_types()}


@pytest.fixture(scope="module")
def checklists():
    return kg.npmtool_checklists()


def items_of(template):
    return [item for section in template["sections"] for item in section["items"]]


def l10n_dicts(value, path="$"):
    """Every localized text anywhere in a structure, with where it was found."""
    if isinstance(value, dict):
        if "ru" in value or "en" in value:
            yield path, value
        else:
            for key, sub in value.items():
                yield from l10n_dicts(sub, f"{path}.{key}")
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            yield from l10n_dicts(sub, f"{path}[{i}]")


# -- country, NPM body, regions -------------------------------------------


def test_country_languages_regions_and_visit_types(country):
    assert country["code"] == "KG"
    assert country["languages"][0] == "ky"
    assert {r["code"] for r in country["regions"]} == {
        "KG-GB", "KG-GO", "KG-B", "KG-C", "KG-Y", "KG-J", "KG-N", "KG-O", "KG-T"}
    assert {r["code"] for r in country["regions"] if r["kind"] == "city"} == {"KG-GB", "KG-GO"}
    assert [v["code"] for v in country["visit_types"]] == ["special", "comprehensive", "interim"]


def test_default_npm_body_is_the_ombudsman_and_tells_the_ncpt_history(country):
    body = country["npm_body"]
    assert "Akyikatchy" in body["names"]["en"] and "Акыйкатчы" in body["names"]["ru"]
    description = body["description"]["en"]
    assert "National Centre" in description and "No. 104" in description and "12 July 2012" in description
    assert "Coordination Council of 11" in description


def test_npm_body_comes_from_settings_when_configured():
    configured = {"names": {"ru": "Новый орган", "en": "New body", "ky": "Жаңы орган"},
                  "description": {"ru": "Структура", "en": "Structure"}}
    result = kg.npmtool_country(settings={"npm_body": configured})
    assert result["npm_body"] == configured
    configured["names"]["en"] = "changed later"  # the plugin keeps its own copy
    assert result["npm_body"]["names"]["en"] == "New body"
    # Without the setting the data file's body comes back unchanged.
    assert "Akyikatchy" in kg.npmtool_country(settings={})["npm_body"]["names"]["en"]


def test_every_localized_text_has_russian_and_english():
    data = {
        "country": kg.npmtool_country(settings={}), "authorities": kg.npmtool_authorities(),
        "types": kg.npmtool_facility_types(), "sources": kg.npmtool_legal_sources(),
        "checklists": kg.npmtool_checklists(), "registry": kg.npmtool_facility_registry(),
        "complaints": kg.npmtool_complaint_categories(), "reports": kg.npmtool_report_formats(),
    }
    found = list(l10n_dicts(data))
    assert len(found) > 200
    for path, text in found:
        assert REQUIRED <= set(text), path
        assert set(text) <= {"ru", "en", "ky"}, path
        assert all(isinstance(v, str) and v.strip() for v in text.values()), path


# -- authorities, facility types, norms ---------------------------------------


def test_facility_types_name_existing_authorities():
    authorities = {a["code"] for a in kg.npmtool_authorities()}
    assert {"KG-SPS", "KG-MIA", "KG-GKNB", "KG-MOH", "KG-MSOC", "KG-MOE", "KG-MOD"} <= authorities
    for t in kg.npmtool_facility_types():
        assert t["authority"] in authorities, t["code"]
    for a in kg.npmtool_authorities():
        assert a.get("parent") in (None, *authorities)


@pytest.mark.parametrize("code, norm", [
    ("KG-COL-GEN", 2.0), ("KG-COL-STRICT", 2.0), ("KG-COL-SPECIAL", 2.0), ("KG-COL-SETTLEMENT", 2.0),
    ("KG-PRISON", 2.5), ("KG-COL-WOMEN", 3.0), ("KG-COL-EDU", 3.5),
    ("KG-HOSP-TB", 5.0), ("KG-HOSP", 5.0),
])
def test_living_space_norms_of_the_criminal_executive_code(types, sources, code, norm):
    assert types[code]["norms"] == {"min_m2_per_person": norm}
    assert types[code]["norm_basis"] == {"source": "KG-CEC", "article": "71"}
    cec = sources["KG-CEC"]
    assert (cec["number"], cec["date"]) == ("17", "2017-01-31")
    assert "71" in {a["number"] for a in cec["articles"]}


def test_sizo_and_ivs_exist_and_carry_no_unconfirmed_norm(types):
    assert types["KG-SIZO"]["category"] == "pretrial" and types["KG-SIZO"]["authority"] == "KG-SPS"
    assert types["KG-SIZO-GKNB"]["authority"] == "KG-GKNB"
    assert types["KG-IVS"]["category"] == "police_custody" and types["KG-IVS"]["authority"] == "KG-MIA"
    for code in ("KG-SIZO", "KG-SIZO-GKNB", "KG-IVS"):
        assert not types[code].get("norms"), code


# -- legal sources and checklist ----------------------------------------------


def test_legal_sources_numbers_and_dates(sources):
    expected = {
        "KG-LNCPT": ("104", "2012-07-12"), "KG-CEC": ("17", "2017-01-31"),
        "KG-LPROB": ("34", "2017-02-24"), "KG-MOH-838": ("838", "2009-12-25"),
        "KG-MOH-494": ("494", "2010-10-08"), "KG-MOH-482": ("482", "2014-08-22"),
        "KG-SPS-123": ("123", "2016-03-18"), "KG-SPS-602": ("602", "2016-11-28"),
    }
    for code, (number, date) in expected.items():
        assert (sources[code]["number"], sources[code]["date"]) == (number, date), code
    assert {"11", "27"} <= {a["number"] for a in sources["KG-LPROB"]["articles"]}
    assert sources["KG-CP-MMT-2015"]["date"].startswith("2015-")
    for s in sources.values():
        assert isinstance(s["date"], str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", s["date"]), s["code"]


def test_every_checklist_item_cites_an_article_of_a_kyrgyz_source(checklists, sources):
    codes = [item["code"] for t in checklists for item in items_of(t)]
    assert len(codes) == len(set(codes))
    for template in checklists:
        for item in items_of(template):
            assert item["legal_basis"], item["code"]
            for ref in item["legal_basis"]:
                assert ref["source"] in sources, (item["code"], ref)
                assert str(ref["article"]).strip(), (item["code"], ref)


def test_first_checklist_shape(checklists):
    template = next(t for t in checklists if t["code"] == "KG-PV-PEN")
    items = items_of(template)
    assert 20 <= len(items) <= 35
    assert 4 <= len(template["sections"]) <= 7
    assert set(template["applies_to"]["categories"]) == {"prison", "pretrial"}
    kinds = [i["answer_type"] for i in items]
    assert kinds.count("rating") > len(items) / 2
    assert {"yesno", "number", "choice", "measurement"} <= set(kinds)
    measurement = next(i for i in items if i["answer_type"] == "measurement")
    assert measurement["measurement"] == {"kind": "area_per_person", "norm": "min_m2_per_person"}
    assert {"source": "KG-CEC", "article": "71"} in measurement["legal_basis"]


def test_health_and_harm_reduction_cite_the_orders_and_the_methadone_protocol(checklists):
    template = next(t for t in checklists if t["code"] == "KG-PV-PEN")
    cited = {}
    for section in template["sections"]:
        for item in section["items"]:
            for ref in item["legal_basis"]:
                cited.setdefault(ref["source"], set()).add(section["code"])
    for source in ("KG-MOH-838", "KG-MOH-494", "KG-MOH-482", "KG-SPS-123", "KG-SPS-602", "KG-CP-MMT-2015"):
        assert source in cited, source
    harm = next(s for s in template["sections"] if "harm" in s["titles"]["en"].lower())
    text = " ".join(i["question"]["en"].lower() for i in harm["items"])
    for topic in ("methadone", "syringe", "naloxone", "release"):
        assert topic in text, topic
    health_text = " ".join(i["question"]["en"] for s in template["sections"] for i in s["items"])
    assert "HIV" in health_text and "STI" in health_text


# -- registry ------------------------------------------------------------------


def test_registry_rows_use_known_types_and_regions(country, types):
    registry = kg.npmtool_facility_registry()
    regions = {r["code"] for r in country["regions"]}
    assert 15 <= len(registry) <= 40
    assert len({r["code"] for r in registry}) == len(registry)
    for row in registry:
        assert row["type"] in types, row["code"]
        assert row["region"] in regions, row["code"]
        assert ("lat" in row) == ("lon" in row), row["code"]
        if "lat" in row:
            assert "coordinates approximate (city centre)" in row["notes"].lower(), row["code"]
        assert set(row.get("populations", [])) <= {"men", "women", "juveniles", "children"}


def test_registry_holds_the_named_institutions():
    rows = {r["code"]: r for r in kg.npmtool_facility_registry()}
    expected = {
        "KG-R-SIZO-1": ("KG-SIZO", "KG-GB"), "KG-R-SIZO-5": ("KG-SIZO", "KG-GO"),
        "KG-R-SIZO-3": ("KG-SIZO", "KG-Y"), "KG-R-COL-2": ("KG-COL-WOMEN", "KG-C"),
        "KG-R-VK-14": ("KG-COL-EDU", "KG-C"), "KG-R-COL-31": ("KG-HOSP-TB", "KG-C"),
        "KG-R-HOSP-47": ("KG-HOSP", "KG-GB"),
    }
    for code, (ftype, region) in expected.items():
        assert (rows[code]["type"], rows[code]["region"]) == (ftype, region), code
    assert "Stepnoe" in rows["KG-R-COL-2"]["name"]["en"]
    assert "women" in rows["KG-R-COL-2"]["populations"]
    assert rows["KG-R-VK-14"]["populations"] == ["juveniles"]


# -- complaints and reports ----------------------------------------------------


def test_complaint_categories_and_channels():
    data = kg.npmtool_complaint_categories()
    categories = {c["code"]: c for c in data["categories"]}
    assert set(categories) == {"torture_ill_treatment", "health_care", "conditions", "family_contact",
                               "legal_safeguards", "discrimination", "other"}
    assert categories["torture_ill_treatment"]["urgent"] is True
    assert categories["torture_ill_treatment"]["weight"] == max(c["weight"] for c in categories.values())
    assert {c["code"]: c["kind"] for c in data["channels"]} == {
        "web": "web", "letter": "letter", "hotline": "hotline", "visit": "visit", "ngo": "ngo"}


def test_report_formats():
    formats = {f["code"]: f for f in kg.npmtool_report_formats()}
    assert set(formats) == {"visit_report", "annual_report"}
    assert formats["visit_report"]["scope"] == "visit"
    assert formats["annual_report"]["scope"] == "annual"
    for f in formats.values():
        assert {"ky", "ru"} <= set(f["languages"])
        assert set(f["outputs"]) == {"html", "docx", "pdf"}
    annual = {s["code"] for s in formats["annual_report"]["sections"]}
    assert "recommendations_status" in annual
    visit_titles = " ".join(s["titles"]["en"] for s in formats["visit_report"]["sections"])
    for kind in ("special", "comprehensive", "interim"):
        assert kind in visit_titles


# -- visit validation ----------------------------------------------------------


def make_visit(visit_type, purpose="", roles=()):
    return SimpleNamespace(visit_type=visit_type, purpose=purpose, country_code="KG",
                           team_members=[SimpleNamespace(role=r) for r in roles])


def test_special_visit_needs_its_purpose():
    [problem] = kg.npmtool_validate_visit(visit=make_visit("special", "  ", ["lead", "member"]))
    assert problem["level"] == "error"
    assert {"ru", "en", "ky"} <= set(problem["message"])
    assert kg.npmtool_validate_visit(visit=make_visit("special", "Report of a death in SIZO-1", ["lead"])) == []


def test_comprehensive_visit_warns_about_a_small_team():
    [problem] = kg.npmtool_validate_visit(visit=make_visit("comprehensive", roles=["lead"]))
    assert problem["level"] == "warning"
    assert {"ru", "en", "ky"} <= set(problem["message"])
    assert "1" in problem["message"]["en"]
    assert kg.npmtool_validate_visit(visit=make_visit("comprehensive", roles=["lead", "expert"])) == []
    # Only the team roles count.
    assert kg.npmtool_validate_visit(visit=make_visit("comprehensive", roles=["lead", "observer"]))


def test_interim_visit_has_no_extra_rules():
    assert kg.npmtool_validate_visit(visit=make_visit("interim")) == []


# -- the core's own validation ---------------------------------------------------


def test_core_accepts_the_plugin_and_passes_settings_through():
    from npmtool import plugins

    plugins.validate_plugin_module(kg, "kyrgyzstan")
    body = {"names": {"ru": "Акыйкатчы", "en": "Ombudsman"}}
    host = plugins.PluginHost(enabled=[], extra=[("kyrgyzstan", kg)],
                              settings={"kyrgyzstan": {"npm_body": body}})
    assert host.catalogue.countries["KG"]["npm_body"]["names"] == body["names"]
    messages = host.validate_visit(make_visit("special"))
    assert [m["level"] for m in messages] == ["error"]
