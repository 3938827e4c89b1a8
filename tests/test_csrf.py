"""Every form is protected against cross-site request forgery."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from npmtool.models import Answer, AuditEvent, Facility, User
from tests.conftest import PASSWORD


@pytest.fixture
def csrf_app(make_app):
    app = make_app({"WTF_CSRF_ENABLED": True})
    with app.app_context():
        yield app


def _token(page: bytes) -> str:
    return re.search(rb'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1).decode()


def test_login_without_token_is_refused(csrf_app, make_user):
    user = make_user("admin")
    client = csrf_app.test_client()
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 400
    assert b"The form expired" in response.data


def test_login_with_real_token_works(csrf_app, make_user):
    user = make_user("admin")
    client = csrf_app.test_client()
    token = _token(client.get("/login").data)
    response = client.post("/login", data={"username": user.username, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302


@pytest.mark.parametrize("role", ["admin", "monitor"])
def test_every_post_route_refuses_a_forged_token(csrf_app, session, route_world, role):
    user = route_world["users"][role]
    facility = session.get(Facility, route_world["facility_id"])
    client = csrf_app.test_client()
    token = _token(client.get("/login").data)
    client.post("/login", data={"username": user.username, "password": PASSWORD, "csrf_token": token})
    events_before = session.scalar(select(func.count()).select_from(AuditEvent))
    values = route_world
    posted = 0
    for rule in csrf_app.url_map.iter_rules():
        if "POST" not in rule.methods:
            continue
        url = rule.rule
        for arg in rule.arguments:
            url = url.replace(f"<int:{arg}>", str(values[arg]))
        response = client.post(url, data={"csrf_token": "forged-" + token[:10], "name": "Forged",
                                          "full_name": "Forged", "role": "admin", "rating": "partly",
                                          "category": "detained", "outcome": "Forged", "action": "start"})
        assert response.status_code == 400, url
        json_response = client.post(url, json={"version": 0, "rating": "partly"},
                                    headers={"X-CSRFToken": "forged"})
        assert json_response.status_code == 400, url
        posted += 1
    assert posted >= 6
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == events_before
    assert session.get(Facility, facility.id).name != "Forged"
    assert session.scalar(select(func.count()).select_from(Answer)) == 0
    assert session.scalar(select(func.count()).select_from(User).where(User.full_name == "Forged")) == 0
