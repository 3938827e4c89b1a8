"""Reports: every country's formats render in each of their languages and
outputs with their sections, never show what must stay confidential, and
remember their inputs so a regeneration shows whether anything changed."""

from __future__ import annotations

import hashlib
import io

import pytest
from PIL import Image
from sqlalchemy import select

from npmtool.extensions import db
from npmtool.i18n import tr
from npmtool.models import Answer, Visit
from npmtool.models.reports import GeneratedReport
from npmtool.reports.phrases import PHRASES
from npmtool.reports.store import store_for
from npmtool.services import ServiceError
from npmtool.services import reports as service
from npmtool.services.answers import AnswerInput, save_answer
from npmtool.services.demo import load_demo
from npmtool.services.evidence_store import current_store
from tests.report_helpers import (
    REDACTION, build_world, docx_headings, docx_parts, html_text, pdf_info, pdf_streams, pdf_text, period_for,
)

COUNTRIES = ("KZ", "KG", "UZ")
STATE_LANGUAGE = {"KZ": "kk", "KG": "ky", "UZ": "uz"}


def _file(app, report: GeneratedReport) -> bytes:
    with store_for(app).open(report.sha256) as stream:
        return stream.read()


def _title(section: dict, language: str) -> str:
    return " ".join(tr(section["titles"], language).split())


@pytest.fixture
def admin(make_user):
    return make_user("admin")


# -- formats and their languages ---------------------------------------------------------------

@pytest.mark.parametrize("country", COUNTRIES)
def test_formats_declare_russian_state_language_and_english(app, country):
    formats = service.formats_for(country)
    scopes = {f["scope"] for f in formats}
    assert "visit" in scopes and scopes & {"annual", "period"}
    for fmt in formats:
        assert {"ru", STATE_LANGUAGE[country], "en"} <= set(fmt["languages"])
        assert set(fmt["outputs"]) == {"html", "docx", "pdf"}
        for section in fmt["sections"]:
            for language in ("ru", STATE_LANGUAGE[country], "en"):
                assert section["titles"].get(language), (fmt["code"], section["code"], language)


def test_fixed_report_phrases_exist_in_every_report_language():
    for key, texts in PHRASES.items():
        assert {"ru", "en", "kk", "ky", "uz"} <= set(texts), key


def test_kazakh_annual_chapters_cover_every_supervising_authority(app):
    catalogue = app.extensions["npmtool"].catalogue
    fmt = service.find_format("KZ", "annual_consolidated")
    covered = {code for s in fmt["sections"] for code in s.get("authorities", [])}
    kz_authorities = {code for code, a in catalogue.authorities.items() if a["country"] == "KZ"}
    assert covered == kz_authorities
    # Every Kazakh facility type falls in exactly one chapter.
    from npmtool.reports.sections import matches
    chapters = [s for s in fmt["sections"] if s.get("authorities") or s.get("facility_types")]
    for code, ftype in catalogue.facility_types.items():
        if ftype["country"] == "KZ":
            assert sum(matches(s, ftype["authority"], code) for s in chapters) == 1, code


# -- every format × language × output, from the demo data ----------------------------------------

@pytest.mark.parametrize("country", COUNTRIES)
def test_every_format_renders_in_every_language_with_its_sections(app, session, admin, make_user, make_facility,
                                                                   country, tmp_path):
    load_demo(session)
    world = build_world(session, make_user, make_facility, country)
    for fmt in service.formats_for(country):
        visit = world.visit if fmt["scope"] == "visit" else None
        for language in fmt["languages"]:
            titles = [_title(s, language) for s in fmt["sections"]]
            for output in fmt["outputs"]:
                report = service.generate_report(session, admin, country, fmt["code"], visit=visit,
                                                 period=period_for(fmt), language=language, output=output)
                data = _file(app, report)
                where = (fmt["code"], language, output)
                assert report.size == len(data) and report.sha256 == hashlib.sha256(data).hexdigest()
                if output == "html":
                    text = html_text(data)
                    assert _title({"titles": fmt["titles"]}, language) in text, where
                elif output == "docx":
                    # Re-read by python-docx: the numbered section headings are there, in order.
                    headings = docx_headings(data)
                    assert headings[0] == _title({"titles": fmt["titles"]}, language), where
                    assert [h.split(". ", 1)[1] for h in headings if h[:1].isdigit() and ". " in h][:len(titles)] \
                        == titles, where
                    continue
                else:
                    assert data.startswith(b"%PDF-"), where
                    text = pdf_text(data, tmp_path)
                for title in titles:
                    assert title in text, (where, title)
    # The fixture visit's content is in its visit report.
    visit_fmt = next(f for f in service.formats_for(country) if f["scope"] == "visit")
    _, doc = service.build(session, country, visit_fmt["code"], visit=world.visit, language="en")
    text = str(doc.as_dict())
    assert "Cells are overcrowded" in text and "Reduce the number of people held per cell" in text
    assert "130" in text  # people held, beside the capacity of 100


# -- redaction ------------------------------------------------------------------------------------

def _assert_clean(data: bytes, output: str, world, tmp_path, publication: bytes, with_photo: bool) -> None:
    secrets = world.sensitive()
    if output == "html":
        text = html_text(data)
        raw = data
    elif output == "docx":
        parts = docx_parts(data)
        text = " ".join(part.decode("utf-8", "replace") for name, part in parts.items() if name.endswith(".xml")
                        or name.endswith(".rels"))
        images = [part for name, part in parts.items() if name.startswith("word/media/")]
        assert len(images) == (1 if with_photo else 0)
        for image in images:
            # The redacted publication copy itself, byte for byte: no EXIF, painted box.
            assert image == publication
            assert b"Exif" not in image
        raw = b"".join(parts.values())
    else:
        text = pdf_text(data, tmp_path) + pdf_info(data, tmp_path)
        raw = data + b"".join(pdf_streams(data))
        assert b"Exif" not in raw
    for secret in secrets:
        assert secret not in text, (output, secret)
        assert secret.encode() not in raw, (output, secret)


@pytest.mark.parametrize("country", COUNTRIES)
def test_no_output_contains_a_sensitive_value(app, session, admin, make_user, make_facility, country, tmp_path):
    world = build_world(session, make_user, make_facility, country)
    with current_store().open(world.evidence.publication_sha256, "publication") as stream:
        publication = stream.read()
    # The publication copy has the box painted black and no metadata.
    image = Image.open(io.BytesIO(publication))
    assert not image.getexif()
    w, h = image.size
    grey = image.convert("L")
    face = (int((REDACTION["x"] + REDACTION["w"] / 2) * w), int((REDACTION["y"] + REDACTION["h"] / 2) * h))
    assert grey.getpixel(face) < 20  # painted black where the white face was
    checked = 0
    for fmt in service.formats_for(country):
        for language in fmt["languages"]:
            for output in fmt["outputs"]:
                report = service.generate_report(session, admin, country, fmt["code"],
                                                 visit=world.visit if fmt["scope"] == "visit" else None,
                                                 period=period_for(fmt), language=language, output=output)
                data = _file(app, report)
                # Visit reports and annexes show the photo (annual ones: those attached to findings).
                with_photo = fmt["scope"] == "visit" or any(s["code"].startswith("annex") for s in fmt["sections"])
                assert report.summary["photos"] == (1 if with_photo else 0), (fmt["code"], output)
                _assert_clean(data, output, world, tmp_path, publication, with_photo)
                checked += 1
    assert checked >= 18


def test_the_redaction_really_is_the_publication_copy(app, session, admin, make_user, make_facility):
    world = build_world(session, make_user, make_facility, "KG", with_complaints=False)
    _, doc = service.build(session, "KG", "visit_report", visit=world.visit, language="ru")
    photos = list(doc.photos())
    assert [p["sha256"] for p in photos] == [world.evidence.publication_sha256]
    assert world.evidence.file.sha256 != world.evidence.publication_sha256  # never the original


# -- inputs hash --------------------------------------------------------------------------------

def test_regeneration_with_unchanged_data_has_the_same_inputs_hash(app, session, admin, make_user, make_facility):
    world = build_world(session, make_user, make_facility, "KG", with_complaints=False)
    first = service.generate_report(session, admin, "KG", "visit_report", visit=world.visit, language="ky",
                                    output="docx")
    second = service.generate_report(session, admin, "KG", "visit_report", visit=world.visit, language="ky",
                                     output="docx")
    assert first.inputs_hash == second.inputs_hash
    assert service.previous_report(session, second).id == first.id
    assert service.inputs_changed(session, second) is False

    answer = session.get(Answer, world.answers[0].id)
    save_answer(session, world.monitor, world.visit, answer.item_id, AnswerInput(rating="not_yet"), answer.version)
    assert service.inputs_changed(session, second) is True
    third = service.generate_report(session, admin, "KG", "visit_report", visit=world.visit, language="ky",
                                    output="docx")
    assert third.inputs_hash != second.inputs_hash


def test_annual_inputs_change_when_a_recommendation_is_assessed(app, session, admin, make_user, make_facility):
    world = build_world(session, make_user, make_facility, "KZ", with_complaints=False)
    period = service.year_period(2026)
    report = service.generate_report(session, admin, "KZ", "annual_consolidated", period=period, language="kk",
                                     output="html")
    assert service.inputs_changed(session, report) is False
    world.recommendation.assessment = "in_progress"
    session.commit()
    assert service.inputs_changed(session, report) is True


# -- content --------------------------------------------------------------------------------------

def test_kazakh_annual_report_puts_a_sizo_visit_in_the_sizo_chapter(app, session, make_user, make_facility):
    world = build_world(session, make_user, make_facility, "KZ", with_complaints=False)
    _, doc = service.build(session, "KZ", "annual_consolidated", period=service.year_period(2026), language="ru")
    sections = {s["code"]: s for s in doc.sections}

    def visits_in(code: str) -> str:
        facts = next(b for b in sections[code]["blocks"] if b["kind"] == "facts")
        return facts["rows"][0][1]

    assert visits_in("penal_sizo") == "1"
    assert visits_in("penal_institutions") == "0"
    assert visits_in("mia") == "0"
    sizo = str(sections["penal_sizo"])
    assert world.recommendation.reference in sizo and "Cells are overcrowded" in sizo


def test_period_summary_counts_complaints_and_box_openings_without_identities(app, session, make_user,
                                                                              make_facility):
    build_world(session, make_user, make_facility, "UZ")
    _, doc = service.build(session, "UZ", "period_summary", period=service.year_period(2026), language="uz")
    sections = {s["code"]: s for s in doc.sections}
    complaints = sections["complaints_received"]["blocks"]
    assert complaints[0]["rows"] == [["Jami shikoyatlar", "1"]]
    boxes = next(b for b in sections["complaint_boxes"]["blocks"] if b["kind"] == "table")
    assert boxes["rows"][0][1:4] == ["Block A", "1", "4"]


def test_a_wrong_language_or_output_is_refused_with_a_message(app, session, admin, make_user, make_facility):
    world = build_world(session, make_user, make_facility, "KG", with_complaints=False)
    with pytest.raises(ServiceError, match="language"):
        service.generate_report(session, admin, "KG", "visit_report", visit=world.visit, language="uz",
                                output="pdf")
    with pytest.raises(ServiceError, match="file format"):
        service.generate_report(session, admin, "KG", "visit_report", visit=world.visit, language="ru",
                                output="odt")
    with pytest.raises(ServiceError, match="visit"):
        service.generate_report(session, admin, "KG", "visit_report", language="ru", output="pdf")
    other = session.scalar(select(Visit).where(Visit.country_code == "KG"))
    with pytest.raises(ServiceError, match="another country"):
        service.generate_report(session, admin, "UZ", "monitoring_visit_report", visit=other, language="ru",
                                output="pdf")
    assert session.scalar(select(GeneratedReport.id)) is None
    db.session.rollback()


def test_annual_report_counts_earlier_recommendations_still_followed_up(app, session, make_user, make_facility):
    from datetime import date

    from npmtool.models.recommendations import Recommendation

    world = build_world(session, make_user, make_facility, "KZ", with_complaints=False)
    for n, (status, closed_on) in enumerate([("open", None), ("closed", date(2026, 5, 1)), ("closed", date(2025, 6, 1))]):
        session.add(Recommendation(
            reference=f"KZ-2025-0990{n}", country_code="KZ", authority_id=world.recommendation.authority_id,
            text="Earlier", legal_basis=[], topic="hygiene", priority="normal", priority_flags=[],
            issued_on=date(2025, 2, 1), initial_deadline=date(2025, 8, 1), current_deadline=date(2025, 8, 1),
            assessment="implemented" if status == "closed" else "in_progress", status=status, closed_on=closed_on))
    session.commit()
    _, doc = service.build(session, "KZ", "annual_consolidated", period=service.year_period(2026), language="en")
    blocks = next(s for s in doc.sections if s["code"] == "implementation")["blocks"]
    earlier = next(b for b in blocks if b["kind"] == "table")  # the first table: earlier ones
    # The one closed before the year is no longer followed up: two earlier ones.
    assert ["Total", "2"] in earlier["rows"] and ["in progress", "1"] in earlier["rows"]
    figures = blocks[-1]["rows"]
    # Open: the earlier one and the fixture's urgent one, both past their deadlines by the year's end.
    assert figures == [["Open", "2"], ["Closed", "1"], ["Overdue", "2"]]


def test_a_chapter_naming_an_unknown_authority_stops_the_plugin_with_its_field():
    from npmtool.plugins import Catalogue, PluginError, _Checker, _section_options

    catalogue = Catalogue(authorities={"KZ-MIA": {"country": "KZ"}, "KG-MIA": {"country": "KG"}})
    section = {"code": "mia", "titles": {"ru": "МВД", "en": "MIA"}, "authorities": ["KZ-MIA"],
               "topics": ["treatment"], "builder": "authority_chapter"}
    assert _section_options(catalogue, _Checker("kazakhstan"), "s", section, "KZ") == {
        "builder": "authority_chapter", "authorities": ["KZ-MIA"], "topics": ["treatment"]}
    with pytest.raises(PluginError, match=r"report_formats\[1\]\.sections\[2\]\.authorities\[0\]: 'KG-MIA'"):
        _section_options(catalogue, _Checker("kazakhstan"), "report_formats[1].sections[2]",
                         {**section, "authorities": ["KG-MIA"]}, "KZ")


def test_rendering_a_pdf_leaves_photo_checks_strict(app, session, admin, make_user, make_facility):
    # WeasyPrint loosens Pillow's decoding when imported (npmtool.weasy undoes it).
    from PIL import ImageFile

    world = build_world(session, make_user, make_facility, "KG", with_complaints=False)
    ImageFile.LOAD_TRUNCATED_IMAGES = True
    try:
        service.generate_report(session, admin, "KG", "visit_report", visit=world.visit, language="ru", output="pdf")
        assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = False
