"""One recommendation: issuing it from findings, its page with both tracks
(the authority's response and the NPM's assessment), and the actions on it.
Thin views over services.recommendations; the list is in recommendation_list."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from npmtool import labels
from npmtool.extensions import db
from npmtool.forms import choices
from npmtool.forms.recommendations import (
    AssessmentForm,
    CommentForm,
    CouncilDecisionForm,
    DeadlineForm,
    EscalateForm,
    RecommendationForm,
    ReopenForm,
    ResponseForm,
    VerificationForm,
)
from npmtool.i18n import tr
from npmtool.models import (
    Authority,
    AuthorityResponse,
    DeadlineRevision,
    Evidence,
    Facility,
    Finding,
    LegalSource,
    Recommendation,
    RecommendationDocument,
    RecommendationEvent,
    Verification,
    Visit,
)
from npmtool.models.base import utcnow
from npmtool.services import recommendations as service
from npmtool.services.recommendation_access import (
    COMMENT_ROLES,
    MANAGE_ROLES,
    READ_ROLES,
    can_comment_recommendation,
    can_decide_recommendation,
    can_manage_recommendation,
    can_read_recommendation,
)
from npmtool.services.scope import can_see_facility, facility_clause
from npmtool.services.visit_access import can_read_visit
from npmtool.web.access import allow
from npmtool.web.saving import attempt

bp = Blueprint("recommendations", __name__, url_prefix="/recommendations")

def _stale() -> str:
    return _("Someone else changed this recommendation after you opened the page. Nothing was saved; "
             "your input is kept below — check the page and send it again.")


def _version(value: str | None) -> int:
    return int(value) if (value or "").isdigit() else -1


def load_recommendation(recommendation_id: int) -> Recommendation:
    # Everything the page shows, in a fixed number of queries whatever the
    # length of the history.
    rec = db.session.scalars(select(Recommendation).where(Recommendation.id == recommendation_id).options(
        joinedload(Recommendation.authority), selectinload(Recommendation.facilities),
        selectinload(Recommendation.findings).joinedload(Finding.visit),
        selectinload(Recommendation.deadlines).joinedload(DeadlineRevision.set_by),
        selectinload(Recommendation.responses).joinedload(AuthorityResponse.recorded_by),
        selectinload(Recommendation.responses).joinedload(AuthorityResponse.document),
        selectinload(Recommendation.verifications).joinedload(Verification.visit).selectinload(Visit.team_members),
        selectinload(Recommendation.verifications).joinedload(Verification.recorded_by),
        selectinload(Recommendation.verifications).joinedload(Verification.document),
        selectinload(Recommendation.events).joinedload(RecommendationEvent.user),
        selectinload(Recommendation.documents),
    ).execution_options(populate_existing=True)).first()
    if rec is None:
        abort(404)
    if not can_read_recommendation(current_user, rec):
        abort(403)
    return rec


def _upload(field) -> tuple[str, bytes] | None:
    """The uploaded file of a FileField, or None if nothing was chosen."""
    storage = field.data
    if storage is None or not getattr(storage, "filename", ""):
        return None
    return storage.filename, storage.read()


# -- the page -------------------------------------------------------------------------

def _legal_rows(basis: list[dict] | None) -> list[dict]:
    """Legal basis entries with the source's title in the current language."""
    codes = {b.get("source") for b in basis or [] if b.get("source")}
    sources = {s.code: s for s in db.session.scalars(select(LegalSource).where(LegalSource.code.in_(codes)))} \
        if codes else {}
    rows = []
    for entry in basis or []:
        source = sources.get(entry.get("source"))
        rows.append({"code": entry.get("source"), "article": entry.get("article") or "",
                     "title": tr(source.titles) if source else entry.get("source"),
                     "number": source.number if source else ""})
    return rows


def _field_label(name: str) -> str:
    names = {
        "text": _("Text"), "authority": _("Addressed to"), "topic": _("Topic"), "legal_basis": _("Legal basis"),
        "priority_flags": _("Priority flags"), "priority": _("Priority"), "systemic": _("Systemic"),
        "facilities": _("Facilities"), "findings": _("Findings"), "response_kind": _("Authority's response"),
        "response_on": _("Response date"), "deadline": _("Deadline"), "assessment": _("NPM assessment"),
        "status": _("Status"), "decided_on": _("Decided on"), "document": _("Document"),
    }
    return names.get(name, name)


def _value_label(name: str, value: Any) -> str:
    if value is None or value == [] or value == "":
        return "—"
    lookups = {"priority": labels.PRIORITY_LABELS, "topic": labels.TOPIC_LABELS,
               "response_kind": labels.RESPONSE_KIND_LABELS, "assessment": labels.ASSESSMENT_LABELS,
               "status": labels.RECOMMENDATION_STATUS_LABELS, "priority_flags": labels.PRIORITY_FLAG_LABELS}
    table = lookups.get(name)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        if name == "legal_basis":
            return "; ".join(" ".join(filter(None, [v.get("source"), v.get("article")])) for v in value)
        return ", ".join(str(table.get(v, v)) if table else str(v) for v in value)
    return str(table.get(value, value)) if table else str(value)


def history_rows(events: list[RecommendationEvent]) -> list[dict]:
    rows = []
    # Newest first; by time, since entries recorded later may describe earlier days.
    for event in sorted(events, key=lambda e: (e.at, e.id), reverse=True):
        rows.append({"event": event, "kind": labels.RECOMMENDATION_EVENT_LABELS.get(event.kind, event.kind),
                     "changes": [(_field_label(name), _value_label(name, pair[0]), _value_label(name, pair[1]))
                                 for name, pair in (event.changes or {}).items()
                                 if event.kind != "created"]})
    return rows


def _forms(rec: Recommendation, replace: dict[str, Any] | None = None) -> dict[str, Any]:
    """A fresh form for every action this user may take; ``replace`` holds the
    one that was posted, so it shows again with the person's input."""
    today = utcnow().date()
    replace = replace or {}
    forms: dict[str, Any] = {}
    if can_manage_recommendation(current_user, rec):
        forms["response"] = replace.get("response") or ResponseForm(prefix="response", formdata=None,
                                                                    received_on=today, version=rec.version)
        forms["escalate"] = replace.get("escalate") or EscalateForm(prefix="escalate", formdata=None,
                                                                    version=rec.version)
        if rec.status == "open":
            forms["deadline"] = replace.get("deadline") or DeadlineForm(prefix="deadline", formdata=None,
                                                                        version=rec.version)
            forms["assessment"] = replace.get("assessment") or AssessmentForm(
                prefix="assessment", formdata=None, assessment=rec.assessment, version=rec.version)
            forms["verification"] = replace.get("verification") or VerificationForm(
                prefix="verification", formdata=None, verified_on=today, version=rec.version)
            _document_choices(forms["verification"], rec)
        else:
            forms["reopen"] = replace.get("reopen") or ReopenForm(prefix="reopen", formdata=None,
                                                                  version=rec.version)
    if can_comment_recommendation(current_user, rec):
        forms["comment"] = replace.get("comment") or CommentForm(prefix="comment", formdata=None)
    if can_decide_recommendation(current_user, rec):
        forms["decision"] = replace.get("decision") or CouncilDecisionForm(prefix="decision", formdata=None,
                                                                           decided_on=today)
    return forms


def _document_choices(form: VerificationForm, rec: Recommendation) -> None:
    form.existing_document.choices = choices(
        [("", _("— none —"))] + [(d.id, f"{d.title} ({d.uploaded_at:%Y-%m-%d})") for d in rec.documents])


def _render(rec: Recommendation, replace: dict[str, Any] | None = None, status: int = 200):
    today = utcnow().date()
    findings = rec.findings
    readable_visits = {}

    def visit_link(visit: Visit | None) -> bool:
        if visit is None:
            return False
        if visit.id not in readable_visits:
            readable_visits[visit.id] = can_read_visit(current_user, visit)
        return readable_visits[visit.id]

    shown = [v for v in rec.verifications if v.evidence_ids and visit_link(v.visit)]
    wanted = {evidence_id for v in shown for evidence_id in v.evidence_ids}
    by_id = {e.id: e for e in db.session.scalars(select(Evidence).where(Evidence.id.in_(wanted)))} if wanted else {}
    photos = {v.id: [by_id[i] for i in v.evidence_ids if i in by_id] for v in shown}
    return render_template(
        "recommendations/detail.html", rec=rec, forms=_forms(rec, replace), today=today,
        overdue=rec.status == "open" and rec.current_deadline < today,
        legal=_legal_rows(rec.legal_basis), findings=findings, visit_link=visit_link, photos=photos,
        responses=list(reversed(rec.responses)), verifications=list(reversed(rec.verifications)),
        history=history_rows(rec.events), can_manage=can_manage_recommendation(current_user, rec),
        list_url=url_for("recommendation_list.index"),
    ), status


@bp.route("/<int:recommendation_id>")
@allow(*READ_ROLES)
def detail(recommendation_id: int):
    return _render(load_recommendation(recommendation_id))


def _act(recommendation_id: int, name: str, form_class, action, success: str, *, allowed) -> Any:
    """Validate the posted form, run the service, redirect; or re-render the
    page with the form as it was sent and the reason (400, or 409 if stale)."""
    rec = load_recommendation(recommendation_id)
    if not allowed(current_user, rec):
        abort(403)
    form = form_class(prefix=name)
    if name == "verification":
        _document_choices(form, rec)
    status = 400
    if form.validate_on_submit():
        _result, status = attempt(lambda: action(rec, form), _stale())
        if status is None:
            flash(success, "success")
            return redirect(url_for("recommendations.detail", recommendation_id=rec.id))
    else:
        flash(_("Please correct the marked fields. Nothing was saved."), "error")
    db.session.expire_all()
    rec = load_recommendation(recommendation_id)
    return _render(rec, {name: form}, status)


@bp.route("/<int:recommendation_id>/response", methods=["POST"])
@allow(*MANAGE_ROLES)
def response(recommendation_id: int):
    def action(rec, form):
        service.check_version(rec, _version(form.version.data))
        document = None
        upload = _upload(form.document)
        if upload is not None:
            document = service.add_document(db.session, current_user, rec, filename=upload[0], data=upload[1],
                                            title=_("Response of %(date)s", date=form.received_on.data.isoformat()),
                                            commit=False)
        # The document is saved with the response or not at all.
        return service.record_response(db.session, current_user, rec, kind=form.kind.data, text=form.text.data,
                                       received_on=form.received_on.data, document=document,
                                       expected_version=rec.version)
    return _act(recommendation_id, "response", ResponseForm, action, _("Response recorded."),
                allowed=can_manage_recommendation)


@bp.route("/<int:recommendation_id>/deadline", methods=["POST"])
@allow(*MANAGE_ROLES)
def deadline(recommendation_id: int):
    return _act(recommendation_id, "deadline", DeadlineForm, lambda rec, form: service.revise_deadline(
        db.session, current_user, rec, deadline=form.deadline.data, reason=form.reason.data,
        expected_version=_version(form.version.data)), _("Deadline revised."), allowed=can_manage_recommendation)


@bp.route("/<int:recommendation_id>/assessment", methods=["POST"])
@allow(*MANAGE_ROLES)
def assessment(recommendation_id: int):
    return _act(recommendation_id, "assessment", AssessmentForm, lambda rec, form: service.assess(
        db.session, current_user, rec, assessment=form.assessment.data, note=form.note.data,
        expected_version=_version(form.version.data)), _("Assessment saved."), allowed=can_manage_recommendation)


@bp.route("/<int:recommendation_id>/verification", methods=["POST"])
@allow(*MANAGE_ROLES)
def verification(recommendation_id: int):
    def action(rec, form):
        service.check_version(rec, _version(form.version.data))
        document = None
        if form.existing_document.data:
            document = db.session.get(RecommendationDocument, form.existing_document.data)
        upload = _upload(form.document)
        if upload is not None:
            document = service.add_document(db.session, current_user, rec, filename=upload[0], data=upload[1],
                                            title=_("Verification of %(date)s", date=form.verified_on.data.isoformat()),
                                            commit=False)
        return service.verify(db.session, current_user, rec, kind="document", verdict=form.verdict.data,
                              verified_on=form.verified_on.data, note=form.note.data, document=document,
                              expected_version=rec.version)
    return _act(recommendation_id, "verification", VerificationForm, action, _("Verification recorded."),
                allowed=can_manage_recommendation)


@bp.route("/<int:recommendation_id>/escalate", methods=["POST"])
@allow(*MANAGE_ROLES)
def escalate(recommendation_id: int):
    return _act(recommendation_id, "escalate", EscalateForm, lambda rec, form: service.escalate(
        db.session, current_user, rec, flag=form.flag.data, note=form.note.data,
        expected_version=_version(form.version.data)), _("Priority raised."), allowed=can_manage_recommendation)


@bp.route("/<int:recommendation_id>/reopen", methods=["POST"])
@allow(*MANAGE_ROLES)
def reopen(recommendation_id: int):
    return _act(recommendation_id, "reopen", ReopenForm, lambda rec, form: service.reopen(
        db.session, current_user, rec, reason=form.reason.data, expected_version=_version(form.version.data)),
        _("Recommendation reopened."), allowed=can_manage_recommendation)


@bp.route("/<int:recommendation_id>/comment", methods=["POST"])
@allow(*COMMENT_ROLES)
def comment(recommendation_id: int):
    return _act(recommendation_id, "comment", CommentForm, lambda rec, form: service.add_comment(
        db.session, current_user, rec, form.text.data), _("Comment added."), allowed=can_comment_recommendation)


@bp.route("/<int:recommendation_id>/council-decision", methods=["POST"])
@allow("council")
def council_decision(recommendation_id: int):
    return _act(recommendation_id, "decision", CouncilDecisionForm, lambda rec, form: service.record_council_decision(
        db.session, current_user, rec, form.text.data, form.decided_on.data), _("Council decision recorded."),
        allowed=can_decide_recommendation)


@bp.route("/<int:recommendation_id>/documents/<int:recommendation_document_id>")
@allow(*READ_ROLES)
def document(recommendation_id: int, recommendation_document_id: int):
    rec = load_recommendation(recommendation_id)
    doc = db.session.get(RecommendationDocument, recommendation_document_id)
    if doc is None or doc.recommendation_id != rec.id:
        abort(404)
    try:
        handle = service.open_document(doc)
    except OSError:
        abort(404)
    response = send_file(handle, mimetype=doc.content_type, as_attachment=True, download_name=doc.filename)
    response.headers["Cache-Control"] = "private, no-store"
    return response


# -- issuing a new one ----------------------------------------------------------------

def _ints(name: str) -> list[int]:
    return [int(v) for v in request.args.getlist(name) if v.isdigit()]


def _source(visit: Visit | None, findings: list[Finding]) -> tuple[str | None, list[Facility]]:
    """The country and the facilities the new recommendation starts from."""
    facilities: list[Facility] = []
    if visit is not None:
        facilities.append(visit.facility)
    for finding in findings:
        if finding.facility not in facilities:
            facilities.append(finding.facility)
    country = facilities[0].country_code if facilities else current_user.country_code
    return country, facilities


def _legal_choice(entry: dict) -> str:
    return f"{entry.get('source')}|{entry.get('article') or ''}"


def _setup_new_form(form: RecommendationForm, country: str | None, facilities: list[Facility],
                    findings: list[Finding], legal_union: list[dict]) -> None:
    authorities = db.session.scalars(
        select(Authority).where(Authority.country_code == country).order_by(Authority.position, Authority.code)
    ).all() if country else []
    form.authority.choices = choices([("", _("— choose —"))] + [(a.id, tr(a.names)) for a in authorities])
    form.legal_basis.choices = choices(
        (f"{row['code']}|{row['article']}", " ".join(filter(None, [row["title"], row["number"] and f"№ {row['number']}",
                                                    row["article"] and _("Art. %(a)s", a=row["article"])])))
        for row in _legal_rows(legal_union))
    sources = db.session.scalars(
        select(LegalSource).where((LegalSource.country_code == country) | LegalSource.country_code.is_(None))
        .order_by(LegalSource.country_code.is_(None), LegalSource.code)).all() if country else []
    form.extra_source.choices = choices([("", _("— none —"))] + [(s.code, tr(s.titles)) for s in sources])
    offered = list(facilities)
    if not offered and country:
        offered = db.session.scalars(select(Facility).where(Facility.country_code == country,
                                                            facility_clause(current_user))
                                     .order_by(Facility.name).limit(500)).all()
    form.facilities.choices = choices((f.id, tr(f.names) or f.name) for f in offered)
    form.findings.choices = choices((f.id, f.title) for f in findings)


@bp.route("/new", methods=["GET", "POST"])
@allow(*MANAGE_ROLES)
def new():
    visit_id = request.args.get("visit_id", "")
    visit = db.session.get(Visit, int(visit_id)) if visit_id.isdigit() else None
    if visit_id and visit is None:
        abort(404)
    if visit is not None and not can_see_facility(current_user, visit.facility):
        abort(403)
    findings = db.session.scalars(select(Finding).options(selectinload(Finding.facility))
                                  .where(Finding.id.in_(_ints("finding_id"))).order_by(Finding.id)).all()
    if any(not can_see_facility(current_user, f.facility) for f in findings):
        abort(403)
    if visit is not None and any(f.visit_id != visit.id for f in findings):
        abort(400)
    country, facilities = _source(visit, findings)
    legal_union: list[dict] = []
    for finding in findings:
        for entry in finding.legal_basis or []:
            if entry not in legal_union:
                legal_union.append({"source": entry.get("source"), "article": entry.get("article") or ""})

    form = RecommendationForm()
    _setup_new_form(form, country, facilities, findings, legal_union)
    if request.method == "GET":
        today = utcnow().date()
        form.issued_on.data = today
        form.initial_deadline.data = today + timedelta(days=service.DEFAULT_DEADLINE_DAYS)
        improve = [n for n in (_improve_text(f) for f in findings) if n]
        form.text.data = "\n\n".join(improve)
        form.legal_basis.data = [_legal_choice(e) for e in legal_union]
        form.facilities.data = [f.id for f in facilities]
        form.findings.data = [f.id for f in findings]
        topics = [f.topic for f in findings if f.topic]
        form.topic.data = topics[0] if topics else "other"
        if facilities:
            form.authority.data = facilities[0].authority_id
        flags = ["repeated"] if any(f.repeated for f in findings) else []
        form.priority_flags.data = flags
    status = 200
    if form.validate_on_submit():
        basis = []
        for value in form.legal_basis.data or []:
            source, _sep, article = value.partition("|")
            basis.append({"source": source, "article": article})
        if form.extra_source.data:
            basis.append({"source": form.extra_source.data, "article": (form.extra_article.data or "").strip()})
        data = service.RecommendationInput(
            text=form.text.data, authority_id=form.authority.data, topic=form.topic.data,
            initial_deadline=form.initial_deadline.data, legal_basis=basis,
            priority_flags=form.priority_flags.data or [], systemic=form.systemic.data,
            facility_ids=form.facilities.data or [], finding_ids=form.findings.data or [],
            issued_on=form.issued_on.data)
        rec, status = attempt(lambda: service.create_recommendation(db.session, current_user, data,
                                                                    source_visit=visit))
        if status is None:
            flash(_("Recommendation %(reference)s issued.", reference=rec.reference), "success")
            return redirect(url_for("recommendations.detail", recommendation_id=rec.id))
    elif request.method == "POST":
        status = 400
        flash(_("Please correct the marked fields. Nothing was saved."), "error")
    return render_template("recommendations/new.html", form=form, visit=visit, findings=findings,
                           country=country), status


def _improve_text(finding: Finding) -> str:
    """The "how to improve" notes of the finding's answers, else its text."""
    notes = [a.improve_note.strip() for a in finding.answers if (a.improve_note or "").strip()]
    return "\n".join(notes) if notes else (finding.text or "").strip()
