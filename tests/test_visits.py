"""Planning visits, their checklists, answers and workflow."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from npmtool.models import Answer, AuditEvent, ChecklistItem, ChecklistTemplate, Visit
from npmtool.services import ServiceError
from npmtool.services.answers import AnswerConflict, AnswerInput, save_answer
from npmtool.services.visits import TeamEntry, plan_visit, transition
from tests.visit_helpers import first_visit_type, kg_colony_type, make_visit


@pytest.fixture
def kg(session, make_user, make_facility):
    coordinator = make_user("coordinator", country="KG")
    lead = make_user("monitor", country="KG")
    member = make_user("monitor", country="KG")
    outsider = make_user("monitor", country="KG")
    colony = kg_colony_type(session)
    facility = make_facility(country="KG", type_code=colony.code, lat=42.87, lon=74.59, capacity=100)
    visit = make_visit(session, coordinator, [lead, member], facility)
    return {"coordinator": coordinator, "lead": lead, "member": member, "outsider": outsider,
            "facility": facility, "visit": visit}


def items_of(session, visit, answer_type=None):
    ids = [i for c in visit.checklists for i in c.item_ids]
    query = select(ChecklistItem).where(ChecklistItem.id.in_(ids)).order_by(ChecklistItem.id)
    if answer_type:
        query = query.where(ChecklistItem.answer_type == answer_type)
    return session.scalars(query).all()


def test_a_visit_gets_the_checklists_that_apply(session, kg):
    visit = kg["visit"]
    codes = {c.template.code for c in visit.checklists}
    assert "INT-CORE" in codes
    assert any(code.startswith("KG-") for code in codes)
    assert "INT-WOMEN" not in codes  # the facility holds men only
    # Items that apply only to other categories are left out, and frozen on the visit.
    core = next(c for c in visit.checklists if c.template.code == "INT-CORE")
    template = session.scalar(select(ChecklistTemplate).where(ChecklistTemplate.id == core.template_id))
    assert 0 < len(core.item_ids) <= len(template.items)


def test_womens_facility_gets_the_bangkok_rules(session, kg, make_facility):
    facility = make_facility(country="KG", type_code=kg_colony_type(session).code)
    facility.populations = ["women"]
    session.commit()
    visit = make_visit(session, kg["coordinator"], [kg["lead"]], facility)
    assert "INT-WOMEN" in {c.template.code for c in visit.checklists}


@pytest.mark.parametrize("team,starts,ends,message", [
    ([], 0, 1, "needs a team"),
    ([("lead", "lead"), ("member", "lead")], 0, 1, "exactly one team lead"),
    ([("member", "member")], 0, 1, "exactly one team lead"),
    ([("lead", "lead")], 2, 1, "cannot end before it starts"),
])
def test_plan_is_checked(session, kg, team, starts, ends, message):
    users = {"lead": kg["lead"], "member": kg["member"]}
    entries = [TeamEntry(users[who].id, role) for who, role in team]
    with pytest.raises(ServiceError) as error:
        plan_visit(session, kg["coordinator"], facility=kg["facility"], visit_type=first_visit_type(session, "KG"),
                   starts_on=date.today() + timedelta(days=starts), ends_on=date.today() + timedelta(days=ends),
                   team=entries)
    assert message in str(error.value)


def test_team_members_must_work_in_the_country(session, kg, make_user):
    foreigner = make_user("monitor", country="KZ")
    with pytest.raises(ServiceError) as error:
        make_visit(session, kg["coordinator"], [foreigner], kg["facility"])
    assert "works in another country" in str(error.value)


def test_plan_form_keeps_input_on_error(client, auth, session, kg):
    auth.login(kg["coordinator"])
    response = client.post(f"/visits/new?facility={kg['facility'].id}", data={
        "visit_type": first_visit_type(session, "KG"), "starts_on": "2026-12-10", "ends_on": "2026-12-09",
        "purpose": "Information about beatings", f"team-{kg['lead'].id}": "lead"})
    page = response.data.decode()
    assert response.status_code == 400
    assert "cannot end before it starts" in page and "Information about beatings" in page
    assert '<option value="lead" selected>' in page


def test_plan_through_the_web(client, auth, session, kg):
    auth.login(kg["coordinator"])
    response = client.post(f"/visits/new?facility={kg['facility'].id}", data={
        "visit_type": first_visit_type(session, "KG"), "starts_on": "2026-12-10", "ends_on": "2026-12-11",
        f"team-{kg['lead'].id}": "lead", f"team-{kg['member'].id}": "expert",
        f"expertise-{kg['member'].id}": "doctor"})
    assert response.status_code == 302
    visit = session.scalars(select(Visit).order_by(Visit.id.desc())).first()
    assert {(m.user_id, m.role, m.expertise) for m in visit.team_members} == {
        (kg["lead"].id, "lead", ""), (kg["member"].id, "expert", "doctor")}


def test_who_sees_a_visit(client, auth, kg, make_user):
    visit = kg["visit"]
    for user, expected in ((kg["lead"], 200), (kg["coordinator"], 200), (kg["outsider"], 403),
                           (make_user("council"), 403), (make_user("coordinator", country="KZ"), 403)):
        auth.login(user)
        assert client.get(f"/visits/{visit.id}/checklist").status_code == expected, user.username
        auth.logout()


def test_monitor_lists_only_their_visits(client, auth, kg):
    auth.login(kg["outsider"])
    assert kg["facility"].name not in client.get("/visits/").data.decode()
    auth.logout()
    auth.login(kg["member"])
    assert kg["facility"].name in client.get("/visits/").data.decode()


# -- answers ----------------------------------------------------------------


def test_rating_answer_saves_on_its_own(client, auth, session, kg):
    auth.login(kg["member"])
    item = items_of(session, kg["visit"], "rating")[0]
    response = client.post(f"/visits/{kg['visit'].id}/answers/{item.id}", json={
        "version": 0, "rating": "partly", "missing_note": "No hot water", "improve_note": "Repair the boiler"})
    assert response.status_code == 200 and response.json["version"] == 1
    answer = session.scalar(select(Answer).where(Answer.item_id == item.id))
    assert (answer.rating, answer.missing_note, answer.updated_by_id) == ("partly", "No hot water", kg["member"].id)


def test_measurement_is_evaluated_against_the_norm(client, auth, session, kg):
    auth.login(kg["lead"])
    item = items_of(session, kg["visit"], "measurement")[0]
    response = client.post(f"/visits/{kg['visit'].id}/answers/{item.id}",
                           json={"version": 0, "value": {"area_m2": "10", "occupants": "6"}})
    evaluation = response.json["evaluation"]
    assert evaluation["per_person"] == 1.67 and evaluation["norm"] == 2 and evaluation["meets"] is False
    assert evaluation["shortfall_m2"] == 2.0
    page = client.get(f"/visits/{kg['visit'].id}/checklist?list={_list_of(kg['visit'], item)}").data.decode()
    assert "1.67 m² per person" in page and "below the norm" in page


def _list_of(visit, item):
    return next(c.id for c in visit.checklists if item.id in c.item_ids)


def test_measurement_without_a_norm_says_so(session, kg, make_facility):
    from npmtool.models import FacilityType

    no_norm = next(t for t in session.scalars(select(FacilityType).where(FacilityType.country_code == "KG"))
                   if not t.norms.get("min_m2_per_person"))
    facility = make_facility(country="KG", type_code=no_norm.code)
    visit = make_visit(session, kg["coordinator"], [kg["lead"]], facility)
    measurement = [i for i in items_of(session, visit, "measurement")]
    if not measurement:
        pytest.fail("every facility gets the international measurement item")
    answer = save_answer(session, kg["lead"], visit, measurement[0].id,
                         AnswerInput(value={"area_m2": 12, "occupants": 4}), 0)
    assert answer.evaluation["per_person"] == 3.0 and answer.evaluation["meets"] is None


@pytest.mark.parametrize("answer_type,value,message", [
    ("measurement", {"area_m2": "big", "occupants": "3"}, "as numbers"),
    ("measurement", {"area_m2": "-4", "occupants": "3"}, "above zero"),
    ("number", "many", "Enter a number"),
    ("choice", "not-an-option", "Choose one of the options"),
    ("yesno", "perhaps", "Answer yes or no"),
])
def test_bad_values_are_refused_clearly(client, auth, session, kg, answer_type, value, message):
    auth.login(kg["lead"])
    item = items_of(session, kg["visit"], answer_type)[0]
    response = client.post(f"/visits/{kg['visit'].id}/answers/{item.id}", json={"version": 0, "value": value})
    assert response.status_code == 422 and message in response.json["error"]
    assert session.scalar(select(func.count()).select_from(Answer)) == 0


def test_answer_for_an_item_not_in_the_checklist_is_refused(client, auth, session, kg):
    auth.login(kg["lead"])
    foreign = session.scalar(select(ChecklistItem).where(ChecklistItem.id.not_in(
        [i for c in kg["visit"].checklists for i in c.item_ids])))
    response = client.post(f"/visits/{kg['visit'].id}/answers/{foreign.id}", json={"version": 0, "rating": "complete"})
    assert response.status_code == 422 and "not in the checklist of this visit" in response.json["error"]
    assert session.scalar(select(func.count()).select_from(Answer)) == 0


def test_conflicting_answer_is_shown_not_overwritten(session, kg):
    item = items_of(session, kg["visit"], "rating")[0]
    save_answer(session, kg["lead"], kg["visit"], item.id, AnswerInput(rating="complete"), 0)
    with pytest.raises(AnswerConflict) as conflict:
        save_answer(session, kg["member"], kg["visit"], item.id, AnswerInput(rating="not_yet"), 0)
    assert conflict.value.current.rating == "complete"
    session.rollback()
    answer = session.scalar(select(Answer).where(Answer.item_id == item.id))
    assert answer.rating == "complete" and answer.updated_by_id == kg["lead"].id
    # The second writer saw theirs and decides to replace it: now with the right version.
    save_answer(session, kg["member"], kg["visit"], item.id, AnswerInput(rating="not_yet"), answer.version)
    session.refresh(answer)
    assert answer.rating == "not_yet" and answer.version == 2


def test_conflict_over_http_returns_the_current_answer(client, auth, session, kg):
    item = items_of(session, kg["visit"], "rating")[0]
    save_answer(session, kg["lead"], kg["visit"], item.id, AnswerInput(rating="complete", missing_note="ok"), 0)
    auth.login(kg["member"])
    response = client.post(f"/visits/{kg['visit'].id}/answers/{item.id}", json={"version": 0, "rating": "partly"})
    assert response.status_code == 409
    assert response.json["current"]["rating"] == "complete" and response.json["current"]["version"] == 1


def test_retried_save_is_idempotent(session, kg):
    item = items_of(session, kg["visit"], "rating")[0]
    first = save_answer(session, kg["lead"], kg["visit"], item.id, AnswerInput(rating="partly"), 0)
    again = save_answer(session, kg["lead"], kg["visit"], item.id, AnswerInput(rating="partly"), 0)
    assert again.id == first.id and again.version == 1


def test_two_members_fill_different_sections_at_once(session, kg):
    ratings = items_of(session, kg["visit"], "rating")
    save_answer(session, kg["lead"], kg["visit"], ratings[0].id, AnswerInput(rating="complete"), 0)
    save_answer(session, kg["member"], kg["visit"], ratings[-1].id, AnswerInput(rating="not_yet"), 0)
    assert session.scalar(select(func.count()).select_from(Answer)) == 2


def test_plain_form_post_works_without_javascript(client, auth, session, kg):
    auth.login(kg["lead"])
    item = items_of(session, kg["visit"], "measurement")[0]
    response = client.post(f"/visits/{kg['visit'].id}/answers/{item.id}",
                           data={"version": "0", "area_m2": "9", "occupants": "3"})
    assert response.status_code == 303 and f"#item-{item.id}" in response.location
    assert session.scalar(select(Answer.value).where(Answer.item_id == item.id)) == {"area_m2": 9.0, "occupants": 3}


def test_nobody_outside_the_team_can_answer(client, auth, session, kg, make_user):
    item = items_of(session, kg["visit"], "rating")[0]
    for user in (kg["outsider"], make_user("admin"), make_user("council")):
        auth.login(user)
        response = client.post(f"/visits/{kg['visit'].id}/answers/{item.id}", json={"version": 0, "rating": "partly"})
        assert response.status_code == 403, user.role
        auth.logout()


# -- workflow ---------------------------------------------------------------


def test_workflow_with_plugin_validation(app, session, kg, make_user, make_facility):
    host = app.extensions["npmtool"]
    coordinator = make_user("coordinator", country="KZ")
    lead = make_user("monitor", country="KZ")
    facility = make_facility(country="KZ")
    visit = make_visit(session, coordinator, [lead], facility)   # one person: the KZ rules want a group
    for action in ("start", "finish"):
        assert transition(session, lead, visit, action, host).done
    result = transition(session, lead, visit, "submit", host)
    assert not result.done and visit.status == "draft"
    assert any(m["level"] == "error" and m["plugin"] == "kazakhstan" for m in result.messages)

    second = make_user("monitor", country="KZ")
    from npmtool.services.visits import update_plan

    visit.status = "planned"
    session.commit()
    update_plan(session, coordinator, visit, visit.version, visit_type=visit.visit_type, starts_on=visit.starts_on,
                ends_on=visit.ends_on, team=[TeamEntry(lead.id, "lead"), TeamEntry(second.id, "member")],
                purpose="Planned")
    transition(session, lead, visit, "start", host)
    transition(session, lead, visit, "finish", host)
    result = transition(session, lead, visit, "submit", host)
    assert result.done and visit.status == "in_review"
    assert any("not answered" in m["message"]["en"] for m in result.messages)  # a warning, not a block
    with pytest.raises(ServiceError):
        transition(session, lead, visit, "send", host)  # only a coordinator approves
    transition(session, coordinator, visit, "send", host)
    transition(session, coordinator, visit, "close", host)
    assert visit.status == "closed"
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "visit",
                                                              AuditEvent.object_id == visit.id)).all()
    assert "visit.submit" in actions and "visit.close" in actions


def test_submission_fires_the_event_hook(make_app, make_user, make_facility):
    import types

    from npmtool.hookspecs import hookimpl

    submitted = []
    plugin = types.ModuleType("listener")
    plugin.npmtool_visit_submitted = hookimpl(lambda visit: submitted.append(visit.id))
    app = make_app(plugins=[("listener", plugin)])
    with app.app_context():
        from npmtool.extensions import db

        session = db.session
        coordinator = make_user("coordinator", country="KG")
        lead = make_user("monitor", country="KG")
        visit = make_visit(session, coordinator, [lead], make_facility(country="KG"))
        host = app.extensions["npmtool"]
        for action in ("start", "finish", "submit"):
            transition(session, lead, visit, action, host)
        assert submitted == [visit.id]


def test_non_lead_member_cannot_move_the_visit(client, auth, kg):
    auth.login(kg["member"])
    response = client.post(f"/visits/{kg['visit'].id}/transition", data={"action": "start",
                                                                         "version": kg["visit"].version})
    assert response.status_code == 303
    assert "not possible now, or not yours" in client.get(response.location).data.decode()


def test_answers_are_closed_once_the_visit_is_sent(app, client, auth, session, kg):
    host = app.extensions["npmtool"]
    visit = kg["visit"]
    for who, action in ((kg["lead"], "start"), (kg["lead"], "finish"), (kg["lead"], "submit"),
                        (kg["coordinator"], "send")):
        transition(session, who, visit, action, host)
    auth.login(kg["lead"])
    item = items_of(session, visit, "rating")[0]
    assert client.post(f"/visits/{visit.id}/answers/{item.id}", json={"version": 0, "rating": "partly"}).status_code == 403
