"""robots.txt for every request, page or image, fail-closed (RFC 9309).

Where Scrapy's RobotsTxtMiddleware is wrong for us we do the opposite: it
parses 5xx error pages as "allow all" and allows everything after a network
error; here both mean complete disallow. It caches by netloc for the whole
crawl; here the key is (scheme, host, port) and entries expire (24 h, 1 h when
unreachable). It follows 20 redirects and ignores Crawl-delay; here at most 5
redirects are followed (a longer chain counts as unavailable, §2.3.1.2) and
Crawl-delay sets the host's download slot.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.utils.httpobj import urlparse_cached

from crawler.network_errors import describe_error
from crawler.recording import REASONS_META, recorder_for
from policy import ROBOTS_MAX_REDIRECTS, Outcome, Reason, RobotsAvailability, RobotsTxt

logger = logging.getLogger(__name__)

ROBOTS_FETCH_META = "faircrawl_robots_fetch"
DEFAULT_PORTS = {"http": 80, "https": 443}
Origin = tuple[str, str, int]


@dataclass(slots=True)
class CachedRobots:
    robots: RobotsTxt
    robots_url: str
    expires_at: float


def origin_of(request: Request) -> Origin:
    parts = urlparse_cached(request)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or DEFAULT_PORTS.get(scheme, 0)


def origin_text(origin: Origin) -> str:
    scheme, host, port = origin
    return f"{scheme}://{host}" + ("" if DEFAULT_PORTS.get(scheme) == port else f":{port}")


def verdict_reason(robots: RobotsTxt, robots_url: str, url: str, token: str) -> tuple[bool, Reason]:
    verdict = robots.check(url, token)
    code = {
        RobotsAvailability.UNREACHABLE: "robots.unreachable",
        RobotsAvailability.UNAVAILABLE: "robots.unavailable",
    }.get(verdict.availability, "robots.allowed" if verdict.allowed else "robots.disallowed")
    evidence: dict[str, object] = {"robots_url": robots_url}
    if verdict.rule is not None:
        evidence |= {"line": verdict.rule.line_number, "rule": verdict.rule.text}
    if verdict.group_agents:
        evidence["group"] = list(verdict.group_agents)
    evidence["citation"] = {
        "robots.unreachable": "RFC 9309 §2.3.1.4",
        "robots.unavailable": "RFC 9309 §2.3.1.3",
    }.get(code, "RFC 9309 §2.2.2")
    return verdict.allowed, Reason("robots.txt", code, verdict.explanation, evidence)


class RobotsGate:
    def __init__(self, crawler: Crawler, clock: Callable[[], float] = time.monotonic) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.product_token: str = settings.get("FAIRCRAWL_PRODUCT_TOKEN")
        self.robots_max_bytes: int = settings.getint("FAIRCRAWL_ROBOTS_MAX_BYTES")
        self.max_crawl_delay: float = settings.getfloat("FAIRCRAWL_MAX_CRAWL_DELAY")
        self.clock = clock
        self._cache: dict[Origin, CachedRobots] = {}
        self._pending: dict[Origin, asyncio.Future[CachedRobots]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RobotsGate:
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        if request.meta.get(ROBOTS_FETCH_META) or urlparse_cached(request).scheme not in DEFAULT_PORTS:
            return
        origin = origin_of(request)
        cached = await self._robots_for(origin)
        allowed, reason = verdict_reason(cached.robots, cached.robots_url, request.url, self.product_token)
        delay = cached.robots.crawl_delay(self.product_token) if allowed else None
        if delay is not None and delay > self.max_crawl_delay:
            allowed = False
            reason = Reason("robots.txt", "robots.crawl_delay_too_long",
                            f"Crawl-delay {delay:g} s exceeds the {self.max_crawl_delay:g} s this crawl "
                            "can honour (FAIRCRAWL_MAX_CRAWL_DELAY): not crawled", reason.evidence)
        if allowed:
            request.meta.setdefault(REASONS_META, []).append(reason)
            return
        recorder_for(self.crawler).decide_request(request, Outcome.REFUSED, reason)
        self.crawler.stats.inc_value(f"consent/refused/{reason.code.replace('.', '/')}")
        logger.debug("refused %s: %s", request, reason.detail)
        raise IgnoreRequest(f"robots.txt: {reason.detail}")

    async def _robots_for(self, origin: Origin) -> CachedRobots:
        cached = self._cache.get(origin)
        if cached is not None and cached.expires_at > self.clock():
            return cached
        if origin in self._pending:
            return await asyncio.shield(self._pending[origin])
        future: asyncio.Future[CachedRobots] = asyncio.get_running_loop().create_future()
        self._pending[origin] = future
        try:
            robots_url = f"{origin_text(origin)}/robots.txt"
            robots = await self._fetch(robots_url)
            cached = CachedRobots(robots, robots_url, self.clock() + robots.cache_ttl_seconds)
            self._cache[origin] = cached
            delay = robots.crawl_delay(self.product_token)
            if delay is not None and delay <= self.max_crawl_delay:
                self._apply_crawl_delay(origin[1], delay)
            recorder_for(self.crawler).site_robots(origin_text(origin), robots_url, robots, delay)
            self.crawler.stats.inc_value(f"robotstxt/{robots.availability.value}")
            future.set_result(cached)
            return cached
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # consumed here; waiters get it through shield
            raise
        finally:
            del self._pending[origin]

    async def _fetch(self, robots_url: str) -> RobotsTxt:
        """Fetch robots.txt, following at most 5 redirects by hand (RFC 9309 §2.3.1.2)."""
        url = robots_url
        redirects = 0
        while True:
            request = Request(
                url, priority=1000, dont_filter=True,
                meta={ROBOTS_FETCH_META: True, "dont_redirect": True, "dont_retry": True,
                      "handle_httpstatus_all": True, "download_maxsize": self.robots_max_bytes},
            )
            try:
                response: Response = await self.crawler.engine.download_async(request)
            except IgnoreRequest as refused:
                return RobotsTxt.unreachable(f"request for {url} refused: {refused}")
            except Exception as error:  # noqa: BLE001 - every network failure means disallow
                return RobotsTxt.unreachable(f"{describe_error(error)} (fetching {url})")
            if 300 <= response.status < 400:
                location = response.headers.get("Location")
                if not location:
                    return RobotsTxt.unreachable(f"HTTP {response.status} without Location at {url}")
                redirects += 1
                if redirects > ROBOTS_MAX_REDIRECTS:
                    return RobotsTxt.unavailable(
                        f"more than {ROBOTS_MAX_REDIRECTS} redirects from {robots_url}; treated as unavailable"
                    )
                url = urljoin(url, location.decode("latin-1"))
                continue
            robots = RobotsTxt.from_status(response.status, response.body)
            if url != robots_url and robots.availability is RobotsAvailability.PARSED:
                robots.status_note = f"rules read from {url} after {redirects} redirects"
            return robots

    def _apply_crawl_delay(self, host: str, delay: float) -> None:
        """Space requests to ``host`` by ``delay`` seconds: one at a time, no jitter."""
        downloader = self.crawler.engine.downloader
        downloader.per_slot_settings[host] = {"delay": delay, "concurrency": 1, "jitter": 0}
        slot = downloader.slots.get(host)
        if slot is not None:
            slot.delay, slot.concurrency, slot.jitter = delay, 1, 0.0
