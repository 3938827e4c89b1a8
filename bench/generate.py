"""National-scale data set for the benchmarks: the three NPMs over ten years.

At ``--scale 1.0`` (DESIGN.md §5): about 2,000 places of detention in
Kazakhstan, Kyrgyzstan and Uzbekistan (the plugins' registry plus generated
ones named after their type and region), 50,000 visits from 2016 to the
current year, about 10 million checklist answers, findings for a share of the
answers rated partly / not yet, and about 500,000 recommendations with their
histories: authority responses, revised deadlines, verifications at later
visits that close some of them, repeated findings, escalations, comments,
council decisions and reopenings — each change with its RecommendationEvent.
A few users of every role per country, and ``bench-council`` (all countries).
Every account's password is ``PASSWORD``.

The schema comes from the app's Alembic migrations and the reference data
from the plugins (``sync_reference_data``), plus a bench-only plugin adding a
national checklist supplement so that a visit has about 200 answers, as the
NPMs' own full checklists do. Rows are written in bulk: COPY on PostgreSQL
(psycopg), executemany on SQLite. Ids are assigned here, so the output is the
same for the same seed, scale and reference date (``--today``, default
today).

A table ``bench_dataset`` records what was generated: asked again for the same
scale and seed, the script says so and exits 0. It refuses to write into any
other non-empty database unless ``--force`` (which wipes it first).

    .venv/bin/python bench/generate.py --database-url URL --scale 1.0 [--seed 2026] [--force]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import sys
import tempfile
import time
import types
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import (
    JSON, Column, DateTime, Float, Integer, MetaData, String, Table, create_engine, inspect, insert,
    make_url, select, text,
)
from sqlalchemy.pool import NullPool

# Run as a script from the repository root or from bench/.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from npmtool import create_app  # noqa: E402
from npmtool.crypto import new_data_key, new_signing_key  # noqa: E402
from npmtool.database import upgrade_database  # noqa: E402
from npmtool.extensions import db  # noqa: E402
from npmtool.hookspecs import hookimpl  # noqa: E402
from npmtool.models import ChecklistItem, ChecklistTemplate, Facility, FacilityType, Region, VisitType  # noqa: E402
from npmtool.models.recommendations import TOPICS, URGENT_FLAGS  # noqa: E402
from npmtool.services import answers as answer_service  # noqa: E402
from npmtool.services.reference import sync_reference_data  # noqa: E402
from npmtool.services.users import hash_password  # noqa: E402
from npmtool.services.visits import applies  # noqa: E402

PASSWORD = "bench password 2026"
COUNTRIES = ("KZ", "KG", "UZ")
# Volumes at scale 1.0.
FACILITIES = 2_000
VISITS = 50_000
COUNTRY_SHARE = {"KZ": 0.45, "KG": 0.2, "UZ": 0.35}
FIRST_DAY = date(2016, 1, 1)
SUPPLEMENT = "BENCH-NATIONAL"
BATCH_VISITS = 400  # visits whose rows are written together
FINDINGS_PER_VISIT = (6, 15)  # answer-based findings drawn per reported visit
# Bumped whenever the generated data change, so a stale data set is not reused.
GENERATOR = "2"

marker_meta = MetaData()
bench_dataset = Table(
    "bench_dataset", marker_meta,
    Column("id", Integer, primary_key=True),
    Column("scale", Float, nullable=False),
    Column("seed", Integer, nullable=False),
    Column("generator", String(20), nullable=False),
    Column("today", String(10), nullable=False),
    Column("seconds", Float, nullable=False),
    Column("counts", JSON, nullable=False),
    Column("finished_at", DateTime, nullable=False),
)

MISSING = [
    "Нет кнопки вызова в камере; дежурный ночью её не слышит.",
    "Журнал жалоб ведётся, но записи не пронумерованы, двух страниц нет.",
    "Медицинский осмотр при поступлении записан без времени и имени врача.",
    "Задержанные говорят, что прогулка длится 30 минут вместо положенного часа.",
    "Окна закрыты металлическими жалюзи; дневной свет почти не попадает к кроватям.",
    "Питьевая вода доступна только по запросу у сотрудника.",
    "Нет отдельного помещения для конфиденциальных встреч с адвокатом.",
    "Душ раз в неделю; горячей воды в день визита не было.",
    "Информация о правах на стене только на русском языке.",
    "Видеонаблюдение не охватывает коридор у дежурной части.",
]
IMPROVE = [
    "Установить кнопки вызова во всех камерах.",
    "Пронумеровать журнал и вести его по утверждённой форме.",
    "Записывать время осмотра, фамилию врача и все телесные повреждения.",
    "Обеспечить ежедневную прогулку не менее одного часа.",
    "Снять жалюзи и обеспечить естественное освещение.",
]
REC_TEXT = {
    "treatment": "Обеспечить, чтобы сотрудники обращались с людьми, содержащимися под стражей, гуманно и с уважением достоинства.",
    "conditions": "Привести камеры в соответствие с санитарными нормами: освещение, вентиляция, отопление.",
    "overcrowding": "Сократить наполняемость до лимита и соблюдать норму жилой площади на человека.",
    "health_care": "Обеспечить медицинский осмотр каждого поступающего в течение 24 часов с записью повреждений.",
    "food_water": "Обеспечить постоянный доступ к питьевой воде и трёхразовое питание по нормам.",
    "hygiene": "Обеспечить ежедневный доступ к душу и выдачу средств гигиены.",
    "contact_outside": "Обеспечить свидания и телефонные звонки родственникам в установленные сроки.",
    "legal_safeguards": "Уведомлять родственников о задержании и обеспечить доступ к адвокату с первых часов.",
    "complaints": "Обеспечить конфиденциальную подачу жалоб и их регистрацию в журнале.",
    "discipline_isolation": "Ограничить одиночное содержание и фиксировать основания каждого решения.",
    "use_of_force": "Регистрировать каждый случай применения силы и спецсредств с медицинским осмотром после.",
    "vulnerable_groups": "Обеспечить раздельное содержание несовершеннолетних и доступ к услугам для людей с инвалидностью.",
    "activities": "Организовать ежедневную прогулку не менее часа и доступ к занятиям.",
    "staff": "Провести обучение персонала по предупреждению пыток и жестокого обращения.",
    "registers": "Вести журналы по утверждённой форме с нумерацией страниц.",
    "other": "Устранить выявленное нарушение и сообщить о принятых мерах.",
}
RESPONSE_TEXT = {
    "accepted": "Рекомендация принята. Работы включены в план на текущий год.",
    "partially_accepted": "Рекомендация принята частично: финансирование будет запрошено в следующем году.",
    "rejected": "Рекомендация не принята: условия содержания соответствуют ведомственным нормам.",
}
DEADLINE_REASONS = ["Ремонт перенесён из-за финансирования.", "Ведомство проводит закупку по тендеру.",
                    "Срок продлён по письму ведомства.", "Подрядчик не завершил работы."]
COMMENTS = ["Уточнить у ведомства сроки.", "Обсудить на заседании совета.", "Проверить при следующем визите.",
            "Ведомство прислало фотографии, нужна проверка на месте."]
VERIFY_NOTES = {
    "implemented": "На месте подтверждено: выполнено.",
    "partially_implemented": "Выполнено частично: работы начаты.",
    "not_implemented": "При повторном визите изменений не обнаружено.",
    "no_longer_applicable": "Учреждение перепрофилировано; рекомендация утратила актуальность.",
}
STREETS = ["Абая", "Ленина", "Navoi", "Манаса", "Амира Темура"]
POPULATIONS = {
    "prison": ["men"], "pretrial": ["men", "women", "juveniles"], "police_custody": ["men", "women"],
    "military": ["men"], "psychiatric": ["men", "women"], "drug_treatment": ["men", "women"],
    "children": ["children"], "social_care": ["men", "women"], "other": ["men", "women"],
}
# How many places of each category a country has, relative to each other.
CATEGORY_WEIGHT = {"police_custody": 30, "children": 14, "social_care": 10, "prison": 10, "pretrial": 4,
                   "military": 6, "psychiatric": 5, "drug_treatment": 3, "other": 8}
CATEGORY_VISITS = {"prison": 1.6, "pretrial": 1.6, "police_custody": 1.0, "psychiatric": 1.2}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- the bench plugin --------------------------------------------------------


def supplement_plugin() -> types.ModuleType:
    """A national checklist supplement (160 items, every facility): the
    plugins' checklists are short extracts, a real national one has about 200
    questions per visit."""
    sections = []
    n = 0
    for s, topic in enumerate(TOPICS):
        items = []
        for _ in range(10):
            n += 1
            kind = "number" if n % 14 == 0 else "yesno" if n % 14 == 7 else "rating"
            item = {"code": f"NAT-{s + 1}.{n}", "answer_type": kind,
                    "question": {"ru": f"Национальный вопрос {n} ({topic})?", "en": f"National question {n} ({topic})?"},
                    "legal_basis": [{"source": "INT-CAT", "article": str(2 + n % 14)}]}
            if kind == "number":
                item["unit"] = {"ru": "чел.", "en": "people"}
            items.append(item)
        sections.append({"code": f"N{s + 1}", "titles": {"ru": f"Раздел {s + 1}", "en": f"Section {s + 1}: {topic}"},
                         "items": items})
    template = {"code": SUPPLEMENT, "version": "1", "sections": sections,
                "titles": {"ru": "Национальный перечень (бенчмарк)", "en": "National checklist (benchmark)"}}

    def npmtool_checklists():
        return [template]

    module = types.ModuleType("npmtool_bench_national")
    module.npmtool_checklists = hookimpl(npmtool_checklists)
    return module


def make_app(database_url: str, workdir: str, csrf: bool = False, **overrides):
    """The app on ``database_url`` with the bench plugin; CSRF as in
    production when asked; ``overrides`` are further config keys."""
    config = {
        "SECRET_KEY": uuid.uuid4().hex, "DATABASE_URL": database_url,
        "DATA_ENCRYPTION_KEYS": [new_data_key()], "EVIDENCE_SIGNING_KEY": new_signing_key(),
        "EVIDENCE_DIR": os.path.join(workdir, "evidence"),
        # The test client talks plain http; secure cookies would not be sent back.
        "SESSION_COOKIE_SECURE": False, "REMEMBER_COOKIE_SECURE": False,
        "BABEL_DEFAULT_LOCALE": "en", "PROPAGATE_EXCEPTIONS": True, "WTF_CSRF_ENABLED": csrf,
        **overrides,
    }
    return create_app(config, plugins=[("bench_national", supplement_plugin())],
                      instance_path=os.path.join(workdir, "instance"))


# -- writing rows ------------------------------------------------------------


def d(day: date) -> str:
    return day.isoformat()


def ts(day: date, seconds: int = 36_000) -> str:
    """A naive-UTC timestamp on ``day``, in the text form both databases read."""
    return f"{day.isoformat()} {seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}.000000"


def js(value) -> str:
    return json.dumps(value, ensure_ascii=False)


class Writer:
    """Buffers rows per table and writes them in dependency order: COPY on
    PostgreSQL, executemany on SQLite, all in one transaction."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.postgres = engine.dialect.name == "postgresql"
        self.raw = engine.raw_connection()
        self.conn = self.raw.driver_connection
        self.buffers: dict[str, list[tuple]] = {}
        self.columns: dict[str, tuple[str, ...]] = {}
        self.order: list[str] = []
        self.counts: dict[str, int] = {}
        if self.postgres:
            with self.conn.cursor() as cur:
                cur.execute("SET synchronous_commit = off")
                # The generator guarantees the references; skipping the
                # per-row foreign-key triggers makes COPY several times faster.
                cur.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
                if cur.fetchone()[0]:
                    cur.execute("SET session_replication_role = replica")

    def table(self, name: str, columns: str) -> list[tuple]:
        self.columns[name] = tuple(columns.split())
        self.buffers[name] = []
        self.order.append(name)
        self.counts[name] = 0
        return self.buffers[name]

    def flush(self) -> None:
        for name in self.order:
            rows = self.buffers[name]
            if not rows:
                continue
            columns = self.columns[name]
            if self.postgres:
                with self.conn.cursor() as cur:
                    with cur.copy(f'COPY "{name}" ({", ".join(columns)}) FROM STDIN') as copy:
                        for row in rows:
                            copy.write_row(row)
            else:
                cur = self.conn.cursor()
                cur.executemany(f'INSERT INTO "{name}" ({", ".join(columns)}) VALUES ({", ".join("?" * len(columns))})',
                                rows)
                cur.close()
            self.counts[name] += len(rows)
            rows.clear()

    def commit(self) -> None:
        self.flush()
        if self.postgres:
            with self.conn.cursor() as cur:
                for name in self.order:
                    if "id" in self.columns[name]:
                        cur.execute(f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), "
                                    f"(SELECT max(id) FROM \"{name}\"))")
        self.conn.commit()

    def close(self) -> None:
        self.raw.close()


# -- the data set ------------------------------------------------------------


@dataclass
class Item:
    id: int
    template_id: int
    code: str
    kind: str
    question: str
    legal_basis: list
    topic: str
    orm: ChecklistItem


@dataclass
class Place:
    id: int
    country: str
    region_id: int
    type_id: int
    authority_id: int
    category: str
    norms: dict
    lists: list = field(default_factory=list)  # [(template id, [Item])]
    visits: list = field(default_factory=list)  # visit dicts, by date
    last_findings: dict = field(default_factory=dict)  # item code -> finding id of the previous report


def topic_of(code: str) -> str:
    """A stable topic per checklist item (same item, same topic on every visit)."""
    for topic in TOPICS:
        if topic in code.lower():
            return topic
    return TOPICS[zlib.crc32(code.encode()) % (len(TOPICS) - 1)]


class Generator:
    def __init__(self, session, writer: Writer, scale: float, seed: int, today: date) -> None:
        self.s = session
        self.w = writer
        self.scale = scale
        self.rng = random.Random(seed)
        self.today = today
        self.ids: dict[str, int] = {}
        self.refs: dict[tuple[str, int], int] = {}
        self.sagas: dict[str, int] = {}  # long-running cases per country
        w = writer
        self.facility = w.table("facility", "id code country_code region_id facility_type_id authority_id name names "
                                "address lat lon capacity populations notes is_active search_text created_at "
                                "updated_at version")
        self.user = w.table("user", "id username full_name email password_hash role country_code language "
                            "is_active_account created_at updated_at version")
        self.membership = w.table("membership", "id user_id region_id")
        self.visit = w.table("visit", "id facility_id country_code visit_type purpose starts_on ends_on announced "
                             "status created_at updated_at version created_by_id updated_by_id")
        self.member = w.table("visit_member", "id visit_id user_id role expertise")
        self.checklist = w.table("visit_checklist", "id visit_id template_id item_ids")
        self.answer = w.table("answer", "id visit_id item_id rating value missing_note improve_note evaluation "
                              "answered_at created_at updated_at version created_by_id updated_by_id")
        self.finding = w.table("finding", "id visit_id facility_id source status item_id item_code title text "
                               "legal_basis topic interview_codes repeated previous_finding_id created_at "
                               "updated_at version created_by_id updated_by_id")
        self.finding_answer = w.table("finding_answer", "finding_id answer_id")
        self.document = w.table("recommendation_document", "id recommendation_id sha256 filename content_type size "
                                "title uploaded_at uploaded_by_id")
        self.rec = w.table("recommendation", "id reference country_code authority_id source_visit_id text legal_basis "
                           "topic priority priority_flags systemic region_id facility_type_id issued_on "
                           "initial_deadline current_deadline response_kind response_on assessment status "
                           "closed_on implemented_on repeated created_at updated_at version created_by_id "
                           "updated_by_id")
        self.rec_facility = w.table("recommendation_facility", "recommendation_id facility_id")
        self.rec_finding = w.table("recommendation_finding", "recommendation_id finding_id")
        self.revision = w.table("deadline_revision", "id recommendation_id previous deadline reason set_at set_by_id")
        self.response = w.table("authority_response", "id recommendation_id kind text received_on document_id "
                                "recorded_at recorded_by_id")
        self.verification = w.table("verification", "id recommendation_id kind visit_id document_id verdict note "
                                    "evidence_ids verified_on recorded_at recorded_by_id")
        self.event = w.table("recommendation_event", "id recommendation_id kind at user_id changes note batch")
        # The document table points at recommendations, and responses and
        # verifications at documents: write recommendations first.
        w.order.remove("recommendation_document")
        w.order.insert(w.order.index("recommendation_facility"), "recommendation_document")

    def next_id(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]

    # -- reference data and people --------------------------------------

    def load_reference(self) -> None:
        s = self.s
        for table in ("facility", "user", "membership", "visit", "visit_member", "visit_checklist", "answer",
                      "finding", "recommendation_document", "recommendation", "deadline_revision",
                      "authority_response", "verification", "recommendation_event"):
            self.ids[table] = s.execute(text(f'SELECT coalesce(max(id), 0) FROM "{table}"')).scalar_one()
        self.types = {t.id: t for t in s.scalars(select(FacilityType).where(FacilityType.country_code.in_(COUNTRIES)))}
        self.regions = {c: [r for r in s.scalars(select(Region).where(Region.country_code == c).order_by(Region.code))]
                        for c in COUNTRIES}
        self.visit_types = {c: list(s.scalars(select(VisitType.code).where(VisitType.country_code == c)
                                              .order_by(VisitType.position))) for c in COUNTRIES}
        self.templates = []
        for t in s.scalars(select(ChecklistTemplate).where(ChecklistTemplate.is_current.is_(True))
                           .order_by(ChecklistTemplate.id)):
            items = [Item(i.id, t.id, i.code, i.answer_type, (i.question.get("ru") or i.question.get("en") or i.code)[:300],
                          i.legal_basis or [], topic_of(i.code), i) for i in t.items]
            self.templates.append((t, items))

    def make_users(self) -> None:
        stamp = ts(FIRST_DAY - timedelta(days=30))
        hashed = hash_password(PASSWORD)
        self.people: dict[tuple[str | None, str], list[int]] = {}

        def add(username, name, role, country, regions=()):
            uid = self.next_id("user")
            self.user.append((uid, username, name, f"{username}@bench.invalid", hashed, role, country, None, True,
                              stamp, stamp, 1))
            for region in regions:
                self.membership.append((self.next_id("membership"), uid, region.id))
            self.people.setdefault((country, role), []).append(uid)

        add("bench-admin", "Bench Admin", "admin", None)
        add("bench-council", "Bench Council (all countries)", "council", None)
        for c in COUNTRIES:
            low = c.lower()
            add(f"bench-admin-{low}", f"Admin {c}", "admin", c)
            add(f"bench-coordinator-{low}", f"Coordinator {c}", "coordinator", c)
            for n, region in enumerate(self.regions[c][:2], 2):
                add(f"bench-coordinator-{low}-{n}", f"Coordinator {c} {n}", "coordinator", c, [region])
            for n in range(1, 3):
                add(f"bench-council-{low}" + (f"-{n}" if n > 1 else ""), f"Council {c} {n}", "council", c)
                add(f"bench-cso-{low}-{n}", f"CSO {c} {n}", "cso", c)
            for n in range(1, 31):
                add(f"bench-monitor-{low}-{n}", f"Monitor {c} {n}", "monitor", c)

    # -- facilities -------------------------------------------------------

    def make_facilities(self) -> None:
        rng = self.rng
        registry = list(self.s.scalars(select(Facility).order_by(Facility.id)))
        wanted = max(round(FACILITIES * self.scale), 9)
        per_country = {c: max(3, round(wanted * COUNTRY_SHARE[c])) for c in COUNTRIES}
        self.places: list[Place] = []
        stamp = ts(FIRST_DAY - timedelta(days=30))
        for c in COUNTRIES:
            own = [f for f in registry if f.country_code == c]
            centre = {}
            for f in own:
                if f.lat is not None:
                    centre.setdefault(f.region_id, []).append((f.lat, f.lon))
            fallback = [p for points in centre.values() for p in points] or [(43.0, 70.0)]
            chosen = own[:per_country[c]]
            for f in chosen:
                self.places.append(self.place(f.id, c, f.region_id, f.facility_type))
            types_ = [t for t in self.types.values() if t.country_code == c]
            weights = [CATEGORY_WEIGHT.get(t.category, 5) / sum(1 for u in types_ if u.category == t.category)
                       for t in types_]
            numbers: dict[tuple[int, int], int] = {}
            for _ in range(per_country[c] - len(chosen)):
                ftype = rng.choices(types_, weights)[0]
                region = rng.choice(self.regions[c])
                n = numbers[(ftype.id, region.id)] = numbers.get((ftype.id, region.id), 0) + 1
                fid = self.next_id("facility")
                names = {lang: f"{ftype.names.get(lang) or ftype.names.get('ru')} № {n}, "
                               f"{region.names.get(lang) or region.names.get('ru')}"
                         for lang in sorted(set(ftype.names) | {"ru", "en"})}
                lat, lon = rng.choice(centre.get(region.id) or fallback)
                capacity = {"prison": rng.randint(300, 1500), "pretrial": rng.randint(150, 900),
                            "police_custody": rng.randint(8, 40)}.get(ftype.category, rng.randint(30, 250))
                code = f"BENCH-{c}-{fid:05d}"
                street = rng.choice(STREETS)
                address = f"{region.names.get('ru')}, ул. {street}, {rng.randint(1, 200)}"
                search = " ".join([code, names["ru"], address, *names.values()]).casefold()
                self.facility.append((fid, code, c, region.id, ftype.id, ftype.authority_id, names["ru"], js(names),
                                      address, round(lat + rng.uniform(-0.3, 0.3), 5),
                                      round(lon + rng.uniform(-0.3, 0.3), 5), capacity,
                                      js(POPULATIONS.get(ftype.category, ["men", "women"])), "", True, search,
                                      stamp, stamp, 1))
                self.places.append(self.place(fid, c, region.id, ftype,
                                              POPULATIONS.get(ftype.category, ["men", "women"])))

    def place(self, fid: int, country: str, region_id: int, ftype: FacilityType, populations=None) -> Place:
        place = Place(fid, country, region_id, ftype.id, ftype.authority_id, ftype.category, ftype.norms or {})
        # applies() only reads these attributes of a facility.
        probe = types.SimpleNamespace(facility_type=ftype, populations=populations)
        if populations is None:
            probe.populations = self.s.scalar(select(Facility.populations).where(Facility.id == fid)) or []
        for template, items in self.templates:
            if template.country_code not in (None, country) or not applies(template.applies_to, probe):
                continue
            chosen = [i for i in items if applies(i.orm.applies_to, probe)]
            if chosen:
                place.lists.append((template.id, chosen))
        return place

    # -- visits -----------------------------------------------------------

    def plan_visits(self) -> list[dict]:
        rng = self.rng
        wanted = max(round(VISITS * self.scale), 3)
        weights = [CATEGORY_VISITS.get(p.category, 0.8) for p in self.places]
        last = self.today + timedelta(days=60)
        span = (last - FIRST_DAY).days
        visits = []
        for _ in range(wanted):
            place = rng.choices(self.places, weights)[0]
            # Slightly more visits in later years, as the NPMs grew.
            starts = FIRST_DAY + timedelta(days=int(span * rng.random() ** 0.85))
            visits.append({"place": place, "starts_on": starts, "ends_on": starts + timedelta(days=rng.choice((0, 0, 1, 2)))})
        visits.sort(key=lambda v: (v["starts_on"], v["place"].id))
        for v in visits:
            v["id"] = self.next_id("visit")
            v["status"] = self.visit_status(v)
            c = v["place"].country
            v["team"] = rng.sample(self.people[(c, "monitor")], rng.randint(2, 4))
            v["coordinator"] = self.people[(c, "coordinator")][0]
            v["place"].visits.append(v)
        return visits

    def visit_status(self, v: dict) -> str:
        age = (self.today - v["ends_on"]).days
        r = self.rng.random()
        if v["starts_on"] > self.today:
            return "planned"
        if age < 0:
            return "in_progress"
        if age < 10:
            return "in_progress" if r < 0.5 else "draft"
        if age < 45:
            return "draft" if r < 0.4 else "in_review"
        if age < 120:
            return "in_review" if r < 0.2 else "sent"
        return "sent" if r < 0.12 else "closed"

    def write_visit(self, v: dict) -> None:
        rng = self.rng
        place = v["place"]
        c = place.country
        team, coordinator = v["team"], v["coordinator"]
        created = ts(v["starts_on"] - timedelta(days=rng.randint(3, 30)))
        updated = ts(min(v["ends_on"] + timedelta(days=60), self.today))
        self.visit.append((v["id"], place.id, c, rng.choice(self.visit_types[c]),
                           "Регулярный превентивный визит", d(v["starts_on"]), d(v["ends_on"]), rng.random() < 0.15,
                           v["status"], created, updated, 1, coordinator, coordinator))
        for n, uid in enumerate(team):
            self.member.append((self.next_id("visit_member"), v["id"], uid, "lead" if n == 0 else "member", ""))
        for template_id, items in place.lists:
            self.checklist.append((self.next_id("visit_checklist"), v["id"], template_id, js([i.id for i in items])))
        if v["status"] != "planned":
            self.write_answers(v)

    def write_answers(self, v: dict) -> None:
        rng = self.rng
        random_ = rng.random
        share = 0.92 if v["status"] not in ("in_progress",) else rng.uniform(0.2, 0.8)
        when = ts(v["ends_on"], 30_000 + rng.randint(0, 30_000))
        team = v["team"]
        candidates = []
        append = self.answer.append
        for _, items in v["place"].lists:
            for item in items:
                if random_() > share:
                    continue
                aid = self.next_id("answer")
                uid = team[int(random_() * len(team))]
                kind = item.kind
                value = evaluation = None
                missing = improve = ""
                rating = None
                if kind == "rating":
                    r = random_()
                    rating = "complete" if r < 0.55 else "partly" if r < 0.77 else "not_yet" if r < 0.92 else "not_applicable"
                    if rating in ("partly", "not_yet"):
                        missing = MISSING[int(random_() * len(MISSING))]
                        if random_() < 0.5:
                            improve = IMPROVE[int(random_() * len(IMPROVE))]
                        candidates.append((item, aid, missing))
                    elif random_() < 0.05:
                        missing = MISSING[int(random_() * len(MISSING))]
                else:
                    raw = answer_service_value(rng, item)
                    clean = answer_service.clean_value(item.orm, raw)
                    value = js(clean) if clean is not None else None
                    if kind == "measurement":
                        result = answer_service.evaluate(item.orm, clean, v["place"].norms)
                        evaluation = js(result) if result is not None else None
                append((aid, v["id"], item.id, rating, value, missing, improve, evaluation, when, when, when, 1, uid, uid))
        v["candidates"] = candidates

    # -- findings and recommendations -------------------------------------

    def write_findings(self, v: dict) -> None:
        if v["status"] not in ("sent", "closed"):
            return
        rng = self.rng
        place = v["place"]
        candidates = v.pop("candidates", [])
        k = min(len(candidates), rng.randint(*FINDINGS_PER_VISIT))
        chosen = rng.sample(candidates, k)
        previous = place.last_findings
        place.last_findings = {}
        report_on = min(v["ends_on"] + timedelta(days=rng.randint(20, 60)), self.today)
        stamp = ts(v["ends_on"] + timedelta(days=3))
        lead = v["team"][0]
        for item, answer_id, note in chosen:
            fid = self.next_id("finding")
            prev = previous.get(item.code)
            dismissed = rng.random() < 0.05
            self.finding.append((fid, v["id"], place.id, "answer", "dismissed" if dismissed else "confirmed", item.id,
                                 item.code, item.question, note, js(item.legal_basis), item.topic, "[]",
                                 prev is not None, prev, stamp, stamp, 1, lead, lead))
            self.finding_answer.append((fid, answer_id))
            place.last_findings[item.code] = fid
            if dismissed:
                continue
            for _ in range(2 if rng.random() < 0.05 else 1):
                self.write_recommendation(v, report_on, item.topic, item.legal_basis, fid, prev is not None)
        if rng.random() < 0.3:
            # Systemic: addressed to the whole authority, no facility.
            topic = rng.choice(TOPICS)
            self.write_recommendation(v, report_on, topic, [{"source": "INT-CAT", "article": "11"}], None, False,
                                      systemic=True)

    def write_recommendation(self, v: dict, issued: date, topic: str, legal_basis: list, finding_id: int | None,
                             repeated: bool, systemic: bool = False) -> None:
        rng = self.rng
        today = self.today
        place = v["place"]
        c = place.country
        rid = self.next_id("recommendation")
        seq = self.refs[(c, issued.year)] = self.refs.get((c, issued.year), 0) + 1
        coordinator = v["coordinator"]
        council = self.people[(c, "council")][0]
        flags = []
        r = rng.random()
        urgent_share = 0.08 if topic in ("treatment", "use_of_force", "health_care") else 0.02
        if r < urgent_share:
            flags.append(rng.choice(URGENT_FLAGS))
        if repeated:
            flags.append("repeated")
        events: list[tuple] = []  # (date, seconds, kind, user, changes, note)

        def priority_of(fl):
            return "urgent" if any(f in URGENT_FLAGS for f in fl) else "high" if fl else "normal"

        priority = priority_of(flags)
        initial = issued + timedelta(days=rng.randint(60, 180))
        deadline = initial
        events.append((issued, 36_000, "created", coordinator, {"priority": [None, priority]}, ""))
        authority_id = place.authority_id
        if systemic:
            authority_id = self.types[rng.choice([t for t in self.types if self.types[t].country_code == c])].authority_id
        version = 1
        response_kind = response_on = None
        assessment = "not_started"
        status = "open"
        closed_on = implemented_on = None

        # Which of the facility's later visits verify it, and with what
        # verdict; nothing else happens to it after a closing verdict.
        later = [] if systemic else [w for w in place.visits if w["starts_on"] > issued and
                                     w["status"] in ("draft", "in_review", "sent", "closed")][:3]
        checks = []
        for w in later:
            if rng.random() >= 0.55:
                continue
            r = rng.random()
            verdict = ("implemented" if r < 0.3 else "no_longer_applicable" if r < 0.36 else
                       "partially_implemented" if r < 0.68 else "not_implemented")
            checks.append((w, verdict))
            if verdict in ("implemented", "no_longer_applicable"):
                break
        first_check = checks[0][0]["ends_on"] if checks else today + timedelta(days=1)
        stop = checks[-1][0]["ends_on"] if checks and checks[-1][1] in ("implemented", "no_longer_applicable") \
            else today + timedelta(days=1)
        # Systemic ones are closed on the authority's documents, not at visits.
        doc_on = issued + timedelta(days=rng.randint(200, 600)) if systemic and rng.random() < 0.3 else None
        if doc_on is not None and doc_on <= today:
            stop = first_check = doc_on
        else:
            doc_on = None
        # Track 1: the authority's answer(s).
        if rng.random() < 0.7:
            for n in range(2 if rng.random() < 0.1 else 1):
                received = issued + timedelta(days=rng.randint(20, 90) + 120 * n)
                if received >= stop:
                    break
                kind = rng.choices(("accepted", "partially_accepted", "rejected"), (60, 25, 15))[0]
                self.response.append((self.next_id("authority_response"), rid, kind, RESPONSE_TEXT[kind], d(received),
                                      None, ts(received, 40_000), coordinator))
                events.append((received, 40_000, "response", coordinator, {"response_kind": [response_kind, kind],
                                                                         "response_on": [d(response_on) if response_on else None,
                                                                                         d(received)]},
                               RESPONSE_TEXT[kind]))
                response_kind, response_on = kind, received
                version += 1
        # Revised deadlines (about one in five).
        if rng.random() < 0.2:
            for _ in range(rng.choice((1, 1, 1, 2))):
                set_on = deadline - timedelta(days=rng.randint(1, 30))
                if set_on >= stop or set_on <= issued:
                    break
                new = deadline + timedelta(days=rng.randint(30, 120))
                reason = rng.choice(DEADLINE_REASONS)
                self.revision.append((self.next_id("deadline_revision"), rid, d(deadline), d(new), reason,
                                      ts(set_on, 43_000), coordinator))
                events.append((set_on, 43_000, "deadline", coordinator, {"deadline": [d(deadline), d(new)]}, reason))
                deadline = new
                version += 1
        # Track 2: the NPM's own assessment between visits.
        if rng.random() < 0.35:
            on = issued + timedelta(days=rng.randint(30, 200))
            if on < first_check:
                new = rng.choice(("in_progress", "in_progress", "not_implemented"))
                events.append((on, 45_000, "assessment", coordinator, {"assessment": [assessment, new]}, ""))
                assessment = new
                version += 1
        for w, verdict in checks:
            on = w["ends_on"]
            vid = self.next_id("verification")
            self.verification.append((vid, rid, "visit", w["id"], None, verdict, VERIFY_NOTES[verdict], "[]", d(on),
                                      ts(on, 50_000), w["team"][0]))
            changes = {"assessment": [assessment, verdict]}
            assessment = verdict
            version += 1
            if verdict in ("implemented", "no_longer_applicable"):
                changes["status"] = ["open", "closed"]
                status, closed_on = "closed", on
                implemented_on = on if verdict == "implemented" else None
            events.append((on, 50_000, "verification", w["team"][0], changes, VERIFY_NOTES[verdict]))
        if doc_on is not None:
            on = doc_on
            if True:
                doc = self.next_id("recommendation_document")
                self.document.append((doc, rid, f"{zlib.crc32(str(doc).encode()):08x}" * 8, f"letter-{doc}.pdf",
                                      "application/pdf", 48_000 + doc % 9000, "Письмо ведомства", ts(on, 30_000),
                                      coordinator))
                events.append((on, 30_000, "document", coordinator, {"document": [None, "Письмо ведомства"]}, ""))
                self.verification.append((self.next_id("verification"), rid, "document", None, doc, "implemented",
                                          VERIFY_NOTES["implemented"], "[]", d(on), ts(on, 31_000), coordinator))
                events.append((on, 31_000, "verification", coordinator,
                               {"assessment": [assessment, "implemented"], "status": ["open", "closed"]}, ""))
                assessment, status, closed_on, implemented_on = "implemented", "closed", on, on
                version += 2
        # A few closed ones are reopened (the problem came back).
        if status == "closed" and rng.random() < 0.02:
            on = closed_on + timedelta(days=rng.randint(30, 300))
            if on <= today:
                events.append((on, 46_000, "reopened", coordinator, {"status": ["closed", "open"],
                                                                   "assessment": [assessment, "not_implemented"]},
                               "Нарушение выявлено повторно."))
                status, closed_on, implemented_on, assessment = "open", None, None, "not_implemented"
                version += 1
        # Escalations, comments and council decisions.
        if status == "open" and rng.random() < 0.015:
            on = min(issued + timedelta(days=rng.randint(10, 300)), today)
            flag = rng.choice(URGENT_FLAGS)
            if flag not in flags:
                old = priority
                flags = flags + [flag]
                priority = priority_of(flags)
                events.append((on, 47_000, "escalated", coordinator, {"priority_flags": [flags[:-1], flags],
                                                                     "priority": [old, priority]}, "Новые сведения."))
                version += 1
        for _ in range(1 if rng.random() < 0.1 else 0):
            on = min(issued + timedelta(days=rng.randint(5, 400)), today)
            events.append((on, 48_000, "comment", council, {}, rng.choice(COMMENTS)))
        if rng.random() < 0.02:
            on = min(issued + timedelta(days=rng.randint(30, 400)), today)
            events.append((on, 49_000, "council_decision", council, {"decided_on": [None, d(on)]},
                           "Совет решил запросить отчёт ведомства."))
        if status == "open" and issued.year >= 2020 and self.sagas.get(c, 0) < 1 + int(4 * self.scale) \
                and rng.random() < 0.01:
            self.sagas[c] = self.sagas.get(c, 0) + 1
            # A long-running case: months of letters, extensions and comments.
            on = issued
            for n in range(40):
                on = min(on + timedelta(days=rng.randint(3, 20)), today)
                kind = ("comment", "deadline", "response", "comment")[n % 4]
                if kind == "deadline":
                    new = deadline + timedelta(days=30)
                    self.revision.append((self.next_id("deadline_revision"), rid, d(deadline), d(new),
                                          rng.choice(DEADLINE_REASONS), ts(on, 44_000), coordinator))
                    events.append((on, 44_000, "deadline", coordinator, {"deadline": [d(deadline), d(new)]}, ""))
                    deadline = new
                elif kind == "response":
                    self.response.append((self.next_id("authority_response"), rid, "partially_accepted",
                                          RESPONSE_TEXT["partially_accepted"], d(on), None, ts(on, 41_000), coordinator))
                    events.append((on, 41_000, "response", coordinator,
                                   {"response_kind": [response_kind, "partially_accepted"],
                                    "response_on": [d(response_on) if response_on else None, d(on)]}, ""))
                    response_kind, response_on = "partially_accepted", on
                else:
                    events.append((on, 48_000 + n, "comment", council, {}, rng.choice(COMMENTS)))
                version += 1
        last = max(e[0] for e in events)
        created = ts(issued, 36_000)
        self.rec.append((rid, f"{c}-{issued.year}-{seq:05d}", c, authority_id, v["id"], REC_TEXT[topic],
                         js(legal_basis), topic, priority, js(flags), systemic,
                         None if systemic else place.region_id, None if systemic else place.type_id,
                         d(issued), d(initial), d(deadline), response_kind, d(response_on) if response_on else None,
                         assessment, status, d(closed_on) if closed_on else None,
                         d(implemented_on) if implemented_on else None, repeated, created, ts(last, 50_000), version,
                         coordinator, coordinator))
        if not systemic:
            self.rec_facility.append((rid, place.id))
            if rng.random() < 0.05:
                # The same problem at a neighbouring place of the same type.
                other = self.neighbour(place)
                if other is not None:
                    self.rec_facility.append((rid, other.id))
        if finding_id is not None:
            self.rec_finding.append((rid, finding_id))
        events.sort(key=lambda e: (e[0], e[1]))
        for on, seconds, kind, uid, changes, note in events:
            self.event.append((self.next_id("recommendation_event"), rid, kind, ts(on, seconds), uid, js(changes),
                               note, None))

    def neighbour(self, place: Place) -> Place | None:
        same = self.by_type.get((place.region_id, place.type_id), [])
        others = [p for p in same if p.id != place.id]
        return self.rng.choice(others) if others else None

    # -- the whole run ----------------------------------------------------

    def run(self) -> dict:
        started = time.perf_counter()
        self.load_reference()
        self.make_users()
        self.make_facilities()
        self.by_type: dict[tuple[int, int], list[Place]] = {}
        for p in self.places:
            self.by_type.setdefault((p.region_id, p.type_id), []).append(p)
        self.w.flush()
        visits = self.plan_visits()
        log(f"{len(self.places)} facilities in use, {len(visits)} visits planned "
            f"({time.perf_counter() - started:.1f} s)")
        step = max(len(visits) // 20, 1)
        for n, v in enumerate(visits, 1):
            self.write_visit(v)
            self.write_findings(v)
            if n % BATCH_VISITS == 0 or n == len(visits):
                self.w.flush()
            if n % step == 0 or n == len(visits):
                c = self.w.counts
                log(f"  {n}/{len(visits)} visits: {c['answer']:,} answers, {c['recommendation']:,} recommendations, "
                    f"{c['recommendation_event']:,} events ({time.perf_counter() - started:.0f} s)")
        self.w.commit()
        return dict(self.w.counts)


def answer_service_value(rng: random.Random, item: Item):
    """A plausible raw value for a non-rating item (what a monitor would type)."""
    kind = item.kind
    if kind == "yesno":
        return rng.random() < 0.7
    if kind == "number":
        return rng.randint(0, 400)
    if kind == "choice":
        return rng.choice(item.orm.options["choices"])["code"]
    if kind == "measurement":
        return {"area_m2": round(rng.uniform(8, 40), 1), "occupants": rng.randint(1, 12)}
    if kind == "text":
        return rng.choice(MISSING)
    return None


# -- the database ------------------------------------------------------------


def find_marker(engine) -> dict | None:
    if not inspect(engine).has_table("bench_dataset"):
        return None
    # Reflected: a marker written by an older generator may lack columns.
    table = Table("bench_dataset", MetaData(), autoload_with=engine)
    with engine.connect() as conn:
        row = conn.execute(select(table).order_by(table.c.id.desc())).mappings().first()
    if row is None:
        return None
    row = dict(row)
    if isinstance(row["counts"], str):
        row["counts"] = json.loads(row["counts"])
    return row


def has_data(engine) -> bool:
    names = set(inspect(engine).get_table_names())
    if "bench_dataset" in names:
        return True
    with engine.connect() as conn:
        return any(conn.execute(text(f'SELECT 1 FROM "{t}" LIMIT 1')).first() is not None
                   for t in ("user", "visit", "recommendation") if t in names)


def wipe(engine) -> None:
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    else:
        meta = MetaData()
        meta.reflect(engine)
        with engine.begin() as conn:
            conn.exec_driver_sql("PRAGMA foreign_keys = OFF")
            for table in meta.sorted_tables[::-1]:
                conn.exec_driver_sql(f'DROP TABLE "{table.name}"')


def same_run(marker: dict | None, scale: float, seed: int) -> bool:
    return (marker is not None and marker.get("generator") == GENERATOR and math.isclose(marker["scale"], scale)
            and marker["seed"] == seed)


def ensure_dataset(database_url: str, scale: float, seed: int = 2026, *, force: bool = False,
                   today: date | None = None) -> dict:
    """Generate the data set into ``database_url`` unless it already holds
    this one; returns the marker row (with ``reused`` True when it did)."""
    today = today or date.today()
    lock = GenerationLock(database_url)
    try:
        return _ensure_dataset(database_url, scale, seed, force, today)
    finally:
        lock.release()


class GenerationLock:
    """On PostgreSQL, one generation per database at a time: a second caller
    (another benchmark started meanwhile) waits, then finds the marker and
    reuses the data instead of writing beside an uncommitted run."""

    KEY = 74_262_026  # advisory locks are per database

    def __init__(self, database_url: str) -> None:
        self.engine = self.conn = None
        if not database_url.startswith("postgresql"):
            return
        self.engine = create_engine(database_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        self.conn = self.engine.connect()
        if not self.conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.KEY}).scalar():
            log("another generation into this database is running: waiting for it")
            self.conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": self.KEY})

    def release(self) -> None:
        if self.conn is not None:
            self.conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.KEY})
            self.conn.close()
            self.engine.dispose()


def _ensure_dataset(database_url: str, scale: float, seed: int, force: bool, today: date) -> dict:
    engine = create_engine(database_url)
    try:
        marker = find_marker(engine)
        if same_run(marker, scale, seed):
            log(f"{make_url(database_url).render_as_string()}: already holds scale {scale:g} seed {seed} "
                f"(generated in {marker['seconds']:.0f} s on {marker['finished_at']:%Y-%m-%d %H:%M})")
            return {**marker, "reused": True}
        if has_data(engine):
            if not force:
                raise SystemExit(f"{make_url(database_url).render_as_string()} is not empty "
                                 f"(marker: {marker and {k: marker[k] for k in ('scale', 'seed')}}); "
                                 "use --force to wipe it and generate")
            log("wiping the database (--force)")
            wipe(engine)
    finally:
        engine.dispose()

    workdir = tempfile.mkdtemp(prefix="npmtool-bench-generate-")
    app = make_app(database_url, workdir)
    started = time.perf_counter()
    try:
        upgrade_database(app)
        with app.app_context():
            sync_reference_data(db.session, app.extensions["npmtool"].catalogue)
            db.session.commit()
            log(f"schema and reference data: {time.perf_counter() - started:.1f} s")
            writer = Writer(db.engine)
            try:
                counts = Generator(db.session, writer, scale, seed, today).run()
            finally:
                writer.close()
            db.session.remove()
            finish(db.engine, started)
            seconds = time.perf_counter() - started
            row = {"scale": scale, "seed": seed, "generator": GENERATOR, "today": today.isoformat(), "seconds": seconds,
                   "counts": counts, "finished_at": datetime.now()}
            marker_meta.create_all(db.engine)
            with db.engine.begin() as conn:
                conn.execute(insert(bench_dataset), row)
            db.engine.dispose()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    log(f"generated in {seconds:.0f} s: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    return {**row, "reused": False}


def finish(engine, started: float) -> None:
    """Fresh planner statistics (PostgreSQL), so the pages are timed as in production."""
    if engine.dialect.name == "postgresql":
        log(f"VACUUM ANALYZE … ({time.perf_counter() - started:.0f} s)")
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="sqlite:///path or postgresql+psycopg://…")
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 2,000 facilities, 50,000 visits, …")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--today", type=date.fromisoformat, help="reference date (default: today)")
    parser.add_argument("--force", action="store_true", help="wipe a non-empty database and generate")
    args = parser.parse_args()
    result = ensure_dataset(args.database_url, args.scale, args.seed, force=args.force, today=args.today)
    for name, value in sorted(result["counts"].items()):
        print(f"{name}: {value}")
    print(f"reused: {str(result['reused']).lower()}")
    print(f"generate_seconds: {result['seconds']:.1f}")


if __name__ == "__main__":
    main()
