"""Importing facilities: every row checked first, all or nothing."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from npmtool.models import Facility, FacilityFigure
from npmtool.services.importing import ImportFileError, import_facilities
from tests.conftest import region_codes


@pytest.fixture
def kg(session):
    from npmtool.models import FacilityType

    regions = region_codes(session, "KG")
    types = list(session.scalars(select(FacilityType.code).where(FacilityType.country_code == "KG")
                                 .order_by(FacilityType.code)))
    return regions, types


def csv_bytes(rows: list[list[str]], delimiter: str = ",", encoding: str = "utf-8") -> bytes:
    return "\n".join(delimiter.join(r) for r in rows).encode(encoding)


def count(session) -> int:
    return session.scalar(select(func.count()).select_from(Facility))


HEADER = ["code", "name", "type", "region", "lat", "lon", "capacity", "population", "population_as_of",
          "population_source"]


def test_csv_import_adds_facilities_with_figures(session, make_user, kg):
    regions, types = kg
    admin = make_user("admin")
    before = count(session)
    data = csv_bytes([HEADER,
                      ["T-1", "ИВС Первый", types[0], regions[0], "42.5", "74.6", "40", "52", "2026-09-01", "visit"],
                      ["T-2", "ИВС Второй", types[0], regions[1], "", "", "", "", "", ""]])
    report = import_facilities(session, admin, "registry.csv", data)
    assert report.ok and (report.created, report.updated) == (2, 0)
    assert count(session) == before + 2
    first = session.scalar(select(Facility).where(Facility.code == "T-1"))
    figure = session.scalar(select(FacilityFigure).where(FacilityFigure.facility_id == first.id))
    assert (figure.value, figure.source) == (52, "visit")


def test_bad_rows_import_nothing_and_are_all_reported(session, make_user, kg):
    regions, types = kg
    admin = make_user("admin")
    before = count(session)
    data = csv_bytes([HEADER,
                      ["B-1", "Good row", types[0], regions[0], "", "", "", "", "", ""],
                      ["B-2", "", "NO-SUCH-TYPE", regions[0], "91", "10", "-3", "", "", ""],
                      ["B-1", "Duplicate code", types[0], "KG-NOWHERE", "", "", "x", "12", "", ""]])
    report = import_facilities(session, admin, "bad.csv", data)
    assert not report.ok
    problems = {(e.row, e.column) for e in report.errors}
    assert {(3, "name"), (3, "type"), (3, "lat"), (3, "capacity"), (4, "code"), (4, "region"),
            (4, "capacity"), (4, "population_as_of"), (4, "population_source")} <= problems
    assert count(session) == before  # the good row was not imported either


def test_semicolon_and_cp1251_csv_from_excel(session, make_user, kg):
    regions, types = kg
    data = csv_bytes([["name", "type", "region"], ["Колония № 3", types[0], regions[0]]], ";", "cp1251")
    report = import_facilities(session, make_user("admin"), "excel.csv", data)
    assert report.ok and report.created == 1
    assert session.scalar(select(Facility).where(Facility.name == "Колония № 3")) is not None


def test_existing_code_updates_the_facility(session, make_user, make_facility, kg):
    regions, types = kg
    facility = make_facility(country="KG", code="UPD-1", capacity=10)
    report = import_facilities(session, make_user("admin"), "u.csv",
                               csv_bytes([["code", "name", "type", "region", "capacity"],
                                          ["UPD-1", "Renamed", types[0], regions[0], "25"]]))
    assert (report.created, report.updated) == (0, 1)
    session.refresh(facility)
    assert (facility.name, facility.capacity) == ("Renamed", 25)


def test_xlsx_import(session, make_user, kg):
    regions, types = kg
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["name", "type", "region", "lat", "lon", "capacity"])
    sheet.append(["Spreadsheet colony", types[0], regions[0], 42.1, 74.2, 300])
    buffer = io.BytesIO()
    workbook.save(buffer)
    report = import_facilities(session, make_user("admin"), "registry.xlsx", buffer.getvalue())
    assert report.ok
    assert session.scalar(select(Facility.capacity).where(Facility.name == "Spreadsheet colony")) == 300


@pytest.mark.parametrize("filename,data,message", [
    ("registry.xlsx", b"this is not a zip", "not a readable XLSX"),
    ("registry.pdf", b"%PDF-1.4", "Upload a .csv or .xlsx"),
    ("registry.csv", b"colour,shape\nred,round", "Unknown column"),
    ("registry.csv", b"name,region\nX,KG-C", "Missing required column(s): type"),
])
def test_unreadable_files_are_refused_whole(session, make_user, filename, data, message):
    with pytest.raises(ImportFileError) as error:
        import_facilities(session, make_user("admin"), filename, data)
    assert message in str(error.value)


def test_coordinator_cannot_import_outside_their_regions(session, make_user, kg):
    regions, types = kg
    coordinator = make_user("coordinator", country="KG", regions=(regions[0],))
    report = import_facilities(session, coordinator, "scope.csv",
                               csv_bytes([["name", "type", "region"], ["Elsewhere", types[0], regions[1]]]))
    assert [(e.row, e.column) for e in report.errors] == [(2, "region")]


def test_web_import_shows_per_row_report(session, client, auth, make_user, kg):
    regions, types = kg
    auth.login(make_user("admin"))
    data = csv_bytes([["name", "type", "region"], ["Ok", types[0], regions[0]], ["", types[0], "KG-XX"]])
    response = client.post("/facilities/import", data={"file": (io.BytesIO(data), "web.csv")},
                           content_type="multipart/form-data")
    page = response.data.decode()
    assert response.status_code == 400
    assert "nothing was imported" in page and "unknown region" in page
    assert session.scalar(select(Facility).where(Facility.name == "Ok")) is None
    good = csv_bytes([["name", "type", "region"], ["Web colony", types[0], regions[0]]])
    response = client.post("/facilities/import", data={"file": (io.BytesIO(good), "web.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    assert session.scalar(select(Facility).where(Facility.name == "Web colony")) is not None


def test_oversized_upload_gets_a_page_not_a_bare_413(make_app, make_user):
    app = make_app({"MAX_CONTENT_LENGTH": 1024})
    with app.app_context():
        user = make_user("admin")
        client = app.test_client()
        client.post("/login", data={"username": user.username, "password": "correct horse battery"})
        response = client.post("/facilities/import", data={"file": (io.BytesIO(b"x" * 5000), "big.csv")},
                               content_type="multipart/form-data")
    assert response.status_code == 413
    assert b"File too large" in response.data and b"Nothing was saved" in response.data


def test_cli_import_with_progress_and_errors(session, runner, make_user, kg, tmp_path):
    regions, types = kg
    make_user("admin")
    good = tmp_path / "good.csv"
    good.write_bytes(csv_bytes([["name", "type", "region"], ["CLI colony", types[0], regions[0]]]))
    result = runner.invoke(args=["import-facilities", str(good)])
    assert result.exit_code == 0, result.output
    assert "Imported 1 rows: 1 new facilities" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes([["name", "type", "region"], ["CLI bad", "NOPE", regions[0]]]))
    result = runner.invoke(args=["import-facilities", str(bad)])
    assert result.exit_code == 1
    assert "row 2, type: unknown facility type 'NOPE'" in result.output
    assert "nothing was imported" in result.output
