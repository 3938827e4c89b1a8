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
