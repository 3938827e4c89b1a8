"""The list of recommendations: filters, pages, exports and bulk actions.
Thin views over services.recommendation_queries and services.recommendations."""

from __future__ import annotations

import tempfile
from datetime import date

from flask import (Blueprint, Response, abort, current_app, flash, redirect, render_template, request,
                   send_file, stream_with_context, url_for)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.routing import BuildError

from npmtool import labels
from npmtool.extensions import db
from npmtool.i18n import tr
from npmtool.models import Authority, Country, Facility, FacilityType, Region
from npmtool.models.recommendations import (ASSESSMENTS, PRIORITIES, PRIORITY_FLAGS, RECOMMENDATION_STATUSES,
                                            RESPONSE_KINDS, TOPICS)
from npmtool.services import ServiceError
from npmtool.services import recommendations as service
from npmtool.services.recommendation_access import MANAGE_ROLES, READ_ROLES, can_manage_recommendation
from npmtool.services.recommendation_queries import (RecommendationFilters, export_csv, export_xlsx, is_overdue,
                                                     list_page, selected)
from npmtool.services.scope import facility_clause
from npmtool.web.access import allow

bp = Blueprint("recommendation_list", __name__, url_prefix="/recommendations")

# A scope (the user's, or the chosen region) with at most this many
# facilities offers them in a list; a larger one (a whole country has about
# a thousand) gets a search by name instead, so the page stays light.
FACILITY_CHOICES_LIMIT = 200
BULK_LIMIT = 500


def _choices(filters: RecommendationFilters) -> dict[str, list[tuple]]:
    """Options of the filter form as (value, text): one query per reference table."""
    countries = select(Country).order_by(Country.code)
    if current_user.country_code:
        countries = countries.where(Country.code == current_user.country_code)
    countries = list(db.session.scalars(countries))
    several = len(countries) > 1
    codes = [filters.country] if filters.country else [c.code for c in countries]

    def named(rows, short: bool = False) -> list[tuple]:
        suffix = several and not filters.country
        return [(row.id, ((short and tr(row.short)) or tr(row.names))
                 + (f" ({row.country_code})" if suffix else "")) for row in rows]

    def coded(codes_: tuple, mapping: dict) -> list[tuple]:
        return [(code, str(mapping.get(code, code))) for code in codes_]

    regions = list(db.session.scalars(select(Region).where(Region.country_code.in_(codes))
                                      .order_by(Region.country_code, Region.code)))
    if current_user.role in ("coordinator", "monitor") and current_user.region_ids:
        regions = [r for r in regions if r.id in current_user.region_ids]
    return {
        "countries": [(c.code, tr(c.names)) for c in countries],
        "regions": named(regions),
        "authorities": named(db.session.scalars(select(Authority).where(Authority.country_code.in_(codes))
                                                .order_by(Authority.country_code, Authority.position)), short=True),
        "facility_types": named(db.session.scalars(select(FacilityType).where(FacilityType.country_code.in_(codes))
                                                   .order_by(FacilityType.country_code, FacilityType.code))),
        "facilities": _facility_choices(filters, codes),
        "topics": coded(TOPICS, labels.TOPIC_LABELS),
        "priorities": coded(PRIORITIES, labels.PRIORITY_LABELS),
        "flags": coded(PRIORITY_FLAGS, labels.PRIORITY_FLAG_LABELS),
        "statuses": coded(RECOMMENDATION_STATUSES, labels.RECOMMENDATION_STATUS_LABELS),
        "assessments": coded(ASSESSMENTS, labels.ASSESSMENT_LABELS),
        "responses": coded(RESPONSE_KINDS, labels.RESPONSE_KIND_LABELS),
    }


def _facility_choices(filters: RecommendationFilters, codes: list[str]) -> list[tuple] | None:
    """The facilities of the scope as (id, name), or None when there are too
    many to list (the form then offers a search by name). One query of at
    most FACILITY_CHOICES_LIMIT + 1 rows, three columns."""
    query = select(Facility.id, Facility.name, Facility.names).where(
        facility_clause(current_user), Facility.country_code.in_(codes))
    if filters.region:
        query = query.where(Facility.region_id == filters.region)
    rows = db.session.execute(query.order_by(Facility.name).limit(FACILITY_CHOICES_LIMIT + 1)).all()
    if len(rows) > FACILITY_CHOICES_LIMIT:
        if not filters.facility:
            return None
        # A link chose one facility (e.g. from its page): show it, so it can be seen and cleared.
        rows = db.session.execute(select(Facility.id, Facility.name, Facility.names).where(
            Facility.id == filters.facility, facility_clause(current_user))).all()
    return [(row.id, tr(row.names) or row.name) for row in rows]


def detail_url(rec) -> str | None:
    try:
        return url_for("recommendations.detail", recommendation_id=rec.id)
    except BuildError:  # the detail pages are a separate module
        return None


def _page_number() -> int:
    value = request.args.get("page", "")
    return int(value) if value.isdigit() else 1


def _render(filters: RecommendationFilters, bulk: dict | None = None, chosen: set[int] = frozenset(),
            status: int = 200):
    page = list_page(db.session, current_user, filters, _page_number(), current_app.config["PAGE_SIZE"])
    for error in filters.errors:
        flash(error, "error")
    return render_template(
        "recommendation_list/index.html", page=page, filters=filters, choices=_choices(filters),
        args=filters.to_args(), bulk=bulk or {}, chosen=chosen, today=date.today(), is_overdue=is_overdue,
        detail_url=detail_url, can_bulk=current_user.role in MANAGE_ROLES), status


@bp.route("/")
@allow(*READ_ROLES)
def index():
    return _render(RecommendationFilters.from_args(request.args))


@bp.route("/export.<fmt>")
@allow(*READ_ROLES)
def export(fmt: str):
    filters = RecommendationFilters.from_args(request.args)
    stamp = date.today().isoformat()
    if fmt == "csv":
        return Response(stream_with_context(export_csv(db.session, current_user, filters)),
                        mimetype="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="recommendations-{stamp}.csv"'})
    if fmt == "xlsx":
        # Spooled: small exports stay in memory, large ones go to disk.
        target = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
        export_xlsx(db.session, current_user, filters, target)
        target.seek(0)
        return send_file(target, download_name=f"recommendations-{stamp}.xlsx", as_attachment=True,
                         mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    abort(404)


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip()) if value and value.strip() else None
    except ValueError:
        return None


@bp.route("/bulk", methods=["POST"])
@allow(*MANAGE_ROLES)
def bulk():
    """One action on the ticked rows. Items the user may not manage, or that
    the action does not fit, are left alone and named in the message."""
    filters = RecommendationFilters.from_args(request.args)
    form = request.form
    ids = sorted({int(v) for v in form.getlist("ids") if v.isdigit()})[:BULK_LIMIT]
    action = form.get("action", "")
    bulk_input = {k: form.get(k, "") for k in ("action", "kind", "text", "received_on", "deadline", "reason")}
    chosen = set(ids)

    def refuse(message: str):
        flash(message, "error")
        return _render(filters, bulk_input, chosen, 400)

    if not ids:
        return refuse(_("Tick at least one recommendation."))
    recs = selected(db.session, current_user, ids)
    refused = [(r.reference, _("not yours to manage")) for r in recs if not can_manage_recommendation(current_user, r)]
    recs = [r for r in recs if can_manage_recommendation(current_user, r)]
    missing = len(ids) - len(recs) - len(refused)

    if action == "response":
        received_on = _date(form.get("received_on", ""))
        if form.get("kind") not in RESPONSE_KINDS:
            return refuse(_("Choose what the authority answered."))
        if received_on is None:
            return refuse(_("Give the date the response was received (YYYY-MM-DD)."))
        refused += [(r.reference, _("issued after that date")) for r in recs if r.issued_on > received_on]
        recs = [r for r in recs if r.issued_on <= received_on]
        if not recs:
            return refuse(_("None of the ticked recommendations can take this response."))
        try:
            service.bulk_record_response(db.session, current_user, recs, kind=form["kind"],
                                         text=form.get("text", ""), received_on=received_on)
        except ServiceError as error:
            db.session.rollback()
            return refuse(str(error))
        flash(_("Response recorded for %(count)s recommendations.", count=len(recs)), "success")
    elif action == "deadline":
        deadline = _date(form.get("deadline", ""))
        if deadline is None:
            return refuse(_("Give the new deadline (YYYY-MM-DD)."))
        if not form.get("reason", "").strip():
            return refuse(_("Say why the deadline changes."))
        done = 0
        for rec in recs:
            try:
                service.revise_deadline(db.session, current_user, rec, deadline=deadline, reason=form["reason"])
                done += 1
            except ServiceError as error:
                db.session.rollback()
                refused.append((rec.reference, str(error)))
        if done:
            flash(_("Deadline revised for %(count)s recommendations.", count=done), "success")
    else:
        return refuse(_("Choose an action."))

    if refused:
        flash(_("Not changed: %(items)s.", items="; ".join(f"{ref} ({why})" for ref, why in refused)), "warning")
    if missing:
        flash(_("%(count)s ticked items were not found or are outside your scope.", count=missing), "warning")
    return redirect(url_for("recommendation_list.index", **filters.to_args(), page=_page_number()))
