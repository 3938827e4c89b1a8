"""A recommendation's life in a real browser: a coordinator turns a visit's
finding into a recommendation, records the authority's response and a
revised deadline; the team verifies it on site at the next visit; a council
member sees it move on the dashboard and downloads the meeting pack."""

from __future__ import annotations

import io
from datetime import date, timedelta

from openpyxl import load_workbook
from sqlalchemy import select

from npmtool.extensions import db
from npmtool.models import ChecklistItem, Recommendation, Visit
from npmtool.services.answers import AnswerInput, save_answer
from npmtool.services.recommendations import RecommendationInput, create_recommendation
from tests.e2e.conftest import sign_in
from tests.visit_helpers import kg_colony_type, make_visit

MISSING = "No drinking water in cells 4 to 9 (browser test)"
IMPROVE = "Install taps with drinking water in every cell"


def two_visits(app, make_user, make_facility):
    """A visit in review whose checklist found drinking water wanting, and the
    next visit to the same colony, planned with the same monitor."""
    with app.app_context():
        session = db.session
        coordinator = make_user("coordinator", country="KG", username="coord-cycle")
        monitor = make_user("monitor", country="KG", username="monitor-cycle")
        make_user("council", country="KG", username="council-cycle")
        facility = make_facility(country="KG", name="Colony No. 47 (browser test)",
                                 type_code=kg_colony_type(session).code, capacity=300)
        earlier = make_visit(session, coordinator, [monitor], facility, starts_on=date.today() - timedelta(days=120))
        item = session.scalars(select(ChecklistItem).where(
            ChecklistItem.id.in_(earlier.checklists[0].item_ids), ChecklistItem.answer_type == "rating")).first()
        save_answer(session, monitor, earlier, item.id,
                    AnswerInput(rating="not_yet", missing_note=MISSING, improve_note=IMPROVE), base_version=0)
        earlier.status = "in_review"
        later = make_visit(session, coordinator, [monitor], facility)
        later.status = "in_progress"
        # An overdue urgent item of the same authority for the meeting pack.
        urgent = create_recommendation(session, coordinator, RecommendationInput(
            text="Investigate the allegations of beatings on arrival (browser test)",
            authority_id=facility.authority_id, topic="treatment", facility_ids=[facility.id],
            priority_flags=["torture_allegation"], issued_on=date.today() - timedelta(days=200),
            initial_deadline=date.today() - timedelta(days=20)))
        session.commit()
        return earlier.id, later.id, urgent.reference


def kpi(page, what: str) -> int:
    return int(page.locator(".kpis li", has_text=what).locator(".number").inner_text())


def test_a_recommendation_from_finding_to_verification(live_app, page, shot, make_user, make_facility):
    base = live_app.config["LIVE_URL"]
    earlier_id, later_id, urgent_reference = two_visits(live_app, make_user, make_facility)

    # The council's view before anything happens: only the urgent item.
    sign_in(page, base, "council-cycle")
    page.goto(base + "/council/")
    assert (kpi(page, "open"), kpi(page, "implemented")) == (1, 0)
    page.get_by_role("button", name="Sign out").click()

    # The coordinator drafts findings from the checklist and makes a recommendation.
    sign_in(page, base, "coord-cycle")
    page.goto(f"{base}/visits/{earlier_id}/findings")
    page.get_by_role("button", name="Draft findings from the checklist").click()
    finding = page.locator("li", has_text=MISSING).first
    finding.get_by_role("checkbox").check()
    page.get_by_role("button", name="Make a recommendation from the chosen findings").click()
    assert IMPROVE in page.get_by_label("Recommendation").input_value()
    shot("recommendation-new")
    page.get_by_role("button", name="Issue the recommendation").click()
    page.wait_for_url(f"{base}/recommendations/*")
    reference = page.locator("h1").inner_text()
    assert "KG-" in reference

    # The authority accepts; the deadline moves.
    page.locator("summary", has_text="Record a response").click()
    page.get_by_label("accepted", exact=True).check()
    page.get_by_label("What it says").fill("Taps will be installed by the end of the quarter.")
    page.get_by_role("button", name="Save the response").click()
    page.locator("summary", has_text="Revise the deadline").click()
    new_deadline = date.today() + timedelta(days=150)
    page.get_by_label("New deadline").fill(new_deadline.isoformat())
    page.get_by_label("Why").fill("The ministry asked for time to tender the works.")
    page.get_by_role("button", name="Save the new deadline").click()
    assert page.get_by_text("The ministry asked for time to tender the works.").first.is_visible()
    shot("recommendation-detail")
    page.get_by_role("button", name="Sign out").click()

    # On the next visit the monitor finds the taps installed.
    sign_in(page, base, "monitor-cycle")
    page.goto(f"{base}/visits/{later_id}/follow-up")
    card = page.locator("li, article, section", has_text=IMPROVE).last
    card.locator("summary", has_text="Record what the team found").click()
    card.get_by_label("implemented", exact=True).check()
    card.get_by_label("Note").fill("Taps with drinking water seen in cells 4 to 9.")
    card.get_by_role("button", name="Save the verdict").click()
    assert page.get_by_text("Checked at this visit").first.is_visible()
    shot("follow-up")
    page.get_by_role("button", name="Sign out").click()

    with live_app.app_context():
        rec = db.session.scalar(select(Recommendation).where(Recommendation.text.contains(IMPROVE)))
        assert (rec.status, rec.assessment, rec.response_kind) == ("closed", "implemented", "accepted")
        assert rec.current_deadline == new_deadline and rec.initial_deadline != new_deadline
        assert [v.visit_id for v in rec.verifications] == [later_id]
        assert db.session.get(Visit, earlier_id).status == "in_review"

    # The council sees it implemented and takes the meeting pack.
    sign_in(page, base, "council-cycle")
    page.goto(base + "/council/")
    assert (kpi(page, "open"), kpi(page, "implemented")) == (1, 1)
    shot("council-dashboard")
    with page.expect_download() as download:
        page.get_by_role("link", name="Meeting pack (Excel)").click()
    workbook = load_workbook(io.BytesIO(open(download.value.path(), "rb").read()), read_only=True)
    cells = {str(c) for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True) for c in row if c}
    assert urgent_reference in cells and reference.strip() not in cells
