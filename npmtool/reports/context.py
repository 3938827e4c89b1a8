"""The facts a report is built from, read from the database into plain data.

Redaction happens here, by what is *not* read: no interview identity, code or
notes (only counts of interviews, allegations and reprisal risks), nothing
about complainants (only counts by category and channel), no EXIF of photos
(only the publication copy's hash and the caption), and no visit purpose
(it may name the person a special visit was about). Renderers and section
builders only ever see what this module returns.

Queries read columns, not ORM objects, and their number does not grow with
the number of visits: an annual report of 1,500 visits issues the same
dozen queries as a report of one."""

from __future__ import annotations

import importlib.util
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from npmtool.models import (
    Answer, Authority, ChecklistItem, Country, Evidence, Facility, FacilityFigure, FacilityType, FollowUp, Interview,
    LegalSource, Region, User, Visit, VisitMember, VisitType,
)
from npmtool.models.recommendations import Finding, Recommendation, finding_evidence, recommendation_facility

# Visits that took place: a planned visit has not happened yet.
DONE_STATUSES = ("in_progress", "draft", "in_review", "sent", "closed")


@dataclass
class Facts:
    """Everything a report may show, already redacted."""

    country: dict[str, Any]
    scope: str
    period: tuple[date, date] | None
    visit: dict[str, Any] | None
    visits: list[dict[str, Any]]
    facilities: dict[int, dict[str, Any]]
    authorities: list[dict[str, Any]]           # this country's, in report order
    findings: list[dict[str, Any]]
    recommendations: list[dict[str, Any]]       # issued at the visit / in the period
    earlier: list[dict[str, Any]]               # issued before, still followed up
    photos: list[dict[str, Any]]                # publication copies: evidence_id, sha256, caption, visit_id
    photos_total: int
    legal_sources: dict[str, dict[str, Any]]
    interviews: dict[str, int] = field(default_factory=dict)     # by category
    allegations: dict[str, int] = field(default_factory=dict)    # by kind
    reprisal_risk: int = 0
    follow_ups: dict[str, int] = field(default_factory=dict)     # open / done
    ratings: dict[str, int] = field(default_factory=dict)
    good_practice: list[dict[str, Any]] = field(default_factory=list)
    measurements: list[dict[str, Any]] = field(default_factory=list)
    complaints: dict[str, Any] | None = None
    boxes: list[dict[str, Any]] | None = None


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


# -- reference data -----------------------------------------------------------------

def _country(session: Session, code: str) -> dict[str, Any]:
    row = session.get(Country, code)
    if row is None:
        raise LookupError(code)
    return {"code": row.code, "names": row.names, "npm_body": row.npm_body.get("names", {}),
            "languages": list(row.languages)}


def _authorities(session: Session, country: str) -> list[dict[str, Any]]:
    rows = session.execute(select(Authority.id, Authority.code, Authority.names, Authority.short)
                           .where(Authority.country_code == country).order_by(Authority.position, Authority.code))
    return [{"id": r.id, "code": r.code, "names": r.names, "short": r.short or r.names} for r in rows]


def _visit_type_names(session: Session, country: str) -> dict[str, dict]:
    rows = session.execute(select(VisitType.code, VisitType.names).where(VisitType.country_code == country))
    return {r.code: r.names for r in rows}


def _legal_sources(session: Session, codes: set[str]) -> dict[str, dict[str, Any]]:
    if not codes:
        return {}
    rows = session.execute(select(LegalSource.code, LegalSource.titles, LegalSource.number)
                           .where(LegalSource.code.in_(sorted(codes))))
    return {r.code: {"titles": r.titles, "number": r.number} for r in rows}


# -- visits and facilities ---------------------------------------------------------------

def _visit_rows(session: Session, clause: Any, country: str) -> list[dict[str, Any]]:
    type_names = _visit_type_names(session, country)
    query = (select(Visit.id, Visit.facility_id, Visit.visit_type, Visit.starts_on, Visit.ends_on, Visit.announced,
                    Visit.status)
             .where(clause).order_by(Visit.starts_on, Visit.id))
    visits = [{"id": r.id, "facility_id": r.facility_id, "visit_type": r.visit_type,
               "visit_type_names": type_names.get(r.visit_type, {"ru": r.visit_type, "en": r.visit_type}),
               "starts_on": _iso(r.starts_on), "ends_on": _iso(r.ends_on), "announced": r.announced,
               "status": r.status, "team": []} for r in session.execute(query)]
    by_id = {v["id"]: v for v in visits}
    if by_id:
        # NPM members are named in reports; people in detention never are.
        team = session.execute(select(VisitMember.visit_id, VisitMember.role, VisitMember.expertise, User.full_name)
                               .join(User, User.id == VisitMember.user_id)
                               .where(VisitMember.visit_id.in_(select(Visit.id).where(clause)))
                               .order_by(VisitMember.visit_id, VisitMember.id))
        for r in team:
            by_id[r.visit_id]["team"].append({"name": r.full_name, "role": r.role, "expertise": r.expertise})
    return visits


def _facilities(session: Session, facility_ids: set[int], as_of: date) -> dict[int, dict[str, Any]]:
    if not facility_ids:
        return {}
    ids = sorted(facility_ids)
    rows = session.execute(
        select(Facility.id, Facility.name, Facility.names, Facility.capacity, Region.names.label("region"),
               Authority.code.label("authority"), FacilityType.code.label("type_code"),
               FacilityType.names.label("type_names"))
        .join(Region, Region.id == Facility.region_id).join(Authority, Authority.id == Facility.authority_id)
        .join(FacilityType, FacilityType.id == Facility.facility_type_id)
        .where(Facility.id.in_(ids)))
    facilities = {r.id: {"id": r.id, "names": {**({"ru": r.name, "en": r.name}), **(r.names or {})},
                         "region": r.region, "authority": r.authority, "type_code": r.type_code,
                         "type_names": r.type_names, "capacity": r.capacity, "population": None,
                         "population_as_of": None} for r in rows}
    # The latest figures known on the report's date: occupancy is computed, never typed.
    figures = session.execute(
        select(FacilityFigure.facility_id, FacilityFigure.kind, FacilityFigure.value, FacilityFigure.as_of)
        .where(FacilityFigure.facility_id.in_(ids), FacilityFigure.as_of <= as_of,
               FacilityFigure.kind.in_(("population", "capacity")))
        .order_by(FacilityFigure.facility_id, FacilityFigure.as_of, FacilityFigure.id))
    for r in figures:
        facility = facilities[r.facility_id]
        if r.kind == "population":
            facility["population"], facility["population_as_of"] = r.value, _iso(r.as_of)
        else:
            facility["capacity"] = r.value
    return facilities


# -- findings, photos, recommendations ----------------------------------------------------

def _findings(session: Session, clause: Any) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Finding.id, Finding.visit_id, Finding.facility_id, Finding.title, Finding.text, Finding.topic,
               Finding.legal_basis, Finding.repeated, Finding.item_code)
        .join(Visit, Visit.id == Finding.visit_id)
        .where(clause, Finding.status != "dismissed").order_by(Visit.starts_on, Finding.visit_id, Finding.id))
    # Deliberately not read: Finding.interview_codes.
    return [{"id": r.id, "visit_id": r.visit_id, "facility_id": r.facility_id, "title": r.title,
             "text": r.text or "", "topic": r.topic, "legal_basis": list(r.legal_basis or []),
             "repeated": bool(r.repeated), "item_code": r.item_code, "photo_ids": []} for r in rows]


def _photos(session: Session, clause: Any, findings: list[dict], only_linked: bool, limit: int) -> tuple[list, int]:
    """Publication copies only (upright, redacted, without metadata)."""
    base = (select(Evidence.id, Evidence.visit_id, Evidence.caption, Evidence.publication_sha256)
            .join(Visit, Visit.id == Evidence.visit_id)
            .where(clause, Evidence.publication_sha256.is_not(None)))
    links = session.execute(select(finding_evidence.c.finding_id, finding_evidence.c.evidence_id)
                            .join(Finding, Finding.id == finding_evidence.c.finding_id)
                            .join(Visit, Visit.id == Finding.visit_id).where(clause))
    by_finding = defaultdict(list)
    for r in links:
        by_finding[r.finding_id].append(r.evidence_id)
    if only_linked:
        base = base.where(Evidence.id.in_(select(finding_evidence.c.evidence_id)
                                          .join(Finding, Finding.id == finding_evidence.c.finding_id)
                                          .join(Visit, Visit.id == Finding.visit_id).where(clause)))
    total = session.scalar(select(func.count()).select_from(base.subquery()))
    rows = session.execute(base.order_by(Evidence.visit_id, Evidence.id).limit(limit))
    photos = [{"evidence_id": r.id, "visit_id": r.visit_id, "caption": r.caption or "",
               "sha256": r.publication_sha256} for r in rows]
    shown = {p["evidence_id"] for p in photos}
    for finding in findings:
        finding["photo_ids"] = [i for i in sorted(by_finding.get(finding["id"], [])) if i in shown]
    return photos, total


def _recommendation_rows(session: Session, clause: Any, authorities: dict[int, str]) -> list[dict[str, Any]]:
    ft = {r.id: r.code for r in session.execute(select(FacilityType.id, FacilityType.code))}
    rows = session.execute(
        select(Recommendation.id, Recommendation.reference, Recommendation.authority_id, Recommendation.text,
               Recommendation.topic, Recommendation.priority, Recommendation.systemic, Recommendation.issued_on,
               Recommendation.initial_deadline, Recommendation.current_deadline, Recommendation.response_kind,
               Recommendation.response_on, Recommendation.assessment, Recommendation.status,
               Recommendation.closed_on, Recommendation.source_visit_id, Recommendation.facility_type_id,
               Recommendation.repeated)
        .where(clause).order_by(Recommendation.issued_on, Recommendation.id))
    recs = []
    for r in rows:
        recs.append({"id": r.id, "reference": r.reference, "authority": authorities.get(r.authority_id),
                     "text": r.text, "topic": r.topic, "priority": r.priority, "systemic": bool(r.systemic),
                     "issued_on": _iso(r.issued_on), "initial_deadline": _iso(r.initial_deadline),
                     "current_deadline": _iso(r.current_deadline), "response_kind": r.response_kind,
                     "response_on": _iso(r.response_on), "assessment": r.assessment, "status": r.status,
                     "closed_on": _iso(r.closed_on), "source_visit_id": r.source_visit_id,
                     "facility_type": ft.get(r.facility_type_id), "repeated": bool(r.repeated)})
    return recs


def _earlier_counts(session: Session, country: str, period: tuple[date, date],
                    authorities: dict[int, str]) -> list[dict[str, Any]]:
    """Earlier recommendations still followed up in the period (open at its
    start or closed during it), counted in SQL: a national year has tens of
    thousands of them and the report shows only their status."""
    start, end = period
    overdue = and_(Recommendation.status == "open", Recommendation.current_deadline < end)
    rows = session.execute(
        select(Recommendation.authority_id, Recommendation.assessment, Recommendation.response_kind,
               Recommendation.status, overdue.label("overdue"), func.count())
        .where(Recommendation.country_code == country, Recommendation.issued_on < start,
               or_(Recommendation.status == "open", Recommendation.closed_on >= start))
        .group_by(Recommendation.authority_id, Recommendation.assessment, Recommendation.response_kind,
                  Recommendation.status, overdue))
    counts = [{"authority": authorities.get(r[0]), "assessment": r[1], "response_kind": r[2], "status": r[3],
               "overdue": bool(r[4]), "count": r[5]} for r in rows]
    return sorted(counts, key=lambda c: (str(c["authority"]), c["assessment"], str(c["response_kind"]),
                                         c["status"], c["overdue"]))


# -- interviews (counts only), answers -------------------------------------------------------

def _interview_counts(session: Session, clause: Any) -> tuple[dict, dict, int]:
    # Only these columns: never identity_sealed, notes_sealed or code.
    rows = session.execute(select(Interview.category, Interview.allegations, Interview.reprisal_risk)
                           .join(Visit, Visit.id == Interview.visit_id).where(clause))
    categories, allegations, risk = Counter(), Counter(), 0
    for r in rows:
        categories[r.category] += 1
        for kind in r.allegations or []:
            allegations[kind] += 1
        risk += 1 if r.reprisal_risk else 0
    return dict(sorted(categories.items())), dict(sorted(allegations.items())), risk


def _follow_up_counts(session: Session, clause: Any) -> dict[str, int]:
    rows = session.execute(select(FollowUp.status, func.count()).join(Visit, Visit.id == FollowUp.source_visit_id)
                           .where(clause).group_by(FollowUp.status))
    counts = {status: n for status, n in rows}
    return {"open": counts.get("open", 0), "done": sum(n for s, n in counts.items() if s != "open")}


def _answers(session: Session, visit_id: int) -> tuple[dict, list, list]:
    rows = session.execute(select(Answer.rating, Answer.value, Answer.evaluation, ChecklistItem.code,
                                  ChecklistItem.question, ChecklistItem.position)
                           .join(ChecklistItem, ChecklistItem.id == Answer.item_id)
                           .where(Answer.visit_id == visit_id).order_by(ChecklistItem.code))
    ratings, good, measured = Counter(), [], []
    for r in rows:
        if r.rating:
            ratings[r.rating] += 1
        if r.rating == "complete":
            good.append({"code": r.code, "question": r.question})
        # Measurements only: gap notes are the monitors' working notes and stay out.
        if r.evaluation and isinstance(r.value, dict):
            measured.append({"code": r.code, "question": r.question, "area_m2": r.value.get("area_m2"),
                             "occupants": r.value.get("occupants"), "per_person": r.evaluation.get("per_person"),
                             "norm": r.evaluation.get("norm"), "meets": r.evaluation.get("meets")})
    return dict(sorted(ratings.items())), good, measured


# -- complaints (counts only) ----------------------------------------------------------------

def _complaint_models() -> Any | None:
    if importlib.util.find_spec("npmtool.models.complaints") is None:
        return None
    return importlib.import_module("npmtool.models.complaints")


def _complaints(session: Session, country: str, period: tuple[date, date]) -> tuple[dict | None, list | None]:
    module = _complaint_models()
    if module is None:
        return None, None
    from npmtool.models import ComplaintCategory, ComplaintChannel

    start, end = period
    complaints = boxes = None
    Complaint = getattr(module, "Complaint", None)
    if Complaint is not None:
        # Counts by category and channel: never the text, identity or contact.
        where = (Complaint.country_code == country, Complaint.received_on >= start, Complaint.received_on <= end)
        by_category = session.execute(
            select(ComplaintCategory.code, ComplaintCategory.names, func.count())
            .join(Complaint, Complaint.category_id == ComplaintCategory.id).where(*where)
            .group_by(ComplaintCategory.code, ComplaintCategory.id).order_by(ComplaintCategory.code)).all()
        by_channel = session.execute(
            select(ComplaintChannel.code, ComplaintChannel.names, func.count())
            .join(Complaint, Complaint.channel_id == ComplaintChannel.id).where(*where)
            .group_by(ComplaintChannel.code, ComplaintChannel.id).order_by(ComplaintChannel.code)).all()
        complaints = {"total": sum(r[2] for r in by_category),
                      "by_category": [{"code": r[0], "names": r[1], "count": r[2]} for r in by_category],
                      "by_channel": [{"code": r[0], "names": r[1], "count": r[2]} for r in by_channel]}
    Opening = getattr(module, "ComplaintBoxOpening", None)
    if Opening is not None:
        rows = session.execute(
            select(Opening.facility_id, Opening.box_label, func.count(), func.sum(Opening.letters_count))
            .where(Opening.country_code == country, Opening.opened_on >= start, Opening.opened_on <= end)
            .group_by(Opening.facility_id, Opening.box_label))
        openers = defaultdict(set)
        for r in session.execute(select(Opening.facility_id, Opening.box_label, User.full_name)
                                 .join(User, User.id == Opening.opened_by_id)
                                 .where(Opening.country_code == country, Opening.opened_on >= start,
                                        Opening.opened_on <= end)):
            openers[(r.facility_id, r.box_label)].add(r.full_name)  # Ombudsman staff, not complainants
        boxes = [{"facility_id": r[0], "box": r[1], "openings": r[2], "letters": int(r[3] or 0),
                  "opened_by": sorted(openers[(r[0], r[1])])} for r in rows]
        boxes.sort(key=lambda b: (b["facility_id"], str(b["box"])))
    return complaints, boxes


# -- assembly ------------------------------------------------------------------------------

def gather_visit(session: Session, visit: Visit, max_photos: int) -> Facts:
    country = visit.country_code
    clause = Visit.id == visit.id
    authorities = _authorities(session, country)
    visits = _visit_rows(session, clause, country)
    findings = _findings(session, clause)
    photos, total = _photos(session, clause, findings, only_linked=False, limit=max_photos)
    ids = {a["id"]: a["code"] for a in authorities}
    recs = _recommendation_rows(session, Recommendation.source_visit_id == visit.id, ids)
    earlier = _recommendation_rows(session, and_(
        Recommendation.id.in_(select(recommendation_facility.c.recommendation_id)
                              .where(recommendation_facility.c.facility_id == visit.facility_id)),
        Recommendation.issued_on < visit.starts_on,
        or_(Recommendation.source_visit_id.is_(None), Recommendation.source_visit_id != visit.id)), ids)
    categories, allegations, risk = _interview_counts(session, clause)
    ratings, good, measured = _answers(session, visit.id)
    codes = {b.get("source") for f in findings for b in f["legal_basis"] if isinstance(b, dict)}
    return Facts(
        country=_country(session, country), scope="visit", period=None, visit=visits[0], visits=visits,
        facilities=_facilities(session, {visit.facility_id}, visit.ends_on), authorities=authorities,
        findings=findings, recommendations=recs, earlier=earlier, photos=photos, photos_total=total,
        legal_sources=_legal_sources(session, {c for c in codes if c}), interviews=categories,
        allegations=allegations, reprisal_risk=risk, follow_ups=_follow_up_counts(session, clause),
        ratings=ratings, good_practice=good, measurements=measured)


def gather_period(session: Session, country: str, scope: str, period: tuple[date, date], max_photos: int,
                  with_complaints: bool = True) -> Facts:
    start, end = period
    clause = and_(Visit.country_code == country, Visit.starts_on >= start, Visit.starts_on <= end,
                  Visit.status.in_(DONE_STATUSES))
    authorities = _authorities(session, country)
    ids = {a["id"]: a["code"] for a in authorities}
    visits = _visit_rows(session, clause, country)
    findings = _findings(session, clause)
    photos, total = _photos(session, clause, findings, only_linked=True, limit=max_photos)
    recs = _recommendation_rows(session, and_(Recommendation.country_code == country,
                                              Recommendation.issued_on >= start, Recommendation.issued_on <= end), ids)
    earlier = _earlier_counts(session, country, period, ids)
    facility_ids = {v["facility_id"] for v in visits}
    categories, allegations, risk = _interview_counts(session, clause)
    complaints, boxes = _complaints(session, country, period) if with_complaints else (None, None)
    if boxes:
        facility_ids |= {b["facility_id"] for b in boxes}
    return Facts(
        country=_country(session, country), scope=scope, period=period, visit=None, visits=visits,
        facilities=_facilities(session, facility_ids, end), authorities=authorities, findings=findings,
        recommendations=recs, earlier=earlier, photos=photos, photos_total=total, legal_sources={},
        interviews=categories, allegations=allegations, reprisal_risk=risk,
        follow_ups=_follow_up_counts(session, clause), complaints=complaints, boxes=boxes)
