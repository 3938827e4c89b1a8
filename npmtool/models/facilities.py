"""Places of detention and their dated figures."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from npmtool.models.base import Base, Tracked
from npmtool.models.reference import Authority, Country, FacilityType, Region

POPULATIONS = ("men", "women", "juveniles", "children")
FIGURE_KINDS = ("population", "capacity", "staff")


class Facility(Tracked, Base):
    __tablename__ = "facility"
    __table_args__ = (
        Index("ix_facility_country_region_type", "country_code", "region_id", "facility_type_id"),
        Index("ix_facility_lat_lon", "lat", "lon"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stable code from a plugin's registry or an import file; optional for
    # facilities created by hand.
    code: Mapped[str | None] = mapped_column(String(60), unique=True)
    country_code: Mapped[str] = mapped_column(ForeignKey("country.code"))
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"))
    facility_type_id: Mapped[int] = mapped_column(ForeignKey("facility_type.id"))
    authority_id: Mapped[int] = mapped_column(ForeignKey("authority.id"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    names: Mapped[dict[str, Any]]
    address: Mapped[str] = mapped_column(String(500), default="")
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    capacity: Mapped[int | None]
    populations: Mapped[list[Any]]
    notes: Mapped[str] = mapped_column(Text, default="")
    is_active: Mapped[bool] = mapped_column(default=True)
    # Lower-cased names, code and address in every language, for search.
    search_text: Mapped[str] = mapped_column(Text, default="")

    country: Mapped[Country] = relationship()
    region: Mapped[Region] = relationship()
    facility_type: Mapped[FacilityType] = relationship()
    authority: Mapped[Authority] = relationship()
    figures: Mapped[list[FacilityFigure]] = relationship(
        back_populates="facility", order_by="FacilityFigure.as_of.desc()", cascade="all, delete-orphan"
    )


class FacilityFigure(Tracked, Base):
    """A figure is a value with its date and source, never a bare number:
    sources disagree, and overcrowding is computed from these."""

    __tablename__ = "facility_figure"
    __table_args__ = (Index("ix_facility_figure_facility_kind_as_of", "facility_id", "kind", "as_of"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facility.id"))
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[int]
    as_of: Mapped[date]
    source: Mapped[str] = mapped_column(String(300))

    facility: Mapped[Facility] = relationship(back_populates="figures")
