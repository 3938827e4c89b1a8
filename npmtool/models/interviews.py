"""Confidential interviews and the follow-ups they create.

Notes and identities are stored only as ciphertext (``*_sealed``); the key
lives in the instance configuration, never in the database."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from npmtool.models.base import Base, Tracked
from npmtool.models.visits import Visit

INTERVIEW_CATEGORIES = ("detained", "staff", "medical", "other")
VULNERABLE_GROUPS = ("women", "children", "foreign_nationals", "disability", "drug_use", "lgbti", "other")
ALLEGATIONS = ("torture", "ill_treatment", "threats")


class Interview(Tracked, Base):
    __tablename__ = "interview"
    __table_args__ = (UniqueConstraint("visit_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), index=True)
    # Pseudonymous code, e.g. "KG-2026-014-03": never a name.
    code: Mapped[str] = mapped_column(String(40))
    category: Mapped[str] = mapped_column(String(20))
    vulnerable_groups: Mapped[list[Any]]
    consent: Mapped[bool] = mapped_column(default=False)
    consent_to_be_named: Mapped[bool] = mapped_column(default=False)
    private_setting: Mapped[bool] = mapped_column(default=False)
    out_of_staff_hearing: Mapped[bool] = mapped_column(default=False)
    allegations: Mapped[list[Any]]
    reprisal_risk: Mapped[bool] = mapped_column(default=False)
    identity_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    notes_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Offline capture: a retried save with the same UUID never duplicates.
    client_uuid: Mapped[str | None] = mapped_column(String(36), unique=True)

    visit: Mapped[Visit] = relationship()


class FollowUp(Tracked, Base):
    """Something the next visit to a facility must check, e.g. whether a
    person who talked to monitors suffered reprisals."""

    __tablename__ = "follow_up"
    __table_args__ = (Index("ix_follow_up_facility_status", "facility_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facility.id"))
    source_visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"))
    interview_id: Mapped[int | None] = mapped_column(ForeignKey("interview.id"))
    kind: Mapped[str] = mapped_column(String(30), default="reprisal_check")
    # The interview code only: the follow-up never names anyone.
    subject_code: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="open")
    outcome: Mapped[str] = mapped_column(Text, default="")
    resolved_visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id"))
    resolved_at: Mapped[datetime | None]

    source_visit: Mapped[Visit] = relationship(foreign_keys=[source_visit_id])
