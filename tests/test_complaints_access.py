"""Who may do what with complaints: the complaint routes walked for every
role, and the rules that keep identities from those who must not see them."""

from __future__ import annotations

import re

import pytest
from flask import url_for
from sqlalchemy import select

from npmtool.crypto import sealer
from npmtool.models import AuditEvent, Complaint
from npmtool.models.users import ROLES
from npmtool.services import complaints as service
from npmtool.web.access import PUBLIC, allowed_roles
from tests.complaint_helpers import make_complaint

ALL_ROLES = ("anonymous",) + ROLES
SECRET_TEXT = "Guard Petrov beat him in cell 12"
IDENTITY = "Bakyt Asanov"
CONTACT = "+996 555 123 456"


def complaint_rules(app):
    return [r for r in sorted(app.url_map.iter_rules(), key=lambda r: r.rule) if r.endpoint.startswith("complaints.")]


@pytest.mark.parametrize("role", ALL_ROLES)
def test_complaint_routes_honour_their_roles(app, client, auth, route_world, role):
    world = route_world
    if role != "anonymous":
        auth.login(world["users"][role])
    rules = complaint_rules(app)
    assert len(rules) >= 15
    for rule in rules:
        roles = allowed_roles(rule.endpoint)
        url = url_for(rule.endpoint, **{arg: world[arg] for arg in rule.arguments})
        method = "GET" if "GET" in rule.methods else "POST"
        response = client.open(url, method=method, data={})
        where = f"{method} {url} as {role}"
        if PUBLIC in roles or role in roles:
            assert response.status_code not in (401, 403), where
            assert response.status_code < 500, where
        elif role == "anonymous":
            assert response.status_code == 302 and re.search(r"/login\?next=", response.location), where
        else:
            assert response.status_code == 403, where


def test_public_routes_are_public_and_nothing_else_is(app):
    public = {r.endpoint for r in complaint_rules(app) if PUBLIC in allowed_roles(r.endpoint)}
    assert public == {"complaints.complain", "complaints.sent", "complaints.track"}
    for rule in complaint_rules(app):
        assert "monitor" not in allowed_roles(rule.endpoint) or rule.endpoint in public


@pytest.fixture
def secret_complaint(session, make_user, make_facility):
    facility = make_facility(country="KG")
    complaint, code = make_complaint(session, None, facility, text=SECRET_TEXT, consent_to_be_named=True,
                                     identity=IDENTITY, contact=CONTACT, category_code="torture_ill_treatment")
    return complaint, code, facility


def test_council_sees_counts_and_categories_never_identities(client, auth, make_user, secret_complaint):
    complaint, _code, _facility = secret_complaint
    auth.login(make_user("council", country="KG"))
    assert client.get("/complaints/").status_code == 302
    page = client.get("/complaints/overview")
    assert page.status_code == 200
    assert b"Torture and ill-treatment" in page.data
    for secret in (SECRET_TEXT, IDENTITY, CONTACT):
        assert secret.encode() not in page.data
    assert client.get(f"/complaints/{complaint.id}").status_code == 403
    assert client.get("/complaints/export.csv").status_code == 403


def test_monitor_sees_no_complaint(client, auth, make_user, secret_complaint):
    complaint, _code, _facility = secret_complaint
    auth.login(make_user("monitor", country="KG"))
    assert client.get(f"/complaints/{complaint.id}").status_code == 403
    assert client.get("/complaints/").status_code == 403
    assert client.get("/complaints/risk").status_code == 403


def test_coordinator_opening_a_complaint_sees_identity_and_is_logged(session, client, auth, make_user,
                                                                    secret_complaint):
    complaint, _code, _facility = secret_complaint
    coordinator = make_user("coordinator", country="KG")
    auth.login(coordinator)
    listing = client.get("/complaints/")
    assert f"No. {complaint.id}".encode() in listing.data
    for secret in (SECRET_TEXT, IDENTITY, CONTACT):
        assert secret.encode() not in listing.data  # lists never show content or people
    page = client.get(f"/complaints/{complaint.id}")
    assert page.status_code == 200
    for secret in (SECRET_TEXT, IDENTITY, CONTACT):
        assert secret.encode() in page.data
    opened = session.scalars(select(AuditEvent).where(AuditEvent.action == "complaint.opened",
                                                      AuditEvent.object_id == complaint.id)).all()
    assert [e.user_id for e in opened] == [coordinator.id]
    assert SECRET_TEXT not in str(opened[0].details) and IDENTITY not in str(opened[0].details)


def test_coordinator_of_another_region_or_country_cannot_open(session, client, auth, make_user, make_facility):
    from tests.conftest import region_codes

    first, second = region_codes(session, "KG")[:2]
    complaint, _code = make_complaint(session, None, make_facility(country="KG", region=second))
    auth.login(make_user("coordinator", country="KG", regions=(first,)))
    assert client.get(f"/complaints/{complaint.id}").status_code == 403
    assert f"No. {complaint.id}".encode() not in client.get("/complaints/").data
    auth.logout()
    auth.login(make_user("coordinator", country="KZ"))
    assert client.get(f"/complaints/{complaint.id}").status_code == 403


def test_cso_follows_only_what_it_filed(session, client, auth, make_user, make_facility):
    cso = make_user("cso", country="KG")
    other = make_user("cso", country="KG")
    facility = make_facility(country="KG")
    mine, _ = make_complaint(session, cso, facility, text="Filed by us on behalf of a family",
                             consent_to_be_named=True, identity=IDENTITY)
    theirs, _ = make_complaint(session, other, facility, text="Someone else's complaint")
    coordinator = make_user("coordinator", country="KG")
    service.add_reply(session, coordinator, mine, "We have received it and are looking into it.", public=True,
                      sealer=sealer())
    service.add_reply(session, coordinator, mine, "Internal: call the lawyer", public=False,
                      sealer=sealer())
    auth.login(cso)
    listing = client.get("/complaints/")
    assert f"No. {mine.id}".encode() in listing.data and f"No. {theirs.id}".encode() not in listing.data
    page = client.get(f"/complaints/{mine.id}")
    assert b"Filed by us on behalf of a family" in page.data
    assert b"We have received it" in page.data
    assert b"Internal: call the lawyer" not in page.data
    assert IDENTITY.encode() not in page.data
    assert client.get(f"/complaints/{theirs.id}").status_code == 403
    assert session.get(Complaint, mine.id).filed_by_id == cso.id


def test_export_never_contains_identities_or_text(client, auth, make_user, secret_complaint):
    complaint, _code, _facility = secret_complaint
    auth.login(make_user("admin"))
    response = client.get("/complaints/export.csv")
    assert response.status_code == 200
    text = response.data.decode()
    assert f"\n{complaint.id}," in text and "torture_ill_treatment" in text
    for secret in (SECRET_TEXT, IDENTITY, CONTACT):
        assert secret not in text
