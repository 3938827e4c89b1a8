"""A visit with everything a report must show — and everything it must hide:
an interview with a name, a code and notes, a complaint with its
complainant's name, a photo with GPS and device in its EXIF and a redaction
box. And readers of each output: HTML text, DOCX XML and images, PDF text,
streams and metadata."""

from __future__ import annotations

import html
import io
import re
import subprocess
import zipfile
import zlib
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from npmtool.crypto import sealer
from npmtool.models import (
    ComplaintCategory, ComplaintChannel, FacilityFigure, LegalSource, Visit,
)
from npmtool.models.recommendations import Finding, Recommendation
from npmtool.services.answers import AnswerInput, save_answer
from npmtool.services.evidence import ingest, set_redactions
from npmtool.services.interviews import InterviewInput, record_interview
from tests.test_evidence import jpeg
from tests.visit_helpers import make_visit

VISIT_START = date(2026, 3, 10)
IDENTITY = "Aibek Testov"
NOTES = "SECRET-NOTE-XYZ"
COMPLAINANT = "Zarina Complainantova"
COMPLAINANT_CONTACT = "+998901112233"
COMPLAINT_TEXT = "COMPLAINT-TEXT-QWE"
DEVICE = "SecretCam"
BOX_WITNESS = "Witness Olimova"
BOX_NOTE = "BOX-NOTE-RTY"
# The photo's GPS position (and how it would be printed).
LAT, LON = 42.8765, 74.5912
# Covers the white "face" of tests.test_evidence.picture (25–45 % across, 30–60 % down).
REDACTION = {"x": 0.2, "y": 0.25, "w": 0.3, "h": 0.4}

COUNTRY_FACILITY_TYPE = {"KZ": "KZ-SIZO", "KG": None, "UZ": None}


@dataclass
class ReportWorld:
    country: str
    coordinator: object
    monitor: object
    other_monitor: object
    visit: Visit
    evidence: object
    interview: object
    finding: Finding
    recommendation: Recommendation
    answers: list

    def sensitive(self) -> list[str]:
        return [IDENTITY, NOTES, self.interview.code, COMPLAINANT, COMPLAINANT_CONTACT, COMPLAINT_TEXT, DEVICE,
                BOX_WITNESS, BOX_NOTE, str(self.evidence.exif["lat"]), str(self.evidence.exif["lon"]),
                self.evidence.exif["device"]]


def build_world(session, make_user, make_facility, country: str, *, with_complaints: bool = True) -> ReportWorld:
    from npmtool.services.complaints import BoxOpeningInput, ComplaintInput, file_complaint, record_box_opening

    coordinator = make_user("coordinator", country=country)
    monitor = make_user("monitor", country=country)
    other = make_user("monitor", country=country)
    facility = make_facility(country=country, lat=42.87, lon=74.59, capacity=100,
                             type_code=COUNTRY_FACILITY_TYPE[country])
    session.add(FacilityFigure(facility_id=facility.id, kind="population", value=130, as_of=VISIT_START,
                               source="register"))
    session.commit()
    visit = make_visit(session, coordinator, [monitor, other], facility, starts_on=VISIT_START,
                       purpose=f"Complaint by {IDENTITY}")
    item_ids = visit.checklists[0].item_ids[:3]
    answers = [save_answer(session, monitor, visit, item_id, AnswerInput(rating=rating, missing_note=NOTES), 0)
               for item_id, rating in zip(item_ids, ("complete", "partly", "not_yet"))]
    interview = record_interview(session, monitor, visit, InterviewInput(
        category="detained", consent=True, consent_to_be_named=True, identity=IDENTITY, notes=NOTES, allegations=["torture"],
        reprisal_risk=True, private_setting=True), sealer())
    photo = jpeg(size=(400, 300), taken="2026:03:10 11:00:00", gps=(LAT, LON), make=DEVICE,
                 model=f"{DEVICE} X100")
    evidence = ingest(session, monitor, visit, "cell.jpg", photo, caption="Cell 4, window")
    evidence = set_redactions(session, monitor, evidence, [REDACTION])
    legal = session.scalars(select(LegalSource.code).order_by(LegalSource.code)).first()
    finding = Finding(visit_id=visit.id, facility_id=facility.id, source="free", status="confirmed",
                      title="Cells are overcrowded", text="Cell 4 holds 12 people for 8 places.",
                      legal_basis=[{"source": legal, "article": "5"}], topic="overcrowding",
                      interview_codes=[interview.code], created_by_id=monitor.id)
    finding.evidence.append(evidence)
    session.add(finding)
    session.flush()
    recommendation = Recommendation(
        reference=f"{country}-2026-99001", country_code=country, authority_id=facility.authority_id,
        source_visit_id=visit.id, text="Reduce the number of people held per cell to the norm.",
        legal_basis=[], topic="overcrowding", priority="urgent", priority_flags=["risk_to_life"],
        region_id=facility.region_id, facility_type_id=facility.facility_type_id, issued_on=visit.ends_on,
        initial_deadline=visit.ends_on + timedelta(days=90), current_deadline=visit.ends_on + timedelta(days=90),
        created_by_id=coordinator.id)
    recommendation.facilities.append(facility)
    recommendation.findings.append(finding)
    session.add(recommendation)
    visit.status = "draft"
    session.commit()
    if with_complaints:
        category = session.scalars(select(ComplaintCategory.code).where(ComplaintCategory.country_code == country)
                                   .order_by(ComplaintCategory.code)).first()
        channel = session.scalars(select(ComplaintChannel.code).where(ComplaintChannel.country_code == country)
                                  .order_by(ComplaintChannel.code)).first()
        from flask import current_app
        file_complaint(session, coordinator, ComplaintInput(
            country_code=country, category_code=category, channel_code=channel, text=COMPLAINT_TEXT,
            facility_id=facility.id, received_on=VISIT_START, consent_to_be_named=True, identity=COMPLAINANT,
            contact=COMPLAINANT_CONTACT), sealer(), secret=current_app.config["SECRET_KEY"], today=VISIT_START)
        record_box_opening(session, coordinator, BoxOpeningInput(
            facility_id=facility.id, box_label="Block A", opened_on=VISIT_START, opened_by_id=coordinator.id,
            letters_count=4, witnesses=BOX_WITNESS, notes=BOX_NOTE), today=VISIT_START)
    return ReportWorld(country, coordinator, monitor, other, visit, evidence, interview, finding, recommendation,
                       answers)


def period_for(fmt: dict) -> tuple[date, date] | None:
    return None if fmt["scope"] == "visit" else (date(2026, 1, 1), date(2026, 12, 31))


# -- reading outputs ------------------------------------------------------------------------

def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def html_text(data: bytes) -> str:
    page = data.decode("utf-8")
    page = re.sub(r"<style.*?</style>", " ", page, flags=re.S)
    page = re.sub(r'src="data:[^"]+"', "", page)
    return squash(html.unescape(re.sub(r"<[^>]+>", " ", page)))


def docx_headings(data: bytes) -> list[str]:
    import docx
    document = docx.Document(io.BytesIO(data))
    return [squash(p.text) for p in document.paragraphs if p.style.name.startswith(("Heading", "Title"))]


def docx_parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    out = subprocess.run(["pdftotext", "-raw", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True)
    # A line broken after a word's hyphen ("уголовно-⏎исполнительной") reads as one word.
    return re.sub(r"(\w)- (\w)", r"\1-\2", squash(out.stdout.decode("utf-8")))


def pdf_streams(data: bytes) -> list[bytes]:
    """Every stream of the PDF, inflated when it is Flate-compressed."""
    streams = []
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, flags=re.S):
        raw = match.group(1)
        try:
            streams.append(zlib.decompress(raw))
        except zlib.error:
            streams.append(raw)
    return streams


def pdf_info(data: bytes, tmp_path) -> str:
    path = tmp_path / "info.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
