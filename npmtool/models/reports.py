"""Generated reports, kept with the hash of their inputs so a later
regeneration shows whether anything they were built from has changed."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from npmtool.models.base import Base, utcnow
from npmtool.models.users import User
from npmtool.models.visits import Visit



class GeneratedReport(Base):
    __tablename__ = "generated_report"
    __table_args__ = (Index("ix_generated_report_lookup", "country_code", "format_code", "visit_id",
                            "period_start", "language", "output"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    country_code: Mapped[str] = mapped_column(ForeignKey("country.code"))
    # The plugin's report format code, e.g. "annual_consolidated".
    format_code: Mapped[str] = mapped_column(String(60))
    # visit / annual / period, as the plugin's format declares (plugins.REPORT_SCOPES).
    scope: Mapped[str] = mapped_column(String(10))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id"))
    period_start: Mapped[date | None]
    period_end: Mapped[date | None]
    language: Mapped[str] = mapped_column(String(5))
    output: Mapped[str] = mapped_column(String(5))
    # SHA-256 of the canonical report context: equal hashes, equal inputs.
    inputs_hash: Mapped[str] = mapped_column(String(64))
    # The rendered file, stored content-addressed.
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    filename: Mapped[str] = mapped_column(String(255))
    # Counts and settings the report was built with (visits, findings…).
    summary: Mapped[dict[str, Any]]
    generated_at: Mapped[datetime] = mapped_column(default=utcnow)
    generated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    visit: Mapped[Visit | None] = relationship()
    generated_by: Mapped[User | None] = relationship()
