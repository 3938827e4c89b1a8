"""Copying the plugins' validated reference data into the database.

Reference rows are upserted by code: running it again changes what the
plugins changed and keeps the ids other rows refer to. Checklist templates
are snapshots: a new (code, version) is added, an existing one is never
rewritten. Registry seeds only add facilities whose code is new, so the
users' edits to seeded facilities survive."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from npmtool.models import (
    Authority,
    ChecklistItem,
    ChecklistSection,
    ChecklistTemplate,
    ComplaintCategory,
    ComplaintChannel,
    Country,
    Facility,
    FacilityFigure,
    FacilityType,
    LegalSource,
    Region,
    VisitType,
)
from npmtool.plugins import Catalogue
from npmtool.services import ServiceError
from npmtool.services.facilities import search_text_for


class ChecklistChanged(ServiceError):
    """A plugin changed a checklist's content but not its version."""


def _upsert(session: Session, model: type, key: dict[str, Any], values: dict[str, Any]) -> Any:
    row = session.scalars(select(model).filter_by(**key)).one_or_none()
    if row is None:
        row = model(**key, **values)
        session.add(row)
    else:
        for name, value in values.items():
            setattr(row, name, value)
    return row


def content_hash(template: dict[str, Any]) -> str:
    """Hash of a template's content, independent of which plugin serves it."""
    content = {k: v for k, v in template.items() if k not in ("plugin", "country")}
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def sync_reference_data(session: Session, catalogue: Catalogue, *, with_registry: bool = True) -> Counter:
    """Bring the database in line with the plugins; returns counts of what
    was written, by kind."""
    counts: Counter = Counter()
    for code, country in catalogue.countries.items():
        _upsert(session, Country, {"code": code},
                {"plugin": country["plugin"], "names": country["names"], "npm_body": country["npm_body"],
                 "languages": country["languages"]})
        for region in country["regions"]:
            _upsert(session, Region, {"code": region["code"]},
                    {"country_code": code, "names": region["names"], "kind": region["kind"]})
            counts["regions"] += 1
        for position, vt in enumerate(country["visit_types"]):
            _upsert(session, VisitType, {"country_code": code, "code": vt["code"]},
                    {"names": vt["names"], "description": vt["description"], "position": position})
            counts["visit_types"] += 1
    session.flush()

    authorities = {}
    for code, entry in catalogue.authorities.items():
        authorities[code] = _upsert(session, Authority, {"code": code},
                                    {"country_code": entry["country"], "names": entry["names"],
                                     "short": entry["short"], "position": entry["order"]})
        counts["authorities"] += 1
    session.flush()
    for code, entry in catalogue.authorities.items():
        authorities[code].parent_id = authorities[entry["parent"]].id if entry["parent"] else None

    for code, entry in catalogue.facility_types.items():
        _upsert(session, FacilityType, {"code": code},
                {"country_code": entry["country"], "names": entry["names"], "category": entry["category"],
                 "authority_id": authorities[entry["authority"]].id, "norms": entry["norms"],
                 "norm_basis": entry["norm_basis"]})
        counts["facility_types"] += 1

    for code, entry in catalogue.legal_sources.items():
        _upsert(session, LegalSource, {"code": code},
                {"country_code": entry["country"], "kind": entry["kind"], "titles": entry["titles"],
                 "number": entry["number"], "adopted_on": entry["date"], "articles": entry["articles"],
                 "amended": entry["amended"]})
        counts["legal_sources"] += 1

    for country_code, settings in catalogue.complaints.items():
        for entry in settings["categories"]:
            _upsert(session, ComplaintCategory, {"country_code": country_code, "code": entry["code"]},
                    {"names": entry["names"], "weight": entry["weight"], "urgent": entry["urgent"]})
        for entry in settings["channels"]:
            _upsert(session, ComplaintChannel, {"country_code": country_code, "code": entry["code"]},
                    {"kind": entry["kind"], "names": entry["names"]})
    session.flush()

    for template in catalogue.checklists.values():
        if snapshot_checklist(session, template):
            counts["checklists_added"] += 1

    if with_registry:
        counts["facilities_added"] = seed_registry(session, catalogue)
    session.commit()
    return counts


def snapshot_checklist(session: Session, template: dict[str, Any]) -> bool:
    """Store a template version once; True if it was new."""
    digest = content_hash(template)
    existing = session.scalars(select(ChecklistTemplate).filter_by(
        code=template["code"], version=template["version"])).one_or_none()
    if existing is not None:
        if existing.content_hash != digest:
            raise ChecklistChanged(
                f"plugin '{template['plugin']}': checklist {template['code']} version {template['version']} "
                "changed its content; give it a new version so earlier visits keep their questions"
            )
        return False
    session.execute(update(ChecklistTemplate).where(ChecklistTemplate.code == template["code"])
                    .values(is_current=False))
    row = ChecklistTemplate(code=template["code"], version=template["version"], plugin=template["plugin"],
                            country_code=template["country"], titles=template["titles"],
                            applies_to=template["applies_to"], content_hash=digest, is_current=True)
    session.add(row)
    position = 0
    for s_position, section in enumerate(template["sections"]):
        section_row = ChecklistSection(template=row, code=section["code"], titles=section["titles"],
                                       position=s_position)
        session.add(section_row)
        for item in section["items"]:
            session.add(ChecklistItem(
                template=row, section=section_row, code=item["code"], position=position,
                question=item["question"], guidance=item["guidance"], legal_basis=item["legal_basis"],
                answer_type=item["answer_type"], options=item["options"], applies_to=item["applies_to"]))
            position += 1
    session.flush()
    return True


def seed_registry(session: Session, catalogue: Catalogue) -> int:
    """Add the plugins' registry facilities whose code is not in the database yet."""
    known = set(session.scalars(select(Facility.code).where(Facility.code.is_not(None))))
    regions = {r.code: r.id for r in session.scalars(select(Region))}
    types = {t.code: t for t in session.scalars(select(FacilityType))}
    added = 0
    for code, entry in catalogue.registry.items():
        if code in known:
            continue
        facility_type = types[entry["type"]]
        facility = Facility(
            code=code, country_code=entry["country"], region_id=regions[entry["region"]],
            facility_type_id=facility_type.id, authority_id=facility_type.authority_id,
            name=entry["name"]["ru"], names=entry["name"], address=entry["address"],
            lat=entry["lat"], lon=entry["lon"], capacity=entry["capacity"], populations=entry["populations"],
            notes=entry["notes"])
        facility.search_text = search_text_for(facility)
        facility.figures = [FacilityFigure(kind=f["kind"], value=f["value"], as_of=f["as_of"], source=f["source"])
                            for f in entry["figures"]]
        session.add(facility)
        added += 1
    session.flush()
    return added
