"""A member of the public reports a concern from a phone without an account,
keeps the tracking code, and sees the status change once a coordinator has
turned the complaint into a special visit on a tablet."""

from __future__ import annotations

import re

from sqlalchemy import select

from npmtool.extensions import db
from npmtool.models import Complaint, Visit
from tests.e2e.conftest import SHOTS, TABLET, sign_in

PHONE = {"width": 390, "height": 844}
TEXT = "My brother was beaten during a search on Monday and has not seen a doctor since."


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_public_complaint_to_special_visit(live_app, browser, make_user, make_facility):
    base = live_app.config["LIVE_URL"]
    with live_app.app_context():
        facility = make_facility(country="KG", name="Pre-trial centre No. 77 (browser test)")
        facility_id = facility.id
        make_user("coordinator", country="KG", username="coord-complaints")
        make_user("monitor", country="KG", username="monitor-complaints")

    phone = browser.new_context(viewport=PHONE, locale="en-GB", has_touch=True, is_mobile=True)
    page = phone.new_page()
    page.set_default_timeout(10000)
    # The sign-in page offers the form to anonymous visitors.
    page.goto(base + "/login")
    page.get_by_role("link", name="Report a concern").click()
    page.select_option("#country", "KG")  # the script re-runs the search for the country
    page.wait_for_load_state()
    page.get_by_label("Search for the place by name").fill("No. 77")
    page.get_by_role("button", name="Search").click()
    page.select_option("#facility", str(facility_id))
    page.select_option("#category", "torture_ill_treatment")
    page.get_by_label("What happened?").fill(TEXT)
    page.get_by_label("A relative or friend").check()
    # Nothing typed is lost: a name without consent is refused, the text stays.
    page.get_by_label("Name of the person concerned").fill("Azamat")
    page.get_by_role("button", name="Send the complaint").click()
    assert page.get_by_text("agrees to be named").first.is_visible()
    assert page.get_by_label("What happened?").input_value() == TEXT
    page.get_by_label("Name of the person concerned").fill("")
    page.get_by_role("button", name="Send the complaint").click()
    page.wait_for_url(base + "/complain/sent")
    code = page.locator("#tracking-code").text_content().strip()
    assert re.fullmatch(r"[A-Z0-9]{4}(-[A-Z0-9]{4}){3}", code)
    shot(page, "complaint-phone-code")

    page.get_by_role("link", name="Check the status").click()
    page.get_by_label("Tracking code").fill(code)
    page.get_by_role("button", name="Show the status").click()
    assert "Received" in page.locator("#complaint-status").text_content()
    assert TEXT not in page.content()

    with live_app.app_context():
        complaint_id = db.session.scalars(select(Complaint.id)).one()

    tablet = browser.new_context(viewport=TABLET, locale="en-GB", has_touch=True)
    staff = tablet.new_page()
    staff.set_default_timeout(10000)
    sign_in(staff, base, "coord-complaints")
    staff.get_by_role("link", name="Complaints").first.click()
    staff.get_by_role("link", name=re.compile(f"No. {complaint_id}")).click()
    assert TEXT in staff.content()
    staff.get_by_role("button", name="Start the review").click()
    assert "Under review" in staff.locator("#complaint-status").text_content()
    visit_form = staff.locator("#plan-visit")
    assert visit_form.get_by_label("Type of visit").input_value() == "special"
    visit_form.get_by_label("Team lead").select_option(label="Test Monitor")
    visit_form.get_by_role("button", name="Plan the visit").click()
    assert "Visit planned" in staff.locator("#complaint-status").text_content()
    shot(staff, "complaint-tablet-triaged")

    with live_app.app_context():
        visit = db.session.scalars(select(Visit).where(Visit.facility_id == facility_id)).one()
        assert visit.visit_type == "special" and visit.status == "planned"
        assert TEXT not in visit.purpose

    page.goto(base + "/track")
    page.get_by_label("Tracking code").fill(code)
    page.get_by_role("button", name="Show the status").click()
    status = page.locator("#complaint-status").text_content()
    assert "acting on it" in status and "visit" not in status.lower()  # visits stay unannounced
    shot(page, "complaint-phone-status")
