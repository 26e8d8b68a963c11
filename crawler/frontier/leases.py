"""A worker's side of the leases: renew them while it works, release them once the rows are written.

A popped request stays leased until Scrapy is done with it (downloaded,
parsed, its links queued, its image through the pipeline: the engine drops it
from its in-progress set only then) *and* the background writer has settled
every row queued up to that moment. Only then is the lease released, so a
worker killed at any point leaves its unfinished requests to be leased again
by another worker, and the decisions it had written are not written twice (a
decision's id is derived from the run and the request key: the second insert
is ignored, see storage.writer).

The same loop puts expired leases of dead workers back in the queue and
publishes this worker's counts in the run's ``workers`` hash, which
``faircrawl crawl --workers`` prints as per-worker progress.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from typing import Any

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet import task

from crawler.frontier.scheduler import FrontierScheduler, reclaim_expired
from crawler.recording import recorder_for
from crawler.settings import setting

logger = logging.getLogger(__name__)


def worker_id() -> str:
    """This worker's name in the run: host and pid (FAIRCRAWL_WORKER_ID in the environment overrides it)."""
    return os.environ.get("FAIRCRAWL_WORKER_ID") or f"{socket.gethostname()}:{os.getpid()}"


class Leases:
    """Extension, active with FAIRCRAWL_FRONTIER: renews, releases and reclaims leases (see the module docstring)."""

    def __init__(self, crawler: Crawler) -> None:
        if not setting(crawler.settings, "FAIRCRAWL_FRONTIER"):
            raise NotConfigured
        self.crawler = crawler
        self.lease_seconds: float = setting(crawler.settings, "FAIRCRAWL_FRONTIER_LEASE")
        self.worker = worker_id()
        self.held: dict[str, Request] = {}  # lease id -> the request popped with it
        self.releasing: list[tuple[str, int]] = []  # (lease id, rows queued when Scrapy finished with it)
        self.released = 0
        self.renewals = 0  # renewal round trips (on the renewal thread; stats are not thread-safe)
        self.reclaimed = 0
        self._loop: task.LoopingCall | None = None
        self._lock = threading.Lock()
        self._renewing: list[str] = []  # what the renewal thread renews (set by the reactor's tick)
        self._stop = threading.Event()
        self._server: Any = None
        self._keys: Any = None
        self._renewer = threading.Thread(target=self._renew_forever, name="faircrawl-lease-renewal", daemon=True)
        crawler.signals.connect(self._opened, signal=signals.spider_opened)
        crawler.signals.connect(self._closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Leases:
        return cls(crawler)

    @property
    def _scheduler(self) -> FrontierScheduler:
        engine = self.crawler.engine
        assert engine is not None and engine._slot is not None
        scheduler = engine._slot.scheduler
        assert isinstance(scheduler, FrontierScheduler)
        return scheduler

    def _opened(self, spider: Any) -> None:
        scheduler = self._scheduler
        self._server, self._keys = scheduler.server, scheduler.frontier_keys
        self._renewer.start()
        self._publish("crawling")
        self._loop = task.LoopingCall(self.tick)
        self._loop.start(max(0.5, min(2.0, self.lease_seconds / 4)), now=False)

    def tick(self) -> None:
        """Renew held leases, release finished ones whose rows are written, reclaim dead workers' leases."""
        try:
            self._tick()
        except Exception as error:  # noqa: BLE001 - Redis away for a moment: leases expire, nothing is lost
            logger.warning("frontier lease upkeep failed: %s: %s", type(error).__name__, error)

    def _tick(self, release: bool = True) -> None:
        engine = self.crawler.engine
        if engine is None or engine._slot is None:
            return
        scheduler = self._scheduler
        server, keys = scheduler.server, scheduler.frontier_keys
        # Scrapy is done with a request once the engine drops it from its in-progress set (a private attribute:
        # Scrapy has no signal for "callback, its requests and items all handled").
        in_progress = engine._slot.inprogress
        recorder = recorder_for(self.crawler)
        self.held.update(scheduler.take_popped())
        for lease, request in list(self.held.items()):
            if request not in in_progress:
                del self.held[lease]
                self.releasing.append((lease, recorder.rows_queued))
        settled = recorder.rows_settled()
        ready = [lease for lease, ticket in self.releasing if ticket <= settled] if release else []
        self.releasing = [(lease, ticket) for lease, ticket in self.releasing if ticket > settled]
        with self._lock:
            self._renewing = [*self.held, *(lease for lease, _ in self.releasing)]
        stats = self.crawler.stats
        stats.inc_value("frontier/redis_roundtrips", 3 if ready else 2)  # release, reclaim, publish
        if ready:
            with server.pipeline(transaction=False) as pipe:
                for lease in ready:
                    pipe.zrem(keys.inflight, lease).hdel(keys.leased, lease).hdel(keys.scores, lease)
                pipe.execute()
        self.released += len(ready)
        moved = reclaim_expired(server, keys)
        if moved:
            self.reclaimed += moved
            self.crawler.stats.inc_value("frontier/reclaimed", moved)
            logger.warning("%d request(s) of a worker that stopped renewing its leases are queued again", moved)
        self._publish("crawling")

    def _renew_forever(self) -> None:
        """On its own thread, so a reactor busy for a while (CPU-bound stages) does not lose its leases."""
        interval = max(0.5, self.lease_seconds / 4)
        while not self._stop.wait(interval):
            self.renew()

    def renew(self) -> None:
        """Push back the deadline of every lease this worker holds (only those still in flight: ZADD XX)."""
        with self._lock:
            leases = list(self._renewing)
        try:  # popped since the reactor's last tick (read from this thread: a copy may race with a pop)
            leases += list(self._scheduler_popped())
        except RuntimeError:
            pass
        if not leases or self._server is None or self._keys is None:
            return
        deadline = time.time() + self.lease_seconds
        try:
            with self._server.pipeline(transaction=False) as pipe:
                for lease in leases:
                    pipe.zadd(self._keys.inflight, {lease: deadline}, xx=True)
                pipe.execute()
            self.renewals += 1
        except Exception as error:  # noqa: BLE001 - Redis away for a moment: the next renewal may still be in time
            logger.warning("frontier lease renewal failed: %s: %s", type(error).__name__, error)

    def _scheduler_popped(self) -> list[str]:
        engine = self.crawler.engine
        slot = engine._slot if engine is not None else None
        scheduler = slot.scheduler if slot is not None else None
        return list(getattr(scheduler, "_popped", {}))

    def _publish(self, state: str) -> None:
        scheduler = self._scheduler
        counts = {f"{kind}/{outcome}": n for (kind, outcome), n in sorted(recorder_for(self.crawler).counts.items())}
        scheduler.server.hset(scheduler.frontier_keys.workers, self.worker, json.dumps({
            "state": state, "pid": os.getpid(), "host": socket.gethostname(), "updated": time.time(),
            "held": len(self.held) + len(self.releasing), "released": self.released, "reclaimed": self.reclaimed,
            "redis_roundtrips": int(self.crawler.stats.get_value("frontier/redis_roundtrips", 0)) + self.renewals,
            "requests": int(self.crawler.stats.get_value("downloader/request_count", 0)),
            "host_places": int(self.crawler.stats.get_value("frontier/host_places/taken", 0)),
            "counts": counts}))

    def _closed(self, spider: Any, reason: str) -> None:
        """After the recorder closed its writer (every row settled): release what is left, publish the end."""
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        self._stop.set()
        try:
            # Only a finished crawl releases what it holds: a stopped one may have cancelled requests it never
            # decided, so their leases run out and another worker takes them (decided at most once, by key).
            self._tick(release=reason == "finished")
            self._publish("finished" if reason == "finished" else f"stopped: {reason}")
            if reason == "finished":
                self._finish_run_if_drained()
        except Exception as error:  # noqa: BLE001 - the leases expire and are reclaimed by the others
            logger.warning("frontier could not be updated at close: %s: %s", type(error).__name__, error)

    def _finish_run_if_drained(self) -> None:
        """The last worker out ends the run: nothing queued, nothing leased (the database counts, not ours)."""
        scheduler = self._scheduler
        keys = scheduler.frontier_keys
        if scheduler.server.zcard(keys.queue) or scheduler.server.zcard(keys.inflight):
            return
        from storage.runs import RunStatus, decision_counts, finish_run

        recorder = recorder_for(self.crawler)
        stats: dict[str, Any] = {**decision_counts(recorder.database, recorder.run_id), "workers": self.workers()}
        finish_run(recorder.database, recorder.run_id, RunStatus.FINISHED, "finished", stats, only_if_running=True)

    def workers(self) -> dict[str, Any]:
        """Every worker's last published state, by worker id."""
        scheduler = self._scheduler
        return {name.decode() if isinstance(name, bytes) else str(name): json.loads(state)
                for name, state in scheduler.server.hgetall(scheduler.frontier_keys.workers).items()}
