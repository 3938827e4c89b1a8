"""What part of the data a user may see: country and region scoping (DESIGN §4)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, true

from npmtool.models import Facility
from npmtool.models.users import SCOPED_ROLES


def facility_clause(user: Any) -> ColumnElement[bool]:
    """A WHERE clause limiting facilities to the user's country and regions."""
    clause: ColumnElement[bool] = true()
    if user.country_code:
        clause = clause & (Facility.country_code == user.country_code)
    if user.role in SCOPED_ROLES and user.region_ids:
        clause = clause & Facility.region_id.in_(user.region_ids)
    return clause


def can_see_facility(user: Any, facility: Facility) -> bool:
    if user.country_code and facility.country_code != user.country_code:
        return False
    if user.role in SCOPED_ROLES and user.region_ids and facility.region_id not in user.region_ids:
        return False
    return True


def can_edit_facility(user: Any, facility: Facility | None = None) -> bool:
    if user.role not in ("admin", "coordinator"):
        return False
    return facility is None or can_see_facility(user, facility)
