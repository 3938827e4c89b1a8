"""Blueprints, access control, error pages and template helpers."""

from __future__ import annotations

from flask import Flask, render_template, request
from flask_babel import get_locale
from flask_babel import refresh as refresh_locale
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError

from npmtool.extensions import db, login_manager
from npmtool.i18n import LANGUAGE_NAMES, tr
from npmtool.models import User
from npmtool.web.access import enforce_access
from npmtool.web.labels import register_labels


def register_web(app: Flask) -> None:
    from npmtool.web import (admin, auth, complaints, council, evidence, facilities, findings, main,
                             recommendation_list, recommendations, reports, visits)

    for module in (auth, main, facilities, visits, admin, evidence, findings, recommendations, complaints,
                   recommendation_list, council, reports):
        app.register_blueprint(module.bp)

    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        user = db.session.get(User, int(user_id))
        return user if user is not None and user.is_active else None

    # The locale is cached on `g`; a request inside an outer app context
    # (CLI, tests, background jobs) must not inherit an earlier choice.
    app.before_request(refresh_locale)
    app.before_request(enforce_access)
    register_labels(app)

    @app.after_request
    def security_headers(response):
        # Everything is served from here: no CDN, no inline scripts.
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'self'")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    def error_page(code: int, title: str, message: str):
        def handler(error):
            return render_template("error.html", code=code, title=title, message=message), code
        return handler

    app.register_error_handler(403, error_page(403, _l("Not allowed"),
                                               _l("Your role does not give access to this page.")))
    app.register_error_handler(404, error_page(404, _l("Page not found"),
                                               _l("There is nothing at this address.")))
    app.register_error_handler(413, error_page(413, _l("File too large"),
                                               _l("The file is larger than this server accepts. "
                                                  "Nothing was saved; try a smaller file.")))
    app.register_error_handler(CSRFError, error_page(400, _l("The form expired"),
                                                     _l("The form could not be verified (it may have been "
                                                        "open too long). Go back, reload the page and send it again.")))

    @app.context_processor
    def template_helpers():
        return {"tr": tr, "current_locale": str(get_locale()), "language_names": LANGUAGE_NAMES,
                "languages": app.config["LANGUAGES"]}

    @app.template_filter("tr")
    def tr_filter(texts):
        return tr(texts)


    app.jinja_env.globals["request_args"] = lambda **changes: _merge_args(changes)


def _merge_args(changes: dict) -> dict:
    args = request.args.to_dict()
    args.update({k: v for k, v in changes.items()})
    return {k: v for k, v in args.items() if v not in (None, "")}
