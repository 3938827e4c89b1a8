"""Generating reports in a country's formats and keeping them.

A report is built from the facts the core gathers (npmtool.reports.context),
arranged in the format's sections and rendered to HTML, DOCX or PDF. Each
generated file is stored with the hash of its inputs, so regenerating later
tells whether anything the report was built from has changed."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from npmtool.models import Visit
from npmtool.models.reports import GeneratedReport
from npmtool.reports.context import gather_period, gather_visit
from npmtool.reports.document import Document, build_document
from npmtool.reports.store import store_for
from npmtool.services import ServiceError, actor_id, audit
from npmtool.services.evidence_store import current_store

MEDIA_TYPES = {"html": "text/html; charset=utf-8",
               "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
               "pdf": "application/pdf"}
# Photos per report: a visit report shows its visit's photos; an annual
# report those attached to findings, up to this many (the rest stay in the
# visits' files), which also bounds the memory a DOCX needs.
DEFAULT_MAX_PHOTOS = {"visit": 200, "annual": 150, "period": 150}
# Sections that need the complaint figures; other reports skip those queries.
COMPLAINT_BUILDERS = {"complaints", "complaints_received", "complaint_boxes"}


def catalogue() -> Any:
    return current_app.extensions["npmtool"].catalogue


def formats_for(country: str) -> list[dict[str, Any]]:
    return list(catalogue().report_formats.get(country, []))


def find_format(country: str, format_code: str) -> dict[str, Any]:
    for fmt in formats_for(country):
        if fmt["code"] == format_code:
            return fmt
    raise ServiceError(_l("There is no report format %(code)s for this country.", code=format_code))


def year_period(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


def _max_photos(scope: str) -> int:
    configured = current_app.config.get("REPORT_MAX_PHOTOS") or {}
    return int(configured.get(scope, DEFAULT_MAX_PHOTOS[scope]))


def _check(country: str, fmt: dict, visit: Visit | None, period: tuple[date, date] | None,
           language: str, output: str | None) -> None:
    if language not in fmt["languages"]:
        raise ServiceError(_l("This report is not written in that language."))
    if output is not None and output not in fmt["outputs"]:
        raise ServiceError(_l("This report cannot be produced in that file format."))
    if fmt["scope"] == "visit":
        if visit is None:
            raise ServiceError(_l("Choose the visit the report is about."))
        if visit.country_code != country:
            raise ServiceError(_l("The visit is in another country."))
    else:
        if period is None:
            raise ServiceError(_l("Choose the period the report covers."))
        start, end = period
        if start > end:
            raise ServiceError(_l("The period ends before it starts."))


def build(session: Session, country: str, format_code: str, *, visit: Visit | None = None,
          period: tuple[date, date] | None = None, language: str) -> tuple[dict, Document]:
    """The format and its filled document (nothing rendered, nothing stored)."""
    fmt = find_format(country, format_code)
    _check(country, fmt, visit, period, language, None)
    if fmt["scope"] == "visit":
        facts = gather_visit(session, visit, _max_photos("visit"))
    else:
        builders = {s.get("builder") or s["code"] for s in fmt["sections"]}
        facts = gather_period(session, country, fmt["scope"], period, _max_photos(fmt["scope"]),
                              with_complaints=bool(builders & COMPLAINT_BUILDERS))
    return fmt, build_document(facts, fmt, language)


def filename_for(fmt: dict, doc: Document, visit: Visit | None, period: tuple[date, date] | None,
                 output: str) -> str:
    if visit is not None:
        what = f"visit{visit.id}"
    else:
        start, end = period
        what = str(start.year) if (start.month, start.day, end.month, end.day) == (1, 1, 12, 31) and \
            start.year == end.year else f"{start.isoformat()}_{end.isoformat()}"
    name = f"{doc.country}_{fmt['code']}_{what}_{doc.language}.{output}"
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def render(fmt: dict, doc: Document, output: str, target, *, photo_url=None) -> None:
    """Write the document in one output. A format with its own ``render``
    callable (hookspecs.npmtool_report_formats) gets the plain document."""
    if fmt.get("render") is not None:
        data = fmt["render"](doc.as_dict(), output, doc.language)
        target.write(data)
        return
    if output == "docx":
        from npmtool.reports.docx import render_docx
        render_docx(doc, current_store(), target)
    elif output == "pdf":
        from npmtool.reports.pdf import render_pdf
        render_pdf(doc, current_store(), target)
    else:
        from npmtool.reports.html import render_html
        target.write(render_html(doc, photo_url or _data_uri_photo_url).encode("utf-8"))


def _data_uri_photo_url(item: dict) -> str:
    """The downloadable HTML carries its photos, so it opens anywhere."""
    import base64
    with current_store().open(item["sha256"], "publication") as stream:
        return "data:image/jpeg;base64," + base64.b64encode(stream.read()).decode("ascii")


def generate_report(session: Session, user: Any, country: str, format_code: str, *, visit: Visit | None = None,
                    period: tuple[date, date] | None = None, language: str, output: str) -> GeneratedReport:
    fmt = find_format(country, format_code)
    _check(country, fmt, visit, period, language, output)
    fmt, doc = build(session, country, format_code, visit=visit, period=period, language=language)
    store = store_for(current_app)
    with store.writing() as (stream, result):
        render(fmt, doc, output, stream)
    row = GeneratedReport(
        country_code=country, format_code=fmt["code"], scope=fmt["scope"],
        visit_id=visit.id if visit is not None else None,
        period_start=period[0] if visit is None else None, period_end=period[1] if visit is None else None,
        language=language, output=output, inputs_hash=doc.inputs_hash(), sha256=result["sha256"],
        size=result["size"], filename=filename_for(fmt, doc, visit, period, output),
        summary=doc.summary(), generated_by_id=actor_id(user))
    session.add(row)
    session.flush()
    audit.record(session, user, "report.generated", "generated_report", row.id, format=fmt["code"],
                 output=output, language=language)
    session.commit()
    return row


def previous_report(session: Session, report: GeneratedReport) -> GeneratedReport | None:
    """The report generated before this one for the same format, subject and language."""
    return session.scalar(
        select(GeneratedReport).where(
            GeneratedReport.country_code == report.country_code, GeneratedReport.format_code == report.format_code,
            GeneratedReport.visit_id.is_(None) if report.visit_id is None else GeneratedReport.visit_id == report.visit_id,
            GeneratedReport.period_start.is_(None) if report.period_start is None
            else GeneratedReport.period_start == report.period_start,
            GeneratedReport.period_end.is_(None) if report.period_end is None
            else GeneratedReport.period_end == report.period_end,
            GeneratedReport.language == report.language, GeneratedReport.id < report.id)
        .order_by(GeneratedReport.id.desc()).limit(1))


def current_inputs_hash(session: Session, report: GeneratedReport) -> str:
    period = (report.period_start, report.period_end) if report.visit_id is None else None
    _, doc = build(session, report.country_code, report.format_code, visit=report.visit, period=period,
                   language=report.language)
    return doc.inputs_hash()


def inputs_changed(session: Session, report: GeneratedReport) -> bool:
    """Whether the data the report was built from has changed since."""
    return current_inputs_hash(session, report) != report.inputs_hash


def document_json(doc: Document) -> str:
    return json.dumps(doc.as_dict(), ensure_ascii=False, indent=1)
