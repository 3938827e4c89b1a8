"""Complaints: the public form and tracking page (no account), CSO
filing, staff recording of other channels and complaint boxes, triage,
the council's counts and the facility risk view. Views parse and render;
services.complaints does the work."""

from __future__ import annotations

import csv
import io
import math
from datetime import date, timedelta

from flask import (Blueprint, Response, abort, current_app, flash, redirect, render_template, request, session,
                   url_for)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from npmtool.crypto import sealer
from npmtool.extensions import db
from npmtool.forms import choices
from npmtool.forms.complaints import (
    EVENT_LABELS,
    FILER_LABELS,
    PUBLIC_STATUS_LABELS,
    STATUS_LABELS,
    UNSURE,
    AnswerForm,
    BoxOpeningForm,
    CloseForm,
    LetterForm,
    LinkForm,
    PublicComplaintForm,
    ReferForm,
    ReopenForm,
    ReplyForm,
    ReviewForm,
    StaffComplaintForm,
    TrackForm,
    VisitForm,
)
from npmtool.i18n import tr
from npmtool.models import (
    Authority,
    Complaint,
    ComplaintAttachment,
    ComplaintBoxOpening,
    ComplaintCategory,
    ComplaintChannel,
    Country,
    Facility,
    Region,
    User,
    VisitType,
)
from npmtool.services import complaints as service
from npmtool.services.complaint_risk import days_since, risk_ranking
from npmtool.services.scope import facility_clause
from npmtool.services.throttle import hit, is_limited, limit_key
from npmtool.services.visits import TeamEntry, team_candidates
from npmtool.web.access import PUBLIC, allow, load_or_abort
from npmtool.web.saving import attempt
from npmtool.services.scope import can_see_facility
from npmtool.services import audit

bp = Blueprint("complaints", __name__)

STAFF = ("admin", "coordinator")
FACILITY_CHOICES_LIMIT = 60


def _limits() -> service.Limits:
    config = current_app.config
    return service.Limits(max_attachments=config["COMPLAINT_MAX_ATTACHMENTS"],
                          attachment_bytes=min(config["COMPLAINT_ATTACHMENT_MAX_BYTES"], config["EVIDENCE_MAX_BYTES"]),
                          max_pixels=current_app.config["EVIDENCE_MAX_PIXELS"])


def _host():
    return current_app.extensions["npmtool"]


def _version(value: str | None) -> int:
    return int(value) if (value or "").isdigit() else -1


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() else None


# -- rate limiting ------------------------------------------------------------

def _key(bucket: str) -> str:
    return limit_key(current_app.config["SECRET_KEY"], bucket, request.remote_addr or "?")


def _limited(bucket: str) -> bool:
    limit = current_app.config[f"COMPLAINT_{bucket.upper()}_LIMIT"]
    minutes = current_app.config[f"COMPLAINT_{bucket.upper()}_WINDOW_MINUTES"]
    return is_limited(db.session, _key(bucket), limit, timedelta(minutes=minutes))


def _count(bucket: str) -> None:
    hit(db.session, _key(bucket), keep=timedelta(days=1))


# -- choices ------------------------------------------------------------------

def _countries() -> list[Country]:
    query = select(Country).order_by(Country.code)
    if current_user.is_authenticated and current_user.country_code:
        query = query.where(Country.code == current_user.country_code)
    return list(db.session.scalars(query))


def _category_choices(country_codes: list[str]) -> list:
    """One entry per category code, heaviest first; the service checks that
    the chosen one exists in the chosen country."""
    rows = db.session.scalars(select(ComplaintCategory).where(ComplaintCategory.country_code.in_(country_codes))
                              .order_by(ComplaintCategory.weight.desc(), ComplaintCategory.code)).all()
    seen: dict[str, str] = {}
    for row in rows:
        seen.setdefault(row.code, tr(row.names))
    return choices([("", "—")] + list(seen.items()))


def _facility_search(form, scoped: bool) -> None:
    """Fill the facility list from the search words and region: the form
    works without JavaScript (the search button re-renders it)."""
    country = form.country.data or None
    region_id = form.region_id.data or None
    words = (form.q.data or "").casefold().split()
    options = [("", _("— search, then choose —")), (UNSURE, _("Not sure / I don't know"))]
    query = select(Facility).where(Facility.is_active.is_(True))
    if scoped:
        query = query.where(facility_clause(current_user))
    if country:
        query = query.where(Facility.country_code == country)
    if region_id:
        query = query.where(Facility.region_id == region_id)
    for word in words[:6]:
        escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(Facility.search_text.like(f"%{escaped}%", escape="\\"))
    found = []
    if country and (words or region_id):
        found = list(db.session.scalars(query.order_by(Facility.name).limit(FACILITY_CHOICES_LIMIT)))
    chosen = form.facility.data
    if chosen and chosen.isdigit() and all(str(f.id) != chosen for f in found):
        facility = db.session.get(Facility, int(chosen))
        if facility is not None and (not scoped or _visible_facility(facility)):
            found.insert(0, facility)
    form.facility.choices = choices(options + [(str(f.id), tr(f.names) or f.name) for f in found])
    form.facilities_found = len(found)


def _visible_facility(facility: Facility) -> bool:
    return can_see_facility(current_user, facility)


def _fill(form, scoped: bool = False) -> None:
    countries = _countries()
    codes = [c.code for c in countries]
    form.country.choices = choices([("", "—")] + [(c.code, tr(c.names)) for c in countries])
    if len(countries) == 1 and not form.country.data:
        form.country.data = countries[0].code
    regions = db.session.scalars(select(Region).where(Region.country_code.in_(codes)).order_by(Region.code)).all()
    form.region_id.choices = choices([(0, _("Any region"))])
    for country in countries:
        form.region_id.choices += choices([(r.id, tr(r.names)) for r in regions if r.country_code == country.code],
                                          tr(country.names))
    form.category.choices = _category_choices(codes)
    _facility_search(form, scoped)
    if hasattr(form, "channel"):
        channels = db.session.scalars(select(ComplaintChannel).where(ComplaintChannel.country_code.in_(codes))
                                      .order_by(ComplaintChannel.country_code, ComplaintChannel.id)).all()
        seen: dict[str, str] = {}
        for channel in channels:
            if channel.kind != "box":  # box letters are recorded through their opening
                seen.setdefault(channel.code, tr(channel.names))
        form.channel.choices = choices([("", "—")] + list(seen.items()))


def _uploads(form) -> list[service.Upload]:
    uploads = []
    for storage in request.files.getlist(form.attachments.name):
        if storage and storage.filename:
            uploads.append(service.Upload(storage.filename, storage.read(_limits().attachment_bytes + 1)))
    return uploads


def _input(form, channel: str = "web") -> service.ComplaintInput:
    facility = form.facility.data
    return service.ComplaintInput(
        country_code=form.country.data, category_code=form.category.data, text=form.text.data or "",
        channel_code=channel, facility_id=int(facility) if facility and facility.isdigit() else None,
        region_id=form.region_id.data or None, occurred_on=form.occurred_on.data,
        received_on=getattr(form, "received_on", None) and form.received_on.data,
        consent_to_be_named=form.consent_to_be_named.data, identity=form.identity.data or "",
        contact=form.contact.data or "", filer=form.filer.data or "other", attachments=_uploads(form))


# -- the public form and tracking page --------------------------------------------

@bp.route("/complain", methods=["GET", "POST"])
@allow(PUBLIC)
def complain():
    form = PublicComplaintForm()
    if request.method == "GET" and request.args.get("country"):
        form.country.data = request.args["country"]
    _fill(form)
    status = 200
    if request.method == "POST" and "find" not in request.form:
        status = _file_public(form)
        if status is None:
            return redirect(url_for("complaints.sent"))
    return render_template("complaints/form.html", form=form, public=True), status


def _file_public(form) -> int | None:
    """File the complaint; None on success, else the status to re-render with."""
    if _limited("form"):
        flash(_("Too many complaints were sent from this connection. Your text is still below: wait an hour "
                "and send it again, or call the hotline."), "error")
        return 429
    _count("form")
    if form.website.data:
        # A robot filled the honeypot: answer as if filed, store nothing.
        session["complaint_code"] = service.new_tracking_code()
        return None
    if not form.validate():
        flash(_("Please correct the marked fields. Attachments must be chosen again."), "error")
        return 400
    user = current_user if current_user.is_authenticated and current_user.role == "cso" else None
    result, status = attempt(lambda: service.file_complaint(
        db.session, user, _input(form), sealer(), secret=current_app.config["SECRET_KEY"],
        catalogue=_host().catalogue, limits=_limits(), plugins=_host()))
    if result is None:
        flash(_("Attachments must be chosen again."), "info")
        return status
    session["complaint_code"] = result[1]
    return None


@bp.route("/complain/sent")
@allow(PUBLIC)
def sent():
    # The code is shown once; it is not kept anywhere we could show it again.
    code = session.pop("complaint_code", None)
    if code is None:
        return redirect(url_for("complaints.track"))
    return render_template("complaints/sent.html", code=code)


@bp.route("/track", methods=["GET", "POST"])
@allow(PUBLIC)
def track():
    form = TrackForm()
    view = None
    status = 200
    if request.method == "POST":
        if _limited("track"):
            flash(_("Too many attempts from this connection. Wait a quarter of an hour and try again."), "error")
            return render_template("complaints/track.html", form=form, view=None), 429
        _count("track")
        if form.validate():
            complaint = service.find_by_code(db.session, current_app.config["SECRET_KEY"], form.code.data)
            if complaint is not None:
                view = service.public_view(complaint, sealer())
            else:
                # The same words for a malformed code and an unknown one.
                flash(_("No complaint matches this code. Check it and try again."), "error")
        else:
            status = 400
    return render_template("complaints/track.html", form=form, view=view,
                           public_labels=PUBLIC_STATUS_LABELS), status


# -- lists, counts, export ------------------------------------------------------

def _filters() -> service.ComplaintFilters:
    return service.ComplaintFilters(status=request.args.get("status") or None, category_id=_int_arg("category"),
                                    channel_id=_int_arg("channel"), facility_id=_int_arg("facility"),
                                    overdue=request.args.get("overdue") == "1",
                                    urgent=request.args.get("urgent") == "1")


@bp.route("/complaints/")
@allow("admin", "coordinator", "cso", "council")
def index():
    if current_user.role == "council":
        return redirect(url_for("complaints.overview"))
    per_page = current_app.config["PAGE_SIZE"]
    page = max(_int_arg("page") or 1, 1)
    filters = _filters()
    rows, total = service.list_complaints(db.session, current_user, filters, page, per_page)
    return render_template("complaints/index.html", rows=rows, total=total, page=page,
                           pages=max(math.ceil(total / per_page), 1), filters=filters, today=date.today(),
                           is_overdue=service.is_overdue, labels_status=STATUS_LABELS,
                           staff=current_user.role in STAFF)


@bp.route("/complaints/overview")
@allow("admin", "coordinator", "council")
def overview():
    days = _int_arg("days") or 365
    counts = service.overview(db.session, current_user, since=date.today() - timedelta(days=days))
    return render_template("complaints/overview.html", counts=counts, days=days, labels_status=STATUS_LABELS)


@bp.route("/complaints/export.csv")
@allow(*STAFF)
def export():
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in service.export_rows(db.session, current_user, _filters()):
        writer.writerow(row)
    return Response(buffer.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=complaints.csv"})


# -- recording other channels ---------------------------------------------------

@bp.route("/complaints/new", methods=["GET", "POST"])
@allow(*STAFF)
def new():
    form = StaffComplaintForm()
    if request.method == "GET":
        form.received_on.data = date.today()
    _fill(form, scoped=True)
    status = 200
    if request.method == "POST" and "find" not in request.form:
        status = 400
        if form.validate():
            result, status = attempt(lambda: service.file_complaint(
                db.session, current_user, _input(form, channel=form.channel.data), sealer(),
                secret=current_app.config["SECRET_KEY"], catalogue=_host().catalogue, limits=_limits(),
                with_code=False, plugins=_host()))
            if result is not None:
                flash(_("Complaint no. %(id)s recorded.", id=result[0].id), "success")
                return redirect(url_for("complaints.detail", complaint_id=result[0].id))
        else:
            flash(_("Please correct the marked fields."), "error")
    return render_template("complaints/form.html", form=form, public=False), status


# -- one complaint ------------------------------------------------------------

def _load(complaint_id: int) -> Complaint:
    return load_or_abort(Complaint, complaint_id, service.can_read_complaint)


def _managed(complaint_id: int) -> Complaint:
    complaint = _load(complaint_id)
    if not service.can_manage_complaint(current_user, complaint):
        abort(403)
    return complaint


def _triage_forms(complaint: Complaint, **given) -> dict:
    version = str(complaint.version)
    forms = {"review": ReviewForm(prefix="review"), "refer": ReferForm(prefix="refer"),
             "answer": AnswerForm(prefix="answer"), "visit": VisitForm(prefix="visit"),
             "close": CloseForm(prefix="close"), "reopen": ReopenForm(prefix="reopen"),
             "reply": ReplyForm(prefix="reply"), "link": LinkForm(prefix="link")}
    forms.update(given)
    for name, form in forms.items():
        if hasattr(form, "version") and name not in given:
            form.version.data = version
    authorities = db.session.scalars(select(Authority).where(Authority.country_code == complaint.country_code)
                                     .order_by(Authority.position)).all()
    forms["refer"].authority_id.choices = choices([(0, "—")] + [(a.id, tr(a.names)) for a in authorities])
    if "refer" not in given:
        forms["refer"].referred_on.data = date.today()
        forms["answer"].answered_on.data = date.today()
    types = db.session.scalars(select(VisitType).where(VisitType.country_code == complaint.country_code)
                               .order_by(VisitType.position)).all()
    forms["visit"].visit_type.choices = choices([(t.code, tr(t.names)) for t in types])
    people = team_candidates(db.session, complaint.facility) if complaint.facility else []
    forms["visit"].lead_id.choices = choices([(0, "—")] + [(u.id, u.full_name) for u in people])
    forms["visit"].member_ids.choices = choices([(u.id, u.full_name) for u in people])
    if "visit" not in given:
        forms["visit"].visit_type.data = service.reactive_visit_type(db.session, complaint.country_code)
        forms["visit"].starts_on.data = date.today() + timedelta(days=1)
        forms["visit"].ends_on.data = date.today() + timedelta(days=1)
    return forms


def _detail_page(complaint: Complaint, status: int = 200, **given):
    opened = service.open_complaint(db.session, current_user, complaint, sealer())
    staff = service.can_manage_complaint(current_user, complaint)
    attachments = [(a, service.open_attachment(sealer(), a)[0]) for a in complaint.attachments] if staff else []
    return render_template("complaints/detail.html", complaint=complaint, opened=opened, staff=staff,
                           forms=_triage_forms(complaint, **given) if staff else {}, attachments=attachments,
                           overdue=service.is_overdue(complaint), labels_status=STATUS_LABELS,
                           public_labels=PUBLIC_STATUS_LABELS, event_labels=EVENT_LABELS,
                           filer_labels=FILER_LABELS), status


@bp.route("/complaints/<int:complaint_id>")
@allow("admin", "coordinator", "cso")
def detail(complaint_id: int):
    return _detail_page(_load(complaint_id))


def _step(complaint_id: int, name: str, form_class, action, success: str):
    """Validate one triage form, run its service call, or re-render the page
    with the form as typed (409 if someone else saved meanwhile)."""
    complaint = _managed(complaint_id)
    form = form_class(prefix=name)
    if form.validate():
        result, status = attempt(lambda: action(complaint, form))
        if status is None:
            flash(success, "success")
            return redirect(url_for("complaints.detail", complaint_id=complaint.id))
    else:
        status = 400
        flash(_("Please correct the marked fields."), "error")
    return _detail_page(db.session.get(Complaint, complaint_id), status, **{name: form})


@bp.route("/complaints/<int:complaint_id>/review", methods=["POST"])
@allow(*STAFF)
def review(complaint_id: int):
    return _step(complaint_id, "review", ReviewForm, lambda c, f: service.start_review(
        db.session, current_user, c, _version(f.version.data), catalogue=_host().catalogue, sealer=sealer(),
        note=f.note.data or ""), _("The complaint is under review."))


@bp.route("/complaints/<int:complaint_id>/refer", methods=["POST"])
@allow(*STAFF)
def refer(complaint_id: int):
    def form_class(prefix):
        form = ReferForm(prefix=prefix)
        form.authority_id.choices = choices([(a.id, "") for a in db.session.scalars(select(Authority))] + [(0, "")])
        return form
    return _step(complaint_id, "refer", form_class, lambda c, f: service.refer(
        db.session, current_user, c, _version(f.version.data), authority_id=f.authority_id.data,
        referred_on=f.referred_on.data, catalogue=_host().catalogue, sealer=sealer(), note=f.note.data or ""),
        _("The complaint was referred."))


@bp.route("/complaints/<int:complaint_id>/answer", methods=["POST"])
@allow(*STAFF)
def answer(complaint_id: int):
    return _step(complaint_id, "answer", AnswerForm, lambda c, f: service.record_authority_answer(
        db.session, current_user, c, _version(f.version.data), text=f.answer.data, answered_on=f.answered_on.data),
        _("The authority's answer was recorded."))


@bp.route("/complaints/<int:complaint_id>/visit", methods=["POST"])
@allow(*STAFF)
def plan_visit(complaint_id: int):
    def form_class(prefix):
        form = VisitForm(prefix=prefix)
        form.visit_type.choices = choices([(t, t) for t in db.session.scalars(select(VisitType.code))])
        ids = [(u, "") for u in db.session.scalars(select(User.id))]
        form.lead_id.choices = choices(ids)
        form.member_ids.choices = choices(ids)
        return form

    def action(complaint, form):
        team = [TeamEntry(form.lead_id.data, "lead")] + [TeamEntry(m, "member") for m in form.member_ids.data
                                                          if m != form.lead_id.data]
        return service.plan_special_visit(db.session, current_user, complaint, _version(form.version.data),
                                          starts_on=form.starts_on.data, ends_on=form.ends_on.data, team=team,
                                          visit_type=form.visit_type.data, catalogue=_host().catalogue,
                                          sealer=sealer())
    return _step(complaint_id, "visit", form_class, action, _("A special visit was planned."))


@bp.route("/complaints/<int:complaint_id>/close", methods=["POST"])
@allow(*STAFF)
def close(complaint_id: int):
    return _step(complaint_id, "close", CloseForm, lambda c, f: service.close(
        db.session, current_user, c, _version(f.version.data), outcome=f.outcome.data,
        public_reply=f.public_reply.data or "", sealer=sealer(), catalogue=_host().catalogue),
        _("The complaint was closed."))


@bp.route("/complaints/<int:complaint_id>/reopen", methods=["POST"])
@allow(*STAFF)
def reopen(complaint_id: int):
    return _step(complaint_id, "reopen", ReopenForm, lambda c, f: service.reopen(
        db.session, current_user, c, _version(f.version.data), reason=f.reason.data, sealer=sealer(),
        catalogue=_host().catalogue), _("The complaint was reopened."))


@bp.route("/complaints/<int:complaint_id>/reply", methods=["POST"])
@allow(*STAFF)
def reply(complaint_id: int):
    return _step(complaint_id, "reply", ReplyForm, lambda c, f: service.add_reply(
        db.session, current_user, c, f.reply.data, public=f.public.data, sealer=sealer()), _("Saved."))


@bp.route("/complaints/<int:complaint_id>/link", methods=["POST"])
@allow(*STAFF)
def link(complaint_id: int):
    return _step(complaint_id, "link", LinkForm, lambda c, f: service.link_recommendation(
        db.session, current_user, c, f.reference.data), _("The recommendation was linked."))


@bp.route("/complaints/<int:complaint_id>/attachments/<int:attachment_id>")
@allow(*STAFF)
def attachment(complaint_id: int, attachment_id: int):
    complaint = _managed(complaint_id)
    item = db.session.get(ComplaintAttachment, attachment_id)
    if item is None or item.complaint_id != complaint.id:
        abort(404)
    filename, data = service.open_attachment(sealer(), item)
    audit.record(db.session, current_user, "complaint.attachment_opened", "complaint", complaint.id,
                 attachment_id=item.id)
    db.session.commit()
    safe = "".join(ch for ch in filename if ch.isalnum() or ch in "._-")[:80] or "attachment"
    # Always a download: a PDF or image from the public is never rendered in our origin.
    return Response(data, mimetype=item.media_type,
                    headers={"Content-Disposition": f'attachment; filename="{safe}"',
                             "Cache-Control": "no-store"})


# -- complaint boxes --------------------------------------------------------------

def _box_form_choices(form: BoxOpeningForm) -> None:
    facilities = db.session.scalars(
        select(Facility).join(ComplaintChannel, (ComplaintChannel.country_code == Facility.country_code)
                              & (ComplaintChannel.kind == "box"))
        .where(facility_clause(current_user), Facility.is_active.is_(True)).order_by(Facility.name).limit(500)).all()
    form.facility_id.choices = choices([(0, "—")] + [(f.id, tr(f.names) or f.name) for f in facilities])
    staff = select(User).where(User.role.in_(("admin", "coordinator", "monitor")),
                               User.is_active_account.is_(True)).order_by(User.full_name)
    if current_user.country_code:
        staff = staff.where((User.country_code == current_user.country_code) | User.country_code.is_(None))
    form.opened_by_id.choices = choices([(u.id, u.full_name) for u in db.session.scalars(staff)])


@bp.route("/complaints/boxes")
@allow(*STAFF)
def boxes():
    query = (select(ComplaintBoxOpening).join(Facility).where(facility_clause(current_user))
             .order_by(ComplaintBoxOpening.opened_on.desc(), ComplaintBoxOpening.id.desc()).limit(200))
    openings = db.session.scalars(query).all()
    return render_template("complaints/boxes.html", openings=openings)


@bp.route("/complaints/boxes/new", methods=["GET", "POST"])
@allow(*STAFF)
def new_box_opening():
    form = BoxOpeningForm()
    _box_form_choices(form)
    if request.method == "GET":
        form.opened_on.data = date.today()
        form.opened_by_id.data = current_user.id
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate():
            data = service.BoxOpeningInput(
                facility_id=form.facility_id.data, box_label=form.box_label.data, opened_on=form.opened_on.data,
                opened_by_id=form.opened_by_id.data, letters_count=form.letters_count.data,
                witnesses=form.witnesses.data or "", notes=form.notes.data or "")
            opening, status = attempt(lambda: service.record_box_opening(db.session, current_user, data))
            if opening is not None:
                flash(_("Box opening recorded. Now record each letter."), "success")
                return redirect(url_for("complaints.box_opening", opening_id=opening.id))
        else:
            flash(_("Please correct the marked fields."), "error")
    return render_template("complaints/box_new.html", form=form), status


def _load_opening(opening_id: int) -> ComplaintBoxOpening:
    return load_or_abort(ComplaintBoxOpening, opening_id, lambda _user, opening: _visible_facility(opening.facility))


def _letter_form(opening: ComplaintBoxOpening) -> LetterForm:
    form = LetterForm()
    form.category.choices = _category_choices([opening.country_code])
    return form


@bp.route("/complaints/boxes/<int:opening_id>", methods=["GET", "POST"])
@allow(*STAFF)
def box_opening(opening_id: int):
    opening = _load_opening(opening_id)
    form = _letter_form(opening)
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate():
            data = service.ComplaintInput(
                country_code=opening.country_code, category_code=form.category.data, text=form.text.data,
                occurred_on=form.occurred_on.data, consent_to_be_named=form.consent_to_be_named.data,
                identity=form.identity.data or "", contact=form.contact.data or "", filer=form.filer.data or "self")
            complaint, status = attempt(lambda: service.add_box_letter(
                db.session, current_user, opening, data, sealer(), secret=current_app.config["SECRET_KEY"],
                catalogue=_host().catalogue, plugins=_host(), limits=_limits()))
            if complaint is not None:
                flash(_("Letter recorded as complaint no. %(id)s.", id=complaint.id), "success")
                return redirect(url_for("complaints.box_opening", opening_id=opening.id))
        else:
            flash(_("Please correct the marked fields."), "error")
    return render_template("complaints/box_opening.html", opening=opening, form=form,
                           labels_status=STATUS_LABELS), status


# -- where to visit next ----------------------------------------------------------

@bp.route("/complaints/risk")
@allow(*STAFF)
def risk():
    region_id = _int_arg("region")
    rows = risk_ranking(db.session, current_user, region_id=region_id)
    regions_query = select(Region).order_by(Region.code)
    if current_user.country_code:
        regions_query = regions_query.where(Region.country_code == current_user.country_code)
    if current_user.role == "coordinator" and current_user.region_ids:
        regions_query = regions_query.where(Region.id.in_(current_user.region_ids))
    return render_template("complaints/risk.html", rows=rows, days_since=days_since, today=date.today(),
                           regions=db.session.scalars(regions_query).all(), region_id=region_id)
