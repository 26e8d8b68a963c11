"""The files a site publishes about its whole origin: robots.txt, /.well-known/tdmrep.json, /ai.txt.

Fetched once per (scheme, host, port) through Scrapy's downloader (so test-site
routing and the private-host gate apply), shared by every request to that
origin while being fetched, and cached: 24 h, 1 h when unreachable.

Failing closed, file by file: robots.txt follows RFC 9309 (5xx or a network
error is complete disallow); for tdmrep.json and ai.txt a 4xx means "no such
file", and a 5xx or a network error means the reservation or refusal is
*assumed* (we cannot tell that the site did not opt out).

Where Scrapy's RobotsTxtMiddleware is wrong for us we do the opposite: it
parses 5xx error pages as "allow all" and allows everything after a network
error; it caches by netloc for the whole crawl; it follows 20 redirects and
ignores Crawl-delay. Here at most 5 redirects are followed (a longer chain
makes robots.txt unavailable, RFC 9309 §2.3.1.2) and Crawl-delay sets the
host's download slot.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from urllib.parse import urljoin

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.utils.httpobj import urlparse_cached

from crawler.network_errors import describe_error
from policy import (
    DEFAULT_ROBOTS_TTL_SECONDS,
    DEFAULT_ROBOTS_UNREACHABLE_TTL_SECONDS,
    ROBOTS_MAX_REDIRECTS,
    RobotsTxt,
)
from policy.observe import FetchedFile, SiteFiles
from policy.signals.aitxt import AiTxt
from policy.signals.tdmrep import TdmRepFile

SITE_FILE_META = "faircrawl_robots_fetch"  # requests for these files skip the consent gate
DEFAULT_PORTS = {"http": 80, "https": 443}
Origin = tuple[str, str, int]


def origin_of(request: Request) -> Origin:
    parts = urlparse_cached(request)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or DEFAULT_PORTS.get(scheme, 0)


def origin_text(origin: Origin) -> str:
    scheme, host, port = origin
    return f"{scheme}://{host}" + ("" if DEFAULT_PORTS.get(scheme) == port else f":{port}")


class SiteFilesCache:
    """Fetches and caches the site files of each origin for one crawl."""

    def __init__(self, crawler: Crawler, clock: Callable[[], float] = time.monotonic) -> None:
        self.crawler = crawler
        self.clock = clock
        self.max_bytes = crawler.settings.getint("FAIRCRAWL_ROBOTS_MAX_BYTES")
        self._cache: dict[Origin, SiteFiles] = {}
        self._pending: dict[Origin, asyncio.Future[SiteFiles]] = {}
        self.on_fetched: list[Callable[[SiteFiles], None]] = []

    def cached(self, origin: Origin) -> SiteFiles | None:
        """The files of an origin already fetched (a page's, when its response arrives)."""
        return self._cache.get(origin)

    async def get(self, origin: Origin) -> SiteFiles:
        cached = self._cache.get(origin)
        if cached is not None and cached.expires_at > self.clock():
            return cached
        if origin in self._pending:
            return await asyncio.shield(self._pending[origin])
        future: asyncio.Future[SiteFiles] = asyncio.get_running_loop().create_future()
        self._pending[origin] = future
        try:
            files = await self._fetch_all(origin)
            self._cache[origin] = files
            for callback in self.on_fetched:
                callback(files)
            future.set_result(files)
            return files
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # retrieved here; waiters get it through shield
            raise
        finally:
            del self._pending[origin]

    async def _fetch_all(self, origin: Origin) -> SiteFiles:
        base = origin_text(origin)
        robots_url = f"{base}/robots.txt"
        robots = await self._robots(robots_url)
        tdmrep_state, ai_txt_state = await asyncio.gather(
            self._fetch(f"{base}/.well-known/tdmrep.json"), self._fetch(f"{base}/ai.txt"))
        tdmrep = TdmRepFile.parse(tdmrep_state.body) if tdmrep_state.state == "found" and tdmrep_state.body is not None \
            else None
        ai_txt = AiTxt.parse(ai_txt_state.body) if ai_txt_state.state == "found" and ai_txt_state.body is not None else None
        ttl = min(robots.cache_ttl_seconds,
                  *(DEFAULT_ROBOTS_UNREACHABLE_TTL_SECONDS if f.state == "unreachable" else DEFAULT_ROBOTS_TTL_SECONDS
                    for f in (tdmrep_state, ai_txt_state)))
        return SiteFiles(base, robots, robots_url, tdmrep, tdmrep_state, ai_txt, ai_txt_state, self.clock() + ttl)

    async def _robots(self, robots_url: str) -> RobotsTxt:
        fetched = await self._fetch(robots_url, allow_too_many_redirects=True)
        if fetched.state == "found" and fetched.body is not None:
            robots = RobotsTxt.parse(fetched.body)
            if fetched.url != robots_url:
                robots.status_note = fetched.note
            return robots
        if fetched.state == "absent":
            return RobotsTxt.unavailable(fetched.note)
        return RobotsTxt.unreachable(fetched.note)

    async def _fetch(self, first_url: str, allow_too_many_redirects: bool = False) -> FetchedFile:
        """GET a site file, following at most 5 redirects by hand (RFC 9309 §2.3.1.2)."""
        url = first_url
        redirects = 0
        while True:
            request = Request(
                url, priority=1000, dont_filter=True,
                meta={SITE_FILE_META: True, "dont_redirect": True, "dont_retry": True,
                      "handle_httpstatus_all": True, "download_maxsize": self.max_bytes},
            )
            try:
                response: Response = await self.crawler.engine.download_async(request)
            except IgnoreRequest as refused:
                return FetchedFile(url, "unreachable", None, f"request for {url} refused: {refused}")
            except Exception as error:  # noqa: BLE001 - every network failure fails closed
                return FetchedFile(url, "unreachable", None, f"{describe_error(error)} (fetching {url})")
            status = response.status
            if 300 <= status < 400:
                location = response.headers.get("Location")
                if not location:
                    return FetchedFile(url, "unreachable", None, f"HTTP {status} without Location at {url}")
                redirects += 1
                if redirects > ROBOTS_MAX_REDIRECTS:
                    return FetchedFile(url, "absent", None,
                                       f"more than {ROBOTS_MAX_REDIRECTS} redirects from {first_url}; treated as unavailable")
                url = urljoin(url, location.decode("latin-1"))
                continue
            if 200 <= status < 300:
                note = f"rules read from {url} after {redirects} redirects" if redirects else f"HTTP {status}"
                return FetchedFile(url, "found", response.body, note)
            if 400 <= status < 500:
                return FetchedFile(url, "absent", None, f"HTTP {status}")
            return FetchedFile(url, "unreachable", None, f"HTTP {status}")
