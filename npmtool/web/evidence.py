"""Photo evidence of a visit: upload, list, details, redaction, files and the
signed manifest. Thin views over services.evidence.

Who may do what (services.visit_access): whoever may read the visit sees
the list, thumbnails and redacted publication copies; originals — and the
unredacted preview the redaction editor draws on — are for the visit team
and coordinators only (never administrators); uploading and redacting need
the right to work on the visit."""

from __future__ import annotations

import json
import math
import uuid

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from npmtool.extensions import db
from npmtool.i18n import tr
from npmtool.models import ChecklistItem, Evidence, Interview, User, Visit, VisitChecklist
from npmtool.services import evidence as service
from npmtool.services.evidence_store import current_store
from npmtool.services.visit_access import can_read_confidential, can_read_visit, can_work_on_visit
from npmtool.web.access import allow, load_or_abort
from npmtool.web.visits import load_visit

bp = Blueprint("evidence", __name__)

READERS = ("admin", "coordinator", "monitor")
# Administrators never see unredacted photos, nor work on visits.
TEAM = ("coordinator", "monitor")
EMPTY_BOX_ROWS = 3
MAX_BOX_ROWS = service.MAX_REDACTIONS + EMPTY_BOX_ROWS


# -- loading and access ---------------------------------------------------------

def _evidence(evidence_id: int) -> Evidence:
    return load_or_abort(Evidence, evidence_id, lambda user, evidence: can_read_visit(user, evidence.visit))


def _int(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() else None


# -- texts for warnings ---------------------------------------------------------------

ALERT_WARNINGS = {"outside_window", "too_far", "exif_implausible", "exif_unreadable"}


def warning_text(warning: dict) -> str:
    code = warning.get("code")
    if code == "outside_window":
        return _("Taken on %(taken)s, outside the visit (%(start)s – %(end)s).", taken=warning.get("taken_on"),
                 start=warning.get("starts_on"), end=warning.get("ends_on"))
    if code == "too_far":
        return _("Taken %(km)s km from the facility (more than %(max)s km away).", km=warning.get("distance_km"),
                 max=warning.get("max_km"))
    if code == "no_exif_time":
        return _("The photo does not say when it was taken: it cannot be checked against the visit's dates.")
    if code == "no_gps":
        return _("The photo does not say where it was taken: it cannot be checked against the facility's place.")
    if code == "facility_without_coordinates":
        return _("The facility has no coordinates in the registry: the photo's position cannot be checked.")
    if code == "exif_unreadable":
        return _("The photo's metadata (EXIF) is damaged and could not be read.")
    if code == "exif_implausible":
        field = {"taken_at": _("time of taking"), "gps": _("position"),
                 "orientation": _("orientation")}.get(warning.get("field"), warning.get("field"))
        return _("The photo's metadata gives an impossible %(field)s (%(value)s); it was ignored.", field=field,
                 value=warning.get("value"))
    if code == "duplicate":
        ids = ", ".join(str(i) for i in warning.get("evidence_ids", []))
        return _("The same file was uploaded before (photo %(ids)s): it is stored once and referenced again.",
                 ids=ids)
    return str(code)


def custody_labels() -> dict[str, str]:
    return {"uploaded": _("uploaded"), "viewed": _("viewed the original"), "derived": _("copy made"),
            "redacted": _("redaction boxes changed"), "exported": _("listed in a signed manifest"),
            "verified": _("checked")}


@bp.context_processor
def evidence_helpers():
    return {"warning_text": warning_text, "alert_warnings": ALERT_WARNINGS, "custody_labels": custody_labels()}


# -- list and upload -------------------------------------------------------------------

def _item_choices(visit: Visit) -> list[tuple[int, str]]:
    item_ids = [i for ids in db.session.scalars(select(VisitChecklist.item_ids)
                                               .where(VisitChecklist.visit_id == visit.id)) for i in (ids or [])]
    if not item_ids:
        return []
    items = db.session.scalars(select(ChecklistItem).where(ChecklistItem.id.in_(item_ids))
                               .order_by(ChecklistItem.template_id, ChecklistItem.position)).all()
    return [(item.id, _shorten(f"{item.code} — {tr(item.question)}")) for item in items]


def _interview_choices(visit: Visit) -> list[tuple[int, str]]:
    rows = db.session.execute(select(Interview.id, Interview.code).where(Interview.visit_id == visit.id)
                              .order_by(Interview.code)).all()
    return [(row.id, row.code) for row in rows]


def _shorten(text: str, limit: int = 110) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _render_index(visit: Visit, form: dict | None = None, status: int = 200):
    per_page = current_app.config["PAGE_SIZE"]
    page = max(_int(request.args.get("page")) or 1, 1)
    rows, total = service.visit_evidence(db.session, visit, page, per_page)
    can_upload = can_work_on_visit(current_user, visit)
    items = _item_choices(visit) if can_upload else []
    interviews = _interview_choices(visit) if can_upload and can_read_confidential(current_user, visit) else []
    form = form or {}
    form.setdefault("client_uuid", str(uuid.uuid4()))
    return render_template("evidence/index.html", visit=visit, rows=rows, total=total, page=page,
                           pages=max(math.ceil(total / per_page), 1), can_upload=can_upload, items=items,
                           interviews=interviews, item_labels=dict(items), form=form,
                           max_mb=service._megabytes(current_app.config["EVIDENCE_MAX_BYTES"])), status


@bp.route("/visits/<int:visit_id>/evidence")
@allow(*READERS)
def index(visit_id: int):
    return _render_index(load_visit(visit_id))


def _file_uuid(form_uuid: str, index: int, count: int, filename: str) -> str | None:
    """A retried submission of the same form stores nothing twice: each file
    gets an id derived from the form's id, its position and its name."""
    try:
        base = uuid.UUID(form_uuid)
    except ValueError:
        return None
    if count == 1:
        return str(base)
    return str(uuid.uuid5(base, f"{index}:{filename}"))


@bp.route("/visits/<int:visit_id>/evidence", methods=["POST"])
@allow(*TEAM)
def upload(visit_id: int):
    visit = load_visit(visit_id)
    if not can_work_on_visit(current_user, visit):
        abort(403)
    form = {"caption": request.form.get("caption", "")[:2000], "item_id": _int(request.form.get("item_id")),
            "interview_id": _int(request.form.get("interview_id"))}
    files = [f for f in request.files.getlist("photos") if f.filename]
    if not files:
        flash(_("Choose or take at least one photo."), "error")
        return _render_index(visit, form, 400)
    if form["interview_id"] is not None and not can_read_confidential(current_user, visit):
        abort(403)
    form_uuid = request.form.get("client_uuid", "")
    stored, failed = 0, 0
    for index, upload_file in enumerate(files):
        name = upload_file.filename or _("photo %(number)s", number=index + 1)
        try:
            evidence = service.ingest(db.session, current_user, visit, name, upload_file.stream,
                                      item_id=form["item_id"], interview_id=form["interview_id"],
                                      caption=form["caption"],
                                      client_uuid=_file_uuid(form_uuid, index, len(files), name))
        except service.EvidenceError as exc:
            db.session.rollback()
            flash(_("%(file)s: %(problem)s", file=name, problem=str(exc)), "error")
            failed += 1
            continue
        if getattr(evidence, "replayed", False):
            flash(_("%(file)s was already received; nothing was stored twice.", file=name), "info")
        elif any(w.get("code") == "duplicate" for w in evidence.warnings):
            flash(_("%(file)s: the same file was uploaded before; it is stored once and referenced again.",
                    file=name), "warning")
        stored += 1
    if stored:
        flash(_("%(count)s photo(s) saved.", count=stored), "success")
    if failed:
        return _render_index(visit, form, 400)
    return redirect(url_for("evidence.index", visit_id=visit.id))


# -- one photo ----------------------------------------------------------------------------

def _box_rows(boxes: list[dict]) -> list[dict]:
    rows = [{key: _percent(box[key]) for key in ("x", "y", "w", "h")} for box in boxes]
    return rows + [{"x": "", "y": "", "w": "", "h": ""} for _i in range(EMPTY_BOX_ROWS)]


def _percent(fraction: float) -> str:
    return f"{fraction * 100:.2f}".rstrip("0").rstrip(".")


def _render_detail(evidence: Evidence, rows: list[dict] | None = None, status: int = 200):
    visit = evidence.visit
    confidential = can_read_confidential(current_user, visit)
    item = db.session.get(ChecklistItem, evidence.item_id) if evidence.item_id else None
    interview = db.session.get(Interview, evidence.interview_id) if evidence.interview_id and confidential else None
    uploader = db.session.get(User, evidence.uploaded_by_id)
    facts = evidence.exif or {}
    distance = None
    if "lat" in facts and visit.facility.lat is not None:
        from npmtool.services.geo import distance_km

        distance = round(distance_km((facts["lat"], facts["lon"]), (visit.facility.lat, visit.facility.lon)), 2)
    return render_template("evidence/detail.html", evidence=evidence, visit=visit, facts=facts, item=item,
                           interview=interview, uploader=uploader, distance=distance,
                           custody=service.custody_log(db.session, evidence), confidential=confidential,
                           can_redact=confidential and can_work_on_visit(current_user, visit),
                           rows=rows if rows is not None else _box_rows(evidence.redactions or [])), status


@bp.route("/evidence/<int:evidence_id>")
@allow(*READERS)
def detail(evidence_id: int):
    return _render_detail(_evidence(evidence_id))


def _boxes_from_form() -> tuple[list[dict] | str, list[dict]]:
    """The boxes drawn (hidden JSON field, filled by evidence.js) or typed
    (rows of x, y, width, height in per cent); returns (boxes, typed rows)."""
    count = min(_int(request.form.get("box_count")) or 0, MAX_BOX_ROWS)
    rows, boxes = [], []
    for n in range(count):
        row = {key: request.form.get(f"box-{n}-{key}", "").strip()[:20] for key in ("x", "y", "w", "h")}
        removed = request.form.get(f"box-{n}-remove") == "1"
        if not removed:
            rows.append(row)
        if removed or not any(row.values()):
            continue
        try:
            values = {key: float(row[key].replace(",", ".").rstrip("%")) / 100 for key in row}
        except ValueError:
            return _("Box %(number)s: fill in x, y, width and height as numbers (per cent of the photo).",
                     number=n + 1), rows
        boxes.append(values)
    drawn = request.form.get("redactions", "").strip()
    if drawn:
        try:
            return json.loads(drawn), rows
        except ValueError:
            return _("The redaction boxes could not be read."), rows
    return boxes, rows


@bp.route("/evidence/<int:evidence_id>/redactions", methods=["POST"])
@allow(*TEAM)
def redact(evidence_id: int):
    evidence = _evidence(evidence_id)
    if not (can_work_on_visit(current_user, evidence.visit) and can_read_confidential(current_user, evidence.visit)):
        abort(403)
    boxes, rows = _boxes_from_form()
    rows += [{"x": "", "y": "", "w": "", "h": ""} for _i in range(EMPTY_BOX_ROWS)]
    if isinstance(boxes, str):
        flash(boxes, "error")
        return _render_detail(evidence, rows, 400)
    try:
        service.set_redactions(db.session, current_user, evidence, boxes)
    except service.EvidenceError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _render_detail(evidence, rows, 400)
    if boxes:
        flash(_("Redactions saved: the publication copy now has %(count)s box(es) painted black.",
                count=len(boxes)), "success")
    else:
        flash(_("Redactions removed: the publication copy shows the whole photo."), "success")
    return redirect(url_for("evidence.detail", evidence_id=evidence.id) + "#redaction")


# -- files -------------------------------------------------------------------------------------

def _file_response(sha256: str | None, kind: str, media_type: str, download_name: str) -> Response:
    store = current_store()
    if not sha256 or not store.exists(sha256, kind):
        abort(404)
    response = send_file(store.path_for(sha256, kind), mimetype=media_type, download_name=download_name,
                         etag=sha256, conditional=True, max_age=0)
    # Content-addressed, but confidential: private caches only.
    response.headers["Cache-Control"] = "private, max-age=86400" if kind != "original" else "private, no-store"
    return response


def _extension(media_type: str) -> str:
    return ".png" if media_type == "image/png" else ".jpg"


@bp.route("/evidence/<int:evidence_id>/original")
@allow(*TEAM)
def original(evidence_id: int):
    evidence = _evidence(evidence_id)
    if not can_read_confidential(current_user, evidence.visit):
        abort(403)
    if request.args.get("preview") == "1":
        # What the redaction editor draws on: upright, unredacted, publication size.
        if not current_store().exists(evidence.file.sha256):
            abort(404)
        data = service.original_preview(evidence)
        service.record_view(db.session, current_user, evidence, kind="original", preview=True)
        response = Response(data, mimetype="image/jpeg")
        response.headers["Cache-Control"] = "private, no-store"
        return response
    response = _file_response(evidence.file.sha256, "original", evidence.file.media_type,
                              f"evidence-{evidence.id}-original{_extension(evidence.file.media_type)}")
    service.record_view(db.session, current_user, evidence, kind="original")
    return response


@bp.route("/evidence/<int:evidence_id>/thumbnail")
@allow(*READERS)
def thumbnail(evidence_id: int):
    evidence = _evidence(evidence_id)
    return _file_response(evidence.thumbnail_sha256, "thumbnail", "image/jpeg", f"evidence-{evidence.id}-thumb.jpg")


@bp.route("/evidence/<int:evidence_id>/publication")
@allow(*READERS)
def publication(evidence_id: int):
    evidence = _evidence(evidence_id)
    return _file_response(evidence.publication_sha256, "publication", "image/jpeg",
                          f"evidence-{evidence.id}-publication.jpg")


@bp.route("/visits/<int:visit_id>/evidence/manifest", methods=["POST"])
@allow(*READERS)
def manifest(visit_id: int):
    visit = load_visit(visit_id)
    envelope = service.sign_manifest(db.session, current_user, visit)
    body = json.dumps(envelope, ensure_ascii=False, indent=2, sort_keys=True)
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": f"attachment; filename=visit-{visit.id}-evidence-manifest.json",
        "Cache-Control": "private, no-store"})
