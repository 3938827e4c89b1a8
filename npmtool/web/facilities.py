"""The registry of places of detention: thin views over services.facilities."""

from __future__ import annotations

import math

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from npmtool.extensions import db
from npmtool.forms import choices
from npmtool.forms.facilities import FacilityForm, FigureForm, ImportForm
from npmtool.i18n import tr
from npmtool.models import Authority, Country, Facility, FacilityType, Region
from npmtool.services import ServiceError, StaleEdit
from npmtool.services import facilities as service
from npmtool.services.geo import geocode
from npmtool.services.importing import ImportFileError, import_facilities, template_csv
from npmtool.services.scope import can_edit_facility, can_see_facility
from npmtool.web.access import allow, load_or_abort

bp = Blueprint("facilities", __name__, url_prefix="/facilities")

READERS = ("admin", "coordinator", "monitor", "council")
EDITORS = ("admin", "coordinator")


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() else None


def _visible_countries() -> list[Country]:
    query = select(Country).order_by(Country.code)
    if current_user.country_code:
        query = query.where(Country.code == current_user.country_code)
    return list(db.session.scalars(query))


def _reference_choices(countries: list[Country]):
    codes = [c.code for c in countries]
    regions = db.session.scalars(select(Region).where(Region.country_code.in_(codes)).order_by(Region.code)).all()
    if current_user.role == "coordinator" and current_user.region_ids:
        regions = [r for r in regions if r.id in current_user.region_ids]
    types = db.session.scalars(select(FacilityType).where(FacilityType.country_code.in_(codes))
                               .order_by(FacilityType.code)).all()
    authorities = db.session.scalars(select(Authority).where(Authority.country_code.in_(codes))
                                     .order_by(Authority.country_code, Authority.position)).all()
    return regions, types, authorities


def _get_facility(facility_id: int) -> Facility:
    return load_or_abort(Facility, facility_id, can_see_facility)


@bp.route("/")
@allow(*READERS)
def index():
    countries = _visible_countries()
    regions, types, authorities = _reference_choices(countries)
    filters = service.FacilityFilters(
        country=request.args.get("country") or None, region_id=_int_arg("region"), type_id=_int_arg("type"),
        authority_id=_int_arg("authority"), q=request.args.get("q", "").strip()[:200],
        include_inactive=request.args.get("inactive") == "1")
    per_page = current_app.config["PAGE_SIZE"]
    page = max(_int_arg("page") or 1, 1)
    rows, total = service.list_facilities(db.session, current_user, filters, page, per_page)
    pages = max(math.ceil(total / per_page), 1)
    return render_template("facilities/index.html", rows=rows, total=total, page=page, pages=pages,
                           filters=filters, countries=countries, regions=regions, types=types,
                           authorities=authorities, can_edit=can_edit_facility(current_user))


@bp.route("/<int:facility_id>")
@allow(*READERS)
def detail(facility_id: int):
    return _detail_page(_get_facility(facility_id), FigureForm())


def _detail_page(facility: Facility, figure_form: FigureForm, status: int = 200):
    nearest = []
    if facility.lat is not None:
        nearest = service.nearest_facilities(db.session, current_user, facility.lat, facility.lon,
                                             exclude_id=facility.id)
    return render_template("facilities/detail.html", facility=facility, occupancy=service.occupancy(facility),
                           visits=service.recent_visits(db.session, facility), nearest=nearest,
                           figure_form=figure_form, can_edit=can_edit_facility(current_user, facility)), status


def _facility_form(form: FacilityForm) -> None:
    countries = _visible_countries()
    regions, types, _authorities = _reference_choices(countries)
    names = {c.code: tr(c.names) for c in countries}
    form.region_id.choices = choices([(0, "—")])
    form.facility_type_id.choices = choices([(0, "—")])
    for code in names:  # grouped by country: the same words recur in every country
        form.region_id.choices += choices([(r.id, tr(r.names)) for r in regions if r.country_code == code], names[code])
        form.facility_type_id.choices += choices(
            [(t.id, tr(t.names)) for t in types if t.country_code == code], names[code])


def _form_data(form: FacilityForm, facility: Facility | None) -> dict:
    names = dict(facility.names) if facility is not None else {}
    names["ru"] = form.name.data.strip()
    names["en"] = (form.name_en.data or "").strip() or names["ru"]
    region = db.session.get(Region, form.region_id.data)
    country = db.session.get(Country, region.country_code) if region else None
    state_language = country.languages[0] if country and country.languages else None
    if state_language and state_language not in ("ru", "en"):
        if form.name_local.data:
            names[state_language] = form.name_local.data.strip()
        else:
            names.pop(state_language, None)
    return {"name": names["ru"], "names": names, "code": form.code.data, "region_id": form.region_id.data,
            "facility_type_id": form.facility_type_id.data, "address": (form.address.data or "").strip(),
            "lat": form.lat.data, "lon": form.lon.data, "capacity": form.capacity.data,
            "populations": form.populations.data, "notes": form.notes.data or "",
            "is_active": form.is_active.data}


def _try_geocode(form: FacilityForm) -> None:
    config = current_app.config
    result = geocode(form.address.data or "", config["GEOCODER"], config["GEOCODER_USER_AGENT"],
                     config["GEOCODER_TIMEOUT_SECONDS"])
    if result.ok:
        form.lat.data, form.lon.data = round(result.lat, 6), round(result.lon, 6)
        flash(_("Coordinates found for this address. Check them, then save."), "info")
    elif result.message == "not_found":
        flash(_("No place was found for this address. Enter the coordinates by hand."), "warning")
    else:
        flash(_("Address look-up is not available now (no network?). Enter the coordinates by hand."), "warning")


def _save(form: FacilityForm, facility: Facility | None):
    """Save the form; returns a redirect, or the status to re-render it with."""
    if request.method == "POST" and "geocode" in request.form:
        _try_geocode(form)
        return 200
    if not form.validate_on_submit():
        return 400 if request.method == "POST" else 200
    if not form.region_id.data or not form.facility_type_id.data:
        flash(_("Choose a region and a type of facility."), "error")
        return 400
    try:
        if facility is None:
            facility = service.create_facility(db.session, current_user, _form_data(form, None))
            flash(_("Facility added to the registry."), "success")
        else:
            expected = int(form.version.data) if (form.version.data or "").isdigit() else -1
            service.update_facility(db.session, current_user, facility, _form_data(form, facility), expected)
            flash(_("Changes saved."), "success")
    except StaleEdit:
        db.session.rollback()
        flash(_("Someone else saved this facility after you opened the form. Your changes were not saved; "
                "they are still in the form below. Reload the page to see the current version."), "error")
        return 409
    except ServiceError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return 400
    return redirect(url_for("facilities.detail", facility_id=facility.id))


@bp.route("/new", methods=["GET", "POST"])
@allow(*EDITORS)
def create():
    form = FacilityForm()
    _facility_form(form)
    result = _save(form, None)
    if not isinstance(result, int):
        return result
    return render_template("facilities/form.html", form=form, facility=None,
                           geocoder=bool(current_app.config["GEOCODER"])), result


@bp.route("/<int:facility_id>/edit", methods=["GET", "POST"])
@allow(*EDITORS)
def edit(facility_id: int):
    facility = _get_facility(facility_id)
    if not can_edit_facility(current_user, facility):
        abort(403)
    form = FacilityForm(obj=facility)
    if request.method == "GET":
        form.name_en.data = facility.names.get("en", "")
        languages = facility.country.languages or []
        form.name_local.data = facility.names.get(languages[0], "") if languages else ""
        form.version.data = facility.version
    _facility_form(form)
    result = _save(form, facility)
    if not isinstance(result, int):
        return result
    return render_template("facilities/form.html", form=form, facility=facility,
                           geocoder=bool(current_app.config["GEOCODER"])), result


@bp.route("/<int:facility_id>/figures", methods=["POST"])
@allow(*EDITORS)
def add_figure(facility_id: int):
    facility = _get_facility(facility_id)
    if not can_edit_facility(current_user, facility):
        abort(403)
    form = FigureForm()
    if form.validate_on_submit():
        service.add_figure(db.session, current_user, facility, form.kind.data, form.value.data,
                           form.as_of.data, form.source.data.strip())
        flash(_("Figure recorded."), "success")
        return redirect(url_for("facilities.detail", facility_id=facility.id) + "#figures")
    return _detail_page(facility, form, 400)


@bp.route("/import", methods=["GET", "POST"])
@allow(*EDITORS)
def import_file():
    form = ImportForm()
    report = None
    status = 200
    if form.validate_on_submit():
        upload = form.file.data
        try:
            report = import_facilities(db.session, current_user, upload.filename or "", upload.read(),
                                       max_rows=current_app.config["IMPORT_MAX_ROWS"])
        except ImportFileError as exc:
            flash(str(exc), "error")
            status = 400
        else:
            if report.ok:
                flash(_("Imported %(rows)s rows: %(created)s new facilities, %(updated)s updated.",
                        rows=report.rows, created=report.created, updated=report.updated), "success")
                return redirect(url_for("facilities.index"))
            status = 400
    elif request.method == "POST":
        status = 400
    return render_template("facilities/import.html", form=form, report=report), status


@bp.route("/import/template.csv")
@allow(*EDITORS)
def import_template():
    return Response(template_csv(), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=facilities-template.csv"})
