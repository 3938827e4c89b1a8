"""Translated labels for the codes the core stores (roles, statuses…)."""

from flask_babel import lazy_gettext as _l

ROLE_LABELS = {
    "admin": _l("Administrator"),
    "coordinator": _l("Coordinator"),
    "monitor": _l("Monitor"),
    "council": _l("Council member"),
    "cso": _l("Civil-society organisation"),
}
VISIT_STATUS_LABELS = {
    "planned": _l("planned"),
    "in_progress": _l("in progress"),
    "draft": _l("draft"),
    "in_review": _l("in review"),
    "sent": _l("sent"),
    "closed": _l("closed"),
}
FIGURE_LABELS = {"population": _l("People held"), "capacity": _l("Capacity"), "staff": _l("Staff")}
POPULATION_LABELS = {
    "men": _l("men"),
    "women": _l("women"),
    "juveniles": _l("juveniles"),
    "children": _l("children living with their mothers"),
}
INTERVIEW_CATEGORY_LABELS = {
    "detained": _l("Person deprived of liberty"),
    "staff": _l("Staff member"),
    "medical": _l("Medical staff"),
    "other": _l("Other"),
}
VULNERABLE_GROUP_LABELS = {
    "women": _l("Women"),
    "children": _l("Children"),
    "foreign_nationals": _l("Foreign nationals"),
    "disability": _l("People with disabilities"),
    "drug_use": _l("People who use drugs"),
    "lgbti": _l("LGBTI people"),
    "other": _l("Other"),
}
ALLEGATION_LABELS = {
    "torture": _l("Torture"),
    "ill_treatment": _l("Ill-treatment"),
    "threats": _l("Threats"),
}
RATING_LABELS = {
    "complete": _l("Complete"),
    "partly": _l("Partly"),
    "not_yet": _l("Not yet"),
    "not_applicable": _l("Not applicable"),
}
TEAM_ROLE_LABELS = {"lead": _l("Team lead"), "member": _l("Member"), "expert": _l("Expert")}
VISIT_ACTION_LABELS = {
    "start": _l("Start the visit"),
    "finish": _l("Finish on-site work"),
    "submit": _l("Submit for review"),
    "reopen": _l("Reopen for editing"),
    "send": _l("Approve and mark as sent"),
    "return": _l("Return to the team"),
    "close": _l("Close the visit"),
}

# Recommendations (models/recommendations.py codes).
PRIORITY_LABELS = {"normal": _l("normal"), "high": _l("high"), "urgent": _l("urgent")}
PRIORITY_FLAG_LABELS = {
    "risk_to_life": _l("Risk to life"),
    "torture_allegation": _l("Torture allegation"),
    "ill_treatment_allegation": _l("Ill-treatment allegation"),
    "repeated": _l("Repeated (found at the previous visit too)"),
}
TOPIC_LABELS = {
    "treatment": _l("Treatment"),
    "conditions": _l("Material conditions"),
    "overcrowding": _l("Overcrowding"),
    "health_care": _l("Health care"),
    "food_water": _l("Food and water"),
    "hygiene": _l("Hygiene"),
    "contact_outside": _l("Contact with the outside world"),
    "legal_safeguards": _l("Legal safeguards"),
    "complaints": _l("Complaints"),
    "discipline_isolation": _l("Discipline and isolation"),
    "use_of_force": _l("Use of force"),
    "vulnerable_groups": _l("Groups in a situation of vulnerability"),
    "activities": _l("Activities"),
    "staff": _l("Staff"),
    "registers": _l("Registers and records"),
    "other": _l("Other"),
}
RESPONSE_KIND_LABELS = {
    "accepted": _l("accepted"),
    "partially_accepted": _l("partially accepted"),
    "rejected": _l("rejected"),
}
ASSESSMENT_LABELS = {
    "not_started": _l("not started"),
    "in_progress": _l("in progress"),
    "implemented": _l("implemented"),
    "partially_implemented": _l("partially implemented"),
    "not_implemented": _l("not implemented"),
    "no_longer_applicable": _l("no longer applicable"),
}
RECOMMENDATION_STATUS_LABELS = {"open": _l("open"), "closed": _l("closed")}
VERIFICATION_KIND_LABELS = {"visit": _l("at a visit"), "document": _l("from a document")}
RECOMMENDATION_EVENT_LABELS = {
    "created": _l("Issued"),
    "edited": _l("Edited"),
    "response": _l("Authority's response recorded"),
    "assessment": _l("Assessment changed"),
    "deadline": _l("Deadline revised"),
    "verification": _l("Verified"),
    "comment": _l("Comment"),
    "council_decision": _l("Council decision"),
    "reopened": _l("Reopened"),
    "document": _l("Document filed"),
    "escalated": _l("Priority raised"),
}
