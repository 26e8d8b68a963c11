"""The files a site publishes about its whole origin: robots.txt, /.well-known/tdmrep.json, /ai.txt.

Fetched once per (scheme, host, port) through Scrapy's downloader (so test-site
routing and the private-host gate apply), shared by every request to that
origin while being fetched, and cached: 24 h, 1 h when unreachable, or less
when a file's own ``Cache-Control: max-age`` (less its ``Age``) says so,
counted from when robots.txt was fetched (with many workers, from when the
run's first worker fetched it), for at most MAX_CACHED_ORIGINS origins (the
least recently used go first and are fetched again when asked for), so a crawl
across many hosts stays bounded.

Failing closed, file by file: robots.txt follows RFC 9309 (5xx or a network
error is complete disallow, tried again after 1 h, 2 h, 4 h ... while it stays
so; of a larger file the first 500 KiB are read); for tdmrep.json and ai.txt a
4xx means "no such file", and a 5xx or a network error means the reservation or
refusal is *assumed* (we cannot tell that the site did not opt out).

Where Scrapy's RobotsTxtMiddleware is wrong for us we do the opposite: it
parses 5xx error pages as "allow all" and allows everything after a network
error; it caches by netloc for the whole crawl; it follows 20 redirects and
ignores Crawl-delay. Here at most 5 redirects are followed (a longer chain
makes robots.txt unavailable, RFC 9309 §2.3.1.2) and Crawl-delay sets the
host's download slot. This module is the one place for these fetching rules;
parsing and matching are :mod:`policy.robots`.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from urllib.parse import ParseResult, SplitResult, urljoin, urlsplit

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, StopDownload
from scrapy.http import Response
from scrapy.utils.httpobj import urlparse_cached

from crawler.network_errors import describe_error
from crawler.settings import setting
from policy import (
    DEFAULT_ROBOTS_TTL_SECONDS,
    DEFAULT_ROBOTS_UNREACHABLE_TTL_SECONDS,
    ROBOTS_MAX_REDIRECTS,
    RobotsAvailability,
    RobotsTxt,
)
from policy.observe import FetchedFile, SiteFiles
from policy.robots import ROBOTS_PARSE_LIMIT_BYTES
from policy.signals.aitxt import AiTxt
from policy.signals.tdmrep import TdmRepFile

SITE_FILE_META = "faircrawl_robots_fetch"  # requests for these files skip the consent gate
READ_UP_TO_META = "faircrawl_read_up_to"  # a robots.txt download stops once it has this many bytes
DEFAULT_PORTS = {"http": 80, "https": 443}
Origin = tuple[str, str, int]
MAX_CACHED_ORIGINS = 1024


def origin_of(request: Request) -> Origin:
    return _origin(urlparse_cached(request))


def origin_of_url(url: str) -> Origin:
    return _origin(urlsplit(url))


def _origin(parts: SplitResult | ParseResult) -> Origin:
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
        self.max_bytes = setting(crawler.settings, "FAIRCRAWL_ROBOTS_MAX_BYTES")
        self.token = setting(crawler.settings, "FAIRCRAWL_PRODUCT_TOKEN")
        self.max_crawl_delay = setting(crawler.settings, "FAIRCRAWL_MAX_CRAWL_DELAY")
        self.max_origins = MAX_CACHED_ORIGINS
        self._cache: OrderedDict[Origin, SiteFiles] = OrderedDict()  # least recently used first
        self._pending: dict[Origin, asyncio.Future[SiteFiles]] = {}
        self._reading_robots = 0  # robots.txt downloads under way: the byte counter listens only while there are

    def cached(self, origin: Origin) -> SiteFiles | None:
        """The files of an origin already fetched (a page's, when its response arrives)."""
        return self._cache.get(origin)

    async def get(self, origin: Origin) -> SiteFiles:
        cached = self._cache.get(origin)
        if cached is not None and cached.expires_at > self.clock():
            self._cache.move_to_end(origin)
            return cached
        if origin in self._pending:
            return await asyncio.shield(self._pending[origin])
        future: asyncio.Future[SiteFiles] = asyncio.get_running_loop().create_future()
        self._pending[origin] = future
        try:
            files = self._back_off_if_unreachable(await self._fetch_all(origin), cached)
            self._cache[origin] = files
            self._cache.move_to_end(origin)
            while len(self._cache) > self.max_origins:
                self._cache.popitem(last=False)
            self._fetched(files)
            future.set_result(files)
            return files
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # retrieved here; waiters get it through shield
            raise
        finally:
            del self._pending[origin]

    @staticmethod
    def _back_off_if_unreachable(files: SiteFiles, before: SiteFiles | None) -> SiteFiles:
        """robots.txt unreachable again: the next try waits twice as long as the last, up to 24 h (reference §1.4:
        "DISALLOW_ALL. Retry with backoff"; 1 h, 2 h, 4 h ...); a fetch that reaches it starts over at 1 h."""
        if files.robots.availability is not RobotsAvailability.UNREACHABLE:
            return files
        again = before is not None and before.robots.availability is RobotsAvailability.UNREACHABLE
        files.unreachable_streak = before.unreachable_streak + 1 if again and before is not None else 1
        if files.unreachable_streak > 1:
            wait = min(DEFAULT_ROBOTS_UNREACHABLE_TTL_SECONDS * 2 ** (files.unreachable_streak - 1),
                       DEFAULT_ROBOTS_TTL_SECONDS)
            files.expires_at = max(files.expires_at, files.fetched_at + wait)
        return files

    def _fetched(self, site: SiteFiles) -> None:
        """Keep the host's delay (set once robots.txt was read) and record the site's files."""
        from crawler.recording import recorder_for

        delay = site.robots.crawl_delay(self.token)
        self._apply_delay(urlsplit(site.origin).hostname or "", delay)
        recorder_for(self.crawler).site_files(site, delay)

    def _apply_delay(self, host: str, delay: float | None) -> None:
        """Crawl-delay or Request-rate on the host's download slot: one request at a time, that many seconds apart."""
        if delay is not None and delay <= self.max_crawl_delay and self.crawler.engine is not None:
            downloader = self.crawler.engine.downloader
            downloader.per_slot_settings[host] = {"delay": delay, "concurrency": 1, "jitter": 0}
            slot = downloader.slots.get(host)
            if slot is not None:
                slot.delay, slot.concurrency, slot.jitter = delay, 1, 0.0

    async def _fetch_all(self, origin: Origin) -> SiteFiles:
        base = origin_text(origin)

        read_here: list[tuple[FetchedFile, RobotsTxt, float]] = []  # parsed once, and when, if fetched here

        async def fetch_three() -> tuple[FetchedFile, ...]:
            """robots.txt first, so that its delay already spaces the other two files' requests."""
            robots = await self._fetch_robots(f"{base}/robots.txt")
            robots_txt = robots_from(base, robots)
            read_here.append((robots, robots_txt, self.clock()))  # the cache's time counts from here (RFC 9309 §2.4)
            self._apply_delay(origin[1], robots_txt.crawl_delay(self.token))
            others = await asyncio.gather(self._fetch(f"{base}/.well-known/tdmrep.json"), self._fetch(f"{base}/ai.txt"))
            return (robots, *others)

        from crawler.frontier.politeness import shared_site_files

        shared = shared_site_files(self.crawler)  # many workers: fetched once for the run, through Redis
        left: float | None = None  # of another worker's copy: the seconds its Redis entry has to live
        if shared is None:
            robots, tdmrep_state, ai_txt_state = await fetch_three()
        else:
            (robots, tdmrep_state, ai_txt_state), left = await shared.fetch(
                base, fetch_three, lambda files: site_files_from(base, files[0], files[1], files[2], 0.0).expires_at)
        here = next(((txt, at) for fetched, txt, at in read_here if fetched is robots), None)
        if here is not None:
            return site_files_from(base, robots, tdmrep_state, ai_txt_state, here[1], here[0])
        now = self.clock()  # another worker's copy: parsed here, and kept no longer than the run's copy lives
        files = site_files_from(base, robots, tdmrep_state, ai_txt_state, now)
        if left is not None:
            files.expires_at = min(files.expires_at, now + left)
        return files

    async def _fetch_robots(self, url: str) -> FetchedFile:
        """robots.txt, of any size: its first ROBOTS_PARSE_LIMIT_BYTES (and one more, so the parser sees the cut) are
        read and the download stopped (reference §1.4: "parse at most the first 512,000 bytes"), rather than a large
        file counting as unreachable."""
        if self._reading_robots == 0:
            self.crawler.signals.connect(self._count_bytes, signal=signals.bytes_received)
        self._reading_robots += 1
        try:
            return await self._fetch(url, read_up_to=ROBOTS_PARSE_LIMIT_BYTES + 1)
        finally:
            self._reading_robots -= 1
            if self._reading_robots == 0:
                self.crawler.signals.disconnect(self._count_bytes, signal=signals.bytes_received)

    @staticmethod
    def _count_bytes(data: bytes, request: Request, spider: object) -> None:
        limit = request.meta.get(READ_UP_TO_META)
        if limit is None:
            return
        seen = request.meta["faircrawl_bytes_read"] = request.meta.get("faircrawl_bytes_read", 0) + len(data)
        if seen >= limit:
            raise StopDownload(fail=False)  # the response goes on with the bytes read so far

    async def fetch_document(self, url: str, max_bytes: int, timeout: float) -> FetchedFile:
        """GET a document a signal points to (an RSL licence, a tdm-policy) by the site-file rules."""
        return await self._fetch(url, max_bytes, timeout)

    async def _fetch(self, first_url: str, max_bytes: int | None = None, timeout: float | None = None,
                     read_up_to: int | None = None) -> FetchedFile:
        """GET a site file, following at most 5 redirects by hand (RFC 9309 §2.3.1.2).

        Over ``max_bytes`` (FAIRCRAWL_ROBOTS_MAX_BYTES) a file counts as unreachable; with ``read_up_to`` it has no
        size limit, and its download stops after that many bytes.
        """
        url = first_url
        redirects = 0
        while True:  # the redirect rules are in next_step, shared with `policy explain`
            size_rule = ({"download_maxsize": 0, "download_warnsize": 0, READ_UP_TO_META: read_up_to}
                         if read_up_to is not None else {"download_maxsize": max_bytes or self.max_bytes})
            request = Request(
                url, priority=1000, dont_filter=True,
                meta={SITE_FILE_META: True, "dont_redirect": True, "dont_retry": True,
                      "handle_httpstatus_all": True, **size_rule,
                      **({"download_timeout": timeout} if timeout else {})},
            )
            try:
                response: Response = await self.crawler.engine.download_async(request)
            except IgnoreRequest as refused:
                return FetchedFile(url, "unreachable", None, f"request for {url} refused: {refused}")
            except Exception as error:  # noqa: BLE001 - every network failure fails closed
                return FetchedFile(url, "unreachable", None, f"{describe_error(error)} (fetching {url})")
            location = response.headers.get("Location")
            step = next_step(first_url, url, response.status, location.decode("latin-1") if location else None,
                             response.body, redirects)
            if isinstance(step, FetchedFile):
                content_type = response.headers.get("Content-Type") or b""
                return replace(step, content_type=content_type.decode("latin-1"),
                               max_age=freshness_seconds(response.headers.getlist("Cache-Control"),
                                                         response.headers.get("Age")))
            url, redirects = step, redirects + 1


def next_step(first_url: str, url: str, status: int, location: str | None, body: bytes,
              redirects_so_far: int) -> FetchedFile | str:
    """Classify one response to a site-file request: a final outcome, or the next URL to fetch.

    2xx found, 4xx absent, 5xx (and anything else) unreachable; a redirect is
    followed unless it would be the 6th, which makes the file unavailable
    (RFC 9309 §2.3.1.2: "at least five").
    """
    if 300 <= status < 400:
        if not location:
            return FetchedFile(url, "unreachable", None, f"HTTP {status} without Location at {url}")
        if redirects_so_far + 1 > ROBOTS_MAX_REDIRECTS:
            return FetchedFile(url, "absent", None,
                               f"more than {ROBOTS_MAX_REDIRECTS} redirects from {first_url}; treated as unavailable")
        return urljoin(url, location)
    if 200 <= status < 300:
        note = f"rules read from {url} after {redirects_so_far} redirects" if redirects_so_far else f"HTTP {status}"
        return FetchedFile(url, "found", body, note)
    if 400 <= status < 500:
        return FetchedFile(url, "absent", None, f"HTTP {status}")
    return FetchedFile(url, "unreachable", None, f"HTTP {status}")


_MAX_AGE = re.compile(r'^max-age\s*=\s*(?:"(\d+)"|(\d+))$', re.IGNORECASE)


def freshness_seconds(cache_control: list[bytes], age: bytes | None) -> float | None:
    """How long a response may still be reused by its own ``Cache-Control: max-age`` (RFC 9111 §4.2.1, §5.2.2.1),
    less its ``Age`` (§5.1); None without a max-age, and 0 for one that cannot be read (stale, as §4.2.1 says).

    Several max-age directives: the shortest. ``no-cache`` and ``no-store`` are not read (they would fetch robots.txt
    again for every request); ``Expires`` neither: RFC 9309 asks for max-age or 24 h, whichever is shorter.
    """
    found: list[float] = []
    for line in cache_control:
        for directive in line.decode("latin-1").split(","):
            directive = directive.strip()
            if not directive.lower().startswith("max-age"):
                continue
            match = _MAX_AGE.match(directive)
            found.append(float(match.group(1) or match.group(2)) if match else 0.0)
    if not found:
        return None
    text = (age or b"").decode("latin-1").strip()
    already = float(text) if text.isdigit() else 0.0
    return max(0.0, min(found) - already)


def robots_from(origin: str, robots: FetchedFile) -> RobotsTxt:
    """robots.txt as fetched, parsed (RFC 9309 §2.3.1: found, unavailable or unreachable; a redirect noted)."""
    if robots.state == "found" and robots.body is not None:
        parsed = RobotsTxt.parse(robots.body)
        if robots.url != f"{origin}/robots.txt":
            parsed.status_note = robots.note
        return parsed
    if robots.state == "absent":
        return RobotsTxt.unavailable(robots.note)
    return RobotsTxt.unreachable(robots.note)


def site_files_from(origin: str, robots: FetchedFile, tdmrep_file: FetchedFile, ai_txt: FetchedFile,
                    now: float, parsed_robots: RobotsTxt | None = None) -> SiteFiles:
    """Assemble the parsed site files from three fetches (the crawl's and `policy explain`'s)."""
    robots_url = f"{origin}/robots.txt"
    parsed = parsed_robots if parsed_robots is not None else robots_from(origin, robots)
    tdmrep = TdmRepFile.parse(tdmrep_file.body) if tdmrep_file.state == "found" and tdmrep_file.body is not None else None
    ai = AiTxt.parse(ai_txt.body) if ai_txt.state == "found" and ai_txt.body is not None else None
    ttl = min(parsed.cache_ttl_seconds,
              *(DEFAULT_ROBOTS_UNREACHABLE_TTL_SECONDS if f.state == "unreachable" else DEFAULT_ROBOTS_TTL_SECONDS
                for f in (tdmrep_file, ai_txt)),
              *(f.max_age for f in (robots, tdmrep_file, ai_txt) if f.max_age is not None))
    return SiteFiles(origin, parsed, robots_url, tdmrep, tdmrep_file, ai, ai_txt, now + ttl, now)
