"""Confidential interviews: sealed at rest, shown only to the team and
coordinators, and reprisal risks carried to the next visit."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from npmtool.crypto import Sealer, new_data_key, sealer
from npmtool.models import FollowUp, Interview
from npmtool.services import ServiceError
from npmtool.services.interviews import InterviewInput, open_interview, record_interview
from tests.visit_helpers import make_visit

NOTE = "He said the guards beat him in cell 12 on Tuesday"
NAME = "Azamat Test-Person"


@pytest.fixture
def team(session, make_user, make_facility):
    coordinator = make_user("coordinator", country="KG")
    lead = make_user("monitor", country="KG")
    facility = make_facility(country="KG")
    visit = make_visit(session, coordinator, [lead], facility)
    return {"coordinator": coordinator, "lead": lead, "visit": visit, "facility": facility}


def record(session, team, **overrides):
    data = InterviewInput(category="detained", consent=True, private_setting=True, out_of_staff_hearing=True,
                          allegations=["ill_treatment"], notes=NOTE, **overrides)
    return record_interview(session, team["lead"], team["visit"], data, sealer())


def test_notes_and_names_are_encrypted_at_rest(app, session, team):
    interview = record(session, team, consent_to_be_named=True, identity=NAME)
    dump = "\n".join(repr(row) for row in session.execute(text("SELECT * FROM interview")))
    assert NOTE not in dump and NAME not in dump and "cell 12" not in dump
    raw = session.execute(text("SELECT notes_sealed FROM interview WHERE id = :id"), {"id": interview.id}).scalar()
    assert NOTE.encode() not in bytes(raw)
    opened = open_interview(interview, sealer())
    assert (opened.notes, opened.identity) == (NOTE, NAME)
    # Without the instance key a dump is useless.
    with pytest.raises(Exception):
        Sealer([new_data_key()]).open(interview.notes_sealed)


def test_the_audit_log_names_the_code_never_the_content(session, team):
    from npmtool.models import AuditEvent

    interview = record(session, team)
    details = [e.details for e in session.scalars(select(AuditEvent).where(AuditEvent.object_type == "interview"))]
    assert details == [{"visit_id": team["visit"].id, "code": interview.code}]


def test_a_name_needs_consent(session, team):
    with pytest.raises(ServiceError) as error:
        record(session, team, identity=NAME)
    assert "agreed to be named" in str(error.value)
    assert session.scalar(select(Interview)) is None


def test_codes_are_pseudonymous_and_unique(session, team):
    first, second = record(session, team), record(session, team)
    assert first.code != second.code
    assert first.code.startswith(f"KG-V{team['visit'].id}-")


def test_retried_submission_is_not_stored_twice(session, team):
    first = record(session, team, client_uuid="7f8c7f0c-1111-4b3e-9a1d-3c2b1a000001")
    again = record(session, team, client_uuid="7f8c7f0c-1111-4b3e-9a1d-3c2b1a000001")
    assert first.id == again.id
    assert len(session.scalars(select(Interview)).all()) == 1


def test_reprisal_risk_creates_a_follow_up_for_the_next_visit(client, auth, session, team):
    interview = record(session, team, reprisal_risk=True)
    follow_up = session.scalar(select(FollowUp))
    assert (follow_up.subject_code, follow_up.facility_id, follow_up.status) == (
        interview.code, team["facility"].id, "open")
    from datetime import date, timedelta

    later = make_visit(session, team["coordinator"], [team["lead"]], team["facility"],
                       starts_on=date.today() + timedelta(days=60))
    auth.login(team["lead"])
    page = client.get(f"/visits/{later.id}/prepare").data.decode()
    assert interview.code in page and NOTE not in page
    response = client.post(f"/visits/{later.id}/follow-ups/{follow_up.id}",
                           data={"outcome": "Found and well; no sign of reprisals"})
    assert response.status_code == 303
    session.refresh(follow_up)
    assert (follow_up.status, follow_up.resolved_visit_id) == ("resolved", later.id)


def test_clearing_the_risk_removes_the_open_follow_up(session, team):
    from npmtool.services.interviews import update_interview

    interview = record(session, team, reprisal_risk=True)
    update_interview(session, team["lead"], interview, InterviewInput(category="detained", notes=NOTE), sealer(),
                     interview.version)
    assert session.scalar(select(FollowUp)) is None


def test_team_and_coordinators_read_notes(client, auth, session, team):
    interview = record(session, team)
    for user in (team["lead"], team["coordinator"]):
        auth.login(user)
        page = client.get(f"/interviews/{interview.id}").data.decode()
        assert NOTE in page
        auth.logout()


@pytest.mark.parametrize("role,country", [("admin", None), ("council", None), ("cso", None),
                                          ("monitor", "KG"), ("coordinator", "KZ")])
def test_nobody_else_reads_notes(client, auth, session, team, make_user, role, country):
    interview = record(session, team)
    auth.login(make_user(role, country=country))
    response = client.get(f"/interviews/{interview.id}")
    assert response.status_code == 403 and NOTE.encode() not in response.data
    visit_page = client.get(f"/visits/{team['visit'].id}")
    assert interview.code.encode() not in visit_page.data


def test_interview_form_keeps_input_on_error(client, auth, team):
    auth.login(team["lead"])
    response = client.post(f"/visits/{team['visit'].id}/interviews/new", data={
        "category": "detained", "identity": NAME, "notes": NOTE})
    assert response.status_code == 400
    page = response.data.decode()
    assert "agreed to be named" in page and NOTE in page


def test_interview_through_the_web(client, auth, session, team):
    auth.login(team["lead"])
    response = client.post(f"/visits/{team['visit'].id}/interviews/new", data={
        "category": "staff", "vulnerable_groups": ["women"], "consent": "y", "private_setting": "y",
        "allegations": ["threats"], "reprisal_risk": "y", "notes": NOTE})
    assert response.status_code == 302
    interview = session.scalar(select(Interview))
    assert (interview.category, interview.vulnerable_groups, interview.allegations) == ("staff", ["women"], ["threats"])
    assert open_interview(interview, sealer()).notes == NOTE


def test_rotate_key_reseals_and_drops_the_old_key(app, session, team, tmp_path, runner):
    from npmtool.instance_config import ensure_secrets
    from npmtool.models.complaints import Complaint, ComplaintAttachment
    from npmtool.services.complaints import Upload, open_attachment
    from tests.complaint_helpers import make_complaint, png_bytes

    config_file = tmp_path / "instance" / "config.py"
    ensure_secrets(config_file)
    old_key = app.config["DATA_ENCRYPTION_KEYS"][0]
    config_file.write_text(config_file.read_text().replace(
        config_file.read_text().split("DATA_ENCRYPTION_KEYS = ")[1].split("\n")[0], repr([old_key])))
    interview = record(session, team, consent_to_be_named=True, identity=NAME)
    before = bytes(interview.notes_sealed)
    # Complaints are sealed with the same keys: dropping the old key must not
    # leave a complainant's text or attachment unreadable.
    complaint, _code = make_complaint(session, team["coordinator"], identity="Complainant Name", consent_to_be_named=True,
                                      attachments=[Upload("injury.png", png_bytes())])
    result = runner.invoke(args=["rotate-key"])
    assert result.exit_code == 0, result.output
    assert "interview 1" in result.output and "complaint 1" in result.output
    new_keys = app.config["DATA_ENCRYPTION_KEYS"]
    assert old_key not in new_keys and old_key not in config_file.read_text()
    assert repr(new_keys) in config_file.read_text()
    session.expire_all()
    interview = session.get(Interview, interview.id)
    assert bytes(interview.notes_sealed) != before
    assert open_interview(interview, Sealer(new_keys)).notes == NOTE
    with pytest.raises(Exception):
        Sealer([old_key]).open(interview.notes_sealed)
    assert interview.version == 1  # re-sealing is not an edit
    complaint = session.get(Complaint, complaint.id)
    assert Sealer(new_keys).open(complaint.identity_sealed) == "Complainant Name"
    with pytest.raises(Exception):
        Sealer([old_key]).open(complaint.text_sealed)
    attachment = session.scalar(select(ComplaintAttachment))
    assert open_attachment(Sealer(new_keys), attachment)[1] == png_bytes()
