"""Visits: planning, preparation, the checklist, interviews and the workflow.
Thin views over services.visits, services.answers and services.interviews."""

from __future__ import annotations

import math

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from npmtool.crypto import sealer
from npmtool.extensions import db
from npmtool.forms import choices
from npmtool.forms.visits import FollowUpForm, InterviewForm, PlanForm, TransitionForm
from npmtool.i18n import tr
from npmtool.models import ChecklistItem, Facility, FollowUp, Interview, LegalSource, Visit, VisitType
from npmtool.models.visits import TEAM_ROLES
from npmtool.services import ServiceError, StaleEdit
from npmtool.services import answers as answer_service
from npmtool.services import interviews as interview_service
from npmtool.services import visits as service
from npmtool.services.facilities import occupancy
from npmtool.services.scope import can_see_facility
from npmtool.services.visit_access import (
    VISIT_ROLES,
    can_plan_visit,
    can_read_confidential,
    can_read_visit,
    can_work_on_visit,
)
from npmtool.web.access import allow, load_or_abort
from npmtool.web.saving import attempt

bp = Blueprint("visits", __name__)

TEAM = ("coordinator", "monitor")


def load_visit(visit_id: int) -> Visit:
    """The visit, or 404; 403 if the signed-in user may not read it."""
    return load_or_abort(Visit, visit_id, can_read_visit)


def _version(value: str | None) -> int:
    return int(value) if (value or "").isdigit() else -1


@bp.route("/visits/")
@allow(*VISIT_ROLES)
def index():
    status = request.args.get("status") or None
    page = max(int(request.args.get("page", "1")) if request.args.get("page", "1").isdigit() else 1, 1)
    per_page = current_app.config["PAGE_SIZE"]
    rows, total = service.list_visits(db.session, current_user, status=status, page=page, per_page=per_page)
    return render_template("visits/index.html", rows=rows, total=total, page=page,
                           pages=max(math.ceil(total / per_page), 1), status=status,
                           can_plan=can_plan_visit(current_user))


# -- planning ---------------------------------------------------------------


def _team_from_form(candidates) -> list[service.TeamEntry]:
    team = []
    for user in candidates:
        role = request.form.get(f"team-{user.id}", "")
        if role in TEAM_ROLES:
            team.append(service.TeamEntry(user.id, role, request.form.get(f"expertise-{user.id}", "")))
    return team


def _plan_form(form: PlanForm, facility: Facility) -> None:
    types = db.session.scalars(select(VisitType).where(VisitType.country_code == facility.country_code)
                               .order_by(VisitType.position)).all()
    form.visit_type.choices = choices((t.code, tr(t.names)) for t in types)


@bp.route("/visits/new", methods=["GET", "POST"])
@allow("admin", "coordinator")
def plan():
    facility = db.session.get(Facility, int(request.args.get("facility", "0") or 0)) \
        if (request.args.get("facility") or "").isdigit() else None
    if facility is None:
        flash(_("Choose the facility to visit, then “Plan a visit” on its page."), "info")
        return redirect(url_for("facilities.index"))
    if not can_see_facility(current_user, facility):
        abort(403)
    form = PlanForm()
    _plan_form(form, facility)
    candidates = service.team_candidates(db.session, facility)
    status = 200
    if form.validate_on_submit():
        visit, status = attempt(lambda: service.plan_visit(
            db.session, current_user, facility=facility, visit_type=form.visit_type.data,
            starts_on=form.starts_on.data, ends_on=form.ends_on.data, team=_team_from_form(candidates),
            purpose=form.purpose.data or "", announced=form.announced.data))
        if status is None:
            flash(_("Visit planned."), "success")
            return redirect(url_for("visits.detail", visit_id=visit.id))
    elif request.method == "POST":
        status = 400
    return render_template("visits/plan.html", form=form, facility=facility, visit=None, candidates=candidates,
                           chosen={int(k[5:]): v for k, v in request.form.items() if k.startswith("team-")},
                           expertise={int(k[10:]): v for k, v in request.form.items() if k.startswith("expertise-")},
                           ), status


@bp.route("/visits/<int:visit_id>/plan", methods=["GET", "POST"])
@allow("admin", "coordinator")
def edit_plan(visit_id: int):
    visit = load_visit(visit_id)
    if not can_plan_visit(current_user, visit):
        abort(403)
    form = PlanForm(obj=visit)
    _plan_form(form, visit.facility)
    if request.method == "GET":
        form.version.data = visit.version
    candidates = service.team_candidates(db.session, visit.facility)
    status = 200
    if form.validate_on_submit():
        _done, status = attempt(
            lambda: service.update_plan(db.session, current_user, visit, _version(form.version.data),
                                        visit_type=form.visit_type.data, starts_on=form.starts_on.data,
                                        ends_on=form.ends_on.data, team=_team_from_form(candidates),
                                        purpose=form.purpose.data or "", announced=form.announced.data),
            _("Someone else changed this visit after you opened the form. Nothing was saved; "
              "reload the page to see the current plan."))
        if status is None:
            flash(_("Plan saved."), "success")
            return redirect(url_for("visits.detail", visit_id=visit.id))
    elif request.method == "POST":
        status = 400
    if request.method == "GET":
        chosen = {m.user_id: m.role for m in visit.team_members}
        expertise = {m.user_id: m.expertise for m in visit.team_members}
    else:
        chosen = {int(k[5:]): v for k, v in request.form.items() if k.startswith("team-")}
        expertise = {int(k[10:]): v for k, v in request.form.items() if k.startswith("expertise-")}
    return render_template("visits/plan.html", form=form, facility=visit.facility, visit=visit,
                           candidates=candidates, chosen=chosen, expertise=expertise), status


# -- overview, preparation, workflow ----------------------------------------


@bp.route("/visits/<int:visit_id>")
@allow(*VISIT_ROLES)
def detail(visit_id: int):
    visit = load_visit(visit_id)
    interviews = db.session.scalars(select(Interview).where(Interview.visit_id == visit.id)
                                    .order_by(Interview.id)).all() if can_read_confidential(current_user, visit) else []
    return render_template("visits/detail.html", visit=visit, progress=service.visit_progress(db.session, visit),
                           actions=service.available_actions(current_user, visit),
                           transition_form=TransitionForm(version=visit.version), interviews=interviews,
                           can_work=can_work_on_visit(current_user, visit),
                           can_plan=can_plan_visit(current_user, visit) and visit.status in ("planned", "in_progress"),
                           confidential=can_read_confidential(current_user, visit))


@bp.route("/visits/<int:visit_id>/transition", methods=["POST"])
@allow(*TEAM)
def transition(visit_id: int):
    visit = load_visit(visit_id)
    form = TransitionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        result = service.transition(db.session, current_user, visit, form.action.data,
                                    current_app.extensions["npmtool"], _version(form.version.data))
    except StaleEdit:
        db.session.rollback()
        flash(_("Someone else changed this visit meanwhile; check its state and try again."), "error")
        return redirect(url_for("visits.detail", visit_id=visit.id)), 303
    except ServiceError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("visits.detail", visit_id=visit.id)), 303
    for message in result.messages:
        flash(tr(message["message"]), "error" if message["level"] == "error" else "warning")
    if result.done:
        flash(_("The visit is now: %(status)s.", status=str(_status_label(visit.status))), "success")
    return redirect(url_for("visits.detail", visit_id=visit.id)), 303


def _status_label(status: str):
    from npmtool.labels import VISIT_STATUS_LABELS

    return VISIT_STATUS_LABELS.get(status, status)


@bp.route("/visits/<int:visit_id>/prepare")
@allow(*VISIT_ROLES)
def prepare(visit_id: int):
    visit = load_visit(visit_id)
    prep = service.preparation(db.session, visit)
    return render_template("visits/prepare.html", visit=visit, prep=prep, occupancy=occupancy(visit.facility),
                           follow_up_form=FollowUpForm(), can_work=can_work_on_visit(current_user, visit))


@bp.route("/visits/<int:visit_id>/follow-ups/<int:follow_up_id>", methods=["POST"])
@allow(*TEAM)
def resolve_follow_up(visit_id: int, follow_up_id: int):
    visit = load_visit(visit_id)
    follow_up = db.session.get(FollowUp, follow_up_id)
    if follow_up is None or follow_up.facility_id != visit.facility_id:
        abort(404)
    if not can_work_on_visit(current_user, visit):
        abort(403)
    form = FollowUpForm()
    if form.validate_on_submit():
        try:
            service.resolve_follow_up(db.session, current_user, follow_up, visit, form.outcome.data)
            flash(_("Follow-up recorded."), "success")
        except ServiceError as exc:
            db.session.rollback()
            flash(str(exc), "error")
    else:
        flash(_("Say what the team found."), "error")
    return redirect(url_for("visits.prepare", visit_id=visit.id) + "#follow-ups"), 303


# -- checklist --------------------------------------------------------------


@bp.route("/visits/<int:visit_id>/checklist")
@allow(*VISIT_ROLES)
def checklist(visit_id: int):
    visit = load_visit(visit_id)
    if not visit.checklists:
        flash(_("No checklist applies to this facility."), "info")
        return redirect(url_for("visits.detail", visit_id=visit.id))
    chosen = request.args.get("list", "")
    current = next((c for c in visit.checklists if str(c.id) == chosen), visit.checklists[0])
    items = {i.id: i for i in db.session.scalars(
        select(ChecklistItem).options(selectinload(ChecklistItem.section))
        .where(ChecklistItem.id.in_(current.item_ids)).order_by(ChecklistItem.position))}
    sources = {s.code: s for s in db.session.scalars(select(LegalSource))}
    answers = answer_service.answers_by_item(db.session, visit)
    sections = []
    for section in current.template.sections:
        section_items = [items[i.id] for i in section.items if i.id in items]
        if section_items:
            sections.append((section, section_items))
    return render_template("visits/checklist.html", visit=visit, current=current, sections=sections,
                           answers=answers, sources=sources, progress=service.visit_progress(db.session, visit),
                           can_work=can_work_on_visit(current_user, visit), payload=answer_service.answer_payload,
                           is_answered=answer_service.is_answered)


def _answer_input() -> tuple[answer_service.AnswerInput, int]:
    """From JSON (the page's script) or a plain form post (no script)."""
    if request.is_json:
        data = request.get_json(silent=True) or {}
    else:
        data = request.form.to_dict()
        if "area_m2" in data or "occupants" in data:
            data["value"] = {"area_m2": data.get("area_m2", ""), "occupants": data.get("occupants", "")}
    rating = data.get("rating") or None
    value = data.get("value")
    if isinstance(value, dict) and not any(str(v).strip() for v in value.values()):
        value = None
    return (answer_service.AnswerInput(rating=rating, value=value,
                                       missing_note=str(data.get("missing_note") or ""),
                                       improve_note=str(data.get("improve_note") or "")),
            _version(str(data.get("version", "0"))))


@bp.route("/visits/<int:visit_id>/answers/<int:item_id>", methods=["POST"])
@allow(*TEAM)
def save_answer(visit_id: int, item_id: int):
    visit = load_visit(visit_id)
    if not can_work_on_visit(current_user, visit):
        abort(403)
    data, base_version = _answer_input()
    try:
        answer = answer_service.save_answer(db.session, current_user, visit, item_id, data, base_version)
    except answer_service.AnswerConflict as conflict:
        db.session.rollback()
        if request.is_json:
            return jsonify(error=str(conflict), conflict=True,
                           current=answer_service.answer_payload(conflict.current)), 409
        flash(_("Someone else answered this item meanwhile. Their answer is shown; yours was not saved."), "error")
        return redirect(url_for("visits.checklist", visit_id=visit.id) + f"#item-{item_id}"), 303
    except ServiceError as exc:
        db.session.rollback()
        if request.is_json:
            return jsonify(error=str(exc)), 422
        flash(str(exc), "error")
        return redirect(url_for("visits.checklist", visit_id=visit.id) + f"#item-{item_id}"), 303
    if request.is_json:
        return jsonify(answer_service.answer_payload(answer))
    flash(_("Answer saved."), "success")
    return redirect(url_for("visits.checklist", visit_id=visit.id) + f"#item-{item_id}"), 303


@bp.route("/visits/<int:visit_id>/answers.json")
@allow(*VISIT_ROLES)
def answers_json(visit_id: int):
    visit = load_visit(visit_id)
    return jsonify({str(k): answer_service.answer_payload(v)
                    for k, v in answer_service.answers_by_item(db.session, visit).items()})


# -- interviews -------------------------------------------------------------


def _confidential_visit(visit_id: int) -> Visit:
    visit = load_visit(visit_id)
    if not can_read_confidential(current_user, visit):
        abort(403)
    return visit


def _interview_input(form: InterviewForm) -> interview_service.InterviewInput:
    return interview_service.InterviewInput(
        category=form.category.data or "", vulnerable_groups=form.vulnerable_groups.data or [],
        consent=form.consent.data, consent_to_be_named=form.consent_to_be_named.data,
        identity=form.identity.data or "", private_setting=form.private_setting.data,
        out_of_staff_hearing=form.out_of_staff_hearing.data, allegations=form.allegations.data or [],
        reprisal_risk=form.reprisal_risk.data, notes=form.notes.data or "",
        client_uuid=form.client_uuid.data or None)


@bp.route("/visits/<int:visit_id>/interviews/new", methods=["GET", "POST"])
@allow(*TEAM)
def new_interview(visit_id: int):
    visit = _confidential_visit(visit_id)
    if not can_work_on_visit(current_user, visit):
        abort(403)
    form = InterviewForm()
    status = 200
    if form.validate_on_submit():
        interview, status = attempt(lambda: interview_service.record_interview(
            db.session, current_user, visit, _interview_input(form), sealer()))
        if status is None:
            flash(_("Interview %(code)s recorded.", code=interview.code), "success")
            return redirect(url_for("visits.detail", visit_id=visit.id) + "#interviews")
    elif request.method == "POST":
        status = 400
    return render_template("visits/interview.html", form=form, visit=visit, interview=None), status


@bp.route("/interviews/<int:interview_id>", methods=["GET", "POST"])
@allow(*TEAM)
def interview(interview_id: int):
    record = db.session.get(Interview, interview_id)
    if record is None:
        abort(404)
    visit = _confidential_visit(record.visit_id)
    form = InterviewForm(obj=record)
    if request.method == "GET":
        opened = interview_service.open_interview(record, sealer())
        form.notes.data, form.identity.data = opened.notes, opened.identity
        form.version.data = record.version
    status = 200
    if request.method == "POST":
        if not can_work_on_visit(current_user, visit):
            abort(403)
        if form.validate_on_submit():
            _done, status = attempt(
                lambda: interview_service.update_interview(db.session, current_user, record, _interview_input(form),
                                                           sealer(), _version(form.version.data)),
                _("Someone else changed this interview after you opened it. Your text is still in the "
                  "form; copy it, reload the page and merge."))
            if status is None:
                flash(_("Interview %(code)s saved.", code=record.code), "success")
                return redirect(url_for("visits.detail", visit_id=visit.id) + "#interviews")
        else:
            status = 400
    return render_template("visits/interview.html", form=form, visit=visit, interview=record,
                           can_work=can_work_on_visit(current_user, visit)), status

