"""Complaints: filing from any channel, complaint-box openings, triage,
tracking codes, access rules and the council's counts.

Workflow: received → under_review → referred (to an authority) /
visit_planned (a special visit) → closed; a closed complaint can be
reopened. Each status has a response deadline from the country plugin's
``response_days`` (core defaults below where the plugin sets none)."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Iterable

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, false, func, or_, select, true
from sqlalchemy.orm import Session, selectinload

from npmtool.crypto import Sealer
from npmtool.models import (
    Authority,
    Complaint,
    ComplaintAttachment,
    ComplaintBoxOpening,
    ComplaintCategory,
    ComplaintChannel,
    ComplaintEvent,
    Country,
    Facility,
    Recommendation,
    Region,
    User,
    Visit,
    VisitType,
)
from npmtool.models.base import utcnow
from npmtool.models.complaints import COMPLAINT_STATUSES, FILERS
from npmtool.models.users import SCOPED_ROLES
from npmtool.services import ServiceError, StaleEdit, actor_id, audit
from npmtool.services.visits import TeamEntry, plan_visit
from npmtool.services.evidence import NotAnImage, open_checked, receive
from npmtool.services.scope import can_see_facility

MAX_TEXT = 20_000
MAX_SHORT = 500
OPEN_STATUSES = ("received", "under_review", "referred", "visit_planned")
# Days to act on a complaint in each status when the plugin sets none; an
# urgent category (torture, reprisals) must be looked at the next day.
DEFAULT_RESPONSE_DAYS = {"received": 7, "under_review": 14, "referred": 30, "visit_planned": 30}
URGENT_RECEIVED_DAYS = 1
# Visit types that mean "a visit in answer to a report", by preference.
REACTIVE_VISIT_TYPES = ("special", "reactive", "unannounced")
STAFF_ROLES = ("admin", "coordinator")

# Tracking codes: 16 characters from an alphabet without look-alikes
# (0/O, 1/I/L, U/V), about 78 bits: unguessable, still typable from paper.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTWXYZ23456789"
CODE_LENGTH = 16


# -- tracking codes -------------------------------------------------------------

def new_tracking_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i:i + 4] for i in range(0, CODE_LENGTH, 4))


def normalise_code(code: str) -> str:
    return re.sub(r"[\s\-]", "", (code or "").upper())[:64]


def tracking_hash(secret: str, code: str) -> str:
    return hmac.new(secret.encode(), normalise_code(code).encode(), hashlib.sha256).hexdigest()


def find_by_code(session: Session, secret: str, code: str) -> Complaint | None:
    """The complaint with this code, or None. A malformed code takes the same
    path as a well-formed unknown one (hash, then one query), so neither the
    answer nor its timing tells which codes could exist."""
    return session.scalar(select(Complaint).where(Complaint.tracking_hash == tracking_hash(secret, code)))


# -- deadlines --------------------------------------------------------------

def response_days(catalogue: Any, country_code: str) -> dict[str, int]:
    plugin = (catalogue.complaints.get(country_code) or {}).get("response_days") or {} if catalogue else {}
    return {**DEFAULT_RESPONSE_DAYS, **{k: int(v) for k, v in plugin.items()}}


def due_for(status: str, start: date, days: dict[str, int], urgent: bool) -> date | None:
    if status not in days:
        return None
    count = days[status]
    if status == "received" and urgent:
        count = min(count, URGENT_RECEIVED_DAYS)
    return start + timedelta(days=count)


def is_overdue(complaint: Complaint, today: date | None = None) -> bool:
    today = today or date.today()
    return complaint.status != "closed" and complaint.due_on is not None and complaint.due_on < today


# -- access -----------------------------------------------------------------

def complaint_clause(user: Any) -> ColumnElement[bool]:
    """Which complaints a user may list. Staff see their country and regions
    (complaints with no region: the whole country's staff); a CSO only what
    it filed; council and monitors no rows at all (council gets counts)."""
    if user.role == "cso":
        return Complaint.filed_by_id == user.id
    if user.role not in STAFF_ROLES:
        return false()
    clause: ColumnElement[bool] = true()
    if user.country_code:
        clause = clause & (Complaint.country_code == user.country_code)
    if user.role in SCOPED_ROLES and user.region_ids:
        clause = clause & or_(Complaint.region_id.in_(user.region_ids), Complaint.region_id.is_(None))
    return clause


def _in_scope(user: Any, complaint: Complaint) -> bool:
    if user.country_code and complaint.country_code != user.country_code:
        return False
    if user.role in SCOPED_ROLES and user.region_ids and complaint.region_id is not None \
            and complaint.region_id not in user.region_ids:
        return False
    return True


def can_manage_complaint(user: Any, complaint: Complaint | None = None) -> bool:
    if user.role not in STAFF_ROLES:
        return False
    return complaint is None or _in_scope(user, complaint)


def can_read_complaint(user: Any, complaint: Complaint) -> bool:
    if user.role == "cso":
        return complaint.filed_by_id == user.id
    return can_manage_complaint(user, complaint)


# -- filing -----------------------------------------------------------------

@dataclass
class Upload:
    filename: str
    data: bytes


@dataclass
class ComplaintInput:
    country_code: str
    category_code: str
    text: str
    channel_code: str = "web"
    facility_id: int | None = None
    region_id: int | None = None
    occurred_on: date | None = None
    received_on: date | None = None
    consent_to_be_named: bool = False
    identity: str = ""
    contact: str = ""
    filer: str = "other"
    attachments: list[Upload] = field(default_factory=list)


@dataclass
class Limits:
    max_attachments: int = 3
    attachment_bytes: int = 10 * 1024 * 1024
    max_pixels: int = 80_000_000


def check_attachment(upload: Upload, limits: Limits) -> str:
    """The media type of an acceptable attachment; refuses anything else with
    the same checks as photo evidence (images) or a PDF's own structure."""
    data = upload.data
    if len(data) > limits.attachment_bytes:
        raise ServiceError(_l("%(name)s is larger than %(limit)s MB.", name=upload.filename,
                              limit=limits.attachment_bytes // (1024 * 1024)))
    if data.startswith(b"%PDF-"):
        if b"%%EOF" not in data[-2048:]:
            raise ServiceError(_l("%(name)s is an incomplete PDF. Send it again.", name=upload.filename))
        return "application/pdf"
    try:
        with receive(None, data, limits.attachment_bytes) as received:  # bytes: no store needed
            image, facts = open_checked(received, limits.max_pixels)
            image.close()
    except NotAnImage:
        raise ServiceError(_l("%(name)s is not a JPEG or PNG image or a PDF.", name=upload.filename)) from None
    except ServiceError as exc:
        raise ServiceError(f"{upload.filename}: {exc}") from None
    return facts.media_type


def _reference(session: Session, data: ComplaintInput) -> tuple[Facility | None, int | None, ComplaintCategory,
                                                                  ComplaintChannel]:
    if session.get(Country, data.country_code) is None:
        raise ServiceError(_l("Choose a country."))
    facility = None
    region_id = data.region_id
    if data.facility_id:
        facility = session.get(Facility, data.facility_id)
        if facility is None or facility.country_code != data.country_code:
            raise ServiceError(_l("Choose a place of detention in this country, or “not sure”."))
        region_id = facility.region_id
    elif region_id:
        region = session.get(Region, region_id)
        if region is None or region.country_code != data.country_code:
            raise ServiceError(_l("Choose a region of this country."))
    category = session.scalar(select(ComplaintCategory).where(
        ComplaintCategory.country_code == data.country_code, ComplaintCategory.code == data.category_code))
    if category is None:
        raise ServiceError(_l("Choose what the complaint is about."))
    channel = session.scalar(select(ComplaintChannel).where(
        ComplaintChannel.country_code == data.country_code, ComplaintChannel.code == data.channel_code))
    if channel is None:
        raise ServiceError(_l("Choose how the complaint arrived."))
    return facility, region_id, category, channel


def _check(data: ComplaintInput, limits: Limits, today: date) -> list[str]:
    if not data.text.strip():
        raise ServiceError(_l("Describe what happened."))
    if len(data.text) > MAX_TEXT:
        raise ServiceError(_l("The description is too long (at most %(count)s characters).", count=MAX_TEXT))
    if len(data.identity) > MAX_SHORT or len(data.contact) > MAX_SHORT:
        raise ServiceError(_l("The name or the contact details are too long."))
    if data.identity.strip() and not data.consent_to_be_named:
        raise ServiceError(_l("A name may be given only if the person concerned agrees to be named. "
                              "Remove the name or tick the consent."))
    if data.occurred_on and data.occurred_on > today:
        raise ServiceError(_l("The date of what happened cannot be in the future."))
    if data.filer not in FILERS:
        raise ServiceError(_l("Choose who is filing the complaint."))
    uploads = [u for u in data.attachments if u.data]
    if len(uploads) > limits.max_attachments:
        raise ServiceError(_l("Attach at most %(count)s files.", count=limits.max_attachments))
    return [check_attachment(u, limits) for u in uploads]


def file_complaint(session: Session, user: Any, data: ComplaintInput, sealer: Sealer, *, secret: str,
                   catalogue: Any = None, limits: Limits | None = None, with_code: bool = True,
                   box_opening: ComplaintBoxOpening | None = None, plugins: Any = None,
                   today: date | None = None) -> tuple[Complaint, str | None]:
    """Record a complaint from any channel. Returns it with its tracking code
    (shown once, stored only as an HMAC), or None when ``with_code`` is False."""
    today = today or date.today()
    limits = limits or Limits()
    facility, region_id, category, channel = _reference(session, data)
    media_types = _check(data, limits, today)
    code = new_tracking_code() if with_code else None
    identity = data.identity.strip() if data.consent_to_be_named else ""
    contact = data.contact.strip()
    received_on = data.received_on or today
    if received_on > today:
        raise ServiceError(_l("The date received cannot be in the future."))
    complaint = Complaint(
        country_code=data.country_code, region_id=region_id, facility_id=facility.id if facility else None,
        channel_id=channel.id, category_id=category.id, urgent=category.urgent,
        filer="cso" if user is not None and user.role == "cso" else data.filer,
        received_on=received_on, occurred_on=data.occurred_on,
        consent_to_be_named=data.consent_to_be_named, anonymous=not (identity or contact),
        text_sealed=sealer.seal(data.text.strip()), identity_sealed=sealer.seal(identity),
        contact_sealed=sealer.seal(contact), tracking_hash=tracking_hash(secret, code) if code else None,
        filed_by_id=actor_id(user) if user is not None and user.role == "cso" else None,
        box_opening_id=box_opening.id if box_opening else None, status="received", status_changed_at=utcnow(),
        due_on=due_for("received", received_on, response_days(catalogue, data.country_code), category.urgent),
        created_by_id=actor_id(user), updated_by_id=actor_id(user))
    for upload, media_type in zip([u for u in data.attachments if u.data], media_types):
        complaint.attachments.append(ComplaintAttachment(
            filename_sealed=sealer.seal(upload.filename[:200] or "attachment"), media_type=media_type,
            size=len(upload.data), data_sealed=sealer.seal_bytes(upload.data)))
    complaint.events.append(ComplaintEvent(kind="filed", to_status="received", user_id=actor_id(user)))
    session.add(complaint)
    session.flush()
    # The audit trail names the complaint, never its content or its author.
    audit.record(session, user, "complaint.filed", "complaint", complaint.id, channel=channel.code,
                 category=category.code)
    session.commit()
    if plugins is not None:
        plugins.notify("npmtool_complaint_received", complaint=complaint)
    return complaint, code


def open_attachment(sealer: Sealer, attachment: ComplaintAttachment) -> tuple[str, bytes]:
    return sealer.open(attachment.filename_sealed), sealer.open_bytes(attachment.data_sealed)


# -- complaint-box openings ----------------------------------------------------

@dataclass
class BoxOpeningInput:
    facility_id: int
    box_label: str
    opened_on: date
    opened_by_id: int
    letters_count: int
    witnesses: str = ""
    notes: str = ""


def record_box_opening(session: Session, user: Any, data: BoxOpeningInput,
                       today: date | None = None) -> ComplaintBoxOpening:
    today = today or date.today()
    facility = session.get(Facility, data.facility_id)
    if facility is None or not can_manage_complaint(user) or not can_see_facility(user, facility):
        raise ServiceError(_l("Choose a facility in your regions."))
    if not data.box_label.strip():
        raise ServiceError(_l("Say which box was opened (e.g. its sector or number)."))
    if data.opened_on > today:
        raise ServiceError(_l("The box cannot have been opened in the future."))
    if data.letters_count < 0 or data.letters_count > 1000:
        raise ServiceError(_l("Give the number of letters found (0 to 1000)."))
    opener = session.get(User, data.opened_by_id)
    if opener is None or opener.role not in STAFF_ROLES + ("monitor",) or \
            opener.country_code not in (None, facility.country_code):
        raise ServiceError(_l("Only the NPM's own staff may open a complaint box."))
    opening = ComplaintBoxOpening(
        country_code=facility.country_code, facility_id=facility.id, box_label=data.box_label.strip()[:200],
        opened_on=data.opened_on, opened_by_id=opener.id, witnesses=data.witnesses.strip(),
        letters_count=data.letters_count, notes=data.notes.strip(),
        created_by_id=actor_id(user), updated_by_id=actor_id(user))
    session.add(opening)
    session.flush()
    audit.record(session, user, "complaint_box.opened", "complaint_box_opening", opening.id,
                 facility_id=facility.id, letters=data.letters_count)
    session.commit()
    return opening


def box_channel_code(session: Session, country_code: str) -> str | None:
    return session.scalar(select(ComplaintChannel.code).where(ComplaintChannel.country_code == country_code,
                                                              ComplaintChannel.kind == "box"))


def add_box_letter(session: Session, user: Any, opening: ComplaintBoxOpening, data: ComplaintInput,
                   sealer: Sealer, *, secret: str, catalogue: Any = None, plugins: Any = None,
                   limits: Limits | None = None) -> Complaint:
    """One letter from an opened box becomes a complaint of that facility."""
    if len(opening.complaints) >= opening.letters_count:
        raise ServiceError(_l("All %(count)s letters of this opening are recorded. Correct the number of "
                              "letters first if there were more.", count=opening.letters_count))
    channel = box_channel_code(session, opening.country_code)
    if channel is None:
        raise ServiceError(_l("This country has no complaint-box channel."))
    data.country_code, data.facility_id, data.channel_code = opening.country_code, opening.facility_id, channel
    data.received_on = opening.opened_on
    complaint, _code = file_complaint(session, user, data, sealer, secret=secret, catalogue=catalogue,
                                      limits=limits, with_code=False, box_opening=opening, plugins=plugins)
    return complaint


# -- triage -----------------------------------------------------------------

def _require(user: Any, complaint: Complaint, expected_version: int | None) -> None:
    if not can_manage_complaint(user, complaint):
        raise ServiceError(_l("You cannot manage this complaint."))
    if expected_version is not None and complaint.version != expected_version:
        raise StaleEdit(_l("This complaint was changed by someone else after you opened it."))


def _move(session: Session, user: Any, complaint: Complaint, status: str, catalogue: Any, *, kind: str = "status",
          note: str = "", public: bool = False, sealer: Sealer | None = None, today: date | None = None) -> None:
    today = today or date.today()
    before = complaint.status
    complaint.status = status
    complaint.status_changed_at = utcnow()
    complaint.due_on = due_for(status, today, response_days(catalogue, complaint.country_code), complaint.urgent)
    complaint.updated_by_id = actor_id(user)
    complaint.events.append(ComplaintEvent(kind=kind, from_status=before, to_status=status, public=public,
                                           text_sealed=sealer.seal(note.strip()) if sealer and note else None,
                                           user_id=actor_id(user)))
    audit.record(session, user, f"complaint.{kind}", "complaint", complaint.id, status=[before, status])


def start_review(session: Session, user: Any, complaint: Complaint, expected_version: int | None, *,
                 catalogue: Any = None, sealer: Sealer | None = None, note: str = "") -> Complaint:
    _require(user, complaint, expected_version)
    if complaint.status != "received":
        raise ServiceError(_l("Only a newly received complaint can be taken under review."))
    _move(session, user, complaint, "under_review", catalogue, note=note, sealer=sealer)
    session.commit()
    return complaint


def refer(session: Session, user: Any, complaint: Complaint, expected_version: int | None, *, authority_id: int,
          referred_on: date, catalogue: Any = None, sealer: Sealer | None = None, note: str = "") -> Complaint:
    _require(user, complaint, expected_version)
    if complaint.status not in ("received", "under_review", "referred"):
        raise ServiceError(_l("This complaint can no longer be referred."))
    authority = session.get(Authority, authority_id) if authority_id else None
    if authority is None or authority.country_code != complaint.country_code:
        raise ServiceError(_l("Choose an authority of this country."))
    if referred_on > date.today():
        raise ServiceError(_l("The date of referral cannot be in the future."))
    complaint.referred_authority_id, complaint.referred_on = authority.id, referred_on
    complaint.authority_answer, complaint.authority_answer_on = "", None
    _move(session, user, complaint, "referred", catalogue, kind="referred", note=note, sealer=sealer)
    session.commit()
    return complaint


def record_authority_answer(session: Session, user: Any, complaint: Complaint, expected_version: int | None, *,
                            text: str, answered_on: date) -> Complaint:
    _require(user, complaint, expected_version)
    if complaint.referred_authority_id is None:
        raise ServiceError(_l("Refer the complaint to an authority before recording its answer."))
    if not text.strip():
        raise ServiceError(_l("Write down what the authority answered."))
    if complaint.referred_on and answered_on < complaint.referred_on or answered_on > date.today():
        raise ServiceError(_l("The answer's date must lie between the referral and today."))
    complaint.authority_answer, complaint.authority_answer_on = text.strip(), answered_on
    complaint.updated_by_id = actor_id(user)
    complaint.events.append(ComplaintEvent(kind="answer", user_id=actor_id(user)))
    audit.record(session, user, "complaint.answer", "complaint", complaint.id)
    session.commit()
    return complaint


def reactive_visit_type(session: Session, country_code: str) -> str | None:
    """The country's visit type for a visit in answer to a report."""
    codes = list(session.scalars(select(VisitType.code).where(VisitType.country_code == country_code)
                                 .order_by(VisitType.position)))
    return next((c for c in REACTIVE_VISIT_TYPES if c in codes), codes[0] if codes else None)


def plan_special_visit(session: Session, user: Any, complaint: Complaint, expected_version: int | None, *,
                       starts_on: date, ends_on: date, team: list[TeamEntry], visit_type: str | None = None,
                       catalogue: Any = None, sealer: Sealer | None = None, note: str = "") -> Visit:
    _require(user, complaint, expected_version)
    if complaint.status not in ("received", "under_review", "referred"):
        raise ServiceError(_l("A visit can be planned only for an open complaint that has none yet."))
    if complaint.facility is None:
        raise ServiceError(_l("Set the facility of the complaint before planning a visit."))
    # The purpose names the complaint's number only, never what it says.
    visit = plan_visit(session, user, facility=complaint.facility,
                       visit_type=visit_type or reactive_visit_type(session, complaint.country_code) or "",
                       starts_on=starts_on, ends_on=ends_on, team=team,
                       purpose=str(_l("Special visit after complaint no. %(id)s", id=complaint.id)))
    complaint.visits.append(visit)
    _move(session, user, complaint, "visit_planned", catalogue, kind="visit", note=note, sealer=sealer)
    session.commit()
    return visit


def close(session: Session, user: Any, complaint: Complaint, expected_version: int | None, *, outcome: str,
          public_reply: str = "", sealer: Sealer | None = None, catalogue: Any = None) -> Complaint:
    _require(user, complaint, expected_version)
    if complaint.status == "closed":
        raise ServiceError(_l("This complaint is already closed."))
    if not outcome.strip():
        raise ServiceError(_l("Record the outcome before closing the complaint."))
    complaint.outcome, complaint.closed_on = outcome.strip(), date.today()
    _move(session, user, complaint, "closed", catalogue, note=public_reply, public=bool(public_reply.strip()),
          sealer=sealer)
    session.commit()
    return complaint


def reopen(session: Session, user: Any, complaint: Complaint, expected_version: int | None, *, reason: str,
           sealer: Sealer | None = None, catalogue: Any = None) -> Complaint:
    _require(user, complaint, expected_version)
    if complaint.status != "closed":
        raise ServiceError(_l("Only a closed complaint can be reopened."))
    if not reason.strip():
        raise ServiceError(_l("Say why the complaint is reopened."))
    complaint.closed_on = None
    _move(session, user, complaint, "under_review", catalogue, kind="reopened", note=reason, sealer=sealer)
    session.commit()
    return complaint


def add_reply(session: Session, user: Any, complaint: Complaint, text: str, *, public: bool,
              sealer: Sealer) -> ComplaintEvent:
    """A public reply (shown on the tracking page) or an internal note."""
    _require(user, complaint, None)
    if not text.strip():
        raise ServiceError(_l("Write the reply or note."))
    if len(text) > MAX_TEXT:
        raise ServiceError(_l("The text is too long."))
    event = ComplaintEvent(kind="reply" if public else "note", public=public, text_sealed=sealer.seal(text.strip()),
                           user_id=actor_id(user))
    complaint.events.append(event)
    audit.record(session, user, "complaint.reply" if public else "complaint.note", "complaint", complaint.id)
    session.commit()
    return event


def link_recommendation(session: Session, user: Any, complaint: Complaint, reference: str) -> Recommendation:
    _require(user, complaint, None)
    rec = session.scalar(select(Recommendation).where(Recommendation.reference == reference.strip().upper()))
    if rec is None or rec.country_code != complaint.country_code:
        raise ServiceError(_l("No recommendation of this country has the reference %(ref)s.", ref=reference))
    if rec not in complaint.recommendations:
        complaint.recommendations.append(rec)
        complaint.events.append(ComplaintEvent(kind="link", user_id=actor_id(user)))
        audit.record(session, user, "complaint.linked", "complaint", complaint.id, recommendation_id=rec.id)
        session.commit()
    return rec


def link_visit(session: Session, user: Any, complaint: Complaint, visit: Visit) -> None:
    _require(user, complaint, None)
    if visit.facility_id != complaint.facility_id:
        raise ServiceError(_l("The visit is to another facility."))
    if visit not in complaint.visits:
        complaint.visits.append(visit)
        complaint.events.append(ComplaintEvent(kind="link", user_id=actor_id(user)))
        audit.record(session, user, "complaint.linked", "complaint", complaint.id, visit_id=visit.id)
        session.commit()


# -- reading ----------------------------------------------------------------

@dataclass
class OpenedComplaint:
    complaint: Complaint
    text: str
    identity: str
    contact: str
    events: list[tuple[ComplaintEvent, str]]


def open_complaint(session: Session, user: Any, complaint: Complaint, sealer: Sealer) -> OpenedComplaint:
    """What happened, who and how to reach them. Staff opening a complaint is
    logged; a CSO sees its own text and the public replies, not the history."""
    if not can_read_complaint(user, complaint):
        raise ServiceError(_l("You cannot open this complaint."))
    text = sealer.open(complaint.text_sealed)
    if user.role == "cso":
        events = [(e, sealer.open(e.text_sealed)) for e in complaint.events if e.public]
        return OpenedComplaint(complaint, text, "", "", events)
    audit.record(session, user, "complaint.opened", "complaint", complaint.id)
    session.commit()
    events = [(e, sealer.open(e.text_sealed)) for e in complaint.events]
    return OpenedComplaint(complaint, text, sealer.open(complaint.identity_sealed),
                           sealer.open(complaint.contact_sealed), events)


@dataclass
class PublicView:
    status: str
    received_on: date
    replies: list[tuple[date, str]]


def public_view(complaint: Complaint, sealer: Sealer) -> PublicView:
    """Only the status and the public replies: nothing the complaint says."""
    replies = [(e.at.date(), sealer.open(e.text_sealed)) for e in complaint.events if e.public and e.text_sealed]
    return PublicView(complaint.status, complaint.received_on, replies)


@dataclass
class ComplaintFilters:
    status: str | None = None
    category_id: int | None = None
    channel_id: int | None = None
    facility_id: int | None = None
    overdue: bool = False
    urgent: bool = False


def complaints_query(user: Any, filters: ComplaintFilters, today: date | None = None):
    today = today or date.today()
    query = select(Complaint).where(complaint_clause(user))
    if filters.status in COMPLAINT_STATUSES:
        query = query.where(Complaint.status == filters.status)
    if filters.category_id:
        query = query.where(Complaint.category_id == filters.category_id)
    if filters.channel_id:
        query = query.where(Complaint.channel_id == filters.channel_id)
    if filters.facility_id:
        query = query.where(Complaint.facility_id == filters.facility_id)
    if filters.overdue:
        query = query.where(Complaint.status != "closed", Complaint.due_on < today)
    if filters.urgent:
        query = query.where(Complaint.urgent.is_(True))
    return query


def list_complaints(session: Session, user: Any, filters: ComplaintFilters, page: int, per_page: int
                    ) -> tuple[list[Complaint], int]:
    query = complaints_query(user, filters)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = session.scalars(query.options(selectinload(Complaint.facility), selectinload(Complaint.category),
                                         selectinload(Complaint.channel))
                           .order_by((Complaint.status == "closed"), Complaint.urgent.desc(),
                                     Complaint.due_on, Complaint.id.desc())
                           .limit(per_page).offset((page - 1) * per_page)).all()
    return list(rows), total


def export_rows(session: Session, user: Any, filters: ComplaintFilters) -> Iterable[list[Any]]:
    """Rows for a spreadsheet: what, where, when and how far, never who or
    what was said (neither the text nor any identity or contact)."""
    yield ["id", "received_on", "country", "region", "facility", "category", "channel", "urgent", "status",
           "due_on", "referred_on", "closed_on"]
    query = complaints_query(user, filters).options(
        selectinload(Complaint.facility), selectinload(Complaint.category), selectinload(Complaint.channel),
        selectinload(Complaint.region)).order_by(Complaint.id)
    for c in session.scalars(query.execution_options(yield_per=500)):
        yield [c.id, c.received_on.isoformat(), c.country_code, c.region.code if c.region else "",
               c.facility.name if c.facility else "", c.category.code, c.channel.code, int(c.urgent), c.status,
               c.due_on.isoformat() if c.due_on else "", c.referred_on.isoformat() if c.referred_on else "",
               c.closed_on.isoformat() if c.closed_on else ""]


def overview(session: Session, user: Any, since: date | None = None) -> dict[str, list[tuple[Any, int]]]:
    """Counts for the council: by category, status and channel. No row of a
    complaint leaves this function, only numbers."""
    clause = true()
    if user.country_code:
        clause = Complaint.country_code == user.country_code
    if user.role in SCOPED_ROLES and user.region_ids:
        clause = clause & or_(Complaint.region_id.in_(user.region_ids), Complaint.region_id.is_(None))
    if since:
        clause = clause & (Complaint.received_on >= since)

    def grouped(column, model=None):
        query = select(column, func.count()).select_from(Complaint).where(clause).group_by(column)
        return [(key, count) for key, count in session.execute(query)]

    categories = {c.id: c for c in session.scalars(select(ComplaintCategory))}
    channels = {c.id: c for c in session.scalars(select(ComplaintChannel))}
    by_category = sorted(((categories[k], n) for k, n in grouped(Complaint.category_id)), key=lambda p: -p[1])
    by_channel = sorted(((channels[k], n) for k, n in grouped(Complaint.channel_id)), key=lambda p: -p[1])
    by_status = sorted(grouped(Complaint.status), key=lambda p: COMPLAINT_STATUSES.index(p[0]))
    overdue = session.scalar(select(func.count()).select_from(Complaint).where(
        clause, Complaint.status != "closed", Complaint.due_on < date.today())) or 0
    return {"by_category": by_category, "by_channel": by_channel, "by_status": by_status,
            "total": sum(n for _k, n in by_status), "overdue": overdue}
