"""The section registry: builders that turn the gathered facts into a
section's content blocks in one language.

A plugin's report format lists its sections (reports.yaml); each names a
builder here by ``builder`` or, by default, by its own code. A section whose
builder is unknown gets its fixed ``text`` or a placeholder for the author,
so a fourth country's formats render with no change in the core.

Blocks are plain dicts, the same for every output:
``{"kind": "p" | "note" | "h", "text"}``, ``{"kind": "facts", "rows": [[label, value]]}``,
``{"kind": "table", "headers": [...], "rows": [[...]]}``, ``{"kind": "list", "items": [...]}``,
``{"kind": "photos", "items": [{"evidence_id", "sha256", "caption"}]}``."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date
from typing import Any, Callable

from npmtool.i18n import tr
from npmtool.reports.context import Facts
from npmtool.reports.phrases import label, phrase

# Annual reports summarise: a chapter lists its most important items and
# points to the register for the rest.
MAX_MAIN_FINDINGS = 10
MAX_MAIN_RECOMMENDATIONS = 25
PRIORITY_ORDER = {"urgent": 0, "high": 1, "normal": 2}

Builder = Callable[[Facts, dict, str], list[dict]]
BUILDERS: dict[str, Builder] = {}


def builder(*names: str) -> Callable[[Builder], Builder]:
    def register(fn: Builder) -> Builder:
        for name in names:
            BUILDERS[name] = fn
        return fn
    return register


# -- small helpers ---------------------------------------------------------------------------

def fmt_date(value: str | None) -> str:
    if not value:
        return ""
    d = date.fromisoformat(value)
    return f"{d.day:02d}.{d.month:02d}.{d.year}"


def _p(text: str) -> dict:
    return {"kind": "p", "text": text}


def _note(text: str) -> dict:
    return {"kind": "note", "text": text}


def _h(text: str) -> dict:
    return {"kind": "h", "text": text}


def _facts(rows: list[list[str]]) -> dict:
    return {"kind": "facts", "rows": [[str(a), str(b)] for a, b in rows]}


# Column widths (percent of the text width) a renderer may use; one of these.
WIDTHS = (8, 10, 12, 14, 16, 20, 24, 28, 30, 40, 44)


def _table(headers: list[str], rows: list[list[Any]], widths: list[int] | None = None) -> dict:
    """``widths``: per column, from WIDTHS (summing to 100); else automatic."""
    table = {"kind": "table", "headers": headers, "rows": [[str(c) for c in row] for row in rows]}
    if widths is not None:
        assert len(widths) == len(headers) and set(widths) <= set(WIDTHS), widths
        table["widths"] = widths
    return table


def _nothing(lang: str) -> list[dict]:
    return [_note(phrase("nothing", lang))]


def _fixed_text(section: dict, lang: str) -> list[dict]:
    return [_p(tr(section["text"], lang))] if section.get("text") else []


def _authority_name(facts: Facts, code: str | None, lang: str, short: bool = False) -> str:
    for a in facts.authorities:
        if a["code"] == code:
            return tr(a["short"] if short else a["names"], lang)
    return code or ""


def _facility_name(facts: Facts, facility_id: int, lang: str) -> str:
    facility = facts.facilities.get(facility_id)
    return tr(facility["names"], lang) if facility else ""


def _occupancy(facility: dict) -> str:
    if facility.get("population") is None or not facility.get("capacity"):
        return ""
    return f"{round(100 * facility['population'] / facility['capacity'])} %"


def _team(visit: dict, lang: str) -> str:
    return "; ".join(f"{m['name']} ({label('role', m['role'], lang)}"
                     + (f", {m['expertise']}" if m["expertise"] else "") + ")" for m in visit["team"])


def _deadline(rec: dict, lang: str) -> str:
    text = fmt_date(rec["current_deadline"])
    if rec["initial_deadline"] != rec["current_deadline"]:
        text += f" ({phrase('deadline_revised', lang)} {fmt_date(rec['initial_deadline'])})"
    return text


def _response(rec: dict, lang: str) -> str:
    if not rec["response_kind"]:
        return phrase("response_none", lang)
    return f"{label('response', rec['response_kind'], lang)}, {fmt_date(rec['response_on'])}"


def _rec_sort_key(rec: dict) -> tuple:
    return (PRIORITY_ORDER.get(rec["priority"], 3), rec["issued_on"] or "", rec["id"])


def _recommendation_table(facts: Facts, recs: list[dict], lang: str, with_status: bool) -> dict:
    headers = [phrase("reference", lang), phrase("recommendation", lang), phrase("addressee", lang),
               phrase("priority", lang), phrase("deadline", lang)]
    if with_status:
        headers += [phrase("response", lang), phrase("assessment", lang)]
    rows = []
    for rec in recs:
        row = [rec["reference"], rec["text"], _authority_name(facts, rec["authority"], lang, short=True),
               label("priority", rec["priority"], lang), _deadline(rec, lang)]
        if with_status:
            row += [_response(rec, lang), label("assessment", rec["assessment"], lang)]
        rows.append(row)
    widths = [14, 28, 10, 10, 14, 12, 12] if with_status else [16, 44, 14, 12, 14]
    return _table(headers, rows, widths)


def _weight(rec: dict) -> int:
    """Recommendations come one per row, or counted (earlier ones in annual reports)."""
    return rec.get("count", 1)


def _overdue(rec: dict, end: str) -> bool:
    if "overdue" in rec:
        return rec["overdue"]
    return rec["status"] == "open" and bool(rec["current_deadline"]) and rec["current_deadline"] < end


def _status_counts(recs: list[dict], lang: str) -> dict:
    counts, responses = Counter(), Counter()
    for r in recs:
        counts[r["assessment"]] += _weight(r)
        responses[r["response_kind"] or "none"] += _weight(r)
    rows = [[label("assessment", code, lang), counts[code]] for code in
            ("not_started", "in_progress", "partially_implemented", "implemented", "not_implemented",
             "no_longer_applicable") if counts[code]]
    rows += [[f"{phrase('response', lang)}: {label('response', code, lang)}", n]
             for code, n in sorted(responses.items())]
    rows.append([phrase("total", lang), sum(_weight(r) for r in recs)])
    return _table([phrase("status_overall", lang), phrase("count", lang)], rows)


def _photos_block(facts: Facts, evidence_ids: list[int] | None = None) -> dict | None:
    photos = facts.photos if evidence_ids is None else [p for p in facts.photos if p["evidence_id"] in evidence_ids]
    if not photos:
        return None
    return {"kind": "photos", "items": [{"evidence_id": p["evidence_id"], "sha256": p["sha256"],
                                         "caption": p["caption"]} for p in photos]}


def matches(section: dict, authority: str | None, facility_type: str | None) -> bool:
    """Whether a visit, finding or recommendation belongs to a chapter that
    covers some authorities and/or facility types (reports.yaml)."""
    types, authorities = section.get("facility_types"), section.get("authorities")
    if facility_type is not None and types:
        return facility_type in types
    return bool(authorities) and authority in authorities


# -- visit reports ---------------------------------------------------------------------------

@builder("general", "visit_details")
def visit_details(facts: Facts, section: dict, lang: str) -> list[dict]:
    if facts.visit is None:
        return visits_overview(facts, section, lang)
    visit = facts.visit
    facility = facts.facilities[visit["facility_id"]]
    rows = [[phrase("facility", lang), tr(facility["names"], lang)],
            [phrase("region", lang), tr(facility["region"], lang)],
            [phrase("facility_type", lang), tr(facility["type_names"], lang)],
            [phrase("authority", lang), _authority_name(facts, facility["authority"], lang)],
            [phrase("visit_type", lang), tr(visit["visit_type_names"], lang)
             + f" ({phrase('announced' if visit['announced'] else 'unannounced', lang)})"],
            [phrase("dates", lang), f"{fmt_date(visit['starts_on'])} – {fmt_date(visit['ends_on'])}"],
            [phrase("team", lang), _team(visit, lang)]]
    return _fixed_text(section, lang) + [_facts(rows + _figure_rows(facility, lang))]


@builder("facility")
def facility_details(facts: Facts, section: dict, lang: str) -> list[dict]:
    if facts.visit is None:
        return _fixed_text(section, lang) or _nothing(lang)
    facility = facts.facilities[facts.visit["facility_id"]]
    rows = [[phrase("facility", lang), tr(facility["names"], lang)],
            [phrase("facility_type", lang), tr(facility["type_names"], lang)],
            [phrase("authority", lang), _authority_name(facts, facility["authority"], lang)],
            [phrase("region", lang), tr(facility["region"], lang)]]
    return _fixed_text(section, lang) + [_facts(rows + _figure_rows(facility, lang))]


def _figure_rows(facility: dict, lang: str) -> list[list]:
    """Capacity against the people held: occupancy is computed, never typed."""
    rows = []
    if facility["capacity"]:
        rows.append([phrase("capacity", lang), facility["capacity"]])
    if facility["population"] is not None:
        rows.append([phrase("population", lang),
                     f"{facility['population']} ({phrase('as_of', lang)} {fmt_date(facility['population_as_of'])})"])
    if _occupancy(facility):
        rows.append([phrase("occupancy", lang), _occupancy(facility)])
    return rows


@builder("summary")
def summary(facts: Facts, section: dict, lang: str) -> list[dict]:
    if facts.visit is None:
        return visits_overview(facts, section, lang)
    visit = facts.visit
    facility = facts.facilities[visit["facility_id"]]
    urgent = sum(1 for r in facts.recommendations if r["priority"] == "urgent")
    rows = [[phrase("facility", lang), tr(facility["names"], lang)],
            [phrase("dates", lang), f"{fmt_date(visit['starts_on'])} – {fmt_date(visit['ends_on'])}"],
            [phrase("findings_count", lang), len(facts.findings)],
            [phrase("recommendations_count", lang), len(facts.recommendations)],
            [phrase("urgent_recommendations", lang), urgent]]
    return _fixed_text(section, lang) + [_facts(rows)]


@builder("legal_basis")
def legal_basis(facts: Facts, section: dict, lang: str) -> list[dict]:
    blocks = _fixed_text(section, lang)
    items = [tr(source["titles"], lang) + (f" № {source['number']}" if source["number"] else "")
             for code, source in sorted(facts.legal_sources.items())]
    if items:
        blocks.append({"kind": "list", "items": items})
    return blocks or [_note(phrase("to_complete", lang))]


@builder("methodology")
def methodology(facts: Facts, section: dict, lang: str) -> list[dict]:
    rows = [[phrase("interviews", lang), sum(facts.interviews.values())],
            [phrase("photos", lang), facts.photos_total]]
    if facts.ratings:
        rows.append([phrase("answers", lang), ", ".join(f"{label('rating', code, lang)}: {n}"
                                                        for code, n in facts.ratings.items())])
    return _fixed_text(section, lang) + [_facts(rows)]


@builder("grounds")
def grounds(facts: Facts, section: dict, lang: str) -> list[dict]:
    blocks = _fixed_text(section, lang)
    if facts.visit is not None:
        visit = facts.visit
        blocks.append(_facts([[phrase("visit_type", lang), tr(visit["visit_type_names"], lang)
                               + f" ({phrase('announced' if visit['announced'] else 'unannounced', lang)})"]]))
    blocks.append(_note(phrase("to_complete", lang)))
    return blocks


@builder("previous_recommendations", "follow_up")
def previous_recommendations(facts: Facts, section: dict, lang: str) -> list[dict]:
    if facts.visit is None:
        return implementation(facts, section, lang)
    if not facts.earlier:
        return _fixed_text(section, lang) + _nothing(lang)
    return _fixed_text(section, lang) + [_recommendation_table(facts, facts.earlier, lang, with_status=True)]


def _finding_blocks(facts: Facts, findings: list[dict], lang: str) -> list[dict]:
    blocks = []
    for finding in findings:
        blocks.append(_h(finding["title"]))
        if finding["text"]:
            blocks.append(_p(finding["text"]))
        basis = [f"{tr(facts.legal_sources.get(b.get('source'), {}).get('titles') or {'ru': b.get('source', '')}, lang)}"
                 + (f", {b['article']}" if b.get("article") else "")
                 for b in finding["legal_basis"] if isinstance(b, dict)]
        if basis:
            blocks.append(_note(f"{phrase('legal_basis', lang)}: " + "; ".join(basis)))
        if finding["repeated"]:
            blocks.append(_note(phrase("repeated", lang)))
        photos = _photos_block(facts, finding["photo_ids"]) if finding["photo_ids"] else None
        if photos:
            blocks.append(photos)
    return blocks


@builder("findings")
def findings(facts: Facts, section: dict, lang: str) -> list[dict]:
    topics = section.get("topics")
    selected = [f for f in facts.findings if not topics or f["topic"] in topics]
    if facts.visit is None:
        return _fixed_text(section, lang) + _main_findings(facts, selected, lang)
    return _fixed_text(section, lang) + (_finding_blocks(facts, selected, lang) or _nothing(lang))


@builder("good_practice")
def good_practice(facts: Facts, section: dict, lang: str) -> list[dict]:
    if not facts.good_practice:
        return _fixed_text(section, lang) + _nothing(lang)
    return _fixed_text(section, lang) + [_p(phrase("good_practice_intro", lang)),
                                         {"kind": "list", "items": [tr(g["question"], lang) for g in facts.good_practice]}]


@builder("reprisals")
def reprisals(facts: Facts, section: dict, lang: str) -> list[dict]:
    rows = [[phrase("reprisal_risk", lang), facts.reprisal_risk],
            [phrase("followups_open", lang), facts.follow_ups.get("open", 0)],
            [phrase("followups_done", lang), facts.follow_ups.get("done", 0)]]
    return _fixed_text(section, lang) + [_facts(rows), _note(phrase("reprisal_note", lang))]


@builder("allegations")
def allegations(facts: Facts, section: dict, lang: str) -> list[dict]:
    rows = [[phrase(f"allegation_{kind}", lang), facts.allegations.get(kind, 0)]
            for kind in ("torture", "ill_treatment", "threats")]
    return _fixed_text(section, lang) + [_facts(rows), _note(phrase("reprisal_note", lang))]


@builder("recommendations")
def recommendations(facts: Facts, section: dict, lang: str) -> list[dict]:
    recs = facts.recommendations
    if facts.visit is None:
        # The annual report's own recommendations: systemic and priority ones.
        recs = sorted([r for r in recs if r["systemic"] or r["priority"] != "normal"], key=_rec_sort_key)
    if not recs:
        return _fixed_text(section, lang) + _nothing(lang)
    blocks = _fixed_text(section, lang)
    by_authority = defaultdict(list)
    for rec in recs:
        by_authority[rec["authority"]].append(rec)
    for authority in facts.authorities:
        group = by_authority.get(authority["code"])
        if not group:
            continue
        shown = group[:MAX_MAIN_RECOMMENDATIONS] if facts.visit is None else group
        blocks += [_h(tr(authority["names"], lang)), _recommendation_table(facts, shown, lang, with_status=False)]
        if len(group) > len(shown):
            blocks.append(_note(phrase("more_in_register", lang, n=len(group) - len(shown))))
    return blocks


@builder("annexes", "annex")
def annexes(facts: Facts, section: dict, lang: str) -> list[dict]:
    blocks = _fixed_text(section, lang)
    if facts.visit is None:
        blocks += [_h(phrase("facilities_visited", lang)), _facilities_table(facts, facts.visits, lang)]
    if facts.measurements:
        blocks += [_h(phrase("measurements", lang)), _table(
            [phrase("item", lang), "m²", phrase("count", lang), "m² / 1", "norm"],
            [[tr(m["question"], lang), m["area_m2"], m["occupants"], m["per_person"], m["norm"] or ""]
             for m in facts.measurements])]
    photos = _photos_block(facts)
    if photos:
        blocks += [_h(phrase("photos", lang)), _note(phrase("photo_note", lang))]
        if facts.photos_total > len(facts.photos):
            blocks.append(_note(phrase("photo_cap_note", lang, shown=len(facts.photos), total=facts.photos_total)))
        blocks.append(photos)
    return blocks or _nothing(lang)


# -- annual and period reports ----------------------------------------------------------------------

def _facilities_table(facts: Facts, visits: list[dict], lang: str) -> dict:
    """One row per facility visited (an annual report lists places, not each
    of its visits): dates of the visits, capacity and people held."""
    by_facility: dict[int, list[dict]] = defaultdict(list)
    for visit in visits:
        by_facility[visit["facility_id"]].append(visit)
    rows = []
    for facility_id, its_visits in by_facility.items():
        facility = facts.facilities[facility_id]
        rows.append([tr(facility["names"], lang), tr(facility["region"], lang),
                     ", ".join(fmt_date(v["starts_on"]) for v in its_visits), facility["capacity"] or "",
                     facility["population"] if facility["population"] is not None else "", _occupancy(facility)])
    rows.sort(key=lambda row: (row[1], row[0]))
    return _table([phrase("facility", lang), phrase("region", lang), phrase("dates", lang), phrase("capacity", lang),
                   phrase("population", lang), phrase("occupancy", lang)], rows, [30, 16, 24, 10, 10, 10])


def _main_findings(facts: Facts, findings: list[dict], lang: str) -> list[dict]:
    if not findings:
        return _nothing(lang)
    topics = Counter(f["topic"] for f in findings)
    titles = Counter(f["title"] for f in findings)
    repeated = sum(1 for f in findings if f["repeated"])
    blocks = [_table([phrase("topic", lang), phrase("count", lang)],
                     [[label("topic", code, lang), n] for code, n in sorted(topics.items(), key=lambda kv: (-kv[1], kv[0]))]),
              _h(phrase("main_findings", lang)),
              {"kind": "list", "items": [f"{title} ({n})" for title, n in
                                         sorted(titles.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_MAIN_FINDINGS]]}]
    if repeated:
        blocks.append(_note(f"{phrase('repeated', lang)}: {repeated}"))
    return blocks


def _chapter(facts: Facts, section: dict, lang: str, visits: list[dict], findings: list[dict],
             recs: list[dict]) -> list[dict]:
    facility_ids = {v["facility_id"] for v in visits}
    blocks = [_facts([[phrase("visits_total", lang), len(visits)], [phrase("facilities_count", lang), len(facility_ids)],
                      [phrase("findings_count", lang), len(findings)],
                      [phrase("recommendations_count", lang), len(recs)]])]
    if visits:
        blocks += [_h(phrase("facilities_visited", lang)), _facilities_table(facts, visits, lang)]
    blocks += [_h(phrase("main_findings", lang))] + [b for b in _main_findings(facts, findings, lang) if b["kind"] != "h"]
    blocks.append(_h(phrase("recommendations_issued", lang)))
    if recs:
        main = sorted(recs, key=_rec_sort_key)[:MAX_MAIN_RECOMMENDATIONS]
        blocks += [_status_counts(recs, lang), _h(phrase("main_recommendations", lang)),
                   _recommendation_table(facts, main, lang, with_status=True)]
        if len(recs) > len(main):
            blocks.append(_note(phrase("more_in_register", lang, n=len(recs) - len(main))))
    else:
        blocks += _nothing(lang)
    return blocks


@builder("authority_chapter")
def authority_chapter(facts: Facts, section: dict, lang: str) -> list[dict]:
    """One chapter per supervising authority (and facility types), as the
    Kazakh consolidated report is organised."""
    def facility_of(fid: int) -> dict:
        return facts.facilities[fid]

    visits = [v for v in facts.visits if matches(section, facility_of(v["facility_id"])["authority"],
                                                 facility_of(v["facility_id"])["type_code"])]
    findings = [f for f in facts.findings if matches(section, facility_of(f["facility_id"])["authority"],
                                                     facility_of(f["facility_id"])["type_code"])]
    recs = [r for r in facts.recommendations if matches(section, r["authority"], r["facility_type"])]
    return _fixed_text(section, lang) + _chapter(facts, section, lang, visits, findings, recs)


@builder("findings_by_authority")
def findings_by_authority(facts: Facts, section: dict, lang: str) -> list[dict]:
    blocks = _fixed_text(section, lang)
    for authority in facts.authorities:
        code = authority["code"]
        visits = [v for v in facts.visits if facts.facilities[v["facility_id"]]["authority"] == code]
        recs = [r for r in facts.recommendations if r["authority"] == code]
        if not visits and not recs:
            continue
        findings = [f for f in facts.findings if facts.facilities[f["facility_id"]]["authority"] == code]
        blocks += [_h(tr(authority["names"], lang))] + _chapter(facts, {"authorities": [code]}, lang, visits,
                                                                findings, recs)
    return blocks or _nothing(lang)


@builder("npm_activity", "visits_overview", "overview", "visits_by_type")
def visits_overview(facts: Facts, section: dict, lang: str) -> list[dict]:
    by_type = Counter()
    names = {}
    for visit in facts.visits:
        by_type[visit["visit_type"]] += 1
        names[visit["visit_type"]] = visit["visit_type_names"]
    rows = [[phrase("visits_total", lang), len(facts.visits)],
            [phrase("facilities_count", lang), len({v["facility_id"] for v in facts.visits})],
            [phrase("findings_count", lang), len(facts.findings)],
            [phrase("recommendations_count", lang), len(facts.recommendations)]]
    if facts.period:
        rows.insert(0, [phrase("period", lang), f"{fmt_date(facts.period[0].isoformat())} – "
                                                f"{fmt_date(facts.period[1].isoformat())}"])
    blocks = _fixed_text(section, lang) + [_facts(rows)]
    if by_type:
        blocks.append(_table([phrase("visit_type", lang), phrase("count", lang)],
                             [[tr(names[code], lang), n] for code, n in sorted(by_type.items())]))
    if section.get("code") in ("visits_overview", "npm_activity"):
        blocks += visits_by_authority(facts, {}, lang)
    return blocks


@builder("visits_by_authority")
def visits_by_authority(facts: Facts, section: dict, lang: str) -> list[dict]:
    counts = Counter()
    type_names = {}
    for visit in facts.visits:
        facility = facts.facilities[visit["facility_id"]]
        counts[(facility["authority"], facility["type_code"])] += 1
        type_names[facility["type_code"]] = facility["type_names"]
    if not counts:
        return _fixed_text(section, lang) + _nothing(lang)
    order = {a["code"]: i for i, a in enumerate(facts.authorities)}
    rows = [[_authority_name(facts, authority, lang, short=True), tr(type_names[ftype], lang), n]
            for (authority, ftype), n in sorted(counts.items(), key=lambda kv: (order.get(kv[0][0], 99), kv[0][1]))]
    return _fixed_text(section, lang) + [_table([phrase("authority", lang), phrase("facility_type", lang),
                                                 phrase("visits", lang)], rows)]


@builder("implementation", "recommendations_status")
def implementation(facts: Facts, section: dict, lang: str) -> list[dict]:
    blocks = _fixed_text(section, lang)
    recs = facts.earlier + facts.recommendations
    if not recs:
        return blocks + _nothing(lang)
    headers = [phrase("authority", lang)] + [label("assessment", code, lang) for code in
                                             ("not_started", "in_progress", "partially_implemented", "implemented",
                                              "not_implemented", "no_longer_applicable")] + [phrase("total", lang)]
    rows = []
    for authority in facts.authorities:
        mine = [r for r in recs if r["authority"] == authority["code"]]
        if not mine:
            continue
        counts = Counter()
        for r in mine:
            counts[r["assessment"]] += _weight(r)
        rows.append([tr(authority["short"], lang)] + [counts[c] for c in
                                                      ("not_started", "in_progress", "partially_implemented",
                                                       "implemented", "not_implemented", "no_longer_applicable")]
                    + [sum(counts.values())])
    blocks += [_h(phrase("earlier_recommendations", lang)), _status_counts(facts.earlier, lang),
               _h(phrase("status_overall", lang)), _table(headers, rows)]
    if facts.period:
        end = facts.period[1].isoformat()
        blocks.append(_facts([[phrase("open", lang), sum(_weight(r) for r in recs if r["status"] == "open")],
                              [phrase("closed", lang), sum(_weight(r) for r in recs if r["status"] == "closed")],
                              [phrase("overdue", lang), sum(_weight(r) for r in recs if _overdue(r, end))]]))
    return blocks


@builder("complaints", "complaints_received")
def complaints(facts: Facts, section: dict, lang: str) -> list[dict]:
    blocks = _fixed_text(section, lang)
    if facts.complaints is None:
        return blocks + [_note(phrase("complaints_unavailable", lang))]
    data = facts.complaints
    blocks.append(_facts([[phrase("complaints_total", lang), data["total"]]]))
    if data["by_category"]:
        blocks.append(_table([phrase("category", lang), phrase("count", lang)],
                             [[tr(c["names"], lang), c["count"]] for c in data["by_category"]]))
    if data["by_channel"]:
        blocks.append(_table([phrase("channel", lang), phrase("count", lang)],
                             [[tr(c["names"], lang), c["count"]] for c in data["by_channel"]]))
    return blocks + [_note(phrase("complaints_note", lang))]


@builder("complaint_boxes")
def complaint_boxes(facts: Facts, section: dict, lang: str) -> list[dict]:
    blocks = _fixed_text(section, lang)
    if facts.boxes is None:
        return blocks + [_note(phrase("complaints_unavailable", lang))]
    if not facts.boxes:
        return blocks + _nothing(lang)
    rows = [[_facility_name(facts, b["facility_id"], lang), b["box"], b["openings"], b["letters"],
             ", ".join(b["opened_by"])] for b in facts.boxes]
    rows.append([phrase("total", lang), "", sum(b["openings"] for b in facts.boxes),
                 sum(b["letters"] for b in facts.boxes), ""])
    return blocks + [_table([phrase("facility", lang), phrase("box", lang), phrase("openings", lang),
                             phrase("letters", lang), phrase("opened_by", lang)], rows),
                     _note(phrase("complaints_note", lang))]


@builder("npm_body")
def npm_body(facts: Facts, section: dict, lang: str) -> list[dict]:
    return [_p(tr(facts.country["npm_body"], lang))] + _fixed_text(section, lang)


@builder("text")
def text(facts: Facts, section: dict, lang: str) -> list[dict]:
    return _fixed_text(section, lang) + [_note(phrase("to_complete", lang))]


def build_sections(facts: Facts, fmt: dict, lang: str) -> list[dict]:
    sections = []
    for section in fmt["sections"]:
        build = BUILDERS.get(section.get("builder") or section["code"])
        if build is None and (section.get("authorities") or section.get("facility_types")):
            build = authority_chapter
        blocks = (build or text)(facts, section, lang)
        sections.append({"code": section["code"], "title": tr(section["titles"], lang), "blocks": blocks})
    return sections
