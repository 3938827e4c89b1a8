"""A coordinator works with the registry on a tablet, in a real browser."""

from __future__ import annotations

from sqlalchemy import select

from npmtool.extensions import db
from npmtool.models import Facility, FacilityFigure
from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in


def test_coordinator_finds_a_facility_and_records_a_figure(live_app, page, shot, make_user, make_facility):
    base = live_app.config["LIVE_URL"]
    with live_app.app_context():
        make_user("coordinator", country="KG", username="coord-e2e")
        facility = make_facility(country="KG", name="Colony for the browser test", capacity=50,
                                 lat=42.87, lon=74.59)
        facility_id = facility.id
    sign_in(page, base, "coord-e2e")
    shot("home")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Facilities").click()
    page.get_by_label("Search by name, code or address").fill("browser test")
    page.get_by_role("button", name="Show").click()
    shot("facilities-search")
    page.get_by_role("link", name="Colony for the browser test").click()
    assert page.get_by_role("heading", name="Colony for the browser test").is_visible()

    page.get_by_text("Record a figure").click()
    page.get_by_label("Value").fill("64")
    page.get_by_label("As of").fill("2026-11-01")
    page.get_by_label("Source").fill("register of the facility")
    page.get_by_role("button", name="Record", exact=True).click()
    page.wait_for_url(f"{base}/facilities/{facility_id}#figures")
    assert page.get_by_text("128.0 %").is_visible()
    assert page.get_by_text("over capacity").is_visible()
    shot("facility-detail")

    with live_app.app_context():
        figure = db.session.scalar(select(FacilityFigure).where(FacilityFigure.facility_id == facility_id))
        assert (figure.value, figure.source) == (64, "register of the facility")


def test_form_errors_keep_input_and_touch_targets_are_large(live_app, page, shot, make_user):
    base = live_app.config["LIVE_URL"]
    with live_app.app_context():
        make_user("admin", username="admin-e2e")
    sign_in(page, base, "admin-e2e")
    page.goto(base + "/facilities/new")
    page.get_by_label("Name (Russian or as officially written)").fill("СИЗО для проверки")
    page.get_by_label("Latitude").fill("123")
    page.get_by_role("button", name="Save").click()
    assert page.get_by_label("Name (Russian or as officially written)").input_value() == "СИЗО для проверки"
    assert page.get_by_text("Number must be between -90 and 90").is_visible()
    shot("facility-form-errors")
    # Every button and link in the main navigation is at least 44 px high for a thumb.
    main_nav = page.get_by_role("navigation", name="Main")
    for locator in (page.get_by_role("button", name="Save"), main_nav.get_by_role("link", name="Facilities"),
                    page.get_by_role("button", name="RU")):
        box = locator.bounding_box()
        assert box["height"] >= 44
    with live_app.app_context():
        assert db.session.scalar(select(Facility).where(Facility.name == "СИЗО для проверки")) is None


def test_keyboard_only_sign_in_and_language_switch(live_app, page, shot, make_user):
    base = live_app.config["LIVE_URL"]
    with live_app.app_context():
        make_user("monitor", country="KG", username="monitor-e2e")
    page.goto(base + "/login")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").strip() == "Skip to content"
    page.get_by_label("User name").focus()
    page.keyboard.type("monitor-e2e")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(base + "/")
    page.get_by_role("button", name="RU").click()
    assert page.get_by_role("link", name="Учреждения").is_visible()
    assert page.locator("html").get_attribute("lang") == "ru"
    shot("home-ru")
