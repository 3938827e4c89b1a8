"""Facts a user of the Uzbekistan plugin relies on, checked on the hook
implementations themselves (no Flask application needed)."""

from __future__ import annotations

import re
from types import SimpleNamespace


import npmtool_uzbekistan as uz

ISO_REGIONS = {
    "UZ-QR", "UZ-AN", "UZ-BU", "UZ-FA", "UZ-JI", "UZ-QA", "UZ-XO",
    "UZ-NG", "UZ-NW", "UZ-SA", "UZ-SU", "UZ-SI", "UZ-TO", "UZ-TK",
}
CYRILLIC = re.compile(r"[\u0400-\u04FF]")


def _l10n_values(data):
    """Every L10n dict (a dict with both 'ru' and 'en') found in a structure."""
    if isinstance(data, dict):
        if "ru" in data and "en" in data and all(isinstance(v, str) for v in data.values()):
            yield data
        else:
            for value in data.values():
                yield from _l10n_values(value)
    elif isinstance(data, list):
        for value in data:
            yield from _l10n_values(value)


def _everything():
    return [uz.npmtool_country({}), uz.npmtool_authorities(), uz.npmtool_facility_types(),
            uz.npmtool_legal_sources(), uz.npmtool_checklists(), uz.npmtool_facility_registry(),
            uz.npmtool_complaint_categories(), uz.npmtool_report_formats()]


def _items(template):
    return [item for section in template["sections"] for item in section["items"]]


def test_country_has_all_fourteen_iso_regions_and_the_three_visit_types():
    country = uz.npmtool_country({})
    assert country["code"] == "UZ"
    assert country["languages"][0] == "uz"
    assert {r["code"] for r in country["regions"]} == ISO_REGIONS
    kinds = {r["code"]: r["kind"] for r in country["regions"]}
    assert kinds["UZ-TK"] == "city" and kinds["UZ-QR"] == "region"
    assert [v["code"] for v in country["visit_types"]] == ["monitoring", "unannounced", "follow_up"]
    assert "Ombudsman" in country["npm_body"]["names"]["en"]


def test_npm_body_can_be_replaced_by_settings():
    body = {"names": {"ru": "Новый орган", "en": "New body", "uz": "Yangi organ"}}
    assert uz.npmtool_country({"npm_body": body})["npm_body"] == body
    assert uz.npmtool_country({})["npm_body"] != body


def test_every_text_has_russian_english_and_uzbek_in_latin_script():
    for data in _everything():
        for text in _l10n_values(data):
            assert text["ru"].strip() and text["en"].strip(), text
            assert "uz" in text, text
            assert not CYRILLIC.search(text["uz"]), f"Uzbek text not in Latin script: {text['uz']}"


def test_facility_types_point_to_declared_authorities_and_norms_to_cited_articles():
    authorities = {a["code"] for a in uz.npmtool_authorities()}
    sources = {s["code"]: s for s in uz.npmtool_legal_sources()}
    types = {t["code"]: t for t in uz.npmtool_facility_types()}
    for ftype in types.values():
        assert ftype["authority"] in authorities, ftype["code"]
        basis = ftype.get("norm_basis")
        if basis:
            articles = {a["number"] for a in sources[basis["source"]].get("articles", [])}
            assert basis["article"] in articles, ftype["code"]
    assert types["UZ-SIZO"]["category"] == "pretrial"
    assert types["UZ-SIZO"]["authority"] == "UZ-MIA-DEP"
    assert types["UZ-COLONY-SETTLEMENT"]["norms"] == {"min_m2_per_person": 4.5}
    assert types["UZ-CARE-HOME"]["authority"] == "UZ-NASP"
    for regime in ("SETTLEMENT", "GENERAL", "STRICT", "SPECIAL", "EDUCATIONAL"):
        assert types[f"UZ-COLONY-{regime}"]["category"] == "prison"


def test_every_checklist_item_cites_an_article_listed_in_the_plugins_own_sources():
    sources = {s["code"]: {a["number"] for a in s.get("articles", [])} for s in uz.npmtool_legal_sources()}
    for template in uz.npmtool_checklists():
        for item in _items(template):
            assert item["legal_basis"], item["code"]
            for ref in item["legal_basis"]:
                assert ref["source"] in sources, (item["code"], ref)
                assert str(ref["article"]) in sources[ref["source"]], (item["code"], ref)


def test_main_checklist_shape_and_answer_types():
    templates = {t["code"]: t for t in uz.npmtool_checklists()}
    main = templates["UZ-PV"]
    items = _items(main)
    assert 20 <= len(items) <= 35
    assert 4 <= len(main["sections"]) <= 7
    assert set(main["applies_to"]["categories"]) == {"prison", "pretrial"}
    types = [i["answer_type"] for i in items]
    assert {"rating", "yesno", "number", "choice", "measurement"} <= set(types)
    assert types.count("rating") > len(types) / 2
    measurement = [i for i in items if i["answer_type"] == "measurement"]
    assert measurement[0]["measurement"] == {"kind": "area_per_person", "norm": "min_m2_per_person"}
    codes = [i["code"] for t in templates.values() for i in _items(t)]
    assert len(codes) == len(set(codes))
    assert all(c.startswith("UZ-") for c in codes)


def test_ombudsman_box_is_checked_and_cites_article_24_of_the_ombudsman_law():
    items = _items({t["code"]: t for t in uz.npmtool_checklists()}["UZ-PV"])
    box_items = [i for i in items if {"source": "UZ-LAW-OMBUDSMAN", "article": "24"} in i["legal_basis"]]
    assert len(box_items) >= 3
    who_opened = next(i for i in box_items if i["answer_type"] == "choice")
    assert {c["code"] for c in who_opened["choices"]} >= {"ombudsman_staff", "facility_staff"}


def test_legal_sources_carry_their_official_numbers_and_dates():
    sources = {s["code"]: s for s in uz.npmtool_legal_sources()}
    assert (sources["UZ-CEC"]["number"], sources["UZ-CEC"]["date"]) == ("409-I", "1997-04-25")
    assert (sources["UZ-LAW-DETENTION"]["number"], sources["UZ-LAW-DETENTION"]["date"]) == ("ZRU-298", "2011-09-29")
    assert (sources["UZ-LAW-OMBUDSMAN"]["number"], sources["UZ-LAW-OMBUDSMAN"]["date"]) == ("ZRU-1002", "2024-11-15")
    assert {"number": "ZRU-441", "date": "2017-08-29"} in sources["UZ-LAW-OMBUDSMAN-1997"]["amended"]
    assert sources["UZ-LAW-ZRU558"]["number"] == "ZRU-558"
    for source in sources.values():
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", source["date"]), source["code"]


def test_registry_rows_use_known_types_and_regions_with_approximate_city_centres():
    regions = {r["code"] for r in uz.npmtool_country({})["regions"]}
    types = {t["code"] for t in uz.npmtool_facility_types()}
    rows = uz.npmtool_facility_registry()
    assert 15 <= len(rows) <= 40
    assert len({r["code"] for r in rows}) == len(rows)
    for row in rows:
        assert row["type"] in types, row["code"]
        assert row["region"] in regions, row["code"]
        assert {"ru", "en"} <= set(row["name"]), row["code"]
        assert "coordinates approximate (city centre" in row["notes"].lower(), row["code"]
        assert 37.0 <= row["lat"] <= 45.6 and 55.9 <= row["lon"] <= 73.2, row["code"]
        assert "figures" not in row  # figures only where DOMAIN.md gives them
    sizo = [r for r in rows if r["type"] == "UZ-SIZO"]
    assert 1 <= len(sizo) <= 11  # Uzbekistan has 11 pre-trial centres
    by_code = {r["code"]: r for r in rows}
    assert by_code["UZ-R-SIZO-02"]["region"] == "UZ-QR"
    assert by_code["UZ-R-COL-21"]["populations"] == ["women"]


def test_complaint_channels_include_the_ombudsman_box_and_torture_is_urgent():
    complaints = uz.npmtool_complaint_categories()
    categories = {c["code"]: c for c in complaints["categories"]}
    assert {"torture_ill_treatment", "health_care", "conditions", "family_contact",
            "legal_safeguards", "discrimination", "other"} <= set(categories)
    torture = categories["torture_ill_treatment"]
    assert torture["urgent"] is True
    assert torture["weight"] == max(c["weight"] for c in categories.values())
    kinds = {c["code"]: c["kind"] for c in complaints["channels"]}
    assert kinds["box"] == "box"
    assert {"web", "letter", "hotline", "visit", "ngo"} <= set(kinds.values())


def test_report_formats():
    formats = {f["code"]: f for f in uz.npmtool_report_formats()}
    assert formats["monitoring_visit_report"]["scope"] == "visit"
    assert formats["period_summary"]["scope"] == "period"
    for fmt in formats.values():
        assert {"uz", "ru"} <= set(fmt["languages"])
        assert set(fmt["outputs"]) == {"html", "docx", "pdf"}
    assert "complaint_boxes" in [s["code"] for s in formats["period_summary"]["sections"]]


def _visit(visit_type="monitoring", purpose="", roles=("lead", "member")):
    return SimpleNamespace(country_code="UZ", visit_type=visit_type, purpose=purpose,
                           team_members=[SimpleNamespace(role=r) for r in roles])


def test_validate_visit_warns_without_an_expert():
    messages = uz.npmtool_validate_visit(_visit())
    assert [m["level"] for m in messages] == ["warning"]
    assert {"ru", "en", "uz"} <= set(messages[0]["message"])
    assert uz.npmtool_validate_visit(_visit(roles=("lead", "expert"))) == []
    assert [m["level"] for m in uz.npmtool_validate_visit(_visit(roles=()))] == ["warning"]


def test_validate_visit_blocks_an_unannounced_visit_without_purpose():
    errors = [m for m in uz.npmtool_validate_visit(_visit("unannounced", "  ", ("lead", "expert")))
              if m["level"] == "error"]
    assert len(errors) == 1 and {"ru", "en", "uz"} <= set(errors[0]["message"])
    assert uz.npmtool_validate_visit(_visit("unannounced", "Complaint of 3 May", ("expert",))) == []
    assert uz.npmtool_validate_visit(_visit("follow_up", "", ("expert",))) == []


def test_the_core_accepts_the_plugin():
    from npmtool import plugins

    catalogue = plugins.validate_plugin_module(uz, "uzbekistan")
    mine = catalogue.contributions("uzbekistan")
    assert mine["country"]["code"] == "UZ"
    assert len(mine["registry"]) == len(uz.npmtool_facility_registry())
