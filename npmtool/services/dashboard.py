"""The coordinating council's dashboard: aggregates computed in SQL.

On PostgreSQL the breakdowns, periods and ageing buckets come from one scan
of the period's rows (GROUPING SETS over the covering index
ix_recommendation_issued_on), the median from a second one (the partial index
on implemented_on); SQLite, which has no GROUPING SETS, runs one GROUP BY per
figure. Either way the page costs the same queries for five recommendations
or 500,000. Each figure carries the list filters that reproduce it
(drill-down), built with the same RecommendationFilters the list reads.

``data_generation`` is the cheap value the web layer keys its figure cache
with, so that cached figures are never older than the data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Integer, and_, case, cast, extract, func, select, text, tuple_
from sqlalchemy.orm import Session

from npmtool.models import Authority, FacilityType, Recommendation, RecommendationEvent, Region
from npmtool.models.recommendations import PRIORITIES, TOPICS
from npmtool.services.recommendation_queries import RecommendationFilters, filter_clauses
from npmtool.i18n import tr

GRANULARITIES = ("year", "quarter")
DIMENSIONS = ("region", "authority", "facility_type", "topic", "priority")
# Months since issue (open items) and months past the deadline (overdue ones).
AGE_BUCKETS = ((0, 3), (3, 6), (6, 12), (12, 24), (24, None))


@dataclass
class Counts:
    total: int = 0
    open: int = 0
    overdue: int = 0
    implemented: int = 0


@dataclass
class GroupRow:
    key: Any
    label: str
    counts: Counts
    # Filters reproducing this row in the list.
    filters: RecommendationFilters


@dataclass
class PeriodRow:
    key: tuple[int, int]
    label: str
    start: date
    end: date
    issued: int = 0
    implemented: int = 0
    median_days: float | None = None
    implemented_in_period: int = 0

    @property
    def rate(self) -> float | None:
        return self.implemented / self.issued if self.issued else None


@dataclass
class AgeRow:
    label: str
    count: int
    filters: RecommendationFilters


@dataclass
class Dashboard:
    base: RecommendationFilters
    counts: Counts
    groups: dict[str, list[GroupRow]]
    periods: list[PeriodRow]
    age_open: list[AgeRow]
    age_overdue: list[AgeRow]
    granularity: str
    start: date
    end: date
    notes: list[str] = field(default_factory=list)


def months_before(day: date, months: int) -> date:
    """The same day ``months`` earlier (the month's last day if shorter)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _sums(today: date) -> list:
    """count(*) FILTER (WHERE …): PostgreSQL and SQLite (3.30+) both have it,
    and it is cheaper than SUM(CASE …)."""
    rec = Recommendation
    return [func.count(), func.count().filter(rec.status == "open"),
            func.count().filter(and_(rec.status == "open", rec.current_deadline < today)),
            func.count().filter(rec.assessment == "implemented")]


def _counts(row) -> Counts:
    return Counts(*(int(v or 0) for v in row))


def _period_key(column, granularity: str):
    """(year, quarter) of a date column, computed the same on SQLite and
    PostgreSQL (extract() compiles to strftime() on SQLite)."""
    year = cast(extract("year", column), Integer)
    if granularity == "year":
        return year, None
    return year, (cast(extract("month", column), Integer) + 2) // 3


def _periods(start: date, end: date, granularity: str) -> list[PeriodRow]:
    rows = []
    for year in range(start.year, end.year + 1):
        if granularity == "year":
            rows.append(PeriodRow((year, 0), str(year), date(year, 1, 1), date(year, 12, 31)))
            continue
        for quarter in range(1, 5):
            first = date(year, quarter * 3 - 2, 1)
            following = date(year + 1, 1, 1) if quarter == 4 else date(year, quarter * 3 + 1, 1)
            last = following - timedelta(days=1)
            if last >= start and first <= end:
                rows.append(PeriodRow((year, quarter), f"{year} Q{quarter}", first, last))
    return rows


def _median_days(session: Session, clauses: list, period_columns: list) -> dict[tuple, float]:
    """Median of implemented_on − issued_on per period, from how many items
    took each number of days: one GROUP BY (period, days) on both engines,
    hashed rather than sorted, returning at most a few thousand rows
    whatever the size (periods × distinct durations)."""
    rec = Recommendation
    clauses = clauses + [rec.implemented_on.is_not(None)]
    if session.get_bind().dialect.name == "postgresql":
        days = rec.implemented_on - rec.issued_on  # an integer number of days
    else:
        days = cast(func.julianday(rec.implemented_on) - func.julianday(rec.issued_on), Integer)
    histograms: dict[tuple, dict[int, int]] = {}
    for row in session.execute(select(*period_columns, days, func.count()).where(*clauses)
                               .group_by(*period_columns, days)):
        key = tuple(int(v or 0) for v in row[:-2])
        histograms.setdefault(key, {})[int(row[-2])] = int(row[-1])
    return {key: _median(histogram) for key, histogram in histograms.items()}


def _median(histogram: dict[int, int]) -> float:
    """The median of values given as {value: how many times}."""
    size = sum(histogram.values())
    middle = [(size - 1) // 2, size // 2]  # the same position twice when size is odd
    found, seen = [], 0
    for value in sorted(histogram):
        seen += histogram[value]
        while middle and middle[0] < seen:
            found.append(value)
            middle.pop(0)
    return (found[0] + found[1]) / 2


def build_dashboard(session: Session, user: Any, *, country: str | None, start: date, end: date,
                    granularity: str = "year", today: date | None = None,
                    names: dict[str, Any] | None = None) -> Dashboard:
    """Figures for recommendations issued between ``start`` and ``end`` that
    the user may read. ``names`` turns codes into labels ({"topic": {code:
    label}, "priority": {…}}); region, authority and type names come from
    the reference tables."""
    today = today or date.today()
    names = names or {}
    rec = Recommendation
    base = RecommendationFilters(country=country, issued_from=start, issued_to=end)
    clauses = filter_clauses(user, base, today)
    sums = _sums(today)

    columns = {"region": rec.region_id, "authority": rec.authority_id, "facility_type": rec.facility_type_id,
               "topic": rec.topic, "priority": rec.priority}
    year, quarter = _period_key(rec.issued_on, granularity)
    period_columns = [year] if quarter is None else [year, quarter]
    if session.get_bind().dialect.name == "postgresql":
        raw, period_rows, age_values = _one_scan(session, clauses, sums, columns, period_columns, today)
    else:
        raw = {dim: session.execute(select(col, *sums).where(*clauses).group_by(col)).all()
               for dim, col in columns.items()}
        period_rows = [(tuple(row[:-2]), row[-2], row[-1]) for row in session.execute(
            select(*period_columns, func.count(), sums[3]).where(*clauses).group_by(*period_columns))]
        age_values = _age_values(session, clauses, today)
    labels = _reference_labels(session, raw)
    labels["topic"] = {code: str(names.get("topic", {}).get(code, code)) for code in TOPICS}
    labels["priority"] = {code: str(names.get("priority", {}).get(code, code)) for code in PRIORITIES}
    groups: dict[str, list[GroupRow]] = {}
    for dim, rows in raw.items():
        groups[dim] = []
        for row in rows:
            key = row[0]
            if key is None:  # systemic items have no region or facility type
                filters = RecommendationFilters(**{**_fields(base), "systemic": True})
                label = str(names.get("none", "—"))
            else:
                filters = RecommendationFilters(**{**_fields(base), dim: key})
                label = labels[dim].get(key, str(key))
            groups[dim].append(GroupRow(key, label, _counts(row[1:]), filters))
        order = list(PRIORITIES)[::-1] if dim == "priority" else None
        groups[dim].sort(key=(lambda g: order.index(g.key)) if order else (lambda g: (-g.counts.open, g.label)))

    # Every item has a priority: the priority rows add up to the totals.
    counts = Counts()
    for row in groups["priority"]:
        for name in ("total", "open", "overdue", "implemented"):
            setattr(counts, name, getattr(counts, name) + getattr(row.counts, name))

    periods = _periods(start, end, granularity)
    by_key = {p.key: p for p in periods}
    for period, issued, implemented in period_rows:
        key = (int(period[0]), int(period[1]) if quarter is not None else 0)
        if key in by_key:
            by_key[key].issued, by_key[key].implemented = int(issued), int(implemented or 0)

    # Time to implementation is grouped by when it was implemented, over
    # everything the user may read in the country (not only items issued in
    # the window: an item of 2019 implemented in 2024 counts for 2024).
    impl_clauses = filter_clauses(user, RecommendationFilters(country=country), today) + [
        rec.implemented_on >= start, rec.implemented_on <= end]
    year, quarter = _period_key(rec.implemented_on, granularity)
    period_columns = [year] if quarter is None else [year, quarter]
    for key, median in _median_days(session, impl_clauses, period_columns).items():
        key = key if quarter is not None else (key[0], 0)
        if key in by_key:
            by_key[key].median_days = median

    age_open, age_overdue = _ageing(age_values, base, today)
    return Dashboard(base, counts, groups, periods, age_open, age_overdue, granularity, start, end)


def _fields(filters: RecommendationFilters) -> dict[str, Any]:
    return {k: v for k, v in vars(filters).items() if k != "errors"}


def _reference_labels(session: Session, raw: dict[str, list]) -> dict[str, dict]:
    labels: dict[str, dict] = {}
    for dim, model in (("region", Region), ("authority", Authority), ("facility_type", FacilityType)):
        ids = [row[0] for row in raw[dim] if row[0] is not None]
        rows = session.execute(select(model.id, model.names).where(model.id.in_(ids))).all() if ids else []
        labels[dim] = {row.id: tr(row.names) for row in rows}
    return labels


def _bucket_label(low: int, high: int | None) -> str:
    return f"{low}–{high}" if high is not None else f"> {low}"


def _age_buckets(today: date) -> list[tuple[str, int, int | None, date, date | None]]:
    """(kind, low, high, upper, lower) per bucket: open items issued — or
    overdue ones due — in (lower, upper]; the first bucket ends today."""
    return [(kind, low, high, months_before(today, low), months_before(today, high) if high is not None else None)
            for kind in ("issued", "deadline") for low, high in AGE_BUCKETS]


def _age_values(session: Session, clauses: list, today: date) -> list[int]:
    """Open items per ageing bucket: one query with a filtered count per bucket."""
    rec = Recommendation
    columns = []
    for kind, low, _high, upper, lower in _age_buckets(today):
        column = rec.issued_on if kind == "issued" else rec.current_deadline
        condition = [column <= upper if low else column <= today]
        if kind == "deadline":
            condition.append(column < today)
        if lower is not None:
            condition.append(column > lower)
        columns.append(func.count().filter(and_(*condition)))
    return [int(v or 0) for v in session.execute(select(*columns).where(*clauses, rec.status == "open")).one()]


def _age_bucket(column, today: date, overdue: bool):
    """The index of an open item's ageing bucket by ``column`` (NULL when it
    is in none), for GROUP BY: the buckets of _age_buckets, consecutive."""
    rec = Recommendation
    whens = [(rec.status != "open", None), ((column >= today) if overdue else (column > today), None)]
    for n, (kind, _low, _high, _upper, lower) in enumerate(_age_buckets(today)[:len(AGE_BUCKETS)]):
        whens.append((column > lower, n) if lower is not None else (True, n))
    return case(*whens[:-1], else_=whens[-1][1])


def _one_scan(session: Session, clauses: list, sums: list, columns: dict[str, Any], period_columns: list,
              today: date):
    """PostgreSQL: every breakdown, the periods and the ageing buckets from
    one scan of the period's rows. Three GROUPING SETS — place (region, type,
    authority), (topic, priority) and (period, ageing buckets) — each summed
    here into its figures: every set costs a hash lookup per row, so fewer,
    wider sets are faster than one per figure. GROUPING() of all keys says
    which set a row belongs to (a bit per key left out)."""
    rec = Recommendation
    issued_bucket = _age_bucket(rec.issued_on, today, overdue=False)
    deadline_bucket = _age_bucket(rec.current_deadline, today, overdue=True)
    place = [columns["region"], columns["facility_type"], columns["authority"]]
    sets = [place, [columns["topic"], columns["priority"]], [*period_columns, issued_bucket, deadline_bucket]]
    keys = [key for cols in sets for key in cols]
    masks, position = {}, 0
    for n, cols in enumerate(sets):
        grouped = range(position, position + len(cols))
        masks[sum(1 << (len(keys) - 1 - i) for i in range(len(keys)) if i not in grouped)] = n
        position += len(cols)
    query = (select(func.grouping(*keys), *keys, *sums).where(*clauses)
             .group_by(func.grouping_sets(*[tuple_(*cols) for cols in sets])))
    # The planner takes the place set for tens of thousands of groups (the
    # product of the three columns' distinct values; a few hundred in fact)
    # and would sort 250,000 rows on disk instead of hashing them.
    session.execute(text("SET LOCAL work_mem = '32MB'"))
    figures: dict[str, dict] = {dim: {} for dim in columns}
    periods: dict[tuple, list[int]] = {}
    age_values = [0] * (2 * len(AGE_BUCKETS))

    def add(target: dict, key: Any, values) -> None:
        total = target.setdefault(key, [0, 0, 0, 0])
        for i, value in enumerate(values):
            total[i] += int(value or 0)

    width = len(period_columns)
    for row in session.execute(query):
        n, values = masks[row[0]], row[1 + len(keys):]
        if n == 0:
            region, facility_type, authority = row[1:4]
            add(figures["region"], region, values)
            add(figures["facility_type"], facility_type, values)
            add(figures["authority"], authority, values)
        elif n == 1:
            add(figures["topic"], row[4], values)
            add(figures["priority"], row[5], values)
        else:
            period = tuple(row[6:6 + width])
            add(periods, period, values)
            issued, deadline = row[6 + width], row[7 + width]
            if issued is not None:
                age_values[int(issued)] += int(values[0] or 0)
            if deadline is not None:
                age_values[len(AGE_BUCKETS) + int(deadline)] += int(values[0] or 0)
    raw = {dim: [(key, *counts) for key, counts in found.items()] for dim, found in figures.items()}
    period_rows = [(key, counts[0], counts[3]) for key, counts in periods.items()]
    return raw, period_rows, age_values


def _ageing(values: list[int], base: RecommendationFilters, today: date):
    """Open items by months since issue, and overdue ones by months past the
    deadline, each with the list filters reproducing it."""
    age_open, age_overdue = [], []
    for (kind, low, high, upper, lower), value in zip(_age_buckets(today), values):
        fields_ = _fields(base) | {"status": "open"}
        if kind == "issued":
            # issued_on in (lower, upper]; issued_from is inclusive.
            fields_["issued_from"] = max(filter(None, [base.issued_from, _next_day(lower)]), default=None)
            fields_["issued_to"] = min(filter(None, [base.issued_to, upper]))
            age_open.append(AgeRow(_bucket_label(low, high), value, RecommendationFilters(**fields_)))
        else:
            fields_.update(overdue=True, deadline_from=_next_day(lower),
                           deadline_to=upper if low else None)
            age_overdue.append(AgeRow(_bucket_label(low, high), value, RecommendationFilters(**fields_)))
    return age_open, age_overdue


def _next_day(day: date | None) -> date | None:
    return date.fromordinal(day.toordinal() + 1) if day else None


# The newest this many event ids are summed: a change committed late (with a
# lower id than one already visible) still changes the sum.
LATE_COMMIT_WINDOW = 1000


def data_generation(session: Session) -> tuple:
    """A value that changes whenever any recommendation changes: every change
    appends a RecommendationEvent (services.recommendations), creation
    included. One statement reading the ends of two primary keys, whatever
    the size: the newest event id, the sum of the newest event ids and the
    newest recommendation id."""
    newest = (select(RecommendationEvent.id).order_by(RecommendationEvent.id.desc())
              .limit(LATE_COMMIT_WINDOW).subquery())
    row = session.execute(select(func.max(newest.c.id), func.sum(newest.c.id),
                                 select(func.max(Recommendation.id)).scalar_subquery())).one()
    return tuple(row)
