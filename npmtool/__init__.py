"""npmtool: preventive visits, recommendations and complaints for National
Preventive Mechanisms. ``create_app`` is the application factory."""

from __future__ import annotations

import os
from typing import Any, Iterable

from flask import Flask

__version__ = "0.1.0"


class ConfigurationError(RuntimeError):
    """The deployment's configuration cannot work; the message says how to fix it."""


def create_app(config: dict[str, Any] | None = None,
               plugins: Iterable[tuple[str, Any]] = (),
               instance_path: str | None = None) -> Flask:
    """Build the application.

    ``config`` overrides every other layer (tests use it); ``plugins`` registers
    extra plugin modules directly, as ``(name, module)`` pairs, on top of the
    installed ones.
    """
    app = Flask(__name__, instance_relative_config=True,
                instance_path=instance_path or os.environ.get("NPMTOOL_INSTANCE_PATH"))
    _load_config(app, config)

    from npmtool.extensions import babel, csrf, db, login_manager
    from npmtool.i18n import select_locale
    from npmtool.plugins import PluginHost

    db.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    app.extensions["npmtool"] = PluginHost(enabled=app.config["PLUGINS"],
                                           settings=app.config["PLUGIN_SETTINGS"], extra=plugins)

    from npmtool.web import register_web

    register_web(app)
    from npmtool.cli import register_commands

    register_commands(app)
    return app


def _load_config(app: Flask, config: dict[str, Any] | None) -> None:
    from npmtool.config import Defaults

    app.config.from_object(Defaults)
    app.config.from_pyfile("config.py", silent=True)  # instance/config.py
    app.config.from_prefixed_env("NPMTOOL")
    if config:
        app.config.update(config)
    if not app.config.get("SECRET_KEY"):
        raise ConfigurationError(
            f"No SECRET_KEY in {os.path.join(app.instance_path, 'config.py')}: run `npmtool init` "
            "to create the instance, or set NPMTOOL_SECRET_KEY."
        )
    for key in ("DATA_ENCRYPTION_KEYS", "EVIDENCE_SIGNING_KEY"):
        if not app.config.get(key):
            raise ConfigurationError(
                f"No {key} in the configuration: run `npmtool init`, which adds the missing keys "
                "to instance/config.py without touching the data.")
    if not app.config.get("EVIDENCE_DIR"):
        app.config["EVIDENCE_DIR"] = os.path.join(app.instance_path, "evidence")
    url = app.config.get("DATABASE_URL")
    if not url:
        os.makedirs(app.instance_path, exist_ok=True)
        url = "sqlite:///" + os.path.join(app.instance_path, "npmtool.sqlite")
    app.config["DATABASE_URL"] = url
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    if url.startswith("sqlite"):
        # SQLite: no connection pool checks needed; wait for a writer rather
        # than failing when two monitors save at once.
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"timeout": 15}}
