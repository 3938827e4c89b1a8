"""Reference data loaded from plugins: countries, regions, authorities,
facility types, legal sources, visit types, complaint categories and channels."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from npmtool.models.base import Base


class Country(Base):
    __tablename__ = "country"

    code: Mapped[str] = mapped_column(String(2), primary_key=True)
    plugin: Mapped[str] = mapped_column(String(80))
    names: Mapped[dict[str, Any]]
    npm_body: Mapped[dict[str, Any]]
    languages: Mapped[list[Any]]

    regions: Mapped[list[Region]] = relationship(back_populates="country", order_by="Region.code")


class Region(Base):
    __tablename__ = "region"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    country_code: Mapped[str] = mapped_column(ForeignKey("country.code"), index=True)
    names: Mapped[dict[str, Any]]
    kind: Mapped[str] = mapped_column(String(20), default="region")

    country: Mapped[Country] = relationship(back_populates="regions")


class Authority(Base):
    __tablename__ = "authority"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    country_code: Mapped[str] = mapped_column(ForeignKey("country.code"), index=True)
    names: Mapped[dict[str, Any]]
    short: Mapped[dict[str, Any] | None]
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("authority.id"))
    position: Mapped[int] = mapped_column(default=0)


class FacilityType(Base):
    __tablename__ = "facility_type"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    country_code: Mapped[str] = mapped_column(ForeignKey("country.code"), index=True)
    names: Mapped[dict[str, Any]]
    category: Mapped[str] = mapped_column(String(30))
    authority_id: Mapped[int] = mapped_column(ForeignKey("authority.id"))
    norms: Mapped[dict[str, Any]]
    norm_basis: Mapped[dict[str, Any] | None]

    authority: Mapped[Authority] = relationship()


class LegalSource(Base):
    __tablename__ = "legal_source"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    # None for international standards.
    country_code: Mapped[str | None] = mapped_column(ForeignKey("country.code"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    titles: Mapped[dict[str, Any]]
    number: Mapped[str] = mapped_column(String(80), default="")
    adopted_on: Mapped[date | None]
    amended: Mapped[list[Any]]
    articles: Mapped[list[Any]]


class VisitType(Base):
    __tablename__ = "visit_type"
    __table_args__ = (UniqueConstraint("country_code", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    country_code: Mapped[str] = mapped_column(ForeignKey("country.code"))
    code: Mapped[str] = mapped_column(String(40))
    names: Mapped[dict[str, Any]]
    description: Mapped[dict[str, Any] | None]
    position: Mapped[int] = mapped_column(default=0)


class ComplaintCategory(Base):
    __tablename__ = "complaint_category"
    __table_args__ = (UniqueConstraint("country_code", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    country_code: Mapped[str] = mapped_column(ForeignKey("country.code"))
    code: Mapped[str] = mapped_column(String(40))
    names: Mapped[dict[str, Any]]
    weight: Mapped[float] = mapped_column(default=1.0)
    urgent: Mapped[bool] = mapped_column(default=False)


class ComplaintChannel(Base):
    __tablename__ = "complaint_channel"
    __table_args__ = (UniqueConstraint("country_code", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    country_code: Mapped[str] = mapped_column(ForeignKey("country.code"))
    code: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20))
    names: Mapped[dict[str, Any]]
