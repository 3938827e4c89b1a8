"""The one way views call a service that may refuse."""

from __future__ import annotations

from typing import Any, Callable

from flask import flash

from npmtool.extensions import db
from npmtool.services import ServiceError, StaleEdit


def attempt(action: Callable[[], Any], stale_message: str = "") -> tuple[Any, int | None]:
    """Run ``action``. On refusal roll back, flash why and return the status
    to re-render the form with (409 for a stale save, 400 otherwise), so the
    person's input is shown again and nothing half-saved remains."""
    try:
        return action(), None
    except StaleEdit as exc:
        db.session.rollback()
        flash(stale_message or str(exc), "error")
        return None, 409
    except ServiceError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return None, 400
