"""Benchmark: photo evidence ingest of 12-megapixel JPEGs.

Ingest = the real ``npmtool.services.evidence.ingest`` on a real app and
SQLite database: receive and SHA-256 the bytes, check the file, read EXIF,
store the original (fsync, link), derive the thumbnail and the publication
copy, write the rows and custody events, commit.

Baseline, measured in the same run on the same files: Pillow opening the
file and decoding it with ``Image.draft`` to the size of the largest copy
ingest derives (the publication copy, PUBLICATION_PX on the longest side).

Peak memory is measured per batch in a fresh subprocess (10 photos, then
100), so the two figures are independent; photos are generated one at a time
and handed over as files, like uploads spooled by the web server.

Prints one ``name: value`` line per figure, the headline last:
ingest_ms_per_photo and baseline_ms_per_photo (medians over the timed
photos), peak_rss_mb_10, peak_rss_mb_100 and ratio_vs_baseline (the median
of each photo's ingest time over its own baseline, measured back to back).
Details go to stderr.

    .venv/bin/python bench/evidence.py [--timed 16]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import resource
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SIZE = (4000, 3000)  # 12 megapixels
# Distinct pictures: every timed photo has its own pixels (so its own derived
# copies to write); the memory batches cycle through them. Every photo also
# gets its own EXIF block, so its own bytes and hash.
VISIT_DAY = date(2026, 3, 10)
FACILITY = (42.87, 74.59)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- photos -----------------------------------------------------------------------

def make_base(seed: int) -> bytes:
    """A camera-like 12 MP JPEG body: gradients, sensor noise and shapes,
    3–5 MB at quality 90 like a phone's photo (no EXIF yet)."""
    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    gradient = Image.linear_gradient("L").resize(SIZE)
    noise = Image.effect_noise(SIZE, 24 + (seed % 3) * 8)
    image = Image.merge("RGB", (gradient, noise, gradient.transpose(Image.Transpose.ROTATE_180)))
    draw = ImageDraw.Draw(image)
    for _ in range(250):
        x, y = rng.randrange(SIZE[0]), rng.randrange(SIZE[1])
        draw.rectangle((x, y, x + rng.randrange(500), y + rng.randrange(400)),
                       fill=(rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def exif_block(index: int) -> bytes:
    from PIL import Image
    from PIL.TiffImagePlugin import IFDRational

    exif = Image.Exif()
    exif[0x010F] = "BenchCam"
    exif[0x0110] = "BenchCam T10"
    exif[0x0112] = 1
    sub = exif.get_ifd(0x8769)
    sub[0x9003] = f"2026:03:10 {9 + index % 8:02d}:{index % 60:02d}:{(index * 7) % 60:02d}"
    sub[0xA420] = f"{index:032x}"  # ImageUniqueID: every photo is distinct content
    lat, lon = FACILITY
    gps = exif.get_ifd(0x8825)

    def dms(value: float):
        d = int(value)
        m = int((value - d) * 60)
        s = round(((value - d) * 60 - m) * 60 * 1000)
        return IFDRational(d, 1), IFDRational(m, 1), IFDRational(s, 1000)

    gps.update({1: "N", 2: dms(lat + (index % 10) * 1e-5), 3: "E", 4: dms(lon)})
    return exif.tobytes()  # "Exif\0\0" + TIFF structure: an APP1 payload


def photo(base: bytes, index: int) -> bytes:
    payload = exif_block(index)
    assert payload.startswith(b"Exif\x00\x00")
    return base[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + base[2:]


# -- an app to ingest into ------------------------------------------------------------------

def config_for(workdir: Path) -> dict:
    from npmtool.crypto import new_data_key, new_signing_key

    keys = workdir / "keys.json"
    if not keys.exists():
        keys.write_text(json.dumps({"data": new_data_key(), "signing": new_signing_key()}))
    secrets = json.loads(keys.read_text())
    return {"SECRET_KEY": "bench", "DATA_ENCRYPTION_KEYS": [secrets["data"]],
            "EVIDENCE_SIGNING_KEY": secrets["signing"], "DATABASE_URL": f"sqlite:///{workdir / 'db.sqlite'}",
            "TESTING": True}


def prepare(workdir: Path) -> None:
    """A migrated database with reference data, a facility, a monitor and a visit."""
    from sqlalchemy import select

    from npmtool import create_app
    from npmtool.database import upgrade_database
    from npmtool.extensions import db
    from npmtool.models import Facility, FacilityType, Region, Visit, VisitMember, VisitType
    from npmtool.services.reference import sync_reference_data
    from npmtool.services.users import create_user

    app = create_app(config_for(workdir), instance_path=str(workdir / "instance"))
    upgrade_database(app)
    with app.app_context():
        session = db.session
        sync_reference_data(session, app.extensions["npmtool"].catalogue, with_registry=False)
        region = session.scalars(select(Region).where(Region.country_code == "KG").order_by(Region.code)).first()
        ftype = session.scalars(select(FacilityType).where(FacilityType.country_code == "KG")).first()
        facility = Facility(country_code="KG", region_id=region.id, facility_type_id=ftype.id,
                            authority_id=ftype.authority_id, name="Bench facility", names={"ru": "Bench", "en": "Bench"},
                            lat=FACILITY[0], lon=FACILITY[1], populations=["men"])
        session.add(facility)
        monitor = create_user(session, None, username="bench.monitor", full_name="Bench Monitor", role="monitor",
                              password="bench bench bench", country_code="KG")
        visit_type = session.scalars(select(VisitType.code).where(VisitType.country_code == "KG")).first()
        visit = Visit(facility=facility, country_code="KG", visit_type=visit_type, starts_on=VISIT_DAY,
                      ends_on=VISIT_DAY, status="in_progress")
        visit.team_members.append(VisitMember(user_id=monitor.id, role="lead"))
        session.add(visit)
        session.commit()
        db.session.remove()
        db.engine.dispose()


class Ingester:
    """An app on a private copy of the prepared database and an empty store."""

    def __init__(self, workdir: Path, name: str) -> None:
        from npmtool import create_app

        self.dir = workdir / name
        self.dir.mkdir()
        shutil.copyfile(workdir / "db.sqlite", self.dir / "db.sqlite")
        shutil.copyfile(workdir / "keys.json", self.dir / "keys.json")
        self.app = create_app(config_for(self.dir), instance_path=str(self.dir / "instance"))
        self.context = self.app.app_context()
        self.context.push()
        self.px = self.app.config["PUBLICATION_PX"]

    def ingest(self, path: Path, number: int) -> float:
        """Ingest one photo as the upload view does; returns the milliseconds
        ``ingest()`` took (the view has loaded the user and the visit already)."""
        from sqlalchemy import select

        from npmtool.extensions import db
        from npmtool.models import User, Visit
        from npmtool.services.evidence import ingest

        session = db.session
        user = session.scalar(select(User).where(User.username == "bench.monitor"))
        visit = session.scalars(select(Visit)).first()
        visit.facility  # loaded, as the view's access check does
        with open(path, "rb") as stream:
            start = time.perf_counter()
            evidence = ingest(session, user, visit, f"IMG_{number:04d}.JPG", stream, today=VISIT_DAY)
            took = (time.perf_counter() - start) * 1000
        assert evidence.thumbnail_sha256 and evidence.publication_sha256 and not evidence.warnings, evidence.warnings
        session.expunge_all()  # a request ends here: nothing kept between photos
        return took

    def close(self) -> None:
        from npmtool.extensions import db

        db.session.remove()
        db.engine.dispose()
        self.context.pop()


def baseline(path: Path, px: int) -> None:
    from PIL import Image

    from npmtool.services.evidence import fit

    with Image.open(path) as im:
        im.draft("RGB", fit(im.size, px))
        im.load()


def photo_files(workdir: Path, count: int, offset: int):
    """Photos written one at a time to a spool file, as an upload would be."""
    base_paths = sorted(workdir.glob("base-*.jpg"))
    spool = workdir / f"spool-{os.getpid()}.jpg"
    for number in range(offset, offset + count):
        spool.write_bytes(photo(base_paths[number % len(base_paths)].read_bytes(), number))
        yield number, spool
    spool.unlink(missing_ok=True)


# -- children ---------------------------------------------------------------------------

def child_timing(workdir: Path, count: int) -> None:
    ingester = Ingester(workdir, "timing")
    ingest_ms, baseline_ms = [], []
    for number, path in photo_files(workdir, count + 2, 0):
        os.sync()  # nothing pending from the previous photo's writes
        start = time.perf_counter()
        baseline(path, ingester.px)
        base = (time.perf_counter() - start) * 1000
        took = ingester.ingest(path, number)
        if number >= 2:  # the first two warm caches and imports
            baseline_ms.append(base)
            ingest_ms.append(took)
    ingester.close()
    print(json.dumps({"ingest_ms": ingest_ms, "baseline_ms": baseline_ms}))


def child_rss(workdir: Path, count: int) -> None:
    ingester = Ingester(workdir, f"rss-{count}")
    for number, path in photo_files(workdir, count, 10_000 * count):
        ingester.ingest(path, number)
    ingester.close()
    stored = sum(1 for _ in (ingester.dir / "instance" / "evidence" / "originals").rglob("*") if _.is_file())
    assert stored == count, (stored, count)
    print(json.dumps({"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "photos": stored}))


def run_child(workdir: Path, *args: str) -> dict:
    result = subprocess.run([sys.executable, __file__, "--child", *args, "--workdir", str(workdir)],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.stderr.write(result.stderr)
        raise SystemExit(f"benchmark child {args} failed")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timed", type=int, default=16, help="photos timed (after two warm-up photos)")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "COUNT"), help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, count = args.child[0], int(args.child[1])
        (child_timing if kind == "timing" else child_rss)(Path(args.workdir), count)
        return

    workdir = Path(tempfile.mkdtemp(prefix="npmtool-bench-evidence-"))
    try:
        started = time.perf_counter()
        bases = args.timed + 2
        for i in range(bases):
            (workdir / f"base-{i:03d}.jpg").write_bytes(make_base(i))
        prepare(workdir)
        sizes = [p.stat().st_size for p in workdir.glob("base-*.jpg")]
        log(f"setup: {bases} distinct {SIZE[0]}×{SIZE[1]} pictures, {min(sizes) / 1e6:.1f}–{max(sizes) / 1e6:.1f} MB "
            f"each, in {time.perf_counter() - started:.1f} s; workdir {workdir}")
        timing = run_child(workdir, "timing", str(args.timed))
        rss10 = run_child(workdir, "rss", "10")
        rss100 = run_child(workdir, "rss", "100")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    ingest_ms = statistics.median(timing["ingest_ms"])
    baseline_ms = statistics.median(timing["baseline_ms"])
    # Each photo's baseline and ingest run back to back: the median of the
    # paired ratios is the figure least moved by other load on the machine.
    ratio = statistics.median(i / b for i, b in zip(timing["ingest_ms"], timing["baseline_ms"]))
    log(f"timed photos: {len(timing['ingest_ms'])}; ingest ms min/median/max "
        f"{min(timing['ingest_ms']):.1f}/{ingest_ms:.1f}/{max(timing['ingest_ms']):.1f}; baseline "
        f"{min(timing['baseline_ms']):.1f}/{baseline_ms:.1f}/{max(timing['baseline_ms']):.1f}")
    print(f"ingest_ms_per_photo: {ingest_ms:.1f}")
    print(f"baseline_ms_per_photo: {baseline_ms:.1f}")
    print(f"peak_rss_mb_10: {rss10['peak_rss_mb']:.1f}")
    print(f"peak_rss_mb_100: {rss100['peak_rss_mb']:.1f}")
    log(f"ratio of the medians: {ingest_ms / baseline_ms:.2f}; median of the per-photo ratios: {ratio:.2f}")
    print(f"ratio_vs_baseline: {ratio:.2f}")


if __name__ == "__main__":
    main()
