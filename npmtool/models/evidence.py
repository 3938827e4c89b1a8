"""Photo evidence: content-addressed files that are never modified, their
references from visits, derived copies and the custody log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from npmtool.models.base import Base, utcnow
from npmtool.models.visits import Visit

CUSTODY_ACTIONS = ("uploaded", "viewed", "derived", "redacted", "exported", "verified")


class EvidenceFile(Base):
    """The bytes exactly as received, stored under their SHA-256. One row per
    distinct content: a second upload of the same bytes adds a reference only."""

    __tablename__ = "evidence_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int]
    media_type: Mapped[str] = mapped_column(String(60))
    width: Mapped[int]
    height: Mapped[int]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class Evidence(Base):
    """A reference from a visit (and optionally an item or interview) to an
    evidence file; findings link to it through ``finding_evidence``, with what was read and derived from it."""

    __tablename__ = "evidence"
    __table_args__ = (Index("ix_evidence_visit", "visit_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"))
    file_id: Mapped[int] = mapped_column(ForeignKey("evidence_file.id"), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("checklist_item.id"))
    interview_id: Mapped[int | None] = mapped_column(ForeignKey("interview.id"))
    caption: Mapped[str] = mapped_column(Text, default="")
    # EXIF facts as read: taken_at, lat, lon, device (make/model), orientation.
    exif: Mapped[dict[str, Any]]
    # Checks that failed, e.g. {"code": "outside_window", …}, shown as warnings.
    warnings: Mapped[list[Any]]
    # Boxes painted solid on the publication copy: [{"x":…, "y":…, "w":…, "h":…}] in 0..1 of the image.
    redactions: Mapped[list[Any]]
    thumbnail_sha256: Mapped[str | None] = mapped_column(String(64))
    publication_sha256: Mapped[str | None] = mapped_column(String(64))
    client_uuid: Mapped[str | None] = mapped_column(String(36), unique=True)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    visit: Mapped[Visit] = relationship()
    file: Mapped[EvidenceFile] = relationship()


class CustodyEvent(Base):
    """Append-only chain of custody: who uploaded, viewed, derived or exported a file."""

    __tablename__ = "custody_event"
    __table_args__ = (Index("ix_custody_event_file", "file_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("evidence_file.id"))
    evidence_id: Mapped[int | None] = mapped_column(ForeignKey("evidence.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    action: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    details: Mapped[dict[str, Any]]
