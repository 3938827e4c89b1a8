"""Who may see and do what on a recommendation.

Administrators and council members read every recommendation of their
country; coordinators read and manage those of their regions; monitors read
the recommendations of facilities they visited (to follow them up on site).
Civil-society users and the public see none. Council members comment and
record council decisions but never see interview notes: the recommendation
pages show interview codes only."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, exists, false, or_, select, true
from sqlalchemy.orm import object_session

from npmtool.models import Recommendation, Visit, VisitMember
from npmtool.models.recommendations import recommendation_facility
from npmtool.models.users import SCOPED_ROLES
from npmtool.services.scope import can_see_facility

# Routes use these role lists; the functions below add the per-item rules.
READ_ROLES = ("admin", "coordinator", "monitor", "council")
MANAGE_ROLES = ("admin", "coordinator")
COMMENT_ROLES = ("coordinator", "council")


def _scope_clause(user: Any) -> ColumnElement[bool]:
    """Country, and regions for region-scoped roles. Systemic items have no
    region: everyone of the country sees them."""
    clause: ColumnElement[bool] = true()
    if user.country_code:
        clause = clause & (Recommendation.country_code == user.country_code)
    if user.role in SCOPED_ROLES and user.region_ids:
        clause = clause & or_(Recommendation.region_id.in_(user.region_ids), Recommendation.region_id.is_(None))
    return clause


def _visited_clause(user_id: int) -> ColumnElement[bool]:
    """Recommendations of a facility the user visited as a team member, or
    that came out of a visit they were on."""
    facility_visited = exists(
        select(recommendation_facility.c.recommendation_id)
        .join(Visit, Visit.facility_id == recommendation_facility.c.facility_id)
        .join(VisitMember, VisitMember.visit_id == Visit.id)
        .where(recommendation_facility.c.recommendation_id == Recommendation.id, VisitMember.user_id == user_id))
    from_their_visit = Recommendation.source_visit_id.in_(
        select(VisitMember.visit_id).where(VisitMember.user_id == user_id))
    return or_(facility_visited, from_their_visit)


def recommendation_clause(user: Any) -> ColumnElement[bool]:
    """A WHERE clause on Recommendation limiting it to what ``user`` may read."""
    if user is None or not getattr(user, "is_authenticated", False) or user.role not in READ_ROLES:
        return false()
    if user.role == "monitor":
        return _scope_clause(user) & _visited_clause(user.id)
    return _scope_clause(user)


def _in_scope(user: Any, rec: Recommendation) -> bool:
    if user.country_code and rec.country_code != user.country_code:
        return False
    if user.role in SCOPED_ROLES and user.region_ids and rec.region_id is not None:
        return rec.region_id in user.region_ids
    return True


def can_read_recommendation(user: Any, rec: Recommendation) -> bool:
    if user is None or not getattr(user, "is_authenticated", False) or user.role not in READ_ROLES:
        return False
    if not _in_scope(user, rec):
        return False
    if user.role != "monitor":
        return True
    session = object_session(rec)
    if session is None or rec.id is None:
        return False
    found = session.scalar(select(Recommendation.id).where(Recommendation.id == rec.id, _visited_clause(user.id)))
    return found is not None


def can_manage_recommendation(user: Any, rec: Recommendation | None = None) -> bool:
    """Create, edit, record responses, revise deadlines, assess, verify by
    document, reopen."""
    if user is None or not getattr(user, "is_authenticated", False) or user.role not in MANAGE_ROLES:
        return False
    return rec is None or _in_scope(user, rec)


def can_comment_recommendation(user: Any, rec: Recommendation) -> bool:
    if user is None or not getattr(user, "is_authenticated", False) or user.role not in COMMENT_ROLES:
        return False
    return _in_scope(user, rec)


def can_decide_recommendation(user: Any, rec: Recommendation) -> bool:
    """Record a decision of the NPM's council."""
    return (user is not None and getattr(user, "is_authenticated", False) and user.role == "council"
            and _in_scope(user, rec))


def can_verify_at_visit(user: Any, visit: Visit) -> bool:
    """Check recommendations on site: the visit's team, or a coordinator of
    the visit's region."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.role == "coordinator":
        return can_see_facility(user, visit.facility)
    return user.role == "monitor" and visit.member(user.id) is not None
