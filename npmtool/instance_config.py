"""Writing the secrets of instance/config.py: the secret key, the data
encryption keys and the evidence signing key. They are generated here, on
the deployment's machine, and never committed anywhere."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from npmtool.crypto import new_data_key, new_signing_key

HEADER = '''"""Configuration of this npmtool deployment (written by `npmtool init`).

Every key of npmtool/config.py may be set here; NPMTOOL_* environment
variables override this file. Keep this file private: it holds the keys that
protect sessions, interview notes and evidence. Back it up apart from the
database: without DATA_ENCRYPTION_KEYS the sealed notes cannot be read.
"""

# The local demo is served over plain http, so cookies cannot require https.
# Set both to True (the default) behind https in production.
SESSION_COOKIE_SECURE = False
REMEMBER_COOKIE_SECURE = False

# DATABASE_URL = "postgresql+psycopg://npmtool@localhost/npmtool"
# PLUGINS = ["international", "kazakhstan"]   # a deployment usually runs one country
'''

DATA_KEYS_LINE = re.compile(r"^DATA_ENCRYPTION_KEYS = .*$", re.M)


def _defined(text: str, name: str) -> bool:
    return re.search(rf"^{name}\s*=", text, re.M) is not None


def ensure_secrets(path: Path) -> list[str]:
    """Create the file if needed and add any missing secret; returns the
    names added. Existing values are never changed."""
    text = path.read_text(encoding="utf-8") if path.exists() else HEADER
    added = []
    generated = {
        "SECRET_KEY": lambda: repr(secrets.token_hex(32)),
        "DATA_ENCRYPTION_KEYS": lambda: repr([new_data_key()]),
        "EVIDENCE_SIGNING_KEY": lambda: repr(new_signing_key()),
    }
    for name, make in generated.items():
        if not _defined(text, name):
            text = text.rstrip("\n") + f"\n{name} = {make()}\n"
            added.append(name)
    if added or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        path.chmod(0o600)
    return added


def write_data_keys(path: Path, keys: list[str]) -> None:
    """Replace the DATA_ENCRYPTION_KEYS line (key rotation)."""
    text = path.read_text(encoding="utf-8")
    line = f"DATA_ENCRYPTION_KEYS = {keys!r}"
    text = DATA_KEYS_LINE.sub(line, text) if DATA_KEYS_LINE.search(text) else text.rstrip("\n") + f"\n{line}\n"
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
