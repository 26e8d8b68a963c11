"""The shared frontier: scrapy-redis's scheduler, queue and dupefilter, with a lease on every popped request.

scrapy-redis pops a request and forgets it: a worker killed while fetching it
would lose it. Here a pop moves the request, in one Lua script, from the queue
to an in-flight set with a deadline (its lease); the worker renews its leases
while it works and releases each one only once the request's rows are in the
database (:mod:`crawler.frontier.leases`). A lease that runs out, because its
worker died, is put back in the queue by whichever worker sees it first.

Queueing is just as atomic: a new request is added to the dupefilter's set and
to the queue in one script, so no request is seen but never queued, and two
workers finding the same link queue it once. The spider's requests carry
``dont_filter=True`` (so a redirect back to a seen URL still ends in a failure
decision); the dedupe is on the run-wide request key of the first URL.

Requests go through Redis pickled by scrapy-redis (its default serializer):
their meta holds plain dataclasses (Observation, Jurisdiction, PageFacts), and
Redis must be as private as the database (see README, "Beyond one machine").
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from scrapy import Request
from scrapy.core.scheduler import BaseScheduler
from scrapy.crawler import Crawler
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler as RedisScheduler

from crawler.frontier.embedded import SpillingScheduler
from crawler.frontier.keys import FrontierKeys, connect, request_key
from crawler.settings import setting
from policy.errors import ConfigError

LEASE_META = "faircrawl_lease"  # the lease id of a popped request (never written to Redis)
REQUEST_KEY_META = "faircrawl_request_key"  # overrides the run-wide key of a request (default: of its URL)

# KEYS: seen, queue; ARGV: request key, score, encoded request. 1 if queued, 0 if already seen.
_QUEUE_NEW = """
if redis.call('SADD', KEYS[1], ARGV[1]) == 1 then
  redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
  return 1
end
return 0
"""
# A redirect or retry of a leased request: queued in place of its lease, in one step.
# KEYS: queue, inflight, leased, scores; ARGV: score, encoded request, lease id.
_QUEUE_HANDOFF = """
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZREM', KEYS[2], ARGV[3])
redis.call('HDEL', KEYS[3], ARGV[3])
redis.call('HDEL', KEYS[4], ARGV[3])
return 1
"""
# KEYS: queue, inflight, leased, scores; ARGV: deadline, lease id. The request, or nil when the queue is empty.
_POP_LEASED = """
local top = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #top == 0 then return false end
redis.call('ZREM', KEYS[1], top[1])
redis.call('ZADD', KEYS[2], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[3], ARGV[2], top[1])
redis.call('HSET', KEYS[4], ARGV[2], top[2])
return top[1]
"""
# KEYS: queue, inflight, leased, scores; ARGV: now, most. Expired leases back in the queue; how many.
_RECLAIM = """
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local moved = 0
for _, lease in ipairs(expired) do
  local encoded = redis.call('HGET', KEYS[3], lease)
  if encoded then
    redis.call('ZADD', KEYS[1], redis.call('HGET', KEYS[4], lease) or 0, encoded)
    moved = moved + 1
  end
  redis.call('ZREM', KEYS[2], lease)
  redis.call('HDEL', KEYS[3], lease)
  redis.call('HDEL', KEYS[4], lease)
end
return moved
"""


def keys_for(settings: Any) -> FrontierKeys:
    run_id = settings.get("FAIRCRAWL_RUN_ID")
    if not run_id:
        raise ConfigError("FAIRCRAWL_FRONTIER needs the run it works on: set FAIRCRAWL_RUN_ID (faircrawl crawl "
                          "--frontier ... creates a run; --join RUN_ID adds a worker to it)")
    return FrontierKeys(setting(settings, "FAIRCRAWL_FRONTIER_PREFIX"), str(run_id))


class RunDupeFilter(RFPDupeFilter):  # type: ignore[misc]
    """scrapy-redis's dupefilter keyed by faircrawl's run-wide request key (the URL's sha256, as decisions are).

    Only a request's first push is deduped, and then its URL is the one the spider asked for; redirects and
    retries of a leased request are handed off in place of their lease (LeasedQueue.push)."""

    def request_fingerprint(self, request: Request) -> str:
        return str(request.meta.get(REQUEST_KEY_META) or request_key(request.url))


class LeasedQueue(PriorityQueue):  # type: ignore[misc]
    """scrapy-redis's priority queue whose pop leases the request (see the module docstring)."""

    lease_seconds = 30.0
    dupefilter: RunDupeFilter | None = None
    frontier_keys: FrontierKeys | None = None

    def _encode_request(self, request: Request) -> bytes:
        obj = request.to_dict(spider=self.spider)
        obj["meta"] = {k: v for k, v in obj["meta"].items() if k != LEASE_META}
        return bytes(self.serializer.dumps(obj))

    def push(self, request: Request) -> bool:
        assert self.frontier_keys is not None and self.dupefilter is not None
        k = self.frontier_keys
        data = self._encode_request(request)
        score = -request.priority
        lease = request.meta.get(LEASE_META)
        if lease:
            self.server.eval(_QUEUE_HANDOFF, 4, k.queue, k.inflight, k.leased, k.scores, score, data, lease)
            return True
        key = self.dupefilter.request_fingerprint(request)
        return bool(self.server.eval(_QUEUE_NEW, 2, k.seen, k.queue, key, score, data))

    def pop(self, timeout: int = 0) -> Request | None:
        assert self.frontier_keys is not None
        k = self.frontier_keys
        lease = uuid.uuid4().hex
        data = self.server.eval(_POP_LEASED, 4, k.queue, k.inflight, k.leased, k.scores,
                                time.time() + self.lease_seconds, lease)
        if not data:
            return None
        request: Request = self._decode_request(data)
        request.meta[LEASE_META] = lease
        return request


def reclaim_expired(server: Any, keys: FrontierKeys, most: int = 500) -> int:
    """Put requests whose lease ran out (their worker died) back in the queue; how many."""
    return int(server.eval(_RECLAIM, 4, keys.queue, keys.inflight, keys.leased, keys.scores, time.time(), most))


class FrontierScheduler(RedisScheduler):  # type: ignore[misc]
    """scrapy-redis's scheduler on the run's keys, kept after close (other workers share it)."""

    frontier_keys: FrontierKeys
    lease_seconds: float
    _popped: dict[str, Request]

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FrontierScheduler:
        settings = crawler.settings
        keys = keys_for(settings)
        server = connect(setting(settings, "FAIRCRAWL_FRONTIER"))
        dupefilter = RunDupeFilter(server, key=keys.seen)
        scheduler = cls(server=server, persist=True, queue_key=keys.queue,
                        queue_cls="crawler.frontier.scheduler.LeasedQueue", dupefilter=dupefilter)
        scheduler.stats = crawler.stats
        scheduler.frontier_keys = keys
        scheduler.lease_seconds = setting(settings, "FAIRCRAWL_FRONTIER_LEASE")
        scheduler._popped = {}
        return scheduler

    def open(self, spider: Any) -> None:
        super().open(spider)
        self.queue.frontier_keys = self.frontier_keys
        self.queue.dupefilter = self.df
        self.queue.lease_seconds = self.lease_seconds

    def _count(self, roundtrips: int = 1) -> None:
        if self.stats:
            self.stats.inc_value("frontier/redis_roundtrips", roundtrips)

    def next_request(self) -> Request | None:
        self._count()
        request: Request | None = self.queue.pop()
        if request is not None:
            self._popped[request.meta[LEASE_META]] = request
            if self.stats:
                self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def take_popped(self) -> dict[str, Request]:
        """Requests popped since the last call, by lease id (for crawler.frontier.leases)."""
        popped, self._popped = self._popped, {}
        return popped

    def enqueue_request(self, request: Request) -> bool:
        self._count()
        queued = bool(self.queue.push(request))  # deduped inside push, atomically with queueing
        if self.stats:
            self.stats.inc_value("scheduler/enqueued/redis" if queued else "frontier/duplicate")
        return queued

    def has_pending_requests(self) -> bool:
        """Work left anywhere in the run: queued, or leased by a worker (which may queue more)."""
        k = self.frontier_keys
        self._count()
        with self.server.pipeline(transaction=False) as pipe:
            pipe.zcard(k.queue).zcard(k.inflight)
            return any(int(n) for n in pipe.execute())


class FrontierSwitch(BaseScheduler):
    """``SCHEDULER``: the shared frontier when FAIRCRAWL_FRONTIER is set, else the embedded one (spilling to disk)."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Any:
        if setting(crawler.settings, "FAIRCRAWL_FRONTIER"):
            return FrontierScheduler.from_crawler(crawler)
        return SpillingScheduler.from_crawler(crawler)

    def has_pending_requests(self) -> bool:  # pragma: no cover - never instantiated
        raise NotImplementedError

    def enqueue_request(self, request: Request) -> bool:  # pragma: no cover
        raise NotImplementedError

    def next_request(self) -> Request | None:  # pragma: no cover
        raise NotImplementedError
