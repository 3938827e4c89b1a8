"""Where evidence bytes live: a small write-once, content-addressed interface.

Every object is named by the SHA-256 of its bytes and of a *kind*:
``original`` (the bytes exactly as received), ``thumbnail`` and
``publication`` (derived copies). An object is written once and never
overwritten: a second ``put`` of the same name is a no-op. The filesystem
store lays them out as::

    EVIDENCE_DIR/originals/ab/cd/<sha256>
    EVIDENCE_DIR/derived/thumbnail/ab/cd/<sha256>
    EVIDENCE_DIR/derived/publication/ab/cd/<sha256>
    EVIDENCE_DIR/tmp/            uploads being received (same filesystem)

An S3-compatible store fits the same interface: ``put`` is a PUT with
``If-None-Match: *``, ``open`` a GET, ``exists`` a HEAD, ``path_for`` the
object key, ``discard`` a DELETE used only for objects that no row refers to.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO, Iterator, Protocol

KINDS = ("original", "thumbnail", "publication")
CHUNK = 1024 * 1024


class EvidenceStore(Protocol):
    def put(self, sha256: str, data: bytes | str | os.PathLike, kind: str = "original") -> bool:
        """Store the bytes (or the file at a path) under their name; True if
        written now, False if the object was already there (nothing changed)."""

    def open(self, sha256: str, kind: str = "original") -> BinaryIO: ...

    def exists(self, sha256: str, kind: str = "original") -> bool: ...

    def path_for(self, sha256: str, kind: str = "original") -> str: ...

    def discard(self, sha256: str, kind: str = "original") -> None:
        """Remove an object no database row refers to (a failed upload's
        leftover, a superseded unredacted derived copy); never an original
        that a row names."""


def _check_name(sha256: str, kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown evidence kind {kind!r}")
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # some platforms cannot open directories
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class FileSystemStore:
    """Write-once files under a root directory: each object is written to a
    temporary file in its final directory, fsynced, then hard-linked into
    place only if no object of that name exists (``os.link`` refuses to
    replace), so a crash never leaves a half-written object under a real name
    and two writers of the same content never overwrite each other."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)

    # -- names -----------------------------------------------------------
    def path_for(self, sha256: str, kind: str = "original") -> str:
        _check_name(sha256, kind)
        base = self.root / "originals" if kind == "original" else self.root / "derived" / kind
        return str(base / sha256[:2] / sha256[2:4] / sha256)

    @property
    def tmp_dir(self) -> Path:
        return self.root / "tmp"

    @property
    def manifest_dir(self) -> Path:
        return self.root / "manifests"

    # -- reading ---------------------------------------------------------
    def exists(self, sha256: str, kind: str = "original") -> bool:
        return os.path.isfile(self.path_for(sha256, kind))

    def open(self, sha256: str, kind: str = "original") -> BinaryIO:
        return open(self.path_for(sha256, kind), "rb")

    def hash_of(self, sha256: str, kind: str = "original") -> str:
        """SHA-256 of the stored bytes (to check them against their name)."""
        digest = hashlib.sha256()
        with self.open(sha256, kind) as handle:
            for chunk in iter(lambda: handle.read(CHUNK), b""):
                digest.update(chunk)
        return digest.hexdigest()

    # -- writing ---------------------------------------------------------
    def put(self, sha256: str, data: bytes | str | os.PathLike, kind: str = "original") -> bool:
        final = Path(self.path_for(sha256, kind))
        if final.exists():
            return False
        final.parent.mkdir(parents=True, exist_ok=True)
        if not isinstance(data, (bytes, bytearray, memoryview)) and self._same_device(Path(data), final.parent):
            # A file received into tmp/ is linked as it is: no second copy.
            with open(data, "rb") as handle:
                os.fsync(handle.fileno())
            return self._link(Path(data), final)
        fd, temp_name = tempfile.mkstemp(dir=final.parent, prefix=".incoming-")
        temp = Path(temp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                if isinstance(data, (bytes, bytearray, memoryview)):
                    out.write(data)
                else:
                    with open(data, "rb") as source:
                        shutil.copyfileobj(source, out, CHUNK)
                out.flush()
                os.fsync(out.fileno())
            return self._link(temp, final)
        finally:
            temp.unlink(missing_ok=True)

    def _same_device(self, source: Path, target_dir: Path) -> bool:
        try:
            return source.stat().st_dev == target_dir.stat().st_dev
        except OSError:
            return False

    def _link(self, source: Path, final: Path) -> bool:
        try:
            os.link(source, final)
        except FileExistsError:
            return False  # the same content arrived first from elsewhere: keep that one
        except OSError:
            # No hard links on this filesystem: fall back to an exclusive copy.
            try:
                with open(final, "xb") as out, open(source, "rb") as src:
                    shutil.copyfileobj(src, out, CHUNK)
                    out.flush()
                    os.fsync(out.fileno())
            except FileExistsError:
                return False
        with contextlib.suppress(OSError):
            os.chmod(final, 0o444)  # a reminder to people and tools: never edited in place
        _fsync_dir(final.parent)
        return True

    def discard(self, sha256: str, kind: str = "original") -> None:
        Path(self.path_for(sha256, kind)).unlink(missing_ok=True)

    @contextlib.contextmanager
    def receiving(self) -> Iterator[tuple[BinaryIO, Path]]:
        """A temporary file on the store's filesystem for bytes being
        received; it is removed when the block ends (``put`` links it first)."""
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=self.tmp_dir, prefix="upload-")
        path = Path(name)
        try:
            with os.fdopen(fd, "w+b") as handle:
                yield handle, path
        finally:
            path.unlink(missing_ok=True)

    # -- manifests (replaced as a whole, atomically) ------------------------
    def write_manifest(self, name: str, data: bytes) -> str:
        self.manifest_dir.mkdir(parents=True, exist_ok=True)
        final = self.manifest_dir / name
        fd, temp_name = tempfile.mkstemp(dir=self.manifest_dir, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp_name, final)
        finally:
            Path(temp_name).unlink(missing_ok=True)
        _fsync_dir(self.manifest_dir)
        return str(final)

    def read_manifest(self, name: str) -> bytes | None:
        try:
            return (self.manifest_dir / name).read_bytes()
        except FileNotFoundError:
            return None


def store_for(config: dict) -> FileSystemStore:
    return FileSystemStore(config["EVIDENCE_DIR"])


def current_store() -> FileSystemStore:
    from flask import current_app

    return store_for(current_app.config)
