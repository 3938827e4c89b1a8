"""Every hook an npmtool plugin may implement.

A plugin is a module (or object) whose functions are marked with ``hookimpl``
and whose distribution declares an entry point in the group ``npmtool``::

    [options.entry_points]
    npmtool =
        kazakhstan = npmtool_kazakhstan

Conventions shared by all hooks
-------------------------------
* Hooks are called with keyword arguments. An implementation may accept fewer
  arguments than the spec lists (that is how a spec grows without breaking
  plugins).
* *Set-up hooks* (``npmtool_country`` … ``npmtool_report_formats``) return plain
  data: dicts, lists, strings, numbers, dates as ``"YYYY-MM-DD"`` strings. The
  core calls them once per plugin when the application starts, validates every
  field and refuses to start with a message naming the plugin and the field.
  Data from set-up hooks is copied into the database by ``npmtool init``.
* A **localized text** (``L10n`` below) is a dict from language code to string,
  for example ``{"ru": "Следственный изолятор", "en": "Pre-trial detention
  centre", "kk": "Тергеу изоляторы"}``. ``ru`` and ``en`` are required; any of
  ``kk``, ``ky``, ``uz``, ``kaa`` may be added.
* **Codes** are stable identifiers that never change once data refers to them:
  upper-case ASCII letters, digits, ``-``, ``.`` and ``_``. Codes of regions,
  authorities, facility types, legal sources, checklists and checklist items
  must be unique across *all* installed plugins, so country plugins prefix them
  with the country code (``KZ-SIZO``, ``KG-CEC``). Visit-type, channel and
  complaint-category codes are lower-case words unique within one country.
* A plugin answers for one country at most: the country it returns from
  ``npmtool_country``. Its facility types, authorities, registry, complaint
  categories and report formats belong to that country. A plugin that returns
  no country (like the built-in ``international`` plugin) may still contribute
  legal sources and checklists that apply to every country.
* Per-visit hooks (``npmtool_validate_visit``) are called only on the visit's
  country plugin and on plugins without a country.
* Event hooks (past tense) are notifications: their return value is ignored
  and an exception inside them is logged, never shown to the user.
* ``settings`` is the deployment's dict for this plugin, taken from the
  configuration key ``PLUGIN_SETTINGS[<plugin name>]`` (empty by default).
"""

from __future__ import annotations

from typing import Any

import pluggy

#: One name serves as marker name, entry-point group and hook prefix.
PROJECT_NAME = "npmtool"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


# --------------------------------------------------------------------------
# Set-up hooks: reference data
# --------------------------------------------------------------------------


@hookspec
def npmtool_country(settings: dict[str, Any]) -> dict[str, Any] | None:
    """Describe the country this plugin serves, or return ``None``.

    Called once at start-up. Return a dict:

    ``code``
        ISO 3166-1 alpha-2 code, e.g. ``"KZ"``.
    ``names``
        L10n name of the country.
    ``npm_body``
        dict with ``names`` (L10n: the body that acts as NPM) and optional
        ``description`` (L10n: how it is organised). Deployments change it
        through ``settings["npm_body"]`` when a law moves the mandate, so a
        plugin should honour that key instead of hard-coding its body.
    ``languages``
        language codes in order of preference, state language first,
        e.g. ``["kk", "ru"]``.
    ``regions``
        list of dicts: ``code`` (ISO 3166-2, e.g. ``"KZ-AKM"``), ``names``
        (L10n), ``kind`` (``"region"`` or ``"city"``).
    ``visit_types``
        list of dicts: ``code`` (lower-case word, e.g. ``"planned"``),
        ``names`` (L10n), optional ``description`` (L10n).
    """


@hookspec
def npmtool_authorities(settings: dict[str, Any]) -> list[dict[str, Any]]:
    """List the authorities that run places of detention and receive
    recommendations (ministries, services, committees).

    Each dict: ``code`` (unique, e.g. ``"KZ-MIA-CPS"``), ``names`` (L10n),
    optional ``short`` (L10n abbreviation, e.g. ``{"ru": "КУИС", ...}``),
    optional ``parent`` (code of the authority it belongs to, from the same
    plugin) and optional ``order`` (int, position in national reports, which
    are often organised by authority).
    """


@hookspec
def npmtool_facility_types(settings: dict[str, Any]) -> list[dict[str, Any]]:
    """List the kinds of places of detention of the plugin's country.

    Each dict:

    ``code``
        unique, e.g. ``"KZ-SIZO"``.
    ``names``
        L10n.
    ``category``
        one of the core's categories, used by checklists that apply across
        countries: ``prison``, ``pretrial``, ``police_custody``,
        ``psychiatric``, ``drug_treatment``, ``children``, ``social_care``,
        ``military``, ``migration``, ``other``.
    ``authority``
        code of the supervising authority (from ``npmtool_authorities``).
    ``norms``
        optional dict from norm name to a positive number, e.g.
        ``{"min_m2_per_person": 2.5}``; measurement items of checklists refer
        to norms by these names.
    ``norm_basis``
        optional legal basis of the norms: ``{"source": <legal source code>,
        "article": "71"}``.
    """


@hookspec
def npmtool_legal_sources(settings: dict[str, Any]) -> list[dict[str, Any]]:
    """Catalogue the laws, codes, decrees, orders and international standards
    that checklist items and recommendations cite.

    Each dict: ``code`` (unique, e.g. ``"KZ-PEC"``), ``kind`` (``law``,
    ``code``, ``decree``, ``order``, ``rules``, ``treaty``, ``standard``),
    ``titles`` (L10n), ``number`` (official number as printed, e.g.
    ``"234-V"``; ``""`` if it has none), ``date`` (adoption date
    ``"YYYY-MM-DD"``), optional ``amended`` (list of ``{"number", "date"}``)
    and optional ``articles`` (list of ``{"number": "46", "titles": L10n}``).
    """


@hookspec
def npmtool_checklists(settings: dict[str, Any]) -> list[dict[str, Any]]:
    """Provide checklist templates for preventive visits.

    Templates are snapshotted in the database by ``(code, version)``: a visit
    keeps the exact questions it was asked after the plugin changes. Change
    ``version`` whenever the content changes; the core refuses to load a
    template whose content changed under an existing version.

    Each template dict:

    ``code``, ``version`` (string, e.g. ``"2026.1"``), ``titles`` (L10n),
    ``applies_to``
        optional dict narrowing the facilities it is used in:
        ``categories`` (list of categories), ``facility_types`` (list of
        codes) and/or ``populations`` (list of ``men``, ``women``,
        ``juveniles``, ``children``). Missing means every facility.
    ``sections``
        list of ``{"code", "titles": L10n, "items": [...]}``.

    Each item dict:

    ``code``
        unique across all plugins, e.g. ``"KZ-PV-2.3"``.
    ``question``, optional ``guidance``
        L10n.
    ``legal_basis``
        non-empty list of ``{"source": <legal source code>, "article": "46"}``
        (``article`` may name a rule or paragraph: ``"Rule 43"``, ``"Art. 46 p. 2"``).
    ``answer_type``
        ``rating`` (complete / partly / not yet / not applicable), ``yesno``,
        ``number`` (with optional ``unit``: L10n), ``choice`` (with
        ``choices``: list of ``{"code", "labels": L10n}``), ``text``, or
        ``measurement`` (with ``measurement``: ``{"kind": "area_per_person",
        "norm": "min_m2_per_person"}`` — the monitor enters the cell area in m²
        and the number of occupants and the answer is compared with the norm
        of the facility's type).
    ``applies_to``
        optional, same shape as the template's, narrows one item.
    """


@hookspec
def npmtool_facility_registry(settings: dict[str, Any]) -> list[dict[str, Any]]:
    """Seed the registry of places of detention with known institutions.

    Loaded by ``npmtool init``: new codes are added, existing ones are left as
    the users edited them. Each dict: ``code`` (unique), ``name`` (L10n),
    ``type`` (facility type code), ``region`` (region code), optional
    ``address``, ``lat`` and ``lon`` (decimal degrees), ``capacity`` (int),
    ``populations`` (list of ``men``, ``women``, ``juveniles``,
    ``children``), ``figures`` (list of ``{"kind": "population" |
    "capacity" | "staff", "value": int, "as_of": "YYYY-MM-DD", "source":
    str}``) and ``notes``.
    """


@hookspec
def npmtool_complaint_categories(settings: dict[str, Any]) -> dict[str, Any] | None:
    """Describe how complaints reach the NPM in the plugin's country.

    Return a dict: ``categories`` (list of ``{"code", "names": L10n,
    "weight": number ≥ 0 used to rank facilities by risk, "urgent": bool}``),
    ``channels`` (list of ``{"code", "kind": "web" | "box" | "terminal" |
    "letter" | "hotline" | "ngo" | "visit" | "email", "names": L10n}``) and
    optional ``response_days`` (dict from complaint status to the number of
    days allowed in it).
    """


@hookspec
def npmtool_report_formats(settings: dict[str, Any]) -> list[dict[str, Any]]:
    """Declare the report formats of the plugin's country.

    Each dict: ``code`` (unique within the country), ``titles`` (L10n),
    ``scope`` (``visit``, ``annual`` or ``period``), ``outputs`` (subset of
    ``html``, ``docx``, ``pdf``), ``languages`` (language codes the format is
    written in), ``sections`` (ordered list of ``{"code", "titles": L10n}``)
    and optional ``render`` (a callable ``render(context, output, language)``
    returning bytes; formats without one are rendered by the core's generic
    renderer from their sections).
    """


# --------------------------------------------------------------------------
# Per-visit hooks
# --------------------------------------------------------------------------


@hookspec
def npmtool_validate_visit(visit: Any, settings: dict[str, Any]) -> list[dict[str, Any]]:
    """Check a visit before it is submitted for review.

    Called on the visit's country plugin and on plugins without a country.
    ``visit`` is the core's ``Visit`` model instance (read it, never change
    it). Return a list of ``{"level": "error" | "warning", "message": L10n}``;
    any error blocks submission and every message is shown to the team.
    """


# --------------------------------------------------------------------------
# Event hooks: notifications after the core has committed a change
# --------------------------------------------------------------------------


@hookspec
def npmtool_visit_submitted(visit: Any) -> None:
    """Called after a visit was submitted for review and committed."""


@hookspec
def npmtool_recommendation_status_changed(recommendation: Any, old_status: str, new_status: str) -> None:
    """Called after the NPM's assessment of a recommendation changed."""


@hookspec
def npmtool_complaint_received(complaint: Any) -> None:
    """Called after a complaint was recorded, from any channel."""
