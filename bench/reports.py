"""Time and peak memory to render the annual consolidated report of one
country-year of national-scale data in DOCX and PDF.

    .venv/bin/python bench/reports.py [--database-url URL] [--country KZ] [--year YYYY]
                                      [--language ru] [--photos 1500] [--scale 1.0]

The data set is bench/generate.py's (reused when the database already holds
it; default: ``npmtool_bench_100pct`` on the local PostgreSQL, as
bench/pages.py uses). Without ``--year`` the year whose number of visits in
the country is closest to 1,500 is taken. The generated set has no photos,
so each run attaches one synthetic photo (a distinct 1600 × 1200 JPEG
publication copy, ~200 KB) to one finding of each of ``--photos`` visits of
that year — inside a transaction that is rolled back, so the shared data set
is left as it was; the files live in a temporary evidence store.

Each output is rendered in a fresh child process, so its peak RSS
(getrusage ru_maxrss of the child: interpreter, app, facts, document and
renderer together) is its own. The time covers gathering the facts from the
database, building the document and rendering the file.

Output (stdout): docx_s, docx_peak_rss_mb, pdf_peak_rss_mb and, last, pdf_s;
details (visits, findings, recommendations, photos shown, sizes, pages) on
stderr."""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/npmtool_bench_100pct"
PHOTO_SIZE = (1600, 1200)
DISTINCT_PHOTOS = 300


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def make_photos(store_root: str, count: int) -> list[str]:
    """Distinct publication copies (noise + gradient, so JPEG sizes are realistic)."""
    from PIL import Image, ImageDraw

    from npmtool.services.evidence_store import FileSystemStore

    store = FileSystemStore(store_root)
    rng = random.Random(2026)
    shas = []
    noise = Image.effect_noise(PHOTO_SIZE, 40).convert("RGB")
    for n in range(count):
        base = Image.new("RGB", PHOTO_SIZE, (rng.randrange(60, 200), rng.randrange(60, 200), rng.randrange(60, 200)))
        image = Image.blend(base, noise, 0.35)
        draw = ImageDraw.Draw(image)
        draw.rectangle((rng.randrange(0, 800), rng.randrange(0, 600), 1200, 1000), fill=(0, 0, 0))  # a redaction
        draw.text((40, 40), f"bench photo {n}", fill=(255, 255, 255))
        out = io.BytesIO()
        image.save(out, "JPEG", quality=85)
        data = out.getvalue()
        sha = hashlib.sha256(data).hexdigest()
        store.put(sha, data, "publication")
        shas.append(sha)
    return shas


def pick_year(database_url: str, country: str) -> tuple[int, int]:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT starts_on FROM visit WHERE country_code = :c AND status <> 'planned'"), {"c": country}).all()
    engine.dispose()
    counts: dict[int, int] = {}
    for (day,) in rows:
        year = day.year if hasattr(day, "year") else int(str(day)[:4])
        counts[year] = counts.get(year, 0) + 1
    year = min(counts, key=lambda y: (abs(counts[y] - 1500), -y))
    return year, counts[year]


def attach_photos(session, country: str, year: int, shas: list[str], count: int) -> int:
    """One photo on one finding of each of ``count`` visits of the year (not committed)."""
    from datetime import date

    from sqlalchemy import func, insert, select

    from npmtool.models import Evidence, EvidenceFile, User, Visit
    from npmtool.models.recommendations import Finding, finding_evidence

    user_id = session.scalar(select(User.id).order_by(User.id))
    first = (select(func.min(Finding.id).label("finding_id"), Finding.visit_id)
             .join(Visit, Visit.id == Finding.visit_id)
             .where(Visit.country_code == country, Visit.starts_on >= date(year, 1, 1),
                    Visit.starts_on <= date(year, 12, 31))
             .group_by(Finding.visit_id).order_by(Finding.visit_id).limit(count))
    pairs = session.execute(first).all()
    next_file = (session.scalar(select(func.max(EvidenceFile.id))) or 0) + 1
    next_evidence = (session.scalar(select(func.max(Evidence.id))) or 0) + 1
    files, evidence, links = [], [], []
    for n, (finding_id, visit_id) in enumerate(pairs):
        sha = shas[n % len(shas)]
        files.append({"id": next_file + n, "sha256": hashlib.sha256(f"bench-original-{n}".encode()).hexdigest(),
                      "size": 1, "media_type": "image/jpeg", "width": PHOTO_SIZE[0], "height": PHOTO_SIZE[1]})
        evidence.append({"id": next_evidence + n, "visit_id": visit_id, "file_id": next_file + n,
                         "caption": f"Cell {n % 40 + 1}", "exif": {}, "warnings": [], "redactions": [],
                         "publication_sha256": sha, "thumbnail_sha256": None, "uploaded_by_id": user_id})
        links.append({"finding_id": finding_id, "evidence_id": next_evidence + n})
    if files:
        session.execute(insert(EvidenceFile), files)
        session.execute(insert(Evidence), evidence)
        session.execute(insert(finding_evidence), links)
        session.flush()
    return len(pairs)


def child(args: argparse.Namespace) -> None:
    """Render one output and print a JSON line of figures."""
    from bench.generate import make_app
    from npmtool.extensions import db
    from npmtool.services import reports as service

    app = make_app(args.database_url, args.workdir)
    with app.app_context():
        session = db.session
        photos = attach_photos(session, args.country, args.year, json.loads(Path(args.shas).read_text()),
                               args.photos)
        target = Path(args.workdir) / f"report.{args.child}"
        started = time.perf_counter()
        fmt, doc = service.build(session, args.country, args.format, period=service.year_period(args.year),
                                 language=args.language)
        built = time.perf_counter()
        with open(target, "wb") as stream:
            service.render(fmt, doc, args.child, stream)
        finished = time.perf_counter()
        session.rollback()  # the photos were for this run only
        peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps({"seconds": finished - started, "build_seconds": built - started,
                          "peak_rss_mb": peak_kb / 1024, "size": target.stat().st_size,
                          "photos_attached": photos, "photos_shown": doc.summary()["photos"],
                          "path": str(target)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--country", default="KZ")
    parser.add_argument("--format", default="annual_consolidated")
    parser.add_argument("--year", type=int)
    parser.add_argument("--language", default="ru")
    parser.add_argument("--photos", type=int, default=1500)
    parser.add_argument("--child", choices=("docx", "pdf"), help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    parser.add_argument("--shas", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    import math

    from sqlalchemy import create_engine

    from bench.generate import ensure_dataset, find_marker

    # A data set of this scale and seed is reused even if an older generator
    # version wrote it: this benchmark only reads it.
    engine = create_engine(args.database_url)
    try:
        marker = find_marker(engine)
    except Exception:  # the database does not exist yet: ensure_dataset says so
        marker = None
    engine.dispose()
    if not (marker and math.isclose(marker["scale"], args.scale) and marker["seed"] == args.seed):
        ensure_dataset(args.database_url, args.scale, args.seed)
    year, visits = (args.year, None) if args.year else pick_year(args.database_url, args.country)
    log(f"{args.country} {year}" + (f": {visits} visits" if visits else ""))
    workdir = tempfile.mkdtemp(prefix="npmtool-bench-reports-")
    try:
        started = time.perf_counter()
        shas = make_photos(os.path.join(workdir, "evidence"), DISTINCT_PHOTOS)
        shas_file = Path(workdir) / "shas.json"
        shas_file.write_text(json.dumps(shas))
        log(f"{len(shas)} distinct photos made in {time.perf_counter() - started:.1f} s")
        results = {}
        for output in ("docx", "pdf"):
            run = subprocess.run(
                [sys.executable, __file__, "--child", output, "--workdir", workdir, "--shas", str(shas_file),
                 "--database-url", args.database_url, "--country", args.country, "--format", args.format,
                 "--year", str(year), "--language", args.language, "--photos", str(args.photos)],
                capture_output=True, text=True, cwd=str(Path(__file__).resolve().parent.parent))
            if run.returncode != 0:
                log(run.stderr)
                raise SystemExit(f"rendering {output} failed")
            results[output] = json.loads(run.stdout.strip().splitlines()[-1])
            details = results[output]
            extra = ""
            if output == "pdf":
                info = subprocess.run(["pdfinfo", details["path"]], capture_output=True, text=True).stdout
                extra = ", " + next((line.split(":")[1].strip() + " pages" for line in info.splitlines()
                                     if line.startswith("Pages:")), "")
            log(f"{output}: {details['seconds']:.1f} s (facts and document {details['build_seconds']:.1f} s), "
                f"peak RSS {details['peak_rss_mb']:.0f} MB, {details['size'] / 1e6:.1f} MB{extra}, "
                f"photos attached {details['photos_attached']}, shown {details['photos_shown']}")
        print(f"docx_s: {results['docx']['seconds']:.1f}")
        print(f"docx_peak_rss_mb: {results['docx']['peak_rss_mb']:.0f}")
        print(f"pdf_peak_rss_mb: {results['pdf']['peak_rss_mb']:.0f}")
        print(f"pdf_s: {results['pdf']['seconds']:.1f}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
