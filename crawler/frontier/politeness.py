"""Per-host politeness across workers: site files fetched once per origin for the run, Crawl-delay kept by all.

Site files (robots.txt, tdmrep.json, ai.txt) of an origin are fetched by the
first worker that needs them, under a Redis lock; what it got (found, absent
or unreachable: fail-closed results are shared the same way) is kept in Redis
for the files' cache lifetime, and every other worker parses that instead of
fetching again. A host's Crawl-delay holds across workers: before a request to
such a host, a worker takes the host's slot in Redis (``SET NX PX delay``), so
at most one request per delay starts, whichever worker sends it. A host without
a Crawl-delay gets at most ``CONCURRENT_REQUESTS_PER_DOMAIN`` requests in flight
for the whole run, not per worker: a semaphore per host in Redis
(:class:`HostConcurrency`), whose places a dead worker gives back when they expire.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawler.frontier.keys import connect
from crawler.frontier.scheduler import keys_for
from crawler.settings import setting
from policy.observe import FetchedFile

LOCK_SECONDS = 60  # a worker that dies while fetching an origin's files frees it after this
POLL_SECONDS = 0.1


def _encode(files: tuple[FetchedFile, ...]) -> str:
    return json.dumps([{**asdict(f), "body": base64.b64encode(f.body).decode() if f.body is not None else None}
                       for f in files])


def _decode(raw: bytes | str) -> tuple[FetchedFile, ...]:
    return tuple(FetchedFile(**{**f, "body": base64.b64decode(f["body"]) if f["body"] is not None else None})
                 for f in json.loads(raw))


class SharedSiteFiles:
    """One fetch of an origin's site files for the whole run (see the module docstring)."""

    def __init__(self, crawler: Crawler) -> None:
        self.server = connect(setting(crawler.settings, "FAIRCRAWL_FRONTIER"))
        self.keys = keys_for(crawler.settings)
        self.crawler = crawler

    async def fetch(self, origin: str, fetch: Callable[[], Awaitable[tuple[FetchedFile, ...]]],
                    ttl_of: Callable[[tuple[FetchedFile, ...]], float]
                    ) -> tuple[tuple[FetchedFile, ...], float | None]:
        """The origin's files and, when another worker fetched them, the seconds the run's copy has left (None when
        this worker fetched them): a copy must not outlive the original fetch's 24 h (RFC 9309 §2.4)."""
        key, lock = self.keys.key(f"sitefiles:{origin}"), self.keys.key(f"sitefiles-lock:{origin}")
        while True:
            self.crawler.stats.inc_value("frontier/redis_roundtrips")  # one pipeline: GET and PTTL together
            with self.server.pipeline(transaction=True) as both:
                raw, left_ms = both.get(key).pttl(key).execute()
            if raw is not None:
                self.crawler.stats.inc_value("frontier/sitefiles/shared")
                return _decode(raw), max(0.0, left_ms / 1000) if left_ms is not None and left_ms >= 0 else None
            self.crawler.stats.inc_value("frontier/redis_roundtrips")
            if self.server.set(lock, "1", nx=True, ex=LOCK_SECONDS):
                self.crawler.stats.inc_value("frontier/redis_roundtrips", 2)  # the result, the lock
                try:
                    files = await fetch()
                    self.server.set(key, _encode(files), ex=max(1, int(ttl_of(files))))
                    self.crawler.stats.inc_value("frontier/sitefiles/fetched")
                    return files, None
                finally:
                    self.server.delete(lock)
            await asyncio.sleep(POLL_SECONDS)


def shared_site_files(crawler: Crawler) -> SharedSiteFiles | None:
    """The run's shared site files with FAIRCRAWL_FRONTIER, else None (each process fetches its own)."""
    if not setting(crawler.settings, "FAIRCRAWL_FRONTIER"):
        return None
    from crawler.policy_runtime import per_crawler

    return per_crawler(crawler, "_faircrawl_shared_site_files", SharedSiteFiles)


class HostConcurrency:
    """At most ``limit`` requests in flight to a host across every worker of the run (a Redis sorted set per host:
    holder -> expiry on the Redis server's clock, so the workers' clocks do not matter; a dead worker's places
    expire after ``hold_ms``)."""

    def __init__(self, server: Any, keys: Any, limit: int, hold_ms: int) -> None:
        self.server, self.keys, self.limit, self.hold_ms = server, keys, limit, hold_ms

    def key(self, host: str) -> str:
        return str(self.keys.key(f"host-active:{host}"))

    def try_acquire(self, host: str, holder: str) -> bool:
        return bool(self.server.eval(_ACQUIRE_PLACE, 1, self.key(host), holder, self.limit, self.hold_ms))

    def release(self, host: str, holder: str) -> None:
        self.server.zrem(self.key(host), holder)

    def in_flight(self, host: str) -> int:
        return int(self.server.zcard(self.key(host)))


class HostSlots:
    """Downloader middleware, with FAIRCRAWL_FRONTIER: a request to a host with a Crawl-delay needs the host's slot
    in Redis, held from before the request is sent until ``delay`` seconds after its response, so the delay holds
    between any two requests of every worker of the run (a dead worker's slot frees itself after HOLD_SECONDS).
    A request to any other host needs one of the host's ``CONCURRENT_REQUESTS_PER_DOMAIN`` places for the run."""

    def __init__(self, crawler: Crawler) -> None:
        if not setting(crawler.settings, "FAIRCRAWL_FRONTIER"):
            raise NotConfigured
        self.crawler = crawler
        self.token = setting(crawler.settings, "FAIRCRAWL_PRODUCT_TOKEN")
        self.max_delay = setting(crawler.settings, "FAIRCRAWL_MAX_CRAWL_DELAY")
        self.hold_ms = int(1000 * (crawler.settings.getfloat("DOWNLOAD_TIMEOUT") + 30))
        self.server = connect(setting(crawler.settings, "FAIRCRAWL_FRONTIER"))
        self.keys = keys_for(crawler.settings)
        self.places = HostConcurrency(self.server, self.keys,
                                      max(1, crawler.settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN")), self.hold_ms)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> HostSlots:
        return cls(crawler)

    def _delay(self, request: Request) -> float | None:
        from crawler.policy_runtime import policy_for
        from crawler.sitefiles import SITE_FILE_META, origin_of

        if request.meta.get(SITE_FILE_META):
            return None
        site = policy_for(self.crawler).site_files.cached(origin_of(request))
        delay = site.robots.crawl_delay(self.token) if site is not None else None
        return delay if delay and delay <= self.max_delay else None

    async def process_request(self, request: Request, spider: Any = None) -> None:
        self._release(request)  # a copy of a request that still held one (should nothing have released it)
        if request.meta.get(_site_file_meta()):
            return  # fetched once per origin under its own lock (SharedSiteFiles), never behind a page of its host
        delay = self._delay(request)
        host = urlsplit(request.url).hostname or ""
        holder = f"{id(self)}:{id(request)}:{time.monotonic()}"
        stats = self.crawler.stats
        if delay is None:
            stats.inc_value("frontier/redis_roundtrips")
            while not self.places.try_acquire(host, holder):
                stats.inc_value("frontier/redis_roundtrips")
                stats.inc_value("frontier/host_places/waits")
                await asyncio.sleep(POLL_SECONDS)
            stats.inc_value("frontier/host_places/taken")
            request.meta[HOST_PLACE_META] = (host, holder)
            return
        slot = self.keys.key(f"host-slot:{host}")
        stats.inc_value("frontier/redis_roundtrips")
        while not self.server.set(slot, holder, nx=True, px=self.hold_ms):
            stats.inc_value("frontier/redis_roundtrips", 2)
            stats.inc_value("frontier/host_slot/waits")
            remaining = self.server.pttl(slot)
            await asyncio.sleep(min(1.0, max(0.01, remaining / 1000 if remaining and remaining > 0 else POLL_SECONDS)))
        request.meta[HOST_SLOT_META] = (slot, holder, delay)

    def _release(self, request: Request) -> None:
        place = request.meta.pop(HOST_PLACE_META, None)
        if place is not None:
            self.crawler.stats.inc_value("frontier/redis_roundtrips")
            self.places.release(*place)
        held = request.meta.pop(HOST_SLOT_META, None)
        if held is None:
            return
        slot, holder, delay = held
        self.crawler.stats.inc_value("frontier/redis_roundtrips")
        self.server.eval(_RELEASE_AFTER_DELAY, 1, slot, holder, max(1, int(delay * 1000)))

    def process_response(self, request: Request, response: Any, spider: Any = None) -> Any:
        self._release(request)
        return response

    def process_exception(self, request: Request, exception: BaseException, spider: Any = None) -> None:
        self._release(request)


def _site_file_meta() -> str:
    from crawler.sitefiles import SITE_FILE_META

    return SITE_FILE_META


HOST_SLOT_META = "faircrawl_host_slot"
HOST_PLACE_META = "faircrawl_host_place"
# KEYS: the host's places; ARGV: holder, limit, hold ms. Expired places (their worker died) are dropped first;
# the expiry is on the Redis server's clock (TIME), the same for every worker.
_ACQUIRE_PLACE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
  return 1
end
return 0
"""
# KEYS: slot; ARGV: holder, delay ms. The slot stays taken for the delay after the response, then frees itself.
_RELEASE_AFTER_DELAY = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
