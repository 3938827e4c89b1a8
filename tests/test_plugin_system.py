"""The plugin system: discovery, validation at start-up, enabling, events."""

from __future__ import annotations

import inspect
import logging
import re
import types
from pathlib import Path

import pytest

from npmtool import hookspecs
from npmtool.hookspecs import hookimpl
from npmtool.plugins import PluginError, PluginHost

TESTS = Path(__file__).parent


def plugin_module(name: str, **hooks) -> types.ModuleType:
    """A plugin built in memory from hook functions."""
    module = types.ModuleType(name)
    for hook_name, function in hooks.items():
        function.__name__ = hook_name
        setattr(module, hook_name, hookimpl(function))
    return module


def country(**overrides) -> dict:
    data = {"code": "TJ", "names": {"ru": "Таджикистан", "en": "Tajikistan"},
            "npm_body": {"names": {"ru": "Уполномоченный по правам человека", "en": "Human Rights Commissioner"}},
            "languages": ["ru"],
            "regions": [{"code": "TJ-DU", "names": {"ru": "Душанбе", "en": "Dushanbe"}, "kind": "city"}],
            "visit_types": [{"code": "regular", "names": {"ru": "Плановый", "en": "Regular"}}]}
    data.update(overrides)
    return data


def host_with(module) -> PluginHost:
    return PluginHost(enabled=["international"], extra=[("testland", module)])


def test_a_valid_in_memory_plugin_loads():
    host = host_with(plugin_module("ok", npmtool_country=lambda: country()))
    assert host.catalogue.countries["TJ"]["plugin"] == "testland"
    assert host.info["testland"].country_code == "TJ"


@pytest.mark.parametrize("hooks,field,problem", [
    ({"npmtool_country": lambda: country(names={"en": "Tajikistan"})}, "country.names.ru", "is required"),
    ({"npmtool_country": lambda: country(code="Tajikistan")}, "country.code", "ISO 3166-1"),
    ({"npmtool_country": lambda: country(regions=[{"code": "XX-1", "names": {"ru": "a", "en": "a"}}])},
     "country.regions[0].code", "must start with 'TJ-'"),
    ({"npmtool_country": lambda: country(),
      "npmtool_authorities": lambda: [{"code": "TJ-MOJ", "names": {"ru": "Минюст", "en": "MoJ"}}],
      "npmtool_facility_types": lambda: [{"code": "TJ-SIZO", "names": {"ru": "СИЗО", "en": "SIZO"},
                                          "category": "pretrial", "authority": "TJ-NOPE"}]},
     "facility_types[0].authority", "unknown authority 'TJ-NOPE'"),
    ({"npmtool_country": lambda: country(),
      "npmtool_checklists": lambda: [{"code": "TJ-CL", "version": "1", "titles": {"ru": "Т", "en": "T"},
                                      "sections": [{"code": "S1", "titles": {"ru": "Р", "en": "S"}, "items": [
                                          {"code": "TJ-CL-1", "question": {"ru": "В?", "en": "Q?"},
                                           "answer_type": "rating",
                                           "legal_basis": [{"source": "TJ-CODE", "article": "5"}]}]}]}]},
     "checklists[0].sections[0].items[0].legal_basis[0].source", "unknown legal source 'TJ-CODE'"),
    ({"npmtool_country": lambda: country(),
      "npmtool_legal_sources": lambda: [{"code": "TJ-CODE", "kind": "code", "titles": {"ru": "К", "en": "C"},
                                         "date": "31 June 2014"}]},
     "legal_sources[0].date", "is not a date"),
    ({"npmtool_authorities": lambda: [{"code": "X-1", "names": {"ru": "a", "en": "a"}}]},
     "authorities", "needs a country"),
    ({"npmtool_country": lambda: country(),
      "npmtool_complaint_categories": lambda: {"categories": [{"code": "torture", "names": {"ru": "П", "en": "T"}}],
                                               "channels": [{"code": "pigeon", "kind": "pigeon",
                                                             "names": {"ru": "Г", "en": "P"}}]}},
     "complaint_categories.channels[0].kind", "is not one of"),
])
def test_bad_plugin_data_stops_start_up_naming_plugin_and_field(hooks, field, problem):
    with pytest.raises(PluginError) as error:
        host_with(plugin_module("bad", **hooks))
    message = str(error.value)
    assert message.startswith("plugin 'testland': ")
    assert f"{field}: " in message and problem in message


def test_duplicate_codes_across_plugins_are_refused():
    from npmtool.plugins import CORE_PLUGINS

    def sources():
        return [{"code": "INT-CAT", "kind": "treaty", "titles": {"ru": "К", "en": "C"}, "date": "1984-12-10"}]

    with pytest.raises(PluginError) as error:
        PluginHost(enabled=list(CORE_PLUGINS), extra=[("copycat", plugin_module("c", npmtool_legal_sources=sources))])
    assert "also by plugin 'international'" in str(error.value)


def test_a_misspelt_hook_name_stops_start_up():
    module = types.ModuleType("typo")

    @hookimpl
    def npmtool_countri():
        return None

    module.npmtool_countri = npmtool_countri
    with pytest.raises(PluginError) as error:
        host_with(module)
    assert "testland" in str(error.value) and "npmtool_countri" in str(error.value)


def test_a_hook_that_raises_at_start_up_is_named():
    def explode():
        raise KeyError("regions")

    with pytest.raises(PluginError) as error:
        host_with(plugin_module("boom", npmtool_country=explode))
    assert "plugin 'testland': npmtool_country failed: KeyError" in str(error.value)


def test_plugin_settings_reach_the_hook():
    seen = {}

    def with_settings(settings):
        seen.update(settings)
        return country()

    PluginHost(enabled=["international"], settings={"testland": {"npm_body": "configured"}},
               extra=[("testland", plugin_module("s", npmtool_country=with_settings))])
    assert seen == {"npm_body": "configured"}


def test_enabled_list_limits_plugins(make_app):
    app = make_app({"PLUGINS": ["international", "kyrgyzstan"]})
    assert list(app.extensions["npmtool"].info) == ["international", "kyrgyzstan"]
    assert list(app.extensions["npmtool"].catalogue.countries) == ["KG"]


def test_enabling_a_plugin_that_is_not_installed_fails(make_app):
    with pytest.raises(PluginError) as error:
        make_app({"PLUGINS": ["international", "atlantis"]})
    assert "plugin 'atlantis': is enabled in PLUGINS but not installed" in str(error.value)


def test_event_hook_failure_is_logged_not_raised(caplog):
    calls = []

    def npmtool_visit_submitted(visit):
        calls.append(visit)
        raise RuntimeError("mail server down")

    host = host_with(plugin_module("ev", npmtool_country=lambda: country(),
                                   npmtool_visit_submitted=npmtool_visit_submitted))
    with caplog.at_level(logging.ERROR):
        host.notify("npmtool_visit_submitted", visit="visit-1")
    assert calls == ["visit-1"]
    assert "testland" in caplog.text and "mail server down" in caplog.text


def test_validate_visit_is_asked_only_of_the_visits_country():
    asked = []

    def validate(visit):
        asked.append(visit.country_code)
        return [{"level": "error", "message": {"ru": "Нет команды", "en": "No team"}}]

    host = host_with(plugin_module("v", npmtool_country=lambda: country(), npmtool_validate_visit=validate))
    other = types.SimpleNamespace(country_code="KG", team_members=[], visit_type="x", purpose="")
    own = types.SimpleNamespace(country_code="TJ", team_members=[], visit_type="x", purpose="")
    assert [m for m in host.validate_visit(other) if m["plugin"] == "testland"] == []
    messages = [m for m in host.validate_visit(own) if m["plugin"] == "testland"]
    assert messages == [{"plugin": "testland", "level": "error", "message": {"ru": "Нет команды", "en": "No team"}}]
    assert asked == ["TJ"]


def test_validate_visit_messages_are_checked():
    host = host_with(plugin_module("v", npmtool_country=lambda: country(),
                                   npmtool_validate_visit=lambda visit: [{"level": "fatal", "message": "x"}]))
    with pytest.raises(PluginError) as error:
        host.validate_visit(types.SimpleNamespace(country_code="TJ"))
    assert "validate_visit[0].level" in str(error.value)


# -- the hook specification is the plugin author's reference ---------------

HOOKS = [name for name, _ in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("npmtool_")]


@pytest.mark.parametrize("name", HOOKS)
def test_every_hook_is_documented(name):
    doc = inspect.getdoc(getattr(hookspecs, name)) or ""
    assert len(doc) >= 40, f"{name} needs a docstring saying when it is called and what it returns"


@pytest.mark.parametrize("name", HOOKS)
def test_every_hook_has_a_test(name):
    tests_text = "\n".join(p.read_text(encoding="utf-8") for p in TESTS.rglob("test_*.py"))
    uses = len(re.findall(rf"\b{name}\b", tests_text))
    assert uses >= 1, f"no test exercises {name}"


@pytest.mark.parametrize("hook_name,kwargs", [
    ("npmtool_recommendation_status_changed",
     {"recommendation": "rec-1", "old_status": "in_progress", "new_status": "implemented"}),
    ("npmtool_complaint_received", {"complaint": "complaint-1"}),
])
def test_event_hooks_reach_plugins_with_fewer_arguments(hook_name, kwargs):
    received = []

    def handler(**given):
        received.append(given)

    # An implementation may take fewer arguments than the spec offers.
    first_arg = next(iter(kwargs))
    implementation = eval(f"lambda {first_arg}: handler(**{{'{first_arg}': {first_arg}}})", {"handler": handler})
    host = host_with(plugin_module("events", npmtool_country=lambda: country(), **{hook_name: implementation}))
    host.notify(hook_name, **kwargs)
    assert received == [{first_arg: kwargs[first_arg]}]
