"""Memory does not grow with the crawl (issue 12): nothing per response stays alive once it is written.

A real ``faircrawl crawl`` of a generated site (800 pages in a chain, three
images each: ~3,200 responses) served from its own process; the live objects
of every per-response kind are counted at a third of the crawl and near its
end, and must not have grown. The JSON report is streamed from the database:
writing it for four times the decisions must not take four times the memory.
"""

from __future__ import annotations

import io
import json
import os
import random
import subprocess
import sys
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from crawler.gc_tuning import YOUNG_THRESHOLD
from crawler.report import write_report
from storage import BackgroundWriter, Database
from tests.conftest import PROJECT_ROOT
from tests.crawler.live_objects import PER_RESPONSE_KINDS
from tests.storage.rows import add_run, decision_row

PAGES = 800
IMAGES_PER_PAGE = 3
#: Objects legitimately alive at any moment: requests in flight and queued, items in the pipeline.
IN_FLIGHT_SLACK = 150


def _site(root: Path) -> None:
    """Pages in a chain (each links the next four: the frontier stays small), each with its own small JPEGs."""
    rng = random.Random(12)
    (root / "p").mkdir(parents=True)
    (root / "img").mkdir()
    (root / "robots.txt").write_text("User-agent: *\nAllow: /\n")
    for i in range(PAGES):
        links = "".join(f'<a href="/p/{j}.html">{j}</a>' for j in range(i + 1, min(i + 5, PAGES)))
        images = "".join(f'<img src="/img/{i}_{k}.jpg">' for k in range(IMAGES_PER_PAGE))
        (root / "p" / f"{i}.html").write_text(f"<!doctype html><html><body>{images}{links}</body></html>")
        for k in range(IMAGES_PER_PAGE):
            buffer = io.BytesIO()
            Image.frombytes("RGB", (24, 24), rng.randbytes(24 * 24 * 3)).save(buffer, "JPEG")
            (root / "img" / f"{i}_{k}.jpg").write_bytes(buffer.getvalue())


@pytest.fixture
def served_site(tmp_path: Path) -> Iterator[str]:
    _site(tmp_path / "site")
    server = subprocess.Popen([sys.executable, "-m", "benchmarks.static_server", str(tmp_path / "site")],
                              cwd=PROJECT_ROOT, stdout=subprocess.PIPE)
    assert server.stdout is not None
    port = server.stdout.readline().strip().decode()
    try:
        yield f"http://127.0.0.1:{port}/p/0.html"
    finally:
        server.terminate()
        server.wait(timeout=10)
        server.stdout.close()


def test_live_per_response_objects_do_not_grow_with_the_crawl(served_site: str, tmp_path: Path) -> None:
    total = PAGES * (1 + IMAGES_PER_PAGE)
    checkpoints = [total // 3, total * 9 // 10]
    out = tmp_path / "live.json"
    process = subprocess.run(
        [sys.executable, "-m", "tests.crawler.live_objects", str(out), json.dumps(checkpoints), served_site,
         "--allow-private-hosts", "--policy", "benchmarks/robots-only", "--db", f"sqlite:///{tmp_path}/f.db",
         "--store", str(tmp_path / "images"), "--report", str(tmp_path / "report.json")],
        cwd=PROJECT_ROOT, env={**os.environ, "FAIRCRAWL_PROGRESS_INTERVAL": "0"}, capture_output=True, text=True,
        timeout=600)
    assert process.returncode == 0, process.stdout + process.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["summary"] == {"page/crawled": PAGES, "image/stored": PAGES * IMAGES_PER_PAGE}, "the whole site was crawled"
    run_stats = report["run"]["stats"]  # crawler/downloader_counts.py: every request sent got its response
    site_files = 3  # robots.txt, /.well-known/tdmrep.json and /ai.txt, fetched once for the one origin
    assert run_stats["requests"] == run_stats["responses"] == total + site_files, run_stats

    live = json.loads(out.read_text())
    early, late = live["samples"]
    assert (early["responses"], late["responses"]) == tuple(checkpoints)
    # crawler/gc_tuning.py: the start-up objects frozen and the young threshold raised while crawling, undone at close
    assert all(s["collector"]["frozen"] > 50_000 and s["collector"]["young_threshold"] == YOUNG_THRESHOLD
               for s in live["samples"]), live["samples"][0]["collector"]
    assert live["collector_at_close"] == {"frozen": 0, "young_threshold": 700}
    grown = {kind: late["counts"][kind] - early["counts"][kind] for kind in PER_RESPONSE_KINDS}
    assert all(n <= IN_FLIGHT_SLACK for n in grown.values()), (
        f"live objects grew between {early['responses']} and {late['responses']} responses: {grown}")


def _decisions(database: Database, run_id: str, count: int) -> None:
    add_run(database, run_id)
    writer = BackgroundWriter(database, Path(str(database.engine.url.database)).with_suffix(".unwritten.jsonl"))
    for number in range(count):
        writer.add("decisions", decision_row(f"{run_id}-{number}", run_id=run_id))
    assert writer.close() is None


def _report_peak_bytes(database: Database, run_id: str) -> int:
    with open(os.devnull, "w", encoding="utf-8") as out:
        tracemalloc.start()
        try:
            write_report(database, run_id, out)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()


def test_writing_the_report_costs_the_same_memory_for_four_times_the_decisions(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path}/f.db")
    database.upgrade()
    _decisions(database, "small", 1000)
    _decisions(database, "large", 4000)
    _report_peak_bytes(database, "small")  # warm: statement caches, imports

    small, large = _report_peak_bytes(database, "small"), _report_peak_bytes(database, "large")

    assert large < small * 1.5, f"report peak {small / 1e6:.1f} MB for 1,000 decisions, {large / 1e6:.1f} MB for 4,000"
    database.dispose()


WIDE_PAGES = 1500
MEMORY_REQUESTS = 25  # FAIRCRAWL_FRONTIER_MEMORY for the spilling crawl


def _wide_site(root: Path) -> None:
    """Each page links the next and three random pages: as on the benchmark site, the crawl discovers pages faster
    than it fetches them, so the frontier grows to a good part of the site before it shrinks."""
    rng = random.Random(7)
    (root / "p").mkdir(parents=True)
    (root / "robots.txt").write_text("User-agent: *\nAllow: /\n")
    for i in range(WIDE_PAGES):
        targets = [(i + 1) % WIDE_PAGES, *(rng.randrange(WIDE_PAGES) for _ in range(3))]
        links = "".join(f'<a href="/p/{j}.html">{j}</a>' for j in targets)
        (root / "p" / f"{i}.html").write_text(f"<!doctype html><html><body>{links} {i}</body></html>")


def _wide_crawl(url: str, folder: Path, memory_requests: int) -> dict[str, object]:
    folder.mkdir()
    out = folder / "live.json"
    process = subprocess.run(
        [sys.executable, "-m", "tests.crawler.live_objects", str(out), json.dumps([WIDE_PAGES // 4]), url,
         "--allow-private-hosts", "--policy", "benchmarks/robots-only", "--db", f"sqlite:///{folder}/f.db",
         "--store", str(folder / "images"), "--report", str(folder / "report.json")],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "FAIRCRAWL_PROGRESS_INTERVAL": "0", "FAIRCRAWL_FRONTIER_MEMORY": str(memory_requests)})
    assert process.returncode == 0, process.stdout + process.stderr
    summary = json.loads((folder / "report.json").read_text())["summary"]
    assert summary == {"page/crawled": WIDE_PAGES}, "every page was crawled, spilled or not"
    live: dict[str, object] = json.loads(out.read_text())
    return live


def test_pages_waiting_beyond_the_memory_share_wait_on_disk(tmp_path: Path) -> None:
    _wide_site(tmp_path / "site")
    server = subprocess.Popen([sys.executable, "-m", "benchmarks.static_server", str(tmp_path / "site")],
                              cwd=PROJECT_ROOT, stdout=subprocess.PIPE)
    assert server.stdout is not None
    url = f"http://127.0.0.1:{server.stdout.readline().strip().decode()}/p/0.html"
    try:
        in_memory = _wide_crawl(url, tmp_path / "memory", 0)
        spilling = _wide_crawl(url, tmp_path / "spilling", MEMORY_REQUESTS)
    finally:
        server.terminate()
        server.wait(timeout=10)
        server.stdout.close()

    def requests_alive(live: dict[str, object]) -> int:
        return int(live["samples"][0]["counts"]["Request"])  # type: ignore[index]

    # All in memory, the queued pages are alive as Request objects; spilling, at most the share plus those in flight.
    assert requests_alive(in_memory) > WIDE_PAGES // 4, in_memory["samples"]
    # + CONCURRENT_REQUESTS in flight, + responses waiting in the scraper with their request and the links they yield
    assert requests_alive(spilling) <= MEMORY_REQUESTS + 100, (requests_alive(spilling), requests_alive(in_memory))
    disk = spilling["scheduler"]  # type: ignore[index]
    assert disk.get("scheduler/enqueued/disk", 0) > WIDE_PAGES // 4, disk  # type: ignore[union-attr]
    assert disk["scheduler/dequeued/disk"] == disk["scheduler/enqueued/disk"], disk  # type: ignore[index]
    assert "scheduler/enqueued/disk" not in in_memory["scheduler"], in_memory["scheduler"]  # type: ignore[operator]
    assert spilling["spill_folder"] and not spilling["spill_folder_left"], "the spill folder is removed at the end"
