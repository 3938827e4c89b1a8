"""Importing facilities from CSV or XLSX: every row is checked first, then
all rows are written in one transaction, or none.

Columns (header names, any order, case-insensitive):
``code, name, name_en, name_kk, name_ky, name_uz, type, region, address,
lat, lon, capacity, populations, population, population_as_of,
population_source, notes``. ``name``, ``type`` and ``region`` are required.
A row whose ``code`` exists updates that facility; other rows add one.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

import csv
import io
import zipfile
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from npmtool.models import Facility, FacilityFigure, FacilityType, Region
from npmtool.models.facilities import POPULATIONS
from npmtool.services import ServiceError, actor_id, audit
from npmtool.services.facilities import search_text_for
from npmtool.services.scope import can_edit_facility, can_see_facility

COLUMNS = ("code", "name", "name_en", "name_kk", "name_ky", "name_uz", "type", "region", "address",
           "lat", "lon", "capacity", "populations", "population", "population_as_of",
           "population_source", "notes")
REQUIRED = ("name", "type", "region")

Progress = Callable[[int], None]


class ImportFileError(ServiceError):
    """The file as a whole cannot be read."""


@dataclass
class RowError:
    row: int  # as the spreadsheet numbers it: the header is row 1
    column: str
    message: str


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def read_rows(filename: str, data: bytes, max_rows: int) -> list[dict[str, str]]:
    """Rows as dicts of the known columns, from CSV or XLSX bytes."""
    if filename.lower().endswith(".xlsx"):
        rows = _read_xlsx(data)
    elif filename.lower().endswith((".csv", ".txt")):
        rows = _read_csv(data)
    else:
        raise ImportFileError(_l("Upload a .csv or .xlsx file."))
    if not rows:
        raise ImportFileError(_l("The file has no header row."))
    header = [str(h or "").strip().lower() for h in rows[0]]
    unknown = [h for h in header if h and h not in COLUMNS]
    if unknown:
        raise ImportFileError(_l("Unknown column(s): %(columns)s. Known columns: %(known)s.", columns=', '.join(unknown), known=', '.join(COLUMNS)))
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ImportFileError(_l("Missing required column(s): %(columns)s.", columns=', '.join(missing)))
    body = [r for r in rows[1:] if any(str(v or "").strip() for v in r)]
    if len(body) > max_rows:
        raise ImportFileError(_l("The file has %(count)s rows; at most %(max_rows)s can be imported at once.", count=len(body), max_rows=max_rows))
    return [{h: ("" if v is None else str(v).strip()) for h, v in zip(header, r) if h} for r in body]


def _read_csv(data: bytes) -> list[list[str]]:
    for encoding in ("utf-8-sig", "cp1251"):  # Excel in Russian saves CP1251
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ImportFileError(_l("The CSV file is neither UTF-8 nor Windows-1251 text."))
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count)
    return [row for row in csv.reader(io.StringIO(text), delimiter=delimiter)]


def _read_xlsx(data: bytes) -> list[list[Any]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ImportFileError(_l("This is not a readable XLSX file (%(error)s).", error=type(exc).__name__)) from None
    try:
        sheet = workbook.worksheets[0]
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def _number(value: str, cast: type, column: str, problems: list[tuple[str, str]]) -> Any:
    if value == "":
        return None
    text = value.replace(",", ".") if cast is float else value
    if cast is int and text.endswith(".0"):
        text = text[:-2]  # spreadsheets hand whole numbers over as floats
    try:
        return cast(text)
    except ValueError:
        if cast is float:
            problems.append((column, _l("%(value)s is not a number", value=repr(value))))
        else:
            problems.append((column, _l("%(value)s is not a whole number", value=repr(value))))
        return None


def check_rows(session: Session, user: Any, rows: list[dict[str, str]],
               progress: Progress | None = None) -> tuple[list[dict[str, Any]], list[RowError]]:
    """Turn every row into facility data, collecting every error; nothing is written."""
    types = {t.code: t for t in session.scalars(select(FacilityType))}
    regions = {r.code: r for r in session.scalars(select(Region))}
    existing = {f.code: f for f in session.scalars(select(Facility).where(Facility.code.is_not(None)))}
    seen_codes: dict[str, int] = {}
    parsed, errors = [], []
    for index, row in enumerate(rows):
        number = index + 2
        problems: list[tuple[str, str]] = []
        for column in REQUIRED:
            if not row.get(column):
                problems.append((column, "is required"))
        facility_type = types.get(row.get("type", ""))
        region = regions.get(row.get("region", ""))
        if row.get("type") and facility_type is None:
            problems.append(("type", _l("unknown facility type %(type)s", type=repr(row['type']))))
        if row.get("region") and region is None:
            problems.append(("region", _l("unknown region %(region)s", region=repr(row['region']))))
        if facility_type and region and facility_type.country_code != region.country_code:
            problems.append(("type", _l("%(type)s is not a facility type of %(country)s", type=row['type'], country=region.country_code)))
        lat = _number(row.get("lat", ""), float, "lat", problems)
        lon = _number(row.get("lon", ""), float, "lon", problems)
        if (lat is None) != (lon is None) and not any(c in ("lat", "lon") for c, _ in problems):
            problems.append(("lat", _l("give both lat and lon, or neither")))
        if lat is not None and not -90 <= lat <= 90:
            problems.append(("lat", _l("%(lat)s is outside -90..90", lat=lat)))
        if lon is not None and not -180 <= lon <= 180:
            problems.append(("lon", _l("%(lon)s is outside -180..180", lon=lon)))
        capacity = _number(row.get("capacity", ""), int, "capacity", problems)
        if capacity is not None and capacity < 0:
            problems.append(("capacity", _l("must not be negative")))
        populations = [p.strip() for p in row.get("populations", "").replace(",", ";").split(";") if p.strip()]
        for p in populations:
            if p not in POPULATIONS:
                problems.append(("populations", _l("%(p)s is not one of %(allowed)s", p=repr(p), allowed=', '.join(POPULATIONS))))
        figure = None
        population = _number(row.get("population", ""), int, "population", problems)
        if population is not None:
            try:
                as_of = date.fromisoformat(row.get("population_as_of", ""))
            except ValueError:
                as_of = None
                problems.append(("population_as_of", _l("a population needs its date, YYYY-MM-DD")))
            if not row.get("population_source"):
                problems.append(("population_source", _l("a population needs its source")))
            if as_of and row.get("population_source"):
                figure = {"kind": "population", "value": population, "as_of": as_of,
                          "source": row["population_source"]}
        code = row.get("code") or None
        target = existing.get(code) if code else None
        if code:
            if code in seen_codes:
                problems.append(("code", _l("%(code)s is also on row %(other_row)s", code=code, other_row=seen_codes[code])))
            seen_codes[code] = number
        if target is not None and not (can_see_facility(user, target) and can_edit_facility(user, target)):
            problems.append(("code", _l("%(code)s belongs to a facility outside your regions", code=code)))
        if region is not None and user.country_code and region.country_code != user.country_code:
            problems.append(("region", _l("%(region)s is outside your country", region=region.code)))
        if region is not None and user.role == "coordinator" and user.region_ids and region.id not in user.region_ids:
            problems.append(("region", _l("%(region)s is outside your regions", region=region.code)))
        errors.extend(RowError(number, column, message) for column, message in problems)
        if not problems:
            names = {"ru": row["name"]}
            for lang in ("en", "kk", "ky", "uz"):
                if row.get(f"name_{lang}"):
                    names[lang] = row[f"name_{lang}"]
            names.setdefault("en", row["name"])
            parsed.append({"target": target, "code": code, "name": row["name"], "names": names,
                           "facility_type": facility_type, "region": region, "address": row.get("address", ""),
                           "lat": lat, "lon": lon, "capacity": capacity, "populations": populations,
                           "notes": row.get("notes", ""), "figure": figure})
        if progress:
            progress(1)
    return parsed, errors


def import_facilities(session: Session, user: Any, filename: str, data: bytes, *, max_rows: int = 20000,
                      progress: Progress | None = None, dry_run: bool = False) -> ImportReport:
    """Check every row, then import all of them in one transaction or none."""
    rows = read_rows(filename, data, max_rows)
    report = ImportReport(rows=len(rows))
    parsed, report.errors = check_rows(session, user, rows, progress)
    if report.errors or dry_run:
        session.rollback()
        if not report.errors:
            report.created = sum(1 for p in parsed if p["target"] is None)
            report.updated = len(parsed) - report.created
        return report
    for entry in parsed:
        facility = entry["target"]
        if facility is None:
            facility = Facility(created_by_id=actor_id(user))
            session.add(facility)
            report.created += 1
        else:
            report.updated += 1
        facility.code = entry["code"]
        facility.name = entry["name"]
        facility.names = entry["names"]
        facility.country_code = entry["region"].country_code
        facility.region_id = entry["region"].id
        facility.facility_type_id = entry["facility_type"].id
        facility.authority_id = entry["facility_type"].authority_id
        facility.address = entry["address"]
        facility.lat, facility.lon = entry["lat"], entry["lon"]
        facility.capacity = entry["capacity"]
        facility.populations = entry["populations"]
        facility.notes = entry["notes"]
        facility.updated_by_id = actor_id(user)
        facility.search_text = search_text_for(facility)
        if entry["figure"]:
            facility.figures.append(FacilityFigure(**entry["figure"], created_by_id=actor_id(user),
                                                   updated_by_id=actor_id(user)))
    session.flush()
    audit.record(session, user, "facility.imported", "facility", None, filename=filename,
                 created=report.created, updated=report.updated)
    session.commit()
    return report


def template_csv() -> str:
    """An example file people can fill in."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerow(["", "ИВС ОП г. Талас", "Temporary detention facility, Talas", "", "", "", "KG-IVS", "KG-T",
                     "Talas", "42.5228", "72.2427", "20", "men;women", "14", "2026-10-01",
                     "monitoring visit", ""])
    return out.getvalue()

