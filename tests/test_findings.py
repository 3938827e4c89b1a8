"""Findings of a visit: drafted from the checklist, written freely, confirmed
or dismissed; repeated items across consecutive visits; who may see what."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
from PIL import Image
from sqlalchemy import event, select

from npmtool.crypto import sealer
from npmtool.extensions import db
from npmtool.models import ChecklistItem, Finding, Recommendation, RecommendationEvent
from npmtool.services import ServiceError, StaleEdit
from npmtool.services import findings as service
from npmtool.services.answers import AnswerInput, save_answer
from npmtool.services.evidence import ingest
from npmtool.services.interviews import InterviewInput, record_interview
from npmtool.services.recommendations import RecommendationInput, create_recommendation
from tests.visit_helpers import make_visit


def photo_bytes(shade: int = 90) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (shade, shade, shade)).save(out, "JPEG")
    return out.getvalue()


def rating_items(session, visit, count: int) -> list[ChecklistItem]:
    ids = [i for c in visit.checklists for i in c.item_ids]
    items = session.scalars(select(ChecklistItem).where(ChecklistItem.id.in_(ids),
                                                        ChecklistItem.answer_type == "rating")
                            .order_by(ChecklistItem.id)).all()
    return list(items[:count])


def answer(session, user, visit, item, rating, missing="", improve=""):
    return save_answer(session, user, visit, item.id, AnswerInput(rating=rating, missing_note=missing,
                                                                 improve_note=improve), 0)


@pytest.fixture
def world(session, make_user, make_facility):
    facility = make_facility(country="KG")
    coordinator = make_user("coordinator", country="KG")
    monitor = make_user("monitor", country="KG")
    earlier = make_visit(session, coordinator, [monitor], facility, starts_on=date.today() - timedelta(days=120))
    visit = make_visit(session, coordinator, [monitor], facility)
    return {"facility": facility, "coordinator": coordinator, "monitor": monitor, "earlier": earlier, "visit": visit,
            "items": rating_items(session, visit, 4)}


# -- drafting ----------------------------------------------------------------------


def test_drafting_carries_notes_legal_basis_and_photos_and_is_idempotent(session, world):
    visit, monitor = world["visit"], world["monitor"]
    first, second, third, fourth = world["items"]
    answer(session, monitor, visit, first, "not_yet", missing="No hot water in block 2",
           improve="Repair the boiler")
    answer(session, monitor, visit, second, "partly")
    answer(session, monitor, visit, third, "complete")
    answer(session, monitor, visit, fourth, "not_applicable")
    photo = ingest(session, monitor, visit, "boiler.jpg", photo_bytes(), item_id=first.id)
    ingest(session, monitor, visit, "other.jpg", photo_bytes(120), item_id=third.id)

    drafted = service.draft_findings_from_answers(session, monitor, visit)

    assert sorted(f.item_code for f in drafted) == sorted([first.code, second.code])
    by_code = {f.item_code: f for f in drafted}
    found = by_code[first.code]
    assert found.status == "draft" and found.source == "answer"
    assert found.item_id == first.id and found.facility_id == world["facility"].id
    assert "No hot water in block 2" in found.text and "Repair the boiler" in found.text
    assert found.legal_basis == first.legal_basis and found.legal_basis
    assert found.title == first.question["en"]
    assert [e.id for e in found.evidence] == [photo.id]
    assert [a.item_id for a in found.answers] == [first.id]
    assert found.repeated is False
    assert by_code[second.code].evidence == []

    # Again: nothing new; a newly rated item gets its own draft only.
    assert service.draft_findings_from_answers(session, monitor, visit) == []
    save_answer(session, monitor, visit, third.id, AnswerInput(rating="partly"),
                _answer_version(session, visit, third))
    again = service.draft_findings_from_answers(session, monitor, visit)
    assert [f.item_code for f in again] == [third.code]
    assert session.scalar(select(db.func.count()).select_from(Finding).where(Finding.visit_id == visit.id)) == 3


def _answer_version(session, visit, item) -> int:
    from npmtool.models import Answer

    return session.scalar(select(Answer.version).where(Answer.visit_id == visit.id, Answer.item_id == item.id))


def test_topic_follows_the_checklist_section(session, world):
    sections = {item.section.code: service.topic_for_section(item.section) for item in world["items"]}
    assert all(topic in service.TOPICS for topic in sections.values())
    assert set(sections.values()) - {"other"}, sections  # real checklist sections map to real topics
    health = type("Section", (), {"code": "X-3", "titles": {"en": "Health care", "ru": "Медицина"}})()
    force = type("Section", (), {"code": "X-5",
                                 "titles": {"en": "Discipline, solitary confinement and use of force"}})()
    odd = type("Section", (), {"code": "X-9", "titles": {"en": "Miscellaneous"}})()
    assert service.topic_for_section(health) == "health_care"
    assert service.topic_for_section(force) == "use_of_force"
    assert service.topic_for_section(odd) == "other"


def test_drafting_uses_a_bounded_number_of_queries(app, session, world):
    visit, monitor = world["visit"], world["monitor"]
    items = rating_items(session, visit, 30)
    for item in items:
        answer(session, monitor, visit, item, "partly", missing="gap")
    selects = []

    def count(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("SELECT"):
            selects.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        drafted = service.draft_findings_from_answers(session, monitor, visit)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(drafted) == len(items) >= 20
    # Reads are set-based: the same few SELECTs for 20 answers as for 2.
    assert len(selects) <= 10, selects


# -- repeated findings and escalation ----------------------------------------------


def test_repeated_item_is_marked_and_its_open_recommendation_escalated(session, world):
    earlier, visit = world["earlier"], world["visit"]
    monitor, coordinator, facility = world["monitor"], world["coordinator"], world["facility"]
    first, second, third, _fourth = world["items"]
    # Earlier visit: first item got a finding and a recommendation; second was only rated.
    answer(session, monitor, earlier, first, "not_yet", missing="Cells overcrowded")
    earlier_finding = service.draft_findings_from_answers(session, monitor, earlier)
    answer(session, monitor, earlier, second, "partly")  # rated after drafting: no finding
    earlier_finding = next(f for f in earlier_finding if f.item_code == first.code)
    earlier_finding = session.get(Finding, earlier_finding.id)
    rec = create_recommendation(session, coordinator, RecommendationInput(
        text="Reduce the number of people per cell.", authority_id=facility.authority_id, topic="overcrowding",
        initial_deadline=date.today() + timedelta(days=90), facility_ids=[facility.id],
        finding_ids=[earlier_finding.id]), source_visit=earlier)
    assert rec.priority == "normal"
    rec_id = rec.id

    # This visit: all three found wanting; only the first two were wanting before.
    for item in (first, second, third):
        answer(session, monitor, visit, item, "partly")
    drafted = {f.item_code: f for f in service.draft_findings_from_answers(session, monitor, visit)}

    assert drafted[first.code].repeated is True
    assert drafted[first.code].previous_finding_id == earlier_finding.id
    assert drafted[second.code].repeated is True
    assert drafted[second.code].previous_finding_id is None
    assert drafted[third.code].repeated is False

    session.expire_all()
    rec = session.get(Recommendation, rec_id)
    assert "repeated" in rec.priority_flags
    assert rec.priority == "high" and rec.repeated is True
    escalations = session.scalars(select(RecommendationEvent).where(
        RecommendationEvent.recommendation_id == rec_id, RecommendationEvent.kind == "escalated")).all()
    assert len(escalations) == 1
    assert first.code in escalations[0].note

    # Drafting again neither duplicates findings nor escalates twice.
    assert service.draft_findings_from_answers(session, monitor, visit) == []
    assert len(session.scalars(select(RecommendationEvent).where(
        RecommendationEvent.recommendation_id == rec_id, RecommendationEvent.kind == "escalated")).all()) == 1


def test_only_the_previous_visit_counts_for_repetition(session, world, make_user):
    earlier, visit, monitor = world["earlier"], world["visit"], world["monitor"]
    first = world["items"][0]
    oldest = make_visit(session, world["coordinator"], [monitor], world["facility"],
                        starts_on=date.today() - timedelta(days=400))
    answer(session, monitor, oldest, first, "not_yet")
    answer(session, monitor, earlier, first, "complete")
    answer(session, monitor, visit, first, "not_yet")
    [finding] = service.draft_findings_from_answers(session, monitor, visit)
    assert finding.repeated is False


# -- free findings -----------------------------------------------------------------------


def test_free_finding_links_photos_and_interview_codes_of_the_visit(session, world):
    visit, monitor = world["visit"], world["monitor"]
    interview = record_interview(session, monitor, visit, InterviewInput(category="detained", notes="x"), sealer())
    photo = ingest(session, monitor, visit, "a.jpg", photo_bytes())
    finding = service.create_finding(session, monitor, visit, service.FindingInput(
        title="No interpreter at admission", text="Two people did not understand the rules.", topic="legal_safeguards",
        legal_basis=service.parse_legal_basis("INT-MANDELA Rule 55"), evidence_ids=[photo.id],
        interview_codes=[interview.code]))
    assert finding.source == "free" and finding.status == "draft"
    assert finding.interview_codes == [interview.code]
    assert finding.legal_basis == [{"source": "INT-MANDELA", "article": "Rule 55"}]
    other_photo = ingest(session, monitor, world["earlier"], "b.jpg", photo_bytes(30))
    with pytest.raises(ServiceError):
        service.create_finding(session, monitor, visit, service.FindingInput(title="x", evidence_ids=[other_photo.id]))
    with pytest.raises(ServiceError):
        service.create_finding(session, monitor, visit, service.FindingInput(title="x", interview_codes=["KG-NOPE"]))
    with pytest.raises(ServiceError):
        service.create_finding(session, monitor, visit, service.FindingInput(title="   "))


def test_stale_edit_is_refused(session, world):
    visit, monitor = world["visit"], world["monitor"]
    finding = service.create_finding(session, monitor, visit, service.FindingInput(title="Dark cells"))
    opened = finding.version
    service.update_finding(session, world["coordinator"], finding, opened,
                           service.FindingInput(title="Dark cells in block A"))
    with pytest.raises(StaleEdit):
        service.update_finding(session, monitor, finding, opened, service.FindingInput(title="Dark cells!"))
    assert session.get(Finding, finding.id).title == "Dark cells in block A"


def test_confirm_dismiss_and_no_edits_after_the_report_is_sent(session, world):
    visit, monitor = world["visit"], world["monitor"]
    finding = service.create_finding(session, monitor, visit, service.FindingInput(title="Dark cells"))
    service.set_finding_status(session, monitor, finding, "confirmed", finding.version)
    assert finding.status == "confirmed"
    service.set_finding_status(session, monitor, finding, "dismissed")
    assert finding.status == "dismissed"
    visit.status = "sent"
    session.commit()
    assert not service.can_edit_findings(monitor, visit)
    with pytest.raises(ServiceError):
        service.set_finding_status(session, monitor, finding, "confirmed")


# -- pages and access ------------------------------------------------------------------------


@pytest.fixture
def page_world(session, world, make_user):
    visit, monitor = world["visit"], world["monitor"]
    interview = record_interview(session, monitor, visit, InterviewInput(category="detained", notes="x"), sealer())
    confirmed = service.create_finding(session, monitor, visit, service.FindingInput(
        title="Confirmed gap", interview_codes=[interview.code]))
    service.set_finding_status(session, monitor, confirmed, "confirmed")
    draft = service.create_finding(session, monitor, visit, service.FindingInput(title="Draft gap"))
    return {**world, "code": interview.code, "confirmed": confirmed, "draft": draft}


def test_team_sees_all_findings_with_codes(client, auth, page_world):
    auth.login(page_world["monitor"])
    page = client.get(f"/visits/{page_world['visit'].id}/findings")
    assert page.status_code == 200
    assert b"Confirmed gap" in page.data and b"Draft gap" in page.data
    assert page_world["code"].encode() in page.data
    assert b"Draft findings from the checklist" in page.data
    # Monitors do not issue recommendations.
    assert b"Make a recommendation" not in page.data


def test_council_reads_confirmed_findings_without_interview_codes(client, auth, make_user, page_world):
    auth.login(make_user("council", country="KG"))
    page = client.get(f"/visits/{page_world['visit'].id}/findings")
    assert page.status_code == 200
    assert b"Confirmed gap" in page.data
    assert b"Draft gap" not in page.data
    assert page_world["code"].encode() not in page.data
    assert b"Draft findings from the checklist" not in page.data
    assert client.post(f"/visits/{page_world['visit'].id}/findings/draft").status_code == 403


def test_council_of_another_country_cannot_read(client, auth, make_user, page_world):
    auth.login(make_user("council", country="KZ"))
    assert client.get(f"/visits/{page_world['visit'].id}/findings").status_code == 403


@pytest.mark.parametrize("role", ["cso"])
def test_cso_is_refused(client, auth, make_user, page_world, role):
    auth.login(make_user(role, country="KG"))
    assert client.get(f"/visits/{page_world['visit'].id}/findings").status_code == 403
    assert client.get(f"/visits/{page_world['visit'].id}/follow-up").status_code == 403


def test_monitor_not_on_the_team_is_refused(client, auth, make_user, page_world):
    outsider = make_user("monitor", country="KG")
    auth.login(outsider)
    visit_id = page_world["visit"].id
    assert client.get(f"/visits/{visit_id}/findings").status_code == 403
    assert client.get(f"/visits/{visit_id}/findings/new").status_code == 403
    assert client.get(f"/findings/{page_world['draft'].id}/edit").status_code == 403
    assert client.post(f"/findings/{page_world['draft'].id}/status", data={"status": "confirmed"}).status_code == 403
    assert client.get(f"/visits/{visit_id}/follow-up").status_code == 403


def test_coordinator_gets_the_recommendation_picker(app, client, auth, page_world):
    auth.login(page_world["coordinator"])
    page = client.get(f"/visits/{page_world['visit'].id}/findings")
    assert page.status_code == 200
    offered = b'name="finding_id"' in page.data and b"Make a recommendation" in page.data
    # Offered as soon as the recommendation form exists (and only then: no broken link).
    assert offered == ("recommendations.new" in app.view_functions)
    assert page_world["code"].encode() in page.data


def test_draft_button_creates_drafts(client, auth, session, page_world):
    visit, monitor = page_world["visit"], page_world["monitor"]
    answer(session, monitor, visit, page_world["items"][0], "not_yet", missing="Broken windows")
    auth.login(monitor)
    response = client.post(f"/visits/{visit.id}/findings/draft", follow_redirects=True)
    assert response.status_code == 200
    assert b"1 draft findings added" in response.data
    assert b"Broken windows" in response.data


def test_new_finding_form_keeps_input_on_error(client, auth, session, page_world):
    visit = page_world["visit"]
    auth.login(page_world["monitor"])
    response = client.post(f"/visits/{visit.id}/findings/new",
                           data={"title": "", "text": "Mould on the walls of cell 12", "topic": "conditions"})
    assert response.status_code == 400
    assert b"Mould on the walls of cell 12" in response.data
    assert b"Give the finding a title." in response.data
    response = client.post(f"/visits/{visit.id}/findings/new",
                           data={"title": "Mould", "text": "Mould on the walls of cell 12", "topic": "conditions",
                                 "interview_codes": [page_world["code"]]})
    assert response.status_code == 303
    created = session.scalar(select(Finding).where(Finding.title == "Mould"))
    assert created.interview_codes == [page_world["code"]] and created.topic == "conditions"


def test_stale_edit_form_is_refused_with_409_and_keeps_text(client, auth, session, page_world):
    finding = page_world["draft"]
    auth.login(page_world["monitor"])
    page = client.get(f"/findings/{finding.id}/edit")
    version = re.search(rb'name="version" type="hidden" value="(\d+)"', page.data).group(1).decode()
    service.update_finding(session, page_world["coordinator"], finding, finding.version,
                           service.FindingInput(title="Changed meanwhile"))
    response = client.post(f"/findings/{finding.id}/edit", data={
        "title": "My wording", "text": "My careful text", "topic": "other", "version": version})
    assert response.status_code == 409
    assert b"My careful text" in response.data
    session.expire_all()
    assert session.get(Finding, finding.id).title == "Changed meanwhile"


def test_edit_by_admin_is_refused_but_admin_reads(client, auth, make_user, page_world):
    auth.login(make_user("admin", country="KG"))
    assert client.get(f"/visits/{page_world['visit'].id}/findings").status_code == 200
    assert client.get(f"/findings/{page_world['draft'].id}/edit").status_code == 403


def test_status_buttons(client, auth, session, page_world):
    finding = page_world["draft"]
    auth.login(page_world["monitor"])
    response = client.post(f"/findings/{finding.id}/status", data={"status": "confirmed",
                                                                   "version": str(finding.version)})
    assert response.status_code == 303
    session.expire_all()
    assert session.get(Finding, finding.id).status == "confirmed"
    stale = client.post(f"/findings/{finding.id}/status", data={"status": "dismissed", "version": "1"},
                        follow_redirects=True)
    assert b"changed this finding meanwhile" in stale.data
    session.expire_all()
    assert session.get(Finding, finding.id).status == "confirmed"
