"""Following up, at the next visit, what earlier visits asked for: the
facility's open recommendations (checked on site, with photos of this visit
as evidence) and the reprisal checks on people interviewed before.

Only a verification closes a recommendation (DOMAIN §4), so a verdict goes
through ``recommendations.verify``; this module chooses what to show and
checks that the evidence belongs to the visit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from npmtool.models import FollowUp, Recommendation, Visit
from npmtool.models.recommendations import AuthorityResponse, Verification, recommendation_facility
from npmtool.services import ServiceError
from npmtool.services.findings import EDITABLE_STATUSES
from npmtool.services.recommendation_access import can_verify_at_visit

PRIORITY_ORDER = {"urgent": 0, "high": 1, "normal": 2}


def can_record_verdicts(user: Any, visit: Visit) -> bool:
    """The visit's team and coordinators of its region, while the visit is worked on."""
    return visit.status in EDITABLE_STATUSES and can_verify_at_visit(user, visit)


@dataclass
class FollowUpRow:
    recommendation: Recommendation
    latest_response: AuthorityResponse | None
    # The latest verification recorded at this visit, if any.
    verified_here: Verification | None


def _facility_recommendations(visit: Visit):
    """Recommendations addressed to the visit's facility that came out of an
    earlier visit (or none): this visit's own are not yet due."""
    return (select(Recommendation)
            .join(recommendation_facility, recommendation_facility.c.recommendation_id == Recommendation.id)
            .where(recommendation_facility.c.facility_id == visit.facility_id,
                   or_(Recommendation.source_visit_id.is_(None), Recommendation.source_visit_id != visit.id)))


def open_recommendations(session: Session, visit: Visit, limit: int = 50) -> list[Recommendation]:
    """The facility's open recommendations, most pressing first (one query)."""
    rows = session.scalars(_facility_recommendations(visit).where(Recommendation.status == "open")
                           .order_by(Recommendation.current_deadline, Recommendation.id).limit(limit)).all()
    return sorted(rows, key=lambda r: (PRIORITY_ORDER.get(r.priority, 3), r.current_deadline, r.id))


def follow_up_rows(session: Session, visit: Visit, limit: int = 100) -> list[FollowUpRow]:
    """Open recommendations of the facility plus those verified at this visit
    (they may have been closed by it), each with its latest authority
    response and this visit's verification. Three queries."""
    verified_at_visit = select(Verification.recommendation_id).where(Verification.visit_id == visit.id)
    recs = session.scalars(
        _facility_recommendations(visit).options(selectinload(Recommendation.responses))
        .where(or_(Recommendation.status == "open", Recommendation.id.in_(verified_at_visit)))
        .order_by(Recommendation.current_deadline, Recommendation.id).limit(limit)).all()
    here: dict[int, Verification] = {}
    if recs:
        for verification in session.scalars(
                select(Verification).where(Verification.visit_id == visit.id,
                                           Verification.recommendation_id.in_([r.id for r in recs]))
                .order_by(Verification.id)):
            here[verification.recommendation_id] = verification
    rows = [FollowUpRow(rec, rec.responses[-1] if rec.responses else None, here.get(rec.id)) for rec in recs]
    # Not yet checked first, then the most pressing.
    return sorted(rows, key=lambda row: (row.verified_here is not None,
                                         PRIORITY_ORDER.get(row.recommendation.priority, 3),
                                         row.recommendation.current_deadline, row.recommendation.id))


def open_reprisal_checks(session: Session, visit: Visit) -> list[FollowUp]:
    """People interviewed at earlier visits who must be checked on (codes only)."""
    return list(session.scalars(
        select(FollowUp).options(selectinload(FollowUp.source_visit))
        .where(FollowUp.facility_id == visit.facility_id, FollowUp.status == "open",
               FollowUp.source_visit_id != visit.id)
        .order_by(FollowUp.id)))


def verification_date(visit: Visit, today: date | None = None) -> date:
    """Today, or the visit's last day for a verdict typed up after the visit."""
    today = today or date.today()
    return min(today, visit.ends_on)


def record_verdict(session: Session, user: Any, visit: Visit, rec: Recommendation, *, verdict: str,
                   note: str = "", evidence_ids: list[int] | tuple[int, ...] = (),
                   expected_version: int | None = None) -> Verification:
    """What the team saw on site about one recommendation of the facility.
    ``recommendations.verify`` checks the verdict, the photos and who may."""
    from npmtool.services import recommendations

    if visit.status not in EDITABLE_STATUSES:
        raise ServiceError(_l("Verdicts can be recorded only while the visit is being worked on."))
    linked = session.scalar(select(recommendation_facility.c.facility_id).where(
        recommendation_facility.c.recommendation_id == rec.id,
        recommendation_facility.c.facility_id == visit.facility_id))
    if linked is None:
        raise ServiceError(_l("This recommendation is not addressed to the visited facility."))
    return recommendations.verify(session, user, rec, kind="visit", verdict=verdict,
                                  verified_on=verification_date(visit), note=note.strip(), visit=visit,
                                  evidence_ids=list(evidence_ids), expected_version=expected_version)
