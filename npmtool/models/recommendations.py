"""Findings and the recommendations that follow them until they are resolved.

Two tracks are kept apart (DOMAIN.md §4): what the authority says it will do
(``response_*``) and what the NPM itself sees (``assessment``). Only a
``Verification`` — a follow-up visit's check or a document — closes a
recommendation, and every change is appended to ``RecommendationEvent``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, ForeignKey, Index, String, Table, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from npmtool.models.base import Base, Tracked, utcnow
from npmtool.models.checklists import ChecklistItem
from npmtool.models.evidence import Evidence
from npmtool.models.facilities import Facility
from npmtool.models.reference import Authority
from npmtool.models.users import User
from npmtool.models.visits import Answer, Visit

FINDING_SOURCES = ("answer", "free")
FINDING_STATUSES = ("draft", "confirmed", "dismissed")

PRIORITIES = ("normal", "high", "urgent")
# Why a recommendation is a priority: each flag raises it to at least "high";
# risk to life and torture or ill-treatment allegations make it "urgent".
PRIORITY_FLAGS = ("risk_to_life", "torture_allegation", "ill_treatment_allegation", "repeated")
URGENT_FLAGS = ("risk_to_life", "torture_allegation", "ill_treatment_allegation")
TOPICS = (
    "treatment", "conditions", "overcrowding", "health_care", "food_water", "hygiene",
    "contact_outside", "legal_safeguards", "complaints", "discipline_isolation", "use_of_force",
    "vulnerable_groups", "activities", "staff", "registers", "other",
)
RESPONSE_KINDS = ("accepted", "partially_accepted", "rejected")
ASSESSMENTS = (
    "not_started", "in_progress", "implemented", "partially_implemented", "not_implemented",
    "no_longer_applicable",
)
# A verification with one of these verdicts closes the recommendation.
CLOSING_VERDICTS = ("implemented", "no_longer_applicable")
VERIFICATION_KINDS = ("visit", "document")
RECOMMENDATION_STATUSES = ("open", "closed")
EVENT_KINDS = (
    "created", "edited", "response", "assessment", "deadline", "verification", "comment",
    "council_decision", "reopened", "document", "escalated",
)

finding_answer = Table(
    "finding_answer", Base.metadata,
    Column("finding_id", ForeignKey("finding.id", ondelete="CASCADE"), primary_key=True),
    Column("answer_id", ForeignKey("answer.id", ondelete="CASCADE"), primary_key=True),
)
finding_evidence = Table(
    "finding_evidence", Base.metadata,
    Column("finding_id", ForeignKey("finding.id", ondelete="CASCADE"), primary_key=True),
    Column("evidence_id", ForeignKey("evidence.id", ondelete="CASCADE"), primary_key=True),
)
recommendation_finding = Table(
    "recommendation_finding", Base.metadata,
    Column("recommendation_id", ForeignKey("recommendation.id", ondelete="CASCADE"), primary_key=True),
    Column("finding_id", ForeignKey("finding.id", ondelete="CASCADE"), primary_key=True),
)
recommendation_facility = Table(
    "recommendation_facility", Base.metadata,
    Column("recommendation_id", ForeignKey("recommendation.id", ondelete="CASCADE"), primary_key=True),
    Column("facility_id", ForeignKey("facility.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Finding(Tracked, Base):
    """What a visit found wanting. Drafted from an answer rated partly / not
    yet (with the item's legal basis and the monitor's notes), or written
    freely; links answers, photos and interviews — interviews by code only."""

    __tablename__ = "finding"
    __table_args__ = (Index("ix_finding_facility_item_code", "facility_id", "item_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), index=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facility.id"))
    source: Mapped[str] = mapped_column(String(10), default="free")
    status: Mapped[str] = mapped_column(String(12), default="draft")
    # The checklist item behind an answer-based finding; the stable code is
    # what "the same item on consecutive visits" compares.
    item_id: Mapped[int | None] = mapped_column(ForeignKey("checklist_item.id"))
    item_code: Mapped[str | None] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text, default="")
    # [{"source": legal source code, "article": "…"}], as on checklist items.
    legal_basis: Mapped[list[Any]]
    topic: Mapped[str] = mapped_column(String(40), default="other")
    # Interview codes only: never a name.
    interview_codes: Mapped[list[Any]]
    # Found wanting on the facility's previous visit too.
    repeated: Mapped[bool] = mapped_column(default=False)
    previous_finding_id: Mapped[int | None] = mapped_column(ForeignKey("finding.id"))

    visit: Mapped[Visit] = relationship()
    facility: Mapped[Facility] = relationship()
    item: Mapped[ChecklistItem | None] = relationship()
    answers: Mapped[list[Answer]] = relationship(secondary=finding_answer)
    evidence: Mapped[list[Evidence]] = relationship(secondary=finding_evidence)
    recommendations: Mapped[list[Recommendation]] = relationship(
        secondary=recommendation_finding, back_populates="findings")


DASHBOARD_COLUMNS = ["country_code", "status", "current_deadline", "assessment", "region_id", "authority_id",
                     "facility_type_id", "topic", "priority"]


class Recommendation(Tracked, Base):
    __tablename__ = "recommendation"
    __table_args__ = (
        # The dashboard groups open items by these; the list filters on them.
        Index("ix_recommendation_country_status_deadline", "country_code", "status", "current_deadline"),
        Index("ix_recommendation_authority_status", "authority_id", "status"),
        Index("ix_recommendation_region_status", "region_id", "status"),
        Index("ix_recommendation_type_status", "facility_type_id", "status"),
        # The council dashboard aggregates a period of issue: on PostgreSQL
        # these included columns make every GROUP BY an index-only scan.
        Index("ix_recommendation_issued_on", "issued_on", postgresql_include=DASHBOARD_COLUMNS),
        # The list's default order.
        Index("ix_recommendation_current_deadline", "current_deadline", "id"),
        # Median time to implementation: only implemented items (a third),
        # read index-only with the scope columns instead of a parallel full scan.
        Index("ix_recommendation_implemented_on", "implemented_on",
              postgresql_include=["issued_on", "country_code", "region_id"],
              postgresql_where=text("implemented_on IS NOT NULL"), sqlite_where=text("implemented_on IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Human reference, e.g. "KG-2026-00042".
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    country_code: Mapped[str] = mapped_column(ForeignKey("country.code"))
    authority_id: Mapped[int] = mapped_column(ForeignKey("authority.id"))
    source_visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[list[Any]]
    topic: Mapped[str] = mapped_column(String(40), default="other")
    priority: Mapped[str] = mapped_column(String(10), default="normal")
    priority_flags: Mapped[list[Any]]
    # Addressed to the whole authority rather than to named facilities.
    systemic: Mapped[bool] = mapped_column(default=False)
    # Denormalised from the first facility so the dashboard groups without
    # joining the facility list of 500,000 recommendations; NULL if systemic.
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"))
    facility_type_id: Mapped[int | None] = mapped_column(ForeignKey("facility_type.id"))
    issued_on: Mapped[date]
    initial_deadline: Mapped[date]
    # The latest revised deadline (or the initial one); every revision is in
    # DeadlineRevision.
    current_deadline: Mapped[date]
    # Track 1: the authority's latest response (every response is kept in
    # AuthorityResponse).
    response_kind: Mapped[str | None] = mapped_column(String(20))
    response_on: Mapped[date | None]
    # Track 2: the NPM's own assessment.
    assessment: Mapped[str] = mapped_column(String(30), default="not_started")
    status: Mapped[str] = mapped_column(String(10), default="open")
    closed_on: Mapped[date | None]
    # Set when a verification found it implemented: median time to
    # implementation is closed_on/implemented_on − issued_on.
    implemented_on: Mapped[date | None]
    repeated: Mapped[bool] = mapped_column(default=False)

    authority: Mapped[Authority] = relationship()
    source_visit: Mapped[Visit | None] = relationship()
    facilities: Mapped[list[Facility]] = relationship(secondary=recommendation_facility, order_by="Facility.name")
    findings: Mapped[list[Finding]] = relationship(secondary=recommendation_finding, back_populates="recommendations")
    deadlines: Mapped[list[DeadlineRevision]] = relationship(
        back_populates="recommendation", order_by="DeadlineRevision.id", cascade="all, delete-orphan")
    responses: Mapped[list[AuthorityResponse]] = relationship(
        back_populates="recommendation", order_by="AuthorityResponse.id", cascade="all, delete-orphan")
    verifications: Mapped[list[Verification]] = relationship(
        back_populates="recommendation", order_by="Verification.id", cascade="all, delete-orphan")
    events: Mapped[list[RecommendationEvent]] = relationship(
        back_populates="recommendation", order_by="RecommendationEvent.id", cascade="all, delete-orphan")
    documents: Mapped[list[RecommendationDocument]] = relationship(
        back_populates="recommendation", order_by="RecommendationDocument.id", cascade="all, delete-orphan")


class DeadlineRevision(Base):
    """A revised deadline; the initial one stays on the recommendation."""

    __tablename__ = "deadline_revision"

    id: Mapped[int] = mapped_column(primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(ForeignKey("recommendation.id"), index=True)
    previous: Mapped[date]
    deadline: Mapped[date]
    reason: Mapped[str] = mapped_column(Text, default="")
    set_at: Mapped[datetime] = mapped_column(default=utcnow)
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    recommendation: Mapped[Recommendation] = relationship(back_populates="deadlines")
    set_by: Mapped[User | None] = relationship()


class RecommendationDocument(Base):
    """A document received or filed about a recommendation (an authority's
    letter, an order, a photo of repaired premises). Stored content-addressed
    like evidence."""

    __tablename__ = "recommendation_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(ForeignKey("recommendation.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    title: Mapped[str] = mapped_column(String(300), default="")
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    recommendation: Mapped[Recommendation] = relationship(back_populates="documents")


class AuthorityResponse(Base):
    """Track 1: what the addressee answered, with its text, date and documents."""

    __tablename__ = "authority_response"

    id: Mapped[int] = mapped_column(primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(ForeignKey("recommendation.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text, default="")
    received_on: Mapped[date]
    document_id: Mapped[int | None] = mapped_column(ForeignKey("recommendation_document.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    recommendation: Mapped[Recommendation] = relationship(back_populates="responses")
    document: Mapped[RecommendationDocument | None] = relationship()
    recorded_by: Mapped[User | None] = relationship()


class Verification(Base):
    """A check of whether a recommendation was implemented: on site at a
    follow-up visit (with photos as evidence) or from a document."""

    __tablename__ = "verification"
    __table_args__ = (Index("ix_verification_visit", "visit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(ForeignKey("recommendation.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id"))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("recommendation_document.id"))
    # implemented / partially_implemented / not_implemented / no_longer_applicable
    verdict: Mapped[str] = mapped_column(String(30))
    note: Mapped[str] = mapped_column(Text, default="")
    evidence_ids: Mapped[list[Any]]
    verified_on: Mapped[date]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    recommendation: Mapped[Recommendation] = relationship(back_populates="verifications")
    visit: Mapped[Visit | None] = relationship()
    document: Mapped[RecommendationDocument | None] = relationship()
    recorded_by: Mapped[User | None] = relationship()


class RecommendationEvent(Base):
    """Append-only history: who changed what, when and why. Comments and
    council decisions are events too, so the history reads as one story."""

    __tablename__ = "recommendation_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(ForeignKey("recommendation.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # {"field": [old, new], …}
    changes: Mapped[dict[str, Any]]
    note: Mapped[str] = mapped_column(Text, default="")
    # Several items changed by one bulk action share this id.
    batch: Mapped[str | None] = mapped_column(String(36))

    recommendation: Mapped[Recommendation] = relationship(back_populates="events")
    user: Mapped[User | None] = relationship()
