"""Every route against every role: the URL map is walked, so a new route
without a role declaration, or with a wrong one, fails here."""

from __future__ import annotations

import re

import pytest
from flask import url_for

from npmtool.models.users import ROLES
from npmtool.web.access import PUBLIC, allowed_roles

ALL_ROLES = ("anonymous",) + ROLES


def rules(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint == "static":
            continue
        yield rule


def build(rule, world: dict) -> str:
    values = {arg: world[arg] for arg in rule.arguments}
    return url_for(rule.endpoint, **values)


def test_every_endpoint_declares_its_roles(app):
    missing = [rule.endpoint for rule in rules(app) if allowed_roles(rule.endpoint) is None]
    assert missing == []


def test_undeclared_endpoint_is_refused(app, client):
    # A view someone forgot to declare fails closed, even for an anonymous GET.
    app.add_url_rule("/forgotten", "forgotten", lambda: "secret")
    response = client.get("/forgotten")
    assert response.status_code == 403
    assert b"secret" not in response.data


@pytest.mark.parametrize("role", ALL_ROLES)
def test_every_route_for_every_role(app, client, auth, route_world, role):
    world = route_world
    if role != "anonymous":
        assert auth.login(world["users"][role]).status_code == 302
    checked = 0
    for rule in rules(app):
        roles = allowed_roles(rule.endpoint)
        url = build(rule, world)
        method = "GET" if "GET" in rule.methods else "POST"
        response = client.open(url, method=method, data={})
        allowed = PUBLIC in roles or role in roles
        where = f"{method} {url} as {role}"
        if allowed:
            assert response.status_code not in (401, 403), where
            assert not (response.status_code == 302 and "/login" in response.location
                        and rule.endpoint != "auth.logout"), where
            assert response.status_code < 500, where
        elif role == "anonymous":
            assert response.status_code == 302, where
            assert re.search(r"/login\?next=", response.location), where
        else:
            assert response.status_code == 403, where
        checked += 1
        if rule.endpoint == "auth.logout" and allowed and role != "anonymous":
            auth.login(world["users"][role])  # signed out by the walk: sign in again
    assert checked >= 10


def test_monitor_outside_region_cannot_open_facility(session, client, auth, make_user, make_facility):
    from tests.conftest import region_codes

    first, second = region_codes(session, "KG")[:2]
    facility = make_facility(country="KG", region=second)
    monitor = make_user("monitor", country="KG", regions=(first,))
    auth.login(monitor)
    assert client.get(f"/facilities/{facility.id}").status_code == 403
    listing = client.get("/facilities/?q=" + facility.name.split()[-1])
    assert facility.name.encode() not in listing.data


def test_user_of_another_country_cannot_open_facility(client, auth, make_user, make_facility):
    facility = make_facility(country="KG")
    auth.login(make_user("coordinator", country="KZ"))
    assert client.get(f"/facilities/{facility.id}").status_code == 403
    assert client.get(f"/facilities/{facility.id}/edit").status_code == 403
