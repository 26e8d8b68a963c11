"""Integrity: every image ends in exactly one true decision, nothing biometric leaks, no setting switches a
protection off, user mistakes are one clear error. Each test is a regression test of issue 7's defects."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from crawler.testsites.photos import face_photo
from crawler.testsites.sites_hostile import LONG_IMAGE_PATH, MANY_DIRECTIVES
from tests.conftest import PROJECT_ROOT, CrawlResult, crawl, run_faircrawl
from tests.leaks import assert_no_biometric_data, needles, sqlite_dump

PROBE = "obama3.jpg"
#: Sites whose faces are templated during the crawl: transient in California, persisted with a release in Illinois.
FACE_SITES = ("http://open.example.com/", "http://twins.example.com/")


def scrapy_crawl(workdir: Path, *args: str, env: dict[str, str] | None = None,
                 timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """`scrapy crawl site ...` from the project root, as a Scrapy user runs it."""
    full_env = {**os.environ, "FAIRCRAWL_PROGRESS_INTERVAL": "0", **(env or {})}
    return subprocess.run([sys.executable, "-m", "scrapy", "crawl", "site", *args], cwd=PROJECT_ROOT, env=full_env,
                          capture_output=True, text=True, timeout=timeout)


def workdir_env(workdir: Path) -> dict[str, str]:
    """Every place a crawl writes, inside ``workdir`` (so the project's var/ is never touched)."""
    return {"FAIRCRAWL_DB": f"sqlite:///{workdir}/faircrawl.db", "FAIRCRAWL_STORE": str(workdir / "images"),
            "FAIRCRAWL_SUPPRESSION_DB": f"sqlite:///{workdir}/suppression.db",
            "FAIRCRAWL_KEY_FILE": str(workdir / "faircrawl.key"), "FAIRCRAWL_SPILL_DIR": str(workdir)}


def decisions_in(db: Path) -> list[dict[str, object]]:
    connection = sqlite3.connect(db)
    connection.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in connection.execute("select * from decisions")]
    finally:
        connection.close()


@pytest.fixture(scope="module")
def probe_listed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A suppression list holding one person's template (from a probe photo), to prove neither leaks."""
    workdir = tmp_path_factory.mktemp("probe-list")
    probe = workdir / PROBE
    probe.write_bytes(face_photo(PROBE))
    added = run_faircrawl("optout", "add", "--photo", str(probe), cwd=workdir, env=workdir_env(workdir))
    assert added.returncode == 0, added.stderr
    return workdir


@pytest.fixture(scope="module")
def known_encodings() -> list[object]:
    from faces.encode import encode_faces

    return [e for name in ("obama.jpg", "biden.jpg", PROBE) for e in encode_faces(face_photo(name))]


# -- defects 1 and 2: faults inside a stage ---------------------------------------------------------------


@pytest.mark.parametrize("stage", ["validate", "consent", "faces", "screen", "store"])
def test_a_fault_inside_a_stage_ends_each_image_failed_and_leaks_nothing(
        stage: str, probe_listed: Path, tmp_path: Path, known_encodings: list[object]) -> None:
    env = {**workdir_env(probe_listed), "FAIRCRAWL_DB": f"sqlite:///{tmp_path}/faircrawl.db",
           "FAIRCRAWL_STORE": str(tmp_path / "images"), "FAIRCRAWL_SPILL_DIR": str(tmp_path)}
    log = tmp_path / "crawl.log"
    pipeline = f"tests.crawler.faults.Failing{stage.capitalize()}"

    process = scrapy_crawl(tmp_path, "-a", f"start_urls={','.join(FACE_SITES)}", "-s", "FAIRCRAWL_TESTSITES=1",
                           "-s", f"ITEM_PIPELINES={json.dumps({pipeline: 300})}", "-s", "LOG_LEVEL=DEBUG",
                           "-s", f"LOG_FILE={log}", env=env)

    assert process.returncode == 0, process.stderr
    decisions = decisions_in(tmp_path / "faircrawl.db")
    urls = [d["url"] for d in decisions]
    assert len(urls) == len(set(urls)), "one decision per URL"
    images = [d for d in decisions if d["kind"] == "image"]
    failed = [d for d in images if d["outcome"] == "failed"]
    assert failed, "the fault must have hit some image"
    for decision in failed:
        last = json.loads(decision["reasons"])[-1]
        assert last["code"] == "internal.error" and last["evidence"] == {"stage": stage, "exception": "RuntimeError"}
    assert all(d["outcome"] in ("failed", "refused") for d in images), "an image that hit the fault was not stored"
    assert {d["outcome"] for d in decisions if d["kind"] == "page"} == {"crawled"}, "the crawl went on"
    log_text = log.read_text()
    assert "internal error in the" in log_text
    assert "injected failure holding [" not in log_text and "injected failure holding b" not in log_text
    forbidden = needles(known_encodings, [face_photo(PROBE)])  # type: ignore[arg-type]
    for name, content in (("the log", log_text), ("stderr", process.stderr), ("stdout", process.stdout),
                          ("the database", sqlite_dump(tmp_path / "faircrawl.db"))):
        assert_no_biometric_data(name, content, forbidden)


def test_a_suppression_list_made_under_another_key_stops_scrapy_crawl_with_one_error(
        probe_listed: Path, tmp_path: Path) -> None:
    from cryptography.fernet import Fernet

    other_key = tmp_path / "other.key"
    other_key.write_bytes(Fernet.generate_key())
    other_key.chmod(0o600)
    env = {**workdir_env(probe_listed), "FAIRCRAWL_KEY_FILE": str(other_key),
           "FAIRCRAWL_DB": f"sqlite:///{tmp_path}/faircrawl.db"}

    for process in (scrapy_crawl(tmp_path, "-a", "start_urls=http://open.example.com/", "-s", "FAIRCRAWL_TESTSITES=1",
                                 env=env),
                    run_faircrawl("crawl", "--testsites", "http://open.example.com/", cwd=tmp_path, env=env)):
        assert process.returncode == 2, process.stderr
        assert process.stderr.startswith("error: ") and "not the key" in process.stderr
        assert "Traceback" not in process.stderr and process.stderr.count("\n") == 1
        assert_no_biometric_data("stderr", process.stderr, needles(probes=[face_photo(PROBE)]))
    assert not (tmp_path / "images").exists()


# -- defect 3: templates persisted under the wrong image ----------------------------------------------------


def test_a_smaller_copy_of_a_photo_keeps_its_own_face_box(catalog_crawl: CrawlResult) -> None:
    db = Path(catalog_crawl.db_url.removeprefix("sqlite:///"))
    connection = sqlite3.connect(db)
    rows = connection.execute(
        "select t.image_sha256, t.box, f.width, f.height, i.url from face_templates t "
        "join image_files f on f.sha256 = t.image_sha256 join images i on i.decision_id = t.decision_id "
        "where i.url like 'http://twins.example.com/%'").fetchall()
    connection.close()
    by_url = {url: (sha, json.loads(box), width, height) for sha, box, width, height, url in rows}
    full, half = by_url["http://twins.example.com/img/full.jpg"], by_url["http://twins.example.com/img/half.jpg"]
    assert full[0] != half[0]
    for _sha, (top, right, bottom, left), width, height in (full, half):
        assert 0 <= left < right <= width and 0 <= top < bottom <= height, "the box lies inside its own image"
    assert abs(half[1][1] - full[1][1] / 2) < 0.1 * full[1][1], "the half-size copy has a half-size box"


# -- defect 5: scrapy crawl reads the FAIRCRAWL_* environment --------------------------------------------------


def test_scrapy_crawl_uses_the_faircrawl_environment(tmp_path: Path) -> None:
    env = workdir_env(tmp_path)

    process = scrapy_crawl(tmp_path, "-a", "start_urls=http://open.example.com/", "-s", "FAIRCRAWL_TESTSITES=1", env=env)

    assert process.returncode == 0, process.stderr
    assert (tmp_path / "faircrawl.db").exists() and (tmp_path / "suppression.db").exists()
    assert (tmp_path / "faircrawl.key").exists()
    assert len(list((tmp_path / "images").rglob("*.jpg"))) == 5
    assert any(d["outcome"] == "stored" for d in decisions_in(tmp_path / "faircrawl.db"))


# -- defect 8: FAIRCRAWL_PAGE_MAX_BYTES --------------------------------------------------------------------


def test_the_page_size_limit_is_read_from_the_environment(tmp_path: Path) -> None:
    result = crawl(tmp_path, f"sqlite:///{tmp_path}/f.db", "--testsites", "http://hostile.example.com/")
    assert result.decision("http://hostile.example.com/big.html", "page")["outcome"] == "crawled"

    limited = run_faircrawl("crawl", "--testsites", "http://hostile.example.com/", "--db", f"sqlite:///{tmp_path}/g.db",
                            "--store", str(tmp_path / "g"), "--report", str(tmp_path / "g.json"), cwd=tmp_path,
                            env={"FAIRCRAWL_PAGE_MAX_BYTES": str(1024 * 1024)})
    assert limited.returncode == 0, limited.stderr
    report = json.loads((tmp_path / "g.json").read_text())
    big = next(d for d in report["decisions"] if d["url"] == "http://hostile.example.com/big.html")
    assert big["outcome"] == "failed" and big["reasons"][-1]["code"] == "fetch.too_large"


# -- defect 12: settings that would switch a protection off --------------------------------------------------


@pytest.mark.parametrize(("name", "value"), [
    ("FAIRCRAWL_MATCH_THRESHOLD", "nan"), ("FAIRCRAWL_MATCH_THRESHOLD", "-1"), ("FAIRCRAWL_MATCH_THRESHOLD", "0.2"),
    ("FAIRCRAWL_MATCH_THRESHOLD", "inf"), ("FAIRCRAWL_FACE_MAX_SIDE", "0"), ("FAIRCRAWL_FACE_MAX_SIDE", "1"),
    ("FAIRCRAWL_FACE_MAX_SIDE", "-5"), ("FAIRCRAWL_IMAGE_MAX_PIXELS", "0"), ("FAIRCRAWL_IMAGE_MAX_PIXELS", "999999999"),
    ("FAIRCRAWL_IMAGE_MAX_BYTES", "-1"), ("FAIRCRAWL_MAX_CRAWL_DELAY", "nan"), ("FAIRCRAWL_FACE_MODEL", "none"),
    ("FAIRCRAWL_FACE_WORKERS", "-2"), ("FAIRCRAWL_ROBOTS_MAX_BYTES", "10"), ("FAIRCRAWL_PRODUCT_TOKEN", "*"),
    ("FAIRCRAWL_ALLOW_PRIVATE_HOSTS", "maybe"), ("FAIRCRAWL_MAX_PAGES", "-3"), ("FAIRCRAWL_PAGE_MAX_BYTES", "0"),
])
def test_a_setting_out_of_range_is_refused_naming_it(name: str, value: str, tmp_path: Path) -> None:
    for process in (run_faircrawl("crawl", "--testsites", "--db", f"sqlite:///{tmp_path}/f.db", cwd=tmp_path,
                                  env={name: value}),
                    scrapy_crawl(tmp_path, "-a", "start_urls=http://open.example.com/", "-s", "FAIRCRAWL_TESTSITES=1",
                                 "-s", f"FAIRCRAWL_DB=sqlite:///{tmp_path}/g.db", "-s", f"{name}={value}")):
        assert process.returncode == 2, (process.stdout, process.stderr)
        assert process.stderr.startswith(f"error: {name}=") and process.stderr.count("\n") == 1, process.stderr
        assert "Traceback" not in process.stderr
    assert not (tmp_path / "f.db").exists() and not (tmp_path / "g.db").exists()


# -- defect 18: tracebacks for user mistakes -------------------------------------------------------------------


@pytest.mark.parametrize("url", ["http://[::1", "http://h:99999/", "http://h:abc/", "http:///nohost", "http://h:0/"])
def test_an_unusable_start_url_is_one_error_and_leaves_no_run(url: str, tmp_path: Path) -> None:
    process = run_faircrawl("crawl", url, "--db", f"sqlite:///{tmp_path}/f.db", cwd=tmp_path)

    assert process.returncode == 2 and process.stderr.startswith("error: start URL"), process.stderr
    assert "Traceback" not in process.stderr and url in process.stderr
    assert not (tmp_path / "f.db").exists()


@pytest.mark.parametrize("where", ["parent-is-a-file", "unwritable-filesystem", "a-folder"])
def test_an_unwritable_report_path_is_refused_before_the_crawl(where: str, tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    report = {"parent-is-a-file": tmp_path / "afile" / "report.json",
              "unwritable-filesystem": Path("/proc/faircrawl-test/report.json"), "a-folder": tmp_path}[where]

    process = run_faircrawl("crawl", "--testsites", "http://open.example.com/", "--db", f"sqlite:///{tmp_path}/f.db",
                            "--report", str(report), cwd=tmp_path)

    assert process.returncode == 2 and process.stderr.startswith("error: --report"), process.stderr
    assert "Traceback" not in process.stderr
    assert not (tmp_path / "f.db").exists(), "refused before anything was crawled"


def test_a_full_disk_for_the_report_keeps_the_summary_and_the_run(tmp_path: Path) -> None:
    process = run_faircrawl("crawl", "--testsites", "http://open.example.com/", "--db", f"sqlite:///{tmp_path}/f.db",
                            "--store", str(tmp_path / "s"), "--report", "/dev/full", cwd=tmp_path)

    assert process.returncode == 2, process.stderr
    assert "images: 6 stored" in process.stdout, "the summary is still printed"
    assert process.stderr.startswith("error: cannot write the report to /dev/full") and "No space left" in process.stderr
    assert "Traceback" not in process.stderr
    shown = run_faircrawl("report", "--db", f"sqlite:///{tmp_path}/f.db", "--json", cwd=tmp_path)
    assert json.loads(shown.stdout)["run"]["status"] == "finished", "nothing is lost"


# -- defect 20: smaller holes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "code"), [
    ("http://127.0.0.1./", "host.private"), ("http://127.1/", "host.private"), ("http://2130706433/", "host.private"),
    ("http://[::ffff:127.0.0.1]/", "host.private"), ("http://no-such-host.invalid/", "host.unresolvable"),
])
def test_hosts_that_cannot_be_checked_or_are_private_are_refused(url: str, code: str, tmp_path: Path) -> None:
    result = crawl(tmp_path, f"sqlite:///{tmp_path}/f.db", "--testsites", url)

    decision = result.report["decisions"][0]
    assert len(result.report["decisions"]) == 1
    assert decision["outcome"] == "refused" and decision["reasons"][-1]["code"] == code, decision["reasons"]


def test_crawl_budgets_decide_what_is_left(tmp_path: Path) -> None:
    result = crawl(tmp_path, f"sqlite:///{tmp_path}/f.db", "--testsites", "http://open.example.com/",
                   "http://hostile.example.com/", "--max-pages", "4", "--max-images-per-site", "2")

    decisions = result.report["decisions"]
    pages = [d for d in decisions if d["kind"] == "page" and d["outcome"] != "refused"]
    assert len(pages) == 4
    over = [d for d in decisions if d["outcome"] == "refused" and d["reasons"][-1]["code"].startswith("budget.")]
    assert {d["reasons"][-1]["code"] for d in over} == {"budget.pages", "budget.images_per_site"}
    for host in ("open.example.com", "hostile.example.com"):
        requested = [d for d in decisions if d["kind"] == "image" and host in d["url"]
                     and not d["reasons"][-1]["code"].startswith(("budget.", "url."))]
        assert len(requested) <= 2
    urls = [d["url"] for d in decisions]
    assert len(urls) == len(set(urls)), "every URL found has exactly one decision"


def test_a_hostile_page_keeps_at_most_fifty_reasons_and_its_outcome(catalog_crawl: CrawlResult) -> None:
    page = catalog_crawl.decision("http://hostile.example.com/many.html", "page")

    assert len(page["reasons"]) == 50
    truncated = next(r for r in page["reasons"] if r["code"] == "reasons.truncated")
    assert truncated["evidence"]["left_out"] > MANY_DIRECTIVES - 60
    assert page["reasons"][-1]["code"] == "page.crawled", "the deciding reasons are kept"


def test_a_url_longer_than_browsers_accept_gets_a_decision(catalog_crawl: CrawlResult) -> None:
    decision = catalog_crawl.decision(f"http://hostile.example.com{LONG_IMAGE_PATH}", "image")
    assert decision["outcome"] == "refused" and decision["reasons"][-1]["code"] == "url.too_long"


def test_srcset_urls_with_commas_are_requested_whole(catalog_crawl: CrawlResult) -> None:
    for path in ("/cdn/w_300,h_200/pic.jpg", "/cdn/w_600,h_400/pic.jpg", "/cdn/c_fill,g_face/x.jpg"):
        assert catalog_crawl.decision(f"http://hostile.example.com{path}", "image")["outcome"] == "stored"
    assert not [d for d in catalog_crawl.report["decisions"] if d["url"].endswith(("/cdn/w_300", "h_200/pic.jpg 300w"))]
