"""Photo evidence: ingest, EXIF checks, derived copies, custody and manifests.

The bytes as received are hashed before anything else and stored under that
SHA-256, never modified (``evidence_store``). One ``EvidenceFile`` row per
distinct content; every upload adds an ``Evidence`` reference to a visit.
What EXIF says is recorded and checked (time against the visit's days,
position against the facility) and every doubt becomes a visible warning,
never a refusal: EXIF is easy to forge and easy to lose, so it is a fact to
weigh, not proof. Derived copies (thumbnail, publication copy) are decoded
at reduced size (``Image.draft``), orientation applied, redaction boxes
painted solid and every piece of metadata left out.

Nothing is half-stored: a failed upload leaves no row, and removes any file
it wrote that no row refers to."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import math
import mmap
import os
import re
import struct
import uuid as uuid_module
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO, Iterator

from cryptography.hazmat.primitives import serialization
from flask import current_app
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageDraw
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from npmtool import crypto
from npmtool.models import CustodyEvent, Evidence, EvidenceFile, Interview, User, Visit, VisitChecklist
from npmtool.models.base import utcnow
from npmtool.services import ServiceError, audit
from npmtool.services.evidence_store import CHUNK, FileSystemStore, store_for
from npmtool.services.geo import distance_km
from npmtool.services.visit_access import can_read_confidential, can_work_on_visit

log = logging.getLogger(__name__)

MEDIA_TYPES = {"JPEG": "image/jpeg", "MPO": "image/jpeg", "PNG": "image/png"}
MANIFEST_FORMAT = "npmtool-evidence-manifest/1"
MAX_REDACTIONS = 50
PUBLICATION_QUALITY = 85
THUMBNAIL_QUALITY = 80
EARLIEST_PLAUSIBLE_YEAR = 1990
# After Image.draft has let libjpeg scale by 1/2, 1/4 or 1/8 in the DCT (a
# proper low-pass), what is left is a small reduction, e.g. 2000 → 1600 px.
# The box filter does it for about 70 % of bilinear's time and 40 % of
# Lanczos'; it is a little less exact (33 dB PSNR against Lanczos, bilinear
# 40 dB, on a noisy 12 MP test picture), which a report copy can afford.
RESAMPLE = Image.Resampling.BOX
THUMBNAIL_RESAMPLE = Image.Resampling.BILINEAR

# Exceptions Pillow raises on hostile or broken input (decoders, chunk
# parsers, TIFF-in-EXIF). Anything among them means "not a usable image".
IMAGE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, IndexError, TypeError, KeyError,
                ZeroDivisionError, struct.error, MemoryError)

TAG_MAKE, TAG_MODEL, TAG_ORIENTATION = 0x010F, 0x0110, 0x0112
IFD_EXIF, IFD_GPS = 0x8769, 0x8825
TAG_DATETIME_ORIGINAL, TAG_OFFSET_TIME_ORIGINAL = 0x9003, 0x9011
GPS_LAT_REF, GPS_LAT, GPS_LON_REF, GPS_LON = 1, 2, 3, 4

# Orientation tag → the transpose that shows the picture upright (as
# ImageOps.exif_transpose, without trusting the rest of the EXIF block).
ORIENTATION_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


# -- errors -------------------------------------------------------------------

class EvidenceError(ServiceError):
    """An upload or an evidence operation was refused; nothing was stored."""


class FileTooLarge(EvidenceError):
    pass


class EmptyFile(EvidenceError):
    pass


class NotAnImage(EvidenceError):
    pass


class CorruptImage(EvidenceError):
    pass


class ImageTooLarge(EvidenceError):
    """More pixels than allowed: a possible decompression bomb."""


class BadLink(EvidenceError):
    """The checklist item or interview is not part of this visit."""


class ClientUuidConflict(EvidenceError):
    pass


class BadRedaction(EvidenceError):
    pass


class EvidenceAccessError(EvidenceError):
    pass


class StorageError(EvidenceError):
    pass


# -- receiving and hashing ------------------------------------------------------

@dataclass
class Received:
    sha256: str
    size: int
    data: bytes | None = None  # kept in memory when it arrived as bytes
    path: Path | None = None  # spooled to the store's tmp/ when it arrived as a stream

    def source(self) -> BinaryIO | str:
        return io.BytesIO(self.data) if self.data is not None else str(self.path)

    def payload(self) -> bytes | Path:
        return self.data if self.data is not None else self.path


def _too_large(max_bytes: int) -> FileTooLarge:
    return FileTooLarge(_l("The file is larger than %(limit)s MB, the most a photo may be. Nothing was saved.",
                           limit=_megabytes(max_bytes)))


def _megabytes(size: int) -> str:
    value = size / (1024 * 1024)
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


@contextmanager
def receive(store: FileSystemStore, data_or_stream: bytes | BinaryIO, max_bytes: int) -> Iterator[Received]:
    """Hash the bytes exactly as received, before anything else looks at them.
    A stream is spooled to the store's filesystem while it is hashed, and
    refused as soon as it passes ``max_bytes``; the spool file is removed
    when the block ends."""
    if isinstance(data_or_stream, (bytes, bytearray, memoryview)):
        data = bytes(data_or_stream)
        if len(data) > max_bytes:
            raise _too_large(max_bytes)
        if not data:
            raise EmptyFile(_l("The file is empty. Nothing was saved."))
        yield Received(hashlib.sha256(data).hexdigest(), len(data), data=data)
        return
    with store.receiving() as (spool, path):
        digest, size = hashlib.sha256(), 0
        writing: Future | None = None  # each chunk is written while it is hashed
        try:
            for chunk in iter(lambda: data_or_stream.read(CHUNK), b""):
                size += len(chunk)
                if size > max_bytes:
                    raise _too_large(max_bytes)
                if writing is not None:
                    writing.result()
                writing = _executor().submit(spool.write, chunk)
                digest.update(chunk)
        finally:
            if writing is not None:
                writing.result()
        spool.flush()
        if size == 0:
            raise EmptyFile(_l("The file is empty. Nothing was saved."))
        yield Received(digest.hexdigest(), size, path=path)


# -- opening and checking the image -------------------------------------------------

@dataclass
class ImageFacts:
    format: str
    media_type: str
    width: int
    height: int


def _open(source: BinaryIO | str) -> Image.Image:
    return Image.open(source, formats=("JPEG", "PNG"))


def open_checked(received: Received, max_pixels: int) -> tuple[Image.Image, ImageFacts]:
    """Refuse anything that is not a whole JPEG or PNG of a sane size, from
    its header and structure; return it opened (not yet decoded). The decode
    that makes the derived copies (``decode_for_copies``) proves the rest."""
    im = None
    try:
        im = _open(received.source())
        width, height = im.size
        fmt = im.format
        if width * height > max_pixels:
            raise _bomb(width, height, max_pixels)
        if fmt == "PNG":
            im.verify()  # chunk checksums; JPEG has none: its structure is walked instead
            im.close()
            im = _open(received.source())
        else:
            problem = _jpeg_problem(received)
            if problem:
                raise CorruptImage(_l("This image is damaged or incomplete (%(error)s). Nothing was saved; "
                                      "send the file again or take the photo again.", error=problem))
        return im, ImageFacts(fmt, MEDIA_TYPES.get(fmt, "application/octet-stream"), width, height)
    except BaseException as exc:
        if im is not None:
            im.close()
        if isinstance(exc, (Image.DecompressionBombError, Image.DecompressionBombWarning)):
            log.info("refused decompression bomb: %s", exc)
            raise ImageTooLarge(_l("This image claims more pixels than a photo can have (a possible "
                                   "“decompression bomb”). Nothing was saved.")) from None
        if isinstance(exc, Image.UnidentifiedImageError):
            if _magic(received).startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")):
                raise CorruptImage(_l("This image is damaged or incomplete (%(error)s). Nothing was saved; send "
                                      "the file again or take the photo again.", error=_l("unreadable header"))) from None
            raise NotAnImage(_l("This file is not a JPEG or PNG photo. Nothing was saved.")) from None
        if isinstance(exc, IMAGE_ERRORS):
            log.info("refused broken image: %r", exc)
            raise CorruptImage(_l("This image is damaged or incomplete (%(error)s). Nothing was saved; "
                                  "send the file again or take the photo again.", error=_error_name(exc))) from None
        raise


def _magic(received: Received) -> bytes:
    if received.data is not None:
        return received.data[:8]
    with open(received.path, "rb") as handle:
        return handle.read(8)


def _jpeg_problem(received: Received) -> str | None:
    if received.data is not None:
        return jpeg_structure_problem(received.data)
    with open(received.path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as view:
        return jpeg_structure_problem(view)


def _bomb(width: int, height: int, max_pixels: int) -> ImageTooLarge:
    return ImageTooLarge(_l("This image is %(width)s × %(height)s pixels, more than the %(limit)s megapixels "
                            "allowed (a possible “decompression bomb”). Nothing was saved.",
                            width=width, height=height, limit=max_pixels // 1_000_000))


def _error_name(exc: BaseException) -> str:
    text = str(exc).strip()
    return text[:120] if text else type(exc).__name__


# Inside entropy-coded data a 0xFF byte is followed by 0x00 (stuffing) or a
# restart marker; anything else ends the scan.
_SCAN_END = re.compile(rb"\xff[^\x00\xd0-\xd7]")
# Markers that may follow a scan: tables, restart interval, next scan, end,
# application data and comments.
_AFTER_SCAN = {0xC4, 0xCC, 0xDA, 0xDB, 0xDC, 0xDD, 0xD9, 0xFE, *range(0xE0, 0xF0)}


def jpeg_structure_problem(data: bytes | mmap.mmap) -> str | None:
    """Walk the JPEG's segments from SOI to the first EOI. libjpeg repairs
    much damage silently (grey blocks, shifted colours) and Pillow does not
    report its warnings, so a stray marker inside the compressed data or a
    missing end is found here. Returns what is wrong, or None."""
    size = len(data)
    if data[:2] != b"\xff\xd8":
        return "no start of image"
    pos, scanned = 2, False
    while pos < size:
        if data[pos] != 0xFF:
            return f"unexpected data at byte {pos}"
        while pos + 1 < size and data[pos + 1] == 0xFF:  # fill bytes
            pos += 1
        if pos + 1 >= size:
            break
        marker = data[pos + 1]
        if marker == 0xD9:
            return None
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            pos += 2
            continue
        if marker < 0xC0 or (scanned and marker not in _AFTER_SCAN):
            return f"invalid marker 0x{marker:02X} at byte {pos}"
        if pos + 4 > size:
            break
        length = (data[pos + 2] << 8) | data[pos + 3]
        end = pos + 2 + length
        if length < 2 or end > size:
            return f"segment 0x{marker:02X} at byte {pos} runs past the end"
        if marker == 0xDA:
            scanned = True
            found = _SCAN_END.search(data, end)
            if found is None:
                break
            pos = found.start()
        else:
            pos = end
    return "no end of image: the file is incomplete"


def fit(size: tuple[int, int], longest: int) -> tuple[int, int]:
    """The size of a copy whose longest side is at most ``longest``."""
    width, height = size
    scale = min(1.0, longest / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def decode_for_copies(source: Image.Image | BinaryIO | str, publication_px: int,
                      today: date | None = None) -> tuple[Image.Image, dict[str, Any], list[dict[str, Any]]]:
    """Decode the whole image once, at the size of the publication copy, and
    read its EXIF facts.

    JPEG: ``Image.draft`` makes libjpeg scale in the DCT (1/2, 1/4, 1/8), so a
    12-megapixel photo is never decoded at full resolution; the entropy data
    is still read to the end, so truncation and corruption are caught here.
    Returns the image in stored orientation at publication size, the EXIF
    facts and the EXIF warnings."""
    try:
        with (source if isinstance(source, Image.Image) else _open(source)) as im:
            target = fit(im.size, publication_px)
            if im.format in ("JPEG", "MPO"):
                im.draft("RGB", target)
            im.load()
            raw_exif = im.info.get("exif")
            facts, warnings = read_exif(_safe_exif(im), raw_exif if isinstance(raw_exif, bytes) else None,
                                        today or utcnow().date())
            image = _normalise_mode(im)
            if image.size != target:
                image = resize(image, target)
            elif image is im:
                image = im.copy()  # the decoded pixels outlive the file
            return image, facts, warnings
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageTooLarge(_l("This image claims more pixels than a photo can have (a possible "
                               "“decompression bomb”). Nothing was saved.")) from None
    except IMAGE_ERRORS as exc:
        log.info("refused image that does not decode: %r", exc)
        raise CorruptImage(_l("This image is damaged or incomplete (%(error)s). Nothing was saved; "
                              "send the file again or take the photo again.", error=_error_name(exc))) from None


_pool: ThreadPoolExecutor | None = None
_pool_pid: int | None = None


def _executor() -> ThreadPoolExecutor:
    """Two helper threads, made in each process (after a server forks its
    workers). Pillow releases the GIL while it resamples and encodes, the
    kernel while it writes and syncs: the original is written while the
    image decodes, half of a resize runs beside the other half, the thumbnail
    beside the publication copy, the two copies are written together. Tasks
    never wait for other tasks, so concurrent uploads cannot deadlock it."""
    global _pool, _pool_pid
    if _pool is None or _pool_pid != os.getpid():
        _pool, _pool_pid = ThreadPoolExecutor(max_workers=2, thread_name_prefix="evidence"), os.getpid()
    return _pool


def resize(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Resample to ``size``; a large image in two bands on two threads. Each
    band reads the source rows its filter needs, so the seam is invisible."""
    width, height = size
    if width * height < 1_000_000:
        return image.resize(size, RESAMPLE)
    half = height // 2
    split = image.height * half / height
    top = _executor().submit(image.resize, (width, half), RESAMPLE, (0, 0, image.width, split))
    bottom = image.resize((width, height - half), RESAMPLE, (0, split, image.width, image.height))
    result = Image.new(image.mode, size, None)  # every pixel is pasted below
    result.paste(top.result(), (0, 0))
    result.paste(bottom, (0, half))
    return result


def _safe_exif(im: Image.Image) -> Image.Exif | None | Exception:
    try:
        return im.getexif()
    except Exception as exc:  # noqa: BLE001 — the EXIF parser on untrusted bytes; reported, never fatal
        return exc


def _normalise_mode(im: Image.Image) -> Image.Image:
    if im.mode in ("RGB", "L"):
        return im
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        return im.point(lambda value: value / 256).convert("L")
    return im.convert("RGB")


# -- EXIF -------------------------------------------------------------------------

def _text(value: Any, limit: int = 80) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    value = "".join(c for c in value.replace("\x00", " ") if c.isprintable()).strip()
    return value[:limit] or None


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _dms(value: Any, limit: float) -> float | None:
    """(degrees, minutes, seconds) rationals → decimal degrees, or None if impossible."""
    if isinstance(value, (int, float)) or (hasattr(value, "numerator") and not isinstance(value, (tuple, list))):
        parts = [value]
    elif isinstance(value, (tuple, list)) and 1 <= len(value) <= 3:
        parts = list(value)
    else:
        return None
    numbers = [_number(p) for p in parts]
    if any(n is None or n < 0 for n in numbers):
        return None
    numbers += [0.0] * (3 - len(numbers))
    degrees, minutes, seconds = numbers
    if minutes >= 60 or seconds >= 60 + 1e-6 or degrees > limit:
        return None
    result = degrees + minutes / 60 + seconds / 3600
    return result if result <= limit else None


def _ref(value: Any) -> str | None:
    text = _text(value, 4)
    return text.upper()[:1] if text else None


def _parse_taken_at(value: Any) -> datetime | None | str:
    """A datetime, None if absent or blank, or "bad" if present but impossible."""
    text = _text(value, 40)
    if text is None:
        return None if value is None else "bad"
    if re.fullmatch(r"[0\s:\-T.]*", text):
        return None  # "0000:00:00 00:00:00" or blanks: the camera had no clock set
    match = re.fullmatch(r"(\d{4})[:\-](\d{2})[:\-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?", text)
    if not match:
        return "bad"
    try:
        return datetime(*(int(part) for part in match.groups()))
    except ValueError:
        return "bad"


def read_exif(exif: Image.Exif | None | Exception, raw: bytes | None, today: date) -> tuple[dict[str, Any],
                                                                                            list[dict[str, Any]]]:
    """What the EXIF block says — time, position, device, orientation — and
    warnings for what cannot be read or cannot be true. Never raises."""
    facts: dict[str, Any] = {}
    warnings: list[dict[str, Any]] = []
    if isinstance(exif, Exception):
        return facts, [{"code": "exif_unreadable", "detail": type(exif).__name__}]
    if exif is None:
        return facts, warnings
    try:
        ifd0 = dict(exif.items())
        exif_ifd = dict(exif.get_ifd(IFD_EXIF).items()) if IFD_EXIF in ifd0 else {}
        gps = dict(exif.get_ifd(IFD_GPS).items()) if IFD_GPS in ifd0 else {}
    except Exception as exc:  # noqa: BLE001 — untrusted TIFF structures inside EXIF
        return facts, [{"code": "exif_unreadable", "detail": type(exc).__name__}]
    if raw:
        body = raw[6:] if raw.startswith(b"Exif\x00\x00") else raw
        if body[:4] not in (b"II*\x00", b"MM\x00*"):
            return facts, [{"code": "exif_unreadable", "detail": "header"}]
        if not ifd0 and len(body) > 32:  # bytes enough for tags, yet none could be read
            warnings.append({"code": "exif_unreadable", "detail": "no readable tags"})

    def implausible(name: str, value: Any) -> None:
        warnings.append({"code": "exif_implausible", "field": name, "value": repr(value)[:80]})

    make, model = _text(ifd0.get(TAG_MAKE)), _text(ifd0.get(TAG_MODEL))
    if make and model:
        facts["device"] = model if model.lower().startswith(make.lower()) else f"{make} {model}"
    elif make or model:
        facts["device"] = make or model
    facts.update({key: value for key, value in (("make", make), ("model", model)) if value})

    if TAG_ORIENTATION in ifd0:
        orientation = ifd0[TAG_ORIENTATION]
        if isinstance(orientation, int) and 1 <= orientation <= 8:
            facts["orientation"] = orientation
        else:
            implausible("orientation", orientation)

    if TAG_DATETIME_ORIGINAL in exif_ifd:
        taken = _parse_taken_at(exif_ifd[TAG_DATETIME_ORIGINAL])
        if isinstance(taken, datetime):
            if taken.year < EARLIEST_PLAUSIBLE_YEAR or taken.date() > today + timedelta(days=1):
                implausible("taken_at", exif_ifd[TAG_DATETIME_ORIGINAL])
            else:
                facts["taken_at"] = taken.isoformat()
                offset = _text(exif_ifd.get(TAG_OFFSET_TIME_ORIGINAL), 8)
                if offset and re.fullmatch(r"[+-](0\d|1[0-4]):[0-5]\d", offset):
                    facts["taken_offset"] = offset
        elif taken == "bad":
            implausible("taken_at", exif_ifd[TAG_DATETIME_ORIGINAL])

    if GPS_LAT in gps or GPS_LON in gps:
        lat, lon = _dms(gps.get(GPS_LAT), 90), _dms(gps.get(GPS_LON), 180)
        lat_ref, lon_ref = _ref(gps.get(GPS_LAT_REF)), _ref(gps.get(GPS_LON_REF))
        if lat is None or lon is None or lat_ref not in ("N", "S") or lon_ref not in ("E", "W"):
            implausible("gps", {k: gps.get(k) for k in (GPS_LAT_REF, GPS_LAT, GPS_LON_REF, GPS_LON)})
        elif lat == 0 and lon == 0:
            implausible("gps", "0, 0")  # an unset position, not the Gulf of Guinea
        else:
            facts["lat"] = round(-lat if lat_ref == "S" else lat, 6)
            facts["lon"] = round(-lon if lon_ref == "W" else lon, 6)
    return facts, warnings


def check_against_visit(facts: dict[str, Any], visit: Visit, max_km: float) -> list[dict[str, Any]]:
    """Warnings for a photo taken on another day or at another place than the visit."""
    warnings: list[dict[str, Any]] = []
    if "taken_at" in facts:
        taken_on = datetime.fromisoformat(facts["taken_at"]).date()
        if not visit.starts_on <= taken_on <= visit.ends_on:
            warnings.append({"code": "outside_window", "taken_on": taken_on.isoformat(),
                             "starts_on": visit.starts_on.isoformat(), "ends_on": visit.ends_on.isoformat()})
    else:
        warnings.append({"code": "no_exif_time"})
    if "lat" in facts:
        facility = visit.facility
        if facility.lat is None or facility.lon is None:
            warnings.append({"code": "facility_without_coordinates"})
        else:
            km = distance_km((facts["lat"], facts["lon"]), (facility.lat, facility.lon))
            if km > max_km:
                warnings.append({"code": "too_far", "distance_km": round(km, 2), "max_km": max_km})
    else:
        warnings.append({"code": "no_gps"})
    return warnings


# -- derived copies -------------------------------------------------------------------

def validate_boxes(boxes: Any) -> list[dict[str, float]]:
    """Redaction boxes as fractions 0..1 of the upright publication copy."""
    if boxes is None:
        return []
    if not isinstance(boxes, list):
        raise BadRedaction(_l("The redaction boxes could not be read."))
    if len(boxes) > MAX_REDACTIONS:
        raise BadRedaction(_l("At most %(count)s redaction boxes per photo.", count=MAX_REDACTIONS))
    clean = []
    for number, box in enumerate(boxes, start=1):
        try:
            x, y, w, h = (float(box[key]) for key in ("x", "y", "w", "h"))
        except (TypeError, KeyError, ValueError):
            raise BadRedaction(_l("Box %(number)s: give x, y, width and height as numbers.", number=number)) from None
        if not all(math.isfinite(v) for v in (x, y, w, h)) or w <= 0 or h <= 0 or x < 0 or y < 0 \
                or x + w > 1.0001 or y + h > 1.0001:
            raise BadRedaction(_l("Box %(number)s must lie inside the photo: x and y from 0 to 100 %%, width and "
                                  "height above 0, and x + width and y + height at most 100 %%.", number=number))
        clean.append({"x": round(x, 6), "y": round(y, 6), "w": round(min(w, 1 - x), 6), "h": round(min(h, 1 - y), 6)})
    return clean


def upright(image: Image.Image, orientation: int | None) -> Image.Image:
    method = ORIENTATION_TRANSPOSE.get(orientation or 1)
    return image.transpose(method) if method is not None else image


def paint_redactions(image: Image.Image, boxes: list[dict[str, float]]) -> Image.Image:
    if not boxes:
        return image
    draw = ImageDraw.Draw(image)
    width, height = image.size
    black = 0 if image.mode == "L" else (0, 0, 0)
    for box in boxes:
        # Outward rounding: a box never leaves a sliver of what it covers.
        x0, y0 = math.floor(box["x"] * width), math.floor(box["y"] * height)
        x1, y1 = math.ceil((box["x"] + box["w"]) * width), math.ceil((box["y"] + box["h"]) * height)
        draw.rectangle((x0, y0, max(x0, x1 - 1), max(y0, y1 - 1)), fill=black)
    return image


def _jpeg(image: Image.Image, quality: int) -> bytes:
    # A derived copy carries pixels only: no EXIF, GPS, ICC, XMP or comment.
    image.info = {}
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


@dataclass
class Derived:
    publication: bytes
    thumbnail: bytes
    publication_size: tuple[int, int]
    thumbnail_size: tuple[int, int]

    @property
    def publication_sha256(self) -> str:
        return hashlib.sha256(self.publication).hexdigest()

    @property
    def thumbnail_sha256(self) -> str:
        return hashlib.sha256(self.thumbnail).hexdigest()


def derive(image: Image.Image, orientation: int | None, boxes: list[dict[str, float]],
           thumbnail_px: int) -> Derived:
    """Publication copy (upright, redacted, no metadata) and a thumbnail made
    from it, so the thumbnail is redacted too."""
    publication = paint_redactions(upright(image, orientation), boxes)
    publication.info = {}
    thumbnail = _executor().submit(_thumbnail, publication, thumbnail_px)  # beside the larger encode
    publication_bytes = _jpeg(publication, PUBLICATION_QUALITY)
    thumbnail_bytes, thumbnail_size = thumbnail.result()
    return Derived(publication_bytes, thumbnail_bytes, publication.size, thumbnail_size)


def _thumbnail(publication: Image.Image, thumbnail_px: int) -> tuple[bytes, tuple[int, int]]:
    # reducing_gap=1: box-average by the whole factor first (5 × 5 pixels for
    # 1600 → 320), then a small exact resample: sharp and cheap.
    thumbnail = publication.resize(fit(publication.size, thumbnail_px), THUMBNAIL_RESAMPLE, reducing_gap=1.0)
    return _jpeg(thumbnail, THUMBNAIL_QUALITY), thumbnail.size


# -- ingest -----------------------------------------------------------------------------

def _config(config: Any | None) -> Any:
    return config if config is not None else current_app.config


def _normalise_uuid(value: str | None) -> str | None:
    if value is None or str(value).strip() == "":
        return None
    try:
        return str(uuid_module.UUID(str(value).strip()))
    except ValueError:
        raise EvidenceError(_l("The upload identifier is not a valid UUID.")) from None


def _check_links(session: Session, visit: Visit, item_id: int | None, interview_id: int | None) -> None:
    if item_id is not None:
        lists = session.scalars(select(VisitChecklist.item_ids).where(VisitChecklist.visit_id == visit.id)).all()
        if not any(item_id in (ids or []) for ids in lists):
            raise BadLink(_l("That checklist item is not part of this visit."))
    if interview_id is not None:
        found = session.scalar(select(Interview.id).where(Interview.id == interview_id,
                                                          Interview.visit_id == visit.id))
        if found is None:
            raise BadLink(_l("That interview is not part of this visit."))


def _replay(session: Session, client_uuid: str, visit: Visit, sha256: str) -> Evidence | None:
    existing = session.scalar(select(Evidence).where(Evidence.client_uuid == client_uuid))
    if existing is None:
        return None
    if existing.visit_id != visit.id or existing.file.sha256 != sha256:
        raise ClientUuidConflict(_l("This upload identifier was already used for a different photo. "
                                    "Nothing was saved."))
    existing.replayed = True  # not a column: tells the caller this was a retry
    return existing


def ingest(session: Session, user: User, visit: Visit, filename: str, data_or_stream: bytes | BinaryIO,
           item_id: int | None = None, interview_id: int | None = None, caption: str = "",
           client_uuid: str | None = None, *, config: Any | None = None,
           store: FileSystemStore | None = None, today: date | None = None) -> Evidence:
    """Receive one photo for a visit. Returns the new ``Evidence`` (or, for a
    retried upload with the same ``client_uuid``, the one stored the first
    time, with ``replayed = True``). Raises an ``EvidenceError`` with a
    message for people if the file is refused; then nothing was stored."""
    config = _config(config)
    store = store or store_for(config)
    if not can_work_on_visit(user, visit):
        raise EvidenceAccessError(_l("You cannot add photos to this visit."))
    client_uuid = _normalise_uuid(client_uuid)
    filename = (_text(Path(filename or "").name, 200) or "")
    caption = (caption or "").strip()[:2000]
    today = today or utcnow().date()

    with receive(store, data_or_stream, config["EVIDENCE_MAX_BYTES"]) as received:
        if client_uuid:
            replayed = _replay(session, client_uuid, visit, received.sha256)
            if replayed is not None:
                return replayed
        _check_links(session, visit, item_id, interview_id)
        opened, image_facts = open_checked(received, config["EVIDENCE_MAX_PIXELS"])
        # The durable write of the original (fsync, link) runs while the image
        # decodes, those of the copies while the rows are inserted; the commit
        # waits for all three. Whatever fails, every object written here that
        # no row names is removed again.
        tasks = _executor()
        jobs = [tasks.submit(_put, store, received.sha256, received.payload(), "original")]
        written: list[tuple[str, str]] = []
        try:
            try:
                image, facts, warnings = decode_for_copies(opened, config["PUBLICATION_PX"], today)
                derived = derive(image, facts.get("orientation"), [], config["THUMBNAIL_PX"])
                del image
                jobs += [tasks.submit(_put, store, derived.thumbnail_sha256, derived.thumbnail, "thumbnail"),
                         tasks.submit(_put, store, derived.publication_sha256, derived.publication, "publication")]
                warnings += check_against_visit(facts, visit, config["EVIDENCE_MAX_DISTANCE_KM"])
                evidence = _insert(session, user, visit, received, image_facts, facts, warnings, derived,
                                   filename, caption, item_id, interview_id, client_uuid)
            finally:
                _settle(written, *jobs)
            if getattr(evidence, "replayed", False):  # the same retry was stored meanwhile
                _discard_unreferenced(session, store, written)
                return evidence
            session.commit()
        except OSError as exc:
            session.rollback()
            _discard_unreferenced(session, store, written)
            log.error("evidence store failed: %s", exc)
            raise StorageError(_l("The photo could not be stored (%(error)s). Nothing was saved.",
                                  error=type(exc).__name__)) from None
        except BaseException:
            session.rollback()
            _discard_unreferenced(session, store, written)
            raise
    return evidence


def _put(store: FileSystemStore, sha256: str, payload: bytes | Path, kind: str) -> tuple[None, list[tuple[str, str]]]:
    """Store one object (in a helper thread: writing and fsync release the GIL)."""
    return None, ([(sha256, kind)] if store.put(sha256, payload, kind) else [])


def _settle(written: list[tuple[str, str]], *jobs: Future) -> None:
    """Wait for every job and add what they wrote to ``written``, then raise
    the first error (so that nothing is left running, or unrecorded)."""
    error: BaseException | None = None
    for job in jobs:
        try:
            written += job.result()[1]
        except BaseException as exc:  # noqa: BLE001 — re-raised below, once every job has finished
            error = error or exc
    if error is not None:
        raise error


def _insert(session: Session, user: User, visit: Visit, received: Received, *args: Any) -> Evidence:
    """Insert the rows; on a unique conflict another request stored the same
    bytes first (then add a reference to them) or the same retry (return it)."""
    client_uuid = args[-1]
    file_row = session.scalar(select(EvidenceFile).where(EvidenceFile.sha256 == received.sha256))
    try:
        return _add_rows(session, user, visit, received, file_row, *args)
    except IntegrityError:
        session.rollback()
        if client_uuid:
            replayed = _replay(session, client_uuid, visit, received.sha256)
            if replayed is not None:
                return replayed
        file_row = session.scalar(select(EvidenceFile).where(EvidenceFile.sha256 == received.sha256))
        if file_row is None:
            raise
        return _add_rows(session, user, visit, received, file_row, *args)


def _add_rows(session: Session, user: User, visit: Visit, received: Received, file_row: EvidenceFile | None,
              image_facts: ImageFacts, facts: dict, warnings: list, derived: Derived, filename: str, caption: str,
              item_id: int | None, interview_id: int | None,
              client_uuid: str | None) -> Evidence:
    """Insert the file (if new), the reference and its custody events."""
    new_file = file_row is None
    warnings = list(warnings)
    if new_file:
        file_row = EvidenceFile(sha256=received.sha256, size=received.size, media_type=image_facts.media_type,
                                width=image_facts.width, height=image_facts.height)
        session.add(file_row)
    else:
        earlier = session.scalars(select(Evidence.id).where(Evidence.file_id == file_row.id)
                                  .order_by(Evidence.id).limit(20)).all()
        warnings.insert(0, {"code": "duplicate", "evidence_ids": list(earlier)})
    evidence = Evidence(visit_id=visit.id, file=file_row, item_id=item_id, interview_id=interview_id,
                        caption=caption, exif=facts, warnings=warnings, redactions=[],
                        thumbnail_sha256=derived.thumbnail_sha256, publication_sha256=derived.publication_sha256,
                        client_uuid=client_uuid, uploaded_by_id=user.id)
    session.add(evidence)
    session.flush()  # ids for the custody events; a unique conflict surfaces here
    _custody(session, user, evidence, "uploaded", filename=filename, size=received.size,
             sha256=received.sha256, visit_id=visit.id, new_file=new_file)
    _custody_derived(session, user, evidence, derived)
    audit.record(session, user, "evidence.uploaded", "evidence", evidence.id, visit_id=visit.id,
                 sha256=received.sha256, duplicate=not new_file)
    return evidence


def _custody(session: Session, user: User | None, evidence: Evidence, action: str, **details: Any) -> CustodyEvent:
    event = CustodyEvent(file_id=evidence.file_id, evidence_id=evidence.id, user_id=getattr(user, "id", None),
                         action=action, details=details)
    session.add(event)
    return event


def _custody_derived(session: Session, user: User | None, evidence: Evidence, derived: Derived) -> None:
    _custody(session, user, evidence, "derived", kind="thumbnail", sha256=derived.thumbnail_sha256,
             size=len(derived.thumbnail), width=derived.thumbnail_size[0], height=derived.thumbnail_size[1])
    _custody(session, user, evidence, "derived", kind="publication", sha256=derived.publication_sha256,
             size=len(derived.publication), width=derived.publication_size[0], height=derived.publication_size[1],
             redactions=len(evidence.redactions or []))


def _referenced(session: Session, sha256: str, kind: str) -> bool:
    if kind == "original":
        query = select(EvidenceFile.id).where(EvidenceFile.sha256 == sha256)
    elif kind == "thumbnail":
        query = select(Evidence.id).where(Evidence.thumbnail_sha256 == sha256)
    else:
        query = select(Evidence.id).where(Evidence.publication_sha256 == sha256)
    return session.scalar(query.limit(1)) is not None


def _discard_unreferenced(session: Session, store: FileSystemStore, written: list[tuple[str, str]]) -> None:
    """Remove objects this operation wrote if, after the rollback, no row names them."""
    for sha, kind in written:
        try:
            if not _referenced(session, sha, kind):
                store.discard(sha, kind)
        except Exception:  # noqa: BLE001 — cleaning up must not hide the first error
            log.exception("could not remove leftover evidence object %s/%s", kind, sha)


# -- after ingest ---------------------------------------------------------------------

def set_redactions(session: Session, user: User, evidence: Evidence, boxes: Any, *, config: Any | None = None,
                   store: FileSystemStore | None = None) -> Evidence:
    """Replace the redaction boxes and make a new publication copy and
    thumbnail from the original. The copies they replace are removed if no
    other reference uses them: an unredacted copy does not linger."""
    config = _config(config)
    store = store or store_for(config)
    visit = evidence.visit
    if not (can_work_on_visit(user, visit) and can_read_confidential(user, visit)):
        raise EvidenceAccessError(_l("You cannot change the redactions of this photo."))
    boxes = validate_boxes(boxes)
    if not store.exists(evidence.file.sha256):
        raise StorageError(_l("The original of this photo is missing from the evidence store; "
                              "run `npmtool verify-evidence %(visit)s`.", visit=visit.id))
    with store.open(evidence.file.sha256) as handle:
        image, _facts, _warnings = decode_for_copies(handle, config["PUBLICATION_PX"])
    derived = derive(image, (evidence.exif or {}).get("orientation"), boxes, config["THUMBNAIL_PX"])
    old = [(evidence.thumbnail_sha256, "thumbnail"), (evidence.publication_sha256, "publication")]
    written = []
    try:
        for sha, kind, payload in ((derived.thumbnail_sha256, "thumbnail", derived.thumbnail),
                                   (derived.publication_sha256, "publication", derived.publication)):
            if store.put(sha, payload, kind):
                written.append((sha, kind))
        evidence.redactions = boxes
        evidence.thumbnail_sha256 = derived.thumbnail_sha256
        evidence.publication_sha256 = derived.publication_sha256
        _custody(session, user, evidence, "redacted", boxes=len(boxes))
        _custody_derived(session, user, evidence, derived)
        audit.record(session, user, "evidence.redacted", "evidence", evidence.id, boxes=len(boxes))
        session.commit()
    except BaseException:
        session.rollback()
        _discard_unreferenced(session, store, written)
        raise
    _discard_unreferenced(session, store, [(sha, kind) for sha, kind in old if sha])
    return evidence


def record_view(session: Session, user: User, evidence: Evidence, kind: str = "original", **details: Any) -> None:
    """Custody: someone looked at (or downloaded) the original."""
    _custody(session, user, evidence, "viewed", kind=kind, **details)
    session.commit()


def original_preview(evidence: Evidence, *, config: Any | None = None,
                     store: FileSystemStore | None = None) -> bytes:
    """The original, upright and unredacted, at publication size and without
    metadata: what the redaction editor draws on. Made on request, not stored."""
    config = _config(config)
    store = store or store_for(config)
    with store.open(evidence.file.sha256) as handle:
        image, _facts, _warnings = decode_for_copies(handle, config["PUBLICATION_PX"])
    return _jpeg(upright(image, (evidence.exif or {}).get("orientation")), PUBLICATION_QUALITY)


def visit_evidence(session: Session, visit: Visit, page: int = 1, per_page: int = 25) -> tuple[list[Evidence], int]:
    query = select(Evidence).where(Evidence.visit_id == visit.id)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(Evidence.id.desc()).offset((page - 1) * per_page).limit(per_page)).all()
    return list(rows), total


def custody_log(session: Session, evidence: Evidence) -> list[tuple[CustodyEvent, str | None]]:
    rows = session.execute(
        select(CustodyEvent, User.username).outerjoin(User, CustodyEvent.user_id == User.id)
        .where(CustodyEvent.file_id == evidence.file_id,
               or_(CustodyEvent.evidence_id == evidence.id, CustodyEvent.evidence_id.is_(None)))
        .order_by(CustodyEvent.at, CustodyEvent.id)).all()
    return [(event, username) for event, username in rows]


# -- manifest -----------------------------------------------------------------------------

def _iso(value: datetime | None) -> str | None:
    return value.replace(microsecond=0).isoformat() + "Z" if value else None


def manifest(session: Session, visit: Visit) -> dict[str, Any]:
    """Every evidence reference of the visit with its file's hash, size and times."""
    rows = session.execute(
        select(Evidence, EvidenceFile, User.username)
        .join(EvidenceFile, Evidence.file_id == EvidenceFile.id)
        .join(User, Evidence.uploaded_by_id == User.id)
        .where(Evidence.visit_id == visit.id).order_by(Evidence.id)).all()
    facility = visit.facility
    return {
        "format": MANIFEST_FORMAT,
        "visit_id": visit.id,
        "visit": {"starts_on": visit.starts_on.isoformat(), "ends_on": visit.ends_on.isoformat()},
        "facility": {"id": facility.id, "code": facility.code, "name": facility.name},
        "generated_at": _iso(utcnow()),
        "files": [{
            "evidence_id": evidence.id,
            "sha256": file_row.sha256,
            "size": file_row.size,
            "media_type": file_row.media_type,
            "uploaded_at": _iso(evidence.uploaded_at),
            "uploaded_by": username,
            "taken_at": (evidence.exif or {}).get("taken_at"),
            "thumbnail_sha256": evidence.thumbnail_sha256,
            "publication_sha256": evidence.publication_sha256,
        } for evidence, file_row, username in rows],
    }


def canonical_json(data: Any) -> bytes:
    """The exact bytes that are signed: sorted keys, no spaces, UTF-8."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def manifest_names(visit_id: int) -> tuple[str, str]:
    return f"visit-{visit_id}.json", f"visit-{visit_id}.sig"


def public_key_b64(signing_key: str) -> str:
    raw = crypto.signing_key(signing_key).public_key().public_bytes(serialization.Encoding.Raw,
                                                                     serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def sign_manifest(session: Session, user: User | None, visit: Visit, *, config: Any | None = None,
                  store: FileSystemStore | None = None) -> dict[str, Any]:
    """Sign the visit's manifest with the instance key, write it (JSON and
    signature) under EVIDENCE_DIR/manifests/ and record the export in the
    custody log. Returns the signed envelope offered for download."""
    config = _config(config)
    store = store or store_for(config)
    data = manifest(session, visit)
    payload = canonical_json(data)
    signature = crypto.sign(config["EVIDENCE_SIGNING_KEY"], payload)
    json_name, sig_name = manifest_names(visit.id)
    store.write_manifest(json_name, payload)
    store.write_manifest(sig_name, signature.encode("ascii") + b"\n")
    manifest_sha = hashlib.sha256(payload).hexdigest()
    for entry in data["files"]:
        evidence = session.get(Evidence, entry["evidence_id"])
        _custody(session, user, evidence, "exported", manifest_sha256=manifest_sha)
    audit.record(session, user, "evidence.manifest_signed", "visit", visit.id, files=len(data["files"]),
                 manifest_sha256=manifest_sha)
    session.commit()
    return {"manifest": data, "signature": signature, "algorithm": "Ed25519",
            "public_key": public_key_b64(config["EVIDENCE_SIGNING_KEY"]),
            "signed_bytes": "the manifest as JSON with sorted keys, no spaces, UTF-8"}


@dataclass
class VerificationReport:
    visit_id: int
    files_checked: int = 0
    manifest_files: int | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_visit_evidence(session: Session, visit: Visit, *, config: Any | None = None,
                          store: FileSystemStore | None = None, record: bool = False) -> VerificationReport:
    """Check every stored file of the visit against its name, and the signed
    manifest against the key and the database. ``record`` adds a "verified"
    custody event per reference."""
    config = _config(config)
    store = store or store_for(config)
    report = VerificationReport(visit.id)
    references = session.execute(
        select(Evidence, EvidenceFile).join(EvidenceFile, Evidence.file_id == EvidenceFile.id)
        .where(Evidence.visit_id == visit.id).order_by(Evidence.id)).all()
    checked: dict[tuple[str, str], str | None] = {}

    def check(sha: str | None, kind: str, evidence_id: int, size: int | None = None) -> bool:
        if not sha:
            report.problems.append(str(_l("Evidence %(id)s: no %(kind)s copy recorded.", id=evidence_id, kind=kind)))
            return False
        if (sha, kind) not in checked:
            problem = None
            if not store.exists(sha, kind):
                problem = _l("missing from the store")
            else:
                actual = store.hash_of(sha, kind)
                if actual != sha:
                    problem = _l("its bytes hash to %(actual)s, not to its name: the file was changed",
                                 actual=actual)
                elif size is not None and Path(store.path_for(sha, kind)).stat().st_size != size:
                    problem = _l("its size differs from the recorded size")
            checked[(sha, kind)] = str(problem) if problem else None
            if kind == "original":
                report.files_checked += 1
        problem = checked[(sha, kind)]
        if problem:
            report.problems.append(str(_l("Evidence %(id)s: %(kind)s %(sha)s: %(problem)s.", id=evidence_id,
                                          kind=kind, sha=sha, problem=problem)))
        return problem is None

    for evidence, file_row in references:
        ok = check(file_row.sha256, "original", evidence.id, file_row.size)
        ok = check(evidence.thumbnail_sha256, "thumbnail", evidence.id) and ok
        ok = check(evidence.publication_sha256, "publication", evidence.id) and ok
        if record:
            _custody(session, None, evidence, "verified", ok=ok)

    _verify_manifest(visit, references, report, config, store)
    if record and references:
        session.commit()
    return report


def _verify_manifest(visit: Visit, references: list, report: VerificationReport, config: Any,
                     store: FileSystemStore) -> None:
    json_name, sig_name = manifest_names(visit.id)
    payload, signature = store.read_manifest(json_name), store.read_manifest(sig_name)
    if payload is None or signature is None:
        report.problems.append(str(_l("No signed manifest for visit %(visit)s: sign one from the visit's evidence "
                                      "page first.", visit=visit.id)))
        return
    public_key = crypto.signing_key(config["EVIDENCE_SIGNING_KEY"]).public_key()
    if not crypto.verify(public_key, payload, signature.decode("ascii", "replace").strip()):
        report.problems.append(str(_l("The manifest's signature does not match its content and this instance's "
                                      "key: the manifest was changed, or signed with another key.")))
    try:
        data = json.loads(payload)
        listed = {(int(f["evidence_id"]), str(f["sha256"])) for f in data["files"]}
        report.manifest_files = len(data["files"])
        if data.get("visit_id") != visit.id:
            report.problems.append(str(_l("The manifest belongs to visit %(other)s, not %(visit)s.",
                                          other=data.get("visit_id"), visit=visit.id)))
    except (ValueError, KeyError, TypeError):
        report.problems.append(str(_l("The manifest is not readable JSON of the expected shape.")))
        return
    in_db = {(evidence.id, file_row.sha256) for evidence, file_row in references}
    listed_ids = {evidence_id for evidence_id, _sha in listed}
    db_ids = {evidence_id for evidence_id, _sha in in_db}
    for evidence_id, sha in sorted(in_db - listed):
        if evidence_id in listed_ids:
            report.problems.append(str(_l("Evidence %(id)s: the manifest lists another hash than the database "
                                          "(%(sha)s).", id=evidence_id, sha=sha)))
        else:
            report.problems.append(str(_l("Evidence %(id)s (%(sha)s) is in the database but not in the signed "
                                          "manifest (added after signing? sign again).", id=evidence_id, sha=sha)))
    for evidence_id, sha in sorted(listed - in_db):
        if evidence_id not in db_ids:
            report.problems.append(str(_l("Evidence %(id)s (%(sha)s) is in the signed manifest but not in the "
                                          "database.", id=evidence_id, sha=sha)))


__all__ = [
    "BadLink", "BadRedaction", "ClientUuidConflict", "CorruptImage", "EmptyFile", "EvidenceAccessError",
    "EvidenceError", "FileTooLarge", "ImageTooLarge", "NotAnImage", "StorageError", "VerificationReport",
    "custody_log", "ingest", "manifest", "record_view", "set_redactions", "sign_manifest", "verify_visit_evidence",
    "visit_evidence",
]

