"""Facts users of the Kazakhstan plugin rely on, checked on the hook results."""

from __future__ import annotations

from importlib.metadata import entry_points
from types import SimpleNamespace

import pytest

import npmtool_kazakhstan as kz

LANGS = ("ru", "en", "kk")


def _l10n_ok(text):
    return isinstance(text, dict) and all(isinstance(text.get(lang), str) and text[lang].strip() for lang in LANGS)


def _sources():
    return {s["code"]: s for s in kz.npmtool_legal_sources()}


def _items(template):
    return [item for section in template["sections"] for item in section["items"]]


def _checklist(code):
    return next(t for t in kz.npmtool_checklists() if t["code"] == code)


# -- country ---------------------------------------------------------------


def test_entry_point_is_declared():
    eps = {ep.name: ep.value for ep in entry_points(group="npmtool")}
    assert eps.get("kazakhstan") == "npmtool_kazakhstan"


def test_country_regions_are_all_iso_3166_2_codes():
    country = kz.npmtool_country({})
    assert country["code"] == "KZ"
    assert country["languages"][0] == "kk" and "ru" in country["languages"]
    regions = {r["code"]: r for r in country["regions"]}
    assert set(regions) == {
        "KZ-10", "KZ-11", "KZ-15", "KZ-19", "KZ-23", "KZ-27", "KZ-31", "KZ-33", "KZ-35", "KZ-39",
        "KZ-43", "KZ-47", "KZ-55", "KZ-59", "KZ-61", "KZ-62", "KZ-63", "KZ-71", "KZ-75", "KZ-79",
    }
    assert {c for c, r in regions.items() if r["kind"] == "city"} == {"KZ-71", "KZ-75", "KZ-79"}
    assert regions["KZ-62"]["names"]["en"] == "Ulytau Region"
    assert all(_l10n_ok(r["names"]) for r in regions.values())


def test_visit_types_are_planned_and_special():
    assert [v["code"] for v in kz.npmtool_country({})["visit_types"]] == ["planned", "special"]


def test_npm_body_is_the_commissioner_and_can_be_replaced_by_settings():
    body = kz.npmtool_country({})["npm_body"]
    assert "Commissioner for Human Rights" in body["names"]["en"]
    assert "Coordinating Council" in body["description"]["en"]
    other = {"names": {"ru": "Другой орган", "en": "Another body"}}
    assert kz.npmtool_country({"npm_body": other})["npm_body"] == other
    # the replacement does not leak into the next call
    assert kz.npmtool_country({})["npm_body"] == body


# -- authorities and facility types ----------------------------------------


def test_authorities_follow_the_consolidated_report_order():
    authorities = sorted(kz.npmtool_authorities(), key=lambda a: a["order"])
    assert [a["order"] for a in authorities] == list(range(1, 8))
    assert [a["code"] for a in authorities] == [
        "KZ-MIA-CPS", "KZ-MIA", "KZ-NSC", "KZ-MOD", "KZ-MOH", "KZ-MOE", "KZ-MLSP",
    ]
    assert authorities[0]["parent"] == "KZ-MIA"
    assert all(_l10n_ok(a["names"]) for a in authorities)


def test_every_facility_type_has_a_known_authority_and_category():
    authorities = {a["code"] for a in kz.npmtool_authorities()}
    types = kz.npmtool_facility_types()
    codes = [t["code"] for t in types]
    assert len(codes) == len(set(codes))
    for t in types:
        assert t["authority"] in authorities, t["code"]
        assert t["code"].startswith("KZ-")
        assert _l10n_ok(t["names"])
    # every authority runs at least one kind of place
    assert {t["authority"] for t in types} == authorities


def test_penal_system_has_one_type_per_security_level_of_art_89():
    cps = {t["code"]: t for t in kz.npmtool_facility_types() if t["authority"] == "KZ-MIA-CPS"}
    levels = {c for c, t in cps.items() if t["category"] == "prison"}
    assert levels == {"KZ-CI-MIN", "KZ-CI-MED", "KZ-CI-MED-JUV", "KZ-CI-MAX", "KZ-CI-EXT", "KZ-CI-TOT", "KZ-CI-MIX"}
    assert cps["KZ-SIZO"]["category"] == "pretrial"
    level_item = next(i for i in _items(_checklist("KZ-PV-PENAL")) if i["answer_type"] == "choice")
    assert len(level_item["choices"]) == len(levels)


# -- legal sources -----------------------------------------------------------


@pytest.mark.parametrize(
    "code, number, date, articles",
    [
        ("KZ-L-NPM-2013", "111-V", "2013-07-02", []),
        ("KZ-RULES-PV", "266", "2014-03-26", ["1"]),
        ("KZ-PEC", "234-V", "2014-07-05", ["46", "89"]),
        ("KZ-HC", "360-VI", "2020-07-07", ["171–174", "191"]),
        ("KZ-L-SPECINST", "353-I", "1999-03-30", ["46-17"]),
        ("KZ-L-CHILD", "345-II", "2002-08-08", ["47-8"]),
        ("KZ-L-MINORS", "591-II", "2004-07-09", ["33"]),
        ("KZ-L-SSS", "114-IV", "2008-12-29", ["11-8"]),
    ],
)
def test_legal_sources_of_the_npm_and_the_rules(code, number, date, articles):
    source = _sources()[code]
    assert source["number"] == number
    assert source["date"] == date
    assert set(articles) <= {a["number"] for a in source.get("articles", [])}
    assert _l10n_ok(source["titles"])


def test_rules_wording_of_2023_and_opcat_ratification():
    sources = _sources()
    assert sources["KZ-RULES-PV"]["amended"] == [{"number": "135", "date": "2023-02-16"}]
    assert "22 October 2008" in sources["KZ-OPCAT"]["titles"]["en"]


# -- checklists --------------------------------------------------------------


def test_every_checklist_item_cites_an_article_listed_in_a_kazakh_source():
    sources = _sources()
    codes = []
    for template in kz.npmtool_checklists():
        for item in _items(template):
            codes.append(item["code"])
            assert item["legal_basis"], item["code"]
            for ref in item["legal_basis"]:
                assert ref["source"] in sources, (item["code"], ref)
                listed = {a["number"] for a in sources[ref["source"]].get("articles", [])}
                assert ref["article"] in listed, (item["code"], ref)
            assert _l10n_ok(item["question"])
            if item.get("guidance"):
                assert _l10n_ok(item["guidance"])
    assert len(codes) == len(set(codes))
    assert all(c.startswith("KZ-") for c in codes)


def test_first_checklist_shape_and_answer_types():
    template = _checklist("KZ-PV-PENAL")
    items = _items(template)
    assert 20 <= len(items) <= 35
    assert 4 <= len(template["sections"]) <= 7
    types = [i["answer_type"] for i in items]
    assert types.count("rating") > len(items) / 2
    for needed in ("yesno", "number", "choice", "measurement"):
        assert needed in types
    measurement = next(i for i in items if i["answer_type"] == "measurement")
    assert measurement["measurement"] == {"kind": "area_per_person", "norm": "min_m2_per_person"}
    assert set(template["applies_to"]["categories"]) == {"prison", "pretrial", "police_custody"}


def test_compulsory_treatment_checklist_states_the_health_code_limits():
    template = _checklist("KZ-DT-COMPULSORY")
    assert template["applies_to"] == {"categories": ["drug_treatment"]}
    text = " ".join(i["question"]["en"] for i in _items(template))
    for fact in ("6 months to 2 years", "10 days", "mothers of children under 8", "men over 60", "women over 55"):
        assert fact in text


# -- registry ---------------------------------------------------------------


def test_registry_rows_refer_to_known_types_and_regions():
    types = {t["code"] for t in kz.npmtool_facility_types()}
    regions = {r["code"] for r in kz.npmtool_country({})["regions"]}
    rows = kz.npmtool_facility_registry()
    assert 15 <= len(rows) <= 40
    assert len({r["code"] for r in rows}) == len(rows)
    for row in rows:
        assert row["type"] in types, row["code"]
        assert row["region"] in regions, row["code"]
        assert _l10n_ok(row["name"])
        assert row["populations"]
        assert "coordinates approximate (city centre)" in row["notes"]
        assert 40.5 <= row["lat"] <= 55.5 and 46.5 <= row["lon"] <= 87.5, row["code"]
        assert "capacity" not in row  # no verified figures


# -- complaints and reports --------------------------------------------------


def test_complaints_torture_is_urgent_and_terminals_are_a_channel():
    data = kz.npmtool_complaint_categories()
    categories = {c["code"]: c for c in data["categories"]}
    for code in ("torture_ill_treatment", "health_care", "conditions", "family_contact",
                 "legal_safeguards", "discrimination", "other"):
        assert code in categories
    torture = categories["torture_ill_treatment"]
    assert torture["urgent"] is True
    assert torture["weight"] == max(c["weight"] for c in categories.values())
    kinds = {c["kind"] for c in data["channels"]}
    assert {"terminal", "web", "letter", "hotline", "visit"} <= kinds


def test_report_formats():
    formats = {f["code"]: f for f in kz.npmtool_report_formats()}
    assert set(formats) == {"group_visit_report", "annual_consolidated"}
    assert formats["group_visit_report"]["scope"] == "visit"
    assert formats["annual_consolidated"]["scope"] == "annual"
    for f in formats.values():
        assert {"kk", "ru"} <= set(f["languages"])
        assert f["outputs"] == ["html", "docx", "pdf"]
    sections = [s["code"] for s in formats["annual_consolidated"]["sections"]]
    by_authority = ["penal_institutions", "penal_sizo", "mia", "nsc", "mod", "moh", "education", "social_protection"]
    assert [s for s in sections if s in by_authority] == by_authority


# -- visit validation ---------------------------------------------------------


def _visit(members, visit_type="planned", purpose=""):
    team = [SimpleNamespace(role=role) for role in members]
    return SimpleNamespace(team_members=team, visit_type=visit_type, purpose=purpose, country_code="KZ")


def test_a_visit_needs_a_group_of_at_least_two():
    problems = kz.npmtool_validate_visit(_visit(["lead"]))
    assert [p["level"] for p in problems] == ["error"]
    assert _l10n_ok(problems[0]["message"])
    assert kz.npmtool_validate_visit(_visit(["lead", "member"])) == []
    assert kz.npmtool_validate_visit(_visit([]))[0]["level"] == "error"


def test_a_special_visit_without_purpose_is_warned():
    problems = kz.npmtool_validate_visit(_visit(["lead", "expert"], "special", "   "))
    assert [p["level"] for p in problems] == ["warning"]
    assert _l10n_ok(problems[0]["message"])
    assert kz.npmtool_validate_visit(_visit(["lead", "expert"], "special", "Complaint of beating")) == []
    # both rules at once; a visit type given as an object with .code also works
    both = kz.npmtool_validate_visit(_visit(["lead"], SimpleNamespace(code="special"), ""))
    assert sorted(p["level"] for p in both) == ["error", "warning"]


# -- the core's own validation ------------------------------------------------


def test_core_validation_accepts_the_plugin():
    from npmtool import plugins

    catalogue = plugins.validate_plugin_module(kz, "kazakhstan")
    contributed = catalogue.contributions("kazakhstan")
    assert contributed["country"]["code"] == "KZ"
    assert len(contributed["registry"]) == len(kz.npmtool_facility_registry())
