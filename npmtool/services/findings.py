"""Findings of a visit: drafted from the checklist answers found wanting, or
written freely; confirmed or dismissed by the team; linked to the visit's
photos and — by code only — to its interviews.

A finding about the same checklist item (stable ``item_code``) that was also
found wanting at the facility's previous visit is marked ``repeated``, and an
open recommendation that followed the earlier finding is escalated."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session, selectinload

from npmtool.i18n import tr
from npmtool.models import Answer, ChecklistItem, Evidence, Interview, Visit
from npmtool.models.recommendations import TOPICS, Finding, finding_answer
from npmtool.services import ServiceError, StaleEdit, actor_id, audit
from npmtool.services.scope import can_see_facility
from npmtool.services.visit_access import can_read_visit
from npmtool.services import recommendations

# Findings stay editable until the visit's report is sent: reviewers may ask
# the team to reword or dismiss one.
EDITABLE_STATUSES = ("planned", "in_progress", "draft", "in_review")
WANTING = ("partly", "not_yet")
TITLE_MAX = 300

# Section title or code keyword → topic. Checked in this order against the
# section's code and its English and Russian titles, so the more specific
# words come first; anything unmatched is "other".
SECTION_TOPICS: tuple[tuple[str, str], ...] = (
    ("use of force", "use_of_force"),
    ("solitary", "discipline_isolation"),
    ("isolation", "discipline_isolation"),
    ("confinement ward", "discipline_isolation"),
    ("discipline", "discipline_isolation"),
    ("overcrowd", "overcrowding"),
    ("food", "food_water"),
    ("hygiene", "hygiene"),
    ("health", "health_care"),
    ("harm reduction", "health_care"),
    ("medical", "health_care"),
    ("material conditions", "conditions"),
    ("conditions", "conditions"),
    ("complaint", "complaints"),
    ("contact", "contact_outside"),
    ("family", "contact_outside"),
    ("register", "registers"),
    ("safeguard", "legal_safeguards"),
    ("lawfulness", "legal_safeguards"),
    ("admission", "legal_safeguards"),
    ("access", "legal_safeguards"),
    ("pregnancy", "vulnerable_groups"),
    ("children", "vulnerable_groups"),
    ("education", "activities"),
    ("recreation", "activities"),
    ("treatment", "treatment"),
    ("dignity", "treatment"),
    ("staff", "staff"),
    ("release", "activities"),
)


def topic_for_section(section: Any) -> str:
    """The recommendation topic a checklist section belongs to."""
    if section is None:
        return "other"
    titles = section.titles or {}
    haystack = " ".join([section.code or "", titles.get("en", ""), titles.get("ru", "")]).lower()
    for keyword, topic in SECTION_TOPICS:
        if keyword in haystack:
            return topic
    return "other"


# -- access -------------------------------------------------------------------


def can_read_findings(user: Any, visit: Visit) -> bool:
    """The visit's readers, and council members of its country and regions
    (who see confirmed findings only)."""
    if user.role == "council":
        return can_see_facility(user, visit.facility)
    return can_read_visit(user, visit)


def can_see_unconfirmed(user: Any) -> bool:
    """Drafts and dismissed findings are the team's working material."""
    return user.role in ("admin", "coordinator", "monitor")


def can_edit_findings(user: Any, visit: Visit) -> bool:
    """The visit's team and coordinators of its region, until the report is sent."""
    if visit.status not in EDITABLE_STATUSES:
        return False
    if user.role == "coordinator":
        return can_see_facility(user, visit.facility)
    return user.role == "monitor" and visit.member(user.id) is not None


def _check_editable(visit: Visit) -> None:
    if visit.status not in EDITABLE_STATUSES:
        raise ServiceError(_l("The findings of a visit cannot change once its report is sent."))


# -- drafting from the checklist -----------------------------------------------


def previous_visit(session: Session, visit: Visit) -> Visit | None:
    """The facility's latest visit that started before this one."""
    return session.scalars(
        select(Visit).where(Visit.facility_id == visit.facility_id, Visit.id != visit.id,
                            or_(Visit.starts_on < visit.starts_on,
                                and_(Visit.starts_on == visit.starts_on, Visit.id < visit.id)))
        .order_by(Visit.starts_on.desc(), Visit.id.desc()).limit(1)).first()


def _notes_text(answer: Answer) -> str:
    parts = []
    if answer.missing_note.strip():
        parts.append(_("What is missing: %(note)s", note=answer.missing_note.strip()))
    if answer.improve_note.strip():
        parts.append(_("How to improve: %(note)s", note=answer.improve_note.strip()))
    return "\n\n".join(parts)


def _earlier_wanting(session: Session, earlier: Visit, codes: set[str]
                     ) -> tuple[dict[str, Finding], set[str]]:
    """At the earlier visit: its findings by item code (with their
    recommendations) and the item codes rated partly / not yet — two queries."""
    if not codes:
        return {}, set()
    findings: dict[str, Finding] = {}
    for finding in session.scalars(
            select(Finding).options(selectinload(Finding.recommendations))
            .where(Finding.visit_id == earlier.id, Finding.item_code.in_(codes), Finding.status != "dismissed")
            .order_by(Finding.id)):
        findings.setdefault(finding.item_code, finding)
    rated = set(session.scalars(
        select(ChecklistItem.code).join(Answer, Answer.item_id == ChecklistItem.id)
        .where(Answer.visit_id == earlier.id, Answer.rating.in_(WANTING), ChecklistItem.code.in_(codes))))
    return findings, rated


def draft_findings_from_answers(session: Session, user: Any, visit: Visit) -> list[Finding]:
    """One draft finding per answer rated partly / not yet that has none yet
    (running it again adds only what is new). A bounded number of queries
    whatever the number of answers."""
    _check_editable(visit)
    already = exists(select(Finding.id).where(Finding.visit_id == visit.id, Finding.item_id == Answer.item_id))
    linked = exists(select(finding_answer.c.answer_id).where(finding_answer.c.answer_id == Answer.id))
    answers = session.scalars(
        select(Answer).options(selectinload(Answer.item).selectinload(ChecklistItem.section))
        .where(Answer.visit_id == visit.id, Answer.rating.in_(WANTING), ~already, ~linked)
        .order_by(Answer.item_id)).all()
    if not answers:
        return []
    item_ids = [a.item_id for a in answers]
    photos: dict[int, list[Evidence]] = {}
    for evidence in session.scalars(select(Evidence).where(Evidence.visit_id == visit.id,
                                                           Evidence.item_id.in_(item_ids)).order_by(Evidence.id)):
        photos.setdefault(evidence.item_id, []).append(evidence)
    codes = {a.item.code for a in answers}
    earlier = previous_visit(session, visit)
    earlier_findings, earlier_rated = _earlier_wanting(session, earlier, codes) if earlier else ({}, set())

    created: list[Finding] = []
    to_escalate = {}
    for answer in answers:
        item = answer.item
        previous = earlier_findings.get(item.code)
        repeated = previous is not None or item.code in earlier_rated
        finding = Finding(
            visit=visit, facility_id=visit.facility_id, source="answer", status="draft", item_id=item.id,
            item_code=item.code, title=tr(item.question)[:TITLE_MAX], text=_notes_text(answer),
            legal_basis=list(item.legal_basis or []), topic=topic_for_section(item.section), interview_codes=[],
            repeated=repeated, previous_finding_id=previous.id if previous else None,
            answers=[answer], evidence=photos.get(item.id, []),
            created_by_id=actor_id(user), updated_by_id=actor_id(user))
        session.add(finding)
        created.append(finding)
        if previous is not None:
            for rec in previous.recommendations:
                if rec.status == "open" and "repeated" not in (rec.priority_flags or []):
                    to_escalate[rec.id] = (rec, item.code)
    session.flush()
    audit.record(session, user, "findings.drafted", "visit", visit.id, finding_ids=[f.id for f in created],
                 repeated=[f.id for f in created if f.repeated])
    session.commit()

    for rec, code in to_escalate.values():
        # The team drafting the findings may escalate with the "repeated" flag
        # (recommendations.escalate allows that one flag to anyone who reads it).
        recommendations.escalate(session, user, rec, flag="repeated", note=_(
            "Found wanting again at the visit of %(date)s (checklist item %(code)s).",
            date=visit.starts_on.isoformat(), code=code))
    return created


# -- free findings, editing, status -------------------------------------------------


@dataclass
class FindingInput:
    title: str
    text: str = ""
    topic: str = "other"
    # [{"source": …, "article": …}]; None keeps what the finding has.
    legal_basis: list[dict] | None = None
    evidence_ids: list[int] = field(default_factory=list)
    # None: the person may not see interview codes, so the codes stay as they are.
    interview_codes: list[str] | None = None


def parse_legal_basis(text: str) -> list[dict]:
    """One reference a line: the source code, then the article ("INT-MANDELA Rule 24")."""
    basis = []
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        source, _sep, article = line.partition(" ")
        basis.append({"source": source, "article": article.strip()})
    return basis


def format_legal_basis(basis: list[dict] | None) -> str:
    return "\n".join(f"{b.get('source', '')} {b.get('article', '')}".strip() for b in (basis or []))


def _validated(session: Session, visit: Visit, data: FindingInput) -> tuple[list[Evidence], list[str] | None]:
    if not data.title.strip():
        raise ServiceError(_l("Give the finding a title."))
    if len(data.title.strip()) > TITLE_MAX:
        raise ServiceError(_l("The title is too long (at most %(max)s characters).", max=TITLE_MAX))
    if data.topic not in TOPICS:
        raise ServiceError(_l("Choose a topic."))
    photos: list[Evidence] = []
    if data.evidence_ids:
        photos = list(session.scalars(select(Evidence).where(Evidence.id.in_(data.evidence_ids),
                                                             Evidence.visit_id == visit.id).order_by(Evidence.id)))
        if len(photos) != len(set(data.evidence_ids)):
            raise ServiceError(_l("Only photos of this visit can be linked."))
    codes = None
    if data.interview_codes is not None:
        wanted = sorted(set(data.interview_codes))
        known = set(session.scalars(select(Interview.code).where(Interview.visit_id == visit.id,
                                                                 Interview.code.in_(wanted)))) if wanted else set()
        if known != set(wanted):
            raise ServiceError(_l("Only interviews of this visit can be linked."))
        codes = wanted
    return photos, codes


def create_finding(session: Session, user: Any, visit: Visit, data: FindingInput) -> Finding:
    """A finding written freely by the team."""
    _check_editable(visit)
    photos, codes = _validated(session, visit, data)
    finding = Finding(visit=visit, facility_id=visit.facility_id, source="free", status="draft",
                      title=data.title.strip(), text=data.text.strip(), topic=data.topic,
                      legal_basis=data.legal_basis or [], interview_codes=codes or [], repeated=False,
                      evidence=photos, created_by_id=actor_id(user), updated_by_id=actor_id(user))
    session.add(finding)
    session.flush()
    audit.record(session, user, "finding.created", "finding", finding.id, visit_id=visit.id)
    session.commit()
    return finding


def update_finding(session: Session, user: Any, finding: Finding, expected_version: int,
                   data: FindingInput) -> Finding:
    if finding.version != expected_version:
        raise StaleEdit(_l("This finding was changed by someone else after you opened the form."))
    _check_editable(finding.visit)
    photos, codes = _validated(session, finding.visit, data)
    finding.title, finding.text, finding.topic = data.title.strip(), data.text.strip(), data.topic
    if data.legal_basis is not None:
        finding.legal_basis = data.legal_basis
    finding.evidence = photos
    if codes is not None:
        finding.interview_codes = codes
    finding.updated_by_id = actor_id(user)
    audit.record(session, user, "finding.edited", "finding", finding.id)
    session.commit()
    return finding


def set_finding_status(session: Session, user: Any, finding: Finding, status: str,
                       expected_version: int | None = None) -> Finding:
    """Confirm, dismiss, or take back to draft."""
    if status not in ("draft", "confirmed", "dismissed"):
        raise ServiceError(_l("Unknown status."))
    if expected_version is not None and finding.version != expected_version:
        raise StaleEdit(_l("This finding was changed by someone else meanwhile; check it and try again."))
    _check_editable(finding.visit)
    if status == "dismissed" and finding.recommendations:
        raise ServiceError(_l("A recommendation is based on this finding: it cannot be dismissed."))
    before = finding.status
    finding.status = status
    finding.updated_by_id = actor_id(user)
    audit.record(session, user, "finding.status", "finding", finding.id, before=before, after=status)
    session.commit()
    return finding


# -- reading -----------------------------------------------------------------------


def visit_findings(session: Session, user: Any, visit: Visit) -> list[Finding]:
    """The findings of a visit the user may see: council members confirmed ones only."""
    query = (select(Finding).options(selectinload(Finding.evidence), selectinload(Finding.item),
                                     selectinload(Finding.recommendations))
             .where(Finding.visit_id == visit.id).order_by(Finding.id))
    if not can_see_unconfirmed(user):
        query = query.where(Finding.status == "confirmed")
    return list(session.scalars(query))


def interview_codes(session: Session, visit: Visit) -> list[str]:
    return list(session.scalars(select(Interview.code).where(Interview.visit_id == visit.id)
                                .order_by(Interview.code)))


def visit_photos(session: Session, visit: Visit, limit: int = 200) -> list[Evidence]:
    """The visit's photos to choose from (thumbnails), newest last."""
    return list(session.scalars(select(Evidence).where(Evidence.visit_id == visit.id)
                                .order_by(Evidence.id).limit(limit)))
