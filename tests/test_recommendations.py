"""The recommendation state machine and its access rules (services)."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select

from npmtool.models import Finding, Recommendation, RecommendationEvent, Region
from npmtool.services import ServiceError, StaleEdit
from npmtool.services import recommendations as service
from npmtool.services.recommendation_access import (
    can_comment_recommendation,
    can_decide_recommendation,
    can_manage_recommendation,
    can_read_recommendation,
    can_verify_at_visit,
    recommendation_clause,
)
from npmtool.services.recommendations import RecommendationInput, compute_priority
from tests.recommendation_helpers import PDF, make_recommendation
from tests.visit_helpers import make_visit

TODAY = date.today()


@pytest.fixture
def world(session, make_user, make_facility):
    coordinator = make_user("coordinator", country="KG")
    monitor = make_user("monitor", country="KG")
    facility = make_facility(country="KG")
    rec = make_recommendation(session, coordinator, facility)
    return {"coordinator": coordinator, "monitor": monitor, "facility": facility, "rec": rec}


def _finding(session, visit, **kw):
    finding = Finding(visit_id=visit.id, facility_id=visit.facility_id, title=kw.pop("title", "Dark cells"),
                      text="", legal_basis=kw.pop("legal_basis", []), topic="conditions", interview_codes=[], **kw)
    session.add(finding)
    session.commit()
    return finding


# -- priority ---------------------------------------------------------------------------

@pytest.mark.parametrize("flags, expected", [
    ([], "normal"), (["repeated"], "high"), (["torture_allegation"], "urgent"),
    (["risk_to_life", "repeated"], "urgent"), (["ill_treatment_allegation"], "urgent"),
])
def test_priority_is_computed_from_flags(flags, expected):
    assert compute_priority(flags) == expected


def test_create_sets_reference_priority_region_and_history(session, world):
    coordinator, facility = world["coordinator"], world["facility"]
    rec = make_recommendation(session, coordinator, facility, flags=["torture_allegation"])
    assert rec.reference == f"KG-{rec.issued_on.year}-00002"
    assert world["rec"].reference == f"KG-{rec.issued_on.year}-00001"
    assert rec.priority == "urgent"
    assert rec.region_id == facility.region_id and rec.facility_type_id == facility.facility_type_id
    assert rec.current_deadline == rec.initial_deadline
    assert [e.kind for e in rec.events] == ["created"]
    assert rec.events[0].user_id == coordinator.id


def test_repeated_flag_comes_from_a_repeated_finding(session, world):
    coordinator, facility = world["coordinator"], world["facility"]
    visit = make_visit(session, coordinator, [world["monitor"]], facility)
    finding = _finding(session, visit, repeated=True)
    rec = make_recommendation(session, coordinator, facility, finding_ids=[finding.id])
    assert rec.repeated is True
    assert rec.priority_flags == ["repeated"] and rec.priority == "high"
    assert rec.findings == [finding]


def test_systemic_needs_no_facility_but_others_do(session, world):
    coordinator, facility = world["coordinator"], world["facility"]
    rec = make_recommendation(session, coordinator, facility, systemic=True)
    assert rec.systemic and rec.facilities == [] and rec.region_id is None
    with pytest.raises(ServiceError, match="at least one facility"):
        service.create_recommendation(session, coordinator, RecommendationInput(
            text="x", authority_id=facility.authority_id, topic="other", initial_deadline=TODAY))


def test_create_refuses_bad_input(session, world, make_user):
    coordinator, facility = world["coordinator"], world["facility"]
    base = dict(text="Fix it", authority_id=facility.authority_id, topic="other",
                initial_deadline=TODAY + timedelta(days=5), facility_ids=[facility.id])
    for change, message in [({"text": "  "}, "text"), ({"topic": "nonsense"}, "topic"),
                            ({"initial_deadline": TODAY - timedelta(days=1)}, "deadline"),
                            ({"legal_basis": [{"source": "NO-SUCH-LAW", "article": "1"}]}, "legal source"),
                            ({"priority_flags": ["bogus"]}, "priority flag")]:
        with pytest.raises(ServiceError, match=message):
            service.create_recommendation(session, coordinator, RecommendationInput(**{**base, **change}))
    monitor = world["monitor"]
    with pytest.raises(ServiceError, match="Only coordinators"):
        service.create_recommendation(session, monitor, RecommendationInput(**base))
    kz = make_user("coordinator", country="KZ")
    with pytest.raises(ServiceError):
        service.create_recommendation(session, kz, RecommendationInput(**base))


# -- closing only by verification ---------------------------------------------------------

def test_assessment_cannot_close(session, world):
    rec, coordinator = world["rec"], world["coordinator"]
    for verdict in ("implemented", "no_longer_applicable"):
        with pytest.raises(ServiceError, match="Only a verification"):
            service.assess(session, coordinator, rec, assessment=verdict, note="")
    session.refresh(rec)
    assert rec.status == "open" and rec.assessment == "not_started"
    service.assess(session, coordinator, rec, assessment="in_progress", note="Works started")
    assert rec.assessment == "in_progress" and rec.status == "open"
    assert rec.events[-1].changes == {"assessment": ["not_started", "in_progress"]}
    assert rec.events[-1].note == "Works started"


def test_non_closing_verification_keeps_it_open(session, world):
    rec, coordinator = world["rec"], world["coordinator"]
    document = service.add_document(session, coordinator, rec, filename="order.pdf", data=PDF)
    service.verify(session, coordinator, rec, kind="document", verdict="partially_implemented",
                   verified_on=TODAY, document=document)
    assert rec.status == "open" and rec.assessment == "partially_implemented" and rec.closed_on is None


def test_closing_verification_closes_and_reopen_reopens(session, world):
    rec, coordinator, facility, monitor = world["rec"], world["coordinator"], world["facility"], world["monitor"]
    visit = make_visit(session, coordinator, [monitor], facility)
    service.verify(session, monitor, rec, kind="visit", verdict="implemented", verified_on=TODAY, visit=visit,
                   note="Lamps in every cell")
    assert rec.status == "closed" and rec.closed_on == TODAY and rec.implemented_on == TODAY
    assert rec.assessment == "implemented"
    assert rec.verifications[0].visit_id == visit.id
    with pytest.raises(ServiceError, match="closed"):
        service.assess(session, coordinator, rec, assessment="in_progress", note="")
    with pytest.raises(ServiceError, match="why"):
        service.reopen(session, coordinator, rec, reason=" ")
    with pytest.raises(ServiceError):
        service.reopen(session, monitor, rec, reason="Lamps broken again")
    service.reopen(session, coordinator, rec, reason="Lamps broken again")
    assert rec.status == "open" and rec.closed_on is None and rec.implemented_on is None
    assert rec.assessment == "not_implemented"
    assert [e.kind for e in rec.events] == ["created", "verification", "reopened"]
    assert rec.events[1].changes["status"] == ["open", "closed"]


def test_verification_rules(session, world, make_facility, make_user):
    rec, coordinator, monitor = world["rec"], world["coordinator"], world["monitor"]
    with pytest.raises(ServiceError, match="visit"):
        service.verify(session, coordinator, rec, kind="visit", verdict="implemented", verified_on=TODAY)
    with pytest.raises(ServiceError, match="document"):
        service.verify(session, coordinator, rec, kind="document", verdict="implemented", verified_on=TODAY)
    other = make_visit(session, coordinator, [monitor], make_facility(country="KG"))
    with pytest.raises(ServiceError, match="not to a facility"):
        service.verify(session, coordinator, rec, kind="visit", verdict="implemented", verified_on=TODAY, visit=other)
    visit = make_visit(session, coordinator, [monitor], world["facility"])
    with pytest.raises(ServiceError, match="future"):
        service.verify(session, coordinator, rec, kind="visit", verdict="implemented",
                       verified_on=TODAY + timedelta(days=1), visit=visit)
    # A monitor not on that visit's team cannot verify there.
    outsider = make_user("monitor", country="KG")
    assert not can_verify_at_visit(outsider, visit) and can_verify_at_visit(monitor, visit)
    with pytest.raises(ServiceError, match="cannot verify"):
        service.verify(session, outsider, rec, kind="visit", verdict="implemented", verified_on=TODAY, visit=visit)
    session.refresh(rec)
    assert rec.status == "open" and rec.verifications == []


def test_verification_links_only_photos_of_its_visit(session, world):
    from npmtool.services.evidence import ingest

    rec, coordinator, monitor = world["rec"], world["coordinator"], world["monitor"]
    visit = make_visit(session, coordinator, [monitor], world["facility"])
    other = make_visit(session, coordinator, [monitor], world["facility"])
    photo = io.BytesIO()
    Image.new("RGB", (32, 24), (10, 10, 10)).save(photo, "JPEG")
    evidence = ingest(session, monitor, other, "p.jpg", photo.getvalue())
    with pytest.raises(ServiceError, match="photo"):
        service.verify(session, monitor, rec, kind="visit", verdict="not_implemented", verified_on=TODAY,
                       visit=visit, evidence_ids=[evidence.id])
    verification = service.verify(session, monitor, rec, kind="visit", verdict="not_implemented",
                                  verified_on=TODAY, visit=other, evidence_ids=[evidence.id])
    assert verification.evidence_ids == [evidence.id] and rec.status == "open"


# -- responses, deadlines, history ---------------------------------------------------------

def test_responses_are_all_kept_and_latest_shown(session, world):
    rec, coordinator = world["rec"], world["coordinator"]
    service.record_response(session, coordinator, rec, kind="rejected", text="No money",
                            received_on=TODAY - timedelta(days=5))
    service.record_response(session, coordinator, rec, kind="accepted", text="Budget found",
                            received_on=TODAY - timedelta(days=1))
    # A letter filed late does not replace the newer one as "latest".
    service.record_response(session, coordinator, rec, kind="partially_accepted", text="Old letter",
                            received_on=TODAY - timedelta(days=8))
    assert [r.kind for r in rec.responses] == ["rejected", "accepted", "partially_accepted"]
    assert rec.response_kind == "accepted" and rec.response_on == TODAY - timedelta(days=1)
    assert rec.assessment == "not_started"  # the two tracks stay apart
    with pytest.raises(ServiceError, match="what the authority answered"):
        service.record_response(session, coordinator, rec, kind="maybe", text="", received_on=TODAY)


def test_deadlines_are_all_kept(session, world):
    rec, coordinator = world["rec"], world["coordinator"]
    initial = rec.initial_deadline
    with pytest.raises(ServiceError, match="why"):
        service.revise_deadline(session, coordinator, rec, deadline=initial + timedelta(days=30), reason="")
    service.revise_deadline(session, coordinator, rec, deadline=initial + timedelta(days=30), reason="Tender")
    service.revise_deadline(session, coordinator, rec, deadline=initial + timedelta(days=60), reason="Tender again")
    assert rec.initial_deadline == initial
    assert rec.current_deadline == initial + timedelta(days=60)
    assert [(d.previous, d.deadline) for d in rec.deadlines] == [
        (initial, initial + timedelta(days=30)), (initial + timedelta(days=30), initial + timedelta(days=60))]
    assert rec.events[-1].changes == {"deadline": [(initial + timedelta(days=30)).isoformat(),
                                                   (initial + timedelta(days=60)).isoformat()]}


def test_bulk_response_one_event_per_item_shared_batch(session, world):
    coordinator, facility = world["coordinator"], world["facility"]
    recs = [world["rec"], make_recommendation(session, coordinator, facility),
            make_recommendation(session, coordinator, facility)]
    batch = service.bulk_record_response(session, coordinator, recs, kind="accepted", text="Letter 12",
                                         received_on=TODAY)
    events = session.scalars(select(RecommendationEvent).where(RecommendationEvent.batch == batch)).all()
    assert sorted(e.recommendation_id for e in events) == sorted(r.id for r in recs)
    assert all(e.kind == "response" for e in events)
    assert all(r.response_kind == "accepted" and len(r.responses) == 1 for r in recs)


def test_bulk_response_is_all_or_nothing(session, world, make_user, make_facility):
    coordinator = world["coordinator"]
    kz_rec = make_recommendation(session, make_user("coordinator", country="KZ"), make_facility(country="KZ"))
    with pytest.raises(ServiceError, match=kz_rec.reference):
        service.bulk_record_response(session, coordinator, [world["rec"], kz_rec], kind="accepted", text="",
                                     received_on=TODAY)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(RecommendationEvent)
                          .where(RecommendationEvent.kind == "response")) == 0


def test_stale_edits_are_refused(session, world):
    rec, coordinator = world["rec"], world["coordinator"]
    opened = rec.version
    service.assess(session, coordinator, rec, assessment="in_progress", note="", expected_version=opened)
    with pytest.raises(StaleEdit):
        service.revise_deadline(session, coordinator, rec, deadline=rec.current_deadline + timedelta(days=1),
                                reason="x", expected_version=opened)
    with pytest.raises(StaleEdit):
        service.record_response(session, coordinator, rec, kind="accepted", text="", received_on=TODAY,
                                expected_version=opened)
    with pytest.raises(StaleEdit):
        service.assess(session, coordinator, rec, assessment="not_implemented", note="", expected_version=opened)


def test_escalate_raises_priority_and_update_records_old_and_new(session, world):
    rec, coordinator = world["rec"], world["coordinator"]
    service.escalate(session, coordinator, rec, flag="repeated", note="Seen again")
    assert rec.priority == "high" and rec.repeated
    service.escalate(session, coordinator, rec, flag="torture_allegation", note="Allegation at visit")
    assert rec.priority == "urgent"
    assert rec.events[-1].changes["priority"] == ["high", "urgent"]
    with pytest.raises(ServiceError, match="already"):
        service.escalate(session, coordinator, rec, flag="repeated", note="")
    data = RecommendationInput(text="Install lighting in every cell.", authority_id=rec.authority_id,
                               topic="conditions", initial_deadline=rec.initial_deadline,
                               priority_flags=list(rec.priority_flags), facility_ids=[world["facility"].id])
    service.update_recommendation(session, coordinator, rec, rec.version, data, reason="Clearer")
    event = rec.events[-1]
    assert event.kind == "edited" and event.note == "Clearer"
    assert event.changes == {"text": ["Install lighting in cells.", "Install lighting in every cell."]}
    with pytest.raises(StaleEdit):
        service.update_recommendation(session, coordinator, rec, rec.version - 1, data)


def test_comments_and_council_decisions(session, world, make_user):
    rec, coordinator = world["rec"], world["coordinator"]
    council = make_user("council", country="KG")
    service.add_comment(session, council, rec, "Please prioritise")
    service.record_council_decision(session, council, rec, "Raise with the minister", TODAY)
    with pytest.raises(ServiceError):
        service.record_council_decision(session, coordinator, rec, "x", TODAY)
    with pytest.raises(ServiceError):
        service.add_comment(session, world["monitor"], rec, "x")
    assert [e.kind for e in rec.events][-2:] == ["comment", "council_decision"]
    assert rec.events[-1].user_id == council.id


def test_documents_must_be_what_they_claim(session, world):
    rec, coordinator = world["rec"], world["coordinator"]
    with pytest.raises(ServiceError, match="not a PDF"):
        service.add_document(session, coordinator, rec, filename="letter.pdf", data=b"MZ\x90 not a pdf")
    with pytest.raises(ServiceError, match="not the image"):
        service.add_document(session, coordinator, rec, filename="photo.jpg", data=PDF)
    with pytest.raises(ServiceError, match="Only PDF"):
        service.add_document(session, coordinator, rec, filename="run.exe", data=b"MZ")
    png = io.BytesIO()
    Image.new("RGB", (8, 8)).save(png, "PNG")
    document = service.add_document(session, coordinator, rec, filename="repaired.png", data=png.getvalue())
    assert document.content_type == "image/png" and document.size == len(png.getvalue())
    with service.open_document(document) as handle:
        assert handle.read() == png.getvalue()


# -- access ------------------------------------------------------------------------------

def test_access_by_role(session, world, make_user, make_facility):
    rec, coordinator, facility = world["rec"], world["coordinator"], world["facility"]
    regions = session.scalars(select(Region).where(Region.country_code == "KG").order_by(Region.code)).all()
    other_region = next(r for r in regions if r.id != facility.region_id)
    users = {
        "admin": make_user("admin"),
        "council": make_user("council", country="KG"),
        "coordinator": coordinator,
        "coordinator_other_region": make_user("coordinator", country="KG", regions=(other_region.code,)),
        "coordinator_kz": make_user("coordinator", country="KZ"),
        "monitor_not_there": world["monitor"],
        "cso": make_user("cso", country="KG"),
    }
    visited = make_user("monitor", country="KG")
    make_visit(session, coordinator, [visited], facility)
    users["monitor_visited"] = visited
    expected = {  # read, manage, comment, decide
        "admin": (True, True, False, False),
        "council": (True, False, True, True),
        "coordinator": (True, True, True, False),
        "coordinator_other_region": (False, False, False, False),
        "coordinator_kz": (False, False, False, False),
        "monitor_not_there": (False, False, False, False),
        "monitor_visited": (True, False, False, False),
        "cso": (False, False, False, False),
    }
    for name, user in users.items():
        got = (can_read_recommendation(user, rec), can_manage_recommendation(user, rec),
               can_comment_recommendation(user, rec), can_decide_recommendation(user, rec))
        assert got == expected[name], name
        listed = session.scalar(select(Recommendation.id).where(Recommendation.id == rec.id,
                                                                recommendation_clause(user)))
        assert (listed is not None) == expected[name][0], name


def test_monitor_escalates_repeated_only(session, world):
    rec, coordinator, monitor = world["rec"], world["coordinator"], world["monitor"]
    make_visit(session, coordinator, [monitor], world["facility"])
    with pytest.raises(ServiceError):
        service.escalate(session, monitor, rec, flag="risk_to_life", note="")
    service.escalate(session, monitor, rec, flag="repeated", note="Found again")
    assert rec.priority == "high"
