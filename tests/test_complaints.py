"""Complaint workflow, channels, encryption and the risk view."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select, text

from npmtool.crypto import sealer
from npmtool.models import Authority, Complaint, Finding, Visit
from npmtool.services import ServiceError, StaleEdit
from npmtool.services import complaints as service
from npmtool.services.complaint_risk import risk_ranking
from npmtool.services.visits import TeamEntry
from tests.complaint_helpers import complaint_input, make_complaint
from tests.visit_helpers import make_visit

SECRET = "They kept him in the punishment cell for 20 days"


@pytest.fixture
def kg(session, make_user, make_facility):
    return {"coordinator": make_user("coordinator", country="KG"), "monitor": make_user("monitor", country="KG"),
            "facility": make_facility(country="KG", name="Colony No. 1 (test)")}


def catalogue(app):
    return app.extensions["npmtool"].catalogue


def test_full_workflow_from_received_to_closed(app, session, kg):
    coordinator, facility = kg["coordinator"], kg["facility"]
    complaint, _code = make_complaint(session, None, facility, category_code="torture_ill_treatment")
    today = date.today()
    assert complaint.status == "received" and complaint.urgent
    assert complaint.due_on == today + timedelta(days=1)  # urgent: next day

    service.start_review(session, coordinator, complaint, complaint.version, catalogue=catalogue(app))
    assert complaint.status == "under_review"
    assert complaint.due_on == today + timedelta(days=service.DEFAULT_RESPONSE_DAYS["under_review"])

    authority = session.scalars(select(Authority).where(Authority.country_code == "KG")).first()
    service.refer(session, coordinator, complaint, complaint.version, authority_id=authority.id,
                  referred_on=today, catalogue=catalogue(app))
    assert complaint.status == "referred" and complaint.referred_authority_id == authority.id
    service.record_authority_answer(session, coordinator, complaint, complaint.version,
                                    text="An inquiry was opened.", answered_on=today)
    assert complaint.authority_answer == "An inquiry was opened."

    visit = service.plan_special_visit(
        session, coordinator, complaint, complaint.version, starts_on=today + timedelta(days=2),
        ends_on=today + timedelta(days=2), team=[TeamEntry(kg["monitor"].id, "lead")], catalogue=catalogue(app))
    assert complaint.status == "visit_planned"
    assert visit.visit_type == "special" and visit.facility_id == facility.id and visit in complaint.visits
    assert SECRET not in visit.purpose and str(complaint.id) in visit.purpose

    service.close(session, coordinator, complaint, complaint.version, outcome="Transferred; inquiry ongoing.",
                  public_reply="Our visit took place and the authorities were told what we found.",
                  sealer=sealer(), catalogue=catalogue(app))
    assert complaint.status == "closed" and complaint.closed_on == today and complaint.due_on is None
    service.reopen(session, coordinator, complaint, complaint.version, reason="New letter", sealer=sealer(),
                   catalogue=catalogue(app))
    assert complaint.status == "under_review" and complaint.closed_on is None
    kinds = [e.kind for e in complaint.events]
    assert kinds == ["filed", "status", "referred", "answer", "visit", "status", "reopened"]
    assert service.public_view(complaint, sealer()).replies[0][1].startswith("Our visit took place")


def test_transitions_that_make_no_sense_are_refused(app, session, kg):
    coordinator = kg["coordinator"]
    complaint, _ = make_complaint(session, None, kg["facility"])
    with pytest.raises(ServiceError):
        service.reopen(session, coordinator, complaint, complaint.version, reason="x")
    with pytest.raises(ServiceError):
        service.close(session, coordinator, complaint, complaint.version, outcome="  ")
    with pytest.raises(ServiceError):
        service.record_authority_answer(session, coordinator, complaint, complaint.version, text="x",
                                        answered_on=date.today())
    unsure, _ = make_complaint(session, None, None, region_id=kg["facility"].region_id)
    with pytest.raises(ServiceError, match="facility"):
        service.plan_special_visit(session, coordinator, unsure, unsure.version, starts_on=date.today(),
                                   ends_on=date.today(), team=[TeamEntry(kg["monitor"].id, "lead")])
    with pytest.raises(StaleEdit):
        service.start_review(session, coordinator, complaint, complaint.version - 1)
    with pytest.raises(ServiceError):
        service.start_review(session, kg["monitor"], complaint, complaint.version)


def test_response_deadlines_come_from_the_plugin(app, session, kg, monkeypatch):
    settings = catalogue(app).complaints["KG"]
    monkeypatch.setitem(settings, "response_days", {"received": 3, "under_review": 10})
    complaint, _ = service.file_complaint(session, None, complaint_input(kg["facility"]), sealer(),
                                          secret="s", catalogue=catalogue(app))
    assert complaint.due_on == date.today() + timedelta(days=3)
    service.start_review(session, kg["coordinator"], complaint, complaint.version, catalogue=catalogue(app))
    assert complaint.due_on == date.today() + timedelta(days=10)


def test_overdue_complaints_are_highlighted(client, auth, session, kg):
    late, _ = make_complaint(session, None, kg["facility"], received_on=date.today() - timedelta(days=30))
    fresh, _ = make_complaint(session, None, kg["facility"])
    assert service.is_overdue(late) and not service.is_overdue(fresh)
    auth.login(kg["coordinator"])
    page = client.get("/complaints/?overdue=1").data.decode()
    assert f"No. {late.id}" in page and f"No. {fresh.id}" not in page
    assert "Overdue" in client.get(f"/complaints/{late.id}").data.decode()


def test_triage_through_the_pages_with_a_stale_form_refused(client, auth, session, kg):
    complaint, _ = make_complaint(session, None, kg["facility"])
    auth.login(kg["coordinator"])
    version = complaint.version
    assert client.post(f"/complaints/{complaint.id}/review", data={"review-version": version,
                                                                   "review-note": "Looks serious"}).status_code == 302
    stale = client.post(f"/complaints/{complaint.id}/close", data={"close-version": version,
                                                                   "close-outcome": "My typed outcome"})
    assert stale.status_code == 409
    assert b"My typed outcome" in stale.data and b"changed by someone else" in stale.data
    session.expire_all()
    assert session.get(Complaint, complaint.id).status == "under_review"
    missing = client.post(f"/complaints/{complaint.id}/visit", data={"visit-version": complaint.version + 1})
    assert missing.status_code == 400


def test_complaint_links_to_recommendations(session, kg):
    from tests.recommendation_helpers import make_recommendation

    complaint, _ = make_complaint(session, None, kg["facility"])
    rec = make_recommendation(session, kg["coordinator"], kg["facility"])
    service.link_recommendation(session, kg["coordinator"], complaint, rec.reference.lower())
    assert complaint.recommendations == [rec]
    with pytest.raises(ServiceError):
        service.link_recommendation(session, kg["coordinator"], complaint, "KG-1999-99999")


# -- channels -------------------------------------------------------------------

def test_staff_record_a_hotline_call_without_a_tracking_code(client, auth, session, kg):
    auth.login(kg["coordinator"])
    response = client.post("/complaints/new", data={
        "country": "KG", "region_id": "0", "facility": str(kg["facility"].id), "category": "health_care",
        "channel": "hotline", "received_on": (date.today() - timedelta(days=2)).isoformat(),
        "text": "Caller says insulin is not given.", "filer": "family"}, content_type="multipart/form-data")
    assert response.status_code == 302
    complaint = session.scalars(select(Complaint)).one()
    assert complaint.channel.code == "hotline" and complaint.tracking_hash is None
    assert complaint.received_on == date.today() - timedelta(days=2) and complaint.created_by_id == kg["coordinator"].id


def test_kazakh_terminal_application(session, make_user, make_facility):
    facility = make_facility(country="KZ")
    coordinator = make_user("coordinator", country="KZ")
    complaint, code = make_complaint(session, coordinator, facility, channel_code="terminal", with_code=False)
    assert complaint.channel.kind == "terminal" and code is None
    with pytest.raises(ServiceError):  # Kyrgyzstan has no terminals
        make_complaint(session, coordinator, make_facility(country="KG"), channel_code="terminal")


def test_uzbek_complaint_box_opening_turns_letters_into_complaints(client, auth, session, make_user, make_facility):
    facility = make_facility(country="UZ")
    coordinator = make_user("coordinator", country="UZ")
    auth.login(coordinator)
    page = client.get("/complaints/boxes/new")
    assert f'value="{facility.id}"'.encode() in page.data
    response = client.post("/complaints/boxes/new", data={
        "facility_id": facility.id, "box_label": "Residential sector 2", "opened_on": date.today().isoformat(),
        "opened_by_id": coordinator.id, "letters_count": 2, "witnesses": "Deputy head of the colony"})
    assert response.status_code == 302
    opening_url = response.location
    for n in range(2):
        letter = client.post(opening_url, data={"category": "conditions", "text": f"Letter {n}: no hot water",
                                                "filer": "self"})
        assert letter.status_code == 302
    third = client.post(opening_url, data={"category": "conditions", "text": "A third letter", "filer": "self"})
    assert third.status_code == 400 and b"All 2 letters" in third.data and b"A third letter" in third.data
    complaints = session.scalars(select(Complaint).order_by(Complaint.id)).all()
    assert len(complaints) == 2
    assert all(c.channel.kind == "box" and c.facility_id == facility.id and c.box_opening_id is not None
               and c.tracking_hash is None for c in complaints)
    assert complaints[0].box_opening.opened_by_id == coordinator.id


def test_a_box_is_opened_only_by_npm_staff(session, make_user, make_facility):
    facility = make_facility(country="UZ")
    coordinator = make_user("coordinator", country="UZ")
    cso = make_user("cso", country="UZ")
    with pytest.raises(ServiceError, match="staff"):
        service.record_box_opening(session, coordinator, service.BoxOpeningInput(
            facility_id=facility.id, box_label="Sector 1", opened_on=date.today(), opened_by_id=cso.id,
            letters_count=1))
    with pytest.raises(ServiceError):
        service.record_box_opening(session, coordinator, service.BoxOpeningInput(
            facility_id=facility.id, box_label="Sector 1", opened_on=date.today() + timedelta(days=1),
            opened_by_id=coordinator.id, letters_count=1))


# -- encryption -----------------------------------------------------------------

def test_text_identity_contact_and_code_are_not_in_the_database(app, session, kg):
    complaint, code = make_complaint(session, None, kg["facility"], text=SECRET, consent_to_be_named=True,
                                     identity="Nurlan Dzh.", contact="nurlan@example.org")
    service.add_reply(session, kg["coordinator"], complaint, "Internal: prosecutor informed", public=False,
                      sealer=sealer())
    session.expire_all()
    dump = b""
    for table in ("complaint", "complaint_event"):
        for row in session.execute(text(f"SELECT * FROM {table}")):
            dump += repr(tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)).encode()
    for secret in (SECRET, "Nurlan", "nurlan@example.org", "prosecutor", code, code.replace("-", "")):
        assert secret.encode() not in dump
    opened = service.open_complaint(session, kg["coordinator"], session.get(Complaint, complaint.id), sealer())
    assert (opened.text, opened.identity, opened.contact) == (SECRET, "Nurlan Dzh.", "nurlan@example.org")


def test_sealed_complaints_need_the_key(app, session, kg, make_app):
    from npmtool.crypto import SealError, Sealer, new_data_key

    complaint, _ = make_complaint(session, None, kg["facility"], text=SECRET)
    with pytest.raises(SealError):
        Sealer([new_data_key()]).open(complaint.text_sealed)


def test_a_complaint_received_event_reaches_plugins(make_app, make_facility):
    import types

    from npmtool.hookspecs import hookimpl

    received = []
    plugin = types.ModuleType("listening_plugin")
    plugin.npmtool_complaint_received = hookimpl(lambda complaint: received.append(complaint.id))
    app = make_app(plugins=[("listening", plugin)])
    with app.app_context():
        from npmtool.extensions import db

        facility = make_facility(country="KG")
        complaint, _ = service.file_complaint(db.session, None, complaint_input(facility), sealer(), secret="s",
                                              plugins=app.extensions["npmtool"])
        assert received == [complaint.id]


# -- where to visit next ---------------------------------------------------------

def test_risk_view_ranks_by_weighted_complaints_overdue_recommendations_repeats_and_visits(
        app, session, kg, make_facility):
    from tests.recommendation_helpers import make_recommendation

    coordinator, monitor = kg["coordinator"], kg["monitor"]
    torture = make_facility(country="KG", name="A torture complaints")
    family = make_facility(country="KG", name="B family complaints")
    overdue = make_facility(country="KG", name="C overdue recommendation")
    calm = make_facility(country="KG", name="D visited, calm")
    make_complaint(session, None, torture, category_code="torture_ill_treatment")
    make_complaint(session, None, family, category_code="family_contact")
    make_complaint(session, None, family, category_code="family_contact",
                   received_on=date.today() - timedelta(days=400))  # too old to count
    make_recommendation(session, coordinator, overdue, flags=("torture_allegation",),
                        issued_on=date.today() - timedelta(days=200), deadline_days=30)
    make_recommendation(session, coordinator, overdue, issued_on=date.today() - timedelta(days=200),
                        deadline_days=30)  # normal priority: not counted
    for place in (torture, family, overdue, calm):
        visit = make_visit(session, coordinator, [monitor], place, starts_on=date.today() - timedelta(days=10))
        visit.status = "closed"
    recent = session.scalars(select(Visit).where(Visit.facility_id == calm.id)).one()
    session.add(Finding(visit_id=recent.id, facility_id=overdue.id, title="Cells dark again", legal_basis=[],
                        interview_codes=[], repeated=True, status="confirmed"))
    session.commit()

    rows = {row.facility.name: row for row in risk_ranking(session, coordinator)}
    assert rows["A torture complaints"].complaint_weight == 20 and rows["A torture complaints"].urgent_complaints == 1
    assert rows["B family complaints"].complaints == 1 and rows["B family complaints"].complaint_weight == 2
    assert rows["C overdue recommendation"].overdue_recommendations == 1
    assert rows["C overdue recommendation"].repeated_findings == 1
    assert "D visited, calm" not in rows  # nothing points to a risk
    never = rows["Colony No. 1 (test)"]
    assert never.last_visit is None and never.score == 12
    order = [row.facility.name for row in risk_ranking(session, coordinator)]
    # An urgent complaint outweighs never having been visited, which outweighs a call about family contact.
    assert order.index("A torture complaints") < order.index("Colony No. 1 (test)") \
        < order.index("B family complaints")
    assert rows["A torture complaints"].categories[0][0].code == "torture_ill_treatment"


def test_risk_page_shows_the_reasons(client, auth, session, kg):
    make_complaint(session, None, kg["facility"], category_code="torture_ill_treatment")
    auth.login(kg["coordinator"])
    page = client.get("/complaints/risk").data.decode()
    assert "Colony No. 1 (test)" in page
    assert "1 complaint in the last 180 days" in page and "Torture and ill-treatment (1)" in page
    assert "Never visited" in page


def test_risk_view_is_scoped_to_the_coordinators_regions(session, make_user, make_facility):
    from tests.conftest import region_codes

    first, second = region_codes(session, "KG")[:2]
    mine = make_facility(country="KG", region=first, name="Mine")
    theirs = make_facility(country="KG", region=second, name="Theirs")
    for place in (mine, theirs):
        make_complaint(session, None, place, category_code="torture_ill_treatment")
    coordinator = make_user("coordinator", country="KG", regions=(first,))
    names = [row.facility.name for row in risk_ranking(session, coordinator)]
    assert "Mine" in names and "Theirs" not in names


def test_demo_complaints_cover_every_channel_and_are_deterministic(app, session):
    from npmtool.models import ComplaintBoxOpening
    from npmtool.services.demo import load_demo

    load_demo(session)
    complaints = session.scalars(select(Complaint).order_by(Complaint.id)).all()
    kinds = {(c.country_code, c.channel.kind) for c in complaints}
    assert {("KZ", "terminal"), ("UZ", "box"), ("KG", "web"), ("KG", "hotline")} <= kinds
    assert any(c.filed_by is not None and c.filed_by.role == "cso" for c in complaints)
    assert {c.status for c in complaints} == {"received", "under_review", "referred", "visit_planned", "closed"}
    openings = session.scalars(select(ComplaintBoxOpening)).all()
    assert openings and all(len(o.complaints) == o.letters_count for o in openings)
    assert [(c.country_code, c.category.code) for c in complaints] == [
        ("KG", "torture_ill_treatment"), ("KG", "health_care"), ("KG", "legal_safeguards"), ("KG", "conditions"),
        ("KZ", "health_care"), ("KZ", "family_contact"), ("KZ", "reprisals"), ("UZ", "conditions"),
        ("UZ", "conditions"), ("UZ", "health_care"), ("UZ", "torture_ill_treatment"), ("UZ", "family_contact")]
