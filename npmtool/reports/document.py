"""The report document: the format's sections filled from the facts, in one
language. It is plain data (JSON-serialisable) and is the only thing the
renderers see; its canonical JSON is hashed as the report's inputs."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any, Iterator

from npmtool.i18n import tr
from npmtool.reports.context import Facts
from npmtool.reports.phrases import phrase
from npmtool.reports.sections import build_sections, fmt_date


@dataclass
class Document:
    country: str
    format_code: str
    scope: str
    language: str
    title: str
    subtitle: str
    npm_body: str
    meta: list[list[str]]
    sections: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def canonical(self) -> bytes:
        return json.dumps(self.as_dict(), ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()

    def inputs_hash(self) -> str:
        """Equal for equal inputs: the document holds no generation time, and
        photos enter by the hash of their publication copy."""
        return hashlib.sha256(self.canonical()).hexdigest()

    def photos(self) -> Iterator[dict[str, Any]]:
        for section in self.sections:
            for block in section["blocks"]:
                if block["kind"] == "photos":
                    yield from block["items"]

    def summary(self) -> dict[str, Any]:
        return {"sections": len(self.sections), "photos": len({p["evidence_id"] for p in self.photos()})}


def build_document(facts: Facts, fmt: dict, language: str) -> Document:
    country = facts.country
    if facts.visit is not None:
        visit = facts.visit
        facility = facts.facilities[visit["facility_id"]]
        subtitle = f"{tr(facility['names'], language)}, {fmt_date(visit['starts_on'])} – {fmt_date(visit['ends_on'])}"
    else:
        start, end = facts.period
        subtitle = f"{tr(country['names'], language)}, {fmt_date(start.isoformat())} – {fmt_date(end.isoformat())}"
    meta = [[phrase("visits_total", language), str(len(facts.visits))]] if facts.visit is None else []
    return Document(country=country["code"], format_code=fmt["code"], scope=fmt["scope"], language=language,
                    title=tr(fmt["titles"], language), subtitle=subtitle,
                    npm_body=tr(country["npm_body"], language), meta=meta,
                    sections=build_sections(facts, fmt, language))
