"""Where to visit next: facilities ranked by what points to a risk.

Four signals, each aggregated per facility in one grouped subquery and
combined into a score in SQL, so the page costs the same few queries for
ten facilities or ten thousand:

- complaints received recently, weighted by their category's weight (the
  country plugin's: torture counts far more than a missed phone call),
  urgent categories (torture, reprisals) twice;
- priority recommendations (high / urgent) still open past their deadline;
- repeated findings (the same problem found again at a later visit);
- time since the last visit that took place (never visited counts most).

Every rank comes with its reasons: coordinators weigh them, the number
only sorts the list."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import case, func, literal, select
from sqlalchemy.orm import Session

from npmtool.models import Complaint, ComplaintCategory, Facility, Finding, Recommendation, Visit
from npmtool.models.recommendations import recommendation_facility
from npmtool.services.scope import facility_clause

COMPLAINT_DAYS = 180
OVERDUE_POINTS = 5
REPEATED_POINTS = 3
# Points for the time since the last visit: (older than N days, points).
# One urgent complaint (torture: 10 × 2) outweighs a facility never visited.
URGENT_FACTOR = 2
VISIT_AGE_POINTS = ((730, 12), (365, 8), (180, 4), (90, 1))
NEVER_VISITED_POINTS = 12
VISITED_STATUSES = ("in_progress", "draft", "in_review", "sent", "closed")


@dataclass
class RiskRow:
    facility: Facility
    score: float
    complaints: int
    complaint_weight: float
    urgent_complaints: int
    overdue_recommendations: int
    repeated_findings: int
    last_visit: date | None
    categories: list[tuple[ComplaintCategory, int]] = field(default_factory=list)


def risk_ranking(session: Session, user: Any, *, today: date | None = None, limit: int = 50,
                 region_id: int | None = None) -> list[RiskRow]:
    today = today or date.today()
    since = today - timedelta(days=COMPLAINT_DAYS)

    complaints = (select(Complaint.facility_id.label("facility_id"),
                         func.count().label("n"),
                         func.sum(ComplaintCategory.weight * case((Complaint.urgent.is_(True), URGENT_FACTOR), else_=1))
                         .label("weight"),
                         func.sum(case((Complaint.urgent.is_(True), 1), else_=0)).label("urgent"))
                  .join(ComplaintCategory, ComplaintCategory.id == Complaint.category_id)
                  .where(Complaint.facility_id.is_not(None), Complaint.received_on >= since)
                  .group_by(Complaint.facility_id).subquery())
    overdue = (select(recommendation_facility.c.facility_id.label("facility_id"), func.count().label("n"))
               .join(Recommendation, Recommendation.id == recommendation_facility.c.recommendation_id)
               .where(Recommendation.status == "open", Recommendation.priority.in_(("high", "urgent")),
                      Recommendation.current_deadline < today)
               .group_by(recommendation_facility.c.facility_id).subquery())
    repeated = (select(Finding.facility_id.label("facility_id"), func.count().label("n"))
                .where(Finding.repeated.is_(True), Finding.status != "dismissed")
                .group_by(Finding.facility_id).subquery())
    visits = (select(Visit.facility_id.label("facility_id"), func.max(Visit.starts_on).label("last"))
              .where(Visit.status.in_(VISITED_STATUSES), Visit.starts_on <= today)
              .group_by(Visit.facility_id).subquery())

    visit_points = case((visits.c.last.is_(None), NEVER_VISITED_POINTS),
                        *[(visits.c.last < today - timedelta(days=days), points)
                          for days, points in VISIT_AGE_POINTS], else_=0)
    complaint_weight = func.coalesce(complaints.c.weight, 0)
    overdue_n = func.coalesce(overdue.c.n, 0)
    repeated_n = func.coalesce(repeated.c.n, 0)
    score = (complaint_weight + overdue_n * OVERDUE_POINTS + repeated_n * REPEATED_POINTS + visit_points)

    query = (select(Facility, score.label("score"), func.coalesce(complaints.c.n, 0), complaint_weight,
                    func.coalesce(complaints.c.urgent, 0), overdue_n, repeated_n, visits.c.last)
             .outerjoin(complaints, complaints.c.facility_id == Facility.id)
             .outerjoin(overdue, overdue.c.facility_id == Facility.id)
             .outerjoin(repeated, repeated.c.facility_id == Facility.id)
             .outerjoin(visits, visits.c.facility_id == Facility.id)
             .where(facility_clause(user), Facility.is_active.is_(True), score > literal(0)))
    if region_id:
        query = query.where(Facility.region_id == region_id)
    query = query.order_by(score.desc(), Facility.name).limit(limit)
    rows = [RiskRow(facility, float(s), int(n), float(w), int(u), int(o), int(r), last)
            for facility, s, n, w, u, o, r, last in session.execute(query)]

    # The category breakdown of the complaints, for the listed facilities only.
    by_id = {row.facility.id: row for row in rows if row.complaints}
    if by_id:
        breakdown = session.execute(
            select(Complaint.facility_id, ComplaintCategory, func.count())
            .join(ComplaintCategory, ComplaintCategory.id == Complaint.category_id)
            .where(Complaint.facility_id.in_(by_id), Complaint.received_on >= since)
            .group_by(Complaint.facility_id, ComplaintCategory.id)
            .order_by(Complaint.facility_id, func.count().desc()))
        for facility_id, category, count in breakdown:
            by_id[facility_id].categories.append((category, count))
    return rows


def days_since(row: RiskRow, today: date | None = None) -> int | None:
    return None if row.last_visit is None else ((today or date.today()) - row.last_visit).days
