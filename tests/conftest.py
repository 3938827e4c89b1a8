"""Fixtures: a migrated template database built once per run and cloned for
every test (a file copy on SQLite, CREATE DATABASE … TEMPLATE on PostgreSQL),
an app per test, and factories for users and facilities.

Set NPMTOOL_TEST_DATABASE_URL=postgresql+psycopg://… to run on PostgreSQL."""

from __future__ import annotations

import io
import itertools
import os
import re
import shutil
import uuid
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import create_engine, select, text

from npmtool import create_app
from npmtool.crypto import new_data_key, new_signing_key
from npmtool.database import upgrade_database
from npmtool.extensions import db
from npmtool.models import Facility, FacilityType, FollowUp, Region, User
from npmtool.models.users import ROLES
from npmtool.services.facilities import search_text_for
from npmtool.services.reference import sync_reference_data
from npmtool.services.users import create_user

PG_URL = os.environ.get("NPMTOOL_TEST_DATABASE_URL")
PASSWORD = "correct horse battery"
_counter = itertools.count(1)


DATA_KEY = new_data_key()
SIGNING_KEY = new_signing_key()


def base_config(database_url: str) -> dict:
    return {
        "DATA_ENCRYPTION_KEYS": [DATA_KEY],
        "EVIDENCE_SIGNING_KEY": SIGNING_KEY,
        "TESTING": True,
        "SECRET_KEY": "test-" + uuid.uuid4().hex,
        "DATABASE_URL": database_url,
        "WTF_CSRF_ENABLED": False,
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_SECURE": False,
        "SERVER_NAME": "npmtool.test",
        # Tests read English unless they switch language; production defaults to Russian.
        "BABEL_DEFAULT_LOCALE": "en",
    }


class DatabaseCloner:
    """Builds the template database once and hands out fresh copies."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.run_id = uuid.uuid4().hex[:8]
        if PG_URL:
            # CREATE/DROP DATABASE run outside transactions, on the given database.
            self.admin_engine = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
            self.template_url = self._pg_url(f"npmtool_tpl_{self.run_id}")
        else:
            self.template_url = f"sqlite:///{workdir / 'template.sqlite'}"

    def _pg_url(self, name: str) -> str:
        return re.sub(r"/[^/?]+(\?.*)?$", f"/{name}", PG_URL)

    def _pg(self, sql: str) -> None:
        with self.admin_engine.connect() as conn:
            conn.execute(text(sql))

    def build_template(self) -> None:
        if PG_URL:
            self._pg(f'DROP DATABASE IF EXISTS "npmtool_tpl_{self.run_id}"')
            self._pg(f'CREATE DATABASE "npmtool_tpl_{self.run_id}"')
        app = create_app(base_config(self.template_url), instance_path=str(self.workdir / "instance"))
        upgrade_database(app)
        with app.app_context():
            sync_reference_data(db.session, app.extensions["npmtool"].catalogue)
            db.session.remove()
            db.engine.dispose()

    def clone(self) -> tuple[str, callable]:
        n = next(_counter)
        if PG_URL:
            name = f"npmtool_t_{self.run_id}_{n}"
            self._pg(f'CREATE DATABASE "{name}" TEMPLATE "npmtool_tpl_{self.run_id}"')
            return self._pg_url(name), lambda: self._pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        path = self.workdir / f"test_{n}.sqlite"
        shutil.copyfile(self.workdir / "template.sqlite", path)
        return f"sqlite:///{path}", lambda: path.unlink(missing_ok=True)

    def drop_template(self) -> None:
        if PG_URL:
            self._pg(f'DROP DATABASE IF EXISTS "npmtool_tpl_{self.run_id}" WITH (FORCE)')
            self.admin_engine.dispose()


@pytest.fixture(scope="session", autouse=True)
def fast_password_hashing():
    """Argon2 is slow on purpose; tests create hundreds of accounts, so they
    use the same algorithm with the cheapest parameters."""
    from argon2 import PasswordHasher

    from npmtool.services import users

    original = users._hasher
    users._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    users._hasher = original


@pytest.fixture(scope="session")
def cloner(tmp_path_factory):
    cloner = DatabaseCloner(tmp_path_factory.mktemp("db"))
    cloner.build_template()
    yield cloner
    cloner.drop_template()


@pytest.fixture
def database_url(cloner):
    url, drop = cloner.clone()
    yield url
    drop()


@pytest.fixture
def make_app(database_url, tmp_path):
    """Factory for apps on this test's database, for tests that change config or plugins."""
    apps = []

    def factory(config: dict | None = None, plugins=()) -> object:
        app = create_app({**base_config(database_url), **(config or {})}, plugins=plugins,
                         instance_path=str(tmp_path / "instance"))
        apps.append(app)
        return app

    yield factory
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(make_app):
    app = make_app()
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def session(app):
    return db.session


def region_codes(session, country: str) -> list[str]:
    return list(session.scalars(select(Region.code).where(Region.country_code == country).order_by(Region.code)))


@pytest.fixture
def make_user(session):
    def factory(role: str, country: str | None = None, regions: tuple[str, ...] = (), username: str | None = None):
        region_ids = [session.scalar(select(Region.id).where(Region.code == code)) for code in regions]
        return create_user(session, None, username=username or f"{role}{next(_counter)}",
                           full_name=f"Test {role.title()}", role=role, password=PASSWORD,
                           country_code=country, region_ids=region_ids)
    return factory


@pytest.fixture
def make_facility(session):
    def factory(country: str = "KG", region: str | None = None, name: str | None = None, type_code: str | None = None,
                lat: float | None = None, lon: float | None = None, capacity: int | None = None, code: str | None = None):
        region_row = session.scalar(select(Region).where(Region.code == region)) if region else \
            session.scalars(select(Region).where(Region.country_code == country).order_by(Region.code)).first()
        facility_type = session.scalar(select(FacilityType).where(FacilityType.code == type_code)) if type_code else \
            session.scalars(select(FacilityType).where(FacilityType.country_code == country)
                            .order_by(FacilityType.code)).first()
        facility = Facility(code=code, country_code=country, region_id=region_row.id,
                            facility_type_id=facility_type.id, authority_id=facility_type.authority_id,
                            name=name or f"Test facility {next(_counter)}", names={}, address="", lat=lat, lon=lon,
                            capacity=capacity, populations=["men"], notes="")
        facility.names = {"ru": facility.name, "en": facility.name}
        facility.search_text = search_text_for(facility)
        session.add(facility)
        session.commit()
        return facility
    return factory


class AuthActions:
    def __init__(self, client):
        self.client = client

    def login(self, user: User | str, password: str = PASSWORD):
        username = user if isinstance(user, str) else user.username
        return self.client.post("/login", data={"username": username, "password": password})

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def route_world(app, session, make_user, make_facility):
    """One of everything a URL can name (facility, visit, item, interview,
    follow-up, photo) and a user of every role in Kyrgyzstan; the monitor
    leads the visit, so every visit route is theirs to use."""
    from npmtool.crypto import sealer
    from npmtool.services.evidence import ingest
    from npmtool.services.interviews import InterviewInput, record_interview
    from tests.visit_helpers import make_visit

    facility = make_facility(country="KG", lat=42.87, lon=74.59, capacity=100)
    users = {role: make_user(role, country="KG") for role in ROLES}
    visit = make_visit(session, users["coordinator"], [users["monitor"]], facility)
    interview = record_interview(session, users["monitor"], visit,
                                 InterviewInput(category="detained", reprisal_risk=True, notes="n"), sealer())
    follow_up = session.scalar(select(FollowUp).where(FollowUp.interview_id == interview.id))
    photo = io.BytesIO()
    Image.new("RGB", (64, 48), (90, 90, 90)).save(photo, "JPEG")
    evidence = ingest(session, users["monitor"], visit, "photo.jpg", photo.getvalue())
    from npmtool.services.findings import FindingInput, create_finding
    finding = create_finding(session, users["monitor"], visit, FindingInput(title="Finding"))
    from tests.recommendation_helpers import make_recommendation
    rec = make_recommendation(session, users["coordinator"], facility, with_document=True)
    from tests.complaint_helpers import world_complaint
    complaint, opening = world_complaint(session, users, facility)
    from npmtool.services.reports import generate_report, year_period
    report = generate_report(session, users["admin"], "KG", "annual_report", period=year_period(visit.starts_on.year),
                             language="ru", output="html")
    return {"report_id": report.id, "users": users, "facility_id": facility.id, "user_id": users["monitor"].id, "visit_id": visit.id,
            "item_id": visit.checklists[0].item_ids[0], "interview_id": interview.id, "follow_up_id": follow_up.id,
            "evidence_id": evidence.id, "finding_id": finding.id,
            "recommendation_id": rec.id, "recommendation_document_id": rec.documents[0].id,
            "complaint_id": complaint.id, "attachment_id": complaint.attachments[0].id, "opening_id": opening.id,
            "fmt": "xlsx"}  # /recommendations/export.<fmt>, /council/meeting-pack.<fmt>
