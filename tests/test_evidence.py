"""Photo evidence: ingest of good and bad files, EXIF checks, derived copies,
redaction, custody, manifests and `npmtool verify-evidence`."""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import struct
import uuid
import warnings
import zlib
from datetime import date
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from PIL.TiffImagePlugin import IFDRational
from sqlalchemy import func, select

from npmtool.models import (
    ChecklistTemplate,
    CustodyEvent,
    Evidence,
    EvidenceFile,
    Interview,
    Visit,
    VisitChecklist,
    VisitMember,
    VisitType,
)
from npmtool.services import ServiceError
from npmtool.services import evidence as service
from npmtool.services.evidence_store import FileSystemStore, current_store

VISIT_START = date(2026, 3, 10)
VISIT_END = date(2026, 3, 11)
FACILITY_LAT, FACILITY_LON = 42.87, 74.59
INSIDE = "2026:03:10 11:00:00"
# The white square the tests redact: a "face" at 25–45 % across, 30–60 % down.
FACE = (0.25, 0.30, 0.20, 0.30)


# -- image factories ---------------------------------------------------------------

def _dms(value: float) -> tuple:
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round(((value - degrees) * 60 - minutes) * 60 * 100)
    return IFDRational(degrees, 1), IFDRational(minutes, 1), IFDRational(seconds, 100)


def picture(size=(640, 480), color=(40, 90, 160)) -> Image.Image:
    im = Image.new("RGB", size, color)
    draw = ImageDraw.Draw(im)
    w, h = size
    x, y, fw, fh = FACE
    draw.rectangle((x * w, y * h, (x + fw) * w - 1, (y + fh) * h - 1), fill=(255, 255, 255))
    draw.rectangle((0, 0, w // 10, h // 10), fill=(255, 0, 0))  # top-left marker, to see orientation
    return im


def jpeg(size=(640, 480), taken: str | None = INSIDE, gps: tuple | None = (FACILITY_LAT, FACILITY_LON),
         make: str | None = "TestCam", model: str | None = "TestCam X1", orientation: int | None = None,
         color=(40, 90, 160), gps_raw: dict | None = None, quality: int = 90, **extra) -> bytes:
    """A JPEG with EXIF written through Pillow: DateTimeOriginal (0x9003) in
    the Exif IFD (0x8769), position as rationals in the GPS IFD (0x8825)."""
    exif = Image.Exif()
    if make:
        exif[0x010F] = make
    if model:
        exif[0x0110] = model
    if orientation is not None:
        exif[0x0112] = orientation
    if taken is not None:
        exif.get_ifd(0x8769)[0x9003] = taken
    if gps is not None or gps_raw is not None:
        ifd = exif.get_ifd(0x8825)
        if gps_raw is not None:
            ifd.update(gps_raw)
        else:
            lat, lon = gps
            ifd.update({1: "N" if lat >= 0 else "S", 2: _dms(lat), 3: "E" if lon >= 0 else "W", 4: _dms(lon)})
    out = io.BytesIO()
    picture(size, color).save(out, "JPEG", quality=quality, exif=exif, **extra)
    return out.getvalue()


def png(size=(320, 240), mode="RGBA") -> bytes:
    out = io.BytesIO()
    picture(size).convert(mode).save(out, "PNG")
    return out.getvalue()


def with_app1(data: bytes, payload: bytes) -> bytes:
    """Insert an APP1 segment right after SOI (e.g. a garbage EXIF block)."""
    assert data[:2] == b"\xff\xd8"
    return data[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + data[2:]


def jpeg_claiming(data: bytes, width: int, height: int) -> bytes:
    """The same JPEG with its frame header claiming another size."""
    i = 2
    while i < len(data):
        marker, length = data[i + 1], struct.unpack(">H", data[i + 2:i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            return data[:i + 5] + struct.pack(">HH", height, width) + data[i + 9:]
        i += 2 + length
    raise AssertionError("no SOF marker")


def png_bomb(width: int, height: int) -> bytes:
    """A small PNG that inflates to a huge 1-bit image."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    row = b"\x00" + b"\x00" * ((width + 7) // 8)
    compressor = zlib.compressobj(9)
    body = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", body) + chunk(b"IEND", b""))


# -- fixtures ------------------------------------------------------------------------

class LazyUsers(dict):
    """Accounts made on first use: hashing a password takes a while."""

    ROLES = {"coordinator": ("coordinator", "KG"), "monitor": ("monitor", "KG"), "outsider": ("monitor", "KG"),
             "admin": ("admin", None), "council": ("council", "KG"), "cso": ("cso", "KG"),
             "other_coordinator": ("coordinator", "KZ")}

    def __init__(self, make_user):
        super().__init__()
        self.make_user = make_user

    def __missing__(self, name):
        role, country = self.ROLES[name]
        self[name] = user = self.make_user(role, country=country)
        return user


@pytest.fixture
def world(app, session, make_user, make_facility):
    facility = make_facility(country="KG", lat=FACILITY_LAT, lon=FACILITY_LON)
    users = LazyUsers(make_user)
    visit_type = session.scalars(select(VisitType.code).where(VisitType.country_code == "KG")
                                 .order_by(VisitType.position)).first()
    visit = Visit(facility_id=facility.id, country_code="KG", visit_type=visit_type, starts_on=VISIT_START,
                  ends_on=VISIT_END, status="in_progress", created_by_id=users["coordinator"].id,
                  updated_by_id=users["coordinator"].id)
    visit.team_members.append(VisitMember(user_id=users["monitor"].id, role="lead"))
    template = session.scalars(select(ChecklistTemplate).order_by(ChecklistTemplate.id)).first()
    item_ids = [item.id for item in template.items[:3]]
    visit.checklists.append(VisitChecklist(template_id=template.id, item_ids=item_ids))
    session.add(visit)
    session.flush()
    interview = Interview(visit_id=visit.id, code="KG-T-01", category="detained", vulnerable_groups=[],
                          allegations=[])
    session.add(interview)
    session.commit()
    return {"visit": visit, "facility": facility, "users": users, "item_ids": item_ids,
            "interview_id": interview.id, "template": template}


@pytest.fixture
def store(app) -> FileSystemStore:
    return current_store()


@pytest.fixture
def upload(session, world):
    def do(data, user=None, today=date(2026, 3, 12), **kwargs):
        kwargs.setdefault("filename", "photo.jpg")
        return service.ingest(session, user or world["users"]["monitor"], world["visit"], kwargs.pop("filename"),
                              data, today=today, **kwargs)
    return do


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def stored_files(store: FileSystemStore) -> list[Path]:
    return sorted(p for p in Path(store.root).rglob("*") if p.is_file())


def spooled(store: FileSystemStore) -> list[Path]:
    return list(store.tmp_dir.iterdir()) if store.tmp_dir.exists() else []


def codes(evidence: Evidence) -> list[str]:
    return [w["code"] for w in evidence.warnings]


def assert_nothing_stored(session, store):
    assert count(session, Evidence) == 0
    assert count(session, EvidenceFile) == 0
    assert count(session, CustodyEvent) == 0
    assert stored_files(store) == []
    assert spooled(store) == []


# -- good uploads ----------------------------------------------------------------------

def test_ingest_stores_the_bytes_as_received_under_their_hash(session, world, store, upload):
    data = jpeg()
    evidence = upload(data, caption="Cell 4, window", item_id=world["item_ids"][0],
                      interview_id=world["interview_id"])
    sha = hashlib.sha256(data).hexdigest()
    assert evidence.file.sha256 == sha
    assert evidence.file.size == len(data)
    assert (evidence.file.media_type, evidence.file.width, evidence.file.height) == ("image/jpeg", 640, 480)
    path = Path(store.path_for(sha))
    assert path.relative_to(store.root).parts == ("originals", sha[:2], sha[2:4], sha)
    assert path.read_bytes() == data  # never modified: not even the EXIF
    assert hashlib.sha256(path.read_bytes()).hexdigest() == sha
    assert not os.access(path, os.W_OK) or os.geteuid() == 0
    assert evidence.exif == {"device": "TestCam X1", "make": "TestCam", "model": "TestCam X1",
                             "taken_at": "2026-03-10T11:00:00", "lat": pytest.approx(FACILITY_LAT, abs=1e-4),
                             "lon": pytest.approx(FACILITY_LON, abs=1e-4)}
    assert evidence.warnings == []
    assert evidence.caption == "Cell 4, window"
    assert (evidence.item_id, evidence.interview_id) == (world["item_ids"][0], world["interview_id"])
    assert spooled(store) == []


def test_stream_upload_is_hashed_while_received(session, world, store, upload):
    data = jpeg()
    evidence = upload(io.BytesIO(data))
    assert evidence.file.sha256 == hashlib.sha256(data).hexdigest()
    assert Path(store.path_for(evidence.file.sha256)).read_bytes() == data
    assert spooled(store) == []


def test_png_is_accepted_and_its_copies_are_jpeg(session, world, store, upload):
    evidence = upload(png(), filename="scan.png")
    assert evidence.file.media_type == "image/png"
    with Image.open(store.path_for(evidence.publication_sha256, "publication")) as im:
        assert im.format == "JPEG" and im.mode == "RGB"
        assert im.getpixel((im.width - 1, im.height - 1)) != (0, 0, 0)  # transparency flattened on white
    assert codes(evidence) == ["no_exif_time", "no_gps"]


def test_custody_records_upload_and_derived_copies(session, world, upload):
    evidence = upload(jpeg(), filename="IMG_0001.JPG")
    events = session.scalars(select(CustodyEvent).where(CustodyEvent.evidence_id == evidence.id)
                             .order_by(CustodyEvent.id)).all()
    assert [e.action for e in events] == ["uploaded", "derived", "derived"]
    assert all(e.user_id == world["users"]["monitor"].id and e.file_id == evidence.file_id for e in events)
    assert events[0].details["filename"] == "IMG_0001.JPG"
    assert events[0].details["sha256"] == evidence.file.sha256
    assert {e.details["kind"]: e.details["sha256"] for e in events[1:]} == {
        "thumbnail": evidence.thumbnail_sha256, "publication": evidence.publication_sha256}


# -- derived copies ------------------------------------------------------------------------

def test_copies_are_small_upright_and_carry_no_metadata(app, session, world, store, upload):
    app.config.update(THUMBNAIL_PX=100, PUBLICATION_PX=300)
    data = jpeg(size=(600, 400), orientation=6, icc_profile=b"\x00" * 128)
    evidence = upload(data)
    assert evidence.exif["orientation"] == 6
    for kind, sha, size in (("publication", evidence.publication_sha256, (200, 300)),
                            ("thumbnail", evidence.thumbnail_sha256, (67, 100))):
        path = Path(store.path_for(sha, kind))
        raw = path.read_bytes()
        assert hashlib.sha256(raw).hexdigest() == sha
        with Image.open(path) as im:
            assert im.size == size  # rotated upright: 600 × 400 lying on its side
            assert len(im.getexif()) == 0
            assert not {"exif", "icc_profile", "xmp", "comment"} & set(im.info)
        assert b"Exif" not in raw and b"TestCam" not in raw and b"ICC_PROFILE" not in raw
    assert b"TestCam" in Path(store.path_for(evidence.file.sha256)).read_bytes()  # the original keeps it


def test_large_jpeg_is_decoded_at_reduced_size(app, session, world, store, upload, monkeypatch):
    from PIL import JpegImagePlugin

    app.config.update(PUBLICATION_PX=400)
    decoded = []
    real_draft = JpegImagePlugin.JpegImageFile.draft

    def recording(self, mode, size):
        result = real_draft(self, mode, size)
        decoded.append((size, self.size))
        return result

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", recording)
    evidence = upload(jpeg(size=(1600, 1200)))
    assert decoded == [((400, 300), (400, 300))]  # a 1/4 DCT-scaled decode, never 1600 × 1200
    with Image.open(store.path_for(evidence.publication_sha256, "publication")) as im:
        assert im.size == (400, 300)


# -- EXIF checks ------------------------------------------------------------------------------

def test_photo_taken_outside_the_visit_days_gets_a_warning(session, world, upload):
    evidence = upload(jpeg(taken="2026:02:01 10:00:00"))
    assert evidence.warnings == [{"code": "outside_window", "taken_on": "2026-02-01",
                                  "starts_on": "2026-03-10", "ends_on": "2026-03-11"}]
    assert codes(upload(jpeg(taken="2026:03:11 23:59:59", color=(1, 2, 3)))) == []  # the last day counts


def test_photo_taken_far_from_the_facility_gets_a_warning(session, world, upload):
    evidence = upload(jpeg(gps=(42.87, 75.59)))  # one degree east: about 82 km
    assert codes(evidence) == ["too_far"]
    assert 75 < evidence.warnings[0]["distance_km"] < 90
    assert evidence.warnings[0]["max_km"] == 2.0
    south_west = upload(jpeg(gps=(-33.86, -70.65), color=(9, 9, 9)))
    assert south_west.exif["lat"] < 0 and south_west.exif["lon"] < 0
    assert codes(south_west) == ["too_far"]


def test_distance_limit_is_configurable(app, session, world, upload):
    app.config["EVIDENCE_MAX_DISTANCE_KM"] = 100
    assert codes(upload(jpeg(gps=(42.87, 75.59)))) == []


def test_photo_without_exif_gets_warnings_not_a_refusal(session, world, upload):
    evidence = upload(jpeg(taken=None, gps=None, make=None, model=None))
    assert evidence.exif == {}
    assert codes(evidence) == ["no_exif_time", "no_gps"]


def test_facility_without_coordinates_cannot_be_checked(session, world, upload):
    world["facility"].lat = world["facility"].lon = None
    session.commit()
    assert codes(upload(jpeg())) == ["facility_without_coordinates"]


@pytest.mark.parametrize("kwargs, field", [
    ({"taken": "2099:01:01 00:00:00"}, "taken_at"),  # in the future
    ({"taken": "1970:01:01 00:00:00"}, "taken_at"),  # before digital cameras
    ({"taken": "2026:13:45 99:00:00"}, "taken_at"),  # no such date
    ({"taken": "yesterday, I think"}, "taken_at"),
    ({"gps_raw": {1: "N", 2: (95.0, 0.0, 0.0), 3: "E", 4: (74.0, 0.0, 0.0)}}, "gps"),  # latitude 95°
    ({"gps_raw": {1: "N", 2: (IFDRational(42, 0), 1.0, 1.0), 3: "E", 4: (74.0, 1.0, 1.0)}}, "gps"),  # x/0
    ({"gps_raw": {1: "Q", 2: (42.0, 52.0, 0.0), 3: "E", 4: (74.0, 35.0, 0.0)}}, "gps"),  # no such ref
    ({"gps_raw": {2: (42.0, 52.0, 0.0), 4: (74.0, 35.0, 0.0)}}, "gps"),  # no hemisphere
    ({"gps_raw": {1: "N", 2: (42.0, 75.0, 0.0), 3: "E", 4: (74.0, 35.0, 0.0)}}, "gps"),  # 75 minutes
    ({"gps_raw": {1: "N", 2: (0.0, 0.0, 0.0), 3: "E", 4: (0.0, 0.0, 0.0)}}, "gps"),  # "null island"
    ({"orientation": 9}, "orientation"),
])
def test_exif_that_lies_is_recorded_as_implausible(session, world, upload, kwargs, field):
    evidence = upload(jpeg(**kwargs))
    implausible = [w for w in evidence.warnings if w["code"] == "exif_implausible"]
    assert [w["field"] for w in implausible] == [field]
    assert field not in evidence.exif and not (field == "gps" and "lat" in evidence.exif)


def test_zero_date_means_no_clock_set(session, world, upload):
    assert codes(upload(jpeg(taken="0000:00:00 00:00:00"))) == ["no_exif_time"]


@pytest.mark.parametrize("payload", [
    b"Exif\x00\x00" + bytes(random.Random(3).randrange(256) for _ in range(300)),
    b"Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\xff\xff" + b"\x00" * 40,  # 65535 entries promised
    b"Exif\x00\x00II*\x00\x08\x00\x00\x00\x01\x00\x69\x87\x04\x00\x01\x00\x00\x00\xff\xff\xff\x7f",  # IFD far away
    b"Exif\x00\x00",
])
def test_garbage_exif_is_a_warning_never_a_crash(session, world, upload, payload):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow warns about the corrupt block, as it should
        evidence = upload(with_app1(jpeg(taken=None, gps=None, make=None, model=None), payload))
    assert evidence.id is not None
    assert "no_exif_time" in codes(evidence) and "no_gps" in codes(evidence)
    assert set(codes(evidence)) <= {"exif_unreadable", "exif_implausible", "no_exif_time", "no_gps"}


def test_unreadable_exif_block_is_reported(session, world, upload):
    payload = b"Exif\x00\x00" + b"XX" + bytes(random.Random(5).randrange(256) for _ in range(200))
    evidence = upload(with_app1(jpeg(taken=None, gps=None, make=None, model=None), payload))
    assert "exif_unreadable" in codes(evidence)


def test_read_exif_never_raises():
    class Exploding:
        def items(self):
            raise struct.error("boom")

    facts, found = service.read_exif(Exploding(), b"Exif....", date(2026, 1, 1))
    assert facts == {} and found[0]["code"] == "exif_unreadable"
    facts, found = service.read_exif(ValueError("bad"), None, date(2026, 1, 1))
    assert found == [{"code": "exif_unreadable", "detail": "ValueError"}]


# -- bad input: refused, nothing stored ---------------------------------------------------------

@pytest.mark.parametrize("data", [
    b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n",
    b"just some text that someone renamed to photo.jpg\n",
    b"\xff\xd8\xff",  # a JPEG signature and nothing else
])
def test_not_an_image_is_refused(session, world, store, upload, data):
    with pytest.raises(service.EvidenceError) as refused:
        upload(data)
    assert isinstance(refused.value, (service.NotAnImage, service.CorruptImage))
    assert "Nothing was saved" in str(refused.value)
    assert_nothing_stored(session, store)


def test_other_image_formats_are_refused(session, world, store, upload):
    out = io.BytesIO()
    picture().save(out, "GIF")
    with pytest.raises(service.NotAnImage, match="not a JPEG or PNG"):
        upload(out.getvalue(), filename="photo.jpg")
    assert_nothing_stored(session, store)


def test_empty_file_is_refused(session, world, store, upload):
    with pytest.raises(service.EmptyFile):
        upload(io.BytesIO(b""))
    assert_nothing_stored(session, store)


@pytest.mark.parametrize("cut", ["half", "tail", "end_marker"])
def test_truncated_jpeg_is_refused(session, world, store, upload, cut):
    data = jpeg(size=(800, 600))
    data = {"half": data[:len(data) // 2], "tail": data[:-300], "end_marker": data[:-2]}[cut]
    with pytest.raises(service.CorruptImage, match="damaged or incomplete"):
        upload(data)
    assert_nothing_stored(session, store)


def noisy_jpeg(size=(800, 600)) -> bytes:
    out = io.BytesIO()
    Image.effect_noise(size, 60).convert("RGB").save(out, "JPEG", quality=90)
    return out.getvalue()


def segment_at(data: bytes, marker: int) -> int:
    i = 2
    while True:
        if data[i + 1] == marker:
            return i
        i += 2 + struct.unpack(">H", data[i + 2:i + 4])[0]


def corrupt(kind: str) -> bytes:
    data = bytearray(noisy_jpeg())
    middle = len(data) // 2
    if kind == "garbage":  # a block of the compressed data overwritten
        rng = random.Random(7)
        data[middle:middle + 2000] = bytes(rng.randrange(256) for _ in range(2000))
    elif kind == "stray_marker":
        data[middle:middle + 2] = b"\xff\x3a"
    elif kind == "frame_header":
        data[segment_at(data, 0xC0) + 9] = 0  # no colour components
    elif kind == "huffman_table":
        i = segment_at(data, 0xC4)
        data[i + 5:i + 40] = b"\xff" * 35
    elif kind == "quantisation_table":
        data[segment_at(data, 0xDB) + 4] = 0x07  # a table id that does not exist
    return bytes(data)


@pytest.mark.parametrize("kind", ["garbage", "stray_marker", "frame_header", "huffman_table", "quantisation_table"])
def test_corrupt_jpeg_is_refused(session, world, store, upload, kind):
    # (Bytes changed without creating a marker cannot be told from a picture:
    # JPEG has no checksum. What libjpeg or the structure shows is refused.)
    with pytest.raises(service.CorruptImage, match="damaged or incomplete"):
        upload(corrupt(kind))
    assert_nothing_stored(session, store)


def test_damaged_photo_refused_after_a_pdf_was_rendered(session, world, store, upload):
    # WeasyPrint loosens Pillow's decoding for the whole process when it is
    # imported; rendering a report must not make evidence checks lenient.
    from npmtool.weasy import weasyprint

    weasyprint().HTML(string="<p>report</p>").write_pdf()
    with pytest.raises(service.CorruptImage, match="damaged or incomplete"):
        upload(corrupt("quantisation_table"))
    assert_nothing_stored(session, store)


def test_intact_noisy_jpeg_is_accepted(session, world, upload):
    assert upload(noisy_jpeg()).file.size > 100_000


def test_corrupt_png_is_refused(session, world, store, upload):
    data = bytearray(png())
    data[60] ^= 0xFF  # inside IDAT: the checksum no longer matches
    with pytest.raises(service.CorruptImage):
        upload(bytes(data), filename="x.png")
    assert_nothing_stored(session, store)


def test_png_decompression_bomb_is_refused(session, world, store, upload):
    bomb = png_bomb(12_000, 12_000)  # 144 megapixels in a few kilobytes
    assert len(bomb) < 100_000
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        with pytest.raises(service.ImageTooLarge, match="decompression bomb"):
            upload(bomb, filename="bomb.png")
    assert_nothing_stored(session, store)


def test_png_bomb_refused_even_when_pillow_warnings_are_errors(session, world, store, upload):
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with pytest.raises(service.ImageTooLarge):
            upload(png_bomb(12_000, 12_000), filename="bomb.png")
    assert_nothing_stored(session, store)


def test_jpeg_claiming_gigapixels_is_refused(session, world, store, upload):
    bomb = jpeg_claiming(jpeg(), 20_000, 20_000)  # Pillow itself raises DecompressionBombError
    with pytest.raises(service.ImageTooLarge):
        upload(bomb)
    assert_nothing_stored(session, store)


def test_pixel_limit_is_configurable(app, session, world, store, upload):
    app.config["EVIDENCE_MAX_PIXELS"] = 100_000
    with pytest.raises(service.ImageTooLarge, match="640 × 480"):
        upload(jpeg())
    assert_nothing_stored(session, store)


@pytest.mark.parametrize("as_stream", [False, True])
def test_file_over_the_size_limit_is_refused(app, session, world, store, upload, as_stream):
    data = jpeg()
    app.config["EVIDENCE_MAX_BYTES"] = len(data) - 1
    with pytest.raises(service.FileTooLarge, match="larger than"):
        upload(io.BytesIO(data) if as_stream else data)
    assert_nothing_stored(session, store)
    app.config["EVIDENCE_MAX_BYTES"] = len(data)
    assert upload(io.BytesIO(data) if as_stream else data).file.size == len(data)


def test_links_must_belong_to_the_visit(session, world, store, upload):
    other_item = session.scalars(select(VisitChecklist)).first().template.items[-1].id
    with pytest.raises(service.BadLink):
        upload(jpeg(), item_id=other_item)
    with pytest.raises(service.BadLink):
        upload(jpeg(), interview_id=world["interview_id"] + 999)
    assert_nothing_stored(session, store)


def test_only_people_working_on_the_visit_may_upload(session, world, store, upload):
    for name in ("outsider", "admin", "council", "other_coordinator"):
        with pytest.raises(service.EvidenceAccessError):
            upload(jpeg(), user=world["users"][name])
    world["visit"].status = "closed"
    session.commit()
    with pytest.raises(service.EvidenceAccessError):
        upload(jpeg())
    assert_nothing_stored(session, store)


# -- duplicates and retries ----------------------------------------------------------------------

def test_same_bytes_twice_are_stored_once_and_referenced_twice(session, world, store, upload):
    data = jpeg()
    first = upload(data)
    second = upload(data, user=world["users"]["coordinator"], caption="again")
    assert first.id != second.id
    assert first.file_id == second.file_id
    assert count(session, EvidenceFile) == 1 and count(session, Evidence) == 2
    assert codes(second)[0] == "duplicate"
    assert second.warnings[0]["evidence_ids"] == [first.id]
    originals = [p for p in stored_files(store) if "originals" in p.parts]
    assert len(originals) == 1
    assert second.thumbnail_sha256 == first.thumbnail_sha256  # copies are deterministic: stored once too
    uploaded = session.scalars(select(CustodyEvent).where(CustodyEvent.action == "uploaded")
                               .order_by(CustodyEvent.id)).all()
    assert [e.details["new_file"] for e in uploaded] == [True, False]


def test_retry_with_the_same_client_uuid_returns_the_same_evidence(session, world, store, upload):
    data, key = jpeg(), str(uuid.uuid4())
    first = upload(data, client_uuid=key)
    again = upload(io.BytesIO(data), client_uuid=key.upper())
    assert again.id == first.id and again.replayed
    assert count(session, Evidence) == 1 and count(session, CustodyEvent) == 3
    with pytest.raises(service.ClientUuidConflict):
        upload(jpeg(color=(0, 0, 0)), client_uuid=key)
    with pytest.raises(service.EvidenceError, match="UUID"):
        upload(data, client_uuid="not-a-uuid")
    assert count(session, Evidence) == 1 and count(session, EvidenceFile) == 1


# -- nothing half-stored -------------------------------------------------------------------------

def test_failure_after_storing_leaves_no_row_and_no_file(session, world, store, upload, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(service, "_add_rows", broken)
    with pytest.raises(RuntimeError):
        upload(jpeg())
    assert_nothing_stored(session, store)


def test_failure_while_storing_copies_removes_the_new_original(session, world, store, upload, monkeypatch):
    real_put = FileSystemStore.put

    def put(self, sha, data, kind="original"):
        if kind == "publication":
            raise OSError(28, "No space left on device")
        return real_put(self, sha, data, kind)

    monkeypatch.setattr(FileSystemStore, "put", put)
    with pytest.raises(service.StorageError, match="could not be stored"):
        upload(jpeg())
    assert_nothing_stored(session, store)


def test_failure_on_a_duplicate_keeps_the_shared_original(session, world, store, upload, monkeypatch):
    data = jpeg()
    first = upload(data)
    before = stored_files(store)
    events = count(session, CustodyEvent)
    monkeypatch.setattr(service, "_custody_derived", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("x")))
    with pytest.raises(RuntimeError):
        upload(data)
    assert stored_files(store) == before
    assert count(session, Evidence) == 1 and count(session, CustodyEvent) == events
    assert Path(store.path_for(first.file.sha256)).read_bytes() == data


def test_store_never_overwrites(tmp_path):
    store = FileSystemStore(tmp_path)
    sha = hashlib.sha256(b"one").hexdigest()
    assert store.put(sha, b"one") is True
    assert store.put(sha, b"something else") is False
    assert Path(store.path_for(sha)).read_bytes() == b"one"
    with pytest.raises(ValueError):
        store.path_for("../../etc/passwd")
    with pytest.raises(ValueError):
        store.path_for(sha, "secret")
    assert [p.name for p in Path(store.path_for(sha)).parent.iterdir()] == [sha]  # no temp file left


# -- redaction -------------------------------------------------------------------------------------

def _face_pixels(path: str, box=FACE, inset=0.02):
    with Image.open(path) as im:
        im = im.convert("RGB")
        w, h = im.size
        x, y, bw, bh = box
        region = im.crop((int((x + inset) * w), int((y + inset) * h), int((x + bw - inset) * w),
                          int((y + bh - inset) * h)))
        return region.getextrema()


def test_redaction_paints_boxes_solid_black_in_both_copies(session, world, store, upload):
    data = jpeg(size=(800, 600))
    evidence = upload(data)
    unredacted_publication = evidence.publication_sha256
    assert _face_pixels(store.path_for(evidence.publication_sha256, "publication"))[0][0] > 200  # white face
    x, y, w, h = FACE
    service.set_redactions(session, world["users"]["monitor"], evidence, [{"x": x, "y": y, "w": w, "h": h}])
    assert evidence.redactions == [{"x": x, "y": y, "w": w, "h": h}]
    for kind, sha in (("publication", evidence.publication_sha256), ("thumbnail", evidence.thumbnail_sha256)):
        extrema = _face_pixels(store.path_for(sha, kind), inset=0.03)
        assert all(high <= 6 for _low, high in extrema), (kind, extrema)  # solid black
    # The unredacted copy no other reference uses is gone; the original is untouched.
    assert not store.exists(unredacted_publication, "publication")
    assert Path(store.path_for(evidence.file.sha256)).read_bytes() == data
    actions = session.scalars(select(CustodyEvent.action).where(CustodyEvent.evidence_id == evidence.id)
                              .order_by(CustodyEvent.id)).all()
    assert actions[-3:] == ["redacted", "derived", "derived"]


def test_redaction_boxes_follow_the_upright_photo(session, world, store, upload):
    evidence = upload(jpeg(size=(600, 400), orientation=3))  # upside down: turned 180°
    # Upright, the stored top-left marker is at the bottom right; a box there covers it.
    service.set_redactions(session, world["users"]["monitor"], evidence,
                           [{"x": 0.85, "y": 0.85, "w": 0.15, "h": 0.15}])
    with Image.open(store.path_for(evidence.publication_sha256, "publication")) as im:
        assert max(im.convert("RGB").getpixel((im.width - 5, im.height - 5))) <= 6
        assert im.convert("RGB").getpixel((5, 5))[2] > 100  # the blue background, not the red marker


def test_removing_redactions_restores_the_plain_copy(session, world, store, upload):
    evidence = upload(jpeg())
    plain = evidence.publication_sha256
    service.set_redactions(session, world["users"]["monitor"], evidence, [{"x": 0, "y": 0, "w": 1, "h": 1}])
    assert evidence.publication_sha256 != plain
    service.set_redactions(session, world["users"]["monitor"], evidence, [])
    assert evidence.publication_sha256 == plain and store.exists(plain, "publication")


@pytest.mark.parametrize("boxes", [
    [{"x": 0.5, "y": 0.5, "w": 0.6, "h": 0.1}],  # beyond the right edge
    [{"x": -0.1, "y": 0, "w": 0.2, "h": 0.2}],
    [{"x": 0.1, "y": 0.1, "w": 0, "h": 0.2}],
    [{"x": "a", "y": 0, "w": 0.1, "h": 0.1}],
    [{"x": float("nan"), "y": 0, "w": 0.1, "h": 0.1}],
    [{"x": 0.1}],
    "not a list",
    [{"x": 0, "y": 0, "w": 0.01, "h": 0.01}] * 51,
])
def test_bad_redaction_boxes_are_refused(session, world, upload, boxes):
    evidence = upload(jpeg())
    before = evidence.publication_sha256
    with pytest.raises(service.BadRedaction):
        service.set_redactions(session, world["users"]["monitor"], evidence, boxes)
    session.refresh(evidence)
    assert evidence.publication_sha256 == before and evidence.redactions == []


def test_administrators_cannot_redact(session, world, upload):
    evidence = upload(jpeg())
    with pytest.raises(service.EvidenceAccessError):
        service.set_redactions(session, world["users"]["admin"], evidence, [])


def test_viewing_an_original_is_recorded(session, world, upload):
    evidence = upload(jpeg())
    service.record_view(session, world["users"]["coordinator"], evidence)
    event = session.scalars(select(CustodyEvent).order_by(CustodyEvent.id.desc())).first()
    assert (event.action, event.user_id, event.details) == ("viewed", world["users"]["coordinator"].id,
                                                            {"kind": "original"})


# -- manifest and verification ---------------------------------------------------------------------

def test_manifest_lists_files_hashes_and_times(session, world, upload):
    first = upload(jpeg())
    second = upload(jpeg(taken=None, color=(5, 5, 5)))
    data = service.manifest(session, world["visit"])
    assert data["visit_id"] == world["visit"].id
    assert data["facility"]["id"] == world["facility"].id
    assert data["generated_at"].endswith("Z")
    assert [f["evidence_id"] for f in data["files"]] == [first.id, second.id]
    entry = data["files"][0]
    assert entry["sha256"] == first.file.sha256 and entry["size"] == first.file.size
    assert entry["uploaded_by"] == world["users"]["monitor"].username
    assert entry["taken_at"] == "2026-03-10T11:00:00" and data["files"][1]["taken_at"] is None
    assert entry["thumbnail_sha256"] == first.thumbnail_sha256
    assert entry["publication_sha256"] == first.publication_sha256


def test_signed_manifest_verifies_and_records_export(app, session, world, store, upload):
    evidence = upload(jpeg())
    envelope = service.sign_manifest(session, world["users"]["coordinator"], world["visit"])
    json_path = Path(store.root, "manifests", f"visit-{world['visit'].id}.json")
    assert json_path.read_bytes() == service.canonical_json(envelope["manifest"])
    assert Path(store.root, "manifests", f"visit-{world['visit'].id}.sig").exists()
    # The envelope can be checked by anyone holding the public key.
    import base64

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(envelope["public_key"]))
    public.verify(base64.b64decode(envelope["signature"]), service.canonical_json(envelope["manifest"]))
    exported = session.scalars(select(CustodyEvent).where(CustodyEvent.action == "exported")).all()
    assert [(e.evidence_id, e.user_id) for e in exported] == [(evidence.id, world["users"]["coordinator"].id)]
    report = service.verify_visit_evidence(session, world["visit"])
    assert report.ok, report.problems
    assert (report.files_checked, report.manifest_files) == (1, 1)


def test_verify_detects_a_modified_original(session, world, store, upload):
    evidence = upload(jpeg())
    service.sign_manifest(session, world["users"]["monitor"], world["visit"])
    path = Path(store.path_for(evidence.file.sha256))
    os.chmod(path, 0o644)
    data = bytearray(path.read_bytes())
    data[100] ^= 0x01
    path.write_bytes(bytes(data))
    report = service.verify_visit_evidence(session, world["visit"])
    assert not report.ok
    assert any("original" in p and "was changed" in p for p in report.problems), report.problems


def test_verify_detects_a_missing_original_and_a_swapped_copy(session, world, store, upload):
    evidence = upload(jpeg())
    service.sign_manifest(session, world["users"]["monitor"], world["visit"])
    os.unlink(store.path_for(evidence.file.sha256))
    publication = Path(store.path_for(evidence.publication_sha256, "publication"))
    os.chmod(publication, 0o644)
    publication.write_bytes(jpeg())  # an unredacted picture slipped in under the copy's name
    problems = service.verify_visit_evidence(session, world["visit"]).problems
    assert any("original" in p and "missing" in p for p in problems)
    assert any("publication" in p and "was changed" in p for p in problems)


def test_verify_detects_a_modified_manifest(session, world, store, upload):
    upload(jpeg())
    service.sign_manifest(session, world["users"]["monitor"], world["visit"])
    path = Path(store.root, "manifests", f"visit-{world['visit'].id}.json")
    data = json.loads(path.read_bytes())
    data["files"][0]["size"] += 1
    path.write_bytes(service.canonical_json(data))
    problems = service.verify_visit_evidence(session, world["visit"]).problems
    assert any("signature does not match" in p for p in problems)


def test_verify_detects_files_added_or_removed_after_signing(session, world, store, upload):
    first = upload(jpeg())
    service.sign_manifest(session, world["users"]["monitor"], world["visit"])
    later = upload(jpeg(color=(200, 200, 0)))
    problems = service.verify_visit_evidence(session, world["visit"]).problems
    assert len(problems) == 1 and f"Evidence {later.id}" in problems[0] and "not in the signed manifest" in problems[0]
    # A reference removed behind the manifest's back.
    service.sign_manifest(session, world["users"]["monitor"], world["visit"])
    session.execute(CustodyEvent.__table__.delete().where(CustodyEvent.evidence_id == first.id))
    session.delete(first)
    session.commit()
    problems = service.verify_visit_evidence(session, world["visit"]).problems
    assert any(f"Evidence {first.id}" in p and "not in the database" in p for p in problems)


def test_verify_without_a_manifest_says_so(session, world, upload):
    upload(jpeg())
    problems = service.verify_visit_evidence(session, world["visit"]).problems
    assert problems == [f"No signed manifest for visit {world['visit'].id}: sign one from the visit's evidence "
                        "page first."]


def test_manifest_signed_by_another_key_is_refused(app, session, world, upload):
    from npmtool.crypto import new_signing_key

    upload(jpeg())
    service.sign_manifest(session, world["users"]["monitor"], world["visit"])
    app.config["EVIDENCE_SIGNING_KEY"] = new_signing_key()
    problems = service.verify_visit_evidence(session, world["visit"]).problems
    assert any("signature does not match" in p for p in problems)


# -- the command ------------------------------------------------------------------------------------

def test_cli_verify_evidence_exit_codes(app, session, world, store, upload):
    runner = app.test_cli_runner()
    evidence = upload(jpeg())
    visit_id = world["visit"].id
    result = runner.invoke(args=["verify-evidence", str(visit_id)])
    assert result.exit_code == 1 and "No signed manifest" in result.output

    service.sign_manifest(session, world["users"]["monitor"], world["visit"])
    result = runner.invoke(args=["verify-evidence", str(visit_id)])
    assert result.exit_code == 0, result.output
    assert "1 file(s) intact" in result.output and "All good" in result.output
    verified = session.scalars(select(CustodyEvent).where(CustodyEvent.action == "verified")).all()
    assert verified and verified[-1].details == {"ok": True}

    path = Path(store.path_for(evidence.file.sha256))
    os.chmod(path, 0o644)
    path.write_bytes(path.read_bytes() + b"\x00")
    result = runner.invoke(args=["verify-evidence", str(visit_id)])
    assert result.exit_code == 1
    assert "PROBLEM:" in result.output and "was changed" in result.output

    result = runner.invoke(args=["verify-evidence", "999999"])
    assert result.exit_code == 1 and "No visit 999999" in result.output


def test_errors_are_service_errors_with_messages(session, world, upload):
    with pytest.raises(ServiceError) as refused:
        upload(b"nope")
    assert str(refused.value) == "This file is not a JPEG or PNG photo. Nothing was saved."


def test_race_with_another_upload_of_the_same_bytes_adds_a_reference(session, world, store, upload, monkeypatch):
    data = jpeg()
    first = upload(data)
    real = service._add_rows
    calls = []

    def racing(session_, user, visit, received, file_row, *args):
        calls.append(file_row)
        if len(calls) == 1:  # as if the other request's row was not there yet when we looked
            file_row = None
        return real(session_, user, visit, received, file_row, *args)

    monkeypatch.setattr(service, "_add_rows", racing)
    second = upload(data)
    assert len(calls) == 2 and second.file_id == first.file_id
    assert count(session, EvidenceFile) == 1 and count(session, Evidence) == 2
    assert codes(second)[0] == "duplicate"
