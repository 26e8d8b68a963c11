"""Crawl the given sites: follow links inside each start site, request every image.

Images may live on any host (CDNs included); each image request passes the
same gates as a page and is checked against its own host's robots.txt. Every
URL found ends in exactly one decision: the gates record refusals, this spider
records crawled pages, failures and what it will not request (over the crawl
budget, too long, unparseable), the pipeline records stored or failed images.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

from scrapy import Request, Spider
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.budgets import Budgets, LocalBudgets, budget_limits, budgets_for
from crawler.items import FetchedImage
from crawler.network_errors import describe_error
from crawler.policy_runtime import policy_for
from crawler.recording import (
    DECIDED_META,
    FETCH_DECISION_META,
    FETCHED_AT_META,
    JURISDICTION_META,
    KIND_META,
    OBSERVATION_META,
    PAGE_FACTS_META,
    PAGE_URL_META,
    recorder_for,
)
from crawler.settings import setting
from crawler.sitefiles import origin_of_url
from crawler.spiders.srcset import srcset_urls
from policy import Kind, Outcome, Reason
from policy.htmlselect import css_to_xpath, strings
from policy.observe import Observation, page_facts

IMAGE_PRIORITY = 10  # images of a page are fetched before more pages are discovered
LINK_HREFS = css_to_xpath("a::attr(href)")
IMAGE_SOURCES = css_to_xpath("img::attr(src)")
IMAGE_SRCSETS = css_to_xpath("img::attr(srcset), source::attr(srcset)")
URL_DIGEST_BYTES = 16  # what the dedupe set keeps per URL: 49 bytes whatever the URL's length


def url_digest(url: str) -> bytes:
    """A fixed-size stand-in for a URL in the crawl's dedupe set (a collision needs ~2**64 URLs)."""
    return hashlib.blake2b(url.encode("utf-8", "surrogatepass"), digest_size=URL_DIGEST_BYTES).digest()


def _without_fragment(url: str) -> str:
    return urldefrag(url)[0] if "#" in url else url  # urldefrag re-parses even a URL that has no fragment


def parsed_http_url(url: str) -> str | None:
    """Why ``url`` cannot be requested (not http(s), no host, a bad port or IPv6 literal), or None."""
    try:
        parts = urlsplit(url)
        port = parts.port  # raises for "h:abc" and "h:99999"
    except ValueError as error:
        return f"the URL cannot be parsed ({error})"
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return "not an http(s) URL with a host"
    if port == 0:
        return "port 0 is not a port"
    return None


def _headers(response: Response) -> dict[str, list[str]]:
    """Every header instance, decoded, for the signal readers."""
    return {k.decode("latin-1"): [v.decode("latin-1") for v in vs] for k, vs in response.headers.items()}


def classify_failure(failure: Failure, request: Request) -> Reason:
    """Turn a download failure into a reason a reader understands."""
    error = failure.value
    assert error is not None
    name = type(error).__name__
    if isinstance(error, HttpError):
        status = error.response.status
        return Reason("http", "fetch.http_error", f"the server answered HTTP {status}", {"status": status})
    if isinstance(error, IgnoreRequest) and "max redirections" in str(error):
        chain = [*request.meta.get("redirect_urls", []), request.url]
        looped = len(set(chain)) < len(chain)
        code = "fetch.redirect_loop" if looped else "fetch.too_many_redirects"
        words = "redirect loop" if looped else "too many redirects"
        return Reason("http", code, f"{words}: {' -> '.join(chain[:6])}", {"redirects": len(chain) - 1})
    if name == "DownloadCancelledError" or "max size" in str(error):
        return Reason("http", "fetch.too_large", f"response over the size limit: {error}")
    if name in {"DownloadTimeoutError", "TimeoutError", "TCPTimedOutError"}:
        return Reason("http", "fetch.timeout", f"no answer in time ({name})")
    return Reason("http", "fetch.network_error", describe_error(error))


class SiteSpider(Spider):
    name = "site"

    def __init__(self, start_urls: list[str] | tuple[str, ...] | str = (), *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if isinstance(start_urls, str):  # from `scrapy crawl site -a start_urls=a,b`
            start_urls = [u for u in start_urls.split(",") if u]
        self.start_urls = [_without_fragment(u) for u in start_urls]
        self.start_hosts = {(urlsplit(u).hostname or "").lower() for u in self.start_urls if not parsed_http_url(u)}
        self._requested: set[bytes] = set()  # url_digest of every URL requested or decided
        self._budgets: Budgets | None = None  # this process's counts, or the run's in Redis (crawler/budgets.py)
        self._budget_limits: dict[tuple[str, bool], int] | None = None  # the FAIRCRAWL_MAX_* settings, read once

    def _budget_counts(self) -> Budgets:
        if self._budgets is None:
            if setting(self.settings, "FAIRCRAWL_FRONTIER"):
                from crawler.frontier.budgets import RunBudgets
                from crawler.frontier.keys import connect
                from crawler.frontier.scheduler import keys_for

                self._budgets = RunBudgets(connect(setting(self.settings, "FAIRCRAWL_FRONTIER")), keys_for(self.settings))
            else:
                self._budgets = LocalBudgets()
        return self._budgets

    async def start(self) -> AsyncIterator[Request]:
        """The start URLs; with a shared frontier, those this worker takes from the run's list in Redis.

        scrapy-redis's RedisSpider only has ``start_requests()``, which Scrapy 2.16 removed; this is faircrawl's own.
        """
        urls: Iterator[str] = iter(self.start_urls)
        if setting(self.settings, "FAIRCRAWL_FRONTIER"):  # the run's list, then ours: the frontier queues each once
            from itertools import chain

            from crawler.frontier.starts import take_start_urls

            urls = iter(dict.fromkeys(chain(take_start_urls(self.crawler), self.start_urls)))
        for url in urls:
            request = self._request(url, Kind.PAGE, page_url=None)
            if request is not None:
                yield request

    def _request(self, url: str, kind: Kind, page_url: str | None, inherited: dict[str, Any] | None = None) -> Request | None:
        """One request per URL for the whole crawl (our own dedupe: see README); a URL not requested gets its decision."""
        digest = url_digest(url)
        if digest in self._requested:
            return None
        self._requested.add(digest)
        refusal = self._not_requested_because(url, kind)
        if refusal is not None:
            recorder_for(self.crawler).decide(kind, Outcome.REFUSED, url, [refusal], page_url=page_url,
                                              jurisdiction=(inherited or {}).get(JURISDICTION_META))
            return None
        is_image = kind is Kind.IMAGE
        limit = setting(self.settings, "FAIRCRAWL_IMAGE_MAX_BYTES" if is_image else "FAIRCRAWL_PAGE_MAX_BYTES")
        return Request(
            url,
            callback=self.parse_image if is_image else self.parse_page,
            errback=self.on_error,
            priority=IMAGE_PRIORITY if is_image else 0,
            dont_filter=True,  # deduped above; lets redirect loops surface as failures
            meta={KIND_META: kind.value, PAGE_URL_META: page_url, **(inherited or {}), "download_maxsize": limit},
        )

    def _not_requested_because(self, url: str, kind: Kind) -> Reason | None:
        """A URL that cannot be parsed, is too long, or is over a crawl budget is refused without a request."""
        problem = parsed_http_url(url)
        if problem is not None:
            return Reason("url", "url.unparseable", f"not requested: {problem}", {"url": url[:300]})
        limit = self.settings.getint("URLLENGTH_LIMIT")
        if limit and len(url) > limit:
            return Reason("url", "url.too_long", f"not requested: the URL has {len(url)} characters, over the "
                          f"{limit} that URLLENGTH_LIMIT allows")
        if self._budget_limits is None:
            self._budget_limits = budget_limits(self.settings)
        if not self._budget_limits:
            return None
        host = (urlsplit(url).hostname or "").lower()
        return self._budget_counts().claim(url, budgets_for(self._budget_limits, kind.value, host))

    def parse_page(self, response: Response) -> list[Request]:
        """The page's decision and the requests it leads to; an unexpected error still ends in one decision."""
        try:
            return list(self._parse_page(response))
        except Exception as error:  # noqa: BLE001 - the page gets its decision whatever went wrong
            request = response.request
            assert request is not None
            self.logger.error("internal error parsing %s: %s", response.url, type(error).__name__, exc_info=True)
            if not request.meta.get(DECIDED_META):
                recorder_for(self.crawler).decide_request(request, Outcome.FAILED, Reason(
                    "faircrawl", "internal.error", f"unexpected {type(error).__name__} while parsing the page",
                    {"stage": "page", "exception": type(error).__name__}))
            return []

    def _parse_page(self, response: Response) -> Iterator[Request]:
        recorder = recorder_for(self.crawler)
        runtime = policy_for(self.crawler)
        request = response.request
        assert request is not None
        observation: Observation = response.meta.get(OBSERVATION_META) or Observation()
        jurisdiction = response.meta.get(JURISDICTION_META) or runtime.jurisdiction(response.url)
        links: list[str] = []
        images: list[str] = []
        reasons: list[Reason] = []
        facts = None
        is_html = isinstance(response, HtmlResponse) or (
            isinstance(response, TextResponse) and b"html" in (response.headers.get("Content-Type") or b""))
        if is_html:
            assert isinstance(response, TextResponse)
            site = runtime.site_files.cached(origin_of_url(response.url))
            headers = _headers(response)
            facts = page_facts(response.url, headers, response.text, runtime.token, site, selector=response.selector)
            observation = Observation({**observation.signals, **facts.observation.signals},
                                      [*observation.reasons, *facts.observation.reasons])
            if jurisdiction.source == "unknown":
                jurisdiction = runtime.jurisdiction(response.url, facts.content_language, facts.html_lang,
                                                    facts.self_hreflang)
            links, images, unusable = self._extract(response)
            reasons.append(Reason("page", "page.crawled", f"HTTP {response.status}, {len(links)} links, {len(images)} images"))
            if unusable:
                reasons.append(Reason("page", "page.unusable_links",
                                      f"{unusable} link(s) or image reference(s) could not be resolved to a URL"))
            if facts.nofollow and not runtime.loaded.pack.follows_nofollow_links:
                reasons.append(Reason("x-robots", "page.nofollow", f"nofollow: the page's {len(links)} links are not followed"))
                links = []
        else:
            content_type = (response.headers.get("Content-Type") or b"unknown").decode("latin-1")
            reasons.append(Reason("page", "page.not_html", f"not an HTML page ({content_type}): nothing extracted"))
        request.meta[DECIDED_META] = True
        fetch_decision = response.meta.get(FETCH_DECISION_META)
        if fetch_decision is not None:
            reasons = [*runtime.policy_reasons(fetch_decision), *reasons]
        decision_id = recorder.decide(
            Kind.PAGE, Outcome.CRAWLED, response.meta.get("redirect_urls", [response.url])[0],
            [*observation.reasons, *reasons], page_url=response.meta.get(PAGE_URL_META), final_url=response.url,
            signals=observation.signals, jurisdiction=jurisdiction, decision=fetch_decision,
            fetched_at=response.meta.get(FETCHED_AT_META))
        recorder.page_crawled(decision_id, response.url, response.status, len(links), len(images))
        yield from self._follow(response, images, links, {JURISDICTION_META: jurisdiction, PAGE_FACTS_META: facts})

    def _follow(self, response: Response, images: list[str], links: list[str],
                inherited: dict[str, Any]) -> Iterator[Request]:
        """Request the page's images (they inherit its facts), then its links inside the start sites."""
        for image_url in images:
            image_request = self._request(image_url, Kind.IMAGE, page_url=response.url, inherited=inherited)
            if image_request is not None:
                yield image_request
        for link in links:
            if (urlsplit(link).hostname or "").lower() in self.start_hosts:
                page_request = self._request(link, Kind.PAGE, page_url=response.url)
                if page_request is not None:
                    yield page_request

    def _extract(self, response: TextResponse) -> tuple[list[str], list[str], int]:
        """Links and image URLs (``src`` and every ``srcset`` candidate), absolute; and how many could not be resolved."""
        unusable = 0

        def absolute(values: list[str]) -> list[str]:
            nonlocal unusable
            found = []
            for value in values:
                try:
                    url = _without_fragment(urljoin(response.url, value.strip()))
                    scheme = urlsplit(url).scheme
                except ValueError:  # e.g. "http://[::1"
                    unusable += 1
                    continue
                if scheme in {"http", "https"}:
                    found.append(url)
            return list(dict.fromkeys(found))

        page = response.selector
        links = absolute(strings(page, LINK_HREFS))
        sources = strings(page, IMAGE_SOURCES)
        for srcset in strings(page, IMAGE_SRCSETS):
            sources += srcset_urls(srcset)
        return links, absolute(sources), unusable

    def parse_image(self, response: Response) -> Iterator[FetchedImage]:
        content_type = response.headers.get("Content-Type")
        yield FetchedImage(
            url=response.meta.get("redirect_urls", [response.url])[0],
            final_url=response.url,
            page_url=response.meta.get(PAGE_URL_META),
            body=response.body,
            content_type=content_type.decode("latin-1") if content_type else None,
            headers=_headers(response),
            observation=response.meta.get(OBSERVATION_META) or Observation(),
            jurisdiction=response.meta.get(JURISDICTION_META),
            page_facts=response.meta.get(PAGE_FACTS_META),
            fetch_decision=response.meta.get(FETCH_DECISION_META),
            fetched_at=response.meta.get(FETCHED_AT_META),
        )

    def on_error(self, failure: Failure) -> None:
        request: Request = getattr(failure, "request", None) or failure.value.request  # type: ignore[union-attr]
        if request.meta.get(DECIDED_META):
            return  # a gate already recorded why
        reason = classify_failure(failure, request)
        recorder_for(self.crawler).decide_request(request, Outcome.FAILED, reason)
