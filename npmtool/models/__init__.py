"""SQLAlchemy models, one module per aggregate. Importing this package
registers every table on Base.metadata (Alembic reads it from here)."""

from npmtool.models.audit import AuditEvent
from npmtool.models.base import Base
from npmtool.models.checklists import ChecklistItem, ChecklistSection, ChecklistTemplate
from npmtool.models.facilities import Facility, FacilityFigure
from npmtool.models.reference import (
    Authority,
    ComplaintCategory,
    ComplaintChannel,
    Country,
    FacilityType,
    LegalSource,
    Region,
    VisitType,
)
from npmtool.models.users import LoginAttempt, Membership, User
from npmtool.models.visits import Visit, VisitMember

__all__ = [
    "AuditEvent", "Authority", "Base", "ChecklistItem", "ChecklistSection", "ChecklistTemplate",
    "ComplaintCategory", "ComplaintChannel", "Country", "Facility", "FacilityFigure", "FacilityType",
    "LegalSource", "LoginAttempt", "Membership", "Region", "User", "Visit", "VisitMember", "VisitType",
]
