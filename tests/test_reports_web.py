"""Report pages and the annual-reports command: who may preview, generate and
download what, and what the pages say."""

from __future__ import annotations

from sqlalchemy import func, select

from npmtool.models.reports import GeneratedReport
from npmtool.services import reports as service
from tests.report_helpers import IDENTITY, NOTES, build_world


def _world(session, make_user, make_facility, country="KG"):
    return build_world(session, make_user, make_facility, country, with_complaints=False)


def test_coordinator_previews_generates_and_downloads_a_visit_report(app, session, client, auth, make_user,
                                                                      make_facility):
    world = _world(session, make_user, make_facility)
    auth.login(world.coordinator)
    index = client.get("/reports/?country=KG")
    assert index.status_code == 200
    assert "Доклад о посещении".encode() in index.data or b"Visit report" in index.data
    preview = client.get(f"/reports/preview?country=KG&format=visit_report&visit_id={world.visit.id}&language=ky")
    assert preview.status_code == 200
    page = preview.data.decode()
    assert "Баруу боюнча баяндама" in page and "Cells are overcrowded" in page
    assert IDENTITY not in page and NOTES not in page and world.interview.code not in page
    assert f"/reports/photo/{world.evidence.id}" in page
    photo = client.get(f"/reports/photo/{world.evidence.id}")
    assert photo.status_code == 200 and photo.data[:2] == b"\xff\xd8"

    response = client.post("/reports/generate", data={"country": "KG", "format": "visit_report",
                                                     "visit_id": world.visit.id, "language": "ky", "output": "docx"})
    assert response.status_code == 303
    report = session.scalar(select(GeneratedReport).order_by(GeneratedReport.id.desc()))
    assert response.location.endswith(f"/reports/generated/{report.id}")
    detail = client.get(response.location)
    assert b"Nothing it was built from has changed." in detail.data
    download = client.get(f"/reports/generated/{report.id}/download")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert report.filename in download.headers["Content-Disposition"]
    assert download.data[:2] == b"PK"


def test_history_shows_when_inputs_changed(app, session, client, auth, make_user, make_facility):
    world = _world(session, make_user, make_facility)
    first = service.generate_report(session, world.coordinator, "KG", "annual_report",
                                    period=service.year_period(2026), language="ru", output="pdf")
    world.recommendation.assessment = "implemented"
    session.commit()
    second = service.generate_report(session, world.coordinator, "KG", "annual_report",
                                     period=service.year_period(2026), language="ru", output="pdf")
    assert first.inputs_hash != second.inputs_hash
    auth.login(world.coordinator)
    history = client.get("/reports/history")
    assert history.status_code == 200
    assert b"inputs changed" in history.data
    world.recommendation.assessment = "not_implemented"
    session.commit()
    assert b"The data it was built from has changed" in client.get(f"/reports/generated/{second.id}").data


def test_council_reads_annual_reports_but_not_visit_reports(app, session, client, auth, make_user, make_facility):
    world = _world(session, make_user, make_facility)
    annual = service.generate_report(session, world.coordinator, "KG", "annual_report",
                                     period=service.year_period(2026), language="ky", output="html")
    visit_report = service.generate_report(session, world.coordinator, "KG", "visit_report", visit=world.visit,
                                           language="ru", output="html")
    council = make_user("council", country="KG")
    auth.login(council)
    assert client.get("/reports/preview?country=KG&format=annual_report&year=2026&language=ky").status_code == 200
    assert client.get(f"/reports/generated/{annual.id}/download").status_code == 200
    assert client.get(f"/reports/generated/{visit_report.id}/download").status_code == 403
    assert client.get(f"/reports/preview?country=KG&format=visit_report&visit_id={world.visit.id}").status_code == 403
    assert client.post("/reports/generate", data={"country": "KG", "format": "annual_report", "year": "2026",
                                                  "language": "ru", "output": "pdf"}).status_code == 403
    history = client.get("/reports/history").data.decode()
    assert f"/reports/generated/{annual.id}" in history and f"/reports/generated/{visit_report.id}" not in history


def test_monitors_preview_only_the_visits_they_were_on(app, session, client, auth, make_user, make_facility):
    world = _world(session, make_user, make_facility)
    url = f"/reports/preview?country=KG&format=visit_report&visit_id={world.visit.id}&language=ru"
    auth.login(world.monitor)
    assert client.get(url).status_code == 200
    assert client.get("/reports/preview?country=KG&format=annual_report&year=2026").status_code == 403
    assert client.post("/reports/generate", data={"country": "KG", "format": "visit_report",
                                                  "visit_id": world.visit.id, "language": "ru",
                                                  "output": "pdf"}).status_code == 403
    auth.logout()
    stranger = make_user("monitor", country="KG")
    auth.login(stranger)
    assert client.get(url).status_code == 403
    assert client.get(f"/reports/photo/{world.evidence.id}").status_code == 403


def test_civil_society_and_the_public_see_no_reports(app, session, client, auth, make_user, make_facility):
    world = _world(session, make_user, make_facility)
    assert client.get("/reports/").status_code == 302  # to sign in
    auth.login(make_user("cso", country="KG"))
    assert client.get("/reports/").status_code == 403
    assert client.get(f"/reports/photo/{world.evidence.id}").status_code == 403


def test_other_countries_reports_are_out_of_reach(app, session, client, auth, make_user, make_facility):
    world = _world(session, make_user, make_facility)
    annual = service.generate_report(session, world.coordinator, "KG", "annual_report",
                                     period=service.year_period(2026), language="ru", output="html")
    auth.login(make_user("council", country="UZ"))
    assert client.get(f"/reports/generated/{annual.id}/download").status_code == 403
    assert client.get("/reports/preview?country=KG&format=annual_report&year=2026").status_code == 404


def test_bad_input_comes_back_with_a_message(app, session, client, auth, make_user, make_facility):
    world = _world(session, make_user, make_facility)
    auth.login(world.coordinator)
    response = client.get("/reports/preview?country=KG&format=annual_report&year=20x6", follow_redirects=True)
    assert b"Enter the year as four digits" in response.data
    response = client.post("/reports/generate", data={"country": "KG", "format": "annual_report", "year": "2026",
                                                      "language": "ru", "output": "odt"}, follow_redirects=True)
    assert b"Choose DOCX, PDF or HTML." in response.data
    response = client.get("/reports/preview?country=KG&format=visit_report&visit_id=999999", follow_redirects=True)
    assert b"Choose the visit the report is about." in response.data
    assert session.scalar(select(func.count()).select_from(GeneratedReport)) == 0


def test_annual_reports_command(app, session, runner, make_user, make_facility):
    world = _world(session, make_user, make_facility, "KZ")
    result = runner.invoke(args=["annual-reports", "--country", "KZ", "--year", "2026", "--language", "ru,kk",
                                 "--output", "docx,pdf", "--user", world.coordinator.username])
    assert result.exit_code == 0, result.output
    rows = session.scalars(select(GeneratedReport).order_by(GeneratedReport.id)).all()
    assert [(r.format_code, r.language, r.output) for r in rows] == [
        ("annual_consolidated", "ru", "docx"), ("annual_consolidated", "ru", "pdf"),
        ("annual_consolidated", "kk", "docx"), ("annual_consolidated", "kk", "pdf")]
    assert all(r.generated_by_id == world.coordinator.id for r in rows)
    assert "KZ_annual_consolidated_2026_kk.pdf" in result.output

    bad = runner.invoke(args=["annual-reports", "--country", "KZ", "--year", "2026", "--language", "uz"])
    assert bad.exit_code != 0 and "not written in 'uz'" in bad.output
