"""Every route declares who may use it; one check enforces it.

``@allow("admin", "coordinator")`` records the roles on the view function;
``enforce_access`` runs before every request and refuses any endpoint that
declared nothing, so a forgotten declaration fails closed. The URL-map test
reads the same declarations."""

from __future__ import annotations

from typing import Any, Callable, TypeVar

from flask import abort, current_app, request
from flask_login import current_user

from npmtool.models.users import ROLES

PUBLIC = "public"
ANY_USER = ROLES


def allow(*roles: str) -> Callable:
    unknown = set(roles) - set(ROLES) - {PUBLIC}
    if unknown:
        raise ValueError(f"unknown roles {unknown}")

    def mark(view: Callable) -> Callable:
        view.allowed_roles = frozenset(roles)
        return view

    return mark


def allowed_roles(endpoint: str) -> frozenset[str] | None:
    view = current_app.view_functions.get(endpoint)
    if endpoint == "static":
        return frozenset({PUBLIC})
    return getattr(view, "allowed_roles", None)


def enforce_access() -> None:
    if request.endpoint is None:
        return  # 404 follows
    roles = allowed_roles(request.endpoint)
    if roles is None:
        abort(403)
    if PUBLIC in roles:
        return
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    if current_user.role not in roles:
        abort(403)


Row = TypeVar("Row")


def load_or_abort(model: type[Row], row_id: int, may_read: Callable[[Any, Row], bool]) -> Row:
    """The row, 404 if there is none, 403 if the signed-in user may not read it."""
    from npmtool.extensions import db

    row = db.session.get(model, row_id)
    if row is None:
        abort(404)
    if not may_read(current_user, row):
        abort(403)
    return row
