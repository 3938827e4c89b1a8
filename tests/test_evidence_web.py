"""Photo evidence pages: upload from the tablet, warnings, redaction editor,
file responses, the manifest download and who may see what."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from PIL import Image
from sqlalchemy import func, select

from npmtool.models import CustodyEvent, Evidence, EvidenceFile
from npmtool.services import evidence as service
from tests.test_evidence import FACE, jpeg, store, upload, world  # noqa: F401 — fixtures



def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def post_photos(client, visit_id: int, *files, **fields):
    data = {"photos": [(io.BytesIO(content), name) for name, content in files], **fields}
    return client.post(f"/visits/{visit_id}/evidence", data=data, content_type="multipart/form-data")


@pytest.fixture
def photo(world, upload):
    return upload(jpeg())


# -- the upload page -----------------------------------------------------------------

def test_upload_page_is_made_for_the_tablet_camera(client, auth, world):
    auth.login(world["users"]["monitor"])
    page = client.get(f"/visits/{world['visit'].id}/evidence").data.decode()
    field = re.search(r"<input type=\"file\"[^>]*>", page).group(0)
    for attribute in ('accept="image/jpeg,image/png"', 'capture="environment"', "multiple", 'name="photos"'):
        assert attribute in field
    assert '<label for="photos">' in page and '<label for="item_id">' in page and '<label for="interview_id">' in page
    template = world["template"]
    first_item = template.items[0]
    assert f'<option value="{first_item.id}"' in page and first_item.code in page
    assert f'<option value="{template.items[5].id}"' not in page  # not attached to this visit
    assert "KG-T-01" in page
    assert re.search(r"<script(?![^>]*\bsrc=)", page) is None  # no inline script (CSP)


def test_upload_several_photos_at_once(client, auth, session, world):
    auth.login(world["users"]["monitor"])
    response = post_photos(client, world["visit"].id, ("a.jpg", jpeg()), ("b.jpg", jpeg(color=(1, 2, 3))),
                           caption="Yard", item_id=str(world["item_ids"][1]), client_uuid=str(uuid.uuid4()))
    assert response.status_code == 302
    rows = session.scalars(select(Evidence).order_by(Evidence.id)).all()
    assert [(e.caption, e.item_id) for e in rows] == [("Yard", world["item_ids"][1])] * 2
    assert len({e.client_uuid for e in rows}) == 2
    page = client.get(response.location).data.decode()
    assert "2 photo(s) saved." in page
    for evidence in rows:
        assert f"/evidence/{evidence.id}/thumbnail" in page


def test_warnings_are_visible_in_the_list_and_on_the_photo(client, auth, world, upload):
    far = upload(jpeg(taken="2026:01:05 09:00:00", gps=(43.5, 74.59)))
    auth.login(world["users"]["monitor"])
    page = client.get(f"/visits/{world['visit'].id}/evidence").data.decode()
    assert "Taken on 2026-01-05, outside the visit (2026-03-10 – 2026-03-11)." in page
    assert re.search(r"Taken 6\d\.\d+ km from the facility \(more than 2\.0 km away\)\.", page)
    assert "has-alert" in page
    detail = client.get(f"/evidence/{far.id}").data.decode()
    assert "outside the visit" in detail and "km from the facility" in detail


def test_bad_files_get_a_clear_message_and_the_form_is_kept(client, auth, session, world):
    auth.login(world["users"]["monitor"])
    good = jpeg()
    response = post_photos(client, world["visit"].id, ("notes.jpg", b"this is text"),
                           ("half.jpg", good[:len(good) // 2]), ("good.jpg", good), caption="Kitchen",
                           interview_id=str(world["interview_id"]))
    assert response.status_code == 400
    page = response.data.decode()
    assert "notes.jpg: This file is not a JPEG or PNG photo. Nothing was saved." in page
    assert "half.jpg: This image is damaged or incomplete" in page
    assert "1 photo(s) saved." in page
    assert 'value="Kitchen"' in page
    assert f'<option value="{world["interview_id"]}" selected>' in page
    assert count(session, Evidence) == 1 and count(session, EvidenceFile) == 1


def test_file_over_the_photo_limit_gets_a_page_not_a_bare_413(app, client, auth, session, world):
    data = jpeg()
    app.config["EVIDENCE_MAX_BYTES"] = len(data) - 1  # still under MAX_CONTENT_LENGTH
    auth.login(world["users"]["monitor"])
    response = post_photos(client, world["visit"].id, ("big.jpg", data), caption="Cell 2")
    assert response.status_code == 400
    page = response.data.decode()
    assert "big.jpg: The file is larger than" in page and "Nothing was saved" in page
    assert 'value="Cell 2"' in page and 'type="file"' in page
    assert count(session, Evidence) == 0


def test_request_over_max_content_length_gets_the_file_too_large_page(app, client, auth, session, world):
    auth.login(world["users"]["monitor"])
    app.config["MAX_CONTENT_LENGTH"] = 20_000
    response = post_photos(client, world["visit"].id, ("huge.jpg", b"\xff\xd8" + b"\x00" * 30_000))
    assert response.status_code == 413
    assert "File too large" in response.data.decode()
    assert count(session, Evidence) == 0


def test_upload_without_a_file_is_refused_with_a_message(client, auth, world):
    auth.login(world["users"]["monitor"])
    response = client.post(f"/visits/{world['visit'].id}/evidence", data={"caption": "x"})
    assert response.status_code == 400
    assert "Choose or take at least one photo." in response.data.decode()


def test_same_photo_twice_and_a_retried_form(client, auth, session, world):
    auth.login(world["users"]["monitor"])
    data, key = jpeg(), str(uuid.uuid4())
    assert post_photos(client, world["visit"].id, ("a.jpg", data), client_uuid=key).status_code == 302
    retried = post_photos(client, world["visit"].id, ("a.jpg", data), client_uuid=key)
    assert retried.status_code == 302
    assert "a.jpg was already received; nothing was stored twice." in client.get(retried.location).data.decode()
    assert count(session, Evidence) == 1
    again = post_photos(client, world["visit"].id, ("copy.jpg", data), client_uuid=str(uuid.uuid4()))
    page = client.get(again.location).data.decode()
    assert "copy.jpg: the same file was uploaded before; it is stored once and referenced again." in page
    assert count(session, Evidence) == 2 and count(session, EvidenceFile) == 1


# -- one photo ---------------------------------------------------------------------------

def test_detail_shows_facts_custody_and_the_redaction_editor(client, auth, world, photo):
    auth.login(world["users"]["monitor"])
    page = client.get(f"/evidence/{photo.id}").data.decode()
    assert photo.file.sha256 in page
    assert "2026-03-10 11:00:00" in page and "TestCam X1" in page
    assert "42.870000, 74.590000" in page
    assert "Chain of custody" in page and "uploaded" in page and "copy made" in page
    assert "data-redaction-editor" in page
    assert re.search(r'<script src="[^"]*/static/evidence\.js" defer></script>', page)
    assert re.search(r"<script(?![^>]*\bsrc=)", page) is None
    assert f"/evidence/{photo.id}/original?preview=1" in page
    for n in range(3):  # typed boxes work without a mouse or script
        for key in "xywh":
            assert f'<label class="visually-hidden" for="box-{n}-{key}">' in page


def test_redaction_typed_as_numbers_without_script(client, auth, session, world, store, photo):
    auth.login(world["users"]["monitor"])
    x, y, w, h = (round(v * 100, 2) for v in FACE)
    response = client.post(f"/evidence/{photo.id}/redactions", data={
        "box_count": "3", "box-0-x": str(x), "box-0-y": str(y), "box-0-w": str(w), "box-0-h": f"{h}".replace(".", ","),
        "box-1-x": "", "redactions": ""})
    assert response.status_code == 302
    session.refresh(photo)
    assert photo.redactions == [{"x": FACE[0], "y": FACE[1], "w": FACE[2], "h": FACE[3]}]
    with Image.open(store.path_for(photo.publication_sha256, "publication")) as im:
        width, height = im.size
        centre = im.convert("RGB").getpixel((int((FACE[0] + FACE[2] / 2) * width), int((FACE[1] + FACE[3] / 2) * height)))
        assert max(centre) <= 6
    page = client.get(f"/evidence/{photo.id}").data.decode()
    assert 'name="box-0-x" value="25"' in page


def test_redaction_drawn_boxes_come_as_fractions(client, auth, session, world, photo):
    auth.login(world["users"]["monitor"])
    boxes = [{"x": 0.1, "y": 0.2, "w": 0.3, "h": 0.4}]
    response = client.post(f"/evidence/{photo.id}/redactions",
                           data={"box_count": "1", "box-0-x": "10", "box-0-y": "20", "box-0-w": "30", "box-0-h": "40",
                                 "redactions": json.dumps(boxes)})
    assert response.status_code == 302
    session.refresh(photo)
    assert photo.redactions == boxes
    # Removing every box.
    client.post(f"/evidence/{photo.id}/redactions", data={"box_count": "1", "box-0-x": "10", "box-0-y": "20",
                                                           "box-0-w": "30", "box-0-h": "40", "box-0-remove": "1"})
    session.refresh(photo)
    assert photo.redactions == []


@pytest.mark.parametrize("fields, message", [
    ({"box-0-x": "10", "box-0-y": "abc", "box-0-w": "5", "box-0-h": "5"}, "Box 1: fill in x, y, width and height"),
    ({"box-0-x": "90", "box-0-y": "10", "box-0-w": "20", "box-0-h": "5"}, "must lie inside the photo"),
    ({"box-0-x": "10", "box-0-y": "10", "box-0-w": "", "box-0-h": "5"}, "Box 1: fill in x, y, width and height"),
])
def test_bad_boxes_re_render_with_what_was_typed(client, auth, session, world, photo, fields, message):
    auth.login(world["users"]["monitor"])
    before = photo.publication_sha256
    response = client.post(f"/evidence/{photo.id}/redactions", data={"box_count": "3", **fields})
    assert response.status_code == 400
    page = response.data.decode()
    assert message in page
    assert f'name="box-0-x" value="{fields["box-0-x"]}"' in page
    session.refresh(photo)
    assert photo.publication_sha256 == before


def test_original_and_preview_are_recorded_in_custody(client, auth, session, world, photo):
    coordinator = world["users"]["coordinator"]
    auth.login(coordinator)
    response = client.get(f"/evidence/{photo.id}/original")
    assert response.status_code == 200
    assert hashlib.sha256(response.data).hexdigest() == photo.file.sha256
    assert response.headers["Cache-Control"] == "private, no-store"
    preview = client.get(f"/evidence/{photo.id}/original?preview=1")
    assert preview.status_code == 200 and preview.mimetype == "image/jpeg"
    assert b"TestCam" not in preview.data
    viewed = session.scalars(select(CustodyEvent).where(CustodyEvent.action == "viewed")
                             .order_by(CustodyEvent.id)).all()
    assert [(e.user_id, e.details) for e in viewed] == [
        (coordinator.id, {"kind": "original"}), (coordinator.id, {"kind": "original", "preview": True})]


def test_thumbnail_and_publication_are_files_without_metadata(client, auth, world, photo):
    auth.login(world["users"]["monitor"])
    for kind in ("thumbnail", "publication"):
        response = client.get(f"/evidence/{photo.id}/{kind}")
        assert response.status_code == 200 and response.mimetype == "image/jpeg"
        assert b"Exif" not in response.data and b"TestCam" not in response.data
        assert response.headers["Cache-Control"].startswith("private")


def test_manifest_download_is_signed(client, auth, session, world, store, photo):
    auth.login(world["users"]["monitor"])
    response = client.post(f"/visits/{world['visit'].id}/evidence/manifest")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    envelope = json.loads(response.data)
    assert [f["sha256"] for f in envelope["manifest"]["files"]] == [photo.file.sha256]
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(envelope["public_key"]))
    key.verify(base64.b64decode(envelope["signature"]), service.canonical_json(envelope["manifest"]))
    assert service.verify_visit_evidence(session, world["visit"]).ok


# -- who may see what ---------------------------------------------------------------------

def _urls(visit_id: int, evidence_id: int) -> dict[str, tuple[str, str]]:
    return {
        "index": ("GET", f"/visits/{visit_id}/evidence"),
        "detail": ("GET", f"/evidence/{evidence_id}"),
        "thumbnail": ("GET", f"/evidence/{evidence_id}/thumbnail"),
        "publication": ("GET", f"/evidence/{evidence_id}/publication"),
        "original": ("GET", f"/evidence/{evidence_id}/original"),
        "preview": ("GET", f"/evidence/{evidence_id}/original?preview=1"),
        "upload": ("POST", f"/visits/{visit_id}/evidence"),
        "redact": ("POST", f"/evidence/{evidence_id}/redactions"),
        "manifest": ("POST", f"/visits/{visit_id}/evidence/manifest"),
    }


EVERYTHING = {"index", "detail", "thumbnail", "publication", "original", "preview", "upload", "redact", "manifest"}
EXPECTED = {
    "monitor": EVERYTHING,  # in the team
    "coordinator": EVERYTHING,  # of the visit's country
    "admin": {"index", "detail", "thumbnail", "publication", "manifest"},  # never originals; not in visits
    "outsider": set(),  # a monitor not in the team
    "other_coordinator": set(),  # another country
    "council": set(),
    "cso": set(),
}


@pytest.mark.parametrize("who", list(EXPECTED))
def test_access_rules(client, auth, session, world, photo, who):
    auth.login(world["users"][who])
    for name, (method, url) in _urls(world["visit"].id, photo.id).items():
        response = client.open(url, method=method, data={})
        if name in EXPECTED[who]:
            assert response.status_code not in (401, 403), (who, name)
            assert response.status_code < 500, (who, name)
        else:
            assert response.status_code == 403, (who, name, response.status_code)
    originals_seen = session.scalar(select(func.count()).select_from(CustodyEvent)
                                    .where(CustodyEvent.action == "viewed"))
    assert originals_seen == (2 if "original" in EXPECTED[who] else 0)


def test_anonymous_is_sent_to_sign_in(client, world, photo):
    for _name, (method, url) in _urls(world["visit"].id, photo.id).items():
        response = client.open(url, method=method)
        assert response.status_code == 302 and "/login" in response.location


def test_admin_sees_no_original_link_and_no_editor(client, auth, world, photo):
    auth.login(world["users"]["admin"])
    page = client.get(f"/evidence/{photo.id}").data.decode()
    assert f"/evidence/{photo.id}/original" not in page
    assert "data-redaction-editor" not in page
    index = client.get(f"/visits/{world['visit'].id}/evidence").data.decode()
    assert 'type="file"' not in index


def test_closed_visit_takes_no_more_photos(client, auth, session, world, photo):
    world["visit"].status = "closed"
    session.commit()
    auth.login(world["users"]["monitor"])
    page = client.get(f"/visits/{world['visit'].id}/evidence").data.decode()
    assert 'type="file"' not in page and f"/evidence/{photo.id}/thumbnail" in page
    assert post_photos(client, world["visit"].id, ("a.jpg", jpeg())).status_code == 403
    assert client.post(f"/evidence/{photo.id}/redactions", data={}).status_code == 403
    assert client.get(f"/evidence/{photo.id}/original").status_code == 200  # the team still reads it


def test_missing_evidence_is_404(client, auth, world):
    auth.login(world["users"]["monitor"])
    assert client.get("/evidence/999999").status_code == 404
    assert client.get("/visits/999999/evidence").status_code == 404
