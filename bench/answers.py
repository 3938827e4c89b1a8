"""Benchmark: saving one checklist answer at a visit that already has 300 answers.

What it measures: the server time of ``POST /visits/<id>/answers/<item_id>``
(the request the checklist page's script sends on every change) and the number
of SQL statements it runs, against a baseline request of the same app measured
in the same run. Target: save p95 under 50 ms on SQLite on this machine.

Set-up (timed separately, reported on stderr only):

* a fresh database (SQLite file in a temporary directory; ``--database-url
  postgresql+psycopg://…`` creates a scratch database on that server, like the
  tests do, and drops it afterwards), migrated with Alembic;
* reference data from the installed plugins (KZ, KG, UZ and international)
  plus a bench-only in-memory plugin adding a 300-item checklist (rating,
  number and measurement items) that applies to every facility;
* a national-scale background: about 3,000 visits at the three countries'
  registry facilities over six years with their teams, checklists and about
  200,000 answers (``--scale`` multiplies it), inserted in bulk with Core
  ``insert()`` executemany;
* a coordinator and a monitor of Kyrgyzstan; a visit planned (through the
  service, as the app does it) at the Kyrgyz facility with the most checklist
  items, started, with the monitor as lead; 300 answers pre-filled.

Measurement: a Flask test client signed in as the monitor, CSRF on as in
production (the token is read from the checklist page, as checklist.js does).
Each timed save changes one existing answer with the version the client last
saw (ratings alternate complete/partly, numbers and measurements alternate
too), so every request really writes. Saves and baseline requests are
interleaved; 20 of each are run first as warm-up and not counted.

Output: one ``name: value`` line per figure, the headline ``save_p95_ms``
last. ``--show-sql`` prints the statements of one save and of one baseline
request on stderr.

    .venv/bin/python bench/answers.py [--requests 300] [--scale 1.0]
                                      [--database-url URL] [--show-sql]
"""

from __future__ import annotations

import argparse
import math
import os
import random
import re
import shutil
import sys
import tempfile
import time
import types
import uuid
from datetime import date, timedelta

from sqlalchemy import create_engine, event, func, insert, make_url, select, text

from npmtool import create_app
from npmtool.crypto import new_data_key, new_signing_key
from npmtool.database import upgrade_database
from npmtool.extensions import db
from npmtool.hookspecs import hookimpl
from npmtool.models import (
    Answer,
    ChecklistTemplate,
    Facility,
    User,
    Visit,
    VisitChecklist,
    VisitMember,
    VisitType,
)
from npmtool.models.base import utcnow
from npmtool.services import answers as answer_service
from npmtool.services.reference import sync_reference_data
from npmtool.services.users import create_user
from npmtool.services.visits import TeamEntry, applicable_templates, applies, plan_visit, transition

PASSWORD = "bench password 2026"
BENCH_TEMPLATE = "BENCH-ANSWERS"
TARGET_ANSWERS = 300
WARM_UP = 20
CHUNK = 20_000
NOTES = [
    "No call bell in the cell; the duty officer is out of earshot at night.",
    "Register of complaints kept, but entries are not numbered and two pages are missing.",
    "Medical examination on admission recorded without the time or the doctor's name.",
    "Detainees say the walk lasts 30 minutes instead of the hour required.",
    "Windows covered by metal shutters; little daylight reaches the beds.",
]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- the bench-only plugin ---------------------------------------------------


def bench_plugin(items: int = TARGET_ANSWERS) -> types.ModuleType:
    """An in-memory plugin without a country: one template of ``items`` items
    (8 in 10 rating, 1 number, 1 measurement) in sections of 30, applying to
    every facility."""
    sections = []
    for s in range(math.ceil(items / 30)):
        section_items = []
        for i in range(s * 30, min((s + 1) * 30, items)):
            kind = "number" if i % 10 == 8 else "measurement" if i % 10 == 9 else "rating"
            item = {"code": f"BENCH-{s + 1}.{i + 1}", "answer_type": kind,
                    "question": {"ru": f"Контрольный вопрос {i + 1}?", "en": f"Benchmark question {i + 1}?"},
                    "guidance": {"ru": "Проверьте журнал и опросите задержанных.",
                                 "en": "Check the register and ask the detainees."},
                    "legal_basis": [{"source": "INT-CAT", "article": "2"}]}
            if kind == "number":
                item["unit"] = {"ru": "чел.", "en": "people"}
            if kind == "measurement":
                item["measurement"] = {"kind": "area_per_person", "norm": "min_m2_per_person"}
            section_items.append(item)
        sections.append({"code": f"S{s + 1}", "titles": {"ru": f"Раздел {s + 1}", "en": f"Section {s + 1}"},
                         "items": section_items})
    template = {"code": BENCH_TEMPLATE, "version": "1", "sections": sections,
                "titles": {"ru": "Контрольный перечень (бенчмарк)", "en": "Benchmark checklist"}}

    def npmtool_checklists():
        return [template]

    module = types.ModuleType("npmtool_bench_answers")
    module.npmtool_checklists = hookimpl(npmtool_checklists)
    return module


# -- answers -----------------------------------------------------------------


def fake_value(rng: random.Random, item, flip: int = 0):
    """A plausible raw value for an item (what a monitor would type)."""
    kind = item.answer_type
    if kind == "yesno":
        return rng.random() < 0.7
    if kind == "number":
        return rng.randint(0, 400) + flip
    if kind == "choice":
        return rng.choice(item.options["choices"])["code"]
    if kind == "measurement":
        return {"area_m2": round(rng.uniform(8, 40), 1) + flip, "occupants": rng.randint(1, 12)}
    return None


def answer_row(rng: random.Random, item, norms: dict, visit_id: int, user_id: int, when) -> dict:
    rating = rng.choices(("complete", "partly", "not_yet", "not_applicable"), (50, 25, 20, 5))[0] \
        if item.answer_type == "rating" else None
    value = answer_service.clean_value(item, fake_value(rng, item))
    noted = rating in ("partly", "not_yet") or rng.random() < 0.1
    return {"visit_id": visit_id, "item_id": item.id, "rating": rating, "value": value,
            "missing_note": rng.choice(NOTES) if noted else "",
            "improve_note": rng.choice(NOTES) if noted and rng.random() < 0.5 else "",
            "evaluation": answer_service.evaluate(item, value, norms),
            "answered_at": when, "created_at": when, "updated_at": when, "version": 1,
            "created_by_id": user_id, "updated_by_id": user_id}


def bulk_insert(model, rows: list[dict], returning: bool = False) -> list[int]:
    """Core INSERT executemany (insertmanyvalues batches) in chunks."""
    table = model.__table__
    ids: list[int] = []
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start:start + CHUNK]
        if returning:
            result = db.session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), chunk)
            ids.extend(result.scalars())
        else:
            db.session.execute(insert(table), chunk)
    return ids


# -- set-up ------------------------------------------------------------------


def build_background(scale: float, password_hash: str, rng: random.Random) -> None:
    """Monitors of the three countries and ~3,000 visits with ~200,000 answers
    at the registry facilities, with the plugins' own checklists (the bench
    template is left to the visit under test)."""
    facilities = db.session.scalars(select(Facility).order_by(Facility.id)).all()
    countries = sorted({f.country_code for f in facilities})
    visit_types = {c: db.session.scalars(select(VisitType.code).where(VisitType.country_code == c)).all()
                   for c in countries}
    now = date.today()
    stamp = utcnow()

    users = [{"username": f"bg-{c.lower()}-{n}", "full_name": f"Monitor {c} {n}", "email": "",
              "password_hash": password_hash, "role": "monitor", "country_code": c, "language": None,
              "is_active_account": True, "created_at": stamp, "updated_at": stamp, "version": 1}
             for c in countries for n in range(25)]
    user_ids = bulk_insert(User, users, returning=True)
    monitors = {c: [uid for uid, u in zip(user_ids, users) if u["country_code"] == c] for c in countries}

    # What a visit at each facility gets: (template id, applicable items).
    plans = {}
    for facility in facilities:
        lists = [(t.id, [i for i in t.items if applies(i.applies_to, facility)])
                 for t in applicable_templates(db.session, facility) if t.code != BENCH_TEMPLATE]
        plans[facility.id] = (facility, [(tid, items) for tid, items in lists if items],
                              facility.facility_type.norms or {})

    wanted_answers = int(200_000 * scale)
    visits, members, checklists, answers_plan = [], [], [], []
    planned_answers = 0
    while planned_answers < wanted_answers:
        facility, lists, norms = plans[rng.choice(facilities).id]
        starts_on = now - timedelta(days=rng.randint(30, 6 * 365))
        team = rng.sample(monitors[facility.country_code], rng.randint(2, 4))
        when = utcnow().replace(year=starts_on.year, month=starts_on.month, day=starts_on.day)
        visits.append({"facility_id": facility.id, "country_code": facility.country_code,
                       "visit_type": rng.choice(visit_types[facility.country_code]),
                       "purpose": "Regular preventive visit", "starts_on": starts_on,
                       "ends_on": starts_on + timedelta(days=rng.randint(0, 2)), "announced": rng.random() < 0.2,
                       "status": rng.choices(("closed", "sent", "in_review", "draft"), (70, 15, 5, 10))[0],
                       "created_at": when, "updated_at": when, "version": 1,
                       "created_by_id": team[0], "updated_by_id": team[0]})
        chosen = [(tid, items, [i for i in items if rng.random() < 0.92]) for tid, items in lists]
        answers_plan.append((team, when, norms, chosen))
        planned_answers += sum(len(c[2]) for c in chosen)
    visit_ids = bulk_insert(Visit, visits, returning=True)

    answers = []
    for visit_id, (team, when, norms, chosen) in zip(visit_ids, answers_plan):
        members.extend({"visit_id": visit_id, "user_id": uid, "role": "lead" if n == 0 else "member",
                        "expertise": ""} for n, uid in enumerate(team))
        for tid, items, answered in chosen:
            checklists.append({"visit_id": visit_id, "template_id": tid, "item_ids": [i.id for i in items]})
            answers.extend(answer_row(rng, item, norms, visit_id, rng.choice(team), when) for item in answered)
        if len(answers) >= CHUNK:
            bulk_insert(Answer, answers)
            answers = []
    bulk_insert(Answer, answers)
    bulk_insert(VisitMember, members)
    bulk_insert(VisitChecklist, checklists)
    db.session.commit()
    log(f"background: {len(user_ids)} monitors, {len(visit_ids)} visits, {planned_answers} answers")


def target_facility() -> Facility:
    """The Kyrgyz facility whose visits get the most checklist items (one with
    a living-space norm, so measurements are evaluated)."""
    best = None
    for facility in db.session.scalars(select(Facility).where(Facility.country_code == "KG").order_by(Facility.id)):
        if not (facility.facility_type.norms or {}).get("min_m2_per_person"):
            continue
        count = sum(len([i for i in t.items if applies(i.applies_to, facility)])
                    for t in applicable_templates(db.session, facility))
        if best is None or count > best[0]:
            best = (count, facility)
    if best is None:
        raise SystemExit("no Kyrgyz facility with a min_m2_per_person norm: is the kyrgyzstan plugin installed?")
    return best[1]


def build(app, scale: float, rng: random.Random) -> dict:
    upgrade_database(app)
    with app.app_context():
        sync_reference_data(db.session, app.extensions["npmtool"].catalogue)
        coordinator = create_user(db.session, None, username="bench-coordinator", full_name="Bench Coordinator",
                                  role="coordinator", password=PASSWORD, country_code="KG")
        monitor = create_user(db.session, None, username="bench-monitor", full_name="Bench Monitor",
                              role="monitor", password=PASSWORD, country_code="KG")
        build_background(scale, monitor.password_hash, rng)

        facility = target_facility()
        visit_type = db.session.scalars(select(VisitType.code).where(VisitType.country_code == "KG")
                                        .order_by(VisitType.position)).first()
        visit = plan_visit(db.session, coordinator, facility=facility, visit_type=visit_type,
                           starts_on=date.today(), ends_on=date.today() + timedelta(days=1),
                           team=[TeamEntry(monitor.id, "lead")], purpose="Benchmark visit")
        transition(db.session, coordinator, visit, "start", app.extensions["npmtool"])
        bench_id = db.session.scalar(select(ChecklistTemplate.id).where(ChecklistTemplate.code == BENCH_TEMPLATE))
        visit_items = sum(len(c.item_ids) for c in visit.checklists)
        bench_list = next(c for c in visit.checklists if c.template_id == bench_id)
        items = {i.id: i for i in bench_list.template.items}
        norms = facility.facility_type.norms or {}
        rows = [answer_row(rng, items[item_id], norms, visit.id, monitor.id, utcnow())
                for item_id in bench_list.item_ids[:TARGET_ANSWERS]]
        bulk_insert(Answer, rows)
        db.session.commit()
        total = db.session.scalar(select(func.count()).select_from(Answer))
        log(f"visit under test: {visit.id} at {facility.code} ({facility.facility_type.code}), "
            f"{visit_items} checklist items, {len(rows)} answered")
        state = {
            "visit_id": visit.id, "answers_in_database": total,
            "answers": [{"item_id": r["item_id"], "kind": items[r["item_id"]].answer_type, "version": 1,
                         "rating": r["rating"], "value": r["value"], "missing_note": r["missing_note"],
                         "improve_note": r["improve_note"]} for r in rows],
        }
        db.session.remove()
    return state


# -- measurement -------------------------------------------------------------


class StatementLog:
    """Every statement sent to the database while ``active``."""

    def __init__(self, engine) -> None:
        self.active = False
        self.statements: list[tuple[str, object]] = []
        event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if self.active:
            self.statements.append((statement, parameters))

    def start(self) -> None:
        self.statements = []
        self.active = True

    def stop(self) -> list[tuple[str, object]]:
        self.active = False
        return self.statements


def changed(answer: dict) -> dict:
    """The next content of an answer: a different rating, number or area."""
    body = {"version": answer["version"], "missing_note": answer["missing_note"],
            "improve_note": answer["improve_note"], "rating": answer["rating"], "value": answer["value"]}
    if answer["kind"] == "rating":
        body["rating"] = "partly" if answer["rating"] == "complete" else "complete"
    elif answer["kind"] == "number":
        body["value"] = (answer["value"] or 0) + (1 if (answer["value"] or 0) % 2 == 0 else -1)
    else:
        value = dict(answer["value"])
        value["area_m2"] = round(value["area_m2"] + (0.5 if answer["version"] % 2 else -0.5), 1)
        body["value"] = value
    return body


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(math.ceil(0.95 * len(ordered)) - 1, 0)]


def measure(app, state: dict, requests: int, show_sql: bool) -> dict:
    with app.app_context():
        statements = StatementLog(db.engine)
    # No app context is held from here on: each request pushes its own, so
    # each gets a fresh SQLAlchemy session, as in production.
    client = app.test_client()
    visit_id = state["visit_id"]
    response = client.post("/login", data={"username": "bench-monitor", "password": PASSWORD,
                                           "csrf_token": _token(client.get("/login").data)})
    assert response.status_code == 302, response.status_code
    # The checklist page, as the monitor opens it; its form carries the CSRF
    # token the page's script sends with every save.
    page = client.get(f"/visits/{visit_id}/checklist")
    assert page.status_code == 200, page.status_code
    headers = {"X-CSRFToken": _token(page.data), "Accept": "application/json"}
    answers = state["answers"]

    def save(n: int) -> tuple[float, list]:
        answer = answers[n % len(answers)]
        body = changed(answer)
        statements.start()
        started = time.perf_counter()
        response = client.post(f"/visits/{visit_id}/answers/{answer['item_id']}", json=body, headers=headers)
        elapsed = time.perf_counter() - started
        log_ = statements.stop()
        if response.status_code != 200:
            raise SystemExit(f"save of item {answer['item_id']} failed: {response.status_code} {response.data[:300]!r}")
        payload = response.get_json()
        if payload["version"] != answer["version"] + 1:
            raise SystemExit(f"save of item {answer['item_id']} did not write: {payload}")
        answer.update(version=payload["version"], rating=payload["rating"], value=payload["value"])
        return elapsed * 1000, log_

    # Baseline: the fixed cost of a signed-in request through the same app
    # stack (session cookie, Flask-Login loading the user with one SELECT by
    # primary key, the access check, the locale hook, security headers) and
    # no work of its own: GET /login while signed in only redirects home.
    def baseline() -> tuple[float, list]:
        statements.start()
        started = time.perf_counter()
        response = client.get("/login")
        elapsed = time.perf_counter() - started
        log_ = statements.stop()
        if response.status_code != 302:
            raise SystemExit(f"baseline request failed: {response.status_code}")
        return elapsed * 1000, log_

    for n in range(WARM_UP):
        save(n)
        baseline()
    save_ms, base_ms, queries, base_queries = [], [], [], []
    one_save = one_base = None
    for n in range(WARM_UP, WARM_UP + requests):
        ms, log_ = save(n)
        save_ms.append(ms)
        queries.append(len(log_))
        one_save = one_save or log_
        ms, log_ = baseline()
        base_ms.append(ms)
        base_queries.append(len(log_))
        one_base = one_base or log_
    if show_sql:
        for title, log_ in (("one save", one_save), ("one baseline request", one_base)):
            log(f"--- statements of {title} ({len(log_)}) ---")
            for n, (statement, parameters) in enumerate(log_, 1):
                log(f"{n:2}. {' '.join(statement.split())}\n    {parameters!r}")
    log(f"save: median {sorted(save_ms)[len(save_ms) // 2]:.2f} ms, max {max(save_ms):.2f} ms; "
        f"baseline: median {sorted(base_ms)[len(base_ms) // 2]:.2f} ms, "
        f"{sum(base_queries) / len(base_queries):g} queries; save queries min {min(queries)} max {max(queries)}")
    return {"save_p95": p95(save_ms), "baseline_p95": p95(base_ms), "queries": sum(queries) / len(queries)}


def _token(page: bytes) -> str:
    found = re.search(rb'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    if not found:
        raise SystemExit("no CSRF token in the page")
    return found.group(1).decode()


# -- databases ---------------------------------------------------------------


class ScratchDatabase:
    """A fresh database for the run: a SQLite file in ``workdir``, or a new
    database on the PostgreSQL server of ``url`` (dropped afterwards)."""

    def __init__(self, url: str | None, workdir: str) -> None:
        self.admin = None
        if not url:
            self.url = f"sqlite:///{os.path.join(workdir, 'bench.sqlite')}"
        elif url.startswith("postgresql"):
            self.name = f"npmtool_bench_{uuid.uuid4().hex[:8]}"
            self.admin = create_engine(url, isolation_level="AUTOCOMMIT")
            with self.admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{self.name}"'))
            self.url = make_url(url).set(database=self.name).render_as_string(hide_password=False)
        elif url.startswith("sqlite:///"):
            if os.path.exists(url[len("sqlite:///"):]):
                raise SystemExit(f"{url} exists; the benchmark needs a database of its own")
            self.url = url
        else:
            raise SystemExit("--database-url takes a postgresql+psycopg:// or sqlite:/// URL")

    def drop(self) -> None:
        if self.admin is not None:
            with self.admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
            self.admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300, help="timed saves (and baseline requests)")
    parser.add_argument("--scale", type=float, default=1.0, help="background volume; 1.0 = 200,000 answers")
    parser.add_argument("--database-url", help="postgresql+psycopg://… (a scratch database is created on it)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--show-sql", action="store_true", help="print the statements of one save on stderr")
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="npmtool-bench-answers-")
    database = ScratchDatabase(args.database_url, workdir)
    app = None
    try:
        config = {
            "SECRET_KEY": uuid.uuid4().hex, "DATABASE_URL": database.url,
            "DATA_ENCRYPTION_KEYS": [new_data_key()], "EVIDENCE_SIGNING_KEY": new_signing_key(),
            "EVIDENCE_DIR": os.path.join(workdir, "evidence"),
            # The test client talks plain http; secure cookies would not be sent back.
            "SESSION_COOKIE_SECURE": False, "REMEMBER_COOKIE_SECURE": False,
            "BABEL_DEFAULT_LOCALE": "en", "PROPAGATE_EXCEPTIONS": True,
        }
        app = create_app(config, plugins=[("bench", bench_plugin())], instance_path=os.path.join(workdir, "instance"))
        started = time.perf_counter()
        state = build(app, args.scale, random.Random(args.seed))
        log(f"set-up: {time.perf_counter() - started:.1f} s on {app.config['DATABASE_URL'].split(':')[0]}")
        result = measure(app, state, args.requests, args.show_sql)
    finally:
        if app is not None:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
        database.drop()
        shutil.rmtree(workdir, ignore_errors=True)

    print(f"answers_in_database: {state['answers_in_database']}")
    print(f"baseline_p95_ms: {result['baseline_p95']:.2f}")
    print(f"ratio_vs_baseline: {result['save_p95'] / result['baseline_p95']:.1f}")
    print(f"queries_per_save: {result['queries']:g}")
    print(f"save_p95_ms: {result['save_p95']:.2f}")


if __name__ == "__main__":
    main()
