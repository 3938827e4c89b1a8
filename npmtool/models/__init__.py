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
from npmtool.models.evidence import CustodyEvent, Evidence, EvidenceFile
from npmtool.models.interviews import FollowUp, Interview
from npmtool.models.visits import Answer, Visit, VisitChecklist, VisitMember
from npmtool.models.reports import GeneratedReport
from npmtool.models.recommendations import (
    AuthorityResponse,
    DeadlineRevision,
    Finding,
    Recommendation,
    RecommendationDocument,
    RecommendationEvent,
    Verification,
)
from npmtool.models.complaints import (
    Complaint,
    ComplaintAttachment,
    ComplaintBoxOpening,
    ComplaintEvent,
    RateLimitHit,
)

__all__ = [
    "Answer", "CustodyEvent", "Evidence", "EvidenceFile", "FollowUp", "Interview", "VisitChecklist",
    "AuditEvent", "Authority", "Base", "ChecklistItem", "ChecklistSection", "ChecklistTemplate",
    "ComplaintCategory", "ComplaintChannel", "Country", "Facility", "FacilityFigure", "FacilityType",
    "LegalSource", "LoginAttempt", "Membership", "Region", "User", "Visit", "VisitMember", "VisitType",
    "AuthorityResponse", "DeadlineRevision", "Finding", "Recommendation", "RecommendationDocument",
    "RecommendationEvent", "Verification", "GeneratedReport",
    "Complaint", "ComplaintAttachment", "ComplaintBoxOpening", "ComplaintEvent", "RateLimitHit",
]
