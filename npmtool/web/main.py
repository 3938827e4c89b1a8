"""The start page."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask_login import current_user
from sqlalchemy import select

from npmtool.extensions import db
from npmtool.models import Country, Facility, Visit
from npmtool.services.facilities import facility_counts
from npmtool.services.scope import facility_clause
from npmtool.web.access import ANY_USER, allow

bp = Blueprint("main", __name__)


@bp.route("/")
@allow(*ANY_USER)
def home():
    countries = {c.code: c for c in db.session.scalars(select(Country))}
    counts = facility_counts(db.session, current_user) if current_user.role != "cso" else []
    upcoming = []
    if current_user.role != "cso":
        upcoming = db.session.scalars(
            select(Visit).join(Facility).where(facility_clause(current_user),
                                               Visit.status.in_(("planned", "in_progress")))
            .order_by(Visit.starts_on).limit(10)).all()
    host = current_app.extensions["npmtool"]
    return render_template("main/home.html", countries=countries, counts=counts, upcoming=upcoming,
                           plugin_count=len(host.info))
