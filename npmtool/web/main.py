"""The start page."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, send_from_directory
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from npmtool.extensions import db
from npmtool.models import Country, Visit
from npmtool.services.facilities import facility_counts
from npmtool.services.visits import visible_visits_query
from npmtool.web.access import ANY_USER, PUBLIC, allow

bp = Blueprint("main", __name__)


@bp.route("/")
@allow(*ANY_USER)
def home():
    countries = {c.code: c for c in db.session.scalars(select(Country))}
    counts = facility_counts(db.session, current_user) if current_user.role != "cso" else []
    upcoming = []
    if current_user.role != "cso":
        upcoming = db.session.scalars(
            visible_visits_query(current_user).where(Visit.status.in_(("planned", "in_progress")))
            .options(selectinload(Visit.facility), selectinload(Visit.team_members))
            .order_by(Visit.starts_on).limit(10)).all()
    host = current_app.extensions["npmtool"]
    return render_template("main/home.html", countries=countries, counts=counts, upcoming=upcoming,
                           plugin_count=len(host.info))


@bp.route("/sw.js")
@allow(PUBLIC)
def service_worker():
    """Served from the root so that its scope covers the visit pages."""
    response = send_from_directory(current_app.static_folder, "sw.js", mimetype="text/javascript", max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    return response
