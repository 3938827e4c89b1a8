"""npmtool plugin for the Kyrgyz Republic.

Hook implementations only: every fact lives in the YAML files of ``data/`` so
that people who know the law can correct it without reading code.
"""

from __future__ import annotations

from typing import Any

from npmtool.hookspecs import hookimpl
from npmtool.plugin_data import PluginData, standard_hooks

DATA = PluginData(__name__)
# country.yaml, authorities.yaml, … answer their hooks as they are; this module
# holds only the Kyrgyz rules.
globals().update(standard_hooks(DATA))


def _code(value: Any) -> str:
    """A visit type or role as a lower-case code, whether the core stores a
    string, an enum or a row with a ``code``."""
    value = getattr(value, "code", value)
    value = getattr(value, "value", value)
    return "" if value is None else str(value).strip().lower()


@hookimpl
def npmtool_validate_visit(visit: Any) -> list[dict[str, Any]]:
    rules = DATA.yaml("validation.yaml")
    messages = rules["messages"]
    visit_type = _code(getattr(visit, "visit_type", None) or getattr(visit, "type", None))
    problems: list[dict[str, Any]] = []

    if visit_type == "special" and not (getattr(visit, "purpose", None) or "").strip():
        problems.append({"level": "error", "message": dict(messages["special_without_purpose"])})

    if visit_type == "comprehensive":
        roles = set(rules["team_roles"])
        team = [m for m in (getattr(visit, "team_members", None) or []) if _code(getattr(m, "role", None)) in roles]
        if len(team) < rules["min_team_comprehensive"]:
            message = {lang: text.format(count=len(team)) for lang, text in messages["comprehensive_small_team"].items()}
            problems.append({"level": "warning", "message": message})

    return problems
