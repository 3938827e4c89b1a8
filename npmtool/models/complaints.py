"""Complaints from people in detention, their families and civil society.

People who complain can be punished for it, so what happened, who they are
and how to reach them are stored only as ciphertext (``*_sealed``, the same
keys as interview notes); the public tracking code only as an HMAC, so a
copy of the database opens neither the complaints nor their tracking pages."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, ForeignKey, Index, LargeBinary, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from npmtool.models.base import Base, Tracked, utcnow
from npmtool.models.facilities import Facility
from npmtool.models.reference import Authority, ComplaintCategory, ComplaintChannel, Region
from npmtool.models.users import User
from npmtool.models.visits import Visit

COMPLAINT_STATUSES = ("received", "under_review", "referred", "visit_planned", "closed")
# Who filed it, as far as the form can tell: never a name.
FILERS = ("self", "family", "lawyer", "cso", "other")
EVENT_KINDS = ("filed", "status", "reply", "note", "referred", "answer", "visit", "link", "reopened")

complaint_recommendation = Table(
    "complaint_recommendation", Base.metadata,
    Column("complaint_id", ForeignKey("complaint.id", ondelete="CASCADE"), primary_key=True),
    Column("recommendation_id", ForeignKey("recommendation.id", ondelete="CASCADE"), primary_key=True,
           index=True),
)
complaint_visit = Table(
    "complaint_visit", Base.metadata,
    Column("complaint_id", ForeignKey("complaint.id", ondelete="CASCADE"), primary_key=True),
    Column("visit_id", ForeignKey("visit.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class ComplaintBoxOpening(Tracked, Base):
    """A complaint box opened by the Ombudsman's staff (Uzbekistan): each
    letter found in it becomes a complaint of its own."""

    __tablename__ = "complaint_box_opening"

    id: Mapped[int] = mapped_column(primary_key=True)
    country_code: Mapped[str] = mapped_column(ForeignKey("country.code"))
    facility_id: Mapped[int] = mapped_column(ForeignKey("facility.id"), index=True)
    box_label: Mapped[str] = mapped_column(String(200))
    opened_on: Mapped[date]
    opened_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    witnesses: Mapped[str] = mapped_column(Text, default="")
    letters_count: Mapped[int] = mapped_column(default=0)
    notes: Mapped[str] = mapped_column(Text, default="")

    facility: Mapped[Facility] = relationship()
    opened_by: Mapped[User] = relationship(foreign_keys=[opened_by_id])
    complaints: Mapped[list[Complaint]] = relationship(back_populates="box_opening", order_by="Complaint.id")


class Complaint(Tracked, Base):
    __tablename__ = "complaint"
    __table_args__ = (
        Index("ix_complaint_country_status", "country_code", "status"),
        Index("ix_complaint_facility_received", "facility_id", "received_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    country_code: Mapped[str] = mapped_column(ForeignKey("country.code"))
    # Kept even without a facility ("not sure"), for regional scoping.
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), index=True)
    facility_id: Mapped[int | None] = mapped_column(ForeignKey("facility.id"))
    channel_id: Mapped[int] = mapped_column(ForeignKey("complaint_channel.id"))
    category_id: Mapped[int] = mapped_column(ForeignKey("complaint_category.id"))
    urgent: Mapped[bool] = mapped_column(default=False)
    filer: Mapped[str] = mapped_column(String(10), default="other")
    received_on: Mapped[date]
    occurred_on: Mapped[date | None]
    consent_to_be_named: Mapped[bool] = mapped_column(default=False)
    anonymous: Mapped[bool] = mapped_column(default=True)
    text_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    identity_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    contact_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    # HMAC-SHA256 of the tracking code; None for complaints nobody can track
    # (a letter from a box, a hotline call).
    tracking_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    filed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    box_opening_id: Mapped[int | None] = mapped_column(ForeignKey("complaint_box_opening.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="received")
    status_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Response deadline of the current status (the plugin's response_days).
    due_on: Mapped[date | None]
    referred_authority_id: Mapped[int | None] = mapped_column(ForeignKey("authority.id"))
    referred_on: Mapped[date | None]
    authority_answer: Mapped[str] = mapped_column(Text, default="")
    authority_answer_on: Mapped[date | None]
    outcome: Mapped[str] = mapped_column(Text, default="")
    closed_on: Mapped[date | None]

    facility: Mapped[Facility | None] = relationship()
    region: Mapped[Region | None] = relationship()
    channel: Mapped[ComplaintChannel] = relationship()
    category: Mapped[ComplaintCategory] = relationship()
    referred_authority: Mapped[Authority | None] = relationship()
    filed_by: Mapped[User | None] = relationship(foreign_keys=[filed_by_id])
    box_opening: Mapped[ComplaintBoxOpening | None] = relationship(back_populates="complaints")
    events: Mapped[list[ComplaintEvent]] = relationship(
        back_populates="complaint", order_by="ComplaintEvent.id", cascade="all, delete-orphan")
    attachments: Mapped[list[ComplaintAttachment]] = relationship(
        back_populates="complaint", order_by="ComplaintAttachment.id", cascade="all, delete-orphan")
    visits: Mapped[list[Visit]] = relationship(secondary=complaint_visit, order_by="Visit.starts_on")
    recommendations: Mapped[list["Recommendation"]] = relationship(  # noqa: F821
        secondary=complaint_recommendation, order_by="Recommendation.id")


class ComplaintEvent(Base):
    """The history of a complaint. Texts are sealed (staff notes may name
    people); ``public`` ones are the replies the tracking page shows."""

    __tablename__ = "complaint_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    public: Mapped[bool] = mapped_column(default=False)
    text_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    complaint: Mapped[Complaint] = relationship(back_populates="events")
    user: Mapped[User | None] = relationship()


class ComplaintAttachment(Base):
    """An image or PDF sent with a complaint, sealed whole: a photo of an
    injury or a letter identifies people as surely as a name."""

    __tablename__ = "complaint_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id"), index=True)
    filename_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    media_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int]
    data_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    complaint: Mapped[Complaint] = relationship(back_populates="attachments")


class RateLimitHit(Base):
    """One counted request, for throttling that holds across workers. The
    key is an HMAC of the bucket and the address: no IP address of a
    complainant is stored."""

    __tablename__ = "rate_limit_hit"
    __table_args__ = (Index("ix_rate_limit_hit_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
