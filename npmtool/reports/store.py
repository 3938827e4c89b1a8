"""Rendered report files, stored content-addressed under the instance folder
(``<instance>/reports/ab/cd/<sha256>``), written once and never changed."""

from __future__ import annotations

import hashlib
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Iterator

CHUNK = 1 << 20


class ReportFileStore:
    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)

    def path_for(self, sha256: str) -> Path:
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            raise ValueError("not a SHA-256 name")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def open(self, sha256: str) -> BinaryIO:
        return open(self.path_for(sha256), "rb")

    def exists(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    @contextmanager
    def writing(self) -> Iterator[tuple[BinaryIO, dict]]:
        """A temporary file to render into; on leaving, it is hashed and moved
        under its hash. ``result`` receives sha256 and size."""
        tmp_dir = self.root / "tmp"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=tmp_dir, suffix=".part")
        result: dict = {}
        try:
            with os.fdopen(handle, "w+b") as stream:
                yield stream, result
                stream.flush()
                os.fsync(stream.fileno())
            digest, size = hashlib.sha256(), 0
            with open(name, "rb") as stream:
                while chunk := stream.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
            sha = digest.hexdigest()
            final = self.path_for(sha)
            final.parent.mkdir(parents=True, exist_ok=True)
            if final.exists():
                os.unlink(name)
            else:
                os.replace(name, final)
            result.update(sha256=sha, size=size)
        finally:
            if os.path.exists(name):
                os.unlink(name)


def store_for(app_or_config) -> ReportFileStore:
    config = getattr(app_or_config, "config", app_or_config)
    root = config.get("REPORTS_DIR")
    if not root:
        from flask import current_app
        root = os.path.join(current_app.instance_path, "reports")
    return ReportFileStore(root)
