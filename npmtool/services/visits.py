"""Planning visits, preparing them, and moving them through their workflow:
planned → in_progress → draft → in_review → sent → closed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Iterable

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from npmtool.models import (
    Answer,
    ChecklistItem,
    ChecklistTemplate,
    Facility,
    FollowUp,
    User,
    Visit,
    VisitChecklist,
    VisitMember,
    VisitType,
)
from npmtool.models.visits import TEAM_ROLES
from npmtool.plugins import PluginHost
from npmtool.services import ServiceError, StaleEdit, actor_id, audit
from npmtool.services.scope import can_see_facility, facility_clause

# status → {action: (next status, who may do it)}
TRANSITIONS: dict[str, dict[str, tuple[str, tuple[str, ...]]]] = {
    "planned": {"start": ("in_progress", ("coordinator", "lead"))},
    "in_progress": {"finish": ("draft", ("coordinator", "lead"))},
    "draft": {"submit": ("in_review", ("coordinator", "lead")), "reopen": ("in_progress", ("coordinator", "lead"))},
    "in_review": {"send": ("sent", ("coordinator",)), "return": ("draft", ("coordinator",))},
    "sent": {"close": ("closed", ("coordinator",))},
    "closed": {},
}


@dataclass
class TeamEntry:
    user_id: int
    role: str
    expertise: str = ""


def applies(applies_to: dict[str, Any], facility: Facility) -> bool:
    """Does a template's or item's ``applies_to`` cover this facility?"""
    if not applies_to:
        return True
    if "facility_types" in applies_to and facility.facility_type.code not in applies_to["facility_types"]:
        return False
    if "categories" in applies_to and facility.facility_type.category not in applies_to["categories"]:
        return False
    if "populations" in applies_to and not set(applies_to["populations"]) & set(facility.populations or []):
        return False
    return True


def applicable_templates(session: Session, facility: Facility) -> list[ChecklistTemplate]:
    """Current templates of the facility's country and the international ones
    that apply to this facility."""
    templates = session.scalars(
        select(ChecklistTemplate).options(selectinload(ChecklistTemplate.items))
        .where(ChecklistTemplate.is_current.is_(True),
               (ChecklistTemplate.country_code == facility.country_code) | ChecklistTemplate.country_code.is_(None))
        .order_by(ChecklistTemplate.country_code.is_(None), ChecklistTemplate.code))
    return [t for t in templates if applies(t.applies_to, facility)]


def attach_checklists(session: Session, visit: Visit) -> None:
    """Give the visit its checklists, freezing the items that apply to the facility."""
    present = {c.template_id for c in visit.checklists}
    for template in applicable_templates(session, visit.facility):
        if template.id in present:
            continue
        item_ids = [item.id for item in template.items if applies(item.applies_to, visit.facility)]
        if item_ids:
            visit.checklists.append(VisitChecklist(template_id=template.id, item_ids=item_ids))


def _check_plan(session: Session, user: Any, facility: Facility, visit_type: str, starts_on: date, ends_on: date,
                team: list[TeamEntry]) -> None:
    if not can_see_facility(user, facility):
        raise ServiceError(_l("This facility is outside your regions."))
    if ends_on < starts_on:
        raise ServiceError(_l("The visit cannot end before it starts."))
    known = session.scalar(select(VisitType.id).where(VisitType.country_code == facility.country_code,
                                                      VisitType.code == visit_type))
    if known is None:
        raise ServiceError(_l("Choose a visit type of this country."))
    if not team:
        raise ServiceError(_l("A visit needs a team."))
    if sum(1 for entry in team if entry.role == "lead") != 1:
        raise ServiceError(_l("Name exactly one team lead."))
    ids = [entry.user_id for entry in team]
    if len(set(ids)) != len(ids):
        raise ServiceError(_l("A person can be in the team once only."))
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))}
    for entry in team:
        member = users.get(entry.user_id)
        if entry.role not in TEAM_ROLES:
            raise ServiceError(_l("Unknown team role %(role)s.", role=entry.role))
        if member is None or member.role not in ("coordinator", "monitor") or not member.is_active_account:
            raise ServiceError(_l("Only active monitors and coordinators can be in a visit team."))
        if member.country_code not in (None, facility.country_code):
            raise ServiceError(_l("%(name)s works in another country.", name=member.full_name))


def plan_visit(session: Session, user: Any, *, facility: Facility, visit_type: str, starts_on: date, ends_on: date,
               team: list[TeamEntry], purpose: str = "", announced: bool = False) -> Visit:
    _check_plan(session, user, facility, visit_type, starts_on, ends_on, team)
    visit = Visit(facility=facility, country_code=facility.country_code, visit_type=visit_type, purpose=purpose.strip(),
                  starts_on=starts_on, ends_on=ends_on, announced=announced, status="planned",
                  created_by_id=actor_id(user), updated_by_id=actor_id(user))
    visit.team_members = [VisitMember(user_id=e.user_id, role=e.role, expertise=e.expertise.strip()) for e in team]
    session.add(visit)
    attach_checklists(session, visit)
    session.flush()
    audit.record(session, user, "visit.planned", "visit", visit.id, facility_id=facility.id,
                 starts_on=starts_on.isoformat(), team=[e.user_id for e in team])
    session.commit()
    return visit


def update_plan(session: Session, user: Any, visit: Visit, expected_version: int, *, visit_type: str,
                starts_on: date, ends_on: date, team: list[TeamEntry], purpose: str = "",
                announced: bool = False) -> Visit:
    if visit.version != expected_version:
        raise StaleEdit(_l("This visit was changed by someone else after you opened the form."))
    if visit.status not in ("planned", "in_progress"):
        raise ServiceError(_l("The plan of a visit can change only before its report is drafted."))
    _check_plan(session, user, visit.facility, visit_type, starts_on, ends_on, team)
    visit.visit_type, visit.starts_on, visit.ends_on = visit_type, starts_on, ends_on
    visit.purpose, visit.announced = purpose.strip(), announced
    current = {m.user_id: m for m in visit.team_members}
    visit.team_members = [current.get(e.user_id) or VisitMember(user_id=e.user_id) for e in team]
    for member, entry in zip(visit.team_members, team):
        member.role, member.expertise = entry.role, entry.expertise.strip()
    visit.updated_by_id = actor_id(user)
    audit.record(session, user, "visit.replanned", "visit", visit.id, team=[e.user_id for e in team])
    session.commit()
    return visit


def visible_visits_query(user: Any):
    query = select(Visit).join(Facility)
    if user.role == "monitor":
        return query.where(Visit.team_members.any(VisitMember.user_id == user.id))
    return query.where(facility_clause(user))


def list_visits(session: Session, user: Any, *, status: str | None, page: int, per_page: int
                ) -> tuple[list[Visit], int]:
    query = visible_visits_query(user)
    if status:
        query = query.where(Visit.status == status)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = session.scalars(query.options(selectinload(Visit.facility), selectinload(Visit.team_members))
                           .order_by(Visit.starts_on.desc(), Visit.id.desc())
                           .limit(per_page).offset((page - 1) * per_page)).all()
    return list(rows), total


# -- preparation ------------------------------------------------------------


@dataclass
class Preparation:
    earlier_visits: list[Visit] = field(default_factory=list)
    # Answers rated partly / not yet at the previous visits: what was found wanting.
    earlier_findings: list[Answer] = field(default_factory=list)
    follow_ups: list[FollowUp] = field(default_factory=list)
    # The facility's open recommendations, to check on site (at most 50).
    open_recommendations: list = field(default_factory=list)


def preparation(session: Session, visit: Visit, limit: int = 5) -> Preparation:
    earlier = session.scalars(
        select(Visit).where(Visit.facility_id == visit.facility_id, Visit.id != visit.id,
                            Visit.starts_on <= visit.starts_on)
        .order_by(Visit.starts_on.desc()).limit(limit)).all()
    findings = []
    if earlier:
        findings = session.scalars(
            select(Answer).options(selectinload(Answer.item))
            .where(Answer.visit_id.in_([v.id for v in earlier]), Answer.rating.in_(("partly", "not_yet")))
            .order_by(Answer.visit_id.desc(), Answer.item_id).limit(50)).all()
    # Imported here: the follow-up service builds on the findings and
    # recommendation services, which sit above this module.
    from npmtool.services.follow_up import open_recommendations, open_reprisal_checks

    return Preparation(list(earlier), list(findings), open_reprisal_checks(session, visit),
                       open_recommendations(session, visit))


def resolve_follow_up(session: Session, user: Any, follow_up: FollowUp, visit: Visit, outcome: str) -> FollowUp:
    if follow_up.status != "open":
        raise ServiceError(_l("This follow-up is already resolved."))
    if not outcome.strip():
        raise ServiceError(_l("Say what the team found."))
    from npmtool.models.base import utcnow

    follow_up.status = "resolved"
    follow_up.outcome = outcome.strip()
    follow_up.resolved_visit_id = visit.id
    follow_up.resolved_at = utcnow()
    follow_up.updated_by_id = actor_id(user)
    audit.record(session, user, "follow_up.resolved", "follow_up", follow_up.id, visit_id=visit.id)
    session.commit()
    return follow_up


# -- workflow ---------------------------------------------------------------


def available_actions(user: Any, visit: Visit) -> list[str]:
    actions = []
    member = visit.member(user.id)
    for action, (_target, who) in TRANSITIONS[visit.status].items():
        if user.role == "coordinator" and "coordinator" in who and can_see_facility(user, visit.facility):
            actions.append(action)
        elif member is not None and member.role == "lead" and "lead" in who:
            actions.append(action)
    return actions


@dataclass
class TransitionResult:
    visit: Visit
    messages: list[dict] = field(default_factory=list)
    done: bool = True


def transition(session: Session, user: Any, visit: Visit, action: str, plugins: PluginHost,
               expected_version: int | None = None) -> TransitionResult:
    """Move a visit on. Submission asks the country plugin (and plugins
    without a country) first; any error blocks it and every message is returned."""
    if action not in available_actions(user, visit):
        raise ServiceError(_l("This step is not possible now, or not yours to take."))
    if expected_version is not None and visit.version != expected_version:
        raise StaleEdit(_l("This visit was changed by someone else after you opened the page."))
    messages = []
    if action == "submit":
        messages = plugins.validate_visit(visit)
        unanswered = count_unanswered(session, visit)
        if unanswered:
            messages.append({"plugin": "npmtool", "level": "warning", "message": {
                "en": f"{unanswered} checklist items are not answered.",
                "ru": f"Пунктов без ответа: {unanswered}."}})
        if any(m["level"] == "error" for m in messages):
            return TransitionResult(visit, messages, done=False)
    target = TRANSITIONS[visit.status][action][0]
    before = visit.status
    visit.status = target
    visit.updated_by_id = actor_id(user)
    audit.record(session, user, f"visit.{action}", "visit", visit.id, before=before, after=target,
                 warnings=[m["message"].get("en") for m in messages])
    session.commit()
    if action == "submit":
        plugins.notify("npmtool_visit_submitted", visit=visit)
    return TransitionResult(visit, messages)


def visit_progress(session: Session, visit: Visit) -> list[dict]:
    """Answered / total per section of each of the visit's checklists, in
    three queries whatever the number of sections."""
    from npmtool.services.answers import answers_by_item, is_answered

    answered = {item_id for item_id, a in answers_by_item(session, visit).items() if is_answered(a)}
    wanted = [i for c in visit.checklists for i in c.item_ids]
    by_section: dict[int, list[int]] = {}
    for item_id, section_id in session.execute(
            select(ChecklistItem.id, ChecklistItem.section_id).where(ChecklistItem.id.in_(wanted))):
        by_section.setdefault(section_id, []).append(item_id)
    result = []
    for checklist in visit.checklists:
        sections = [{"section": section, "total": len(by_section[section.id]),
                     "done": len(answered & set(by_section[section.id]))}
                    for section in checklist.template.sections if section.id in by_section]
        result.append({"checklist": checklist, "sections": sections,
                       "total": sum(s["total"] for s in sections), "done": sum(s["done"] for s in sections)})
    return result


def count_unanswered(session: Session, visit: Visit) -> int:
    total = sum(len(c.item_ids) for c in visit.checklists)
    answered = session.scalar(select(func.count()).select_from(Answer).where(
        Answer.visit_id == visit.id, (Answer.rating.is_not(None)) | (Answer.value.is_not(None)))) or 0
    return max(total - answered, 0)


def team_candidates(session: Session, facility: Facility) -> list[User]:
    return list(session.scalars(
        select(User).where(User.role.in_(("coordinator", "monitor")), User.is_active_account.is_(True),
                           (User.country_code == facility.country_code) | User.country_code.is_(None))
        .order_by(User.full_name)))


def checklist_items(session: Session, visit: Visit) -> Iterable[ChecklistItem]:
    ids = [i for c in visit.checklists for i in c.item_ids]
    return session.scalars(select(ChecklistItem).where(ChecklistItem.id.in_(ids)))
