"""The demo end to end, as README command 1 runs it (over a few catalog sites, to keep the suite short).

Every number of report.json is recounted here straight from the two stores'
SQLite files with plain SQL (not through crawler.comparison), the report is
checked for face images and encodings, the rights scenario is checked against
the stores themselves, and the demo is run a second time into the same folder.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import imagehash
import pytest
from PIL import Image

from crawler.demo import PACKS, PERSON_PROBE, store_env
from crawler.testsites import build_catalog
from crawler.testsites.photos import face_photo
from tests.conftest import run_faircrawl
from tests.leaks import assert_no_biometric_data, needles

SITES = ("open.example.com", "releases.example.com", "group.example.com", "portraits.example.fr", "tdm.example.com")
SIDES = ("lawful", "unlawful")
EARLIER_SITE = "noscrape.example.com"  # a one-page site, demoed first into the same folder


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The demo over SITES, run into a folder that already holds an earlier demo (of another site): the second
    run must replace the first."""
    out = tmp_path_factory.mktemp("demo") / "out"
    earlier = run_faircrawl("demo", "--out", str(out), "--site", EARLIER_SITE, timeout=900)
    assert earlier.returncode == 0, f"first demo failed:\n{earlier.stdout[-3000:]}\n{earlier.stderr[-3000:]}"
    args = [arg for host in SITES for arg in ("--site", host)]
    done = run_faircrawl("demo", "--out", str(out), *args, timeout=1500)
    assert done.returncode == 0, f"demo failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return {"out": out, "process": done, "report": json.loads((out / "report.json").read_text(encoding="utf-8")),
            "html": (out / "report.html").read_text(encoding="utf-8")}


def _rows(out: Path, side: str, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    connection = sqlite3.connect(out / side / "faircrawl.db")
    try:
        return connection.execute(sql, args).fetchall()
    finally:
        connection.close()


def _host(url: str) -> str:
    return urlsplit(url).netloc


def _recount(out: Path, side: str, run_id: str) -> dict[str, dict[str, Any]]:
    """Per site, from the store's own tables: what report.json must say."""
    sites: dict[str, dict[str, Any]] = {}

    def site(url: str) -> dict[str, Any]:
        return sites.setdefault(_host(url), {"pages_crawled": 0, "images_stored": 0, "images_with_faces": 0,
                                             "templates_persisted": 0, "refused": 0, "failed": 0})

    for url, kind, outcome in _rows(out, side, "select url, kind, outcome from decisions where run_id = ?", run_id):
        if outcome == "deleted":
            continue
        counts = site(url)
        if (kind, outcome) == ("page", "crawled"):
            counts["pages_crawled"] += 1
        if (kind, outcome) == ("image", "stored"):
            counts["images_stored"] += 1
        if outcome in ("refused", "failed"):
            counts[outcome] += 1
    for (url,) in _rows(out, side, "select d.url from decisions d join images i on i.decision_id = d.id "
                        "where d.run_id = ? and d.outcome = 'stored' and exists "
                        "(select 1 from faces f where f.image_sha256 = i.sha256)", run_id):
        site(url)["images_with_faces"] += 1
    for (url,) in _rows(out, side, "select d.url from face_templates t join decisions d on d.id = t.decision_id "
                        "where t.run_id = ?", run_id):
        site(url)["templates_persisted"] += 1
    return sites


@pytest.mark.slow
def test_the_demo_says_what_it_does_and_where_the_report_is(demo: dict[str, Any]) -> None:
    out, process = demo["out"], demo["process"]
    assert f"report: {out / 'report.html'}" in process.stdout
    for step in ("1/4", "2/4", "3/4", "4/4"):
        assert f"faircrawl demo {step}" in process.stderr
    bars = re.findall(r"\[faircrawl\] \[[#.]{30}\] \d+/\d+ decisions", process.stderr)
    assert len(bars) >= 4, "a progress bar for each of the four crawls"
    assert "Traceback" not in process.stderr + process.stdout
    assert not (out / "person.jpg").exists(), "the probe photo is never kept"


@pytest.mark.slow
def test_every_site_number_is_what_the_stores_hold(demo: dict[str, Any]) -> None:
    report, out = demo["report"], demo["out"]
    assert {_host(build_catalog().sites[h].start_url) for h in SITES} <= set(report["sites"])
    for side in SIDES:
        run_id = report["runs"][side]["id"]
        recounted = _recount(out, side, run_id)
        for host, counts in recounted.items():
            shown = report["sites"][host][side]
            for key, value in counts.items():
                assert shown[key] == value, (side, host, key)
            assert sum(shown["refusals_by_reason"].values()) == shown["refused"], (side, host)
        total = report["totals"][side]
        for key in ("pages_crawled", "images_stored", "images_with_faces", "templates_persisted", "refused"):
            assert total[key] == sum(c[key] for c in recounted.values()), (side, key)
        tombstones = _rows(out, side, "select count(*) from decisions where run_id = ? and outcome = 'deleted'", run_id)
        assert total["deleted_on_request"] == tombstones[0][0]
    lawful, unlawful = report["totals"]["lawful"], report["totals"]["unlawful"]
    assert unlawful["images_stored"] > lawful["images_stored"] and unlawful["templates_persisted"] > 0
    assert lawful["deleted_on_request"] > 0 and unlawful["deleted_on_request"] == 0  # the unlawful pack refuses


@pytest.mark.slow
def test_what_only_the_unlawful_crawl_took_is_linked_to_both_decision_records(demo: dict[str, Any]) -> None:
    report, out = demo["report"], demo["out"]
    runs = {side: report["runs"][side]["id"] for side in SIDES}
    taken = {side: {(url, kind) for url, kind in _rows(
        out, side, "select url, kind from decisions where run_id = ? and outcome in ('stored', 'crawled')", runs[side])}
        for side in SIDES}
    groups = report["taken_only_unlawfully"]
    items = [item for group in groups for item in group["items"]]
    assert sum(group["count"] for group in groups) == len(items) > 0
    shown = {(item["url"], item["kind"]) for item in items}
    assert shown <= taken["unlawful"] - taken["lawful"]
    deleted = report["totals"]["lawful"]["deleted_on_request"]
    assert len(shown) == len(taken["unlawful"] - taken["lawful"]) - deleted  # the rest were deleted on request
    breaches: Counter[str] = Counter()
    for group in groups:
        for item in group["items"]:
            (url, rules, recorded) = _rows(out, "unlawful", "select url, matched_rules, breaches from decisions "
                                           "where id = ?", item["unlawful"]["decision_id"])[0]
            assert url == item["url"] and json.loads(recorded) == group["breaches"] == item["unlawful"]["breaches"]
            assert json.loads(rules) == item["unlawful"]["rules"]
            breaches.update(group["breaches"])
            if item["lawful"] is not None:
                (lawful_url, outcome, citations) = _rows(out, "lawful", "select url, outcome, citations from decisions "
                                                         "where id = ?", item["lawful"]["decision_id"])[0]
                assert (lawful_url, outcome) == (item["url"], item["lawful"]["outcome"]) and outcome != "stored"
                assert json.loads(citations) == item["lawful"]["citations"]
                assert item["lawful"]["decision_id"] in demo["html"]
            assert f"id='decision-{item['unlawful']['decision_id']}'" in demo["html"]
    assert dict(breaches) == report["breaches_by_provision"]
    assert any(provision.startswith("GDPR Art. 9") or provision.startswith("GDPR Art. 6")
               for provision in report["breaches_by_provision"])


@pytest.mark.slow
def test_the_rights_scenario_answers_in_full_lawfully_and_as_clearview_did_unlawfully(demo: dict[str, Any]) -> None:
    rights = demo["report"]["rights"]
    lawful, unlawful = rights["lawful"], rights["unlawful"]
    assert lawful["access"]["status"] == "completed" and lawful["access"]["images"] > 0
    assert lawful["access"]["limited"] is None
    assert lawful["deletion"]["status"] == "completed" and lawful["deletion"]["verification"]["passed"] is True
    assert lawful["receipt_verified"] is True and lawful["recollected"] == "no" and not lawful["breaches"]
    removed = {s["store"]: s["removed"] for s in lawful["deletion"]["stores"]}
    assert removed["images"] == lawful["access"]["images"]
    assert unlawful["deletion"]["status"] == "refused" and unlawful["deletion"]["refused"]
    assert unlawful["recollected_images"] > 0 and unlawful["recollected"].startswith("yes")
    assert unlawful["third_access"]["status"] == "refused"
    assert {"GDPR Art. 12(5)", "GDPR Art. 15(1)", "GDPR Art. 17(1)"} <= set(unlawful["breaches"])
    for side in SIDES:
        assert set(rights[side]["search_phases"]) >= {"stored_faces"}
    assert "templates" in rights["unlawful"]["search_phases"]
    searched = {side: rights[side]["searched"] for side in SIDES}
    assert searched["unlawful"]["templates"] > searched["lawful"]["templates"]  # lawful: only with written releases
    assert searched["lawful"]["faces"] > 0


@pytest.mark.slow
def test_after_the_demo_the_lawful_store_holds_nothing_of_the_person(demo: dict[str, Any], tmp_path: Path) -> None:
    """Asked again, independently of the demo: the lawful store finds nothing; the unlawful one still does."""
    probe = tmp_path / "probe.jpg"
    probe.write_bytes(face_photo(PERSON_PROBE))
    found = {}
    for side in SIDES:
        store = demo["out"] / side
        env = {**store_env(store, PACKS[side]), "FAIRCRAWL_RIGHTS_ARCHIVE_DIR": str(tmp_path / side)}
        asked = run_faircrawl("rights", "access", "--photo", str(probe), "--json", env=env, cwd=tmp_path)
        assert asked.returncode in (0, 1), asked.stderr
        found[side] = json.loads(asked.stdout)
    assert found["lawful"]["status"] == "completed" and found["lawful"]["images"] == []
    assert found["unlawful"]["status"] == "refused" or found["unlawful"]["images"]


@pytest.mark.slow
def test_the_report_is_self_contained_and_carries_no_face_and_no_encoding(demo: dict[str, Any]) -> None:
    from faces.encode import analyse_faces

    html = demo["html"]
    assert "<img" not in html and "data:image" not in html, "no photo in the report"
    assert not re.search(r"<(script|link|iframe)[^>]+(src|href)=", html), "nothing loaded from anywhere"
    assert not re.search(r"url\((?!#)", html), "no external style resources"
    assert html.count("<svg") >= 2, "the charts are inline SVG"
    first = html.split("<h1>", 1)[1]
    assert "robots.txt" in first.split("<h2>", 1)[0], "the explanation at the top says what robots.txt is"
    probe = face_photo(PERSON_PROBE)
    known = needles(analyse_faces(probe).encodings, [probe])
    for name in ("report.html", "report.json"):
        assert_no_biometric_data(name, (demo["out"] / name).read_bytes(), known)
    assert_no_biometric_data("demo output", demo["process"].stdout + demo["process"].stderr, known)
    shown = json.dumps(demo["report"]["rights"])
    assert not re.search(r"[0-9a-f]{64}", shown), "the rights part names no content hash of the person's photos"


@pytest.mark.slow
def test_report_compare_writes_the_same_comparison_from_the_stores(demo: dict[str, Any], tmp_path: Path) -> None:
    out, report = demo["out"], demo["report"]
    done = run_faircrawl("report", "--compare", report["runs"]["lawful"]["id"], report["runs"]["unlawful"]["id"],
                         "--db", f"sqlite:///{out}/lawful/faircrawl.db",
                         "--with-db", f"sqlite:///{out}/unlawful/faircrawl.db", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    again = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert {k: v for k, v in again.items() if k != "rights"} == {k: v for k, v in report.items() if k != "rights"}
    assert (tmp_path / "report.html").read_text(encoding="utf-8").startswith("<!doctype html>")


def test_report_compare_of_an_unknown_run_is_a_clear_error(tmp_path: Path) -> None:
    done = run_faircrawl("report", "--compare", "nope", "neither", "--db", f"sqlite:///{tmp_path}/f.db",
                         "--out", str(tmp_path))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "'nope'" in done.stderr and "--list" in done.stderr
    assert not (tmp_path / "report.html").exists()


def test_the_demo_rejects_an_unknown_site_before_doing_anything(tmp_path: Path) -> None:
    earlier = tmp_path / "out" / "lawful" / "faircrawl.db"
    earlier.parent.mkdir(parents=True)
    earlier.write_bytes(b"an earlier demo's store")
    done = run_faircrawl("demo", "--out", str(tmp_path / "out"), "--site", "nosuch.example.com")
    assert done.returncode == 2 and "nosuch.example.com" in done.stderr and "testsites list" in done.stderr
    assert "Traceback" not in done.stderr
    assert earlier.read_bytes() == b"an earlier demo's store", "a mistyped site must not replace the earlier demo"
    assert not (tmp_path / "out" / "person.jpg").exists()


def test_no_catalog_site_carries_the_demo_person_s_probe_photo_or_a_variant_of_it() -> None:
    """The rights scenario's probe must be a photo of the person that was never crawled."""
    probe = face_photo(PERSON_PROBE)
    probe_hash = imagehash.phash(Image.open(io.BytesIO(probe)))
    for site in build_catalog().sites.values():
        for path, served in site.responses.items():
            if not served.content_type.startswith("image/"):
                continue
            content = served.content()
            assert hashlib.sha256(content).hexdigest() != hashlib.sha256(probe).hexdigest(), site.url(path)
            try:
                with Image.open(io.BytesIO(content)) as picture:
                    distance = imagehash.phash(picture) - probe_hash
            except Exception:  # hostile test images are not pictures at all
                continue
            assert distance > 10, f"{site.url(path)} looks like the probe (pHash distance {distance})"


@pytest.mark.slow
def test_a_second_demo_replaces_the_first(demo: dict[str, Any]) -> None:
    out, report = demo["out"], demo["report"]
    assert EARLIER_SITE not in report["sites"] and "open.example.com" in report["sites"]
    for side in SIDES:
        (runs,) = _rows(out, side, "select count(*) from crawl_runs")[0]
        assert runs == 2, "the crawl and the re-crawl of this demo only"
        assert _rows(out, side, "select count(*) from decisions where url like ?", f"%{EARLIER_SITE}%") == [(0,)]


@pytest.mark.slow
def test_the_report_renders_in_chromium_offline_with_no_console_error(demo: dict[str, Any], browser: Any,
                                                                       tmp_path: Path) -> None:
    """Opened as a reader would open it (a file, no network): nothing is requested, no script error, no console
    message, and it renders (a screenshot of the whole page)."""
    report = demo["out"] / "report.html"
    messages: list[str] = []
    requested: list[str] = []
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.on("console", lambda message: messages.append(f"{message.type}: {message.text}"))
        page.on("pageerror", lambda error: messages.append(f"error: {error}"))
        page.on("request", lambda request: requested.append(request.url))
        page.goto(report.as_uri())
        page.wait_for_load_state("load")
        assert page.title().startswith("faircrawl")
        assert page.locator("svg").count() >= 2
        opened = page.locator("details").first
        opened.locator("summary").click()
        assert opened.locator("li").first.is_visible()
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    finally:
        page.close()
    assert messages == []
    assert requested == [report.as_uri()], "the report loads nothing but itself"
    with Image.open(tmp_path / "report.png") as shot:
        assert shot.width == 1280 and shot.height > 900
