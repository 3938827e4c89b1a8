"""The recommendation list: filters, sorting, pages, exports, bulk actions, roles."""

from __future__ import annotations

import csv
import io
import re
from contextlib import contextmanager
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import event, func, select

from npmtool.extensions import db
from npmtool.models import Authority, Facility, FacilityType, Finding, Recommendation, RecommendationEvent, Region
from npmtool.services import recommendation_queries as queries
from npmtool.services.recommendation_queries import RecommendationFilters, list_page
from npmtool.services.recommendations import RecommendationInput, create_recommendation
from tests.visit_helpers import make_visit

TODAY = date.today()


def days(n: int) -> date:
    return TODAY + timedelta(days=n)


def make_rec(session, user, *, facilities=(), authority=None, text="Repair the cells", topic="conditions",
             flags=(), issued=None, deadline=None, systemic=False, **fields) -> Recommendation:
    """A recommendation issued through the service; ``fields`` then set what
    later steps (responses, verifications) would have set."""
    issued = issued or days(-30)
    rec = create_recommendation(session, user, RecommendationInput(
        text=text, authority_id=(authority or facilities[0].authority).id, topic=topic,
        initial_deadline=deadline or issued + timedelta(days=90), priority_flags=list(flags),
        systemic=systemic, facility_ids=[f.id for f in facilities], issued_on=issued))
    for name, value in fields.items():
        setattr(rec, name, value)
    session.commit()
    return rec


@contextmanager
def count_queries():
    """Count the SQL statements run inside the block, starting from a clean
    identity map (so both measurements load the signed-in user alike)."""
    statements: list[str] = []
    db.session.expire_all()

    def listener(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", listener)


@pytest.fixture
def world(session, make_user, make_facility):
    """Kyrgyz recommendations with one distinguishing trait each."""
    regions = list(session.scalars(select(Region.code).where(Region.country_code == "KG").order_by(Region.code)))
    types = list(session.scalars(select(FacilityType.code).where(FacilityType.country_code == "KG")
                                 .order_by(FacilityType.code)))
    north = make_facility(country="KG", region=regions[0], name="Colony North", type_code=types[0])
    south = make_facility(country="KG", region=regions[1], name="SIZO South", type_code=types[1])
    coordinator = make_user("coordinator", country="KG")
    other_authority = session.scalars(select(Authority).where(Authority.country_code == "KG",
                                                              Authority.id.not_in([north.authority_id, south.authority_id]))).first()
    recs = {
        # open, overdue, urgent, north
        "late": make_rec(session, coordinator, facilities=[north], text="Stop beatings in block 3",
                         topic="treatment", flags=["torture_allegation"], issued=days(-200), deadline=days(-20)),
        # open, in time, south, answered
        "answered": make_rec(session, coordinator, facilities=[south], text="Provide hot water",
                             topic="hygiene", issued=days(-40), deadline=days(60), response_kind="accepted",
                             response_on=days(-10)),
        # closed and implemented, north, repeated
        "done": make_rec(session, coordinator, facilities=[north], text="Repair the roof", flags=["repeated"],
                         issued=days(-400), deadline=days(-300), status="closed", assessment="implemented",
                         closed_on=days(-250), implemented_on=days(-250)),
        # systemic, another authority
        "systemic": make_rec(session, coordinator, authority=other_authority, systemic=True,
                             text="Amend the rules on family visits", topic="contact_outside",
                             issued=days(-10), deadline=days(170)),
    }
    return {"recs": recs, "north": north, "south": south, "coordinator": coordinator, "regions": regions,
            "other_authority": other_authority}


def refs(page_or_rows) -> set[str]:
    rows = page_or_rows.rows if hasattr(page_or_rows, "rows") else page_or_rows
    return {r.reference for r in rows}


def pick(world, *names) -> set[str]:
    return {world["recs"][n].reference for n in names}


FILTER_CASES = [
    ({}, ("late", "answered", "done", "systemic")),
    ({"country": "KG"}, ("late", "answered", "done", "systemic")),
    ({"country": "KZ"}, ()),
    ({"region": "north"}, ("late", "done")),
    ({"authority": "other"}, ("systemic",)),
    ({"facility_type": "north_type"}, ("late", "done")),
    ({"facility": "south"}, ("answered",)),
    ({"topic": "hygiene"}, ("answered",)),
    ({"priority": "urgent"}, ("late",)),
    ({"priority": "high"}, ("done",)),
    ({"flag": "torture_allegation"}, ("late",)),
    ({"flag": "repeated"}, ("done",)),
    ({"status": "closed"}, ("done",)),
    ({"assessment": "implemented"}, ("done",)),
    ({"response": "accepted"}, ("answered",)),
    ({"response": "none"}, ("late", "done", "systemic")),
    ({"overdue": "1"}, ("late",)),
    ({"repeated": "1"}, ("done",)),
    ({"systemic": "1"}, ("systemic",)),
    ({"deadline_from": days(0).isoformat()}, ("answered", "systemic")),
    ({"deadline_to": days(-1).isoformat()}, ("late", "done")),
    ({"issued_from": days(-50).isoformat(), "issued_to": days(-20).isoformat()}, ("answered",)),
    ({"facility_name": "sizo"}, ("answered",)),
    ({"facility_name": "colony north"}, ("late", "done")),
    ({"facility_name": "north south"}, ()),
    ({"q": "beatings"}, ("late",)),
    ({"q": "HOT WATER"}, ("answered",)),
]


@pytest.mark.parametrize("args, expected", FILTER_CASES)
def test_each_filter_narrows_the_list(session, make_user, world, args, expected):
    admin = make_user("admin")
    values = {"north": world["north"].region_id, "other": world["other_authority"].id,
              "north_type": world["north"].facility_type_id, "south": world["south"].id}
    args = {k: str(values.get(v, v)) for k, v in args.items()}
    filters = RecommendationFilters.from_args(args)
    assert not filters.errors
    assert refs(list_page(session, admin, filters, 1, 25)) == pick(world, *expected)


def test_search_finds_a_reference(session, make_user, world):
    admin = make_user("admin")
    reference = world["recs"]["done"].reference
    page = list_page(session, admin, RecommendationFilters.from_args({"q": reference}), 1, 25)
    assert refs(page) == {reference}


def test_bad_filter_values_are_reported_not_widened_silently(client, auth, make_user, world):
    auth.login(make_user("admin"))
    response = client.get("/recommendations/?deadline_from=31.12.2026&priority=extreme")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "31.12.2026 is not a date" in page
    assert "Unknown value for priority" in page
    assert 'value="31.12.2026"' in page  # the user's input stays in the form


@pytest.mark.parametrize("sort, expected", [
    ("deadline", ["done", "late", "answered", "systemic"]),
    ("-deadline", ["systemic", "answered", "late", "done"]),
    ("-issued", ["systemic", "answered", "late", "done"]),
    ("issued", ["done", "late", "answered", "systemic"]),
    ("priority", ["late", "done", "answered", "systemic"]),
])
def test_sorting(session, make_user, world, sort, expected):
    admin = make_user("admin")
    page = list_page(session, admin, RecommendationFilters(sort=sort), 1, 25)
    assert [r.reference for r in page.rows] == [world["recs"][n].reference for n in expected]


def test_pagination_and_capped_count(session, make_user, world, monkeypatch):
    admin = make_user("admin")
    first = list_page(session, admin, RecommendationFilters(), 1, 3)
    second = list_page(session, admin, RecommendationFilters(), 2, 3)
    assert (first.total, first.pages, first.has_next, second.has_next) == (4, 2, True, False)
    assert len(first.rows) == 3 and len(second.rows) == 1
    assert not refs(first) & refs(second)
    monkeypatch.setattr(queries, "COUNT_CAP", 2)
    capped = list_page(session, admin, RecommendationFilters(), 1, 3)
    assert capped.capped and capped.total == 2


def test_list_page_shows_rows_and_keeps_filters_in_links(client, auth, make_user, world):
    auth.login(make_user("admin"))
    page = client.get("/recommendations/?overdue=1&sort=priority").get_data(as_text=True)
    assert world["recs"]["late"].reference in page
    assert world["recs"]["answered"].reference not in page
    assert "1 recommendation found" in page
    assert "/recommendations/export.csv?" in page and "overdue=1" in page and "sort=priority" in page
    assert 'style="' not in page


def _csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def _with_confidential_finding(session, world, make_user):
    """Link a finding naming an interview code to the overdue item: exports
    must not carry it."""
    monitor = make_user("monitor", country="KG")
    visit = make_visit(session, world["coordinator"], [monitor], world["north"])
    finding = Finding(visit_id=visit.id, facility_id=world["north"].id, title="Beatings", text="",
                      legal_basis=[], interview_codes=["INT-SECRET-7"], topic="treatment")
    session.add(finding)
    world["recs"]["late"].findings.append(finding)
    session.commit()


def test_csv_export_of_the_filtered_list(client, auth, make_user, world, session):
    _with_confidential_finding(session, world, make_user)
    auth.login(make_user("admin"))
    response = client.get("/recommendations/export.csv?country=KG&sort=reference")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = _csv_rows(response)
    assert rows[0][:4] == ["Reference", "Country", "Authority", "Facilities"]
    assert len(rows[0]) == 15
    assert sorted(r[0] for r in rows[1:]) == sorted(pick(world, "late", "answered", "done", "systemic"))
    late = next(r for r in rows if r[0] == world["recs"]["late"].reference)
    assert late[3] == "Colony North" and late[5] == "urgent" and late[6] == "Torture allegation"
    assert late[10] == "yes" and late[14] == "Stop beatings in block 3"
    assert late[9] == days(-20).isoformat()
    assert "INT-SECRET-7" not in response.get_data(as_text=True)
    only_overdue = _csv_rows(client.get("/recommendations/export.csv?overdue=1"))
    assert [r[0] for r in only_overdue[1:]] == [world["recs"]["late"].reference]


def test_exports_never_turn_text_into_formulas(client, auth, make_user, world, session):
    world["recs"]["answered"].text = "=HYPERLINK(\"http://evil\")"
    session.commit()
    auth.login(make_user("admin"))
    rows = _csv_rows(client.get("/recommendations/export.csv?topic=hygiene"))
    assert rows[1][14] == "'=HYPERLINK(\"http://evil\")"
    sheet = load_workbook(io.BytesIO(client.get("/recommendations/export.xlsx?topic=hygiene").data)).active
    cell = sheet.cell(row=2, column=15)
    assert cell.value == "=HYPERLINK(\"http://evil\")" and cell.data_type == "s"


def test_xlsx_export_reads_back(client, auth, make_user, world, session):
    _with_confidential_finding(session, world, make_user)
    auth.login(make_user("council", country="KG"))
    response = client.get("/recommendations/export.xlsx?topic=treatment")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Reference" and len(rows) == 2
    assert rows[1][0] == world["recs"]["late"].reference
    assert rows[1][9].date() == days(-20)  # a real date cell
    assert not any("INT-SECRET-7" in str(v) for row in rows for v in row)


def test_bulk_response_logs_one_event_per_item_with_one_batch(client, auth, world, session):
    recs = world["recs"]
    auth.login(world["coordinator"])
    ids = [recs["late"].id, recs["answered"].id, recs["systemic"].id]
    response = client.post("/recommendations/bulk?overdue=", data={
        "ids": [str(i) for i in ids], "action": "response", "kind": "partially_accepted",
        "text": "Letter No. 12", "received_on": days(-15).isoformat()})
    assert response.status_code == 302
    session.expire_all()
    events = session.scalars(select(RecommendationEvent).where(RecommendationEvent.kind == "response")).all()
    assert sorted(e.recommendation_id for e in events) == sorted(ids[:2])
    assert len({e.batch for e in events}) == 1 and events[0].batch
    assert session.get(Recommendation, recs["late"].id).response_kind == "partially_accepted"
    # The systemic item was issued after the letter: refused and named.
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Response recorded for 2 recommendations" in page
    assert recs["systemic"].reference in page and "Not changed" in page


def test_bulk_deadline_revision(client, auth, world, session):
    recs = world["recs"]
    auth.login(world["coordinator"])
    new = days(120)
    response = client.post("/recommendations/bulk", data={
        "ids": [str(recs["late"].id), str(recs["done"].id)], "action": "deadline",
        "deadline": new.isoformat(), "reason": "Budget approved for next year"})
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Recommendation, recs["late"].id).current_deadline == new
    assert session.get(Recommendation, recs["done"].id).current_deadline == days(-300)  # closed: refused
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Deadline revised for 1 recommendations" in page
    assert recs["done"].reference in page


def test_bulk_bad_input_keeps_the_form(client, auth, world, session):
    recs = world["recs"]
    auth.login(world["coordinator"])
    response = client.post("/recommendations/bulk", data={
        "ids": [str(recs["late"].id)], "action": "response", "kind": "accepted", "text": "Our letter",
        "received_on": "yesterday"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Give the date the response was received" in page
    assert "Our letter" in page
    assert f'value="{recs["late"].id}" id="pick-{recs["late"].id}" checked' in page
    assert session.scalar(select(RecommendationEvent).where(RecommendationEvent.kind == "response")) is None
    nothing = client.post("/recommendations/bulk", data={"action": "response"})
    assert nothing.status_code == 400 and "Tick at least one" in nothing.get_data(as_text=True)


def test_bulk_refuses_items_outside_the_coordinators_regions(client, auth, make_user, world, session):
    regional = make_user("coordinator", country="KG", regions=(world["regions"][1],))
    auth.login(regional)
    late = world["recs"]["late"]  # in the first region
    response = client.post("/recommendations/bulk", data={
        "ids": [str(late.id), str(world["recs"]["answered"].id)], "action": "deadline",
        "deadline": days(200).isoformat(), "reason": "Agreed"})
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Recommendation, late.id).current_deadline == days(-20)
    assert session.get(Recommendation, world["recs"]["answered"].id).current_deadline == days(200)


@pytest.mark.parametrize("role", ["monitor", "council", "cso"])
def test_bulk_is_for_coordinators_and_admins_only(client, auth, make_user, world, role):
    auth.login(make_user(role, country="KG"))
    response = client.post("/recommendations/bulk", data={
        "ids": [str(world["recs"]["late"].id)], "action": "deadline", "deadline": days(200).isoformat(),
        "reason": "x"})
    assert response.status_code == 403


def test_roles_see_their_scope(client, auth, make_user, world, session):
    auth.login(make_user("cso", country="KG"))
    assert client.get("/recommendations/").status_code == 403
    assert client.get("/recommendations/export.csv").status_code == 403
    auth.logout()

    monitor = make_user("monitor", country="KG")
    make_visit(session, world["coordinator"], [monitor], world["south"])
    auth.login(monitor)
    rows = _csv_rows(client.get("/recommendations/export.csv"))
    assert [r[0] for r in rows[1:]] == [world["recs"]["answered"].reference]
    page = client.get("/recommendations/").get_data(as_text=True)
    assert world["recs"]["answered"].reference in page and world["recs"]["late"].reference not in page
    assert 'name="ids"' not in page  # no bulk actions for monitors
    auth.logout()

    auth.login(make_user("council", country="KZ"))
    assert "0 recommendations found" in client.get("/recommendations/").get_data(as_text=True)
    auth.logout()
    auth.login(make_user("council", country="KG"))
    assert "4 recommendations found" in client.get("/recommendations/").get_data(as_text=True)


def test_queries_per_page_do_not_grow_with_the_data(client, auth, make_user, world, session):
    auth.login(make_user("admin"))
    client.get("/recommendations/")  # warm up (first-request work)
    with count_queries() as small:
        assert client.get("/recommendations/").status_code == 200
    coordinator, north, south = world["coordinator"], world["north"], world["south"]
    for n in range(30):
        make_rec(session, coordinator, facilities=[north, south] if n % 2 else [south],
                 text=f"Item {n}", issued=days(-n - 5), flags=["repeated"] if n % 3 else [],
                 response_kind="accepted" if n % 4 else None)
    with count_queries() as large:
        page = client.get("/recommendations/")
    assert page.status_code == 200 and "34 recommendations found" in page.get_data(as_text=True)
    assert len(large) == len(small) <= 15


def _facility_field(page: str) -> str:
    """Which facility filter the form offers: a list or a search by name."""
    if 'name="facility"' in page:
        return "list"
    return "search" if 'name="facility_name"' in page else "none"


def test_facility_filter_lists_a_small_scope_and_searches_a_large_one(client, auth, make_user, world, monkeypatch,
                                                                     session):
    from npmtool.web import recommendation_list as view

    auth.login(make_user("admin"))
    page = client.get("/recommendations/").get_data(as_text=True)
    assert _facility_field(page) == "list" and ">SIZO South</option>" in page and ">Colony North</option>" in page
    # A registry larger than the limit (a whole country has about a thousand)
    # is not rendered as options: a search by name instead, or the region's list.
    in_south = session.scalar(select(func.count()).select_from(Facility)
                              .where(Facility.region_id == world["south"].region_id))
    monkeypatch.setattr(view, "FACILITY_CHOICES_LIMIT", in_south)
    page = client.get("/recommendations/").get_data(as_text=True)
    assert _facility_field(page) == "search" and "</option>" in page and ">SIZO South</option>" not in page
    found = client.get("/recommendations/?facility_name=Sizo").get_data(as_text=True)
    assert world["recs"]["answered"].reference in found and world["recs"]["late"].reference not in found
    assert 'value="Sizo"' in found  # the search stays in the form
    export = client.get("/recommendations/export.csv?facility_name=Sizo").get_data(as_text=True)
    assert world["recs"]["answered"].reference in export and world["recs"]["late"].reference not in export
    by_region = client.get(f"/recommendations/?region={world['south'].region_id}").get_data(as_text=True)
    assert _facility_field(by_region) == "list" and ">SIZO South</option>" in by_region
    # A link naming one facility still shows it, so it can be seen and cleared.
    linked = client.get(f"/recommendations/?facility={world['north'].id}").get_data(as_text=True)
    assert re.search(r'<option value="%d" selected>Colony North</option>' % world["north"].id, linked)
    assert world["recs"]["late"].reference in linked and world["recs"]["answered"].reference not in linked


def test_facility_choices_respect_the_coordinators_regions(client, auth, make_user, world):
    auth.login(make_user("coordinator", country="KG", regions=(world["regions"][1],)))
    page = client.get("/recommendations/").get_data(as_text=True)
    assert ">SIZO South</option>" in page and ">Colony North</option>" not in page
