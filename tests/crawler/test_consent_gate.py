"""The consent gate's site-file cache and redirect handling, with the network and the clock swapped.

The engine below answers robots.txt, tdmrep.json and ai.txt requests from a
table (the network is the external thing faked here; unknown URLs get 404);
everything else is the real gate, the real lawful pack, the real recorder and
a real SQLite database.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.utils.test import get_crawler

from crawler.gates.consent import ConsentGate
from crawler.recording import create_run, recorder_for
from storage import Database
from tests.crawler.test_frontier import redis_url  # the shared fixture: fails in CI without Redis, skips elsewhere

__all__ = ["redis_url"]


class TableNetwork:
    """Answers GETs from {url: (status, headers, body) | Exception}; counts fetches."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.fetched: list[str] = []

    async def download_async(self, request: Request) -> Response:
        self.fetched.append(request.url)
        await asyncio.sleep(0)
        answer = self.answers.get(request.url, (404, {}, b"not found"))
        if isinstance(answer, Exception):
            raise answer
        status, headers, body = answer
        return Response(request.url, status=status, headers=headers, body=body, request=request)


class FakeDownloader:
    def __init__(self) -> None:
        self.per_slot_settings: dict[str, Any] = {}
        self.slots: dict[str, Any] = {}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def gate_setup(tmp_path: Path):  # type: ignore[no-untyped-def]
    db_url = f"sqlite:///{tmp_path}/g.db"
    database = Database(db_url)
    database.upgrade()
    create_run(database, "run1", "lawful", "lawful@test", "faircrawl", False, [])
    crawler = get_crawler(settings_dict={
        "FAIRCRAWL_DB": db_url, "FAIRCRAWL_RUN_ID": "run1", "FAIRCRAWL_RUN_CREATED": True,
        "FAIRCRAWL_STORE": str(tmp_path / "img"), "FAIRCRAWL_PRODUCT_TOKEN": "faircrawl",
        "FAIRCRAWL_ROBOTS_MAX_BYTES": 1 << 20, "FAIRCRAWL_MAX_CRAWL_DELAY": 60.0, "FAIRCRAWL_POLICY": "lawful",
        "FAIRCRAWL_SPILL_DIR": str(tmp_path),
    })
    clock = Clock()
    gate = ConsentGate(crawler)
    gate.runtime.site_files.clock = clock

    def attach(answers: dict[str, Any]) -> TableNetwork:
        network = TableNetwork(answers)
        crawler.engine = network  # type: ignore[assignment]
        network.downloader = FakeDownloader()  # type: ignore[attr-defined]
        return network

    yield gate, clock, attach
    recorder_for(crawler).writer.close()


def robots_fetches(network: TableNetwork) -> list[str]:
    return [u for u in network.fetched if u.endswith("/robots.txt")]


def allowed(gate: ConsentGate, url: str) -> bool:
    try:
        asyncio.run(gate.process_request(Request(url)))
    except IgnoreRequest:
        return False
    return True


OK = (200, {}, b"User-agent: *\nDisallow: /no/\n")


def test_cache_is_reused_within_24_hours_and_refetched_after(gate_setup) -> None:  # type: ignore[no-untyped-def]
    gate, clock, attach = gate_setup
    network = attach({"http://a.example/robots.txt": OK})
    assert allowed(gate, "http://a.example/yes") and not allowed(gate, "http://a.example/no/x")
    clock.now += 23 * 3600
    assert allowed(gate, "http://a.example/yes2")
    assert robots_fetches(network) == ["http://a.example/robots.txt"]
    clock.now += 2 * 3600
    allowed(gate, "http://a.example/yes3")
    assert robots_fetches(network) == ["http://a.example/robots.txt"] * 2


def test_cache_key_is_scheme_host_and_port(gate_setup) -> None:  # type: ignore[no-untyped-def]
    gate, _clock, attach = gate_setup
    network = attach({
        "http://a.example/robots.txt": OK, "https://a.example/robots.txt": (200, {}, b"User-agent: *\nDisallow: /\n"),
        "http://a.example:8080/robots.txt": (404, {}, b""),
    })
    assert allowed(gate, "http://a.example/x")
    assert not allowed(gate, "https://a.example/x")
    assert allowed(gate, "http://a.example:8080/no/x")
    assert allowed(gate, "http://A.EXAMPLE:80/y")  # same origin as http://a.example
    assert len(robots_fetches(network)) == 3


def test_unreachable_is_disallow_and_retried_after_an_hour(gate_setup) -> None:  # type: ignore[no-untyped-def]
    gate, clock, attach = gate_setup
    network = attach({"http://b.example/robots.txt": ConnectionRefusedError("refused")})
    assert not allowed(gate, "http://b.example/")
    clock.now += 3599
    assert not allowed(gate, "http://b.example/")
    assert len(robots_fetches(network)) == 1
    network.answers["http://b.example/robots.txt"] = OK
    clock.now += 2
    assert allowed(gate, "http://b.example/")
    assert len(robots_fetches(network)) == 2


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429])
def test_server_errors_disallow_everything_but_429_is_a_4xx(gate_setup, status: int) -> None:  # type: ignore[no-untyped-def]
    gate, _clock, attach = gate_setup
    attach({"http://c.example/robots.txt": (status, {}, b"User-agent: *\nAllow: /\n")})
    assert allowed(gate, "http://c.example/page") is (status == 429)


def test_five_redirects_are_followed_and_apply_to_the_first_host(gate_setup) -> None:  # type: ignore[no-untyped-def]
    gate, _clock, attach = gate_setup
    answers = {"http://d.example/robots.txt": (301, {"Location": "/r1"}, b"")}
    for hop in range(1, 5):
        answers[f"http://d.example/r{hop}"] = (302, {"Location": f"/r{hop + 1}"}, b"")
    answers["http://d.example/r5"] = (200, {}, b"User-agent: *\nDisallow: /private/\n")
    network = attach(answers)
    assert not allowed(gate, "http://d.example/private/x")
    assert allowed(gate, "http://d.example/public")
    assert len([u for u in network.fetched if "/r" in u.split("example")[1] or u.endswith("robots.txt")]) == 6


def test_a_sixth_redirect_means_unavailable(gate_setup) -> None:  # type: ignore[no-untyped-def]
    gate, _clock, attach = gate_setup
    answers = {"http://f.example/robots.txt": (301, {"Location": "/r1"}, b"")}
    for hop in range(1, 6):
        answers[f"http://f.example/r{hop}"] = (302, {"Location": f"/r{hop + 1}"}, b"")
    answers["http://f.example/r6"] = (200, {}, b"User-agent: *\nDisallow: /\n")
    network = attach(answers)
    assert allowed(gate, "http://f.example/anything")
    assert "http://f.example/r6" not in network.fetched


def test_concurrent_requests_share_one_fetch(gate_setup) -> None:  # type: ignore[no-untyped-def]
    gate, _clock, attach = gate_setup
    network = attach({"http://g.example/robots.txt": OK})

    async def many() -> None:
        await asyncio.gather(*(gate.process_request(Request(f"http://g.example/{n}")) for n in range(20)))

    asyncio.run(many())
    assert sorted(network.fetched) == ["http://g.example/.well-known/tdmrep.json", "http://g.example/ai.txt",
                                       "http://g.example/robots.txt"]


def test_crawl_delay_sets_the_hosts_download_slot(gate_setup) -> None:  # type: ignore[no-untyped-def]
    gate, _clock, attach = gate_setup
    network = attach({"http://h.example/robots.txt": (200, {}, b"User-agent: faircrawl\nCrawl-delay: 2.5\n")})
    assert allowed(gate, "http://h.example/")
    assert network.downloader.per_slot_settings["h.example"] == {"delay": 2.5, "concurrency": 1, "jitter": 0}


def test_a_crawl_delay_beyond_the_limit_refuses_the_host(gate_setup) -> None:  # type: ignore[no-untyped-def]
    gate, _clock, attach = gate_setup
    attach({"http://i.example/robots.txt": (200, {}, b"User-agent: *\nCrawl-delay: 3600\n")})
    assert not allowed(gate, "http://i.example/")


def test_an_unreachable_tdmrep_file_assumes_a_reservation_for_images(gate_setup) -> None:  # type: ignore[no-untyped-def]
    gate, _clock, attach = gate_setup
    attach({"http://j.example/robots.txt": OK, "http://j.example/.well-known/tdmrep.json": (503, {}, b"")})
    assert allowed(gate, "http://j.example/page.html")  # pages are not mined
    image = Request("http://j.example/a.jpg", meta={"faircrawl_kind": "image"})
    with pytest.raises(IgnoreRequest, match="tdm-rights-reserved"):
        asyncio.run(gate.process_request(image))


def test_an_unreachable_ai_txt_assumes_a_refusal_for_images(gate_setup) -> None:  # type: ignore[no-untyped-def]
    gate, _clock, attach = gate_setup
    attach({"http://k.example/robots.txt": OK, "http://k.example/ai.txt": ConnectionResetError("reset")})
    image = Request("http://k.example/a.jpg", meta={"faircrawl_kind": "image"})
    with pytest.raises(IgnoreRequest, match="ai-txt-disallows-training"):
        asyncio.run(gate.process_request(image))


# -- how long a robots.txt is reused: 24 h, or its own max-age if shorter (reference §1.4), from when it was fetched


@pytest.mark.parametrize(("headers", "reused_for"), [
    pytest.param({"Cache-Control": "max-age=60"}, 60, id="max-age"),
    pytest.param({"Cache-Control": "public, max-age=600", "Age": "590"}, 10, id="max-age-less-age"),
    pytest.param({"Cache-Control": ["max-age=300", "max-age=120"]}, 120, id="shortest-of-several"),
    pytest.param({"Cache-Control": 'max-age="90"'}, 90, id="quoted-value"),
    pytest.param({"Cache-Control": "max-age=172800"}, 24 * 3600, id="never-over-24-hours"),
])
def test_a_robots_txt_max_age_shorter_than_24_hours_is_honoured(gate_setup, headers: dict[str, Any],  # type: ignore[no-untyped-def]
                                                                 reused_for: int) -> None:
    gate, clock, attach = gate_setup
    network = attach({"http://m.example/robots.txt": (200, headers, OK[2])})
    assert not allowed(gate, "http://m.example/no/1")
    clock.now += reused_for - 1
    assert not allowed(gate, "http://m.example/no/2")
    assert len(robots_fetches(network)) == 1, "still fresh"
    clock.now += 2
    assert not allowed(gate, "http://m.example/no/3")
    assert len(robots_fetches(network)) == 2, "stale after its max-age: fetched again"


def test_an_unreadable_max_age_makes_the_copy_stale_at_once(gate_setup) -> None:  # type: ignore[no-untyped-def]
    gate, clock, attach = gate_setup
    network = attach({"http://m.example/robots.txt": (200, {"Cache-Control": "max-age=soon"}, OK[2])})
    assert allowed(gate, "http://m.example/a")
    clock.now += 1
    assert allowed(gate, "http://m.example/b")
    assert len(robots_fetches(network)) == 2


def test_the_24_hours_count_from_the_robots_txt_fetch_not_from_the_last_site_file(gate_setup) -> None:  # type: ignore[no-untyped-def]
    gate, clock, attach = gate_setup
    network = attach({"http://d.example/robots.txt": (200, {}, b"User-agent: *\nCrawl-delay: 60\nDisallow: /no/\n")})
    original = network.download_async

    async def slow_site(request: Request) -> Response:  # tdmrep.json and ai.txt wait out the 60 s Crawl-delay
        if not request.url.endswith("/robots.txt"):
            clock.now += 60
        return await original(request)

    network.download_async = slow_site  # type: ignore[method-assign]
    fetched_at = clock.now
    assert allowed(gate, "http://d.example/a")
    clock.now = fetched_at + 24 * 3600 - 1
    assert allowed(gate, "http://d.example/b")
    assert len(robots_fetches(network)) == 1
    clock.now = fetched_at + 24 * 3600 + 1  # 2 minutes before the copy's old expiry
    assert allowed(gate, "http://d.example/c")
    assert len(robots_fetches(network)) == 2


def test_another_workers_copy_is_kept_no_longer_than_the_runs_copy_lives(  # type: ignore[no-untyped-def]
        gate_setup, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Many workers (crawler.frontier): worker A fetched the files an hour before the end of their 24 h; worker B,
    # reading them from Redis, must drop them when the run's copy ends, not 24 h after it read them.
    import uuid

    from crawler.frontier import politeness

    gate, clock, attach = gate_setup
    network = attach({})  # worker B fetches nothing itself
    settings = {"FAIRCRAWL_FRONTIER": redis_url, "FAIRCRAWL_FRONTIER_PREFIX": f"test-{uuid.uuid4().hex}",
                "FAIRCRAWL_RUN_ID": "run1"}
    worker_a, worker_b = (politeness.SharedSiteFiles(get_crawler(settings_dict=settings)) for _ in range(2))
    from policy.observe import FetchedFile

    async def fetched_by_a() -> tuple[FetchedFile, ...]:
        return (FetchedFile("http://s.example/robots.txt", "found", OK[2], "HTTP 200"),
                FetchedFile("http://s.example/.well-known/tdmrep.json", "absent", None, "HTTP 404"),
                FetchedFile("http://s.example/ai.txt", "absent", None, "HTTP 404"))

    try:
        files, left = asyncio.run(worker_a.fetch("http://s.example", fetched_by_a, lambda _files: 3600.0))
        assert left is None, "the worker that fetched them has the whole time"
        monkeypatch.setattr(politeness, "shared_site_files", lambda _crawler: worker_b)
        assert not allowed(gate, "http://s.example/no/x")  # worker B: A's rules, read from Redis
        assert network.fetched == []
        expires = gate.runtime.site_files.cached(("http", "s.example", 80)).expires_at
        assert clock.now + 3590 < expires <= clock.now + 3600
    finally:
        worker_a.server.delete(*worker_a.server.keys(f"{settings['FAIRCRAWL_FRONTIER_PREFIX']}*"))


def test_an_unreachable_robots_txt_is_retried_with_backoff_and_a_success_starts_over(gate_setup) -> None:  # type: ignore[no-untyped-def]
    # reference §1.4: 5xx, timeout, DNS or TLS error: "DISALLOW_ALL. Retry with backoff" (1 h, then 2 h, 4 h ...)
    gate, clock, attach = gate_setup
    network = attach({"http://e.example/robots.txt": (503, {}, b"")})
    assert not allowed(gate, "http://e.example/")
    for hours, fetches in ((1, 2), (2, 3), (4, 4)):  # the wait before each new try doubles
        clock.now += hours * 3600 - 1
        assert not allowed(gate, "http://e.example/")
        assert len(robots_fetches(network)) == fetches - 1, f"not yet {hours} h"
        clock.now += 2
        assert not allowed(gate, "http://e.example/")
        assert len(robots_fetches(network)) == fetches
    network.answers["http://e.example/robots.txt"] = OK
    clock.now += 8 * 3600 + 1
    assert allowed(gate, "http://e.example/")
    network.answers["http://e.example/robots.txt"] = (503, {}, b"")
    clock.now += 24 * 3600 + 1
    assert not allowed(gate, "http://e.example/")
    fetches = len(robots_fetches(network))
    clock.now += 3601
    assert not allowed(gate, "http://e.example/")
    assert len(robots_fetches(network)) == fetches + 1, "after a success the wait is 1 h again"
