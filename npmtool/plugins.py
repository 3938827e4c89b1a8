"""The plugin manager: finds plugins, checks what they return, answers hooks.

One ``PluginHost`` per application (``app.extensions["npmtool"]``), created
in ``create_app``: tests get a fresh one each and never leak plugins.

Everything a set-up hook returns is validated once, at start-up. A mistake
stops the application with a ``PluginError`` naming the plugin and the field,
e.g. ``plugin 'kazakhstan': checklists[0].sections[1].items[3].legal_basis[0].source:
unknown legal source 'KZ-PEK'``.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any, Callable, Iterable

import pluggy

from npmtool import hookspecs
from npmtool.hookspecs import PROJECT_NAME

log = logging.getLogger(__name__)

# Plugins that ship inside the core package, registered from this explicit
# list (and also declared as entry points so they can be disabled like any
# other plugin).
CORE_PLUGINS = ("international",)

LANGUAGE_CODES = ("ru", "en", "kk", "ky", "uz", "kaa")
REQUIRED_LANGUAGES = ("ru", "en")
CATEGORIES = (
    "prison", "pretrial", "police_custody", "psychiatric", "drug_treatment",
    "children", "social_care", "military", "migration", "other",
)
POPULATIONS = ("men", "women", "juveniles", "children")
ANSWER_TYPES = ("rating", "yesno", "number", "choice", "text", "measurement")
MEASUREMENT_KINDS = ("area_per_person",)
LEGAL_KINDS = ("law", "code", "decree", "order", "rules", "treaty", "standard", "protocol")
CHANNEL_KINDS = ("web", "box", "terminal", "letter", "hotline", "ngo", "visit", "email")
REPORT_SCOPES = ("visit", "annual", "period")
REPORT_OUTPUTS = ("html", "docx", "pdf")
FIGURE_KINDS = ("population", "capacity", "staff")

UPPER_CODE = re.compile(r"^[A-Z0-9][A-Z0-9._-]*$")
LOWER_CODE = re.compile(r"^[a-z][a-z0-9_]*$")


class PluginError(Exception):
    """A plugin is missing, cannot be imported, or returned bad data."""

    def __init__(self, plugin: str, problem: str, field_path: str = "") -> None:
        self.plugin = plugin
        self.field_path = field_path
        self.problem = problem
        where = f"{field_path}: " if field_path else ""
        super().__init__(f"plugin '{plugin}': {where}{problem}")


# --------------------------------------------------------------------------
# Validation helpers: each takes the path of the value for the message.
# --------------------------------------------------------------------------


class _Checker:
    def __init__(self, plugin: str) -> None:
        self.plugin = plugin

    def fail(self, path: str, problem: str) -> PluginError:
        return PluginError(self.plugin, problem, path)

    def mapping(self, path: str, value: Any, required: Iterable[str] = ()) -> dict:
        if not isinstance(value, dict):
            raise self.fail(path, f"expected a mapping, got {type(value).__name__}")
        for key in required:
            if key not in value or value[key] is None:
                raise self.fail(f"{path}.{key}" if path else key, "is required")
        return value

    def sequence(self, path: str, value: Any, *, allow_empty: bool = True) -> list:
        if not isinstance(value, (list, tuple)):
            raise self.fail(path, f"expected a list, got {type(value).__name__}")
        if not allow_empty and not value:
            raise self.fail(path, "must not be empty")
        return list(value)

    def text(self, path: str, value: Any, *, allow_empty: bool = False) -> str:
        if not isinstance(value, str) or (not allow_empty and not value.strip()):
            raise self.fail(path, "expected a non-empty string")
        return value.strip()

    def l10n(self, path: str, value: Any) -> dict[str, str]:
        self.mapping(path, value)
        for lang in REQUIRED_LANGUAGES:
            if not isinstance(value.get(lang), str) or not value[lang].strip():
                raise self.fail(f"{path}.{lang}", "is required (every text needs Russian and English)")
        result = {}
        for lang, text in value.items():
            if lang not in LANGUAGE_CODES:
                raise self.fail(f"{path}.{lang}", f"unknown language code; use one of {', '.join(LANGUAGE_CODES)}")
            result[lang] = self.text(f"{path}.{lang}", text)
        return result

    def upper_code(self, path: str, value: Any) -> str:
        if not isinstance(value, str) or not UPPER_CODE.match(value):
            raise self.fail(path, f"{value!r} is not a code (upper-case letters, digits, '.', '-', '_')")
        return value

    def lower_code(self, path: str, value: Any) -> str:
        if not isinstance(value, str) or not LOWER_CODE.match(value):
            raise self.fail(path, f"{value!r} is not a code (lower-case letters, digits, '_')")
        return value

    def choice(self, path: str, value: Any, allowed: Iterable[str]) -> str:
        allowed = tuple(allowed)
        if value not in allowed:
            raise self.fail(path, f"{value!r} is not one of {', '.join(allowed)}")
        return value

    def iso_date(self, path: str, value: Any) -> date:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            raise self.fail(path, f"{value!r} is not a date YYYY-MM-DD") from None

    def number(self, path: str, value: Any, *, minimum: float | None = None, integer: bool = False) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and not isinstance(value, int)):
            raise self.fail(path, f"{value!r} is not a {'whole ' if integer else ''}number")
        if minimum is not None and value < minimum:
            raise self.fail(path, f"{value!r} is below {minimum}")
        return value

    def unique(self, path: str, code: str, seen: dict[str, str], owner: str) -> None:
        if code in seen:
            other = seen[code]
            where = "twice" if other == owner else f"also by plugin '{other}'"
            raise self.fail(path, f"code {code!r} is defined {where}")
        seen[code] = owner


# --------------------------------------------------------------------------
# The validated catalogue of everything plugins contribute
# --------------------------------------------------------------------------


@dataclass
class PluginInfo:
    name: str
    version: str
    module: Any
    country_code: str | None = None


@dataclass
class Catalogue:
    """Validated plugin data, keyed by code; every entry carries ``plugin``
    and ``country`` (None for contributions that apply everywhere)."""

    plugins: dict[str, PluginInfo] = field(default_factory=dict)
    countries: dict[str, dict] = field(default_factory=dict)
    authorities: dict[str, dict] = field(default_factory=dict)
    facility_types: dict[str, dict] = field(default_factory=dict)
    legal_sources: dict[str, dict] = field(default_factory=dict)
    checklists: dict[str, dict] = field(default_factory=dict)
    registry: dict[str, dict] = field(default_factory=dict)
    complaints: dict[str, dict] = field(default_factory=dict)  # by country
    report_formats: dict[str, list[dict]] = field(default_factory=dict)  # by country

    def contributions(self, plugin: str) -> dict[str, Any]:
        """What one plugin contributes, for `npmtool plugins` and the admin page."""

        def mine(entries: dict[str, dict]) -> list[dict]:
            return [e for e in entries.values() if e["plugin"] == plugin]

        info = self.plugins[plugin]
        country = self.countries.get(info.country_code or "")
        return {
            "country": country,
            "authorities": mine(self.authorities),
            "facility_types": mine(self.facility_types),
            "legal_sources": mine(self.legal_sources),
            "checklists": mine(self.checklists),
            "registry": mine(self.registry),
            "complaints": self.complaints.get(info.country_code or ""),
            "report_formats": self.report_formats.get(info.country_code or "", []),
        }


# --------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------


def _discover(enabled: list[str] | None) -> list[tuple[str, str, Callable[[], Any]]]:
    """(name, version, loader) of installed plugins, in a stable order:
    core plugins first, then by name."""
    found = {}
    for ep in entry_points(group=PROJECT_NAME):
        version = ep.dist.version if ep.dist is not None else "?"
        found[ep.name] = (ep.name, version, ep.load)
    if enabled is not None:
        missing = [name for name in enabled if name not in found]
        if missing:
            raise PluginError(missing[0], "is enabled in PLUGINS but not installed "
                              f"(installed: {', '.join(sorted(found)) or 'none'})")
        found = {name: found[name] for name in enabled}
    return sorted(found.values(), key=lambda e: (e[0] not in CORE_PLUGINS, e[0]))


class PluginHost:
    """The application's plugin manager and the validated catalogue."""

    def __init__(self, enabled: list[str] | None = None, settings: dict[str, dict] | None = None,
                 extra: Iterable[tuple[str, ModuleType | object]] = ()) -> None:
        self.settings = settings or {}
        self.pm = pluggy.PluginManager(PROJECT_NAME)
        self.pm.add_hookspecs(hookspecs)
        self.info: dict[str, PluginInfo] = {}
        for name, version, load in _discover(enabled):
            try:
                module = load()
            except Exception as exc:  # an import error in a plugin stops start-up, named
                raise PluginError(name, f"cannot be imported: {type(exc).__name__}: {exc}") from exc
            self._register(name, version, module)
        for name, module in extra:
            self._register(name, getattr(module, "__version__", "local"), module)
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            raise PluginError(exc.plugin and self.pm.get_name(exc.plugin) or "?", str(exc)) from exc
        self.catalogue = build_catalogue(self)

    def _register(self, name: str, version: str, module: Any) -> None:
        if name in self.info:
            raise PluginError(name, "is registered twice")
        try:
            self.pm.register(module, name=name)
        except pluggy.PluginValidationError as exc:
            raise PluginError(name, str(exc)) from exc
        self.info[name] = PluginInfo(name=name, version=version, module=module)

    # -- calling hooks ------------------------------------------------------

    def call_each(self, hook_name: str, plugins: Iterable[str] | None = None, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call ``hook_name`` on each plugin separately, returning
        ``(plugin name, result)``. Each implementation gets only the
        arguments it asks for, and its own ``settings``."""
        wanted = set(plugins) if plugins is not None else None
        results = []
        for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
            if wanted is not None and impl.plugin_name not in wanted:
                continue
            available = dict(kwargs, settings=dict(self.settings.get(impl.plugin_name, {})))
            args = {name: available[name] for name in impl.argnames}
            results.append((impl.plugin_name, impl.function(**args)))
        return results

    def plugins_for_country(self, country_code: str) -> list[str]:
        """The country's own plugin and every plugin without a country."""
        return [name for name, info in self.info.items()
                if info.country_code in (None, country_code)]

    def validate_visit(self, visit: Any) -> list[dict]:
        """Messages of ``npmtool_validate_visit`` for this visit, each with
        ``plugin``, ``level`` and ``message`` (L10n)."""
        messages = []
        for plugin, result in self.call_each("npmtool_validate_visit",
                                             self.plugins_for_country(visit.country_code), visit=visit):
            check = _Checker(plugin)
            for i, entry in enumerate(check.sequence("validate_visit", result or [])):
                path = f"validate_visit[{i}]"
                check.mapping(path, entry, ("level", "message"))
                messages.append({
                    "plugin": plugin,
                    "level": check.choice(f"{path}.level", entry["level"], ("error", "warning")),
                    "message": check.l10n(f"{path}.message", entry["message"]),
                })
        return messages

    def notify(self, hook_name: str, **kwargs: Any) -> None:
        """Fire an event hook. A failing plugin is logged, never the user's problem."""
        for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
            try:
                impl.function(**{name: kwargs[name] for name in impl.argnames})
            except Exception:
                log.exception("plugin %r failed in %s", impl.plugin_name, hook_name)


# --------------------------------------------------------------------------
# Building and validating the catalogue
# --------------------------------------------------------------------------


def build_catalogue(host: PluginHost) -> Catalogue:
    cat = Catalogue(plugins=host.info)
    # Order matters: countries before what refers to regions, legal sources
    # (of every plugin) before checklists that cite them.
    for plugin, result in _safe_calls(host, "npmtool_country"):
        if result is not None:
            _add_country(cat, _Checker(plugin), plugin, result)
    for plugin, result in _safe_calls(host, "npmtool_legal_sources"):
        _add_legal_sources(cat, _Checker(plugin), plugin, result)
    for plugin, result in _safe_calls(host, "npmtool_authorities"):
        _add_authorities(cat, _Checker(plugin), plugin, result)
    for plugin, result in _safe_calls(host, "npmtool_facility_types"):
        _add_facility_types(cat, _Checker(plugin), plugin, result)
    for plugin, result in _safe_calls(host, "npmtool_checklists"):
        _add_checklists(cat, _Checker(plugin), plugin, result)
    for plugin, result in _safe_calls(host, "npmtool_facility_registry"):
        _add_registry(cat, _Checker(plugin), plugin, result)
    for plugin, result in _safe_calls(host, "npmtool_complaint_categories"):
        if result is not None:
            _add_complaints(cat, _Checker(plugin), plugin, result)
    for plugin, result in _safe_calls(host, "npmtool_report_formats"):
        _add_report_formats(cat, _Checker(plugin), plugin, result)
    return cat


def _safe_calls(host: PluginHost, hook_name: str) -> list[tuple[str, Any]]:
    results = []
    for impl in getattr(host.pm.hook, hook_name).get_hookimpls():
        try:
            results.extend(host.call_each(hook_name, [impl.plugin_name]))
        except PluginError:
            raise
        except Exception as exc:
            raise PluginError(impl.plugin_name, f"{hook_name} failed: {type(exc).__name__}: {exc}") from exc
    return results


def _country_of(cat: Catalogue, check: _Checker, plugin: str, what: str) -> str:
    code = cat.plugins[plugin].country_code
    if code is None:
        raise check.fail(what, "needs a country: implement npmtool_country in this plugin")
    return code


def _add_country(cat: Catalogue, check: _Checker, plugin: str, data: Any) -> None:
    check.mapping("country", data, ("code", "names", "npm_body", "languages", "regions", "visit_types"))
    code = data["code"]
    if not (isinstance(code, str) and re.fullmatch(r"[A-Z]{2}", code)):
        raise check.fail("country.code", f"{code!r} is not an ISO 3166-1 alpha-2 code")
    if code in cat.countries:
        raise check.fail("country.code", f"country {code} is also served by plugin '{cat.countries[code]['plugin']}'")
    body = check.mapping("country.npm_body", data["npm_body"], ("names",))
    languages = [check.choice(f"country.languages[{i}]", lang, LANGUAGE_CODES)
                 for i, lang in enumerate(check.sequence("country.languages", data["languages"], allow_empty=False))]
    regions, seen = [], {}
    for i, region in enumerate(check.sequence("country.regions", data["regions"], allow_empty=False)):
        path = f"country.regions[{i}]"
        check.mapping(path, region, ("code", "names"))
        rcode = check.upper_code(f"{path}.code", region["code"])
        if not rcode.startswith(code + "-"):
            raise check.fail(f"{path}.code", f"{rcode!r} must start with '{code}-' (ISO 3166-2)")
        check.unique(f"{path}.code", rcode, seen, plugin)
        regions.append({"code": rcode, "names": check.l10n(f"{path}.names", region["names"]),
                        "kind": check.choice(f"{path}.kind", region.get("kind", "region"), ("region", "city"))})
    visit_types, seen = [], {}
    for i, vt in enumerate(check.sequence("country.visit_types", data["visit_types"], allow_empty=False)):
        path = f"country.visit_types[{i}]"
        check.mapping(path, vt, ("code", "names"))
        vcode = check.lower_code(f"{path}.code", vt["code"])
        check.unique(f"{path}.code", vcode, seen, plugin)
        visit_types.append({"code": vcode, "names": check.l10n(f"{path}.names", vt["names"]),
                            "description": check.l10n(f"{path}.description", vt["description"])
                            if vt.get("description") else None})
    cat.plugins[plugin].country_code = code
    cat.countries[code] = {
        "plugin": plugin, "code": code, "names": check.l10n("country.names", data["names"]),
        "npm_body": {"names": check.l10n("country.npm_body.names", body["names"]),
                     "description": check.l10n("country.npm_body.description", body["description"])
                     if body.get("description") else None},
        "languages": languages, "regions": regions, "visit_types": visit_types,
    }


def _add_authorities(cat: Catalogue, check: _Checker, plugin: str, data: Any) -> None:
    entries = check.sequence("authorities", data or [])
    if not entries:
        return
    country = _country_of(cat, check, plugin, "authorities")
    own = {}
    for i, entry in enumerate(entries):
        path = f"authorities[{i}]"
        check.mapping(path, entry, ("code", "names"))
        code = check.upper_code(f"{path}.code", entry["code"])
        check.unique(f"{path}.code", code, {k: v["plugin"] for k, v in cat.authorities.items()}, plugin)
        own[code] = {
            "plugin": plugin, "country": country, "code": code,
            "names": check.l10n(f"{path}.names", entry["names"]),
            "short": check.l10n(f"{path}.short", entry["short"]) if entry.get("short") else None,
            "parent": entry.get("parent"),
            "order": int(check.number(f"{path}.order", entry.get("order", i + 1), integer=True)),
        }
        cat.authorities[code] = own[code]
    for i, entry in enumerate(own.values()):
        if entry["parent"] is not None and entry["parent"] not in own:
            raise check.fail(f"authorities[{i}].parent", f"unknown authority {entry['parent']!r}")


def _add_facility_types(cat: Catalogue, check: _Checker, plugin: str, data: Any) -> None:
    entries = check.sequence("facility_types", data or [])
    if not entries:
        return
    country = _country_of(cat, check, plugin, "facility_types")
    for i, entry in enumerate(entries):
        path = f"facility_types[{i}]"
        check.mapping(path, entry, ("code", "names", "category", "authority"))
        code = check.upper_code(f"{path}.code", entry["code"])
        check.unique(f"{path}.code", code, {k: v["plugin"] for k, v in cat.facility_types.items()}, plugin)
        authority = entry["authority"]
        if cat.authorities.get(authority, {}).get("country") != country:
            raise check.fail(f"{path}.authority", f"unknown authority {authority!r} (declare it in npmtool_authorities)")
        norms = check.mapping(f"{path}.norms", entry.get("norms") or {})
        for key, value in norms.items():
            check.lower_code(f"{path}.norms", key)
            check.number(f"{path}.norms.{key}", value, minimum=0)
        basis = entry.get("norm_basis")
        if basis is not None:
            check.mapping(f"{path}.norm_basis", basis, ("source",))
            if basis["source"] not in cat.legal_sources:
                raise check.fail(f"{path}.norm_basis.source", f"unknown legal source {basis['source']!r}")
        cat.facility_types[code] = {
            "plugin": plugin, "country": country, "code": code,
            "names": check.l10n(f"{path}.names", entry["names"]),
            "category": check.choice(f"{path}.category", entry["category"], CATEGORIES),
            "authority": authority, "norms": dict(norms), "norm_basis": basis,
        }


def _add_legal_sources(cat: Catalogue, check: _Checker, plugin: str, data: Any) -> None:
    country = cat.plugins[plugin].country_code
    for i, entry in enumerate(check.sequence("legal_sources", data or [])):
        path = f"legal_sources[{i}]"
        check.mapping(path, entry, ("code", "kind", "titles", "date"))
        code = check.upper_code(f"{path}.code", entry["code"])
        check.unique(f"{path}.code", code, {k: v["plugin"] for k, v in cat.legal_sources.items()}, plugin)
        articles = []
        for j, article in enumerate(check.sequence(f"{path}.articles", entry.get("articles") or [])):
            apath = f"{path}.articles[{j}]"
            check.mapping(apath, article, ("number",))
            articles.append({"number": str(article["number"]),
                             "titles": check.l10n(f"{apath}.titles", article["titles"]) if article.get("titles") else None})
        amended = []
        for j, amendment in enumerate(check.sequence(f"{path}.amended", entry.get("amended") or [])):
            apath = f"{path}.amended[{j}]"
            check.mapping(apath, amendment, ("date",))
            amended.append({"number": str(amendment.get("number") or ""),
                            "date": check.iso_date(f"{apath}.date", amendment["date"]).isoformat()})
        cat.legal_sources[code] = {
            "plugin": plugin, "country": country, "code": code,
            "kind": check.choice(f"{path}.kind", entry["kind"], LEGAL_KINDS),
            "titles": check.l10n(f"{path}.titles", entry["titles"]),
            "number": str(entry.get("number") or ""),
            "date": check.iso_date(f"{path}.date", entry["date"]),
            "articles": articles, "amended": amended,
        }


def _applies_to(cat: Catalogue, check: _Checker, path: str, value: Any) -> dict:
    value = check.mapping(path, value or {})
    result = {}
    for key, allowed in (("categories", CATEGORIES), ("populations", POPULATIONS)):
        if key in value:
            result[key] = [check.choice(f"{path}.{key}[{i}]", v, allowed)
                           for i, v in enumerate(check.sequence(f"{path}.{key}", value[key], allow_empty=False))]
    if "facility_types" in value:
        codes = check.sequence(f"{path}.facility_types", value["facility_types"], allow_empty=False)
        for i, code in enumerate(codes):
            if code not in cat.facility_types:
                raise check.fail(f"{path}.facility_types[{i}]", f"unknown facility type {code!r}")
        result["facility_types"] = list(codes)
    unknown = set(value) - {"categories", "populations", "facility_types"}
    if unknown:
        raise check.fail(path, f"unknown key {sorted(unknown)[0]!r}")
    return result


def _add_checklists(cat: Catalogue, check: _Checker, plugin: str, data: Any) -> None:
    country = cat.plugins[plugin].country_code
    item_codes = {code: tpl["plugin"] for tpl in cat.checklists.values() for code in
                  (item["code"] for section in tpl["sections"] for item in section["items"])}
    for t, entry in enumerate(check.sequence("checklists", data or [])):
        path = f"checklists[{t}]"
        check.mapping(path, entry, ("code", "version", "titles", "sections"))
        code = check.upper_code(f"{path}.code", entry["code"])
        check.unique(f"{path}.code", code, {k: v["plugin"] for k, v in cat.checklists.items()}, plugin)
        sections, section_codes = [], {}
        for s, section in enumerate(check.sequence(f"{path}.sections", entry["sections"], allow_empty=False)):
            spath = f"{path}.sections[{s}]"
            check.mapping(spath, section, ("code", "titles", "items"))
            scode = check.upper_code(f"{spath}.code", str(section["code"]))
            check.unique(f"{spath}.code", scode, section_codes, plugin)
            items = [_checklist_item(cat, check, f"{spath}.items[{i}]", item, item_codes, plugin)
                     for i, item in enumerate(check.sequence(f"{spath}.items", section["items"], allow_empty=False))]
            sections.append({"code": scode, "titles": check.l10n(f"{spath}.titles", section["titles"]), "items": items})
        cat.checklists[code] = {
            "plugin": plugin, "country": country, "code": code,
            "version": check.text(f"{path}.version", str(entry["version"])),
            "titles": check.l10n(f"{path}.titles", entry["titles"]),
            "applies_to": _applies_to(cat, check, f"{path}.applies_to", entry.get("applies_to")),
            "sections": sections,
        }


def _checklist_item(cat: Catalogue, check: _Checker, path: str, item: Any, seen: dict, plugin: str) -> dict:
    check.mapping(path, item, ("code", "question", "legal_basis", "answer_type"))
    code = check.upper_code(f"{path}.code", item["code"])
    check.unique(f"{path}.code", code, seen, plugin)
    basis = []
    for i, ref in enumerate(check.sequence(f"{path}.legal_basis", item["legal_basis"], allow_empty=False)):
        rpath = f"{path}.legal_basis[{i}]"
        check.mapping(rpath, ref, ("source", "article"))
        if ref["source"] not in cat.legal_sources:
            raise check.fail(f"{rpath}.source", f"unknown legal source {ref['source']!r}")
        basis.append({"source": ref["source"], "article": check.text(f"{rpath}.article", str(ref["article"]))})
    answer_type = check.choice(f"{path}.answer_type", item["answer_type"], ANSWER_TYPES)
    options: dict[str, Any] = {}
    if answer_type == "choice":
        choices = check.sequence(f"{path}.choices", item.get("choices"), allow_empty=False)
        options["choices"] = []
        choice_codes: dict[str, str] = {}
        for i, choice in enumerate(choices):
            cpath = f"{path}.choices[{i}]"
            check.mapping(cpath, choice, ("code", "labels"))
            ccode = check.lower_code(f"{cpath}.code", choice["code"])
            check.unique(f"{cpath}.code", ccode, choice_codes, plugin)
            options["choices"].append({"code": ccode, "labels": check.l10n(f"{cpath}.labels", choice["labels"])})
    if answer_type == "number" and item.get("unit"):
        options["unit"] = check.l10n(f"{path}.unit", item["unit"])
    if answer_type == "measurement":
        measurement = check.mapping(f"{path}.measurement", item.get("measurement"), ("kind", "norm"))
        options["measurement"] = {
            "kind": check.choice(f"{path}.measurement.kind", measurement["kind"], MEASUREMENT_KINDS),
            "norm": check.lower_code(f"{path}.measurement.norm", measurement["norm"]),
        }
    return {
        "code": code,
        "question": check.l10n(f"{path}.question", item["question"]),
        "guidance": check.l10n(f"{path}.guidance", item["guidance"]) if item.get("guidance") else None,
        "legal_basis": basis, "answer_type": answer_type, "options": options,
        "applies_to": _applies_to(cat, check, f"{path}.applies_to", item.get("applies_to")),
    }


def _add_registry(cat: Catalogue, check: _Checker, plugin: str, data: Any) -> None:
    entries = check.sequence("facility_registry", data or [])
    if not entries:
        return
    country = _country_of(cat, check, plugin, "facility_registry")
    regions = {r["code"] for r in cat.countries[country]["regions"]}
    for i, entry in enumerate(entries):
        path = f"facility_registry[{i}]"
        check.mapping(path, entry, ("code", "name", "type", "region"))
        code = check.upper_code(f"{path}.code", entry["code"])
        check.unique(f"{path}.code", code, {k: v["plugin"] for k, v in cat.registry.items()}, plugin)
        if cat.facility_types.get(entry["type"], {}).get("country") != country:
            raise check.fail(f"{path}.type", f"unknown facility type {entry['type']!r}")
        if entry["region"] not in regions:
            raise check.fail(f"{path}.region", f"unknown region {entry['region']!r}")
        lat, lon = entry.get("lat"), entry.get("lon")
        if (lat is None) != (lon is None):
            raise check.fail(f"{path}.lat", "lat and lon go together")
        if lat is not None:
            check.number(f"{path}.lat", lat)
            check.number(f"{path}.lon", lon)
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise check.fail(f"{path}.lat", f"({lat}, {lon}) is not a point on Earth")
        figures = []
        for j, figure in enumerate(check.sequence(f"{path}.figures", entry.get("figures") or [])):
            fpath = f"{path}.figures[{j}]"
            check.mapping(fpath, figure, ("kind", "value", "as_of", "source"))
            figures.append({"kind": check.choice(f"{fpath}.kind", figure["kind"], FIGURE_KINDS),
                            "value": int(check.number(f"{fpath}.value", figure["value"], minimum=0, integer=True)),
                            "as_of": check.iso_date(f"{fpath}.as_of", figure["as_of"]),
                            "source": check.text(f"{fpath}.source", figure["source"])})
        capacity = entry.get("capacity")
        cat.registry[code] = {
            "plugin": plugin, "country": country, "code": code,
            "name": check.l10n(f"{path}.name", entry["name"]),
            "type": entry["type"], "region": entry["region"],
            "address": str(entry.get("address") or ""),
            "lat": lat, "lon": lon,
            "capacity": int(check.number(f"{path}.capacity", capacity, minimum=0, integer=True)) if capacity is not None else None,
            "populations": [check.choice(f"{path}.populations[{j}]", p, POPULATIONS)
                            for j, p in enumerate(check.sequence(f"{path}.populations", entry.get("populations") or []))],
            "figures": figures, "notes": str(entry.get("notes") or ""),
        }


def _add_complaints(cat: Catalogue, check: _Checker, plugin: str, data: Any) -> None:
    country = _country_of(cat, check, plugin, "complaint_categories")
    check.mapping("complaint_categories", data, ("categories", "channels"))
    categories, seen = [], {}
    for i, entry in enumerate(check.sequence("complaint_categories.categories", data["categories"], allow_empty=False)):
        path = f"complaint_categories.categories[{i}]"
        check.mapping(path, entry, ("code", "names"))
        code = check.lower_code(f"{path}.code", entry["code"])
        check.unique(f"{path}.code", code, seen, plugin)
        categories.append({"code": code, "names": check.l10n(f"{path}.names", entry["names"]),
                           "weight": float(check.number(f"{path}.weight", entry.get("weight", 1), minimum=0)),
                           "urgent": bool(entry.get("urgent", False))})
    channels, seen = [], {}
    for i, entry in enumerate(check.sequence("complaint_categories.channels", data["channels"], allow_empty=False)):
        path = f"complaint_categories.channels[{i}]"
        check.mapping(path, entry, ("code", "kind", "names"))
        code = check.lower_code(f"{path}.code", entry["code"])
        check.unique(f"{path}.code", code, seen, plugin)
        channels.append({"code": code, "kind": check.choice(f"{path}.kind", entry["kind"], CHANNEL_KINDS),
                         "names": check.l10n(f"{path}.names", entry["names"])})
    response_days = check.mapping("complaint_categories.response_days", data.get("response_days") or {})
    for key, value in response_days.items():
        check.number(f"complaint_categories.response_days.{key}", value, minimum=1, integer=True)
    cat.complaints[country] = {"plugin": plugin, "categories": categories, "channels": channels,
                               "response_days": dict(response_days)}


def _add_report_formats(cat: Catalogue, check: _Checker, plugin: str, data: Any) -> None:
    entries = check.sequence("report_formats", data or [])
    if not entries:
        return
    country = _country_of(cat, check, plugin, "report_formats")
    formats, seen = cat.report_formats.setdefault(country, []), {}
    for i, entry in enumerate(entries):
        path = f"report_formats[{i}]"
        check.mapping(path, entry, ("code", "titles", "scope", "outputs", "languages", "sections"))
        code = check.lower_code(f"{path}.code", entry["code"])
        check.unique(f"{path}.code", code, seen, plugin)
        render = entry.get("render")
        if render is not None and not callable(render):
            raise check.fail(f"{path}.render", "must be callable")
        sections = []
        for j, section in enumerate(check.sequence(f"{path}.sections", entry["sections"], allow_empty=False)):
            spath = f"{path}.sections[{j}]"
            check.mapping(spath, section, ("code", "titles"))
            sections.append({"code": check.lower_code(f"{spath}.code", section["code"]),
                             "titles": check.l10n(f"{spath}.titles", section["titles"]),
                             **_section_options(cat, check, spath, section, country)})
        formats.append({
            "plugin": plugin, "country": country, "code": code,
            "titles": check.l10n(f"{path}.titles", entry["titles"]),
            "scope": check.choice(f"{path}.scope", entry["scope"], REPORT_SCOPES),
            "outputs": [check.choice(f"{path}.outputs[{j}]", o, REPORT_OUTPUTS)
                        for j, o in enumerate(check.sequence(f"{path}.outputs", entry["outputs"], allow_empty=False))],
            "languages": [check.choice(f"{path}.languages[{j}]", lang, LANGUAGE_CODES)
                          for j, lang in enumerate(check.sequence(f"{path}.languages", entry["languages"], allow_empty=False))],
            "sections": sections, "render": render,
        })


def _section_options(cat: Catalogue, check: _Checker, path: str, section: dict, country: str) -> dict:
    """Optional keys of a report section: which of the core's section
    builders fills it (``builder``, default: its code), a fixed paragraph
    (``text``, L10n) and what it covers (``authorities``, ``facility_types``,
    ``topics``: codes), e.g. a chapter of an annual report per authority."""
    options: dict[str, Any] = {}
    if section.get("builder") is not None:
        options["builder"] = check.lower_code(f"{path}.builder", section["builder"])
    if section.get("text") is not None:
        options["text"] = check.l10n(f"{path}.text", section["text"])
    for key, known in (("authorities", cat.authorities), ("facility_types", cat.facility_types)):
        if section.get(key) is None:
            continue
        codes = [check.upper_code(f"{path}.{key}[{i}]", code)
                 for i, code in enumerate(check.sequence(f"{path}.{key}", section[key], allow_empty=False))]
        for i, code in enumerate(codes):
            if code not in known or known[code].get("country", country) != country:
                raise check.fail(f"{path}.{key}[{i}]", f"{code!r} is not one of this country's {key.replace('_', ' ')}")
        options[key] = codes
    if section.get("topics") is not None:
        options["topics"] = [check.lower_code(f"{path}.topics[{i}]", code)
                             for i, code in enumerate(check.sequence(f"{path}.topics", section["topics"], allow_empty=False))]
    return options


def validate_plugin_module(module: Any, name: str = "candidate") -> Catalogue:
    """Validate one plugin module on its own together with the core plugins,
    for plugin authors: ``python -c "import npmtool.plugins as p, mymod; p.validate_plugin_module(mymod)"``."""
    host = PluginHost(enabled=list(CORE_PLUGINS), extra=[(name, module)])
    return host.catalogue
