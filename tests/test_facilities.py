"""The registry of places of detention: list, page, create, edit, figures."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from npmtool.models import AuditEvent, Facility, FacilityType, Region
from npmtool.services import facilities as service
from npmtool.services.geo import CoordinateError, check_coordinates, geocode
from tests.conftest import region_codes


@pytest.fixture
def coordinator(make_user, auth):
    user = make_user("coordinator", country="KG")
    auth.login(user)
    return user


def _kg(session):
    region = session.scalars(select(Region).where(Region.country_code == "KG").order_by(Region.code)).first()
    facility_type = session.scalars(select(FacilityType).where(FacilityType.country_code == "KG")
                                    .order_by(FacilityType.code)).first()
    return region, facility_type


def test_list_filters_by_region_type_and_search(session, client, coordinator, make_facility):
    first, second = region_codes(session, "KG")[:2]
    a = make_facility(country="KG", region=first, name="Colony of Amber Hills")
    b = make_facility(country="KG", region=second, name="Detention centre Birch")
    region_id = session.scalar(select(Region.id).where(Region.code == first))
    page = client.get(f"/facilities/?region={region_id}").data.decode()
    assert a.name in page and b.name not in page
    page = client.get("/facilities/?q=birch").data.decode()
    assert b.name in page and a.name not in page
    page = client.get(f"/facilities/?type={a.facility_type_id}&q=amber").data.decode()
    assert a.name in page


def test_search_treats_wildcards_literally(client, coordinator, make_facility):
    make_facility(country="KG", name="Colony 100% full")
    assert b"0 facilities found" in client.get("/facilities/?q=_%25_x").data


def test_list_paginates(app, session, client, coordinator, make_facility):
    for n in range(app.config["PAGE_SIZE"] + 3):
        make_facility(country="KG", name=f"Paginated facility {n:03d}")
    first = client.get("/facilities/?q=paginated").data.decode()
    assert "Paginated facility 000" in first and "Paginated facility 027" not in first
    assert "Page 1 of 2" in first
    second = client.get("/facilities/?q=paginated&page=2").data.decode()
    assert "Paginated facility 027" in second


def test_list_query_count_does_not_grow_with_rows(app, session, make_user, make_facility):
    from sqlalchemy import event

    from npmtool.extensions import db

    user = make_user("admin")
    for n in range(30):
        make_facility(country="KG", name=f"Counted {n}")
    user.region_ids  # the signed-in user is loaded once per request anyway
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        service.list_facilities(session, user, service.FacilityFilters(q="counted"), 1, 25)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert len(statements) <= 5  # count + page + eager loads, never one per row


def test_create_facility(session, client, coordinator):
    region, facility_type = _kg(session)
    response = client.post("/facilities/new", data={
        "name": "ИВС ОВД Тестового района", "name_en": "Temporary detention, Test district",
        "facility_type_id": facility_type.id, "region_id": region.id, "lat": "42.5", "lon": "72.2",
        "capacity": "20", "populations": ["men", "women"], "is_active": "y"})
    assert response.status_code == 302
    facility = session.scalar(select(Facility).where(Facility.name == "ИВС ОВД Тестового района"))
    assert facility.names["en"] == "Temporary detention, Test district"
    assert facility.authority_id == facility_type.authority_id
    assert facility.populations == ["men", "women"]
    assert facility.created_by_id == coordinator.id
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "facility.created")).object_id == facility.id


def test_invalid_form_keeps_what_was_typed(session, client, coordinator):
    region, facility_type = _kg(session)
    response = client.post("/facilities/new", data={
        "name": "Колония с ошибкой", "facility_type_id": facility_type.id, "region_id": region.id,
        "lat": "95", "lon": "72.2", "address": "ул. Первая, 1"})
    page = response.data.decode()
    assert response.status_code == 400
    assert "Колония с ошибкой" in page and "ул. Первая, 1" in page
    assert "Number must be between -90 and 90" in page
    assert session.scalar(select(Facility).where(Facility.name == "Колония с ошибкой")) is None


def test_half_coordinates_are_refused(session, client, coordinator):
    region, facility_type = _kg(session)
    response = client.post("/facilities/new", data={
        "name": "Only latitude", "facility_type_id": facility_type.id, "region_id": region.id, "lat": "42.1"})
    assert response.status_code == 400
    assert b"Give both latitude and longitude" in response.data


def test_check_coordinates():
    check_coordinates(None, None)
    check_coordinates(42.0, 74.0)
    for lat, lon in ((91, 0), (0, 181), (1, None)):
        with pytest.raises(CoordinateError):
            check_coordinates(lat, lon)


def test_type_and_region_must_be_of_one_country(session, client, coordinator):
    region = session.scalars(select(Region).where(Region.country_code == "KG")).first()
    other_type = session.scalars(select(FacilityType).where(FacilityType.country_code == "KZ")).first()
    response = client.post("/facilities/new", data={
        "name": "Mixed up", "facility_type_id": other_type.id, "region_id": region.id})
    assert response.status_code == 400
    assert session.scalar(select(Facility).where(Facility.name == "Mixed up")) is None


def test_edit_facility(session, client, coordinator, make_facility):
    facility = make_facility(country="KG", capacity=100)
    form = client.get(f"/facilities/{facility.id}/edit").data.decode()
    assert f'name="version" type="hidden" value="{facility.version}"' in form
    response = client.post(f"/facilities/{facility.id}/edit", data={
        "name": facility.name, "facility_type_id": facility.facility_type_id, "region_id": facility.region_id,
        "capacity": "150", "version": facility.version, "is_active": "y"})
    assert response.status_code == 302
    session.refresh(facility)
    assert facility.capacity == 150 and facility.version == 2


def test_stale_edit_is_refused_not_overwritten(session, client, coordinator, make_facility):
    facility = make_facility(country="KG", capacity=100)
    opened_version = facility.version
    # Someone else saves first.
    service.update_facility(session, coordinator, facility, {
        "name": facility.name, "facility_type_id": facility.facility_type_id, "region_id": facility.region_id,
        "capacity": 120}, expected_version=opened_version)
    response = client.post(f"/facilities/{facility.id}/edit", data={
        "name": "My late rename", "facility_type_id": facility.facility_type_id, "region_id": facility.region_id,
        "capacity": "90", "version": opened_version, "is_active": "y"})
    assert response.status_code == 409
    assert "Someone else saved this facility" in response.data.decode()
    assert "My late rename" in response.data.decode()  # the person's input is still there
    session.refresh(facility)
    assert facility.capacity == 120 and facility.name != "My late rename"


def test_concurrent_flush_is_caught_by_version_column(app, session, make_facility):
    from sqlalchemy.orm import Session
    from sqlalchemy.orm.exc import StaleDataError

    from npmtool.extensions import db

    facility = make_facility(country="KG")
    with Session(db.engine) as other:
        copy = other.get(Facility, facility.id)
        facility.capacity = 1
        session.commit()
        copy.capacity = 2
        with pytest.raises(StaleDataError):
            other.commit()


def test_figures_and_occupancy(session, client, coordinator, make_facility):
    facility = make_facility(country="KG", capacity=100)
    response = client.post(f"/facilities/{facility.id}/figures", data={
        "kind": "population", "value": "130", "as_of": "2026-10-01", "source": "register of arrivals"})
    assert response.status_code == 302
    page = client.get(f"/facilities/{facility.id}").data.decode()
    assert "130.0 %" in page and "over capacity" in page and "register of arrivals" in page
    session.refresh(facility)
    occupancy = service.occupancy(facility)
    assert occupancy.percent == 130.0 and occupancy.overcrowded


def test_newest_capacity_figure_wins_over_registry(session, coordinator, make_facility):
    facility = make_facility(country="KG", capacity=100)
    service.add_figure(session, coordinator, facility, "capacity", 200, date(2026, 1, 1), "decree")
    service.add_figure(session, coordinator, facility, "population", 150, date(2026, 2, 1), "visit")
    service.add_figure(session, coordinator, facility, "population", 90, date(2025, 2, 1), "visit")
    session.refresh(facility)
    occupancy = service.occupancy(facility)
    assert (occupancy.population.value, occupancy.capacity, occupancy.percent) == (150, 200, 75.0)


def test_figure_needs_date_and_source(client, coordinator, make_facility):
    facility = make_facility(country="KG")
    response = client.post(f"/facilities/{facility.id}/figures", data={"kind": "population", "value": "10"})
    assert response.status_code == 400
    assert b"Enter the date of the figure" in response.data


def test_nearest_facilities_by_geodesic_distance(session, make_user, make_facility):
    user = make_user("admin")
    bishkek = make_facility(country="KG", name="Bishkek", lat=42.8746, lon=74.5698)
    kant = make_facility(country="KG", name="Kant", lat=42.8911, lon=74.8511)
    tokmok = make_facility(country="KG", name="Tokmok", lat=42.8420, lon=75.3012)
    make_facility(country="KG", name="Osh", lat=40.5140, lon=72.8161)
    nearest = service.nearest_facilities(session, user, bishkek.lat, bishkek.lon, exclude_id=bishkek.id, limit=100,
                                         radius_km=100)
    ours = {"Kant", "Tokmok", "Osh"}
    names = [f.name for f, _ in nearest if f.name in ours]  # the seeded registry has Bishkek facilities too
    assert names == [kant.name, tokmok.name]
    assert 22 < dict((f.name, d) for f, d in nearest)["Kant"] < 25  # Bishkek–Kant is about 23 km


def test_facility_page_shows_profile_visits_and_nearest(session, client, coordinator, make_facility):
    facility = make_facility(country="KG", name="Main colony", lat=42.87, lon=74.59)
    make_facility(country="KG", name="Neighbour colony", lat=42.88, lon=74.60)
    page = client.get(f"/facilities/{facility.id}").data.decode()
    assert "Main colony" in page and "Neighbour colony" in page
    assert "This facility has not been visited yet." in page


def test_geocoding_degrades_without_network(monkeypatch):
    from geopy.exc import GeocoderUnavailable
    from geopy.geocoders import Nominatim

    def offline(self, *args, **kwargs):
        raise GeocoderUnavailable("no network")

    monkeypatch.setattr(Nominatim, "geocode", offline)
    result = geocode("Bishkek", "nominatim", "npmtool-test", 1)
    assert not result.ok and result.message == "unavailable"
    assert geocode("Bishkek", None, "npmtool-test", 1).message == "disabled"


def test_geocode_button_keeps_the_form_when_offline(make_app, make_user, monkeypatch):
    from geopy.exc import GeocoderUnavailable
    from geopy.geocoders import Nominatim

    monkeypatch.setattr(Nominatim, "geocode", lambda *a, **k: (_ for _ in ()).throw(GeocoderUnavailable("down")))
    app = make_app({"GEOCODER": "nominatim"})
    with app.app_context():
        from npmtool.extensions import db

        user = make_user("admin")
        region, facility_type = _kg(db.session)
        client = app.test_client()
        client.post("/login", data={"username": user.username, "password": "correct horse battery"})
        response = client.post("/facilities/new", data={"name": "Typed name", "address": "Talas, Frunze 1",
                                                        "region_id": region.id, "facility_type_id": facility_type.id,
                                                        "geocode": "1"})
    page = response.data.decode()
    assert response.status_code == 200
    assert "Address look-up is not available now" in page and "Typed name" in page
