"""The council dashboard (figures checked against a fixture computed by hand),
its charts and drill-down links, and the meeting pack."""

from __future__ import annotations

import io
import re
import zlib
from datetime import date, timedelta
from html import unescape

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from npmtool.models import Region
from npmtool.services.charts import Bar, Point, bar_chart, line_chart
from npmtool.services.dashboard import build_dashboard, data_generation, months_before
from npmtool.services.meeting_pack import build_meeting_pack
from npmtool.services.recommendations import add_document, record_council_decision, record_response, verify
from npmtool.web.council import figure_cache
from tests.conftest import PASSWORD
from tests.recommendation_helpers import PDF
from tests.test_recommendation_list import count_queries, make_rec

TODAY = date.today()
YEAR = TODAY.year


def on(year_offset: int, month: int, day: int) -> date:
    return date(YEAR + year_offset, month, day)


@pytest.fixture
def board_world(session, make_user, make_facility):
    """Last year and the year before, by hand:

    two years ago (Y-2): A issued 03-01, implemented 03-31 (30 days)
                         B issued 06-01, open, overdue (deadline 09-01), urgent
                         C issued 09-01, implemented Y-1 01-10 (131 or 132 days), region 2
    last year (Y-1):     D issued 02-01, implemented 04-02 (60 days, leap years aside)
                         E issued 05-01, open, deadline far ahead, high, region 2
                         F issued 07-01, open, overdue (deadline 08-01), urgent, systemic
    Issued Y-2: 3 (implemented 2 → 67 %); Y-1: 3 (implemented 1 → 33 %).
    Implemented in Y-2: A (30 d); in Y-1: C and D → median = mean of the two.
    """
    regions = list(session.scalars(select(Region.code).where(Region.country_code == "KG").order_by(Region.code)))
    one = make_facility(country="KG", region=regions[0], name="Colony One")
    two = make_facility(country="KG", region=regions[1], name="Colony Two")
    coordinator = make_user("coordinator", country="KG")
    far = TODAY + timedelta(days=365)

    def done(issued: date, implemented: date, **kw):
        return make_rec(session, coordinator, issued=issued, deadline=implemented, status="closed",
                        assessment="implemented", closed_on=implemented, implemented_on=implemented, **kw)

    recs = {
        "A": done(on(-2, 3, 1), on(-2, 3, 31), facilities=[one], topic="hygiene"),
        "B": make_rec(session, coordinator, facilities=[one], issued=on(-2, 6, 1), deadline=on(-2, 9, 1),
                      flags=["risk_to_life"], topic="health_care"),
        "C": done(on(-2, 9, 1), on(-1, 1, 10), facilities=[two], topic="hygiene"),
        "D": done(on(-1, 2, 1), on(-1, 4, 2), facilities=[one], topic="treatment"),
        "E": make_rec(session, coordinator, facilities=[two], issued=on(-1, 5, 1), deadline=far,
                      flags=["repeated"], topic="treatment"),
        "F": make_rec(session, coordinator, authority=one.authority, systemic=True, issued=on(-1, 7, 1),
                      deadline=on(-1, 8, 1), flags=["torture_allegation"], topic="treatment"),
    }
    return {"recs": recs, "one": one, "two": two, "coordinator": coordinator, "regions": regions}


def _board(session, user, **kw):
    return build_dashboard(session, user, country="KG", start=on(-2, 1, 1), end=on(-1, 12, 31), today=TODAY, **kw)


def test_counts_and_breakdowns_match_the_hand_computed_fixture(session, make_user, board_world):
    board = _board(session, make_user("council", country="KG"))
    c = board.counts
    assert (c.total, c.open, c.overdue, c.implemented) == (6, 3, 2, 3)
    by_priority = {row.key: (row.counts.open, row.counts.overdue, row.counts.total)
                   for row in board.groups["priority"]}
    assert by_priority == {"urgent": (2, 2, 2), "high": (1, 0, 1), "normal": (0, 0, 3)}
    by_topic = {row.key: (row.counts.total, row.counts.implemented) for row in board.groups["topic"]}
    assert by_topic == {"hygiene": (2, 2), "health_care": (1, 0), "treatment": (3, 1)}
    by_region = {row.key: row.counts.total for row in board.groups["region"]}
    one, two = board_world["one"].region_id, board_world["two"].region_id
    assert by_region == {one: 3, two: 2, None: 1}  # None: the systemic item
    by_authority = {row.key: row.counts.open for row in board.groups["authority"]}
    assert by_authority[board_world["one"].authority_id] >= 2


def test_implementation_rate_and_median_time_by_year(session, make_user, board_world):
    board = _board(session, make_user("admin"))
    periods = {p.label: p for p in board.periods}
    older, last = periods[str(YEAR - 2)], periods[str(YEAR - 1)]
    assert (older.issued, older.implemented) == (3, 2)
    assert (last.issued, last.implemented) == (3, 1)
    assert round(older.rate, 3) == round(2 / 3, 3) and round(last.rate, 3) == round(1 / 3, 3)
    recs = board_world["recs"]
    expected = ((recs["C"].implemented_on - recs["C"].issued_on).days
                + (recs["D"].implemented_on - recs["D"].issued_on).days) / 2
    assert older.median_days == 30
    assert last.median_days == pytest.approx(expected)


def test_median_of_an_odd_number_and_quarters(session, make_user, board_world):
    recs = board_world["recs"]
    coordinator = board_world["coordinator"]
    # A third item implemented in Y-1 Q2 after 10 days: sorted 10, 60, 131 → 60.
    make_rec(session, coordinator, facilities=[board_world["one"]], issued=on(-1, 4, 1), deadline=on(-1, 4, 11),
             status="closed", assessment="implemented", closed_on=on(-1, 4, 11), implemented_on=on(-1, 4, 11))
    board = _board(session, make_user("admin"))
    last = {p.label: p for p in board.periods}[str(YEAR - 1)]
    assert last.median_days == (recs["D"].implemented_on - recs["D"].issued_on).days
    quarters = {p.label: p for p in _board(session, make_user("admin"), granularity="quarter").periods}
    assert len(quarters) == 8
    q2 = quarters[f"{YEAR - 1} Q2"]
    assert q2.median_days == pytest.approx(((recs["D"].implemented_on - recs["D"].issued_on).days + 10) / 2)
    assert quarters[f"{YEAR - 1} Q1"].median_days == (recs["C"].implemented_on - recs["C"].issued_on).days
    assert (quarters[f"{YEAR - 2} Q1"].issued, quarters[f"{YEAR - 2} Q1"].implemented) == (1, 1)


def test_ageing_buckets(session, make_user, board_world):
    board = _board(session, make_user("admin"))
    # Open: B (issued Y-2-06-01), E (Y-1-05-01), F (Y-1-07-01).
    expected_open = [0] * 5
    expected_overdue = [0] * 5
    edges = [0, 3, 6, 12, 24]
    for name in ("B", "E", "F"):
        rec = board_world["recs"][name]
        for i, low in enumerate(edges):
            high = edges[i + 1] if i + 1 < len(edges) else None
            if rec.issued_on <= months_before(TODAY, low) and (high is None or rec.issued_on > months_before(TODAY, high)):
                expected_open[i] += 1
            deadline = rec.current_deadline
            if deadline < TODAY and deadline <= months_before(TODAY, low) and \
                    (high is None or deadline > months_before(TODAY, high)):
                expected_overdue[i] += 1
    assert [a.count for a in board.age_open] == expected_open
    assert [a.count for a in board.age_overdue] == expected_overdue
    assert sum(expected_open) == 3 and sum(expected_overdue) == 2


def _inflate(pdf: bytes) -> bytes:
    """The PDF with its compressed streams (object streams too) inflated."""
    parts = [pdf]
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            parts.append(zlib.decompress(match.group(1)))
        except zlib.error:
            pass
    return b"\n".join(parts)


def _numbers_and_links(page: str) -> list[tuple[str, int]]:
    return [(unescape(href), int(num)) for href, num in
            re.findall(r'<td class="num"><a href="([^"]+)">(\d+)</a></td>', page)]


def test_dashboard_page_drills_down_to_the_same_numbers(client, auth, make_user, board_world):
    auth.login(make_user("council", country="KG"))
    page = client.get(f"/council/?from={YEAR - 2}&to={YEAR - 1}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<svg" in html and "<title>" in html and 'style="' not in html
    links = _numbers_and_links(html)
    assert len(links) > 20
    for href, number in links[:40]:
        listing = client.get(href).get_data(as_text=True)
        found = re.search(r"(\d+) recommendations? found", listing)
        assert found and int(found.group(1)) == number, href


def test_dashboard_rejects_a_bad_year_and_keeps_working(client, auth, make_user, board_world):
    auth.login(make_user("admin"))
    page = client.get("/council/?from=twenty&by=quarter")
    assert page.status_code == 200
    assert "twenty is not a year" in page.get_data(as_text=True)


@pytest.mark.parametrize("role, status", [("cso", 403), ("monitor", 403), ("council", 200), ("coordinator", 200),
                                          ("admin", 200)])
def test_dashboard_roles(client, auth, make_user, board_world, role, status):
    auth.login(make_user(role, country="KG"))
    assert client.get("/council/").status_code == status
    assert client.get("/council/meeting-pack.xlsx").status_code == status


def test_council_of_another_country_sees_nothing_of_kyrgyzstan(client, auth, make_user, board_world, session):
    board = _board(session, make_user("council", country="KZ"))
    assert board.counts.total == 0


def test_dashboard_queries_do_not_grow_with_the_data(client, auth, make_user, board_world, session):
    auth.login(make_user("admin"))
    url = f"/council/?from={YEAR - 2}&to={YEAR}"
    client.get(url)
    with count_queries() as small:
        assert client.get(url).status_code == 200
    for n in range(25):
        make_rec(session, board_world["coordinator"], facilities=[board_world["two"]], issued=on(-1, 1 + n % 12, 1),
                 topic=["hygiene", "staff", "registers"][n % 3], flags=["repeated"] if n % 2 else [],
                 **({"status": "closed", "assessment": "implemented", "implemented_on": on(-1, 12, 1),
                     "closed_on": on(-1, 12, 1)} if n % 3 == 0 else {}))
    with count_queries() as large:
        assert client.get(url).status_code == 200
    assert len(large) == len(small) <= 20


def test_meeting_pack_selects_overdue_priority_items_per_authority(session, make_user, board_world):
    recs = board_world["recs"]
    coordinator = board_world["coordinator"]
    council = make_user("council", country="KG")
    record_response(session, coordinator, recs["B"], kind="rejected", text="No budget", received_on=on(-2, 7, 1))
    record_council_decision(session, council, recs["B"], "Raise with the minister", TODAY)
    pack = build_meeting_pack(session, council, country="KG", today=TODAY)
    items = {item.rec.reference: item for group in pack.groups for item in group.items}
    assert set(items) == {recs["B"].reference, recs["F"].reference}  # E is high but not overdue
    b = items[recs["B"].reference]
    assert b.response.kind == "rejected" and b.decision.note == "Raise with the minister"
    assert b.facilities == "Colony One"


def test_meeting_pack_files_open(client, auth, make_user, board_world, session):
    recs = board_world["recs"]
    record_council_decision(session, make_user("council", country="KG"), recs["F"], "Ask for a hearing", TODAY)
    auth.login(make_user("council", country="KG"))
    xlsx = client.get("/council/meeting-pack.xlsx")
    assert xlsx.status_code == 200
    rows = list(load_workbook(io.BytesIO(xlsx.data)).active.iter_rows(values_only=True))
    references = {row[0] for row in rows}
    assert {recs["B"].reference, recs["F"].reference} <= references
    assert recs["E"].reference not in references
    f_row = next(row for row in rows if row[0] == recs["F"].reference)
    assert f_row[12] == "Ask for a hearing"
    make_rec(session, board_world["coordinator"], facilities=[board_world["two"]], issued=on(-1, 1, 5),
             deadline=on(-1, 3, 1), flags=["risk_to_life"], text="Обеспечить питьевую воду; Oʻzbekiston gʻisht")
    pdf = client.get("/council/meeting-pack.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")
    inflated = _inflate(pdf.data)
    assert len(re.findall(rb"/Type\s*/Page\b(?!s)", inflated)) >= 1
    assert b"+DejaVu-Sans" in inflated  # the font that covers Cyrillic and Uzbek Latin is embedded


def test_charts_are_plain_svg_with_titles_and_links():
    svg = bar_chart([Bar("Region <A>", 3, "/recommendations/?region=1"), Bar("B", 0)], "Open & overdue")
    assert svg.startswith("<svg") and "style=" not in svg
    assert "<title>Open &amp; overdue</title>" in svg and "<title>Region &lt;A&gt;: 3</title>" in svg
    assert '<a href="/recommendations/?region=1">' in svg
    line = line_chart([Point("2024", 10), Point("2025", None), Point("2026", 30)], "Rate", y_max=100)
    assert line.count("<polyline") == 2 and line.count("<circle") == 2 and "style=" not in line


def _kpis(response) -> dict[str, int]:
    html = response.get_data(as_text=True)
    return {what: int(number) for number, what in
            re.findall(r'<span class="number">(\d+)</span> <span class="what">(\w+)</span>', html)}


def test_repeat_views_come_from_the_cache_and_a_change_shows_at_once(app, client, auth, make_user, board_world,
                                                                     session):
    app.config["DASHBOARD_CACHE_SECONDS"] = 600
    auth.login(make_user("council", country="KG"))
    url = f"/council/?from={YEAR - 2}&to={YEAR - 1}"
    assert _kpis(client.get(url)) == {"open": 3, "overdue": 2, "implemented": 3, "issued": 6}
    with count_queries() as again:
        assert _kpis(client.get(url)) == {"open": 3, "overdue": 2, "implemented": 3, "issued": 6}
    assert not any("GROUP BY" in statement for statement in again) and len(again) <= 4
    # A verification closes B (open, overdue): the very next view shows it.
    coordinator, rec = board_world["coordinator"], board_world["recs"]["B"]
    document = add_document(session, coordinator, rec, filename="order.pdf", data=PDF)
    verify(session, coordinator, rec, kind="document", verdict="implemented", verified_on=TODAY, document=document)
    assert _kpis(client.get(url)) == {"open": 2, "overdue": 1, "implemented": 4, "issued": 6}
    # Closing E (no longer applicable) leaves the implemented count alone.
    e = board_world["recs"]["E"]
    letter = add_document(session, coordinator, e, filename="letter.pdf", data=PDF)
    verify(session, coordinator, e, kind="document", verdict="no_longer_applicable", verified_on=TODAY,
           document=letter)
    assert _kpis(client.get(url)) == {"open": 1, "overdue": 1, "implemented": 4, "issued": 6}


def test_the_generation_moves_with_every_change(session, board_world, make_user):
    coordinator, rec = board_world["coordinator"], board_world["recs"]["E"]
    seen = {data_generation(session)}
    record_council_decision(session, make_user("council", country="KG"), rec, "Ask again", TODAY)
    seen.add(data_generation(session))
    make_rec(session, coordinator, facilities=[board_world["one"]], issued=on(-1, 3, 1))
    seen.add(data_generation(session))
    assert len(seen) == 3


def test_two_apps_never_share_figures(make_app, make_user, board_world, session):
    council = make_user("council", country="KG")
    url = f"/council/?from={YEAR - 2}&to={YEAR - 1}"
    first, second = make_app({"DASHBOARD_CACHE_SECONDS": 600}), make_app({"DASHBOARD_CACHE_SECONDS": 600})
    for app in (first, second):
        with app.app_context():
            client = app.test_client()
            client.post("/login", data={"username": council.username, "password": PASSWORD})
            with count_queries() as statements:
                assert _kpis(client.get(url))["issued"] == 6
            # Each app computes its own figures (same user, filters, day and data).
            assert any("GROUP BY" in statement for statement in statements)
    assert figure_cache(first) is not figure_cache(second)