"""npmtool country plugin: Kazakhstan.

The NPM is the Human Rights Commissioner acting with NPM participants organised in
regional groups ("Ombudsman PLUS"). Country knowledge lives in ``data/*.yaml``;
this module only exposes it through the hooks of :mod:`npmtool.hookspecs`, plus
the visit validation rule of the Rules for preventive visits (Government Decree
No. 266 of 26 March 2014), which is logic rather than data.
"""

from __future__ import annotations

import copy
from typing import Any

from npmtool.hookspecs import hookimpl
from npmtool.plugin_data import PluginData, standard_hooks

DATA = PluginData("npmtool_kazakhstan")
# country.yaml, authorities.yaml, … answer their hooks as they are; this module
# holds only the Kazakh rules.
globals().update(standard_hooks(DATA))

#: Per the Rules a preventive visit is made by a *group* of NPM participants.
MIN_TEAM_MEMBERS = 2


# --------------------------------------------------------------------------
# Per-visit hook
# --------------------------------------------------------------------------


def _visit_type_code(visit: Any) -> str | None:
    """The visit type's code, whether the model stores a code or an object."""
    for attr in ("visit_type_code", "visit_type", "type"):
        value = getattr(visit, attr, None)
        if value is None:
            continue
        code = getattr(value, "code", value)
        if isinstance(code, str):
            return code
    return None


def _team_size_error(count: int) -> dict[str, Any]:
    return {
        "level": "error",
        "message": {
            "ru": (
                "Превентивное посещение проводится группой участников НПМ (Правила "
                "превентивных посещений, постановление Правительства РК № 266): в составе "
                f"группы должно быть не менее {MIN_TEAM_MEMBERS} человек, указано: {count}."
            ),
            "en": (
                "A preventive visit is made by a group of NPM participants (Rules for "
                "preventive visits, Government Decree No. 266): the team must have at least "
                f"{MIN_TEAM_MEMBERS} members, it has {count}."
            ),
            "kk": (
                "Алдын ала баруды ҰАТ қатысушыларының тобы жүргізеді (Алдын ала бару "
                "қағидалары, ҚР Үкіметінің № 266 қаулысы): топта кемінде "
                f"{MIN_TEAM_MEMBERS} адам болуы тиіс, көрсетілгені: {count}."
            ),
        },
    }


SPECIAL_VISIT_WITHOUT_PURPOSE: dict[str, Any] = {
    "level": "warning",
    "message": {
        "ru": (
            "Не указана цель специального посещения: опишите информацию (жалобу, сообщение), "
            "послужившую поводом для посещения."
        ),
        "en": (
            "The purpose of this special visit is empty: describe the information (complaint, "
            "report) that prompted the visit."
        ),
        "kk": (
            "Арнайы барудың мақсаты көрсетілмеген: баруға себеп болған ақпаратты (шағымды, "
            "хабарламаны) сипаттаңыз."
        ),
    },
}


@hookimpl
def npmtool_validate_visit(visit: Any) -> list[dict[str, Any]]:
    problems: list[dict[str, Any]] = []

    team = getattr(visit, "team_members", None) or []
    if len(team) < MIN_TEAM_MEMBERS:
        problems.append(_team_size_error(len(team)))

    if _visit_type_code(visit) == "special":
        purpose = getattr(visit, "purpose", None) or ""
        if not str(purpose).strip():
            problems.append(copy.deepcopy(SPECIAL_VISIT_WITHOUT_PURPOSE))

    return problems
