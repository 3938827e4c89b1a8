"""One filter builder for every view of many recommendations: the list, its
exports, bulk actions and the council dashboard's drill-down links all read
the same query arguments, so a number on the dashboard and the list it links
to can never disagree."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any, Iterator, Mapping

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, String, case, cast, func, or_, select
from sqlalchemy.orm import Session, load_only, selectinload

from npmtool.models import Authority, Facility, Recommendation
from npmtool.models.recommendations import (
    ASSESSMENTS,
    PRIORITIES,
    PRIORITY_FLAGS,
    RECOMMENDATION_STATUSES,
    RESPONSE_KINDS,
    TOPICS,
    recommendation_facility,
)
from npmtool.services.recommendation_access import recommendation_clause

SORTS = ("deadline", "-deadline", "issued", "-issued", "priority", "reference")
# Counting every match of a broad filter over 500,000 rows costs more than
# the page itself; beyond this the list says "more than N".
COUNT_CAP = 10_000
# "none" as a response filter: no response recorded yet.
NO_RESPONSE = "none"
REFERENCE = re.compile(r"^[A-Za-z]{2}-\d{4}-\d{5}$")


@dataclass
class RecommendationFilters:
    country: str | None = None
    region: int | None = None
    authority: int | None = None
    facility_type: int | None = None
    facility: int | None = None
    # Words of a facility's name (or code, address), for scopes with too many
    # facilities to offer in a list.
    facility_name: str = ""
    topic: str | None = None
    priority: str | None = None
    flag: str | None = None
    status: str | None = None
    assessment: str | None = None
    response: str | None = None
    overdue: bool = False
    repeated: bool = False
    systemic: bool = False
    deadline_from: date | None = None
    deadline_to: date | None = None
    issued_from: date | None = None
    issued_to: date | None = None
    q: str = ""
    sort: str = "deadline"
    # Values that could not be read, for the form to show with a message.
    errors: list[str] = field(default_factory=list, compare=False)

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> RecommendationFilters:
        """Read query arguments; a bad value is dropped and reported, never
        silently widened into "everything" without saying so."""
        filters = cls()
        choices = {"topic": TOPICS, "priority": PRIORITIES, "flag": PRIORITY_FLAGS,
                   "status": RECOMMENDATION_STATUSES, "assessment": ASSESSMENTS,
                   "response": RESPONSE_KINDS + (NO_RESPONSE,), "sort": SORTS}
        filters.country = (args.get("country") or "").strip().upper()[:2] or None
        for name in ("region", "authority", "facility_type", "facility"):
            value = (args.get(name) or "").strip()
            if value.isdigit():
                setattr(filters, name, int(value))
            elif value:
                filters.errors.append(str(_l("Unknown value for %(name)s.", name=name)))
        for name, allowed in choices.items():
            value = (args.get(name) or "").strip()
            if value in allowed:
                setattr(filters, name, value)
            elif value:
                filters.errors.append(str(_l("Unknown value for %(name)s.", name=name)))
        for name in ("overdue", "repeated", "systemic"):
            setattr(filters, name, args.get(name) == "1")
        for name in ("deadline_from", "deadline_to", "issued_from", "issued_to"):
            value = (args.get(name) or "").strip()
            if not value:
                continue
            try:
                setattr(filters, name, date.fromisoformat(value))
            except ValueError:
                filters.errors.append(str(_l("%(value)s is not a date (use YYYY-MM-DD).", value=value)))
        filters.q = (args.get("q") or "").strip()[:200]
        filters.facility_name = " ".join((args.get("facility_name") or "").split())[:100]
        return filters

    def to_args(self, **changes: Any) -> dict[str, str]:
        """Query arguments for a link to this selection (dashboard drill-down,
        pagination, exports)."""
        args: dict[str, str] = {}
        for f in fields(self):
            if f.name == "errors":
                continue
            value = changes.get(f.name, getattr(self, f.name))
            if value in (None, "", False) or (f.name == "sort" and value == "deadline"):
                continue
            args[f.name] = "1" if value is True else (value.isoformat() if isinstance(value, date) else str(value))
        return args


def filter_clauses(user: Any, filters: RecommendationFilters, today: date | None = None) -> list:
    """WHERE clauses for the user's scope and the chosen filters."""
    today = today or date.today()
    rec = Recommendation
    clauses = [recommendation_clause(user)]
    if filters.country:
        clauses.append(rec.country_code == filters.country)
    if filters.region:
        clauses.append(rec.region_id == filters.region)
    if filters.authority:
        clauses.append(rec.authority_id == filters.authority)
    if filters.facility_type:
        clauses.append(rec.facility_type_id == filters.facility_type)
    if filters.facility:
        clauses.append(rec.id.in_(select(recommendation_facility.c.recommendation_id)
                                  .where(recommendation_facility.c.facility_id == filters.facility)))
    if filters.facility_name:
        # Every word in the facility's search text, as the facility register searches.
        words = [Facility.search_text.like("%" + _escape_like(word) + "%", escape="\\")
                 for word in filters.facility_name.casefold().split()]
        clauses.append(rec.id.in_(select(recommendation_facility.c.recommendation_id)
                                  .join(Facility, Facility.id == recommendation_facility.c.facility_id)
                                  .where(*words)))
    for name in ("topic", "priority", "status", "assessment"):
        value = getattr(filters, name)
        if value:
            clauses.append(getattr(rec, name) == value)
    if filters.flag:
        # The flag list is JSON (JSONB on PostgreSQL); its text form holds
        # each flag quoted on both engines, and no flag is part of another.
        clauses.append(cast(rec.priority_flags, String).like(f'%"{filters.flag}"%'))
    if filters.response == NO_RESPONSE:
        clauses.append(rec.response_kind.is_(None))
    elif filters.response:
        clauses.append(rec.response_kind == filters.response)
    if filters.overdue:
        clauses.extend(overdue_clauses(today))
    if filters.repeated:
        clauses.append(rec.repeated.is_(True))
    if filters.systemic:
        clauses.append(rec.systemic.is_(True))
    if filters.deadline_from:
        clauses.append(rec.current_deadline >= filters.deadline_from)
    if filters.deadline_to:
        clauses.append(rec.current_deadline <= filters.deadline_to)
    if filters.issued_from:
        clauses.append(rec.issued_on >= filters.issued_from)
    if filters.issued_to:
        clauses.append(rec.issued_on <= filters.issued_to)
    if filters.q and REFERENCE.match(filters.q):
        # A whole reference: the unique index answers at once.
        clauses.append(rec.reference == filters.q.upper())
    elif filters.q:
        # Substring search reads every row the other filters leave (about a
        # second over 500,000 on PostgreSQL): narrow by country or region first.
        pattern = "%" + _escape_like(filters.q) + "%"
        clauses.append(or_(rec.reference.ilike(pattern, escape="\\"), rec.text.ilike(pattern, escape="\\")))
    return clauses


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def overdue_clauses(today: date) -> list:
    return [Recommendation.status == "open", Recommendation.current_deadline < today]


def is_overdue(rec: Recommendation, today: date | None = None) -> bool:
    return rec.status == "open" and rec.current_deadline < (today or date.today())


def _order(sort: str) -> list:
    rec = Recommendation
    if sort == "-deadline":
        return [rec.current_deadline.desc(), rec.id.desc()]
    if sort == "issued":
        return [rec.issued_on, rec.id]
    if sort == "-issued":
        return [rec.issued_on.desc(), rec.id.desc()]
    if sort == "priority":
        rank = case({"urgent": 0, "high": 1}, value=rec.priority, else_=2)
        return [rank, rec.current_deadline, rec.id]
    if sort == "reference":
        return [rec.reference]
    return [rec.current_deadline, rec.id]


def recommendation_query(user: Any, filters: RecommendationFilters, today: date | None = None) -> Select:
    """SELECT Recommendation … in the filters' order, related rows eager-loaded."""
    return (select(Recommendation).where(*filter_clauses(user, filters, today))
            .options(selectinload(Recommendation.authority), selectinload(Recommendation.facilities))
            .order_by(*_order(filters.sort)))


# What a row of the list shows: the rest (legal basis, flags, history) stays
# in the database.
LIST_COLUMNS = ("reference", "country_code", "authority_id", "text", "topic", "priority", "systemic", "repeated",
                "issued_on", "initial_deadline", "current_deadline", "response_kind", "assessment", "status",
                "version")


def _list_options() -> list:
    rec = Recommendation
    return [load_only(*(getattr(rec, name) for name in LIST_COLUMNS)),
            selectinload(rec.authority).load_only(Authority.names, Authority.short),
            selectinload(rec.facilities).load_only(Facility.name, Facility.names)]


@dataclass
class Page:
    rows: list[Recommendation]
    page: int
    per_page: int
    # Exact up to COUNT_CAP; ``capped`` says the true number is larger.
    total: int
    capped: bool

    @property
    def pages(self) -> int:
        return max((self.total + self.per_page - 1) // self.per_page, 1)

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def list_page(session: Session, user: Any, filters: RecommendationFilters, page: int, per_page: int,
              today: date | None = None) -> Page:
    """One page and a capped count: four queries whatever the size (count,
    rows, authorities, facilities)."""
    clauses = filter_clauses(user, filters, today)
    limited = select(Recommendation.id).where(*clauses).limit(COUNT_CAP + 1).subquery()
    total = session.scalar(select(func.count()).select_from(limited)) or 0
    capped = total > COUNT_CAP
    total = min(total, COUNT_CAP)
    pages = max((total + per_page - 1) // per_page, 1)
    page = min(max(page, 1), pages)
    rows = session.scalars(select(Recommendation).where(*clauses).options(*_list_options())
                           .order_by(*_order(filters.sort)).limit(per_page).offset((page - 1) * per_page)).all()
    return Page(list(rows), page, per_page, total, capped)


def selected(session: Session, user: Any, ids: list[int]) -> list[Recommendation]:
    """The chosen recommendations the user may read (bulk actions); the
    others are reported by the caller as not found."""
    if not ids:
        return []
    return list(session.scalars(
        select(Recommendation).where(Recommendation.id.in_(ids), recommendation_clause(user))
        .options(selectinload(Recommendation.authority)).order_by(Recommendation.reference)))


def iter_rows(session: Session, user: Any, filters: RecommendationFilters, today: date | None = None,
              chunk: int = 500) -> Iterator[Recommendation]:
    """Every match, fetched in chunks so an export of 500,000 rows never
    holds them all in memory; facilities are loaded per chunk."""
    query = recommendation_query(user, filters, today).execution_options(yield_per=chunk)
    for rec in session.scalars(query):
        yield rec


# -- exports ---------------------------------------------------------------------------
# The columns of a filtered list as a spreadsheet. Deliberately no findings,
# interview codes or complaint data: an export leaves the system.

def export_header() -> list[str]:
    return [str(h) for h in (
        _l("Reference"), _l("Country"), _l("Authority"), _l("Facilities"), _l("Topic"), _l("Priority"),
        _l("Priority flags"), _l("Issued"), _l("Initial deadline"), _l("Current deadline"), _l("Overdue"),
        _l("Authority's response"), _l("NPM assessment"), _l("Status"), _l("Text"))]


def export_row(rec: Recommendation, today: date) -> list[Any]:
    from npmtool import labels
    from npmtool.i18n import tr

    def label(mapping: dict, code: str | None) -> str:
        return str(mapping.get(code, code)) if code else ""

    return [rec.reference, rec.country_code, tr(rec.authority.names),
            "; ".join(tr(f.names) or f.name for f in rec.facilities),
            label(labels.TOPIC_LABELS, rec.topic), label(labels.PRIORITY_LABELS, rec.priority),
            "; ".join(label(labels.PRIORITY_FLAG_LABELS, f) for f in rec.priority_flags or []),
            rec.issued_on, rec.initial_deadline, rec.current_deadline,
            str(_l("yes")) if is_overdue(rec, today) else "",
            label(labels.RESPONSE_KIND_LABELS, rec.response_kind),
            label(labels.ASSESSMENT_LABELS, rec.assessment),
            label(labels.RECOMMENDATION_STATUS_LABELS, rec.status), rec.text]


def _not_a_formula(value: Any) -> Any:
    """Spreadsheet programs run a CSV cell starting with = + - @ as a
    formula; texts come from outside (authorities' letters), so quote them."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def export_csv(session: Session, user: Any, filters: RecommendationFilters,
               today: date | None = None) -> Iterator[str]:
    """CSV text, one chunk per row, for a streamed response."""
    import csv
    import io

    today = today or date.today()
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate(0)
        return text

    buffer.write("\ufeff")  # so spreadsheet programs read UTF-8 (Cyrillic) right
    writer.writerow(export_header())
    yield flush()
    for rec in iter_rows(session, user, filters, today):
        writer.writerow([v.isoformat() if isinstance(v, date) else _not_a_formula(v)
                         for v in export_row(rec, today)])
        yield flush()


def export_xlsx(session: Session, user: Any, filters: RecommendationFilters, target: Any,
                today: date | None = None) -> None:
    """Write an XLSX workbook to ``target`` (a path or binary file). openpyxl's
    write-only mode keeps one row at a time in memory."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    today = today or date.today()
    book = Workbook(write_only=True)
    sheet = book.create_sheet(str(_l("Recommendations"))[:31])
    sheet.freeze_panes = "A2"
    header = []
    for title in export_header():
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = Font(bold=True)
        header.append(cell)
    sheet.append(header)
    for rec in iter_rows(session, user, filters, today):
        row = []
        for value in export_row(rec, today):
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, date):
                cell.number_format = "yyyy-mm-dd"
            elif isinstance(value, str):
                cell.data_type = "s"  # text typed as "=…" stays text, never a formula
            row.append(cell)
        sheet.append(row)
    book.save(target)
