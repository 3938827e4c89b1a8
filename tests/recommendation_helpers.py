"""Factories for recommendation tests."""

from __future__ import annotations

from datetime import date, timedelta

from npmtool.services.recommendations import RecommendationInput, add_document, create_recommendation

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def make_recommendation(session, coordinator, facility, *, with_document=False, flags=(), finding_ids=(),
                        systemic=False, issued_on=None, deadline_days=90, text="Install lighting in cells."):
    issued_on = issued_on or date.today() - timedelta(days=10)
    rec = create_recommendation(session, coordinator, RecommendationInput(
        text=text, authority_id=facility.authority_id, topic="conditions",
        initial_deadline=issued_on + timedelta(days=deadline_days), priority_flags=list(flags),
        facility_ids=[] if systemic else [facility.id], systemic=systemic, finding_ids=list(finding_ids),
        issued_on=issued_on))
    if with_document:
        add_document(session, coordinator, rec, filename="letter.pdf", data=PDF, title="Letter")
    return rec
