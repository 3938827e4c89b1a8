"""Confidential interviews: pseudonymous codes, sealed notes and identities,
and the reprisal follow-ups they create for the next visit."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from npmtool.crypto import Sealer
from npmtool.models import FollowUp, Interview, Visit
from npmtool.models.interviews import ALLEGATIONS, INTERVIEW_CATEGORIES, VULNERABLE_GROUPS
from npmtool.services import ServiceError, StaleEdit, actor_id, audit

MAX_NOTES = 50_000


@dataclass
class InterviewInput:
    category: str
    vulnerable_groups: list[str] = field(default_factory=list)
    consent: bool = False
    consent_to_be_named: bool = False
    identity: str = ""
    private_setting: bool = False
    out_of_staff_hearing: bool = False
    allegations: list[str] = field(default_factory=list)
    reprisal_risk: bool = False
    notes: str = ""
    client_uuid: str | None = None


def next_code(session: Session, visit: Visit) -> str:
    """A code that says nothing about the person: country, visit number, sequence."""
    count = session.scalar(select(func.count()).select_from(Interview).where(Interview.visit_id == visit.id)) or 0
    return f"{visit.country_code}-V{visit.id}-{count + 1:02d}"


def _check(data: InterviewInput) -> None:
    if data.category not in INTERVIEW_CATEGORIES:
        raise ServiceError(_l("Choose who was interviewed."))
    if set(data.vulnerable_groups) - set(VULNERABLE_GROUPS) or set(data.allegations) - set(ALLEGATIONS):
        raise ServiceError(_l("Unknown group or allegation."))
    if data.identity.strip() and not (data.consent and data.consent_to_be_named):
        raise ServiceError(_l("A name may be recorded only if the person agreed to be named. "
                              "Remove the name or record the consent."))
    if len(data.notes) > MAX_NOTES:
        raise ServiceError(_l("The notes are too long."))


def _apply(interview: Interview, data: InterviewInput, sealer: Sealer) -> None:
    interview.category = data.category
    interview.vulnerable_groups = sorted(set(data.vulnerable_groups))
    interview.consent = data.consent
    interview.consent_to_be_named = data.consent and data.consent_to_be_named
    interview.identity_sealed = sealer.seal(data.identity.strip()) if interview.consent_to_be_named else None
    interview.private_setting = data.private_setting
    interview.out_of_staff_hearing = data.out_of_staff_hearing
    interview.allegations = sorted(set(data.allegations))
    interview.reprisal_risk = data.reprisal_risk
    interview.notes_sealed = sealer.seal(data.notes.strip())


def _sync_follow_up(session: Session, user: Any, interview: Interview) -> None:
    """A reprisal risk puts the person's code on the next visit's list."""
    existing = session.scalar(select(FollowUp).where(FollowUp.interview_id == interview.id,
                                                     FollowUp.kind == "reprisal_check"))
    if interview.reprisal_risk and existing is None:
        session.add(FollowUp(facility_id=interview.visit.facility_id, source_visit_id=interview.visit_id,
                             interview_id=interview.id, kind="reprisal_check", subject_code=interview.code,
                             created_by_id=actor_id(user), updated_by_id=actor_id(user)))
    elif not interview.reprisal_risk and existing is not None and existing.status == "open":
        session.delete(existing)


def record_interview(session: Session, user: Any, visit: Visit, data: InterviewInput, sealer: Sealer) -> Interview:
    _check(data)
    if data.client_uuid:
        earlier = session.scalar(select(Interview).where(Interview.client_uuid == data.client_uuid))
        if earlier is not None:
            return earlier  # a retried submission
    interview = Interview(visit=visit, code=next_code(session, visit), client_uuid=data.client_uuid,
                          created_by_id=actor_id(user), updated_by_id=actor_id(user))
    _apply(interview, data, sealer)
    session.add(interview)
    session.flush()
    _sync_follow_up(session, user, interview)
    # The audit trail names the code, never the content.
    audit.record(session, user, "interview.recorded", "interview", interview.id, visit_id=visit.id,
                 code=interview.code)
    session.commit()
    return interview


def update_interview(session: Session, user: Any, interview: Interview, data: InterviewInput, sealer: Sealer,
                     expected_version: int) -> Interview:
    if interview.version != expected_version:
        raise StaleEdit(_l("This interview was changed by someone else after you opened it."))
    _check(data)
    _apply(interview, data, sealer)
    interview.updated_by_id = actor_id(user)
    _sync_follow_up(session, user, interview)
    audit.record(session, user, "interview.updated", "interview", interview.id, code=interview.code)
    session.commit()
    return interview


@dataclass
class OpenedInterview:
    interview: Interview
    notes: str
    identity: str


def open_interview(interview: Interview, sealer: Sealer) -> OpenedInterview:
    return OpenedInterview(interview, sealer.open(interview.notes_sealed), sealer.open(interview.identity_sealed))
