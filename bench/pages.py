"""Benchmark: the recommendation pages at 1 % and at 100 % of national scale.

What it measures: for the council dashboard (``/council/``), a filtered
recommendation list (page 2 of Kazakhstan's open, overdue recommendations)
and the page of the recommendation with the longest history, the server
time (wall time of the Flask test-client request) and the number of SQL
statements, on a 1 % and a 100 % data set. DESIGN.md §5 asks that a page
issue a bounded number of queries whatever the data size: the query counts
should be equal and the times close.

Set-up: two databases on the PostgreSQL server of ``--database-url``,
``npmtool_bench_1pct`` and ``npmtool_bench_100pct`` (``--scale`` × 0.01 and
× 1.0), created and filled by ``bench/generate.py`` — or reused when they
already hold that data set (generation at 100 % takes several minutes).

Schema: the model's indexes missing from a reused data set (added to the
models after it was generated, or changed since) are created first
(``sync_indexes``), so the pages are timed on the current schema.

Measurement: the app (CSRF on, as in production) pointed at each database;
the council user ``bench-council`` (all countries) opens the dashboard, the
coordinator ``bench-coordinator-kz`` the list and the recommendation page,
both signed in through the login form. Each page is requested 3 times as
warm-up, then ``--requests`` times (default 20), alternating between the
two data sets so that other load on the machine weighs on both alike; p95 of
those. The dashboard is timed twice: ``dashboard_cold`` as a council member
sees it first after a change to the data (the app's figure cache emptied
before every request, so the figures are computed), and ``dashboard`` on
repeat views (cache on: the generation query, then the cached figures). A page whose
endpoint is missing or that does not answer 200 is reported as such, and the
run goes on.

Output: one ``name: value`` line per figure (``<page>_queries_1pct``,
``<page>_queries_100pct``, ``<page>_p95_ms_1pct``, ``<page>_p95_ms_100pct``
for page in dashboard_cold, dashboard, list, recommendation),
``worst_ratio_cold_100_vs_1`` (p95 100 % / p95 1 % of dashboard_cold) and the
headline ``worst_ratio_100_vs_1`` (largest p95 100 % / p95 1 % over
dashboard, list and recommendation) last.
``--show-sql`` prints the statements of one request per page (with their
times) on stderr; ``--explain`` prints EXPLAIN ANALYZE of the three slowest
statements of each page on the 100 % set.

    .venv/bin/python bench/pages.py [--scale 1.0] [--requests 20] [--seed 2026]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres] [--show-sql] [--explain]
"""

from __future__ import annotations

import argparse
import math
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, event, inspect, make_url, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import generate  # noqa: E402

from npmtool.extensions import db  # noqa: E402
from npmtool.models.base import Base  # noqa: E402
from npmtool.web.council import figure_cache  # noqa: E402

WARM_UP = 3
SETS = (("1pct", 0.01), ("100pct", 1.0))
PAGES = (
    # (name, endpoint, user, url or None for the long-history recommendation)
    ("dashboard_cold", "council.dashboard", "bench-council", "/council/"),
    ("dashboard", "council.dashboard", "bench-council", "/council/"),
    ("list", "recommendation_list.index", "bench-coordinator-kz",
     "/recommendations/?country=KZ&status=open&overdue=1&sort=deadline&page=2"),
    ("recommendation", "recommendations.detail", "bench-coordinator-kz", None),
)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(math.ceil(0.95 * len(ordered)) - 1, 0)]


def database_for(server_url: str, name: str) -> str:
    """Create database ``name`` on the server unless it exists; its URL."""
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first() is None:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def _index_shape(columns, include, where) -> tuple:
    return (tuple(columns), tuple(include or ()), " ".join(str(where).lower().replace("(", "").replace(")", "").split())
            if where is not None else None)


def sync_indexes(url: str) -> list[str]:
    """Create the model's indexes that the database lacks, and re-create
    those whose columns, included columns or predicate differ, then ANALYZE
    the tables touched: a reused data set follows the current schema."""
    engine = create_engine(url)
    done, tables = [], set()
    try:
        inspector = inspect(engine)
        with engine.begin() as conn:
            for table in Base.metadata.sorted_tables:
                if not inspector.has_table(table.name):
                    continue
                existing = {ix["name"]: ix for ix in inspector.get_indexes(table.name)}
                for index in table.indexes:
                    options = index.dialect_options["postgresql"]
                    wanted = _index_shape([c.name for c in index.columns], options["include"], options["where"])
                    found = existing.get(index.name)
                    if found is not None:
                        pg = found.get("dialect_options", {})
                        if _index_shape(found["column_names"], found.get("include_columns")
                                        or pg.get("postgresql_include"), pg.get("postgresql_where")) == wanted:
                            continue
                        conn.execute(text(f'DROP INDEX "{index.name}"'))
                    index.create(conn)
                    done.append(index.name)
                    tables.add(table.name)
            for name in sorted(tables):
                conn.execute(text(f'ANALYZE "{name}"'))
    finally:
        engine.dispose()
    return done


def long_history_recommendation(url: str) -> tuple[int, int]:
    """The Kazakh recommendation with the most history events, and that count."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            row = conn.execute(text(
                "SELECT e.recommendation_id, count(*) AS n FROM recommendation_event e "
                "JOIN recommendation r ON r.id = e.recommendation_id WHERE r.country_code = 'KZ' "
                "GROUP BY e.recommendation_id ORDER BY n DESC, e.recommendation_id LIMIT 1")).first()
    finally:
        engine.dispose()
    return (row[0], row[1]) if row else (0, 0)  # no recommendation: its page answers 404, reported


class StatementLog:
    """Every statement sent to the database while ``active``, with its time."""

    def __init__(self, engine) -> None:
        self.active = False
        self.statements: list[list] = []  # [statement, parameters, ms]
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if self.active:
            self.statements.append([statement, parameters, time.perf_counter()])

    def _after(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if self.active and self.statements:
            self.statements[-1][2] = (time.perf_counter() - self.statements[-1][2]) * 1000

    def start(self) -> None:
        self.statements = []
        self.active = True

    def stop(self) -> list[list]:
        self.active = False
        return self.statements


def explain(url: str, page: str, statements: list[list], slowest: int = 3) -> None:
    """EXPLAIN ANALYZE of a request's slowest statements, on stderr."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            for statement, parameters, ms in sorted(statements, key=lambda s: -s[2])[:slowest]:
                plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters).scalars().all()
                log(f"--- {page}: {ms:.1f} ms ---\n{' '.join(statement.split())}\n    {parameters!r}\n"
                    + "\n".join(plan))
            conn.rollback()
    finally:
        engine.dispose()


def _token(page: bytes) -> str:
    found = re.search(rb'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    if not found:
        raise SystemExit("no CSRF token in the login page")
    return found.group(1).decode()


def signed_in(app, username: str):
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": generate.PASSWORD,
                                           "csrf_token": _token(client.get("/login").data)})
    if response.status_code != 302:
        raise SystemExit(f"{username} could not sign in: {response.status_code}")
    return client


class Target:
    """One data set under test: its app, statement log and signed-in clients."""

    def __init__(self, label: str, url: str) -> None:
        self.label, self.url = label, url
        self.workdir = tempfile.mkdtemp(prefix=f"npmtool-bench-pages-{label}-")
        # The dashboard's figure cache is on, as in production; the cold
        # measurement empties it before each request.
        self.app = generate.make_app(url, self.workdir, csrf=True, DASHBOARD_CACHE_SECONDS=600)
        with self.app.app_context():
            self.statements = StatementLog(db.engine)
        self.endpoints = {rule.endpoint for rule in self.app.url_map.iter_rules()}
        self.rec_id, self.events = long_history_recommendation(url)
        self.clients: dict[str, object] = {}

    def path(self, path: str | None) -> str:
        return path or f"/recommendations/{self.rec_id}"

    def get(self, user: str, path: str, cold: bool = False) -> tuple[int, float, list]:
        if user not in self.clients:
            self.clients[user] = signed_in(self.app, user)
        if cold:  # as after a change to the data: the figures are computed
            figure_cache(self.app).clear()
        self.statements.start()
        started = time.perf_counter()
        response = self.clients[user].get(path)
        elapsed = (time.perf_counter() - started) * 1000
        return response.status_code, elapsed, self.statements.stop()

    def close(self) -> None:
        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()
        shutil.rmtree(self.workdir, ignore_errors=True)


def measure(targets: list[Target], requests: int, show_sql: bool, explain_slowest: bool = False) -> dict:
    """{label: {page: {"p95": ms, "queries": n, …} or {"error": why}}}.

    The data sets' requests alternate, so a change of load on the machine
    during the run weighs on both alike."""
    results: dict[str, dict] = {t.label: {} for t in targets}
    for name, endpoint, user, path in PAGES:
        live = []
        for t in targets:
            if endpoint not in t.endpoints:
                results[t.label][name] = {"error": f"endpoint {endpoint} is not registered"}
            else:
                live.append(t)
        samples = {t.label: [] for t in live}
        counts = {t.label: [] for t in live}
        one = {t.label: [] for t in live}
        for n in range(WARM_UP + requests):
            for t in list(live):
                status, ms, statements = t.get(user, t.path(path), cold=name.endswith("_cold"))
                if status != 200:
                    results[t.label][name] = {"error": f"GET {t.path(path)} as {user} answered {status}"}
                    live.remove(t)
                    continue
                if n >= WARM_UP:
                    samples[t.label].append(ms)
                    counts[t.label].append(len(statements))
                    one[t.label] = one[t.label] or statements
        for t in live:
            ms, qs = samples[t.label], counts[t.label]
            r = results[t.label][name] = {"p95": p95(ms), "queries": max(qs), "median": sorted(ms)[len(ms) // 2]}
            log(f"  {t.label} {name}: GET {t.path(path)} as {user}: median {r['median']:.1f} ms, "
                f"p95 {r['p95']:.1f} ms, {min(qs)}–{max(qs)} queries"
                + (f" (recommendation {t.rec_id}, {t.events} history events)" if name == "recommendation" else ""))
            if show_sql:
                log(f"--- statements of {name} on {t.label} ({len(one[t.label])}) ---")
                for k, (statement, parameters, ms_) in enumerate(one[t.label], 1):
                    log(f"{k:2}. [{ms_:.1f} ms] {' '.join(statement.split())}\n    {parameters!r}")
            if explain_slowest and t.label == "100pct":
                explain(t.url, name, one[t.label])
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="the large set; the small one is 1 %% of it")
    parser.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
                        help="a PostgreSQL server (any database on it); the bench databases are created there")
    parser.add_argument("--requests", type=int, default=20, help="timed requests per page (after 3 warm-up)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--show-sql", action="store_true", help="print the statements of one request per page")
    parser.add_argument("--explain", action="store_true",
                        help="EXPLAIN ANALYZE the 3 slowest statements of each page on the 100%% set (stderr)")
    args = parser.parse_args()
    if not args.database_url.startswith("postgresql"):
        raise SystemExit("--database-url takes a postgresql+psycopg:// URL")

    generation, targets = {}, []
    try:
        for label, factor in SETS:
            url = database_for(args.database_url, f"npmtool_bench_{label}")
            # These databases belong to the benchmark: a different data set in
            # one of them is replaced.
            generation[label] = generate.ensure_dataset(url, args.scale * factor, args.seed, force=True)
            created = sync_indexes(url)
            if created:
                log(f"{label}: created the indexes {', '.join(created)}")
        for label, _ in SETS:
            marker = generation[label]
            log(f"{label}: {marker['counts'].get('recommendation', 0):,} recommendations, "
                f"{marker['counts'].get('answer', 0):,} answers")
            targets.append(Target(label, make_url(args.database_url).set(
                database=f"npmtool_bench_{label}").render_as_string(hide_password=False)))
        results = measure(targets, max(args.requests, 1), args.show_sql, args.explain)
    finally:
        for t in targets:
            t.close()

    for label, marker in generation.items():
        print(f"generate_seconds_{label}: {marker['seconds']:.1f}" + (" (reused)" if marker["reused"] else ""))
    print(f"recommendations_100pct: {generation['100pct']['counts'].get('recommendation', 0)}")
    print(f"answers_100pct: {generation['100pct']['counts'].get('answer', 0)}")
    ratios, cold_ratios = [], []
    for name, _, _, _ in PAGES:
        small, large = results["1pct"][name], results["100pct"][name]
        for label, r in (("1pct", small), ("100pct", large)):
            if "error" in r:
                print(f"{name}_error_{label}: {r['error']}")
        for label, r in (("1pct", small), ("100pct", large)):
            print(f"{name}_queries_{label}: {r['queries'] if 'queries' in r else 'n/a'}")
        for label, r in (("1pct", small), ("100pct", large)):
            print(f"{name}_p95_ms_{label}: {r['p95']:.2f}" if "p95" in r else f"{name}_p95_ms_{label}: n/a")
        if "p95" in small and "p95" in large:
            (cold_ratios if name.endswith("_cold") else ratios).append(large["p95"] / small["p95"])
    print(f"worst_ratio_cold_100_vs_1: {max(cold_ratios):.2f}" if cold_ratios
          else "worst_ratio_cold_100_vs_1: n/a (no page measured)")
    print(f"worst_ratio_100_vs_1: {max(ratios):.2f}" if ratios else "worst_ratio_100_vs_1: n/a (no page measured)")


if __name__ == "__main__":
    main()
