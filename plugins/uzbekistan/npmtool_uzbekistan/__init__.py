"""npmtool plugin for Uzbekistan: the Ombudsman as NPM, with the public groups
on the prevention of torture.

Hook implementations only; the country's data lives in ``data/*.yaml``.
"""

from __future__ import annotations

from typing import Any

from npmtool.hookspecs import hookimpl
from npmtool.plugin_data import PluginData

__version__ = "0.1.0"

DATA = PluginData(__name__)


@hookimpl
def npmtool_country(settings: dict[str, Any]) -> dict[str, Any]:
    country = DATA.yaml("country.yaml")
    npm_body = (settings or {}).get("npm_body")
    if npm_body:
        country["npm_body"] = npm_body
    return country


@hookimpl
def npmtool_authorities() -> list[dict[str, Any]]:
    return DATA.yaml("authorities.yaml")


@hookimpl
def npmtool_facility_types() -> list[dict[str, Any]]:
    return DATA.yaml("facility_types.yaml")


@hookimpl
def npmtool_legal_sources() -> list[dict[str, Any]]:
    return DATA.yaml("legal_sources.yaml")


@hookimpl
def npmtool_checklists() -> list[dict[str, Any]]:
    return [DATA.yaml("checklists/" + name) for name in DATA.names("checklists")]


@hookimpl
def npmtool_facility_registry() -> list[dict[str, Any]]:
    return DATA.yaml("registry.yaml")


@hookimpl
def npmtool_complaint_categories() -> dict[str, Any]:
    return DATA.yaml("complaints.yaml")


@hookimpl
def npmtool_report_formats() -> list[dict[str, Any]]:
    return DATA.yaml("reports.yaml")


@hookimpl
def npmtool_validate_visit(visit: Any) -> list[dict[str, Any]]:
    """Warn when no team member is an expert (the public groups bring doctors,
    lawyers, psychologists); block an unannounced visit without a purpose."""
    messages = DATA.yaml("messages.yaml")
    result = []
    roles = {str(getattr(member, "role", "") or "").lower() for member in (visit.team_members or [])}
    if "expert" not in roles:
        result.append({"level": "warning", "message": messages["no_expert"]})
    if visit.visit_type == "unannounced" and not (visit.purpose or "").strip():
        result.append({"level": "error", "message": messages["unannounced_without_purpose"]})
    return result
