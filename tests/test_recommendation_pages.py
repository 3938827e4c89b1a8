"""The recommendation pages: issuing from findings, the detail page with its
two tracks, and the forms on it."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from npmtool.crypto import sealer
from npmtool.models import Answer, Finding, LegalSource, Recommendation
from npmtool.services import recommendations as service
from npmtool.services.interviews import InterviewInput, record_interview
from tests.recommendation_helpers import PDF, make_recommendation
from tests.visit_helpers import make_visit

TODAY = date.today()


@pytest.fixture
def page_world(session, make_user, make_facility):
    coordinator = make_user("coordinator", country="KG")
    monitor = make_user("monitor", country="KG")
    facility = make_facility(country="KG")
    visit = make_visit(session, coordinator, [monitor], facility)
    interview = record_interview(session, monitor, visit, InterviewInput(
        category="detained", notes="Confidential account of beatings", identity="Asan Usenov",
        consent=True, consent_to_be_named=True), sealer())
    item_id = visit.checklists[0].item_ids[0]
    answer = Answer(visit_id=visit.id, item_id=item_id, rating="not_yet", missing_note="No lamps",
                    improve_note="Fit a lamp in every cell", created_by_id=monitor.id, updated_by_id=monitor.id)
    session.add(answer)
    source = session.scalars(select(LegalSource).where(LegalSource.country_code == "KG")).first()
    finding = Finding(visit_id=visit.id, facility_id=facility.id, title="Cells are dark", text="No lamps",
                      legal_basis=[{"source": source.code, "article": "71"}], topic="conditions",
                      interview_codes=[interview.code], repeated=True, answers=[answer], status="confirmed")
    session.add(finding)
    session.commit()
    return {"coordinator": coordinator, "monitor": monitor, "facility": facility, "visit": visit,
            "finding": finding, "interview": interview, "source": source}


def _text(response) -> str:
    return response.get_data(as_text=True)


# -- issuing -------------------------------------------------------------------------------

def test_new_page_is_prefilled_from_findings(client, auth, page_world):
    auth.login(page_world["coordinator"])
    visit, finding, facility = page_world["visit"], page_world["finding"], page_world["facility"]
    response = client.get(f"/recommendations/new?visit_id={visit.id}&finding_id={finding.id}")
    assert response.status_code == 200
    html = _text(response)
    assert "Fit a lamp in every cell" in html
    assert re.search(rf'<option selected value="{facility.authority_id}">|<option value="{facility.authority_id}" selected',
                     html)
    assert f'value="{page_world["source"].code}|71" checked' in html or \
        re.search(rf'checked[^>]*value="{page_world["source"].code}\|71"', html)
    assert (TODAY + timedelta(days=90)).isoformat() in html
    assert page_world["interview"].code in html
    assert "Confidential account" not in html and "Asan Usenov" not in html


def test_issuing_links_findings_and_sets_repeated(client, auth, session, page_world):
    auth.login(page_world["coordinator"])
    visit, finding, facility = page_world["visit"], page_world["finding"], page_world["facility"]
    source = page_world["source"]
    response = client.post(f"/recommendations/new?visit_id={visit.id}&finding_id={finding.id}", data={
        "text": "Fit a lamp in every cell", "authority": str(facility.authority_id), "topic": "conditions",
        "legal_basis": [f"{source.code}|71"], "facilities": [str(facility.id)], "findings": [str(finding.id)],
        "issued_on": TODAY.isoformat(), "initial_deadline": (TODAY + timedelta(days=90)).isoformat()})
    assert response.status_code == 302
    rec = session.scalars(select(Recommendation)).one()
    assert response.location.endswith(f"/recommendations/{rec.id}")
    assert rec.findings == [finding] and rec.facilities == [facility] and rec.source_visit_id == visit.id
    assert rec.repeated and rec.priority == "high"
    assert rec.legal_basis == [{"source": source.code, "article": "71"}]


def test_new_with_bad_input_keeps_it(client, auth, session, page_world):
    auth.login(page_world["coordinator"])
    visit, facility = page_world["visit"], page_world["facility"]
    response = client.post(f"/recommendations/new?visit_id={visit.id}", data={
        "text": "Keep this text", "authority": str(facility.authority_id), "topic": "conditions",
        "facilities": [str(facility.id)], "issued_on": TODAY.isoformat(),
        "initial_deadline": (TODAY - timedelta(days=3)).isoformat()})
    assert response.status_code == 400
    assert "Keep this text" in _text(response)
    assert "cannot be before" in _text(response)
    assert session.scalar(select(Recommendation.id)) is None


def test_monitor_of_the_visit_cannot_issue(client, auth, page_world):
    auth.login(page_world["monitor"])
    response = client.get(f"/recommendations/new?visit_id={page_world['visit'].id}")
    assert response.status_code == 403


def test_coordinator_of_other_region_cannot_issue_from_the_visit(client, auth, session, make_user, page_world):
    from tests.conftest import region_codes

    facility = page_world["facility"]
    other = next(code for code in region_codes(session, "KG") if code != _region_code(session, facility))
    auth.login(make_user("coordinator", country="KG", regions=(other,)))
    assert client.get(f"/recommendations/new?visit_id={page_world['visit'].id}").status_code == 403


def _region_code(session, facility):
    from npmtool.models import Region
    return session.get(Region, facility.region_id).code


# -- the detail page ---------------------------------------------------------------------

@pytest.fixture
def rec(session, page_world):
    rec = make_recommendation(session, page_world["coordinator"], page_world["facility"],
                              finding_ids=[page_world["finding"].id])
    service.record_response(session, page_world["coordinator"], rec, kind="rejected", text="No budget this year",
                            received_on=TODAY - timedelta(days=5))
    service.record_response(session, page_world["coordinator"], rec, kind="accepted", text="Budget found",
                            received_on=TODAY - timedelta(days=2))
    service.revise_deadline(session, page_world["coordinator"], rec, deadline=TODAY - timedelta(days=1),
                            reason="Tender delayed")
    return rec


def test_detail_shows_both_tracks_deadlines_findings_and_history(client, auth, page_world, rec):
    auth.login(page_world["coordinator"])
    html = _text(client.get(f"/recommendations/{rec.id}"))
    assert rec.reference in html
    assert "Authority&#39;s response" in html and "NPM assessment" in html
    assert "Budget found" in html and "No budget this year" in html  # latest and earlier
    assert rec.initial_deadline.isoformat() in html and "Tender delayed" in html
    assert "Overdue" in html
    assert "Cells are dark" in html and page_world["interview"].code in html
    assert "Confidential account" not in html and "Asan Usenov" not in html
    assert "Deadline revised" in html and "Test Coordinator" in html
    for form in ("response", "deadline", "assessment", "verification"):
        assert f'id="form-{form}"' in html
    assert 'id="form-decision"' not in html


def test_council_reads_comments_and_decides_but_does_not_manage(client, auth, session, make_user, page_world, rec):
    council = make_user("council", country="KG")
    auth.login(council)
    html = _text(client.get(f"/recommendations/{rec.id}"))
    assert 'id="form-comment"' in html and 'id="form-decision"' in html
    assert 'id="form-response"' not in html and 'id="form-assessment"' not in html
    assert page_world["interview"].code in html and "Confidential account" not in html
    assert f'href="/visits/{page_world["visit"].id}"' not in html  # council cannot open visits
    assert client.post(f"/recommendations/{rec.id}/response", data={}).status_code == 403
    response = client.post(f"/recommendations/{rec.id}/council-decision",
                           data={"decision-text": "Raise with the minister", "decision-decided_on": TODAY.isoformat()})
    assert response.status_code == 302
    session.refresh(rec)
    assert rec.events[-1].kind == "council_decision" and rec.events[-1].note == "Raise with the minister"


def test_monitor_who_visited_reads_without_forms(client, auth, page_world, rec):
    auth.login(page_world["monitor"])
    html = _text(client.get(f"/recommendations/{rec.id}"))
    assert rec.reference in html
    assert "<form method=\"post\" action=\"/recommendations" not in html


@pytest.mark.parametrize("role, country", [("coordinator", "KZ"), ("monitor", "KG"), ("cso", "KG")])
def test_outsiders_cannot_open_it_or_its_documents(client, auth, session, make_user, page_world, rec, role, country):
    document = service.add_document(session, page_world["coordinator"], rec, filename="letter.pdf", data=PDF)
    auth.login(make_user(role, country=country))
    assert client.get(f"/recommendations/{rec.id}").status_code == 403
    assert client.get(f"/recommendations/{rec.id}/documents/{document.id}").status_code == 403


def test_document_download(client, auth, session, make_user, page_world, rec):
    document = service.add_document(session, page_world["coordinator"], rec, filename="letter.pdf", data=PDF)
    auth.login(make_user("council", country="KG"))
    response = client.get(f"/recommendations/{rec.id}/documents/{document.id}")
    assert response.status_code == 200 and response.data == PDF
    assert response.mimetype == "application/pdf"


# -- the forms ---------------------------------------------------------------------------

def test_response_with_document_upload(client, auth, session, page_world, rec):
    auth.login(page_world["coordinator"])
    response = client.post(f"/recommendations/{rec.id}/response", content_type="multipart/form-data", data={
        "response-kind": "partially_accepted", "response-text": "Half the cells",
        "response-received_on": TODAY.isoformat(), "response-version": str(rec.version),
        "response-document": (io.BytesIO(PDF), "reply.pdf")})
    assert response.status_code == 302
    session.refresh(rec)
    assert rec.response_kind == "partially_accepted" and len(rec.responses) == 3
    assert rec.responses[-1].document.filename == "reply.pdf"


def test_response_with_a_fake_pdf_saves_nothing_and_keeps_input(client, auth, session, page_world, rec):
    auth.login(page_world["coordinator"])
    response = client.post(f"/recommendations/{rec.id}/response", content_type="multipart/form-data", data={
        "response-kind": "accepted", "response-text": "Keep my words", "response-received_on": TODAY.isoformat(),
        "response-version": str(rec.version), "response-document": (io.BytesIO(b"MZ nope"), "reply.pdf")})
    assert response.status_code == 400
    assert "not a PDF" in _text(response) and "Keep my words" in _text(response)
    session.expire_all()
    assert len(rec.responses) == 2 and rec.documents == []


def test_stale_deadline_form_is_refused_with_409_and_input_kept(client, auth, session, page_world, rec):
    auth.login(page_world["coordinator"])
    opened = rec.version
    service.assess(session, page_world["coordinator"], rec, assessment="in_progress", note="")
    response = client.post(f"/recommendations/{rec.id}/deadline", data={
        "deadline-deadline": (TODAY + timedelta(days=40)).isoformat(), "deadline-reason": "Waiting for funds",
        "deadline-version": str(opened)})
    assert response.status_code == 409
    assert "Waiting for funds" in _text(response) and "Someone else changed" in _text(response)
    session.expire_all()
    assert len(rec.deadlines) == 1


def test_deadline_needs_a_reason(client, auth, session, page_world, rec):
    auth.login(page_world["coordinator"])
    response = client.post(f"/recommendations/{rec.id}/deadline", data={
        "deadline-deadline": (TODAY + timedelta(days=40)).isoformat(), "deadline-reason": "",
        "deadline-version": str(rec.version)})
    assert response.status_code == 400
    assert (TODAY + timedelta(days=40)).isoformat() in _text(response)


def test_assessment_form_cannot_close(client, auth, session, page_world, rec):
    auth.login(page_world["coordinator"])
    html = _text(client.get(f"/recommendations/{rec.id}"))
    form = html[html.index('id="form-assessment"'):html.index('id="form-verification"')]
    assert 'value="implemented"' not in form
    response = client.post(f"/recommendations/{rec.id}/assessment", data={
        "assessment-assessment": "implemented", "assessment-version": str(rec.version)})
    assert response.status_code == 400
    session.expire_all()
    assert rec.status == "open"


def test_documentary_verification_closes_then_coordinator_reopens(client, auth, session, page_world, rec):
    auth.login(page_world["coordinator"])
    response = client.post(f"/recommendations/{rec.id}/verification", content_type="multipart/form-data", data={
        "verification-verdict": "implemented", "verification-verified_on": TODAY.isoformat(),
        "verification-note": "Order No. 5 and photos", "verification-version": str(rec.version),
        "verification-document": (io.BytesIO(PDF), "order.pdf")})
    assert response.status_code == 302
    session.expire_all()
    assert rec.status == "closed" and rec.verifications[0].document.filename == "order.pdf"
    html = _text(client.get(f"/recommendations/{rec.id}"))
    assert 'id="form-reopen"' in html and 'id="form-verification"' not in html
    response = client.post(f"/recommendations/{rec.id}/reopen", data={
        "reopen-reason": "Lamps removed again", "reopen-version": str(rec.version)})
    assert response.status_code == 302
    session.expire_all()
    assert rec.status == "open"
    html = _text(client.get(f"/recommendations/{rec.id}"))
    assert "Lamps removed again" in html and "Reopened" in html


def test_comment_errors_rerender(client, auth, page_world, rec):
    auth.login(page_world["coordinator"])
    response = client.post(f"/recommendations/{rec.id}/comment", data={"comment-text": ""})
    assert response.status_code == 400
    assert "Write a comment" in _text(response)


def test_detail_page_queries_do_not_grow_with_the_history(client, auth, session, make_user, page_world, rec):
    from tests.test_recommendation_list import count_queries

    coordinator = page_world["coordinator"]
    auth.login(coordinator)
    client.get(f"/recommendations/{rec.id}")  # warm: the signed-in user and the catalogue
    with count_queries() as before:
        assert client.get(f"/recommendations/{rec.id}").status_code == 200
    # A long history by several people: responses, deadlines, comments, a
    # non-closing verification at a visit with photos of none.
    council = make_user("council", country="KG")
    for day in range(1, 6):
        service.record_response(session, coordinator, rec, kind="partially_accepted", text=f"Answer {day}",
                                received_on=TODAY)
        service.revise_deadline(session, coordinator, rec, deadline=TODAY + timedelta(days=day), reason=f"R{day}")
        service.add_comment(session, council, rec, f"Comment {day}")
    later = make_visit(session, coordinator, [page_world["monitor"]], page_world["facility"])
    service.verify(session, page_world["monitor"], rec, kind="visit", verdict="not_implemented",
                   verified_on=TODAY, visit=later)
    with count_queries() as after:
        html = _text(client.get(f"/recommendations/{rec.id}"))
    assert "Comment 5" in html and "Answer 5" in html
    # One more for the verifying visit's team (who may open it), at most.
    assert len(after) <= len(before) + 1, after[len(before):]
