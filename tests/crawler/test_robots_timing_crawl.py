"""robots.txt's timing lines in a real crawl: Request-rate as the delay between requests, Visit-time as hours.

standards-and-law.md §8.1: "honour Crawl-delay and Request-rate by translating them into per-host delay". A rate
slower than FAIRCRAWL_MAX_CRAWL_DELAY allows is not crawled at all, with the directive named in the reason. Outside
every Visit-time window (UTC) of the group that applies, nothing is fetched, and each refusal says when it may be.
"""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import PROJECT_ROOT, crawl

PACK = str(PROJECT_ROOT / "benchmarks" / "robots-only")  # the crawl machinery, no face or signal rules


def _site(root: Path, robots: str) -> None:
    root.mkdir(parents=True)
    (root / "robots.txt").write_text(robots)
    (root / "index.html").write_text('<html><body><img src="/a.jpg"><a href="/b.html">b</a></body></html>')
    (root / "b.html").write_text('<html><body><img src="/c.jpg"></body></html>')
    for name, colour in (("a.jpg", (200, 30, 30)), ("c.jpg", (30, 30, 200))):
        buffer = io.BytesIO()
        Image.new("RGB", (32, 32), colour).save(buffer, "JPEG")
        (root / name).write_bytes(buffer.getvalue())


@pytest.fixture
def serve() -> Iterator[object]:
    servers: list[subprocess.Popen[bytes]] = []

    def start(root: Path) -> str:
        server = subprocess.Popen([sys.executable, "-m", "benchmarks.static_server", str(root)],
                                  cwd=PROJECT_ROOT, stdout=subprocess.PIPE)
        servers.append(server)
        assert server.stdout is not None
        return f"http://127.0.0.1:{server.stdout.readline().strip().decode()}/index.html"

    yield start
    for server in servers:
        server.terminate()
        server.wait(timeout=10)
        assert server.stdout is not None
        server.stdout.close()


def test_a_request_rate_spaces_every_request_after_the_site_files(serve, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _site(tmp_path / "site", "User-agent: *\nRequest-rate: 1/1s\n")
    start = serve(tmp_path / "site")
    result = crawl(tmp_path, f"sqlite:///{tmp_path}/r.db", start, "--allow-private-hosts", "--policy", PACK)
    assert result.report["summary"] == {"page/crawled": 2, "image/stored": 2}
    times = sorted(datetime.fromisoformat(d["fetched_at"]) for d in result.report["decisions"])
    gaps = [(later - earlier).total_seconds() for earlier, later in zip(times, times[1:], strict=False)]
    # Without the rate these four requests take milliseconds; fetched_at moves by a few tenths under load
    # (test_catalog_crawl's Crawl-delay check allows the same).
    assert len(times) == 4 and min(gaps) >= 0.5 and sum(gaps) >= 2.8, gaps
    (site,) = result.report["sites"]
    assert site["crawl_delay_seconds"] == 1.0
    assert "1 s between requests" in result.process.stdout, result.process.stdout  # the summary's robots.txt line


def test_a_request_rate_slower_than_the_crawl_can_honour_is_not_crawled(serve, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _site(tmp_path / "site", "User-agent: *\nRequest-rate: 1/1h\n")
    start = serve(tmp_path / "site")
    result = crawl(tmp_path, f"sqlite:///{tmp_path}/r.db", start, "--allow-private-hosts", "--policy", PACK)
    decision = result.decision(start, "page")
    assert decision["outcome"] == "refused"
    reason = decision["reasons"][-1]
    assert reason["code"] == "robots.crawl_delay_too_long"
    assert "3600 s between requests (Request-rate 1/1h (line 2))" in reason["detail"]
    assert reason["evidence"] == {"delay_seconds": 3600.0, "directive": "Request-rate 1/1h (line 2)"}
    assert result.report["summary"] == {"page/refused": 1}


def _window(start: datetime, hours: float) -> str:
    return f"{start:%H%M}-{start + timedelta(hours=hours):%H%M}"


def test_outside_its_visit_time_a_site_is_not_crawled(serve, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    later = _window(datetime.now(UTC) + timedelta(hours=2), 1)  # two hours from now for one hour: closed now
    _site(tmp_path / "site", f"User-agent: *\nVisit-time: {later}\n")
    start = serve(tmp_path / "site")
    result = crawl(tmp_path, f"sqlite:///{tmp_path}/v.db", start, "--allow-private-hosts", "--policy", PACK)
    assert result.report["summary"] == {"page/refused": 1}
    reason = result.decision(start, "page")["reasons"][-1]
    assert reason["code"] == "robots.outside_visit_time"
    assert reason["evidence"]["visit_time"] == f"Visit-time {later} (line 2)"
    assert f"admits visits only at Visit-time {later} (line 2), UTC" in reason["detail"]


def test_inside_a_visit_time_window_the_site_is_crawled(serve, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    now = _window(datetime.now(UTC) - timedelta(hours=1), 2)  # from an hour ago to an hour from now
    closed = _window(datetime.now(UTC) + timedelta(hours=3), 1)
    _site(tmp_path / "site", f"User-agent: *\nVisit-time: {closed}\nVisit-time: {now}\n")  # either window admits
    start = serve(tmp_path / "site")
    result = crawl(tmp_path, f"sqlite:///{tmp_path}/v.db", start, "--allow-private-hosts", "--policy", PACK)
    assert result.report["summary"] == {"page/crawled": 2, "image/stored": 2}


def test_a_robots_txt_of_any_size_has_its_first_500_kib_read_and_followed(serve, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # reference §1.4: "parse at most the first 512,000 bytes"; a file over FAIRCRAWL_ROBOTS_MAX_BYTES (16 MiB) once
    # counted as unreachable, which refused the whole site. The download stops after the first 500 KiB.
    padding = "# " + "x" * 97 + "\n"  # 100 bytes a line
    robots = "User-agent: *\nDisallow: /b.html\n" + padding * (17 * 1024 * 1024 // 100) + "Disallow: /a.jpg\n"
    _site(tmp_path / "site", robots)
    start = serve(tmp_path / "site")
    result = crawl(tmp_path, f"sqlite:///{tmp_path}/r.db", start, "--allow-private-hosts", "--policy", PACK)
    assert result.report["summary"] == {"page/crawled": 1, "page/refused": 1, "image/stored": 1}
    refused = result.decision(start.replace("index.html", "b.html"), "page")
    assert "robots.disallowed" in [reason["code"] for reason in refused["reasons"]], refused["reasons"]
    assert result.decision(start.replace("index.html", "a.jpg"), "image")["outcome"] == "stored", \
        "the Disallow after the first 500 KiB is not read"
    assert "truncated at 500 KiB" in result.process.stdout, result.process.stdout
