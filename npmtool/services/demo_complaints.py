"""Demo complaints: every channel and status, the same on every run.

Kyrgyzstan: web complaints (one urgent, one answered and closed, one filed
by the demo CSO) and a hotline call; Kazakhstan: applications from the
electronic terminals, one referred to an authority; Uzbekistan: two
complaint-box openings whose letters became complaints. All texts are
invented and say so."""

from __future__ import annotations

from datetime import date, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from npmtool.crypto import sealer
from npmtool.models import Authority, Facility, User
from npmtool.services import complaints as service
from npmtool.services.visits import TeamEntry

# (country, facility index, channel, category, days ago, text, filer, by cso, what happens next)
DEMO_COMPLAINTS = [
    ("KG", 0, "web", "torture_ill_treatment", 2, "My son says he was beaten during a search last week and "
     "has bruises on his back. (Demo text.)", "family", False, "visit"),
    ("KG", 1, "web", "health_care", 40, "No doctor has seen my husband for a month although he has a fever. "
     "(Demo text.)", "family", False, "close"),
    ("KG", 2, "ngo", "legal_safeguards", 12, "Filed for a person held 5 days without seeing a lawyer. "
     "(Demo text.)", "cso", True, "review"),
    ("KG", 0, "hotline", "conditions", 20, "Caller says cells have no heating at night. (Demo text.)",
     "other", False, "review"),
    ("KZ", 0, "terminal", "health_care", 9, "Application from the terminal: asks for an eye doctor. "
     "(Demo text.)", "self", False, "refer"),
    ("KZ", 1, "terminal", "family_contact", 3, "Application from the terminal: long visits refused twice. "
     "(Demo text.)", "self", False, ""),
    ("KZ", 2, "web", "reprisals", 1, "After he spoke to monitors he was moved to a punishment cell. "
     "(Demo text.)", "family", False, ""),
    ("UZ", 0, "web", "conditions", 30, "Food is not enough, parcels are not handed over. (Demo text.)",
     "family", False, "review"),
]
# (facility index, box, days ago, letters: (category, text))
DEMO_BOXES = [
    (1, "Residential sector 2", 6, [("conditions", "There is no hot water in our sector. (Demo letter.)"),
                                    ("health_care", "I need my medicine for diabetes. (Demo letter.)"),
                                    ("torture_ill_treatment", "A guard hit me when I asked for a doctor. "
                                                              "(Demo letter.)")]),
    (2, "Residential sector 1", 35, [("family_contact", "My letters to my mother are not sent. (Demo letter.)")]),
]


def load_demo_complaints(session: Session, today: date) -> int:
    """Returns how many complaints were made."""
    host = current_app.extensions["npmtool"]
    secret = current_app.config["SECRET_KEY"]
    seal = sealer()
    users = {u.username: u for u in session.scalars(select(User))}
    facilities: dict[str, list[Facility]] = {}
    for facility in session.scalars(select(Facility).where(Facility.is_active.is_(True)).order_by(Facility.code)):
        facilities.setdefault(facility.country_code, []).append(facility)
    made = 0
    for country, index, channel, category, days, text, filer, by_cso, then in DEMO_COMPLAINTS:
        places = facilities.get(country) or []
        coordinator = users.get(f"coord.{country.lower()}")
        if len(places) <= index or coordinator is None:
            continue
        author = users.get("cso") if by_cso else (coordinator if channel in ("hotline", "terminal") else None)
        data = service.ComplaintInput(country_code=country, category_code=category, text=text, channel_code=channel,
                                      facility_id=places[index].id, received_on=today - timedelta(days=days),
                                      filer=filer)
        try:
            complaint, _code = service.file_complaint(session, author, data, seal, secret=secret,
                                                      catalogue=host.catalogue, with_code=channel == "web" or by_cso)
        except service.ServiceError:
            continue  # this deployment's plugin lacks the channel or category
        made += 1
        _then(session, coordinator, complaint, then, today, host, users)
    for index, label, days, letters in DEMO_BOXES:
        places = facilities.get("UZ") or []
        coordinator = users.get("coord.uz")
        if len(places) <= index or coordinator is None or service.box_channel_code(session, "UZ") is None:
            continue
        opening = service.record_box_opening(session, coordinator, service.BoxOpeningInput(
            facility_id=places[index].id, box_label=label, opened_on=today - timedelta(days=days),
            opened_by_id=coordinator.id, letters_count=len(letters),
            witnesses="Deputy head of the institution (demo)"), today=today)
        for category, text in letters:
            service.add_box_letter(session, coordinator, opening, service.ComplaintInput(
                country_code="UZ", category_code=category, text=text, filer="self"), seal, secret=secret,
                catalogue=host.catalogue)
            made += 1
    return made


def _then(session: Session, coordinator: User, complaint, step: str, today: date, host, users) -> None:
    seal = sealer()
    if step in ("review", "close", "refer", "visit"):
        service.start_review(session, coordinator, complaint, None, catalogue=host.catalogue, sealer=seal)
    if step == "refer":
        authority = session.scalars(select(Authority).where(Authority.country_code == complaint.country_code)
                                    .order_by(Authority.position)).first()
        service.refer(session, coordinator, complaint, None, authority_id=authority.id,
                      referred_on=today - timedelta(days=2), catalogue=host.catalogue, sealer=seal)
    if step == "visit":
        lead = users.get(f"monitor.{complaint.country_code.lower()}")
        if lead is not None:
            service.plan_special_visit(session, coordinator, complaint, None, starts_on=today + timedelta(days=3),
                                       ends_on=today + timedelta(days=3), team=[TeamEntry(lead.id, "lead")],
                                       catalogue=host.catalogue, sealer=seal)
    if step == "close":
        service.close(session, coordinator, complaint, None, outcome="The administration arranged a doctor's "
                      "visit; confirmed by phone with the family. (Demo.)",
                      public_reply="A doctor has examined the person concerned. Thank you for telling us.",
                      sealer=seal, catalogue=host.catalogue)
