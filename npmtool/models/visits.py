"""Preventive visits and their teams."""

from __future__ import annotations

from datetime import date

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from npmtool.models.base import Base, Tracked
from npmtool.models.facilities import Facility
from npmtool.models.users import User

VISIT_STATUSES = ("planned", "in_progress", "draft", "in_review", "sent", "closed")
TEAM_ROLES = ("lead", "member", "expert")


class Visit(Tracked, Base):
    __tablename__ = "visit"
    __table_args__ = (
        Index("ix_visit_facility_starts_on", "facility_id", "starts_on"),
        Index("ix_visit_country_status", "country_code", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facility.id"))
    country_code: Mapped[str] = mapped_column(ForeignKey("country.code"))
    visit_type: Mapped[str] = mapped_column(String(40))
    purpose: Mapped[str] = mapped_column(Text, default="")
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    announced: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(20), default="planned")

    facility: Mapped[Facility] = relationship()
    team_members: Mapped[list[VisitMember]] = relationship(
        back_populates="visit", cascade="all, delete-orphan", order_by="VisitMember.id"
    )


class VisitMember(Base):
    __tablename__ = "visit_member"
    __table_args__ = (UniqueConstraint("visit_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    # e.g. "doctor", "lawyer", "social worker" for experts.
    expertise: Mapped[str] = mapped_column(String(80), default="")

    visit: Mapped[Visit] = relationship(back_populates="team_members")
    user: Mapped[User] = relationship()
