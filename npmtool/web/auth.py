"""Signing in and out, and choosing the interface language."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from npmtool.extensions import db
from npmtool.forms.auth import LanguageForm, LoginForm
from npmtool.services.users import authenticate
from npmtool.web.access import ANY_USER, PUBLIC, allow

bp = Blueprint("auth", __name__)


def safe_next(target: str | None) -> str:
    """Only same-site paths: never redirect a monitor to someone else's site."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("main.home")


@bp.route("/login", methods=["GET", "POST"])
@allow(PUBLIC)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        result = authenticate(
            db.session, form.username.data, form.password.data, request.remote_addr or "?",
            max_failures=current_app.config["LOGIN_MAX_FAILURES"],
            window=timedelta(minutes=current_app.config["LOGIN_FAILURE_WINDOW_MINUTES"]))
        if result.throttled:
            flash(_("Too many failed attempts. Wait %(minutes)s minutes and try again.",
                    minutes=current_app.config["LOGIN_FAILURE_WINDOW_MINUTES"]), "error")
            return render_template("auth/login.html", form=form), 429
        if result.user is None:
            flash(_("Wrong user name or password."), "error")
            return render_template("auth/login.html", form=form), 401
        session.clear()  # a fresh session on sign-in: no fixation
        login_user(result.user)
        return redirect(safe_next(form.next.data))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@allow(*ANY_USER)
def logout():
    logout_user()
    session.clear()
    flash(_("You are signed out."), "info")
    response = redirect(url_for("auth.login"))
    # Offline copies of visit pages leave the tablet with the person; answers
    # not yet sent (local storage) stay, to be sent at the next sign-in.
    response.headers["Clear-Site-Data"] = '"cache"'
    return response


@bp.route("/language", methods=["POST"])
@allow(PUBLIC)
def set_language():
    form = LanguageForm()
    if form.validate_on_submit() and form.language.data in current_app.config["LANGUAGES"]:
        session["language"] = form.language.data
        if current_user.is_authenticated:
            current_user.language = form.language.data
            db.session.commit()
    return redirect(safe_next(form.next.data))
