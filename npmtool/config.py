"""Configuration layers: these defaults, then ``instance/config.py``, then
``NPMTOOL_*`` environment variables (values parsed as JSON where they can be,
so ``NPMTOOL_PLUGINS='["international", "kazakhstan"]'`` gives a list)."""

from __future__ import annotations

from datetime import timedelta


class Defaults:
    # SECRET_KEY has no default on purpose: `npmtool init` writes a random one
    # into instance/config.py, and the app refuses to start without one.
    SECRET_KEY: str | None = None

    # None means "sqlite file in the instance folder", resolved in create_app.
    DATABASE_URL: str | None = None
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}

    # Plugins: None loads every installed plugin of the entry-point group
    # "npmtool"; a list keeps only those names (a deployment usually runs
    # "international" plus its own country).
    PLUGINS: list[str] | None = None
    PLUGIN_SETTINGS: dict[str, dict] = {}

    # Languages of the interface; the first is the default.
    LANGUAGES: list[str] = ["ru", "en", "kk", "ky", "uz"]
    BABEL_DEFAULT_LOCALE = "ru"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    CLI_LANGUAGE = "en"

    # Sessions and cookies.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True  # npmtool init sets False for the local demo over http
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SECURE = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    WTF_CSRF_TIME_LIMIT = 12 * 3600  # a visit day is long; the token outlives it

    # Login throttling: this many failures for one user name or one address
    # within the window lock further attempts until the window passes.
    LOGIN_MAX_FAILURES = 5
    LOGIN_FAILURE_WINDOW_MINUTES = 15

    # Uploads (facility import files now, evidence later).
    MAX_CONTENT_LENGTH = 32 * 1024 * 1024
    IMPORT_MAX_ROWS = 20000

    # Confidential fields (interview notes, identities) are sealed with the
    # first of these Fernet keys and opened with any of them; `npmtool init`
    # writes one, `npmtool rotate-key` adds a new one and re-seals.
    DATA_ENCRYPTION_KEYS: list[str] = []
    # Ed25519 private key (base64) that signs evidence manifests.
    EVIDENCE_SIGNING_KEY: str | None = None
    # Evidence files; None means instance/evidence.
    EVIDENCE_DIR: str | None = None
    EVIDENCE_MAX_BYTES = 30 * 1024 * 1024
    EVIDENCE_MAX_PIXELS = 80_000_000  # larger images are refused as possible decompression bombs
    # A photo taken farther than this from the facility gets a warning.
    EVIDENCE_MAX_DISTANCE_KM = 2.0
    # Longest side of derived copies.
    THUMBNAIL_PX = 320
    PUBLICATION_PX = 1600

    # Lists.
    PAGE_SIZE = 25

    # Public complaint form and tracking page: requests per address per
    # window (behind a reverse proxy, apply ProxyFix so the address is the
    # visitor's, not the proxy's).
    COMPLAINT_FORM_LIMIT = 10
    COMPLAINT_FORM_WINDOW_MINUTES = 60
    COMPLAINT_TRACK_LIMIT = 20
    COMPLAINT_TRACK_WINDOW_MINUTES = 15
    COMPLAINT_MAX_ATTACHMENTS = 3
    COMPLAINT_ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024

    # Geocoding is off by default: monitors often work without network.
    # Set to "nominatim" (with GEOCODER_USER_AGENT) to offer address look-up.
    GEOCODER: str | None = None
    GEOCODER_USER_AGENT = "npmtool"
    GEOCODER_TIMEOUT_SECONDS = 5
