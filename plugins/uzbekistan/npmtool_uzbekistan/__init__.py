"""npmtool plugin for Uzbekistan: the Ombudsman as NPM, with the public groups
on the prevention of torture.

Hook implementations only; the country's data lives in ``data/*.yaml``.
"""

from __future__ import annotations

from typing import Any

from npmtool.hookspecs import hookimpl
from npmtool.plugin_data import PluginData, standard_hooks

__version__ = "0.1.0"

DATA = PluginData(__name__)
# country.yaml, authorities.yaml, … answer their hooks as they are; this module
# holds only the Uzbek rules.
globals().update(standard_hooks(DATA))


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
