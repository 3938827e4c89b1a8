"""The registry of places of detention: search, create, edit, figures,
occupancy and nearest facilities."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from npmtool.models import Facility, FacilityFigure, FacilityType, Region, Visit
from npmtool.services import ServiceError, StaleEdit, actor_id, audit
from npmtool.services.geo import bounding_box, check_coordinates, distance_km
from npmtool.services.scope import facility_clause

EDITABLE_FIELDS = ("name", "names", "code", "region_id", "facility_type_id", "address", "lat", "lon",
                   "capacity", "populations", "notes", "is_active")


@dataclass
class FacilityFilters:
    country: str | None = None
    region_id: int | None = None
    type_id: int | None = None
    authority_id: int | None = None
    q: str = ""
    include_inactive: bool = False


def search_text_for(facility: Facility) -> str:
    parts = [facility.code or "", facility.name, facility.address or ""]
    parts.extend((facility.names or {}).values())
    return " ".join(p for p in parts if p).casefold()


def facility_query(user: Any, filters: FacilityFilters) -> Select:
    query = select(Facility).where(facility_clause(user))
    if filters.country:
        query = query.where(Facility.country_code == filters.country)
    if filters.region_id:
        query = query.where(Facility.region_id == filters.region_id)
    if filters.type_id:
        query = query.where(Facility.facility_type_id == filters.type_id)
    if filters.authority_id:
        query = query.where(Facility.authority_id == filters.authority_id)
    if not filters.include_inactive:
        query = query.where(Facility.is_active.is_(True))
    for word in filters.q.casefold().split():
        escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(Facility.search_text.like(f"%{escaped}%", escape="\\"))
    return query


def list_facilities(session: Session, user: Any, filters: FacilityFilters, page: int, per_page: int
                    ) -> tuple[list[Facility], int]:
    """One page of facilities and the total count (two queries, whatever the size)."""
    query = facility_query(user, filters)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = session.scalars(
        query.options(selectinload(Facility.region), selectinload(Facility.facility_type),
                      selectinload(Facility.authority))
        .order_by(Facility.name, Facility.id).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return list(rows), total


def _apply(session: Session, facility: Facility, data: dict[str, Any]) -> None:
    check_coordinates(data.get("lat"), data.get("lon"))
    facility_type = session.get(FacilityType, data["facility_type_id"])
    region = session.get(Region, data["region_id"])
    if facility_type is None or region is None:
        raise ServiceError(_l("Unknown facility type or region."))
    if facility_type.country_code != region.country_code:
        raise ServiceError(_l("The facility type and the region belong to different countries."))
    code = (data.get("code") or "").strip() or None
    if code and session.scalar(select(Facility.id).where(Facility.code == code, Facility.id != facility.id)):
        raise ServiceError(_l("Another facility already has the code %(code)s.", code=code))
    for name in EDITABLE_FIELDS:
        if name in data:
            setattr(facility, name, data[name])
    facility.code = code
    facility.names = dict(data.get("names") or {}) or {"ru": facility.name, "en": facility.name}
    facility.country_code = region.country_code
    facility.authority_id = facility_type.authority_id
    facility.search_text = search_text_for(facility)


def create_facility(session: Session, user: Any, data: dict[str, Any]) -> Facility:
    facility = Facility(populations=[], names={}, created_by_id=actor_id(user), updated_by_id=actor_id(user))
    _apply(session, facility, data)
    session.add(facility)
    session.flush()
    audit.record(session, user, "facility.created", "facility", facility.id, name=facility.name)
    session.commit()
    return facility


def update_facility(session: Session, user: Any, facility: Facility, data: dict[str, Any],
                    expected_version: int) -> Facility:
    """Save an edit made on a form opened at ``expected_version``; refuse it
    if anyone saved in between."""
    if facility.version != expected_version:
        raise StaleEdit(_l("This facility was changed by someone else after you opened the form."))
    before = {name: getattr(facility, name) for name in ("name", "code", "capacity", "lat", "lon", "address")}
    _apply(session, facility, data)
    facility.updated_by_id = actor_id(user)
    changed = {k: [v, getattr(facility, k)] for k, v in before.items() if getattr(facility, k) != v}
    audit.record(session, user, "facility.updated", "facility", facility.id, changed=changed)
    session.commit()
    return facility


def add_figure(session: Session, user: Any, facility: Facility, kind: str, value: int, as_of: date,
               source: str) -> FacilityFigure:
    figure = FacilityFigure(facility=facility, kind=kind, value=value, as_of=as_of, source=source,
                            created_by_id=actor_id(user), updated_by_id=actor_id(user))
    session.add(figure)
    session.flush()
    audit.record(session, user, "facility.figure_added", "facility", facility.id,
                 kind=kind, value=value, as_of=as_of.isoformat(), source=source)
    session.commit()
    return figure


@dataclass
class Occupancy:
    population: FacilityFigure | None
    capacity: int | None
    capacity_source: str
    percent: float | None

    @property
    def overcrowded(self) -> bool:
        return self.percent is not None and self.percent > 100


def occupancy(facility: Facility) -> Occupancy:
    """Latest population against the latest capacity figure (or the
    registry capacity when no capacity figure was recorded)."""
    latest: dict[str, FacilityFigure] = {}
    for figure in facility.figures:  # ordered newest first
        latest.setdefault(figure.kind, figure)
    population = latest.get("population")
    if "capacity" in latest:
        capacity, source = latest["capacity"].value, latest["capacity"].source
    else:
        capacity, source = facility.capacity, "registry"
    percent = None
    if population is not None and capacity:
        percent = round(population.value * 100 / capacity, 1)
    return Occupancy(population, capacity, source, percent)


def nearest_facilities(session: Session, user: Any, lat: float, lon: float, *, limit: int = 5,
                       radius_km: float = 300, exclude_id: int | None = None) -> list[tuple[Facility, float]]:
    """Facilities nearest to a point: an indexed box in SQL, then exact
    geodesic distances with geopy."""
    south, north, west, east = bounding_box(lat, lon, radius_km)
    query = select(Facility).where(
        facility_clause(user), Facility.lat.between(south, north), Facility.lon.between(west, east),
        Facility.is_active.is_(True))
    if exclude_id is not None:
        query = query.where(Facility.id != exclude_id)
    measured = [(f, distance_km((lat, lon), (f.lat, f.lon))) for f in session.scalars(query)]
    measured = [(f, d) for f, d in measured if d <= radius_km]
    return sorted(measured, key=lambda pair: pair[1])[:limit]


def recent_visits(session: Session, facility: Facility, limit: int = 20) -> list[Visit]:
    return list(session.scalars(
        select(Visit).options(selectinload(Visit.team_members)).where(Visit.facility_id == facility.id)
        .order_by(Visit.starts_on.desc()).limit(limit)))


def facility_counts(session: Session, user: Any) -> list[tuple[str, int]]:
    """Active facilities per country, within the user's scope."""
    rows = session.execute(
        select(Facility.country_code, func.count()).where(facility_clause(user), Facility.is_active.is_(True))
        .group_by(Facility.country_code).order_by(Facility.country_code))
    return [(code, count) for code, count in rows]

