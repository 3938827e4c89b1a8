"""The benchmark data set (bench/generate.py) at a tiny scale: the shape and
the invariants the page benchmarks rely on, so timings on it mean something."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from npmtool.models import Recommendation, User

SPEC = importlib.util.spec_from_file_location("bench_generate", Path(__file__).parent.parent / "bench" / "generate.py")
generate = importlib.util.module_from_spec(SPEC)
sys.modules["bench_generate"] = generate  # dataclasses look their module up
SPEC.loader.exec_module(generate)

TODAY = date(2026, 11, 23)
SCALE = 0.0008  # 40 visits, about 8,000 answers and 400 recommendations
VISITS = 40


@pytest.fixture(scope="module")
def dataset(cloner):
    """A copy of the test database (SQLite, or PostgreSQL with
    NPMTOOL_TEST_DATABASE_URL) filled at SCALE once for this module: the
    tests only read it."""
    database_url, drop = cloner.clone()
    result = generate.ensure_dataset(database_url, SCALE, 7, today=TODAY)
    engine = create_engine(database_url)
    yield database_url, engine, result
    engine.dispose()
    drop()


def rows(engine, sql: str) -> list:
    with engine.connect() as conn:
        return conn.execute(text(sql)).all()


def scalar(engine, sql: str):
    with engine.connect() as conn:
        return conn.execute(text(sql)).scalar()


def test_volumes_and_proportions(dataset):
    _, engine, result = dataset
    counts = result["counts"]
    assert result["reused"] is False
    assert counts["visit"] == VISITS
    # About 200 answers per visit and 10 recommendations per reported visit.
    assert 150 * VISITS < counts["answer"] < 230 * VISITS
    assert 6 * VISITS * 0.9 < counts["recommendation"] < 14 * VISITS
    assert {c for (c,) in rows(engine, "SELECT DISTINCT country_code FROM recommendation")} == {"KZ", "KG", "UZ"}

    statuses = Counter(dict(rows(engine, "SELECT status, count(*) FROM visit GROUP BY status")))
    assert (statuses["closed"] + statuses["sent"]) / VISITS > 0.8
    # Visits still to come or under way have no findings and planned ones no answers.
    assert scalar(engine, "SELECT count(*) FROM answer a JOIN visit v ON v.id = a.visit_id "
                          "WHERE v.status = 'planned'") == 0
    assert scalar(engine, "SELECT count(*) FROM finding f JOIN visit v ON v.id = f.visit_id "
                          "WHERE v.status NOT IN ('sent', 'closed')") == 0

    ratings = Counter(dict(rows(engine, "SELECT rating, count(*) FROM answer WHERE rating IS NOT NULL GROUP BY rating")))
    rated = sum(ratings.values())
    assert 0.45 < ratings["complete"] / rated < 0.65
    assert 0.25 < (ratings["partly"] + ratings["not_yet"]) / rated < 0.5
    # A rating of partly / not yet always says what is missing.
    assert scalar(engine, "SELECT count(*) FROM answer WHERE rating IN ('partly', 'not_yet') AND missing_note = ''") == 0

    n = counts["recommendation"]
    share = {
        "urgent": scalar(engine, "SELECT count(*) FROM recommendation WHERE priority = 'urgent'") / n,
        "revised": scalar(engine, "SELECT count(*) FROM recommendation WHERE current_deadline <> initial_deadline") / n,
        "responded": scalar(engine, "SELECT count(*) FROM recommendation WHERE response_kind IS NOT NULL") / n,
        "closed": scalar(engine, "SELECT count(*) FROM recommendation WHERE status = 'closed'") / n,
        "overdue": scalar(engine, f"SELECT count(*) FROM recommendation WHERE status = 'open' "
                                  f"AND current_deadline < '{TODAY}'") / n,
    }
    assert 0.005 < share["urgent"] < 0.1, share
    assert 0.08 < share["revised"] < 0.3, share
    assert 0.5 < share["responded"] < 0.85, share
    assert 0.2 < share["closed"] < 0.6, share
    assert share["overdue"] > 0.2, share
    issued = rows(engine, "SELECT min(issued_on), max(issued_on) FROM recommendation")[0]
    assert str(issued[0]) < "2018-01-01" and str(issued[1]) > "2025-01-01"
    assert scalar(engine, "SELECT count(*) FROM recommendation WHERE repeated") > 0


def test_recommendation_invariants(dataset):
    _, engine, _ = dataset
    # Addressed to an authority of its own country, one that runs places there.
    assert scalar(engine, "SELECT count(*) FROM recommendation r JOIN authority a ON a.id = r.authority_id "
                          "WHERE a.country_code <> r.country_code") == 0
    assert scalar(engine, "SELECT count(*) FROM recommendation r WHERE r.authority_id NOT IN "
                          "(SELECT authority_id FROM facility_type t WHERE t.country_code = r.country_code)") == 0
    # Facility-bound ones: linked to the facility, region and type of their first facility.
    assert scalar(engine, "SELECT count(*) FROM recommendation r WHERE NOT r.systemic AND NOT EXISTS "
                          "(SELECT 1 FROM recommendation_facility rf JOIN facility f ON f.id = rf.facility_id "
                          " WHERE rf.recommendation_id = r.id AND f.region_id = r.region_id "
                          " AND f.facility_type_id = r.facility_type_id AND f.authority_id = r.authority_id)") == 0
    assert scalar(engine, "SELECT count(*) FROM recommendation r JOIN recommendation_facility rf "
                          "ON rf.recommendation_id = r.id WHERE r.systemic") == 0
    assert scalar(engine, "SELECT count(*) FROM recommendation WHERE systemic AND region_id IS NOT NULL") == 0
    # Closed ones were closed by a verification with a closing verdict on that day.
    assert scalar(engine, "SELECT count(*) FROM recommendation r WHERE r.status = 'closed' AND NOT EXISTS "
                          "(SELECT 1 FROM verification v WHERE v.recommendation_id = r.id "
                          " AND v.verdict IN ('implemented', 'no_longer_applicable') AND v.verified_on = r.closed_on)") == 0
    assert scalar(engine, "SELECT count(*) FROM recommendation WHERE (status = 'closed') <> (closed_on IS NOT NULL)") == 0
    assert scalar(engine, "SELECT count(*) FROM recommendation r WHERE r.implemented_on IS NOT NULL AND NOT EXISTS "
                          "(SELECT 1 FROM verification v WHERE v.recommendation_id = r.id "
                          " AND v.verdict = 'implemented' AND v.verified_on = r.implemented_on)") == 0
    # Verifications at visits are at later visits of the same facility.
    assert scalar(engine, "SELECT count(*) FROM verification v JOIN recommendation r ON r.id = v.recommendation_id "
                          "JOIN visit w ON w.id = v.visit_id WHERE w.starts_on <= r.issued_on "
                          "OR w.facility_id NOT IN (SELECT facility_id FROM recommendation_facility "
                          "WHERE recommendation_id = r.id)") == 0
    # A revised deadline has its revisions, the last one being the current deadline.
    assert scalar(engine, "SELECT count(*) FROM recommendation r WHERE (r.current_deadline <> r.initial_deadline) <> "
                          "EXISTS (SELECT 1 FROM deadline_revision d WHERE d.recommendation_id = r.id)") == 0
    assert scalar(engine, "SELECT count(*) FROM recommendation r JOIN deadline_revision d ON d.recommendation_id = r.id "
                          "WHERE d.id = (SELECT max(id) FROM deadline_revision WHERE recommendation_id = r.id) "
                          "AND d.deadline <> r.current_deadline") == 0
    spans = [(date.fromisoformat(str(deadline)) - date.fromisoformat(str(issued))).days
             for issued, deadline in rows(engine, "SELECT issued_on, initial_deadline FROM recommendation")]
    assert min(spans) >= 60 and max(spans) <= 180
    # Every change has its history event, and the history starts with "created".
    for kind, table in (("deadline", "deadline_revision"), ("response", "authority_response"),
                        ("verification", "verification")):
        assert scalar(engine, f"SELECT count(*) FROM recommendation_event WHERE kind = '{kind}'") == \
            scalar(engine, f"SELECT count(*) FROM {table}"), kind
    assert scalar(engine, "SELECT count(*) FROM recommendation r WHERE (SELECT e.kind FROM recommendation_event e "
                          "WHERE e.recommendation_id = r.id ORDER BY e.id LIMIT 1) IS DISTINCT FROM 'created'") == 0
    assert scalar(engine, "SELECT count(*) FROM recommendation r WHERE r.response_kind IS NOT NULL AND NOT EXISTS "
                          "(SELECT 1 FROM authority_response a WHERE a.recommendation_id = r.id)") == 0
    # Repeated recommendations come from a finding repeated from the facility's previous visit.
    assert scalar(engine, "SELECT count(*) FROM recommendation r JOIN recommendation_finding rf "
                          "ON rf.recommendation_id = r.id JOIN finding f ON f.id = rf.finding_id "
                          "WHERE r.repeated <> f.repeated") == 0
    assert scalar(engine, "SELECT count(*) FROM finding f JOIN finding p ON p.id = f.previous_finding_id "
                          "WHERE p.facility_id <> f.facility_id OR p.item_code <> f.item_code") == 0


def test_answers_and_findings_follow_the_checklists(dataset):
    _, engine, _ = dataset
    allowed = defaultdict(set)
    for visit_id, item_ids in rows(engine, "SELECT visit_id, item_ids FROM visit_checklist"):
        allowed[visit_id].update(json.loads(item_ids) if isinstance(item_ids, str) else item_ids)
    answers = rows(engine, "SELECT visit_id, item_id FROM answer")
    assert answers and all(item_id in allowed[visit_id] for visit_id, item_id in answers)
    # Findings are drafted from answers rated partly / not yet, at that visit.
    assert scalar(engine, "SELECT count(*) FROM finding f JOIN finding_answer fa ON fa.finding_id = f.id "
                          "JOIN answer a ON a.id = fa.answer_id WHERE a.rating NOT IN ('partly', 'not_yet') "
                          "OR a.visit_id <> f.visit_id OR a.item_id <> f.item_id") == 0


def test_people_and_orm_reading(dataset):
    url, engine, _ = dataset
    with Session(engine) as session:
        users = session.scalars(select(User).where(User.username.like("bench-%"))).all()
        roles = Counter((u.country_code, u.role) for u in users)
        for country in ("KZ", "KG", "UZ"):
            for role in ("admin", "coordinator", "monitor", "council", "cso"):
                assert roles[(country, role)] >= 1, (country, role)
        assert roles[(None, "council")] == 1
        # Rows written in bulk read back through the models like any other.
        rec = session.scalars(select(Recommendation).where(Recommendation.status == "closed")
                              .order_by(Recommendation.id)).first()
        assert isinstance(rec.issued_on, date) and rec.reference.startswith(f"{rec.country_code}-")
        assert rec.events[0].kind == "created" and rec.events[0].changes["priority"][0] is None
        assert rec.verifications[-1].verdict in ("implemented", "no_longer_applicable")
        assert rec.facilities and rec.authority.country_code == rec.country_code


def test_reuse_refusal_and_scaling(dataset, tmp_path):
    url, engine, first = dataset
    again = generate.ensure_dataset(url, SCALE, 7, today=TODAY)
    assert again["reused"] is True and again["counts"] == first["counts"]
    with pytest.raises(SystemExit, match="not empty"):
        generate.ensure_dataset(url, SCALE, 8, today=TODAY)
    half = generate.ensure_dataset(f"sqlite:///{tmp_path / 'half.sqlite'}", SCALE / 2, 7, today=TODAY)["counts"]
    assert half["visit"] * 2 == first["counts"]["visit"]
    for table in ("answer", "recommendation", "recommendation_event"):
        assert 1.5 < first["counts"][table] / half[table] < 2.6, table
