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
