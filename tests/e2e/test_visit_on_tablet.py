"""The monitor's working day on a tablet, in a real browser: open a planned
visit, answer the checklist (a measurement too), record an interview,
attach a photo with a redaction and submit the visit."""

from __future__ import annotations

import io

from PIL import Image
from sqlalchemy import select

from npmtool.crypto import sealer
from npmtool.extensions import db
from npmtool.models import Answer, ChecklistItem, Evidence, Interview, Visit
from npmtool.services.interviews import open_interview
from tests.e2e.conftest import sign_in
from tests.visit_helpers import kg_colony_type, make_visit


def planned_visit(app, make_user, make_facility):
    with app.app_context():
        coordinator = make_user("coordinator", country="KG", username="coord-day")
        lead = make_user("monitor", country="KG", username="lead-day")
        member = make_user("monitor", country="KG", username="member-day")
        facility = make_facility(country="KG", name="Colony No. 99 (browser test)",
                                 type_code=kg_colony_type(db.session).code, lat=42.87, lon=74.59, capacity=200)
        visit = make_visit(db.session, coordinator, [lead, member], facility, purpose="Planned monitoring")
        items = db.session.scalars(select(ChecklistItem).where(
            ChecklistItem.id.in_([i for c in visit.checklists for i in c.item_ids]))).all()
        measurement = next(i for i in items if i.answer_type == "measurement")
        rating = next(i for i in items if i.answer_type == "rating"
                      and any(i.id in c.item_ids for c in visit.checklists if c.id == visit.checklists[0].id))
        list_of = {i.id: next(c.id for c in visit.checklists if i.id in c.item_ids) for i in (measurement, rating)}
        return visit.id, rating.id, measurement.id, list_of


def wait_until_sent(page, visit_id: int, seconds: float = 10) -> None:
    """Until the tablet's queue of unsent answers is empty (polled from here:
    the page's CSP forbids evaluating strings inside it)."""
    script = f"Object.keys(JSON.parse(localStorage['npmtool:answers:{visit_id}'] || '{{}}')).length"
    for _ in range(int(seconds * 10)):
        if page.evaluate(script) == 0:
            return
        page.wait_for_timeout(100)
    raise AssertionError("answers still queued on the tablet")


def jpeg_bytes() -> bytes:
    image = Image.new("RGB", (800, 600), (180, 190, 200))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def test_a_monitors_day(live_app, page, shot, make_user, make_facility, tmp_path):
    base = live_app.config["LIVE_URL"]
    visit_id, rating_id, measurement_id, list_of = planned_visit(live_app, make_user, make_facility)
    sign_in(page, base, "lead-day")

    # Open the planned visit from the start page and start it.
    page.get_by_role("link", name="Colony No. 99 (browser test)").first.click()
    page.wait_for_url(f"{base}/visits/{visit_id}")
    page.get_by_role("button", name="Start the visit").click()
    assert page.get_by_text("in progress").first.is_visible()
    shot("visit-overview")

    # Answer a rating item: it saves on its own, no save button to forget.
    page.goto(f"{base}/visits/{visit_id}/checklist?list={list_of[rating_id]}")
    item = page.locator(f"#item-{rating_id}")
    item.get_by_label("Partly", exact=True).check()
    # A gap opens the notes: what is missing, and how to improve (seeds a recommendation).
    item.get_by_label("What is missing?").fill("No hot water in block 2")
    wait_until_sent(page, visit_id)
    item.locator(".save-state.ok").wait_for()
    shot("checklist-rating")

    # A measurement item evaluates itself against the Kyrgyz 2 m² norm for colonies.
    page.goto(f"{base}/visits/{visit_id}/checklist?list={list_of[measurement_id]}#item-{measurement_id}")
    item = page.locator(f"#item-{measurement_id}")
    item.get_by_label("Floor area of the cell or room (m²)").fill("10")
    item.get_by_label("People held in it").fill("6")
    item.get_by_label("People held in it").press("Tab")
    item.locator(".evaluation .alert").wait_for()
    assert "1.67" in item.locator(".evaluation").inner_text()
    shot("checklist-measurement")

    # Reload: nothing typed is lost.
    page.reload()
    assert page.locator(f"#item-{measurement_id}").get_by_label("People held in it").input_value() == "6"

    # Record an interview.
    page.goto(f"{base}/visits/{visit_id}/interviews/new")
    page.get_by_text("Person deprived of liberty").click()
    page.get_by_label("The person agreed to the interview and to its use").check()
    page.get_by_label("Held in private").check()
    page.get_by_text("Threats", exact=True).click()
    page.get_by_label("Risk of reprisal: check on this person at the next visit").check()
    page.get_by_label("Notes (stored encrypted)").fill("Was threatened after complaining about food.")
    shot("interview-form")
    page.get_by_role("button", name="Save the interview").click()
    assert page.get_by_text("reprisal risk").is_visible()

    # Attach a photo and draw a redaction box.
    photo = tmp_path / "corridor.jpg"
    photo.write_bytes(jpeg_bytes())
    page.goto(f"{base}/visits/{visit_id}/evidence")
    page.get_by_label("Caption").fill("Corridor of block 2")
    page.locator("input[type=file]").set_input_files(str(photo))
    page.get_by_role("button", name="Upload").click()
    page.wait_for_load_state()
    with live_app.app_context():
        evidence = db.session.scalar(select(Evidence).where(Evidence.visit_id == visit_id))
        assert evidence is not None
        evidence_id = evidence.id
    page.goto(f"{base}/evidence/{evidence_id}")
    canvas = page.locator("[data-surface] img")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.6, steps=5)
    page.mouse.up()
    page.get_by_role("button", name="Save redactions").click()
    page.wait_for_load_state()
    shot("evidence-redacted")
    with live_app.app_context():
        assert db.session.get(Evidence, evidence_id).redactions

    # Finish and submit.
    page.goto(f"{base}/visits/{visit_id}")
    page.get_by_role("button", name="Finish on-site work").click()
    page.get_by_role("button", name="Submit for review").click()
    assert page.get_by_text("in review").first.is_visible()
    shot("visit-submitted")

    with live_app.app_context():
        visit = db.session.get(Visit, visit_id)
        assert visit.status == "in_review"
        answers = {a.item_id: a for a in db.session.scalars(select(Answer).where(Answer.visit_id == visit_id))}
        assert answers[rating_id].rating == "partly" and answers[rating_id].missing_note == "No hot water in block 2"
        assert answers[measurement_id].evaluation["meets"] is False
        interview = db.session.scalar(select(Interview).where(Interview.visit_id == visit_id))
        assert open_interview(interview, sealer()).notes == "Was threatened after complaining about food."


def test_answers_survive_a_dropped_connection(live_app, browser, make_user, make_facility):
    base = live_app.config["LIVE_URL"]
    visit_id, rating_id, _measurement, list_of = planned_visit(live_app, make_user, make_facility)
    context = browser.new_context(viewport={"width": 820, "height": 1180}, locale="en-GB")
    page = context.new_page()
    sign_in(page, base, "lead-day")
    checklist = f"{base}/visits/{visit_id}/checklist?list={list_of[rating_id]}"
    page.goto(checklist)
    # The service worker takes over and keeps a copy of the checklist for offline use.
    assert page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.goto(checklist)
    assert page.evaluate("navigator.serviceWorker.controller !== null")
    context.set_offline(True)
    page.locator(f"#item-{rating_id}").get_by_label("Not yet", exact=True).check()
    page.locator(f"#item-{rating_id} .save-state.pending").wait_for()
    assert page.locator("#offline-banner").is_visible()
    with live_app.app_context():
        assert db.session.scalar(select(Answer).where(Answer.item_id == rating_id)) is None
    # Reloading inside the walls: the page comes from the tablet and the answer is still there.
    page.reload()
    assert page.locator(f"#item-{rating_id}").get_by_label("Not yet", exact=True).is_checked()
    context.set_offline(False)  # back outside: it is sent by itself
    page.locator(f"#item-{rating_id} .save-state.ok").wait_for()
    with live_app.app_context():
        assert db.session.scalar(select(Answer.rating).where(Answer.item_id == rating_id)) == "not_yet"
    context.close()


def test_second_writer_sees_the_conflict(live_app, browser, make_user, make_facility):
    base = live_app.config["LIVE_URL"]
    visit_id, rating_id, _measurement, list_of = planned_visit(live_app, make_user, make_facility)
    pages = []
    for username in ("lead-day", "member-day"):
        context = browser.new_context(viewport={"width": 820, "height": 1180}, locale="en-GB")
        page = context.new_page()
        sign_in(page, base, username)
        page.goto(f"{base}/visits/{visit_id}/checklist?list={list_of[rating_id]}")
        pages.append(page)
    lead, member = pages
    lead.locator(f"#item-{rating_id}").get_by_label("Complete", exact=True).check()
    lead.locator(f"#item-{rating_id} .save-state.ok").wait_for()
    member.locator(f"#item-{rating_id}").get_by_label("Not yet", exact=True).check()
    conflict = member.locator(f"#item-{rating_id} .conflict")
    conflict.wait_for()
    assert "Complete" in conflict.inner_text()
    with live_app.app_context():
        assert db.session.scalar(select(Answer.rating).where(Answer.item_id == rating_id)) == "complete"
    conflict.get_by_role("button", name="Replace it with mine").click()
    member.locator(f"#item-{rating_id} .save-state.ok").wait_for()
    with live_app.app_context():
        db.session.expire_all()
        assert db.session.scalar(select(Answer.rating).where(Answer.item_id == rating_id)) == "not_yet"
