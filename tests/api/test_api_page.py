"""The privacy tester's page in a real browser: Debian's Chromium, driven by Playwright.

A tester asks what is held about Obama with a photo of him (the page shows exactly his images), then has him
deleted with "never collect me again"; the page follows the request to completion and checks the receipt's
Ed25519 signature itself, and a receipt changed on the way is caught. The page's console shows no error.
In CI (CI=true) a missing browser fails; elsewhere these tests skip and say how to run them.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import OBAMA, Server, copy_world, query
from tests.conftest import PROJECT_ROOT

#: The README's picture of the page, refreshed only when asked (a test run leaves the checkout as it was).
SCREENSHOT = PROJECT_ROOT / "docs" / "api-page.png"
FINISHED = 120_000  # ms


@pytest.fixture
def page_server(world_template: Path, tmp_path: Path) -> Iterator[Server]:
    server = Server(copy_world(world_template, tmp_path / "world")).start()
    yield server
    server.stop()


def open_page(browser: Any, server: Server) -> tuple[Any, Any, list[str]]:
    context = browser.new_context(viewport={"width": 1100, "height": 900}, accept_downloads=True)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda message: problems.append(f"{message.text} ({message.location.get('url')})")
            if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("requestfailed", lambda request: problems.append(f"request failed: {request.url}"))
    page.goto(server.address + "/")
    return context, page, problems


def wait_until(page: Any, expression: str, timeout: float = 60) -> None:
    """Poll a JavaScript expression (Playwright's wait_for_function evaluates strings, which the page's CSP forbids)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(f"() => Boolean({expression})"):
        assert time.monotonic() < deadline, f"never true: {expression}"
        time.sleep(0.1)


def test_a_tester_sees_exactly_his_images_then_deletes_him_and_the_page_checks_the_signed_receipt(
        browser: Any, page_server: Server, tmp_path: Path) -> None:
    context, page, problems = open_page(browser, page_server)
    outside: list[str] = []
    page.on("request", lambda request: outside.append(request.url)
            if not request.url.startswith((page_server.address, "blob:", "data:")) else None)
    for field in page.query_selector_all("input:not([type=radio]):not([type=checkbox]), textarea"):
        assert page.query_selector(f"label[for='{field.get_attribute('id')}']"), "every field has a label"

    # access: exactly his images, shown, with the archive to download
    page.check("#kind-access")
    page.set_input_files("#photo", str(page_server.world / "probe.jpg"))
    page.fill("#jurisdiction", "FR")
    page.click("#submit")
    page.wait_for_selector("#token-box:not([hidden])")
    access_id, access_token = page.text_content("#request-id"), page.text_content("#request-token")
    assert access_id and access_token and len(access_token) >= 43
    page.wait_for_selector("#signature-check[data-valid]", timeout=FINISHED)
    assert page.get_attribute("#signature-check", "data-valid") == "true", page.text_content("#signature-check")
    shown = [image.get_attribute("alt") or "" for image in page.query_selector_all("#images img")]
    assert {alt.removeprefix("An image of you collected from ") for alt in shown} == OBAMA
    wait_until(page, "[...document.querySelectorAll('#images img')].every(i => i.complete && i.naturalWidth > 0)")
    with page.expect_download() as download:
        page.click("#archive-link")
    assert download.value.suggested_filename == f"faircrawl-access-{access_id}.zip"
    page.screenshot(path=str(page_server.world / "access.png"), full_page=True)

    # deletion, never to be collected again
    page.check("#kind-deletion")
    page.check("#optout")
    page.set_input_files("#photo", str(page_server.world / "probe.jpg"))
    page.keyboard.press("Tab")
    page.focus("#submit")
    page.keyboard.press("Enter")  # the form works from the keyboard
    wait_until(page, f"document.getElementById('request-id').textContent !== {json.dumps(access_id)}")
    deletion_id = page.text_content("#request-id")
    page.wait_for_selector("#signature-check[data-valid]", timeout=FINISHED)
    assert page.get_attribute("#signature-check", "data-valid") == "true", page.text_content("#signature-check")
    assert "Signature valid" in (page.text_content("#signature-check") or "")
    assert "verification: passed" in (page.text_content("#receipt-text") or "")
    assert "completed" in (page.text_content("#status-line") or "")
    assert page.locator("#checkpoints li.done").count() == 5
    shot = SCREENSHOT if os.environ.get("FAIRCRAWL_REFRESH_SCREENSHOTS") == "1" else tmp_path / "api-page.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000

    marks = ",".join("?" * len(OBAMA))
    assert query(page_server.world, f"select count(*) from images where url in ({marks})", *sorted(OBAMA)) == [(0,)]
    assert query(page_server.world, "select status from rights_requests where id = ?", deletion_id) == [("completed",)]

    # reopening the earlier access request: what it showed of him went with him, and the page says so
    page.fill("#reopen-id", access_id)
    page.fill("#reopen-token", access_token)
    page.click("#reopen-form button")
    wait_until(page, "document.getElementById('answer-summary').textContent.includes('deleted since')")
    assert page.locator("#images img").count() == 0 and page.is_hidden("#archive-link")
    assert f"{len(OBAMA)} image(s) this answer listed were deleted since" in (page.text_content("#answer-summary") or "")
    assert problems == [] and outside == [], (problems, outside)
    context.close()


def test_a_receipt_changed_on_the_way_fails_the_check_in_the_browser(browser: Any, page_server: Server) -> None:
    filed = page_server.file("deletion", urls=["http://nowhere.example.org/none.jpg"]).json()
    page_server.wait(filed["id"], filed["token"])
    context, page, problems = open_page(browser, page_server)

    def tampered(route: Any) -> None:
        response = route.fetch()
        signed = response.json()
        signed["receipt"]["request"]["jurisdiction"] = "FR"  # one field changed after signing
        route.fulfill(response=response, body=json.dumps(signed))

    page.route("**/api/requests/*/receipt", tampered)
    page.fill("#reopen-id", filed["id"])
    page.fill("#reopen-token", filed["token"])
    page.click("#reopen-form button")
    page.wait_for_selector("#signature-check[data-valid]", timeout=FINISHED)

    assert page.get_attribute("#signature-check", "data-valid") == "false"
    assert "NOT valid" in (page.text_content("#signature-check") or "")
    page.unroute("**/api/requests/*/receipt")
    page.fill("#reopen-id", filed["id"])
    page.fill("#reopen-token", "not-the-token")
    page.click("#reopen-form button")
    page.wait_for_selector("#error:not([hidden])")
    assert "No request with this id opens with this token" in (page.text_content("#error") or "")
    assert [p for p in problems if "404" not in p] == [], problems
    context.close()
