"""Label helpers for templates."""

from __future__ import annotations

from flask import g
from flask_login import current_user
from sqlalchemy import select

from npmtool.extensions import db
from npmtool.i18n import tr
from npmtool import labels as labels_module
from npmtool.labels import FIGURE_LABELS, POPULATION_LABELS, ROLE_LABELS, VISIT_STATUS_LABELS
from npmtool.models import VisitType
from npmtool.services.visit_access import can_read_visit

def visit_type_label(visit) -> str:
    """The plugin's name for a visit type, loaded once per request."""
    if "visit_types" not in g:
        g.visit_types = {(v.country_code, v.code): v.names for v in db.session.scalars(select(VisitType))}
    return tr(g.visit_types.get((visit.country_code, visit.visit_type))) or visit.visit_type


def register_labels(app) -> None:
    app.jinja_env.globals.update(
        role_label=lambda code: ROLE_LABELS.get(code, code),
        status_label=lambda code: VISIT_STATUS_LABELS.get(code, code),
        figure_label=lambda code: FIGURE_LABELS.get(code, code),
        visit_type_label=visit_type_label,
        can_open_visit=lambda visit: current_user.is_authenticated and can_read_visit(current_user, visit),
    )
    app.jinja_env.globals["labels"] = labels_module
    app.jinja_env.filters["population_label"] = lambda code: POPULATION_LABELS.get(code, code)
