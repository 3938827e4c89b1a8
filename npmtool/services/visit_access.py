"""Who may see and do what on a visit.

Coordinators of the visit's country and regions plan and oversee visits;
monitors work only on visits whose team they are in. Interview notes and
identities are for the team and coordinators alone: never administrators,
council members or civil-society users."""

from __future__ import annotations

from typing import Any

from npmtool.models import Visit
from npmtool.services.scope import can_see_facility

# Routes use these role lists; the functions below add the per-visit rules.
VISIT_ROLES = ("admin", "coordinator", "monitor")
TEAM_ROLES = ("coordinator", "monitor")
WORKING_STATUSES = ("planned", "in_progress", "draft")


def is_team_member(user: Any, visit: Visit) -> bool:
    return visit.member(user.id) is not None


def can_read_visit(user: Any, visit: Visit) -> bool:
    if user.role == "admin":
        return True
    if user.role == "coordinator":
        return can_see_facility(user, visit.facility)
    if user.role == "monitor":
        return is_team_member(user, visit)
    return False


def can_plan_visit(user: Any, visit: Visit | None = None) -> bool:
    if user.role not in ("admin", "coordinator"):
        return False
    return visit is None or can_read_visit(user, visit)


def can_work_on_visit(user: Any, visit: Visit) -> bool:
    """Answer checklists, record interviews, upload photos: until the report
    goes to review (a reviewer who wants changes returns it to the team)."""
    if visit.status not in WORKING_STATUSES:
        return False
    if user.role == "coordinator":
        return can_see_facility(user, visit.facility)
    return user.role == "monitor" and is_team_member(user, visit)


def can_read_confidential(user: Any, visit: Visit) -> bool:
    """Interview notes, identities and unredacted photos."""
    if user.role == "coordinator":
        return can_see_facility(user, visit.facility)
    return user.role == "monitor" and is_team_member(user, visit)
