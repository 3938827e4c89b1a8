"""Findings of a visit and the follow-up of earlier recommendations at it.
Thin views over services.findings and services.follow_up.

Who may do what: the visit's team and coordinators of its region edit
findings and record verdicts until the report is sent; administrators read;
council members read confirmed findings only, never interview codes."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from npmtool.extensions import db
from npmtool.forms import choices
from npmtool.forms.findings import (
    FINDING_SOURCE_LABELS,
    FINDING_STATUS_LABELS,
    DraftFindingsForm,
    FindingForm,
    FindingStatusForm,
    VerdictForm,
)
from npmtool.models import Finding, Recommendation, Visit
from npmtool.services import findings as service
from npmtool.services import follow_up as follow_up_service
from npmtool.services.recommendation_access import can_manage_recommendation
from npmtool.services.scope import can_see_facility
from npmtool.services.visit_access import can_read_confidential, can_read_visit
from npmtool.web.access import allow, load_or_abort
from npmtool.web.saving import attempt

bp = Blueprint("findings", __name__)

READERS = ("admin", "coordinator", "monitor", "council")
VISIT_READERS = ("admin", "coordinator", "monitor")
TEAM = ("coordinator", "monitor")
GROUP_ORDER = ("draft", "confirmed", "dismissed")


def _int(value: str | None) -> int:
    value = (value or "").strip()
    return int(value) if value.isdigit() else -1


def _visit(visit_id: int) -> Visit:
    return load_or_abort(Visit, visit_id, service.can_read_findings)


def _finding(finding_id: int) -> Finding:
    """A finding the signed-in user may edit (403 otherwise)."""
    return load_or_abort(Finding, finding_id, lambda user, finding: can_read_visit(user, finding.visit))


# -- the visit's findings -----------------------------------------------------------


@bp.route("/visits/<int:visit_id>/findings")
@allow(*READERS)
def visit_findings(visit_id: int):
    visit = _visit(visit_id)
    rows = service.visit_findings(db.session, current_user, visit)
    groups = [(status, [f for f in rows if f.status == status]) for status in GROUP_ORDER]
    groups = [(status, items) for status, items in groups if items]
    can_recommend = can_manage_recommendation(current_user) and can_see_facility(current_user, visit.facility)
    return render_template(
        "findings/index.html", visit=visit, groups=groups, total=len(rows),
        can_edit=service.can_edit_findings(current_user, visit), can_recommend=can_recommend,
        show_codes=can_read_confidential(current_user, visit), show_photos=can_read_visit(current_user, visit),
        draft_form=DraftFindingsForm(), status_form=FindingStatusForm(), status_labels=FINDING_STATUS_LABELS,
        source_labels=FINDING_SOURCE_LABELS, council=current_user.role == "council")


@bp.route("/visits/<int:visit_id>/findings/draft", methods=["POST"])
@allow(*TEAM)
def draft_from_checklist(visit_id: int):
    visit = _visit(visit_id)
    if not service.can_edit_findings(current_user, visit):
        abort(403)
    if not DraftFindingsForm().validate_on_submit():
        abort(400)
    created, status = attempt(lambda: service.draft_findings_from_answers(db.session, current_user, visit))
    if status is None:
        if created:
            repeated = sum(1 for f in created if f.repeated)
            flash(_("%(num)s draft findings added from the checklist (%(repeated)s repeated from the "
                    "previous visit).", num=len(created), repeated=repeated), "success")
        else:
            flash(_("No new findings: every item rated “partly” or “not yet” already has one."), "info")
    return redirect(url_for("findings.visit_findings", visit_id=visit.id)), 303


def _prepare_form(form: FindingForm, visit: Visit, confidential: bool) -> list:
    photos = service.visit_photos(db.session, visit)
    form.evidence_ids.choices = choices((p.id, p.caption or _("Photo %(number)s", number=p.id)) for p in photos)
    if confidential:
        form.interview_codes.choices = choices((c, c) for c in service.interview_codes(db.session, visit))
    return photos


def _finding_input(form: FindingForm, confidential: bool) -> service.FindingInput:
    return service.FindingInput(
        title=form.title.data or "", text=form.text.data or "", topic=form.topic.data or "",
        legal_basis=service.parse_legal_basis(form.legal_basis.data or ""),
        evidence_ids=list(form.evidence_ids.data or []),
        # Someone who may not see interview codes leaves them as they are.
        interview_codes=list(form.interview_codes.data or []) if confidential else None)


def _render_form(form: FindingForm, visit: Visit, finding: Finding | None, photos: list, confidential: bool,
                 status: int):
    return render_template("findings/form.html", form=form, visit=visit, finding=finding, photos=photos,
                           confidential=confidential, status_form=FindingStatusForm()), status


@bp.route("/visits/<int:visit_id>/findings/new", methods=["GET", "POST"])
@allow(*TEAM)
def new(visit_id: int):
    visit = _visit(visit_id)
    if not service.can_edit_findings(current_user, visit):
        abort(403)
    confidential = can_read_confidential(current_user, visit)
    form = FindingForm()
    photos = _prepare_form(form, visit, confidential)
    status = 200
    if form.validate_on_submit():
        finding, status = attempt(lambda: service.create_finding(db.session, current_user, visit,
                                                                 _finding_input(form, confidential)))
        if status is None:
            flash(_("Finding saved as a draft."), "success")
            return redirect(url_for("findings.visit_findings", visit_id=visit.id) + f"#finding-{finding.id}"), 303
    elif request.method == "POST":
        status = 400
    return _render_form(form, visit, None, photos, confidential, status)


@bp.route("/findings/<int:finding_id>/edit", methods=["GET", "POST"])
@allow(*TEAM)
def edit(finding_id: int):
    finding = _finding(finding_id)
    visit = finding.visit
    if not service.can_edit_findings(current_user, visit):
        abort(403)
    confidential = can_read_confidential(current_user, visit)
    form = FindingForm(obj=finding)
    if request.method == "GET":
        form.legal_basis.data = service.format_legal_basis(finding.legal_basis)
        form.evidence_ids.data = [e.id for e in finding.evidence]
        form.interview_codes.data = list(finding.interview_codes or [])
        form.version.data = finding.version
    photos = _prepare_form(form, visit, confidential)
    status = 200
    if form.validate_on_submit():
        _done, status = attempt(
            lambda: service.update_finding(db.session, current_user, finding, _int(form.version.data),
                                           _finding_input(form, confidential)),
            _("Someone else changed this finding after you opened it. Nothing was saved; your text is "
              "still in the form: copy it, reload the page and merge."))
        if status is None:
            flash(_("Finding saved."), "success")
            return redirect(url_for("findings.visit_findings", visit_id=visit.id) + f"#finding-{finding.id}"), 303
    elif request.method == "POST":
        status = 400
    return _render_form(form, visit, finding, photos, confidential, status)


@bp.route("/findings/<int:finding_id>/status", methods=["POST"])
@allow(*TEAM)
def set_status(finding_id: int):
    finding = _finding(finding_id)
    if not service.can_edit_findings(current_user, finding.visit):
        abort(403)
    form = FindingStatusForm()
    if not form.validate_on_submit():
        abort(400)
    _done, status = attempt(
        lambda: service.set_finding_status(db.session, current_user, finding, form.status.data,
                                           _int(form.version.data)),
        _("Someone else changed this finding meanwhile; check it and try again."))
    if status is None:
        flash({"confirmed": _("Finding confirmed."), "dismissed": _("Finding dismissed."),
               "draft": _("Finding back to draft.")}[finding.status], "success")
    return redirect(url_for("findings.visit_findings", visit_id=finding.visit_id) + f"#finding-{finding.id}"), 303


# -- follow-up of earlier recommendations -------------------------------------------


@bp.route("/visits/<int:visit_id>/follow-up", methods=["GET", "POST"])
@allow(*VISIT_READERS)
def follow_up(visit_id: int):
    visit = load_or_abort(Visit, visit_id, can_read_visit)
    can_record = follow_up_service.can_record_verdicts(current_user, visit)
    failed: dict[int, VerdictForm] = {}
    status = 200
    if request.method == "POST":
        if not can_record:
            abort(403)
        rec = db.session.get(Recommendation, _int(request.form.get("recommendation_id")))
        if rec is None:
            abort(400)
        form = VerdictForm(prefix=f"rec{rec.id}")
        if form.validate_on_submit():
            _done, status = attempt(
                lambda: follow_up_service.record_verdict(
                    db.session, current_user, visit, rec, verdict=form.verdict.data, note=form.note.data or "",
                    evidence_ids=list(form.evidence_ids.data or []), expected_version=_int(form.version.data)),
                _("Someone else changed this recommendation after you opened the page. Nothing was saved; "
                  "your verdict is still in the form: check the recommendation and send it again."))
            if status is None:
                flash(_("Verdict on %(ref)s recorded.", ref=rec.reference), "success")
                return redirect(url_for("findings.follow_up", visit_id=visit.id) + f"#rec-{rec.id}"), 303
        else:
            status = 400
        failed[rec.id] = form
    rows = follow_up_service.follow_up_rows(db.session, visit)
    photos = service.visit_photos(db.session, visit) if can_record else []
    forms = {}
    for row in rows:
        rec = row.recommendation
        form = failed.get(rec.id) or VerdictForm(prefix=f"rec{rec.id}", formdata=None, version=rec.version)
        form.evidence_ids.choices = choices((p.id, p.caption or _("Photo %(number)s", number=p.id)) for p in photos)
        forms[rec.id] = form
    return render_template(
        "findings/follow_up.html", visit=visit, rows=rows, forms=forms, failed=failed, photos=photos,
        can_record=can_record, reprisal_checks=follow_up_service.open_reprisal_checks(db.session, visit)), status
