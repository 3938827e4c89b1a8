"""The account administration page."""

from __future__ import annotations

from sqlalchemy import select

from npmtool.models import AuditEvent, User
from tests.conftest import region_codes


def test_admin_creates_a_scoped_coordinator(session, client, auth, make_user):
    auth.login(make_user("admin"))
    region = region_codes(session, "KG")[0]
    from npmtool.models import Region

    region_id = session.scalar(select(Region.id).where(Region.code == region))
    response = client.post("/admin/users/new", data={
        "username": "Aida.T", "full_name": "Aida Toktosunova", "role": "coordinator", "country_code": "KG",
        "region_ids": [region_id], "password": "a long enough pass", "is_active_account": "y"})
    assert response.status_code == 302
    user = session.scalar(select(User).where(User.username == "aida.t"))
    assert user.role == "coordinator" and user.region_ids == {region_id}
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "user.created",
                                                   AuditEvent.object_id == user.id)) is not None


def test_short_password_rerenders_with_input(client, auth, make_user):
    auth.login(make_user("admin"))
    response = client.post("/admin/users/new", data={
        "username": "short", "full_name": "Kept Name", "role": "monitor", "password": "short"})
    assert response.status_code == 400
    assert b"Kept Name" in response.data and b"at least 10" in response.data


def test_region_of_another_country_is_refused(session, client, auth, make_user):
    auth.login(make_user("admin"))
    from npmtool.models import Region

    kz_region = session.scalars(select(Region.id).where(Region.country_code == "KZ")).first()
    response = client.post("/admin/users/new", data={
        "username": "mixed", "full_name": "Mixed", "role": "monitor", "country_code": "KG",
        "region_ids": [kz_region], "password": "a long enough pass"})
    assert response.status_code == 400
    assert b"not in the user&#39;s country" in response.data
    assert session.scalar(select(User).where(User.username == "mixed")) is None


def test_stale_account_edit_is_refused(session, client, auth, make_user):
    admin = make_user("admin")
    target = make_user("monitor")
    auth.login(admin)
    opened = target.version
    target.full_name = "Changed meanwhile"
    session.commit()
    response = client.post(f"/admin/users/{target.id}", data={
        "full_name": "Late edit", "role": "council", "version": opened, "is_active_account": "y"})
    assert response.status_code == 409
    session.refresh(target)
    assert (target.full_name, target.role) == ("Changed meanwhile", "monitor")


def test_admin_cannot_demote_themselves(session, client, auth, make_user):
    admin = make_user("admin")
    auth.login(admin)
    response = client.post(f"/admin/users/{admin.id}", data={
        "full_name": admin.full_name, "role": "monitor", "version": admin.version, "is_active_account": "y"})
    assert response.status_code == 400
    session.refresh(admin)
    assert admin.role == "admin"


def test_deactivated_account_loses_its_session(session, client, auth, make_user):
    monitor = make_user("monitor")
    auth.login(monitor)
    assert client.get("/").status_code == 200
    monitor.is_active_account = False
    session.commit()
    assert client.get("/").status_code == 302


def test_signing_in_does_not_make_an_open_account_form_stale(session, client, auth, make_user):
    from npmtool.models import User

    admin = make_user("admin")
    target = make_user("monitor")
    opened = target.version
    auth.login(target)  # the person signs in while the administrator edits their account
    auth.logout()
    session.expire_all()
    assert session.get(User, target.id).last_login_at is not None
    auth.login(admin)
    response = client.post(f"/admin/users/{target.id}", data={
        "full_name": "Edited", "role": "monitor", "version": opened, "is_active_account": "y"})
    assert response.status_code == 302
