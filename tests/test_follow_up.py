"""Follow-up at the next visit: the facility's open recommendations are
checked on site, and a verdict closes them or keeps them open."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from npmtool.crypto import sealer
from npmtool.models import FollowUp, Recommendation, Verification
from npmtool.services import ServiceError, StaleEdit
from npmtool.services import follow_up as service
from npmtool.services.evidence import ingest
from npmtool.services.interviews import InterviewInput, record_interview
from npmtool.services.recommendations import RecommendationInput, create_recommendation, record_response
from npmtool.services.visits import preparation
from tests.visit_helpers import make_visit


def photo_bytes(shade: int = 90) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (shade, shade, shade)).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture
def world(session, make_user, make_facility):
    facility = make_facility(country="KG")
    elsewhere = make_facility(country="KG")
    coordinator = make_user("coordinator", country="KG")
    monitor = make_user("monitor", country="KG")
    earlier = make_visit(session, coordinator, [monitor], facility, starts_on=date.today() - timedelta(days=120))
    interview = record_interview(session, monitor, earlier,
                                 InterviewInput(category="detained", reprisal_risk=True, notes="n"), sealer())
    visit = make_visit(session, coordinator, [monitor], facility)

    def recommend(text, facility_ids=(facility.id,), issued_on=date.today() - timedelta(days=100)):
        return create_recommendation(session, coordinator, RecommendationInput(
            text=text, authority_id=facility.authority_id, topic="conditions",
            initial_deadline=issued_on + timedelta(days=60), facility_ids=list(facility_ids), issued_on=issued_on),
            source_visit=earlier)

    heating = recommend("Repair the heating in block 2.")
    record_response(session, coordinator, heating, kind="accepted", text="Works planned for autumn.",
                    received_on=date.today() - timedelta(days=50))
    windows = recommend("Glaze the windows of the punishment cells.")
    other = recommend("Not for this facility.", facility_ids=(elsewhere.id,))
    return {"facility": facility, "coordinator": coordinator, "monitor": monitor, "earlier": earlier,
            "visit": visit, "heating": heating, "windows": windows, "other": other, "interview": interview}


def test_lists_the_facility_open_recommendations_only(session, world):
    rows = service.follow_up_rows(session, world["visit"])
    assert {row.recommendation.id for row in rows} == {world["heating"].id, world["windows"].id}
    heating = next(row for row in rows if row.recommendation.id == world["heating"].id)
    assert heating.latest_response.kind == "accepted"
    assert heating.verified_here is None
    prep = preparation(session, world["visit"])
    assert {r.id for r in prep.open_recommendations} == {world["heating"].id, world["windows"].id}


def test_implemented_verdict_closes_and_not_implemented_keeps_open(session, world):
    visit, monitor = world["visit"], world["monitor"]
    photo = ingest(session, monitor, visit, "radiator.jpg", photo_bytes())
    verification = service.record_verdict(session, monitor, visit, world["heating"], verdict="implemented",
                                          note="New radiators in every cell.", evidence_ids=[photo.id])
    assert verification.visit_id == visit.id and verification.evidence_ids == [photo.id]
    service.record_verdict(session, monitor, visit, world["windows"], verdict="not_implemented",
                           note="Still no glass.")
    session.expire_all()
    heating = session.get(Recommendation, world["heating"].id)
    windows = session.get(Recommendation, world["windows"].id)
    assert heating.status == "closed" and heating.assessment == "implemented"
    assert windows.status == "open" and windows.assessment == "not_implemented"

    # Both still show, each with what this visit found.
    rows = {row.recommendation.id: row for row in service.follow_up_rows(session, visit)}
    assert rows[heating.id].verified_here.verdict == "implemented"
    assert rows[windows.id].verified_here.verdict == "not_implemented"
    # The next preparation lists only what is still open.
    assert [r.id for r in preparation(session, visit).open_recommendations] == [windows.id]


def test_refuses_photos_of_another_visit_and_foreign_recommendations(session, world):
    visit, monitor = world["visit"], world["monitor"]
    old_photo = ingest(session, monitor, world["earlier"], "old.jpg", photo_bytes(40))
    with pytest.raises(ServiceError):
        service.record_verdict(session, monitor, visit, world["heating"], verdict="implemented",
                               evidence_ids=[old_photo.id])
    with pytest.raises(ServiceError):
        service.record_verdict(session, monitor, visit, world["other"], verdict="implemented")
    with pytest.raises(StaleEdit):
        service.record_verdict(session, monitor, visit, world["heating"], verdict="implemented",
                               expected_version=world["heating"].version - 1)
    assert session.scalar(select(Verification.id)) is None


def test_page_shows_recommendations_and_reprisal_checks(client, auth, world):
    auth.login(world["monitor"])
    page = client.get(f"/visits/{world['visit'].id}/follow-up")
    assert page.status_code == 200
    assert b"Repair the heating in block 2." in page.data
    assert b"Works planned for autumn." in page.data
    assert b"Not for this facility." not in page.data
    assert world["interview"].code.encode() in page.data
    assert b'name="recommendation_id"' in page.data


def test_verdict_form_closes_it(client, auth, session, world):
    visit, heating = world["visit"], world["heating"]
    photo = ingest(session, world["monitor"], visit, "radiator.jpg", photo_bytes())
    auth.login(world["monitor"])
    prefix = f"rec{heating.id}-"
    response = client.post(f"/visits/{visit.id}/follow-up", data={
        "recommendation_id": heating.id, prefix + "verdict": "implemented", prefix + "note": "Radiators work.",
        prefix + "evidence_ids": [photo.id], prefix + "version": heating.version})
    assert response.status_code == 303
    session.expire_all()
    rec = session.get(Recommendation, heating.id)
    assert rec.status == "closed"
    assert rec.verifications[-1].evidence_ids == [photo.id]
    page = client.get(f"/visits/{visit.id}/follow-up")
    assert b"Checked at this visit: implemented." in page.data


def test_verdict_form_without_a_verdict_keeps_the_note(client, auth, session, world):
    visit, windows = world["visit"], world["windows"]
    auth.login(world["monitor"])
    prefix = f"rec{windows.id}-"
    response = client.post(f"/visits/{visit.id}/follow-up", data={
        "recommendation_id": windows.id, prefix + "note": "Looked at cells 3 and 4",
        prefix + "version": windows.version})
    assert response.status_code == 400
    assert b"Looked at cells 3 and 4" in response.data
    assert b"Choose what the team found." in response.data
    stale = client.post(f"/visits/{visit.id}/follow-up", data={
        "recommendation_id": windows.id, prefix + "verdict": "not_implemented", prefix + "note": "Still broken",
        prefix + "version": windows.version - 1})
    assert stale.status_code == 409
    assert b"Still broken" in stale.data
    assert session.scalar(select(Verification.id)) is None


def test_who_may_record(client, auth, make_user, session, world):
    visit = world["visit"]
    admin = make_user("admin", country="KG")
    auth.login(admin)
    page = client.get(f"/visits/{visit.id}/follow-up")
    assert page.status_code == 200 and b'name="recommendation_id"' not in page.data
    refused = client.post(f"/visits/{visit.id}/follow-up", data={"recommendation_id": world["heating"].id})
    assert refused.status_code == 403
    auth.logout()
    auth.login(make_user("monitor", country="KG"))
    assert client.get(f"/visits/{visit.id}/follow-up").status_code == 403
    auth.logout()
    auth.login(make_user("council", country="KG"))
    assert client.get(f"/visits/{visit.id}/follow-up").status_code == 403
    # Once the report is sent, the page is read-only for the team too.
    visit.status = "sent"
    session.commit()
    auth.logout()
    auth.login(world["monitor"])
    page = client.get(f"/visits/{visit.id}/follow-up")
    assert page.status_code == 200 and b'name="recommendation_id"' not in page.data
    assert session.scalar(select(FollowUp.id).where(FollowUp.status == "open")) is not None
