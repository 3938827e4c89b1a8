"""Choosing the interface language and showing plugin texts in it."""

from __future__ import annotations

from typing import Any

from flask import current_app, has_request_context, request, session
from flask_babel import get_locale
from flask_login import current_user

LANGUAGE_NAMES = {
    "ru": "Русский",
    "en": "English",
    "kk": "Қазақша",
    "ky": "Кыргызча",
    "uz": "Oʻzbekcha",
}


def select_locale() -> str:
    """The user's saved language, then this browser session's choice, then
    the browser's preference, then the deployment's default."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        return current_app.config["CLI_LANGUAGE"]  # command-line output
    if getattr(current_user, "is_authenticated", False) and current_user.language in languages:
        return current_user.language
    chosen = session.get("language")
    if chosen in languages:
        return chosen
    best = request.accept_languages.best_match(languages)
    return best or current_app.config["BABEL_DEFAULT_LOCALE"]


def tr(texts: dict[str, Any] | None, language: str | None = None) -> str:
    """Pick the text of a plugin's L10n dict in the current language, falling
    back to Russian then English (plugins always have both)."""
    if not texts:
        return ""
    if language is None:
        language = str(get_locale() or "ru")
    for candidate in (language, "ru", "en"):
        if texts.get(candidate):
            return texts[candidate]
    return next(iter(texts.values()))
