"""Reports: each country's formats, preview in the browser, generated DOCX /
PDF / HTML files and their history. Thin views over services.reports.

Who may do what: coordinators and administrators generate; the council reads
and downloads annual and period reports; a visit's team may preview its visit
report; civil-society organisations and the public see nothing here."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from npmtool.extensions import db
from npmtool.models import Country, Evidence, Facility, Visit, VisitMember
from npmtool.models.reports import GeneratedReport
from npmtool.reports.phrases import phrase
from npmtool.reports.store import store_for
from npmtool.services import ServiceError
from npmtool.services import reports as service
from npmtool.services.evidence_store import current_store
from npmtool.services.scope import facility_clause
from npmtool.services.visit_access import can_read_visit, is_team_member
from npmtool.web.access import allow, load_or_abort

bp = Blueprint("reports", __name__, url_prefix="/reports")

READERS = ("admin", "coordinator", "council", "monitor")
MAKERS = ("admin", "coordinator")
HISTORY_READERS = ("admin", "coordinator", "council")
PER_PAGE = 25
VISIT_CHOICES = 100


# -- access rules -------------------------------------------------------------------------

def _in_country(country: str) -> bool:
    return current_user.role == "admin" and not current_user.country_code or current_user.country_code == country


def can_preview(fmt: dict, visit: Visit | None) -> bool:
    if fmt["scope"] == "visit":
        if visit is None:
            return False
        if current_user.role == "monitor":
            return is_team_member(current_user, visit)
        return current_user.role in MAKERS and can_read_visit(current_user, visit)
    return current_user.role in ("admin", "coordinator", "council") and _in_country(fmt["country"])


def can_generate(fmt: dict, visit: Visit | None) -> bool:
    return current_user.role in MAKERS and can_preview(fmt, visit)


def can_read_generated(report: GeneratedReport) -> bool:
    if not _in_country(report.country_code):
        return False
    if report.scope == "visit":
        return current_user.role in MAKERS and report.visit is not None and can_read_visit(current_user, report.visit)
    return current_user.role in HISTORY_READERS


# -- request parsing ----------------------------------------------------------------------

def _countries() -> list[str]:
    if current_user.country_code:
        return [current_user.country_code]
    return sorted(service.catalogue().report_formats)


def _country_arg(values) -> str | None:
    countries = _countries()
    country = (values.get("country") or "").upper()
    if country in countries:
        return country
    return countries[0] if countries else None


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError:
        return None


def _request_parts(values) -> tuple[dict, Visit | None, tuple[date, date] | None, str, list[str]]:
    """Format, visit, period and language from a query or form; errors for the user."""
    errors = []
    country = _country_arg(values)
    try:
        fmt = service.find_format(country or "", values.get("format", ""))
    except ServiceError:
        abort(404)
    visit = period = None
    if fmt["scope"] == "visit":
        visit_id = values.get("visit_id", "")
        visit = db.session.get(Visit, int(visit_id)) if visit_id.isdigit() else None
        if visit is None or visit.country_code != fmt["country"]:
            errors.append(_("Choose the visit the report is about."))
            visit = None
    elif fmt["scope"] == "annual":
        year = values.get("year", "")
        if not (year.isdigit() and 2000 <= int(year) <= 2100):
            errors.append(_("Enter the year as four digits, e.g. %(year)s.", year=date.today().year))
        else:
            period = service.year_period(int(year))
    else:
        start, end = _date(values.get("start")), _date(values.get("end"))
        if start is None or end is None:
            errors.append(_("Enter the first and last day of the period (YYYY-MM-DD)."))
        elif start > end:
            errors.append(_("The period ends before it starts."))
        else:
            period = (start, end)
    language = values.get("language") or fmt["languages"][0]
    if language not in fmt["languages"]:
        errors.append(_("This report is not written in that language."))
        language = fmt["languages"][0]
    return fmt, visit, period, language, errors


def _visit_choices(country: str) -> list[tuple[int, str]]:
    query = (select(Visit.id, Visit.starts_on, Facility.name).join(Facility, Facility.id == Visit.facility_id)
             .where(Visit.country_code == country, Visit.status != "planned"))
    if current_user.role == "monitor":
        query = query.where(Visit.id.in_(select(VisitMember.visit_id).where(VisitMember.user_id == current_user.id)))
    else:
        query = query.where(facility_clause(current_user))
    rows = db.session.execute(query.order_by(Visit.starts_on.desc(), Visit.id.desc()).limit(VISIT_CHOICES))
    return [(r.id, f"{r.starts_on.isoformat()} · {r.name}") for r in rows]


# -- pages ----------------------------------------------------------------------------------

@bp.get("/")
@allow(*READERS)
def index():
    country = _country_arg(request.args)
    formats = [f for f in service.formats_for(country)] if country else []
    if current_user.role == "monitor":
        formats = [f for f in formats if f["scope"] == "visit"]
    if current_user.role == "council":
        formats = [f for f in formats if f["scope"] != "visit"]
    visits = _visit_choices(country) if country and any(f["scope"] == "visit" for f in formats) else []
    names = {c.code: c.names for c in db.session.scalars(select(Country))}
    return render_template("reports/index.html", country=country, countries=_countries(), country_names=names,
                           formats=formats, visits=visits, this_year=date.today().year,
                           can_make=current_user.role in MAKERS,
                           can_history=current_user.role in HISTORY_READERS)


@bp.get("/preview")
@allow(*READERS)
def preview():
    if not request.args.get("format"):
        return redirect(url_for("reports.index"))
    fmt, visit, period, language, errors = _request_parts(request.args)
    if errors:
        for error in errors:
            flash(error, "error")
        return redirect(url_for("reports.index", country=fmt["country"]))
    if not can_preview(fmt, visit):
        abort(403)
    try:
        fmt, doc = service.build(db.session, fmt["country"], fmt["code"], visit=visit, period=period,
                                 language=language)
    except ServiceError as error:
        flash(str(error), "error")
        return redirect(url_for("reports.index", country=fmt["country"]))
    return render_template("reports/preview.html", fmt=fmt, doc=doc, visit=visit, period=period,
                           language=language, inputs_hash=doc.inputs_hash(),
                           photo_url=lambda item: url_for("reports.photo", evidence_id=item["evidence_id"]),
                           photo_label=phrase("photo", language), can_generate=can_generate(fmt, visit))


@bp.post("/generate")
@allow(*MAKERS)
def generate():
    fmt, visit, period, language, errors = _request_parts(request.form)
    output = request.form.get("output", "")
    if not errors and output not in fmt["outputs"]:
        errors.append(_("Choose DOCX, PDF or HTML."))
    if errors:
        for error in errors:
            flash(error, "error")
        return redirect(url_for("reports.index", country=fmt["country"])), 303
    if not can_generate(fmt, visit):
        abort(403)
    try:
        report = service.generate_report(db.session, current_user, fmt["country"], fmt["code"], visit=visit,
                                         period=period, language=language, output=output)
    except ServiceError as error:
        flash(str(error), "error")
        return redirect(url_for("reports.index", country=fmt["country"])), 303
    flash(_("The report was generated."), "success")
    return redirect(url_for("reports.generated", report_id=report.id)), 303


def _history_query():
    query = select(GeneratedReport)
    if current_user.country_code:
        query = query.where(GeneratedReport.country_code == current_user.country_code)
    if current_user.role == "council":
        query = query.where(GeneratedReport.scope != "visit")
    elif current_user.role == "coordinator":
        readable = select(Visit.id).join(Facility, Facility.id == Visit.facility_id).where(facility_clause(current_user))
        query = query.where((GeneratedReport.visit_id.is_(None)) | GeneratedReport.visit_id.in_(readable))
    return query


@bp.get("/history")
@allow(*HISTORY_READERS)
def history():
    page = max(int(request.args.get("page", "1")) if request.args.get("page", "1").isdigit() else 1, 1)
    query = _history_query()
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    pages = max((total + PER_PAGE - 1) // PER_PAGE, 1)
    reports = db.session.scalars(query.order_by(GeneratedReport.id.desc())
                                 .offset((page - 1) * PER_PAGE).limit(PER_PAGE)).all()
    # Same inputs as the generation before it? (a cheap comparison of stored hashes)
    previous = {r.id: service.previous_report(db.session, r) for r in reports}
    return render_template("reports/history.html", reports=reports, previous=previous, page=page, pages=pages,
                           formats=_format_titles())


def _format_titles() -> dict[tuple[str, str], dict]:
    return {(country, f["code"]): f["titles"] for country, formats in service.catalogue().report_formats.items()
            for f in formats}


def _generated(report_id: int) -> GeneratedReport:
    return load_or_abort(GeneratedReport, report_id, lambda _user, report: can_read_generated(report))


@bp.get("/generated/<int:report_id>")
@allow(*HISTORY_READERS)
def generated(report_id: int):
    report = _generated(report_id)
    try:
        changed = service.inputs_changed(db.session, report)
    except ServiceError:
        changed = None  # the format is gone (plugin removed): nothing to compare with
    return render_template("reports/generated.html", report=report, changed=changed,
                           previous=service.previous_report(db.session, report), formats=_format_titles())


@bp.get("/generated/<int:report_id>/download")
@allow(*HISTORY_READERS)
def download(report_id: int):
    report = _generated(report_id)
    store = store_for(current_app)
    if not store.exists(report.sha256):
        abort(404)
    return send_file(store.path_for(report.sha256), mimetype=service.MEDIA_TYPES[report.output],
                     as_attachment=True, download_name=report.filename)


@bp.get("/photo/<int:evidence_id>")
@allow(*READERS)
def photo(evidence_id: int):
    """A publication copy (redacted, without metadata) for the preview."""
    evidence = db.session.get(Evidence, evidence_id)
    if evidence is None or not evidence.publication_sha256:
        abort(404)
    visit = evidence.visit
    if current_user.role == "council":
        allowed = _in_country(visit.country_code)
    elif current_user.role == "monitor":
        allowed = is_team_member(current_user, visit)
    else:
        allowed = can_read_visit(current_user, visit)
    if not allowed:
        abort(403)
    store = current_store()
    if not store.exists(evidence.publication_sha256, "publication"):
        abort(404)
    return send_file(store.path_for(evidence.publication_sha256, "publication"), mimetype="image/jpeg",
                     max_age=3600)
