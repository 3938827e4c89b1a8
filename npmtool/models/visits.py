"""Preventive visits, their teams, checklists and answers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from npmtool.models.base import Base, Tracked, utcnow
from npmtool.models.checklists import ChecklistItem, ChecklistTemplate
from npmtool.models.facilities import Facility
from npmtool.models.users import User

VISIT_STATUSES = ("planned", "in_progress", "draft", "in_review", "sent", "closed")
TEAM_ROLES = ("lead", "member", "expert")
RATINGS = ("complete", "partly", "not_yet", "not_applicable")

# An answer without a value is SQL NULL, not JSON null, so it can be counted.
AnswerValueType = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


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
    checklists: Mapped[list[VisitChecklist]] = relationship(
        back_populates="visit", cascade="all, delete-orphan", order_by="VisitChecklist.id"
    )

    def member(self, user_id: int) -> VisitMember | None:
        return next((m for m in self.team_members if m.user_id == user_id), None)


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


class VisitChecklist(Base):
    """A checklist template version attached to a visit, with the items that
    apply to the facility frozen at attachment time."""

    __tablename__ = "visit_checklist"
    __table_args__ = (UniqueConstraint("visit_id", "template_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"))
    template_id: Mapped[int] = mapped_column(ForeignKey("checklist_template.id"))
    item_ids: Mapped[list[Any]]

    visit: Mapped[Visit] = relationship(back_populates="checklists")
    template: Mapped[ChecklistTemplate] = relationship()


class Answer(Tracked, Base):
    """One answer to one checklist item at one visit. Saved on its own as soon
    as it is given; ``version`` detects two people answering the same item."""

    __tablename__ = "answer"
    __table_args__ = (UniqueConstraint("visit_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("checklist_item.id"), index=True)
    rating: Mapped[str | None] = mapped_column(String(20))
    # number / yes-no / choice / text / {"area_m2": …, "occupants": …}
    value: Mapped[Any | None] = mapped_column(AnswerValueType)
    missing_note: Mapped[str] = mapped_column(Text, default="")
    improve_note: Mapped[str] = mapped_column(Text, default="")
    # The computed evaluation of a measurement against the norm.
    evaluation: Mapped[dict[str, Any] | None]
    answered_at: Mapped[datetime] = mapped_column(default=utcnow)

    item: Mapped[ChecklistItem] = relationship()
