"""The public complaint form and tracking page: no account, a code shown
once, only status and public replies, and the abuse defences."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from npmtool.crypto import sealer
from npmtool.models import Complaint, ComplaintCategory
from npmtool.services import complaints as service
from tests.complaint_helpers import make_complaint, pdf_bytes, png_bytes

TEXT = "My brother was beaten by guards on 3 May and has had no doctor since."


def form_data(place, **changes):
    data = {"country": place.country_code, "region_id": "0", "q": "", "facility": str(place.id),
            "category": "torture_ill_treatment", "text": TEXT, "occurred_on": "", "filer": "family",
            "identity": "", "contact": "", "website": ""}
    data.update(changes)
    return data


def count(session) -> int:
    return session.scalar(select(func.count()).select_from(Complaint))


def file(client, place, **changes):
    return client.post("/complain", data=form_data(place, **changes), content_type="multipart/form-data")


def shown_code(client) -> str:
    page = client.get("/complain/sent")
    assert page.status_code == 200
    return re.search(rb'id="tracking-code">([A-Z0-9-]+)<', page.data).group(1).decode()


def test_anonymous_person_files_and_tracks_a_complaint(session, client, make_facility):
    facility = make_facility(country="KG", name="SIZO-1 Bishkek test")
    response = file(client, facility)
    assert response.status_code == 302 and response.location.endswith("/complain/sent")
    code = shown_code(client)
    assert re.fullmatch(r"[A-Z0-9]{4}(-[A-Z0-9]{4}){3}", code)
    # Shown once: reloading the page does not show it again.
    assert client.get("/complain/sent").status_code == 302
    complaint = session.scalars(select(Complaint)).one()
    assert complaint.status == "received" and complaint.facility_id == facility.id and complaint.urgent
    assert complaint.anonymous and complaint.filed_by_id is None
    assert complaint.tracking_hash != code and code not in complaint.tracking_hash
    assert complaint.tracking_hash == service.tracking_hash(client.application.config["SECRET_KEY"], code)

    page = client.post("/track", data={"code": code.lower().replace("-", " ")})
    assert page.status_code == 200
    assert b"Received" in page.data
    assert TEXT.encode() not in page.data  # only the status and public replies


def test_tracking_page_shows_public_replies_but_not_internal_notes(session, client, make_user, make_facility):
    complaint, code = make_complaint(session, None, make_facility(country="KG"))
    coordinator = make_user("coordinator", country="KG")
    service.add_reply(session, coordinator, complaint, "We will look into this.", public=True, sealer=sealer())
    service.add_reply(session, coordinator, complaint, "Ask the prosecutor about cell 4", public=False,
                      sealer=sealer())
    page = client.post("/track", data={"code": code})
    assert b"We will look into this." in page.data
    assert b"prosecutor" not in page.data


def test_form_works_in_every_language_and_without_an_account(client):
    for language in ("ru", "en", "kk", "ky", "uz"):
        client.post("/language", data={"language": language, "next": "/complain"})
        page = client.get("/complain")
        assert page.status_code == 200
        assert b'name="text"' in page.data and b'name="website"' in page.data
    assert b"Report a concern" in client.post("/language", data={"language": "en", "next": "/login"},
                                              follow_redirects=True).data


def test_facility_search_by_name_and_region_keeps_the_text(client, make_facility):
    wanted = make_facility(country="KG", name="Colony No. 47 Moldovanovka")
    other = make_facility(country="KG", name="SIZO-5 Osh")
    data = form_data(wanted, facility="", q="moldovan", find="1")
    page = client.post("/complain", data=data, content_type="multipart/form-data")
    assert page.status_code == 200
    assert f'value="{wanted.id}"'.encode() in page.data and f'value="{other.id}"'.encode() not in page.data
    assert TEXT.encode() in page.data  # nothing typed is lost by searching
    by_region = client.post("/complain", data=form_data(wanted, facility="", region_id=str(other.region_id),
                                                        find="1"), content_type="multipart/form-data")
    assert f'value="{other.id}"'.encode() in by_region.data


def test_not_sure_of_the_facility_is_allowed(session, client, make_facility):
    facility = make_facility(country="KG")
    assert file(client, facility, facility="unsure", region_id=str(facility.region_id)).status_code == 302
    complaint = session.scalars(select(Complaint)).one()
    assert complaint.facility_id is None and complaint.region_id == facility.region_id


def test_validation_failure_keeps_what_the_person_typed(session, client, make_facility):
    facility = make_facility(country="KG")
    response = file(client, facility, category="", contact="call my sister 0555 111 222")
    assert response.status_code == 400
    assert TEXT.encode() in response.data and b"call my sister 0555 111 222" in response.data
    assert b"Choose what the complaint is about." in response.data
    # A rule of the service (a name without consent) re-renders the same way.
    refused = file(client, facility, identity="Azamat K.")
    assert refused.status_code == 400
    assert b"agrees to be named" in refused.data and TEXT.encode() in refused.data and b"Azamat K." in refused.data
    assert count(session) == 0


def test_name_is_kept_only_with_consent_and_sealed(session, client, make_facility):
    facility = make_facility(country="KG")
    file(client, facility, identity="Azamat K.", consent_to_be_named="y", contact="azamat@example.org")
    complaint = session.scalars(select(Complaint)).one()
    assert complaint.consent_to_be_named and not complaint.anonymous
    assert sealer().open(complaint.identity_sealed) == "Azamat K."
    assert sealer().open(complaint.contact_sealed) == "azamat@example.org"


def test_honeypot_pretends_success_and_stores_nothing(session, client, make_facility):
    facility = make_facility(country="KG")
    response = file(client, facility, website="http://spam.example")
    assert response.status_code == 302
    code = shown_code(client)  # the robot sees a code like anyone else
    assert count(session) == 0
    assert b"No complaint matches" in client.post("/track", data={"code": code}).data


def test_form_is_rate_limited_per_address_and_keeps_the_text(session, make_app, make_facility):
    app = make_app({"COMPLAINT_FORM_LIMIT": 2})
    with app.app_context():
        facility = make_facility(country="KG")
        client = app.test_client()
        assert file(client, facility).status_code == 302
        assert file(client, facility).status_code == 302
        blocked = file(client, facility)
        assert blocked.status_code == 429
        assert TEXT.encode() in blocked.data
        assert count(session) == 2
        # Another address is not affected.
        other = client.post("/complain", data=form_data(facility), content_type="multipart/form-data",
                            environ_base={"REMOTE_ADDR": "10.9.8.7"})
        assert other.status_code == 302


def test_rate_limit_stores_no_address(session, client, make_facility):
    from npmtool.models import RateLimitHit

    file(client, make_facility(country="KG"))
    keys = session.scalars(select(RateLimitHit.key)).all()
    assert keys and all("127.0.0.1" not in k for k in keys)


def _without_code(body: bytes, code: str) -> bytes:
    return body.replace(code.encode(), b"CODE")


def test_wrong_code_and_malformed_code_get_the_same_answer(session, client, make_facility):
    make_complaint(session, None, make_facility(country="KG"))
    unknown = service.new_tracking_code()
    for code in (unknown, "x", "not-a-code-at-all!!", "AAAA-AAAA-AAAA-AAA0"):
        response = client.post("/track", data={"code": code})
        assert response.status_code == 200
        assert b"No complaint matches this code" in response.data
    first = client.post("/track", data={"code": unknown})
    second = client.post("/track", data={"code": "QQ!!QQ"})
    assert _without_code(first.data, unknown) == _without_code(second.data, "QQ!!QQ")


def test_tracking_is_rate_limited(make_app, make_facility):
    app = make_app({"COMPLAINT_TRACK_LIMIT": 3})
    with app.app_context():
        from npmtool.extensions import db

        complaint, code = make_complaint(db.session, None, make_facility(country="KG"))
        client = app.test_client()
        for _ in range(3):
            assert client.post("/track", data={"code": "WRONG"}).status_code == 200
        blocked = client.post("/track", data={"code": code})  # even the right code, once the limit is hit
        assert blocked.status_code == 429
        assert b"Received" not in blocked.data


@pytest.mark.parametrize("name,data,media_type", [("photo.png", png_bytes(), "image/png"),
                                                   ("letter.pdf", pdf_bytes(), "application/pdf")])
def test_image_and_pdf_attachments_are_accepted_and_sealed(session, client, make_facility, name, data, media_type):
    from io import BytesIO

    facility = make_facility(country="KG")
    response = client.post("/complain", data={**form_data(facility), "attachments": [(BytesIO(data), name)]},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    attachment = session.scalars(select(Complaint)).one().attachments[0]
    assert attachment.media_type == media_type and attachment.size == len(data)
    assert data not in bytes(attachment.data_sealed)
    assert service.open_attachment(sealer(), attachment) == (name, data)


@pytest.mark.parametrize("name,data,message", [
    ("virus.png", b"MZ\x90\x00 this is an executable", b"is not a JPEG or PNG image or a PDF"),
    ("broken.pdf", b"%PDF-1.4\n1 0 obj", b"incomplete PDF"),
    ("cut.png", png_bytes()[:60], b"damaged or incomplete"),
])
def test_bad_attachments_are_refused_and_the_text_kept(session, client, make_facility, name, data, message):
    from io import BytesIO

    facility = make_facility(country="KG")
    response = client.post("/complain", data={**form_data(facility), "attachments": [(BytesIO(data), name)]},
                           content_type="multipart/form-data")
    assert response.status_code == 400
    assert message in response.data and TEXT.encode() in response.data
    assert count(session) == 0


def test_attachment_size_and_number_limits(session, make_app, make_facility):
    from io import BytesIO

    app = make_app({"COMPLAINT_ATTACHMENT_MAX_BYTES": 1024, "COMPLAINT_MAX_ATTACHMENTS": 2})
    with app.app_context():
        facility = make_facility(country="KG")
        client = app.test_client()
        big = client.post("/complain", data={**form_data(facility), "attachments": [(BytesIO(b"%PDF-" + b"0" * 2000
                                                                                             + b"%%EOF"), "big.pdf")]},
                          content_type="multipart/form-data")
        assert big.status_code == 400 and b"larger than" in big.data
        many = client.post("/complain", data={**form_data(facility), "attachments": [
            (BytesIO(pdf_bytes()), f"{n}.pdf") for n in range(3)]}, content_type="multipart/form-data")
        assert many.status_code == 400 and b"at most 2 files" in many.data
        assert count(session) == 0


def test_category_must_exist_in_the_chosen_country(session, client, make_facility):
    # Kyrgyzstan's plugin has no "reprisals" category.
    assert session.scalar(select(ComplaintCategory).where(ComplaintCategory.country_code == "KG",
                                                          ComplaintCategory.code == "reprisals")) is None
    response = file(client, make_facility(country="KG"), category="reprisals")
    assert response.status_code == 400 and TEXT.encode() in response.data


def test_cso_files_on_behalf_of_someone_and_follows_it(session, client, auth, make_user, make_facility):
    cso = make_user("cso", country="KG")
    auth.login(cso)
    assert file(client, make_facility(country="KG"), filer="other").status_code == 302
    complaint = session.scalars(select(Complaint)).one()
    assert complaint.filed_by_id == cso.id and complaint.filer == "cso"
    assert f"No. {complaint.id}".encode() in client.get("/complaints/").data
