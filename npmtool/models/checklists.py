"""Checklist templates snapshotted from plugins by (code, version).

A visit refers to the exact template version it used, so the questions it was
asked stay readable after a plugin changes them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from npmtool.models.base import Base, utcnow


class ChecklistTemplate(Base):
    __tablename__ = "checklist_template"
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), index=True)
    version: Mapped[str] = mapped_column(String(20))
    plugin: Mapped[str] = mapped_column(String(80))
    country_code: Mapped[str | None] = mapped_column(ForeignKey("country.code"))
    titles: Mapped[dict[str, Any]]
    applies_to: Mapped[dict[str, Any]]
    content_hash: Mapped[str] = mapped_column(String(64))
    # Only the newest loaded version of a code is offered to new visits.
    is_current: Mapped[bool] = mapped_column(default=True)
    loaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    sections: Mapped[list[ChecklistSection]] = relationship(
        back_populates="template", order_by="ChecklistSection.position", cascade="all, delete-orphan"
    )
    items: Mapped[list[ChecklistItem]] = relationship(
        back_populates="template", order_by="ChecklistItem.position", cascade="all, delete-orphan",
        overlaps="items",
    )


class ChecklistSection(Base):
    __tablename__ = "checklist_section"

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("checklist_template.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    titles: Mapped[dict[str, Any]]
    position: Mapped[int]

    template: Mapped[ChecklistTemplate] = relationship(back_populates="sections")
    items: Mapped[list[ChecklistItem]] = relationship(
        back_populates="section", order_by="ChecklistItem.position", overlaps="items,template"
    )


class ChecklistItem(Base):
    __tablename__ = "checklist_item"
    __table_args__ = (UniqueConstraint("template_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("checklist_template.id"), index=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("checklist_section.id"), index=True)
    code: Mapped[str] = mapped_column(String(60), index=True)
    position: Mapped[int]
    question: Mapped[dict[str, Any]]
    guidance: Mapped[dict[str, Any] | None]
    legal_basis: Mapped[list[Any]]
    answer_type: Mapped[str] = mapped_column(String(20))
    # choices, unit, measurement — whatever the answer type needs.
    options: Mapped[dict[str, Any]]
    applies_to: Mapped[dict[str, Any]]

    template: Mapped[ChecklistTemplate] = relationship(back_populates="items", overlaps="items")
    section: Mapped[ChecklistSection] = relationship(back_populates="items", overlaps="items,template")
