"""Factories for visit tests."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from npmtool.models import FacilityType, VisitType
from npmtool.services.visits import TeamEntry, plan_visit


def kg_colony_type(session) -> FacilityType:
    """A Kyrgyz facility type with a living-space norm (colonies: 2 m²)."""
    types = session.scalars(select(FacilityType).where(FacilityType.country_code == "KG")).all()
    return next(t for t in types if t.norms.get("min_m2_per_person") == 2)


def first_visit_type(session, country: str) -> str:
    return session.scalars(select(VisitType.code).where(VisitType.country_code == country)
                           .order_by(VisitType.position)).first()


def make_visit(session, coordinator, members, facility, *, visit_type=None, starts_on=None, purpose="Planned"):
    starts_on = starts_on or date.today()
    team = [TeamEntry(members[0].id, "lead")] + [TeamEntry(m.id, "member") for m in members[1:]]
    return plan_visit(session, coordinator, facility=facility,
                      visit_type=visit_type or first_visit_type(session, facility.country_code),
                      starts_on=starts_on, ends_on=starts_on + timedelta(days=1), team=team, purpose=purpose)
