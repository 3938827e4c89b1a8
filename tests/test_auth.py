"""Signing in: passwords, throttling, cookies, redirects."""

from __future__ import annotations

from sqlalchemy import func, select

from npmtool.models import LoginAttempt, User
from tests.conftest import PASSWORD


def test_sign_in_and_out(client, auth, make_user):
    user = make_user("monitor", country="KG")
    assert client.get("/").status_code == 302
    response = auth.login(user)
    assert response.status_code == 302 and response.location.endswith("/")
    assert user.full_name.encode() in client.get("/").data
    assert auth.logout().status_code == 302
    assert client.get("/").status_code == 302


def test_password_is_stored_as_argon2_hash(make_user):
    user = make_user("council")
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def test_wrong_password_is_refused_with_message(client, auth, make_user):
    user = make_user("monitor")
    response = auth.login(user, "not the password")
    assert response.status_code == 401
    assert b"Wrong user name or password" in response.data
    # the user name the person typed is kept in the form
    assert f'value="{user.username}"'.encode() in response.data


def test_unknown_user_gets_the_same_answer(client, auth):
    response = auth.login("nobody-here", "whatever password")
    assert response.status_code == 401
    assert b"Wrong user name or password" in response.data


def test_inactive_account_cannot_sign_in(session, client, auth, make_user):
    user = make_user("monitor")
    user.is_active_account = False
    session.commit()
    assert auth.login(user).status_code == 401


def test_login_is_throttled_after_repeated_failures(app, session, client, auth, make_user):
    user = make_user("coordinator")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert auth.login(user, "guess").status_code == 401
    # Even the right password is refused while throttled: guessing gains nothing.
    response = auth.login(user)
    assert response.status_code == 429
    assert b"Too many failed attempts" in response.data
    assert session.scalar(select(func.count()).select_from(LoginAttempt)
                          .where(LoginAttempt.username == user.username)) == app.config["LOGIN_MAX_FAILURES"] + 1


def test_throttle_window_passes(app, session, client, auth, make_user):
    from datetime import timedelta

    user = make_user("coordinator")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        auth.login(user, "guess")
    for attempt in session.scalars(select(LoginAttempt)):
        attempt.at -= timedelta(minutes=app.config["LOGIN_FAILURE_WINDOW_MINUTES"] + 1)
    session.commit()
    assert auth.login(user).status_code == 302


def test_next_only_redirects_within_the_site(client, make_user):
    user = make_user("admin")
    response = client.post("/login", data={"username": user.username, "password": PASSWORD,
                                           "next": "https://evil.example/phish"})
    assert response.location.endswith("/") and "evil" not in response.location
    client.post("/logout")
    response = client.post("/login", data={"username": user.username, "password": PASSWORD,
                                           "next": "/admin/users"})
    assert response.location.endswith("/admin/users")


def test_session_cookie_is_protected(make_app, make_user):
    app = make_app({"SESSION_COOKIE_SECURE": True})
    with app.app_context():
        user_name = make_user("monitor").username
        client = app.test_client()
        response = client.post("/login", data={"username": user_name, "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=Lax" in cookie


def test_default_configuration_requires_secure_cookies():
    from npmtool.config import Defaults

    assert Defaults.SESSION_COOKIE_SECURE is True
    assert Defaults.REMEMBER_COOKIE_SECURE is True


def test_security_headers_forbid_foreign_scripts(client):
    response = client.get("/login")
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_language_is_switchable(client, session, make_user):
    response = client.post("/language", data={"language": "ru", "next": "/login"})
    assert response.status_code == 302
    page = client.get("/login").data.decode()
    assert "Войти" in page and 'lang="ru"' in page
    client.post("/language", data={"language": "en", "next": "/login"})
    assert "Sign in" in client.get("/login").data.decode()


def test_signed_in_users_language_is_remembered(client, auth, session, make_user):
    user = make_user("monitor")
    auth.login(user)
    client.post("/language", data={"language": "kk", "next": "/"})
    assert session.get(User, user.id).language == "kk"
