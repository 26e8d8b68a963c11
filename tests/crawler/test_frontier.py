"""Many workers on one run: the catalog crawled by 3 processes on a real Redis frontier and a real PostgreSQL.

Run them with Redis on 127.0.0.1:6379 and PostgreSQL on 127.0.0.1:5432 (database ``test``); CI (CI=true) always
does. Every test uses its own Redis key prefix (a uuid) and its own PostgreSQL schema.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, func, select

from crawler.frontier.budgets import RunBudgets
from crawler.frontier.keys import FrontierKeys
from crawler.frontier.launch import worker_states
from policy import Reason
from storage.models import DecisionRecord, ImageRecord, PageRecord
from tests.conftest import PROJECT_ROOT, Served, postgres_schema, run_faircrawl, serve_testsites, stop_testsites

REDIS_URL = os.environ.get("FAIRCRAWL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
#: One key for every crawl into this module's database (each runs in its own folder, so no key file is shared).
KEY = Fernet.generate_key().decode()


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="module")
def redis_url() -> str:
    """A reachable Redis; missing, it fails in CI and skips elsewhere saying how to run these tests."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as error:
        message = f"Redis not reachable at {REDIS_URL} ({type(error).__name__})"
        if _in_ci():
            pytest.fail(f"{message}: CI must run the frontier tests")
        pytest.skip(f"{message}; start Redis on 127.0.0.1:6379 (or set FAIRCRAWL_TEST_REDIS_URL) to run them; "
                    "CI (CI=true) always runs these")
    return REDIS_URL


@pytest.fixture(scope="module")
def shared_db() -> Iterator[str]:
    """A PostgreSQL URL on a fresh schema shared by this module's crawls."""
    with postgres_schema() as url:
        yield url


@dataclass
class Crawled:
    report: dict[str, Any]
    served: Served
    process: subprocess.CompletedProcess[str] | None = None
    env: dict[str, str] = field(default_factory=dict)

    def outcomes(self) -> dict[tuple[str, str], tuple[str, str]]:
        """(url, kind) -> (outcome, the deciding reason's code); asserts one decision per URL."""
        counted = Counter((d["url"], d["kind"]) for d in self.report["decisions"])
        assert max(counted.values()) == 1, [k for k, n in counted.items() if n > 1]
        return {(d["url"], d["kind"]): (d["outcome"], d["reasons"][-1]["code"] if d["reasons"] else "")
                for d in self.report["decisions"]}


def _crawl(workdir: Path, served: Served, *args: str, env: dict[str, str] | None = None) -> Crawled:
    report = workdir / f"report-{uuid.uuid4().hex[:6]}.json"
    process = run_faircrawl("crawl", "--testsites", "--testsites-server", served.url, "--store",
                            str(workdir / "images"), "--report", str(report), *args, cwd=workdir, env=env,
                            timeout=900)
    assert process.returncode == 0, f"crawl failed:\n{process.stdout[-3000:]}\n{process.stderr[-3000:]}"
    return Crawled(json.loads(report.read_text()), served, process, dict(env or {}))


def _ran_out_of_time(decision: dict[str, Any]) -> bool:
    """A fetch that hit DOWNLOAD_TIMEOUT (30 s) on an overloaded machine: the outcome then reflects the load."""
    return any(r["code"] == "fetch.timeout" or "took longer than" in str(r.get("detail") or "")
               for r in decision["reasons"])


def assert_same_decisions(got: Crawled, reference: Crawled) -> None:
    """The same outcome and deciding reason per URL, one decision each; a host where either crawl ran out of time
    (a 10 MB robots.txt, a slow page, on a machine other jobs overload) may differ there, and only there."""
    mine, theirs = got.outcomes(), reference.outcomes()
    slow_hosts = {urlsplit(d["url"]).hostname for crawled in (got, reference) for d in crawled.report["decisions"]
                  if _ran_out_of_time(d)}
    differing = sorted(k for k in mine.keys() | theirs.keys() if mine.get(k) != theirs.get(k))
    assert all(urlsplit(url).hostname in slow_hosts for url, _ in differing), (
        [(k, mine.get(k), theirs.get(k)) for k in differing])
    assert len(slow_hosts) <= 3, slow_hosts  # a load that slows more than that makes the comparison meaningless


@pytest.fixture(scope="module")
def single(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crawled]:
    """The reference: the catalog crawled by one process, embedded scheduler, SQLite."""
    workdir = tmp_path_factory.mktemp("single")
    served, server = serve_testsites(workdir)
    try:
        yield _crawl(workdir, served, "--db", f"sqlite:///{workdir}/faircrawl.db")
    finally:
        stop_testsites(server)


@pytest.fixture(scope="module")
def three_workers(tmp_path_factory: pytest.TempPathFactory, redis_url: str, shared_db: str) -> Iterator[Crawled]:
    """The catalog crawled by 3 worker processes sharing one Redis frontier and one PostgreSQL database."""
    workdir = tmp_path_factory.mktemp("three-workers")
    served, server = serve_testsites(workdir)
    try:
        yield _crawl(workdir, served, "--db", shared_db, "--frontier", redis_url, "--workers", "3",
                     env={"FAIRCRAWL_FRONTIER_PREFIX": f"test-{uuid.uuid4().hex}", "FAIRCRAWL_KEY": KEY})
    finally:
        stop_testsites(server)


def test_three_workers_decide_exactly_what_one_process_decides(single: Crawled, three_workers: Crawled) -> None:
    assert three_workers.report["run"]["status"] == "finished"
    assert_same_decisions(three_workers, single)


def test_three_workers_all_took_part_and_each_is_reported(three_workers: Crawled) -> None:
    workers = three_workers.report["run"]["stats"]["workers"]
    assert len(workers) == 3
    assert all(state["state"] == "finished" and sum(state["counts"].values()) > 0 for state in workers.values())
    assert three_workers.process is not None and three_workers.process.stderr.count("  worker w") >= 3


def test_one_record_per_request_in_the_shared_database(three_workers: Crawled, shared_db: str) -> None:
    engine = create_engine(shared_db)
    run_id = three_workers.report["run"]["id"]
    with engine.connect() as connection:
        decisions = connection.execute(select(func.count(), func.count(DecisionRecord.request_key.distinct()))
                                       .where(DecisionRecord.run_id == run_id)).one()
        pages = connection.execute(select(func.count(), func.count(PageRecord.decision_id.distinct()))
                                   .where(PageRecord.run_id == run_id)).one()
        images = connection.execute(select(func.count(), func.count(ImageRecord.decision_id.distinct()))
                                    .where(ImageRecord.run_id == run_id)).one()
    engine.dispose()
    assert decisions[0] == decisions[1] == len(three_workers.report["decisions"])
    assert pages[0] == pages[1] and images[0] == images[1]


def _robots_fetches(crawled: Crawled) -> Counter[str]:
    return Counter(host for _, host, path in crawled.served.requests() if path == "/robots.txt")


def test_robots_txt_is_fetched_once_per_origin_across_workers(single: Crawled, three_workers: Crawled) -> None:
    fetched = _robots_fetches(three_workers)
    assert fetched and fetched == _robots_fetches(single)
    site_files = Counter((host, path) for _, host, path in three_workers.served.requests()
                         if path in ("/.well-known/tdmrep.json", "/ai.txt"))
    assert site_files and max(site_files.values()) == 1


def test_crawl_delay_holds_across_workers(three_workers: Crawled) -> None:
    # twins.example.com asks for Crawl-delay: 1; the three workers together keep it (server-side arrival times)
    arrivals = sorted(at for at, host, path in three_workers.served.requests()
                      if host == "twins.example.com" and path != "/robots.txt" and not path.startswith("/.well-known")
                      and path != "/ai.txt")
    assert len(arrivals) >= 3
    assert min(later - earlier for earlier, later in itertools.pairwise(arrivals)) >= 0.9


def test_per_host_places_were_taken_by_every_worker_and_all_given_back(three_workers: Crawled,
                                                                       redis_url: str) -> None:
    import redis

    workers = three_workers.report["run"]["stats"]["workers"]
    assert all(state["host_places"] > 0 for state in workers.values())  # the run-wide per-host limit was in the path
    server = redis.Redis.from_url(redis_url)
    prefix = three_workers.env["FAIRCRAWL_FRONTIER_PREFIX"]
    left = list(server.scan_iter(f"{prefix}:{three_workers.report['run']['id']}:host-active:*"))
    server.close()
    assert left == []  # every place taken was released (an empty set is no key)


def test_no_more_than_the_limit_of_requests_to_a_host_are_in_flight_across_workers(redis_url: str) -> None:
    """Three workers (own connections, own threads) share a limit of 2 places for one host."""
    import threading

    import redis

    from crawler.frontier.politeness import HostConcurrency

    keys = FrontierKeys(f"test-{uuid.uuid4().hex}", "run")
    lock, in_flight, peak, done = threading.Lock(), [0], [0], []

    def worker(name: str) -> None:
        places = HostConcurrency(redis.Redis.from_url(redis_url), keys, limit=2, hold_ms=30_000)
        for n in range(40):
            holder = f"{name}:{n}"
            while not places.try_acquire("a.example", holder):
                time.sleep(0.001)
            with lock:
                in_flight[0] += 1
                peak[0] = max(peak[0], in_flight[0])
            time.sleep(0.002)
            with lock:
                in_flight[0] -= 1
            places.release("a.example", holder)
        done.append(name)

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(done) == ["w0", "w1", "w2"]
    assert peak[0] == 2  # the limit was reached, never passed


def test_a_dead_workers_place_at_a_host_expires(redis_url: str) -> None:
    import redis

    from crawler.frontier.politeness import HostConcurrency

    keys = FrontierKeys(f"test-{uuid.uuid4().hex}", "run")
    server = redis.Redis.from_url(redis_url)
    places = HostConcurrency(server, keys, limit=1, hold_ms=300)
    try:
        assert places.try_acquire("a.example", "dead-worker")  # never released
        assert not places.try_acquire("a.example", "live-worker")
        time.sleep(0.5)
        assert places.try_acquire("a.example", "live-worker") and places.in_flight("a.example") == 1
    finally:
        server.delete(places.key("a.example"))
        server.close()


def test_a_killed_worker_loses_nothing_and_nothing_is_decided_twice(
        tmp_path_factory: pytest.TempPathFactory, redis_url: str, shared_db: str, single: Crawled) -> None:
    import redis

    workdir = tmp_path_factory.mktemp("killed-worker")
    served, server = serve_testsites(workdir)
    prefix = f"test-{uuid.uuid4().hex}"
    report = workdir / "report.json"
    out, err = (workdir / "out.txt").open("w"), (workdir / "err.txt").open("w")
    launcher = subprocess.Popen(
        [sys.executable, "-m", "crawler.cli", "crawl", "--testsites", "--testsites-server", served.url, "--db",
         shared_db, "--store", str(workdir / "images"), "--report", str(report), "--frontier", redis_url,
         "--workers", "3"], cwd=workdir, text=True, stdout=out, stderr=err,
        env={**os.environ, "FAIRCRAWL_FRONTIER_PREFIX": prefix, "FAIRCRAWL_FRONTIER_LEASE": "5",
             "FAIRCRAWL_PROGRESS_INTERVAL": "0", "FAIRCRAWL_KEY": KEY})
    client = redis.Redis.from_url(redis_url)
    killed = None
    try:
        deadline = time.monotonic() + 600
        while killed is None and launcher.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
            for key in client.scan_iter(f"{prefix}:*:workers"):
                run_id = key.decode().split(":")[-2]
                for state in worker_states(client, FrontierKeys(prefix, run_id)).values():
                    if state["held"] and sum(state["counts"].values()) >= 10:  # mid-crawl, holding leases
                        os.kill(state["pid"], signal.SIGKILL)
                        killed = state
                        break
        launcher.wait(timeout=900)
    finally:
        if launcher.poll() is None:
            launcher.kill()
        stop_testsites(server)
        out.close()
        err.close()
    stdout, stderr = (workdir / "out.txt").read_text(), (workdir / "err.txt").read_text()
    assert killed is not None, "no worker was caught mid-crawl"
    assert launcher.returncode == 0, f"{stdout[-2000:]}\n{stderr[-3000:]}"
    crawled = Crawled(json.loads(report.read_text()), served)
    assert crawled.report["run"]["status"] == "finished"
    assert_same_decisions(crawled, single)  # nothing lost, one decision per URL, same outcomes
    workers = crawled.report["run"]["stats"]["workers"]
    assert sum(state["reclaimed"] for state in workers.values()) >= 1  # the dead worker's leases went back
    shown = run_faircrawl("report", crawled.report["run"]["id"], "--json", "--db", shared_db, cwd=workdir)
    assert shown.returncode == 0
    assert json.loads(shown.stdout)["decisions"] == crawled.report["decisions"]


def test_frontier_refuses_sqlite(tmp_path: Path, redis_url: str) -> None:
    result = run_faircrawl("crawl", "http://example.com/", "--frontier", redis_url, "--db",
                           f"sqlite:///{tmp_path}/x.db", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("error: --frontier needs one database every worker shares")
    assert "Traceback" not in result.stderr


def test_unreachable_frontier_is_one_clear_error(tmp_path: Path, shared_db: str) -> None:
    result = run_faircrawl("crawl", "http://example.com/", "--frontier", "redis://127.0.0.1:1/0", "--db", shared_db,
                           cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("error: the frontier redis://127.0.0.1:1/0 cannot be reached")
    assert "Traceback" not in result.stderr


def test_workers_without_frontier_is_refused(tmp_path: Path) -> None:
    result = run_faircrawl("crawl", "http://example.com/", "--workers", "2", cwd=tmp_path)
    assert result.returncode == 2 and "--workers and --join need --frontier" in result.stderr


OPTOUT_SITES = ("http://open.example.com/", "http://releases.example.com/", "http://fans.example.com/")
OBAMA = {"http://open.example.com/img/obama.jpg", "http://releases.example.com/img/person.jpg",
         "http://fans.example.com/img/speech.jpg", "http://fans.example.com/img/rally.jpg"}


def test_an_opt_out_added_during_a_three_worker_crawl_applies_to_everything_stored_after_it(
        tmp_path: Path, redis_url: str, shared_db: str) -> None:
    import redis

    from crawler.testsites.photos import face_photo
    from faces.encode import analyse_faces
    from storage.suppression import SuppressionStore

    key = KEY.encode()
    suppression = f"sqlite:///{tmp_path}/suppression.db"
    probe = analyse_faces(face_photo("obama.jpg")).encodings[0]  # ready before the crawl starts
    prefix = f"test-{uuid.uuid4().hex}"
    report = tmp_path / "report.json"
    out, err = (tmp_path / "out.txt").open("w"), (tmp_path / "err.txt").open("w")
    launcher = subprocess.Popen(
        [sys.executable, "-m", "crawler.cli", "crawl", "--testsites", *OPTOUT_SITES, "--db", shared_db, "--store",
         str(tmp_path / "images"), "--report", str(report), "--frontier", redis_url, "--workers", "3"],
        cwd=tmp_path, text=True, stdout=out, stderr=err,
        env={**os.environ, "FAIRCRAWL_FRONTIER_PREFIX": prefix, "FAIRCRAWL_PROGRESS_INTERVAL": "0",
             "FAIRCRAWL_KEY": key.decode(), "FAIRCRAWL_SUPPRESSION_DB": suppression})
    client = redis.Redis.from_url(redis_url)
    added_at = None
    try:
        deadline = time.monotonic() + 600
        while added_at is None and launcher.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
            for found in client.scan_iter(f"{prefix}:*:workers"):
                states = worker_states(client, FrontierKeys(prefix, found.decode().split(":")[-2]))
                if len(states) == 3:  # every worker is crawling, its suppression list loaded (empty)
                    store = SuppressionStore(suppression, Fernet(key))
                    store.add_faces([probe], label="added mid-crawl")
                    store.dispose()
                    added_at = time.time()
        launcher.wait(timeout=900)
    finally:
        if launcher.poll() is None:
            launcher.kill()
        out.close()
        err.close()
    stderr = (tmp_path / "err.txt").read_text()
    assert added_at is not None and launcher.returncode == 0, stderr[-3000:]
    decisions = {d["url"]: d for d in json.loads(report.read_text())["decisions"] if d["kind"] == "image"}
    after = [url for url in OBAMA
             if datetime.fromisoformat(decisions[url]["decided_at"]).timestamp() > added_at]
    assert after, "every image of him was decided before the opt-out: nothing was tested"
    for url in after:
        codes = [r["code"] for r in decisions[url]["reasons"]]
        # matched by face, or (where the site forbids face processing) refused as unscreenable: never stored
        assert decisions[url]["outcome"] != "stored" and {"optout.face_match", "optout.unscreenable"} & set(codes), \
            (url, codes)


def _queue(redis_url: str) -> Any:
    import redis
    from scrapy import Spider

    from crawler.frontier.scheduler import LeasedQueue, RunDupeFilter

    server = redis.Redis.from_url(redis_url)
    keys = FrontierKeys(f"test-{uuid.uuid4().hex}", "run")
    queue = LeasedQueue(server, Spider(name="site"), keys.queue)
    queue.frontier_keys, queue.dupefilter, queue.lease_seconds = keys, RunDupeFilter(server, keys.seen), 2.0
    return queue


def test_a_request_is_queued_once_and_a_lease_that_runs_out_is_queued_again(redis_url: str) -> None:
    from scrapy import Request

    from crawler.frontier.scheduler import LEASE_META, reclaim_expired

    queue = _queue(redis_url)
    keys = queue.frontier_keys
    try:
        assert queue.push(Request("http://a.example/", dont_filter=True)) is True
        assert queue.push(Request("http://a.example/", dont_filter=True)) is False  # another worker found it too
        popped = queue.pop()
        assert popped is not None and popped.url == "http://a.example/" and popped.meta[LEASE_META]
        assert queue.pop() is None and queue.server.zcard(keys.inflight) == 1
        assert reclaim_expired(queue.server, keys) == 0  # the lease still runs
        queue.server.zadd(keys.inflight, {popped.meta[LEASE_META]: time.time() - 1})  # its worker stopped renewing
        assert reclaim_expired(queue.server, keys) == 1
        again = queue.pop()
        assert again is not None and again.url == "http://a.example/" and LEASE_META in again.meta
        assert again.meta[LEASE_META] != popped.meta[LEASE_META]
    finally:
        queue.server.delete(*keys.all())


def test_a_redirect_of_a_leased_request_takes_its_place_in_one_step(redis_url: str) -> None:
    from scrapy import Request

    queue = _queue(redis_url)
    keys = queue.frontier_keys
    try:
        queue.push(Request("http://a.example/old", dont_filter=True))
        popped = queue.pop()
        assert popped is not None
        assert queue.push(popped.replace(url="http://a.example/new")) is True  # carries the lease: a hand-off
        assert queue.server.zcard(keys.inflight) == 0 and queue.server.hlen(keys.leased) == 0
        moved = queue.pop()
        assert moved is not None and moved.url == "http://a.example/new"
    finally:
        queue.server.delete(*keys.all())


def test_scrapy_crawl_refuses_the_frontier_as_faircrawl_crawl_does(tmp_path: Path, redis_url: str) -> None:
    from tests.crawler.test_integrity import workdir_env

    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), **workdir_env(tmp_path),
           "FAIRCRAWL_BOT_KEY_FILE": str(tmp_path / "bot.key")}
    result = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "site", "-a", "start_urls=http://example.com/",
                             "-s", f"FAIRCRAWL_FRONTIER={redis_url}"], cwd=PROJECT_ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("error: --frontier needs one database every worker")


def _budget_counts(crawled: Crawled) -> dict[str, int]:
    """Pages requested, and images requested per host, as the budgets count them: every URL the spider did not
    refuse itself (over a budget, or a URL it cannot request); a gate may still refuse a request it made."""
    decisions = crawled.report["decisions"]
    counts = Counter(d["kind"] if d["kind"] == "page" else f"image:{urlsplit(d['url']).hostname}"
                     for d in decisions if not d["reasons"][-1]["code"].startswith(("budget.", "url.")))
    counts["refused for a budget"] = sum(d["reasons"][-1]["code"].startswith("budget.") for d in decisions)
    return dict(counts)


def test_crawl_budgets_count_for_the_whole_run_across_workers(tmp_path: Path, redis_url: str, shared_db: str) -> None:
    """The budgets of tests/crawler/test_integrity.py::test_crawl_budgets_decide_what_is_left, on two workers."""
    served, server = serve_testsites(tmp_path)
    prefix = f"test-{uuid.uuid4().hex}"
    budgets = ("http://open.example.com/", "http://hostile.example.com/", "--max-pages", "12",
               "--max-images-per-site", "2")
    try:
        two = _crawl(tmp_path, served, "--db", shared_db, "--frontier", redis_url, "--workers", "2", *budgets,
                     env={"FAIRCRAWL_FRONTIER_PREFIX": prefix, "FAIRCRAWL_KEY": KEY})
    finally:
        stop_testsites(server)
    assert two.report["run"]["status"] == "finished"
    two.outcomes()  # one decision per URL
    counted = _budget_counts(two)
    # Counted per worker, two workers could fetch 12 pages each. Which 4 pages come first differs from one process
    # (the workers race), and so do the images they lead to; the limits do not.
    assert counted["page"] == 12 and counted["refused for a budget"] > 0, counted
    assert all(n <= 2 for key, n in counted.items() if key.startswith("image:")), counted
    assert any(n == 2 for key, n in counted.items() if key.startswith("image:")), counted
    import redis

    run_counts = RunBudgets(redis.Redis.from_url(redis_url), FrontierKeys(prefix, two.report["run"]["id"])).used()
    assert run_counts["page:"] == 12, run_counts  # counted in Redis for the run, not in each worker
    assert {k: n for k, n in run_counts.items() if k.startswith("image:")} == {
        k: n for k, n in counted.items() if k.startswith("image:")}, (run_counts, counted)


def test_run_budgets_grant_no_more_than_the_limit_to_racing_workers(redis_url: str) -> None:
    import redis

    from crawler.budgets import Budget

    keys = FrontierKeys(f"test-{uuid.uuid4().hex}", "run")
    workers = [RunBudgets(redis.Redis.from_url(redis_url), keys) for _ in range(4)]
    budget = [Budget("page", False, 25, "")]
    urls = [f"http://example.org/{n}" for n in range(60)]

    def claim_all(worker: RunBudgets) -> list[Reason | None]:
        return [worker.claim(url, budget) for url in urls]  # every worker finds every link

    try:
        with ThreadPoolExecutor(len(workers)) as pool:
            results = list(pool.map(claim_all, workers))
        answers = [{None if r is None else r.code for r in per_url} for per_url in zip(*results)]  # type: ignore[union-attr]
        assert all(len(a) == 1 for a in answers), "every worker gets the same answer for a URL"
        assert sum(a == {None} for a in answers) == 25, "exactly the limit is granted, whoever asks first"
        assert sum(a == {"budget.pages"} for a in answers) == 35
        assert workers[0].used() == {"page:": 25}, "a URL asked for by 4 workers is counted once"
        assert workers[1].claim(urls[0], budget) == results[0][0], "asking again changes nothing"
    finally:
        workers[0].server.delete(*keys.all())
