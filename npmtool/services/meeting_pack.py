"""The council meeting pack: overdue high and urgent priority items that are
still open, grouped by the authority they are addressed to, with their latest
response and the council's latest decision. As XLSX and as PDF.

Four queries whatever the size: the items (with authority and facilities
eager-loaded), the latest response of each, the latest council decision of
each. Like every export, no findings, interview codes or complaint data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from npmtool.i18n import tr
from npmtool.models import Authority, AuthorityResponse, Recommendation, RecommendationEvent
from npmtool.services.recommendation_queries import RecommendationFilters, recommendation_query

PACK_PRIORITIES = ("urgent", "high")
# A pack is read at a meeting: beyond this the council needs the list, not paper.
PACK_LIMIT = 2000


@dataclass
class PackItem:
    rec: Recommendation
    facilities: str
    response: AuthorityResponse | None
    decision: RecommendationEvent | None


@dataclass
class PackGroup:
    authority: str
    items: list[PackItem] = field(default_factory=list)


@dataclass
class MeetingPack:
    country: str | None
    today: date
    groups: list[PackGroup]
    total: int
    truncated: bool


def _latest(session: Session, model, key, ids: list[int], *where) -> dict[int, Any]:
    """The latest row of ``model`` per recommendation, in one query."""
    if not ids:
        return {}
    newest = (select(func.max(model.id)).where(key.in_(ids), *where).group_by(key)).scalar_subquery()
    return {row.recommendation_id: row for row in session.scalars(select(model).where(model.id.in_(newest)))}


def build_meeting_pack(session: Session, user: Any, country: str | None = None,
                       today: date | None = None) -> MeetingPack:
    today = today or date.today()
    filters = RecommendationFilters(country=country, status="open", overdue=True)
    query = (recommendation_query(user, filters, today)
             .where(Recommendation.priority.in_(PACK_PRIORITIES))
             .join(Authority, Authority.id == Recommendation.authority_id)
             .order_by(None)
             .order_by(Authority.country_code, Authority.position, Authority.id, Recommendation.current_deadline,
                       Recommendation.id)
             .limit(PACK_LIMIT + 1))
    recs = list(session.scalars(query))
    truncated = len(recs) > PACK_LIMIT
    recs = recs[:PACK_LIMIT]
    ids = [r.id for r in recs]
    responses = _latest(session, AuthorityResponse, AuthorityResponse.recommendation_id, ids)
    decisions = _latest(session, RecommendationEvent, RecommendationEvent.recommendation_id, ids,
                        RecommendationEvent.kind == "council_decision")
    groups: list[PackGroup] = []
    for rec in recs:
        name = tr(rec.authority.names)
        if not groups or groups[-1].authority != name:
            groups.append(PackGroup(name))
        groups[-1].items.append(PackItem(rec, ", ".join(tr(f.names) or f.name for f in rec.facilities),
                                         responses.get(rec.id), decisions.get(rec.id)))
    return MeetingPack(country, today, groups, len(recs), truncated)


def pack_filters(country: str | None) -> RecommendationFilters:
    """The list selection closest to the pack (for a link to it)."""
    return RecommendationFilters(country=country, status="open", overdue=True, sort="priority")


def _header() -> list[str]:
    return [str(h) for h in (
        _l("Reference"), _l("Priority"), _l("Facilities"), _l("Text"), _l("Issued"), _l("Initial deadline"),
        _l("Current deadline"), _l("Days overdue"), _l("Latest response"), _l("Response received"),
        _l("Response text"), _l("NPM assessment"), _l("Latest council decision"), _l("Decided on"))]


def _row(item: PackItem, today: date) -> list[Any]:
    from npmtool import labels

    rec, response, decision = item.rec, item.response, item.decision
    decided_on = (decision.changes or {}).get("decided_on", [None, None])[1] if decision else None
    return [rec.reference, str(labels.PRIORITY_LABELS.get(rec.priority, rec.priority)), item.facilities, rec.text,
            rec.issued_on, rec.initial_deadline, rec.current_deadline, (today - rec.current_deadline).days,
            str(labels.RESPONSE_KIND_LABELS.get(response.kind, response.kind)) if response else "",
            response.received_on if response else None, response.text if response else "",
            str(labels.ASSESSMENT_LABELS.get(rec.assessment, rec.assessment)),
            decision.note if decision else "", decided_on or ""]


def write_xlsx(pack: MeetingPack, target: Any) -> None:
    """One sheet; each authority starts with a bold heading row."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font

    book = Workbook(write_only=True)
    sheet = book.create_sheet(str(_l("Meeting pack"))[:31])
    for width, letter in zip((18, 10, 30, 60, 12, 12, 12, 10, 16, 12, 40, 18, 40, 12), "ABCDEFGHIJKLMN"):
        sheet.column_dimensions[letter].width = width

    def cells(values: list[Any], bold: bool = False) -> list[WriteOnlyCell]:
        out = []
        for value in values:
            cell = WriteOnlyCell(sheet, value=value)
            if bold:
                cell.font = Font(bold=True)
            if isinstance(value, date):
                cell.number_format = "yyyy-mm-dd"
            elif isinstance(value, str):
                cell.data_type = "s"  # an authority's "=…" stays text, never a formula
                if len(value) > 40:
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
            out.append(cell)
        return out

    sheet.append(cells([str(_l("Overdue priority recommendations, as of %(date)s",
                                date=pack.today.isoformat()))], bold=True))
    sheet.append(cells(_header(), bold=True))
    for group in pack.groups:
        sheet.append(cells([f"{group.authority} ({len(group.items)})"], bold=True))
        for item in group.items:
            sheet.append(cells(_row(item, pack.today)))
    if pack.truncated:
        sheet.append(cells([str(_l("Only the first %(count)s items are included.", count=PACK_LIMIT))], bold=True))
    book.save(target)


def write_pdf(html: str, base_url: str | None = None) -> bytes:
    """Render the pack's HTML (templates/council/meeting_pack.html) to PDF;
    its stylesheet names DejaVu Sans, which covers Cyrillic and Uzbek Latin."""
    from pathlib import Path

    from npmtool.weasy import weasyprint

    engine = weasyprint()
    stylesheet = Path(__file__).resolve().parent.parent / "static" / "meeting-pack.css"
    return engine.HTML(string=html, base_url=base_url).write_pdf(
        stylesheets=[engine.CSS(filename=str(stylesheet))])
