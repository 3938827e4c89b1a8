"""The coordinating council's dashboard and meeting pack. Figures come from
services.dashboard; every number links to the list that reproduces it."""

from __future__ import annotations

import tempfile
import threading
import time
from datetime import date

from flask import Blueprint, Response, abort, current_app, flash, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from npmtool import labels
from npmtool.extensions import db
from npmtool.i18n import tr
from npmtool.models import Country
from npmtool.models.users import SCOPED_ROLES
from npmtool.services import meeting_pack as pack_service
from npmtool.services.charts import Bar, Point, bar_chart, line_chart
from npmtool.services.dashboard import GRANULARITIES, build_dashboard, data_generation
from npmtool.web.access import allow

bp = Blueprint("council", __name__, url_prefix="/council")

ROLES = ("admin", "coordinator", "council")
MAX_YEARS = 15


def _countries() -> list[Country]:
    query = select(Country).order_by(Country.code)
    if current_user.country_code:
        query = query.where(Country.code == current_user.country_code)
    return list(db.session.scalars(query))


def _country(countries: list[Country]) -> str | None:
    code = (request.args.get("country") or "").strip().upper()
    if current_user.country_code:
        return current_user.country_code
    return code if code in {c.code for c in countries} else None


def _year(name: str, default: int) -> int:
    value = (request.args.get(name) or "").strip()
    if not value:
        return default
    if value.isdigit() and 1990 <= int(value) <= 2100:
        return int(value)
    flash(_("%(value)s is not a year; showing %(default)s.", value=value, default=default), "error")
    return default


# Aggregating 500,000 recommendations takes a few hundred milliseconds on
# PostgreSQL, so the figures are kept — per app (app.extensions), keyed by the
# data's generation (services.dashboard.data_generation: any change to a
# recommendation moves it) and by everything else that changes them (scope,
# filters, day, language). A view after a change therefore always recomputes;
# DASHBOARD_CACHE_SECONDS (0 = no cache) only bounds how long figures of
# unchanged data are kept, for what no event records (renamed regions).
CACHE_SIZE = 200


class FigureCache:
    """The dashboards of one data generation; a new generation drops them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.generation: object = None
        self.entries: dict[tuple, tuple[float, object]] = {}

    def get(self, generation: object, key: tuple):
        with self.lock:
            if generation != self.generation:
                self.generation, self.entries = generation, {}
                return None
            hit = self.entries.get(key)
        return hit[1] if hit is not None and hit[0] > time.monotonic() else None

    def put(self, generation: object, key: tuple, value: object, seconds: float) -> None:
        with self.lock:
            if generation != self.generation:
                return  # the data changed meanwhile: the next view recomputes
            if len(self.entries) >= CACHE_SIZE:
                self.entries.clear()
            self.entries[key] = (time.monotonic() + seconds, value)

    def clear(self) -> None:
        with self.lock:
            self.generation, self.entries = None, {}


def figure_cache(app) -> FigureCache:
    return app.extensions.setdefault("npmtool_dashboard_figures", FigureCache())


def _cached(key: tuple, build):
    seconds = current_app.config.get("DASHBOARD_CACHE_SECONDS", 0 if current_app.testing else 600)
    if not seconds:
        return build()
    cache = figure_cache(current_app)
    generation = data_generation(db.session)
    value = cache.get(generation, key)
    if value is None:
        value = build()
        cache.put(generation, key, value, seconds)
    return value


def list_url(filters, **changes) -> str:
    return url_for("recommendation_list.index", **filters.to_args(**changes))


@bp.route("/")
@allow(*ROLES)
def dashboard():
    countries = _countries()
    country = _country(countries)
    today = date.today()
    year_to = _year("to", today.year)
    year_from = _year("from", year_to - 4)
    if year_from > year_to:
        flash(_("The first year comes after the last; they were swapped."), "warning")
        year_from, year_to = year_to, year_from
    if year_to - year_from >= MAX_YEARS:
        flash(_("At most %(count)s years are shown at once.", count=MAX_YEARS), "warning")
        year_from = year_to - MAX_YEARS + 1
    granularity = request.args.get("by") if request.args.get("by") in GRANULARITIES else "year"
    board = _cached(
        (current_user.role, current_user.country_code,
         tuple(sorted(current_user.region_ids)) if current_user.role in SCOPED_ROLES else (),
         country, year_from, year_to, granularity, today, str(get_locale())),
        lambda: build_dashboard(
            db.session, current_user, country=country, start=date(year_from, 1, 1), end=date(year_to, 12, 31),
            granularity=granularity, today=today,
            names={"topic": labels.TOPIC_LABELS, "priority": labels.PRIORITY_LABELS,
                   "none": _("Systemic (no facility)")}))

    dimension_titles = {"region": _("By region"), "authority": _("By authority"),
                        "facility_type": _("By type of facility"), "topic": _("By topic"),
                        "priority": _("By priority")}
    charts = {dim: bar_chart([Bar(row.label, row.counts.open, list_url(row.filters, status="open"))
                              for row in rows], _("Open recommendations, %(what)s", what=dimension_titles[dim].lower()))
              for dim, rows in board.groups.items()}
    periods = board.periods
    rate_chart = line_chart([Point(p.label, round(p.rate * 100, 1) if p.rate is not None else None) for p in periods],
                            _("Share implemented of the recommendations issued in each period, in per cent"), y_max=100,
                            value_format=lambda v: f"{v:g} %")
    median_chart = line_chart([Point(p.label, p.median_days) for p in periods],
                              _("Median days from issue to implementation, by period of implementation"),
                              value_format=lambda v: f"{v:.0f}")
    age_open_chart = bar_chart([Bar(_("%(span)s months", span=a.label), a.count, list_url(a.filters))
                                for a in board.age_open], _("Open recommendations by months since issue"))
    age_overdue_chart = bar_chart([Bar(_("%(span)s months", span=a.label), a.count, list_url(a.filters))
                                   for a in board.age_overdue], _("Overdue recommendations by months past the deadline"),
                                  css_class="alert")
    return render_template(
        "council/dashboard.html", board=board, countries=countries, country=country, year_from=year_from,
        year_to=year_to, granularity=granularity, dimension_titles=dimension_titles, charts=charts,
        rate_chart=rate_chart, median_chart=median_chart, age_open_chart=age_open_chart,
        age_overdue_chart=age_overdue_chart, list_url=list_url, pack_filters=pack_service.pack_filters(country))


@bp.route("/meeting-pack.<fmt>")
@allow(*ROLES)
def meeting_pack(fmt: str):
    if fmt not in ("xlsx", "pdf"):
        abort(404)
    countries = _countries()
    country = _country(countries)
    pack = pack_service.build_meeting_pack(db.session, current_user, country=country)
    stamp = pack.today.isoformat()
    if fmt == "xlsx":
        target = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
        pack_service.write_xlsx(pack, target)
        target.seek(0)
        return send_file(target, download_name=f"meeting-pack-{stamp}.xlsx", as_attachment=True,
                         mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    names = {c.code: tr(c.names) for c in countries}
    html = render_template("council/meeting_pack.html", pack=pack, country_name=names.get(country or "", ""))
    pdf = pack_service.write_pdf(html, base_url=request.url_root)
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="meeting-pack-{stamp}.pdf"'})
