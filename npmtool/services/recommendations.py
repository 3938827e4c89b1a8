"""Recommendations, from issue until a verification resolves them.

The authority's response (track 1) and the NPM's assessment (track 2) are
kept apart (DOMAIN.md §4). Only a verification — on site at a follow-up visit
or from a document — closes a recommendation; stopping to mention it never
does. Every change appends a ``RecommendationEvent`` (who, when, what changed
old → new, why); deadlines and responses are added, never overwritten."""

from __future__ import annotations

import hashlib
import io
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Iterable

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from npmtool.models import (
    Authority,
    AuthorityResponse,
    DeadlineRevision,
    Evidence,
    Facility,
    Finding,
    LegalSource,
    Recommendation,
    RecommendationDocument,
    RecommendationEvent,
    Verification,
    Visit,
)
from npmtool.models.base import utcnow
from npmtool.models.recommendations import (
    ASSESSMENTS,
    CLOSING_VERDICTS,
    PRIORITY_FLAGS,
    RESPONSE_KINDS,
    TOPICS,
    URGENT_FLAGS,
    VERIFICATION_KINDS,
)
from npmtool.services import ServiceError, StaleEdit, actor_id, audit
from npmtool.services.recommendation_access import (
    can_comment_recommendation,
    can_decide_recommendation,
    can_manage_recommendation,
    can_read_recommendation,
    can_verify_at_visit,
)
from npmtool.services.scope import can_see_facility
from npmtool.services.evidence_store import store_for

VERDICTS = ("implemented", "partially_implemented", "not_implemented", "no_longer_applicable")
# What the assessment becomes when a closed recommendation is reopened: it
# was reopened because the change did not hold (or never happened).
REOPENED_ASSESSMENT = "not_implemented"
DOCUMENT_TYPES = {  # extension → (content type, how the bytes must begin)
    ".pdf": "application/pdf",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
}
DEFAULT_DEADLINE_DAYS = 90


@dataclass
class RecommendationInput:
    text: str
    authority_id: int
    topic: str
    initial_deadline: date
    legal_basis: list[dict] = field(default_factory=list)
    priority_flags: list[str] = field(default_factory=list)
    systemic: bool = False
    facility_ids: list[int] = field(default_factory=list)
    finding_ids: list[int] = field(default_factory=list)
    issued_on: date | None = None


# -- small helpers --------------------------------------------------------------------

def compute_priority(flags: Iterable[str]) -> str:
    """Risk to life and torture / ill-treatment allegations make it urgent;
    any other flag (e.g. repeated) makes it high."""
    flags = set(flags or ())
    if flags & set(URGENT_FLAGS):
        return "urgent"
    if flags:
        return "high"
    return "normal"


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _event(session: Session, user: Any, rec: Recommendation, kind: str, changes: dict[str, list] | None = None,
           note: str = "", batch: str | None = None) -> RecommendationEvent:
    event = RecommendationEvent(
        kind=kind, user_id=actor_id(user), note=note or "", batch=batch,
        changes={name: [_iso(old), _iso(new)] for name, (old, new) in (changes or {}).items()})
    rec.events.append(event)
    return event


def _touch(user: Any, rec: Recommendation) -> None:
    """Every change bumps the version, so a form opened before it is stale."""
    rec.updated_by_id = actor_id(user)
    rec.updated_at = utcnow()


def check_version(rec: Recommendation, expected_version: int | None) -> None:
    if expected_version is not None and int(expected_version) != rec.version:
        raise StaleEdit(_l("This recommendation was changed by someone else after you opened the page. "
                           "Your input is kept below: check the page and save again."))


def _today() -> date:
    return utcnow().date()


def _not_future(value: date | None, what: str) -> date:
    if value is None:
        raise ServiceError(_l("Give the date %(what)s.", what=what))
    if value > _today():
        raise ServiceError(_l("The date %(what)s cannot be in the future.", what=what))
    return value


def _plugins() -> Any:
    return current_app.extensions.get("npmtool") if has_app_context() else None


def _notify_status(rec: Recommendation, old: str, new: str) -> None:
    """Tell plugins the NPM's assessment changed (``old_status`` /
    ``new_status`` are assessment values; ``rec.status`` says open/closed)."""
    host = _plugins()
    if host is not None and old != new:
        host.notify("npmtool_recommendation_status_changed", recommendation=rec, old_status=old, new_status=new)


def _require(allowed: bool, message: Any) -> None:
    if not allowed:
        raise ServiceError(message)


def _require_open(rec: Recommendation) -> None:
    if rec.status == "closed":
        raise ServiceError(_l("This recommendation is closed. Reopen it first if it needs more work."))


def _clean_text(text: str | None) -> str:
    return (text or "").strip()


# -- validation of the recommendation itself ------------------------------------------

def _clean_legal_basis(session: Session, items: Iterable[dict] | None, country_code: str) -> list[dict]:
    cleaned: list[dict] = []
    seen: set[tuple[str, str]] = set()
    for item in items or []:
        code = str((item or {}).get("source") or "").strip()
        article = str((item or {}).get("article") or "").strip()
        if not code:
            continue
        source = session.scalar(select(LegalSource).where(LegalSource.code == code))
        if source is None or (source.country_code not in (None, country_code)):
            raise ServiceError(_l("The legal source %(code)s is not known for this country.", code=code))
        if (code, article) not in seen:
            seen.add((code, article))
            cleaned.append({"source": code, "article": article})
    return cleaned


def _validated(session: Session, user: Any, data: RecommendationInput
               ) -> tuple[Authority, list[Facility], list[Finding], list[dict], list[str]]:
    text = _clean_text(data.text)
    if not text:
        raise ServiceError(_l("Write the recommendation's text."))
    authority = session.get(Authority, data.authority_id) if data.authority_id else None
    if authority is None:
        raise ServiceError(_l("Choose the authority the recommendation is addressed to."))
    if user.country_code and authority.country_code != user.country_code:
        raise ServiceError(_l("That authority is not of your country."))
    if data.topic not in TOPICS:
        raise ServiceError(_l("Choose a topic."))
    unknown = set(data.priority_flags or ()) - set(PRIORITY_FLAGS)
    if unknown:
        raise ServiceError(_l("Unknown priority flag: %(flag)s.", flag=", ".join(sorted(unknown))))
    if data.initial_deadline is None:
        raise ServiceError(_l("Give a deadline."))
    issued_on = data.issued_on or _today()
    if data.initial_deadline < issued_on:
        raise ServiceError(_l("The deadline cannot be before the date the recommendation is issued."))

    facilities: list[Facility] = []
    for facility_id in dict.fromkeys(data.facility_ids or []):
        facility = session.get(Facility, facility_id)
        if facility is None or facility.country_code != authority.country_code:
            raise ServiceError(_l("A chosen facility is not of the authority's country."))
        if not can_see_facility(user, facility):
            raise ServiceError(_l("A chosen facility is outside your regions."))
        facilities.append(facility)
    if not data.systemic and not facilities:
        raise ServiceError(_l("Choose at least one facility, or mark the recommendation as systemic."))

    findings: list[Finding] = []
    for finding_id in dict.fromkeys(data.finding_ids or []):
        finding = session.get(Finding, finding_id)
        if finding is None or finding.facility.country_code != authority.country_code:
            raise ServiceError(_l("A linked finding was not found."))
        if not can_see_facility(user, finding.facility):
            raise ServiceError(_l("A linked finding is outside your regions."))
        findings.append(finding)

    flags = [f for f in PRIORITY_FLAGS if f in set(data.priority_flags or ())]
    if any(f.repeated for f in findings) and "repeated" not in flags:
        flags.append("repeated")
    legal_basis = _clean_legal_basis(session, data.legal_basis, authority.country_code)
    return authority, facilities, findings, legal_basis, flags


def next_reference(session: Session, country_code: str, year: int) -> str:
    """The next free reference of the country and year, e.g. ``KG-2026-00042``."""
    prefix = f"{country_code}-{year}-"
    last = session.scalar(select(func.max(Recommendation.reference))
                          .where(Recommendation.reference.like(prefix + "%")))
    number = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{number:05d}"


def create_recommendation(session: Session, user: Any, data: RecommendationInput, *,
                          source_visit: Visit | None = None) -> Recommendation:
    _require(can_manage_recommendation(user), _l("Only coordinators and administrators issue recommendations."))
    authority, facilities, findings, legal_basis, flags = _validated(session, user, data)
    issued_on = data.issued_on or _today()
    first = facilities[0] if facilities else None
    rec = Recommendation(
        reference=next_reference(session, authority.country_code, issued_on.year),
        country_code=authority.country_code, authority_id=authority.id,
        source_visit_id=source_visit.id if source_visit is not None else None,
        text=_clean_text(data.text), legal_basis=legal_basis, topic=data.topic,
        priority_flags=flags, priority=compute_priority(flags), systemic=bool(data.systemic),
        region_id=first.region_id if first else None,
        facility_type_id=first.facility_type_id if first else None,
        issued_on=issued_on, initial_deadline=data.initial_deadline, current_deadline=data.initial_deadline,
        assessment="not_started", status="open", repeated="repeated" in flags,
        created_by_id=actor_id(user), updated_by_id=actor_id(user),
    )
    rec.facilities = facilities
    rec.findings = findings
    session.add(rec)
    _event(session, user, rec, "created", {"priority": [None, rec.priority]})
    session.flush()
    audit.record(session, user, "recommendation.create", "recommendation", rec.id, reference=rec.reference)
    session.commit()
    return rec


def update_recommendation(session: Session, user: Any, rec: Recommendation, expected_version: int,
                          data: RecommendationInput, reason: str = "") -> Recommendation:
    """Edit the text, addressee, legal basis, topic, flags, facilities and
    findings. Deadlines change only through ``revise_deadline`` (so each one
    is kept)."""
    _require(can_manage_recommendation(user, rec), _l("You cannot edit this recommendation."))
    check_version(rec, expected_version)
    authority, facilities, findings, legal_basis, flags = _validated(
        session, user, RecommendationInput(**{**data.__dict__, "issued_on": rec.issued_on,
                                              "initial_deadline": rec.initial_deadline}))
    changes: dict[str, list] = {}

    def change(name: str, old: Any, new: Any) -> None:
        if old != new:
            changes[name] = [old, new]

    change("text", rec.text, _clean_text(data.text))
    change("authority", rec.authority.code, authority.code)
    change("topic", rec.topic, data.topic)
    change("legal_basis", rec.legal_basis, legal_basis)
    change("priority_flags", list(rec.priority_flags or []), flags)
    change("priority", rec.priority, compute_priority(flags))
    change("systemic", rec.systemic, bool(data.systemic))
    change("facilities", [f.name for f in rec.facilities], [f.name for f in facilities])
    change("findings", sorted(f.id for f in rec.findings), sorted(f.id for f in findings))
    if not changes:
        raise ServiceError(_l("Nothing was changed."))
    rec.text, rec.authority_id, rec.topic = _clean_text(data.text), authority.id, data.topic
    rec.legal_basis, rec.priority_flags, rec.priority = legal_basis, flags, compute_priority(flags)
    rec.systemic, rec.repeated = bool(data.systemic), "repeated" in flags
    rec.facilities, rec.findings = facilities, findings
    first = facilities[0] if facilities else None
    rec.region_id = first.region_id if first else None
    rec.facility_type_id = first.facility_type_id if first else None
    _touch(user, rec)
    _event(session, user, rec, "edited", changes, note=_clean_text(reason))
    session.commit()
    return rec


# -- track 1: the authority's response ------------------------------------------------

def _document_of(rec: Recommendation, document: RecommendationDocument | None) -> RecommendationDocument | None:
    # Compared by membership: a document just added in this transaction has
    # no recommendation_id until the flush.
    if document is not None and document not in rec.documents:
        raise ServiceError(_l("That document belongs to another recommendation."))
    return document


def _add_response(session: Session, user: Any, rec: Recommendation, kind: str, text: str, received_on: date,
                  document: RecommendationDocument | None, batch: str | None) -> AuthorityResponse:
    _require(can_manage_recommendation(user, rec),
             _l("You cannot record responses for %(reference)s.", reference=rec.reference))
    if kind not in RESPONSE_KINDS:
        raise ServiceError(_l("Choose what the authority answered."))
    _not_future(received_on, _l("the response was received"))
    if received_on < rec.issued_on:
        raise ServiceError(_l("The response cannot be older than the recommendation (issued %(date)s).",
                              date=rec.issued_on.isoformat()))
    response = AuthorityResponse(kind=kind, text=_clean_text(text), received_on=received_on,
                                 document=_document_of(rec, document), recorded_by_id=actor_id(user))
    rec.responses.append(response)
    changes: dict[str, list] = {}
    # The latest response by date is the one the list shows; an older letter
    # filed late is kept in the history without replacing it.
    if rec.response_on is None or received_on >= rec.response_on:
        if rec.response_kind != kind:
            changes["response_kind"] = [rec.response_kind, kind]
        if rec.response_on != received_on:
            changes["response_on"] = [rec.response_on, received_on]
        rec.response_kind, rec.response_on = kind, received_on
    _touch(user, rec)
    _event(session, user, rec, "response", changes, note=_clean_text(text), batch=batch)
    return response


def record_response(session: Session, user: Any, rec: Recommendation, *, kind: str, text: str, received_on: date,
                    document: RecommendationDocument | None = None, expected_version: int | None = None,
                    batch: str | None = None) -> AuthorityResponse:
    check_version(rec, expected_version)
    response = _add_response(session, user, rec, kind, text, received_on, document, batch)
    session.commit()
    return response


def bulk_record_response(session: Session, user: Any, recs: Iterable[Recommendation], *, kind: str, text: str,
                         received_on: date) -> str:
    """One letter answering several recommendations: one response and one
    event per item, all sharing a batch id. All or nothing."""
    recs = list(recs)
    if not recs:
        raise ServiceError(_l("Choose at least one recommendation."))
    batch = str(uuid.uuid4())
    for rec in recs:
        _add_response(session, user, rec, kind, text, received_on, None, batch)
    audit.record(session, user, "recommendation.bulk_response", "recommendation", None,
                 batch=batch, ids=[r.id for r in recs], kind=kind)
    session.commit()
    return batch


# -- deadlines ------------------------------------------------------------------------

def revise_deadline(session: Session, user: Any, rec: Recommendation, *, deadline: date, reason: str,
                    expected_version: int | None = None) -> DeadlineRevision:
    _require(can_manage_recommendation(user, rec), _l("You cannot revise this recommendation's deadline."))
    check_version(rec, expected_version)
    _require_open(rec)
    if deadline is None:
        raise ServiceError(_l("Give the new deadline."))
    reason = _clean_text(reason)
    if not reason:
        raise ServiceError(_l("Say why the deadline changes."))
    if deadline == rec.current_deadline:
        raise ServiceError(_l("That is already the deadline."))
    if deadline < rec.issued_on:
        raise ServiceError(_l("The deadline cannot be before the date the recommendation was issued."))
    revision = DeadlineRevision(previous=rec.current_deadline, deadline=deadline, reason=reason,
                                set_by_id=actor_id(user))
    rec.deadlines.append(revision)
    _event(session, user, rec, "deadline", {"deadline": [rec.current_deadline, deadline]}, note=reason)
    rec.current_deadline = deadline
    _touch(user, rec)
    session.commit()
    return revision


# -- track 2: the NPM's assessment ----------------------------------------------------

def assess(session: Session, user: Any, rec: Recommendation, *, assessment: str, note: str,
           expected_version: int | None = None) -> Recommendation:
    """Record how far the NPM sees it implemented. "Implemented" and "no
    longer applicable" close it, so only a verification may set them."""
    _require(can_manage_recommendation(user, rec), _l("You cannot assess this recommendation."))
    check_version(rec, expected_version)
    _require_open(rec)
    if assessment in CLOSING_VERDICTS:
        raise ServiceError(_l("Only a verification (a follow-up visit or a document) can find a recommendation "
                              "implemented or no longer applicable. Record a verification instead."))
    if assessment not in ASSESSMENTS:
        raise ServiceError(_l("Choose an assessment."))
    if assessment == rec.assessment:
        raise ServiceError(_l("That is already the assessment."))
    old = rec.assessment
    rec.assessment = assessment
    _touch(user, rec)
    _event(session, user, rec, "assessment", {"assessment": [old, assessment]}, note=_clean_text(note))
    session.commit()
    _notify_status(rec, old, assessment)
    return rec


def verify(session: Session, user: Any, rec: Recommendation, *, kind: str, verdict: str, verified_on: date,
           note: str = "", visit: Visit | None = None, document: RecommendationDocument | None = None,
           evidence_ids: Iterable[int] = (), expected_version: int | None = None) -> Verification:
    """Check implementation on site (``kind="visit"``) or from a document.
    The verdict becomes the assessment; a closing verdict closes it."""
    if kind not in VERIFICATION_KINDS:
        raise ServiceError(_l("Choose how it was verified."))
    if kind == "visit":
        if visit is None:
            raise ServiceError(_l("Choose the visit at which it was verified."))
        allowed = can_manage_recommendation(user, rec) or (
            can_verify_at_visit(user, visit) and can_read_recommendation(user, rec))
    else:
        if document is None:
            raise ServiceError(_l("Upload or choose the document that shows it."))
        allowed = can_manage_recommendation(user, rec)
    _require(allowed, _l("You cannot verify this recommendation."))
    check_version(rec, expected_version)
    _require_open(rec)
    if verdict not in VERDICTS:
        raise ServiceError(_l("Choose a verdict."))
    _not_future(verified_on, _l("of the verification"))
    if verified_on < rec.issued_on:
        raise ServiceError(_l("The verification cannot be older than the recommendation."))
    evidence_ids = [int(i) for i in dict.fromkeys(evidence_ids or ())]
    if visit is not None:
        if visit.country_code != rec.country_code:
            raise ServiceError(_l("That visit is of another country."))
        if not rec.systemic and visit.facility_id not in {f.id for f in rec.facilities}:
            raise ServiceError(_l("That visit was not to a facility the recommendation is addressed to."))
        if evidence_ids:
            found = set(session.scalars(select(Evidence.id).where(Evidence.id.in_(evidence_ids),
                                                                  Evidence.visit_id == visit.id)))
            if found != set(evidence_ids):
                raise ServiceError(_l("A chosen photo is not of this visit."))
    elif evidence_ids:
        raise ServiceError(_l("Photos can only be linked to a verification at a visit."))
    verification = Verification(
        kind=kind, visit=visit if kind == "visit" else None,
        document=_document_of(rec, document), verdict=verdict, note=_clean_text(note),
        evidence_ids=evidence_ids, verified_on=verified_on, recorded_by_id=actor_id(user))
    rec.verifications.append(verification)
    old_assessment, old_status = rec.assessment, rec.status
    changes: dict[str, list] = {}
    if verdict != rec.assessment:
        changes["assessment"] = [rec.assessment, verdict]
    rec.assessment = verdict
    if verdict in CLOSING_VERDICTS:
        changes["status"] = [rec.status, "closed"]
        rec.status, rec.closed_on = "closed", verified_on
        if verdict == "implemented":
            rec.implemented_on = verified_on
    _touch(user, rec)
    _event(session, user, rec, "verification", changes, note=_clean_text(note))
    session.commit()
    if old_assessment != verdict or old_status != rec.status:
        _notify_status(rec, old_assessment, verdict)
    return verification


def escalate(session: Session, user: Any, rec: Recommendation, *, flag: str, note: str,
             expected_version: int | None = None) -> Recommendation:
    """Add a priority flag (e.g. a torture allegation came to light) and
    recompute the priority."""
    # A repeated finding escalates automatically when the visit team drafts
    # findings, so anyone who may read the item may add that one flag.
    allowed = can_manage_recommendation(user, rec) or (flag == "repeated" and can_read_recommendation(user, rec))
    _require(allowed, _l("You cannot change this recommendation's priority."))
    check_version(rec, expected_version)
    if flag not in PRIORITY_FLAGS:
        raise ServiceError(_l("Choose a reason for the priority."))
    flags = list(rec.priority_flags or [])
    if flag in flags:
        raise ServiceError(_l("The recommendation already carries that flag."))
    new_flags = [f for f in PRIORITY_FLAGS if f in set(flags) | {flag}]
    changes = {"priority_flags": [flags, new_flags]}
    new_priority = compute_priority(new_flags)
    if new_priority != rec.priority:
        changes["priority"] = [rec.priority, new_priority]
    rec.priority_flags, rec.priority = new_flags, new_priority
    if flag == "repeated":
        rec.repeated = True
    _touch(user, rec)
    _event(session, user, rec, "escalated", changes, note=_clean_text(note))
    session.commit()
    return rec


def reopen(session: Session, user: Any, rec: Recommendation, *, reason: str,
           expected_version: int | None = None) -> Recommendation:
    _require(can_manage_recommendation(user, rec), _l("You cannot reopen this recommendation."))
    check_version(rec, expected_version)
    if rec.status != "closed":
        raise ServiceError(_l("This recommendation is open."))
    reason = _clean_text(reason)
    if not reason:
        raise ServiceError(_l("Say why it is reopened."))
    old = rec.assessment
    changes = {"status": ["closed", "open"], "assessment": [old, REOPENED_ASSESSMENT]}
    rec.status, rec.closed_on, rec.implemented_on, rec.assessment = "open", None, None, REOPENED_ASSESSMENT
    _touch(user, rec)
    _event(session, user, rec, "reopened", changes, note=reason)
    session.commit()
    _notify_status(rec, old, REOPENED_ASSESSMENT)
    return rec


# -- comments and council decisions ---------------------------------------------------

def add_comment(session: Session, user: Any, rec: Recommendation, text: str) -> RecommendationEvent:
    _require(can_comment_recommendation(user, rec), _l("You cannot comment on this recommendation."))
    text = _clean_text(text)
    if not text:
        raise ServiceError(_l("Write a comment."))
    # A comment changes nothing on the item, so it does not make others' forms stale.
    event = _event(session, user, rec, "comment", note=text)
    session.commit()
    return event


def record_council_decision(session: Session, user: Any, rec: Recommendation, text: str,
                            decided_on: date) -> RecommendationEvent:
    _require(can_decide_recommendation(user, rec), _l("Only council members record council decisions."))
    text = _clean_text(text)
    if not text:
        raise ServiceError(_l("Write the council's decision."))
    _not_future(decided_on, _l("of the decision"))
    event = _event(session, user, rec, "council_decision", {"decided_on": [None, decided_on]}, note=text)
    session.commit()
    return event


# -- documents ------------------------------------------------------------------------

def document_type(filename: str, data: bytes) -> str:
    """The content type of a PDF, JPEG or PNG whose bytes match its name;
    anything else is refused whole."""
    suffix = Path(filename or "").suffix.lower()
    content_type = DOCUMENT_TYPES.get(suffix)
    if content_type is None:
        raise ServiceError(_l("Only PDF documents and JPEG or PNG images can be filed."))
    if not data:
        raise ServiceError(_l("The file is empty. Nothing was saved."))
    if content_type == "application/pdf":
        if not data.startswith(b"%PDF-"):
            raise ServiceError(_l("The file is named .pdf but is not a PDF document. Nothing was saved."))
        return content_type
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
            actual = Image.MIME.get(image.format or "")
    except Exception:
        actual = None
    if actual != content_type:
        raise ServiceError(_l("The file is not the image its name says. Nothing was saved."))
    return content_type


def add_document(session: Session, user: Any, rec: Recommendation, *, filename: str, data: bytes, title: str = "",
                 config: Any | None = None, commit: bool = True) -> RecommendationDocument:
    """File a PDF or image. ``commit=False`` lets a response or verification
    save it together with itself (or not at all)."""
    _require(can_manage_recommendation(user, rec), _l("You cannot file documents for this recommendation."))
    config = config if config is not None else current_app.config
    if len(data or b"") > config["EVIDENCE_MAX_BYTES"]:
        raise ServiceError(_l("The file is too large. Nothing was saved."))
    filename = Path(filename or "").name[:200]
    content_type = document_type(filename, data)
    sha256 = hashlib.sha256(data).hexdigest()
    store_for(config).put(sha256, data)
    document = RecommendationDocument(sha256=sha256, filename=filename, content_type=content_type, size=len(data),
                                      title=_clean_text(title)[:300] or filename, uploaded_by_id=actor_id(user))
    rec.documents.append(document)
    _event(session, user, rec, "document", {"document": [None, document.title]})
    if commit:
        session.commit()
    return document


def open_document(document: RecommendationDocument, config: Any | None = None):
    return store_for(config if config is not None else current_app.config).open(document.sha256)
