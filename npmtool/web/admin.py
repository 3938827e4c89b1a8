"""Administration: accounts and the installed plugins."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from npmtool.extensions import db
from npmtool.forms import choices
from npmtool.forms.users import UserForm
from npmtool.i18n import LANGUAGE_NAMES, tr
from npmtool.models import AuditEvent, Country, Region, User
from npmtool.services import users as service
from npmtool.web.access import allow
from npmtool.web.saving import attempt

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/users")
@allow("admin")
def users():
    rows = db.session.scalars(select(User).order_by(User.role, User.username)).all()
    return render_template("admin/users.html", users=rows)


def _user_form(form: UserForm) -> None:
    countries = db.session.scalars(select(Country).order_by(Country.code)).all()
    form.country_code.choices = choices([("", _("All countries"))] + [(c.code, tr(c.names)) for c in countries])
    regions = db.session.scalars(select(Region).order_by(Region.country_code, Region.code)).all()
    form.region_ids.choices = choices((r.id, f"{tr(r.names)} ({r.country_code})") for r in regions)
    form.language.choices = choices([("", _("As the browser asks"))] + [
        (code, LANGUAGE_NAMES.get(code, code)) for code in current_app.config["LANGUAGES"]])


@bp.route("/users/new", methods=["GET", "POST"])
@allow("admin")
def new_user():
    form = UserForm()
    _user_form(form)
    if form.validate_on_submit():
        if not form.password.data:
            form.password.errors.append(_("A new account needs a password."))
        else:
            user, _status = attempt(lambda: service.create_user(
                db.session, current_user, username=form.username.data, full_name=form.full_name.data,
                role=form.role.data, password=form.password.data, email=form.email.data or "",
                country_code=form.country_code.data or None, region_ids=form.region_ids.data or [],
                language=form.language.data or None))
            if user is not None:
                flash(_("Account %(username)s created.", username=user.username), "success")
                return redirect(url_for("admin.users"))
    status = 400 if request.method == "POST" else 200
    return render_template("admin/user_form.html", form=form, user=None), status


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@allow("admin")
def edit_user(user_id: int):
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    form = UserForm(obj=user)
    _user_form(form)
    if request.method == "GET":
        form.region_ids.data = sorted(user.region_ids)
        form.country_code.data = user.country_code or ""
        form.language.data = user.language or ""
        form.version.data = user.version
    form.username.data = user.username  # the user name never changes
    status = 200
    if form.validate_on_submit():
        expected = int(form.version.data) if (form.version.data or "").isdigit() else -1
        def save():
            service.update_user(db.session, current_user, user, {
                "full_name": form.full_name.data, "email": form.email.data or "", "role": form.role.data,
                "country_code": form.country_code.data or None, "is_active_account": form.is_active_account.data,
                "language": form.language.data or None, "region_ids": form.region_ids.data or []}, expected)
            if form.password.data:
                service.set_password(db.session, current_user, user, form.password.data)

        _done, status = attempt(save, _("Someone else saved this account after you opened the form. "
                                        "Nothing was saved; reload the page to see the current version."))
        if status is None:
            flash(_("Account %(username)s saved.", username=user.username), "success")
            return redirect(url_for("admin.users"))
    elif request.method == "POST":
        status = 400
    return render_template("admin/user_form.html", form=form, user=user), status


@bp.route("/plugins")
@allow("admin")
def plugins():
    host = current_app.extensions["npmtool"]
    catalogue = host.catalogue
    return render_template("admin/plugins.html", plugins=host.info.values(), catalogue=catalogue)


@bp.route("/audit")
@allow("admin")
def audit_log():
    page = max(int(request.args.get("page", "1")) if request.args.get("page", "1").isdigit() else 1, 1)
    events = db.session.execute(
        select(AuditEvent, User.username).outerjoin(User, User.id == AuditEvent.user_id)
        .order_by(AuditEvent.id.desc()).limit(51).offset((page - 1) * 50)).all()
    return render_template("admin/audit.html", events=events[:50], page=page, has_next=len(events) > 50)
