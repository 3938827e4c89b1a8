"""A realistic demo deployment: accounts for every role, dated figures and
visits at facilities of the seeded registries. Used by `make run`."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from npmtool.crypto import sealer
from npmtool.models import (
    Answer,
    ChecklistItem,
    Country,
    Facility,
    FacilityFigure,
    Region,
    User,
    Visit,
    VisitMember,
    VisitType,
)
from npmtool.services.demo_complaints import load_demo_complaints
from npmtool.services.demo_recommendations import load_demo_recommendations
from npmtool.services.interviews import InterviewInput, record_interview
from npmtool.services.users import create_user, generate_password
from npmtool.services.visits import attach_checklists

# (username, role, full name, country, region codes, expertise)
DEMO_ACCOUNTS = [
    ("admin", "admin", "Aigerim Seitkali", None, (), ""),
    ("coord.kz", "coordinator", "Dana Nurlanovna", "KZ", (), ""),
    ("monitor.kz", "monitor", "Yerlan Abenov", "KZ", ("KZ-75", "KZ-19"), ""),
    ("doctor.kz", "monitor", "Saule Zhaksybekova", "KZ", (), "doctor"),
    ("coord.kg", "coordinator", "Nurlan Asanov", "KG", (), ""),
    ("monitor.kg", "monitor", "Aida Toktosunova", "KG", (), ""),
    ("lawyer.kg", "monitor", "Bakyt Osmonov", "KG", (), "lawyer"),
    ("coord.uz", "coordinator", "Dilnoza Karimova", "UZ", (), ""),
    ("monitor.uz", "monitor", "Rustam Yusupov", "UZ", (), ""),
    ("psych.uz", "monitor", "Malika Rakhimova", "UZ", (), "psychologist"),
    ("council", "council", "Gulnara Ibraimova", None, (), ""),
    ("cso", "cso", "Public Foundation “Open Door”", None, (), ""),
]


@dataclass
class DemoResult:
    accounts: list[tuple[str, str, str]] = field(default_factory=list)
    figures: int = 0
    visits: int = 0
    answers: int = 0
    interviews: int = 0
    recommendations: int = 0
    complaints: int = 0


def load_demo(session: Session, today: date | None = None, seed: int = 2026) -> DemoResult | None:
    """Load the demo once; None if the deployment already has accounts."""
    if session.scalar(select(func.count()).select_from(User)):
        return None
    rng = random.Random(seed)
    today = today or date.today()
    countries = set(session.scalars(select(Country.code)))
    regions = {r.code: r.id for r in session.scalars(select(Region))}
    result = DemoResult()
    users: dict[str, User] = {}
    expertise: dict[str, str] = {}
    admin = None
    for username, role, full_name, country, region_codes, skill in DEMO_ACCOUNTS:
        if country is not None and country not in countries:
            continue  # this deployment does not run that country's plugin
        password = generate_password()
        user = create_user(session, admin, username=username, full_name=full_name, role=role, password=password,
                           country_code=country, region_ids=[regions[c] for c in region_codes if c in regions])
        admin = admin or user
        users[username] = user
        expertise[username] = skill
        result.accounts.append((username, role, password))

    for country in sorted(countries):
        facilities = session.scalars(select(Facility).where(Facility.country_code == country)
                                     .order_by(Facility.code)).all()
        visit_types = session.scalars(select(VisitType).where(VisitType.country_code == country)
                                      .order_by(VisitType.position)).all()
        team = [u for name, u in users.items() if u.country_code == country and u.role in ("coordinator", "monitor")]
        for facility in facilities:
            result.figures += _figures(session, rng, facility, today, admin)
        for index, facility in enumerate(facilities[:6]):
            if not visit_types or not team:
                break
            for visit in _visits(session, rng, facility, visit_types, team, expertise, today, index, admin):
                result.visits += 1
                if visit.status == "closed":
                    result.answers += _answers(session, rng, visit)
                    if index == 0:
                        result.interviews += _interview(session, visit)
    # Findings → recommendations with their histories, then complaints from
    # every channel (they link to those visits and recommendations).
    result.recommendations = load_demo_recommendations(session, today)
    result.complaints = load_demo_complaints(session, today)
    session.commit()
    return result


NOTES = {
    "missing": ["No hot water in the shower block", "Register of arrivals incomplete for last month",
                "No private room for medical examinations", "Cells without natural light"],
    "improve": ["Repair the boiler and publish a shower schedule", "Record every arrival with date and time",
                "Equip a room where doctors see patients out of staff hearing"],
}


def _answers(session: Session, rng: random.Random, visit: Visit) -> int:
    """Answers like a real team's: most items rated, some found wanting."""
    ids = [i for c in visit.checklists for i in c.item_ids]
    items = session.scalars(select(ChecklistItem).where(ChecklistItem.id.in_(ids))).all()
    written = 0
    for item in items:
        if rng.random() < 0.25:
            continue
        rating, value = None, None
        if item.answer_type == "rating":
            rating = rng.choices(("complete", "partly", "not_yet", "not_applicable"), (5, 3, 2, 1))[0]
        elif item.answer_type == "yesno":
            value = rng.random() < 0.7
        elif item.answer_type == "number":
            value = rng.randint(0, 40)
        elif item.answer_type == "choice" and item.options.get("choices"):
            value = rng.choice(item.options["choices"])["code"]
        elif item.answer_type == "measurement":
            value = {"area_m2": round(rng.uniform(8, 30), 1), "occupants": rng.randint(2, 10)}
        else:
            continue
        wanting = rating in ("partly", "not_yet")
        session.add(Answer(visit_id=visit.id, item_id=item.id, rating=rating, value=value,
                           missing_note=rng.choice(NOTES["missing"]) if wanting else "",
                           improve_note=rng.choice(NOTES["improve"]) if wanting else "",
                           created_by_id=visit.created_by_id, updated_by_id=visit.created_by_id))
        written += 1
    return written


def _interview(session: Session, visit: Visit) -> int:
    """One interview whose person is at risk of reprisal: the next visit must check on them."""
    lead = next(m.user for m in visit.team_members if m.role == "lead")
    record_interview(session, lead, visit, InterviewInput(
        category="detained", vulnerable_groups=["drug_use"], consent=True, private_setting=True,
        out_of_staff_hearing=True, allegations=["threats"], reprisal_risk=True,
        notes="Says staff threatened to move him after he complained about medication. (Demo text.)"), sealer())
    return 1


def _figures(session: Session, rng: random.Random, facility: Facility, today: date, admin: User) -> int:
    """Two dated population counts, as monitors record them at visits."""
    if facility.capacity is None and rng.random() < 0.5:
        facility.capacity = rng.choice((40, 80, 120, 250, 400, 800, 1200))
    base = facility.capacity or rng.choice((60, 150, 300))
    added = 0
    for months_ago, source in ((14, "administration, at a monitoring visit"), (3, "facility register")):
        value = max(1, int(base * rng.uniform(0.7, 1.25)))
        session.add(FacilityFigure(facility_id=facility.id, kind="population", value=value,
                                   as_of=today - timedelta(days=30 * months_ago), source=source,
                                   created_by_id=admin.id, updated_by_id=admin.id))
        added += 1
    return added


def _visits(session: Session, rng: random.Random, facility: Facility, visit_types: list[VisitType],
            team: list[User], expertise: dict[str, str], today: date, index: int, admin: User) -> list[Visit]:
    """A past closed visit and, for some facilities, one planned soon."""
    visits = []
    plans = [(-rng.randint(200, 500), "closed")]
    if index % 2 == 0:
        plans.append((rng.randint(3, 30), "planned"))
    for offset, status in plans:
        starts = today + timedelta(days=offset)
        visit_type = visit_types[0] if status == "closed" or len(visit_types) == 1 else rng.choice(visit_types)
        visit = Visit(facility_id=facility.id, country_code=facility.country_code, visit_type=visit_type.code,
                      purpose="" if visit_type == visit_types[0] else "Follow-up of information received",
                      starts_on=starts, ends_on=starts + timedelta(days=rng.choice((0, 1))), status=status,
                      created_by_id=admin.id, updated_by_id=admin.id)
        members = rng.sample(team, k=min(len(team), 3))
        for position, user in enumerate(members):
            role = "lead" if position == 0 else ("expert" if expertise.get(user.username) else "member")
            visit.team_members.append(VisitMember(user_id=user.id, role=role,
                                                  expertise=expertise.get(user.username, "")))
        session.add(visit)
        visit.facility = facility
        attach_checklists(session, visit)
        session.flush()
        visits.append(visit)
    return visits
