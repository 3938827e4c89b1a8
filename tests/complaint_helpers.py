"""Factories for complaint tests."""

from __future__ import annotations

import io
from datetime import date

from flask import current_app
from PIL import Image

from npmtool.crypto import sealer
from npmtool.services.complaints import (BoxOpeningInput, ComplaintInput, Upload, file_complaint,
                                         record_box_opening)


def png_bytes(size=(40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 80, 80)).save(buffer, "PNG")
    return buffer.getvalue()


def pdf_bytes() -> bytes:
    return b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def complaint_input(facility=None, country="KG", **changes) -> ComplaintInput:
    values = dict(country_code=facility.country_code if facility else country, category_code="health_care",
                  text="No doctor came for three days. (test)", facility_id=facility.id if facility else None)
    values.update(changes)
    return ComplaintInput(**values)


def make_complaint(session, user, facility=None, *, with_code=True, **changes):
    """A complaint and its tracking code."""
    return file_complaint(session, user, complaint_input(facility, **changes), sealer(),
                          secret=current_app.config["SECRET_KEY"], catalogue=current_app.extensions["npmtool"].catalogue,
                          with_code=with_code)


def world_complaint(session, users, facility):
    """For the URL walk: a complaint the CSO filed (so every allowed role may
    open it) with one attachment, and a box opening."""
    complaint, _code = make_complaint(session, users["cso"], facility,
                                      attachments=[Upload("injury.png", png_bytes())])
    opening = record_box_opening(session, users["coordinator"], BoxOpeningInput(
        facility_id=facility.id, box_label="Sector 1", opened_on=date.today(), opened_by_id=users["coordinator"].id,
        letters_count=2))
    return complaint, opening
