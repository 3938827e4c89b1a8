"""The plugin contract, checked for every installed plugin: each one loads on
its own beside the core plugins, and what it contributes holds together."""

from __future__ import annotations

import types
from importlib.metadata import entry_points

import pytest

from npmtool.hookspecs import PROJECT_NAME
from npmtool.plugins import CORE_PLUGINS, PluginHost

INSTALLED = sorted(ep.name for ep in entry_points(group=PROJECT_NAME))
COUNTRY_PLUGINS = [name for name in INSTALLED if name not in CORE_PLUGINS]


def test_the_three_countries_and_the_international_plugin_are_installed():
    assert {"international", "kazakhstan", "kyrgyzstan", "uzbekistan"} <= set(INSTALLED)


@pytest.fixture(scope="module")
def hosts():
    return {name: PluginHost(enabled=sorted({*CORE_PLUGINS, name})) for name in INSTALLED}


@pytest.mark.parametrize("name", INSTALLED)
def test_plugin_loads_beside_the_core_plugins(hosts, name):
    assert name in hosts[name].info


@pytest.mark.parametrize("name", COUNTRY_PLUGINS)
def test_country_plugin_describes_its_country(hosts, name):
    catalogue = hosts[name].catalogue
    contributions = catalogue.contributions(name)
    country = contributions["country"]
    assert country is not None, f"{name} must implement npmtool_country"
    assert country["regions"] and country["visit_types"] and country["languages"]
    assert set(country["npm_body"]["names"]) >= {"ru", "en"}
    assert contributions["authorities"], "addressees of recommendations"
    assert contributions["facility_types"]
    assert contributions["legal_sources"]
    assert contributions["checklists"], "a first legal checklist"
    assert contributions["registry"], "a seed registry"
    assert contributions["complaints"] and contributions["complaints"]["channels"]
    assert contributions["report_formats"]


@pytest.mark.parametrize("name", COUNTRY_PLUGINS)
def test_country_checklists_cite_the_countrys_own_law(hosts, name):
    catalogue = hosts[name].catalogue
    code = catalogue.plugins[name].country_code
    for template in catalogue.contributions(name)["checklists"]:
        for section in template["sections"]:
            for item in section["items"]:
                countries = {catalogue.legal_sources[ref["source"]]["country"] for ref in item["legal_basis"]}
                assert code in countries, f"{item['code']} cites no law of {code}"
                assert all(ref["article"] for ref in item["legal_basis"])


@pytest.mark.parametrize("name", COUNTRY_PLUGINS)
def test_every_facility_type_has_an_authority_of_the_same_country(hosts, name):
    catalogue = hosts[name].catalogue
    for facility_type in catalogue.contributions(name)["facility_types"]:
        assert catalogue.authorities[facility_type["authority"]]["country"] == facility_type["country"]


@pytest.mark.parametrize("name", COUNTRY_PLUGINS)
def test_state_language_is_offered(hosts, name):
    country = hosts[name].catalogue.contributions(name)["country"]
    state_language = country["languages"][0]
    assert state_language in ("kk", "ky", "uz")
    assert state_language in country["names"]


@pytest.mark.parametrize("name", COUNTRY_PLUGINS)
def test_npmtool_validate_visit_answers_with_checked_messages(hosts, name):
    host = hosts[name]
    code = host.catalogue.plugins[name].country_code
    visit_type = host.catalogue.countries[code]["visit_types"][0]["code"]
    member = types.SimpleNamespace(role="lead", user=None, expertise="")
    facility = types.SimpleNamespace(facility_type=types.SimpleNamespace(code="", category="prison"))
    visit = types.SimpleNamespace(country_code=code, visit_type=visit_type, purpose="", team_members=[member],
                                  facility=facility, starts_on=None, ends_on=None)
    messages = host.validate_visit(visit)  # validated by the host: level and L10n message
    assert all(m["level"] in ("error", "warning") for m in messages)


def test_measurement_items_name_a_norm_some_facility_type_defines():
    host = PluginHost()
    norms = {name for t in host.catalogue.facility_types.values() for name in t["norms"]}
    for template in host.catalogue.checklists.values():
        for section in template["sections"]:
            for item in section["items"]:
                if item["answer_type"] == "measurement":
                    assert item["options"]["measurement"]["norm"] in norms, item["code"]
