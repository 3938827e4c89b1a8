# temporary: manual browser check of evidence.js (deleted after use)
import re
from tests.e2e.conftest import browser, chromium_path, live_app, page  # noqa
from tests.test_evidence import jpeg, world, store, upload  # noqa
from tests.conftest import PASSWORD

def test_draw(live_app, page, session, world, upload):
    photo = upload(jpeg(size=(800, 600)))
    url = live_app.config["LIVE_URL"]
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url + "/login")
    page.fill("input[name=username]", world["users"]["monitor"].username)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign in").click(); page.wait_for_load_state()
    page.goto(url + f"/evidence/{photo.id}")
    img = page.locator("[data-image]")
    img.wait_for()
    page.wait_for_function("document.querySelector('[data-image]').complete && document.querySelector('[data-image]').naturalWidth > 0")
    box = img.bounding_box()
    print("img box", box)
    page.mouse.move(box["x"] + box["width"] * 0.25, box["y"] + box["height"] * 0.30)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.35, box["y"] + box["height"] * 0.45, steps=5)
    page.mouse.move(box["x"] + box["width"] * 0.45, box["y"] + box["height"] * 0.60, steps=5)
    page.mouse.up()
    print("hidden", page.input_value("[data-redactions]"))
    print("row0", [page.input_value(f"#box-0-{k}") for k in "xywh"])
    print("overlay boxes", page.locator(".redaction-box").count())
    # add 4 more boxes to force row cloning
    for i in range(4):
        y0 = 0.05 + i * 0.05
        page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * y0)
        page.mouse.down(); page.mouse.move(box["x"] + box["width"] * 0.7, box["y"] + box["height"] * (y0 + 0.04), steps=3); page.mouse.up()
    print("rows", page.locator("[data-row]").count(), "count", page.input_value("[data-box-count]"))
    print("last row ids", page.locator("[data-row]").last.inner_html()[:400])
    page.screenshot(path="/tmp/e2echeck/drawn.png", full_page=True)
    page.click("button.button.primary:has-text('Save redactions')")
    page.wait_for_load_state()
    print("flash", page.locator(".message").all_inner_texts())
    session.expire_all()
    from npmtool.models import Evidence
    print("saved", session.get(Evidence, photo.id).redactions)
    page.goto(url + f"/visits/{world['visit'].id}/evidence")
    page.screenshot(path="/tmp/e2echeck/index.png", full_page=True)
    print("errors", errors)
