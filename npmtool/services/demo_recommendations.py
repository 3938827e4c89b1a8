"""Demo findings and recommendations with plausible histories: responses,
revised deadlines, follow-up visits that verified (and sometimes closed)
them, overdue and urgent items, repeated findings, council comments.

Built straight with the models in the caller's transaction (the services
commit after every change, which would make `make run` slow), following the
same rules as services.recommendations: every change has its event, only a
verification closes. Deterministic for a given seed and date."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from npmtool.i18n import tr
from npmtool.models import (
    Answer,
    Authority,
    AuthorityResponse,
    ChecklistItem,
    DeadlineRevision,
    Finding,
    Interview,
    Recommendation,
    RecommendationDocument,
    RecommendationEvent,
    User,
    Verification,
    Visit,
    VisitMember,
)
from npmtool.services.recommendations import compute_priority
from npmtool.services.visits import attach_checklists

try:  # the findings helper's topic rules, when that module is installed
    from npmtool.services.findings import topic_for_section
except ImportError:  # pragma: no cover
    def topic_for_section(section: Any) -> str:
        return "other"

RESPONSE_TEXTS = {
    "accepted": "The administration has included the works in this year's plan and budget.",
    "partially_accepted": "Works will be done in part; the rest depends on next year's budget.",
    "rejected": "The ministry considers the current arrangements to meet the norms.",
}
DEADLINE_REASONS = ["The authority asked for time to hold a tender.",
                    "Budget allocated only for the next financial year.",
                    "Works delayed by the winter; agreed at the meeting with the administration."]
FINDINGS_PER_VISIT = 3


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour, 0))


def _event(rec: Recommendation, kind: str, user: User | None, day: date, changes: dict | None = None,
           note: str = "") -> None:
    rec.events.append(RecommendationEvent(
        kind=kind, user_id=user.id if user else None, at=_at(day, 10 + len(rec.events) % 7), note=note,
        changes={k: [v.isoformat() if isinstance(v, date) else v for v in pair] for k, pair in (changes or {}).items()}))


def _pdf(text: str) -> bytes:
    """A tiny one-page PDF standing in for an authority's letter."""
    stream = f"BT /F1 14 Tf 72 720 Td ({text}) Tj ET".encode("latin-1", "replace")
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


class _Builder:
    def __init__(self, session: Session, today: date, rng: random.Random) -> None:
        self.session, self.today, self.rng = session, today, rng
        self.numbers: dict[tuple[str, int], int] = {}
        self.store = None
        if has_app_context() and current_app.config.get("EVIDENCE_DIR"):
            from npmtool.services.evidence_store import store_for
            self.store = store_for(current_app.config)
        self.count = 0

    def reference(self, country: str, year: int) -> str:
        key = (country, year)
        self.numbers[key] = self.numbers.get(key, 0) + 1
        return f"{country}-{year}-{self.numbers[key]:05d}"

    def document(self, rec: Recommendation, user: User, day: date, title: str) -> RecommendationDocument | None:
        if self.store is None:
            return None
        import hashlib

        data = _pdf(f"{rec.reference}: {title}")
        sha256 = hashlib.sha256(data).hexdigest()
        self.store.put(sha256, data)
        document = RecommendationDocument(sha256=sha256, filename=f"{rec.reference}-{day.isoformat()}.pdf",
                                          content_type="application/pdf", size=len(data), title=title,
                                          uploaded_at=_at(day, 9), uploaded_by_id=user.id)
        rec.documents.append(document)
        _event(rec, "document", user, day, {"document": [None, title]})
        return document

    def recommendation(self, *, coordinator: User, authority_id: int, text: str, topic: str, legal_basis: list,
                       flags: list[str], issued_on: date, deadline_days: int, visit: Visit | None,
                       findings: list[Finding], systemic: bool = False) -> Recommendation:
        flags = list(dict.fromkeys(flags + (["repeated"] if any(f.repeated for f in findings) else [])))
        facility = visit.facility if (visit is not None and not systemic) else None
        deadline = issued_on + timedelta(days=deadline_days)
        rec = Recommendation(
            reference=self.reference(coordinator.country_code, issued_on.year), country_code=coordinator.country_code,
            authority_id=authority_id, source_visit_id=visit.id if visit else None, text=text,
            legal_basis=legal_basis, topic=topic, priority_flags=flags, priority=compute_priority(flags),
            systemic=systemic, region_id=facility.region_id if facility else None,
            facility_type_id=facility.facility_type_id if facility else None, issued_on=issued_on,
            initial_deadline=deadline, current_deadline=deadline, assessment="not_started", status="open",
            repeated="repeated" in flags, created_at=_at(issued_on), updated_at=_at(issued_on),
            created_by_id=coordinator.id, updated_by_id=coordinator.id)
        rec.facilities = [facility] if facility else []
        rec.findings = findings
        self.session.add(rec)
        _event(rec, "created", coordinator, issued_on, {"priority": [None, rec.priority]})
        self.count += 1
        return rec

    def respond(self, rec: Recommendation, user: User, kind: str, day: date, letter: bool) -> None:
        document = self.document(rec, user, day, f"Letter of {day.isoformat()}") if letter else None
        rec.responses.append(AuthorityResponse(kind=kind, text=RESPONSE_TEXTS[kind], received_on=day,
                                               document=document, recorded_at=_at(day, 15),
                                               recorded_by_id=user.id))
        _event(rec, "response", user, day, {"response_kind": [rec.response_kind, kind],
                                            "response_on": [rec.response_on, day]}, RESPONSE_TEXTS[kind])
        rec.response_kind, rec.response_on = kind, day

    def revise(self, rec: Recommendation, user: User, day: date, days: int) -> None:
        new = rec.current_deadline + timedelta(days=days)
        reason = self.rng.choice(DEADLINE_REASONS)
        rec.deadlines.append(DeadlineRevision(previous=rec.current_deadline, deadline=new, reason=reason,
                                              set_at=_at(day, 11), set_by_id=user.id))
        _event(rec, "deadline", user, day, {"deadline": [rec.current_deadline, new]}, reason)
        rec.current_deadline = new

    def assess(self, rec: Recommendation, user: User, day: date, assessment: str, note: str) -> None:
        _event(rec, "assessment", user, day, {"assessment": [rec.assessment, assessment]}, note)
        rec.assessment = assessment

    def verify(self, rec: Recommendation, user: User, day: date, verdict: str, note: str,
               visit: Visit | None = None, document: RecommendationDocument | None = None) -> None:
        rec.verifications.append(Verification(
            kind="visit" if visit is not None else "document", visit_id=visit.id if visit else None,
            document=document, verdict=verdict, note=note, evidence_ids=[], verified_on=day,
            recorded_at=_at(day, 17), recorded_by_id=user.id))
        changes = {"assessment": [rec.assessment, verdict]}
        rec.assessment = verdict
        if verdict in ("implemented", "no_longer_applicable"):
            changes["status"] = ["open", "closed"]
            rec.status, rec.closed_on = "closed", day
            rec.implemented_on = day if verdict == "implemented" else None
        _event(rec, "verification", user, day, changes, note)

    def escalate(self, rec: Recommendation, user: User, day: date, flag: str, note: str) -> None:
        flags = list(dict.fromkeys(list(rec.priority_flags) + [flag]))
        changes = {"priority_flags": [list(rec.priority_flags), flags]}
        if compute_priority(flags) != rec.priority:
            changes["priority"] = [rec.priority, compute_priority(flags)]
        rec.priority_flags, rec.priority = flags, compute_priority(flags)
        rec.repeated = rec.repeated or flag == "repeated"
        _event(rec, "escalated", user, day, changes, note)


def _finding_from(answer: Answer, visit: Visit, user: User, interview_codes: list[str]) -> Finding:
    item = answer.item
    parts = [p for p in (answer.missing_note.strip(), answer.improve_note.strip()) if p]
    return Finding(
        visit=visit, facility_id=visit.facility_id, source="answer", status="confirmed", item_id=item.id,
        item_code=item.code, title=tr(item.question, "en")[:300], text="\n\n".join(parts),
        legal_basis=list(item.legal_basis or []), topic=topic_for_section(item.section),
        interview_codes=interview_codes, repeated=False, answers=[answer],
        created_by_id=user.id, updated_by_id=user.id)


def _follow_up_visit(session: Session, first: Visit, day: date) -> Visit:
    visit = Visit(facility_id=first.facility_id, country_code=first.country_code, visit_type=first.visit_type,
                  purpose="Follow-up of the recommendations of the previous visit", starts_on=day, ends_on=day,
                  status="closed", created_by_id=first.created_by_id, updated_by_id=first.created_by_id)
    for member in first.team_members:
        visit.team_members.append(VisitMember(user_id=member.user_id, role=member.role, expertise=member.expertise))
    visit.facility = first.facility
    session.add(visit)
    attach_checklists(session, visit)
    return visit


def load_demo_recommendations(session: Session, today: date, seed: int = 4) -> int:
    """Findings and recommendations for the demo visits; returns how many
    recommendations were made."""
    rng = random.Random(seed)
    build = _Builder(session, today, rng)
    session.flush()
    users = {u.username: u for u in session.scalars(select(User))}
    council = users.get("council")
    visits = session.scalars(
        select(Visit).options(selectinload(Visit.team_members).selectinload(VisitMember.user),
                              selectinload(Visit.facility))
        .where(Visit.status == "closed").order_by(Visit.country_code, Visit.starts_on, Visit.id)).all()
    by_country: dict[str, list[Visit]] = {}
    for visit in visits:
        by_country.setdefault(visit.country_code, []).append(visit)

    for country, country_visits in sorted(by_country.items()):
        coordinator = users.get(f"coord.{country.lower()}")
        if coordinator is None:
            continue
        for index, visit in enumerate(country_visits):
            _visit_recommendations(session, build, rng, visit, index, coordinator, council)
        _systemic(build, country_visits, coordinator, council, today)
    session.flush()
    return build.count


def _visit_recommendations(session: Session, build: _Builder, rng: random.Random, visit: Visit, index: int,
                           coordinator: User, council: User | None) -> None:
    today = build.today
    lead = next((m.user for m in visit.team_members if m.role == "lead"), coordinator)
    answers = session.scalars(
        select(Answer).options(selectinload(Answer.item).selectinload(ChecklistItem.section))
        .where(Answer.visit_id == visit.id, Answer.rating.in_(("partly", "not_yet")))
        .order_by(Answer.item_id)).all()
    if not answers:
        return
    interview = session.scalars(select(Interview).where(Interview.visit_id == visit.id)).first()
    codes = [interview.code] if interview is not None else []
    chosen = answers[:FINDINGS_PER_VISIT]
    issued_on = visit.ends_on + timedelta(days=21)
    # A follow-up visit to every other facility, between issue and today.
    follow_up = None
    if index % 2 == 0 and (today - issued_on).days > 60:
        follow_up = _follow_up_visit(session, visit, today - timedelta(days=rng.randint(20, 45)))

    for n, answer in enumerate(chosen):
        finding = _finding_from(answer, visit, lead, codes if n == 0 else [])
        session.add(finding)
        flags: list[str] = []
        if n == 0 and interview is not None:
            # The interview behind this finding alleged ill-treatment: urgent.
            flags = ["ill_treatment_allegation"] if index % 3 else ["torture_allegation"]
        elif (index + n) % 7 == 3:
            flags = ["risk_to_life"]
        text = answer.improve_note.strip() or f"Remedy: {finding.title}"
        rec = build.recommendation(
            coordinator=coordinator, authority_id=visit.facility.authority_id, text=text, topic=finding.topic,
            legal_basis=finding.legal_basis, flags=flags, issued_on=issued_on,
            deadline_days=30 if flags else (90 if n % 2 == 0 else 180), visit=visit, findings=[finding])
        _history(build, rng, rec, coordinator, lead, council, follow_up, n, index)
        if follow_up is not None and rec.verifications and rec.verifications[-1].verdict == "not_implemented":
            # Found wanting again at the follow-up: a repeated finding and an escalation.
            session.flush()
            again = _finding_from(answer, follow_up, lead, [])
            again.repeated, again.previous_finding_id, again.answers = True, finding.id, []
            session.add(again)
            build.escalate(rec, coordinator, follow_up.ends_on, "repeated",
                           f"Found wanting again at the visit of {follow_up.starts_on.isoformat()}.")


def _history(build: _Builder, rng: random.Random, rec: Recommendation, coordinator: User, lead: User,
             council: User | None, follow_up: Visit | None, n: int, index: int) -> None:
    today = build.today
    day = rec.issued_on + timedelta(days=rng.randint(25, 50))
    pattern = (index * 3 + n) % 6
    if pattern != 5 and day < today:  # one in six never answered
        kind = ("accepted", "accepted", "partially_accepted", "rejected", "accepted")[pattern]
        build.respond(rec, coordinator, kind, day, letter=pattern in (0, 2))
        if kind == "rejected" and day + timedelta(days=60) < today:
            build.respond(rec, coordinator, "partially_accepted", day + timedelta(days=60), letter=True)
    if pattern in (1, 2) and day + timedelta(days=10) < today:
        build.revise(rec, coordinator, day + timedelta(days=10), days=rng.choice((90, 120, 180)))
    if pattern in (0, 1, 2) and day + timedelta(days=20) < today:
        build.assess(rec, coordinator, day + timedelta(days=20), "in_progress", "The administration reports works under way.")
    if rec.priority == "urgent" and council is not None and rec.issued_on + timedelta(days=5) < today:
        _event(rec, "comment", council, rec.issued_on + timedelta(days=5),
               note="The council asks to be told as soon as the authority answers.")
        if index == 0:
            _event(rec, "council_decision", council, rec.issued_on + timedelta(days=12),
                   {"decided_on": [None, rec.issued_on + timedelta(days=12)]},
                   note="Raise with the prosecutor's office and the ministry at the quarterly meeting.")
    if follow_up is not None:
        verdict = ("implemented", "partially_implemented", "not_implemented")[n % 3]
        note = {"implemented": "Checked on site: done.",
                "partially_implemented": "Checked on site: done in some blocks only.",
                "not_implemented": "Checked on site: nothing has changed."}[verdict]
        build.verify(rec, lead, follow_up.ends_on, verdict, note, visit=follow_up)
        if verdict == "implemented" and index == 0 and rec.country_code == "KG":
            reopen_day = min(follow_up.ends_on + timedelta(days=10), today)
            _event(rec, "reopened", coordinator, reopen_day,
                   {"status": ["closed", "open"], "assessment": ["implemented", "not_implemented"]},
                   "A complaint received says the repairs were undone.")
            rec.status, rec.closed_on, rec.implemented_on, rec.assessment = "open", None, None, "not_implemented"
    elif pattern == 4 and day + timedelta(days=30) < today:
        document = build.document(rec, coordinator, day + timedelta(days=30), "Order and photographs of the works")
        if document is not None:
            build.verify(rec, coordinator, day + timedelta(days=30), "implemented",
                         "The order and photographs show the works done.", document=document)


def _systemic(build: _Builder, visits: list[Visit], coordinator: User, council: User | None, today: date) -> None:
    """One recommendation to the whole authority, drawn from several visits."""
    if not visits:
        return
    authority = build.session.get(Authority, visits[0].facility.authority_id)
    if authority.parent_id:
        authority = build.session.get(Authority, authority.parent_id)
    issued_on = max(v.ends_on for v in visits) + timedelta(days=30)
    if issued_on > today:
        issued_on = today - timedelta(days=1)
    rec = build.recommendation(
        coordinator=coordinator, authority_id=authority.id, topic="complaints", legal_basis=[], flags=[],
        text="Give every person in detention a confidential way to send complaints to the NPM and the "
             "prosecutor, and record every complaint in a register.",
        issued_on=issued_on, deadline_days=120, visit=None, findings=[], systemic=True)
    if issued_on + timedelta(days=40) < today:
        build.respond(rec, coordinator, "partially_accepted", issued_on + timedelta(days=40), letter=True)
    if council is not None and issued_on + timedelta(days=45) < today:
        _event(rec, "comment", council, issued_on + timedelta(days=45),
               note="Worth raising in the annual report.")
