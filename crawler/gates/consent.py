"""The consent gate: before every request, page or image, ask the policy whether it may be sent.

It gathers what is known before sending (the host's robots.txt, tdmrep.json
and ai.txt, the robots.txt usage lines, the embedding page's directives, the
terms registry), resolves the jurisdiction, and asks the rule pack for
``fetch_page`` or ``fetch_image``. A refusal is recorded with every reason and
raised as IgnoreRequest; an allowed request carries what was observed to the
spider and the pipeline. A host asking for a Crawl-delay or Request-rate
slower than this crawl can honour is not crawled (the site-file cache applies
shorter delays to the host's download slot), nor one whose Visit-time windows
exclude the present UTC time. An unexpected error while deciding refuses the request
(failed, ``internal.error``): nothing is sent that was not decided.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.utils.httpobj import urlparse_cached

from crawler.policy_runtime import CrawlPolicy, policy_for
from crawler.recording import (
    DECIDED_META,
    FETCH_DECISION_META,
    FETCHED_AT_META,
    JURISDICTION_META,
    KIND_META,
    OBSERVATION_META,
    PAGE_FACTS_META,
    PAGE_URL_META,
    now,
    recorder_for,
)
from crawler.settings import setting
from crawler.sitefiles import DEFAULT_PORTS, SITE_FILE_META, origin_of
from policy import Kind, Outcome, Reason
from policy.observe import Observation, PageFacts, request_observation
from policy.robots import RobotsTxt
from policy.vocabulary import Purpose

logger = logging.getLogger(__name__)


def _outside_visit_time(robots: RobotsTxt, token: str, now: datetime | None = None) -> Reason | None:
    """A refusal when robots.txt admits visits only at other hours (Visit-time, UTC; not waited for: recorded)."""
    if not robots.visit_windows(token):
        return None  # nearly every site: no clock read on the request's path
    now = now or datetime.now(UTC)
    windows = robots.outside_visit_time(token, now.hour * 60 + now.minute)
    if windows is None:
        return None
    return Reason("robots.txt", "robots.outside_visit_time",
                  f"robots.txt admits visits only at {windows}, UTC; it is {now:%H:%M} UTC: not crawled now",
                  {"visit_time": windows, "utc_time": f"{now:%H:%M}"})


class ConsentGate:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.runtime: CrawlPolicy = policy_for(crawler)
        self.max_crawl_delay: float = setting(crawler.settings, "FAIRCRAWL_MAX_CRAWL_DELAY")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ConsentGate:
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        if request.meta.get(SITE_FILE_META) or urlparse_cached(request).scheme not in DEFAULT_PORTS:
            return
        try:
            await self._decide(request)
        except IgnoreRequest:
            raise
        except Exception as error:  # noqa: BLE001 - an undecided request is never sent
            logger.error("internal error deciding %s: %s", request.url, type(error).__name__, exc_info=True)
            if not request.meta.get(DECIDED_META):
                recorder_for(self.crawler).decide_request(request, Outcome.FAILED, Reason(
                    "faircrawl", "internal.error", f"unexpected {type(error).__name__} while deciding the request: "
                    "not sent", {"stage": "consent gate", "exception": type(error).__name__}))
            raise IgnoreRequest(f"internal error deciding {request.url}") from None

    async def _decide(self, request: Request) -> None:
        runtime = self.runtime
        recorder = recorder_for(self.crawler)
        host = (urlparse_cached(request).hostname or "").lower()
        if runtime.requires_testsites and host not in runtime.catalog_hosts:
            reason = Reason("policy", "policy.testsites_only",
                            f"pack {runtime.loaded.pack.name!r} runs only against the local test sites; {host} is not one")
            recorder.decide_request(request, Outcome.REFUSED, reason)
            raise IgnoreRequest(reason.detail)
        is_image = request.meta.get(KIND_META) == Kind.IMAGE
        purpose = Purpose.FETCH_IMAGE if is_image else Purpose.FETCH_PAGE
        page_url = request.meta.get(PAGE_URL_META)
        site_signals = runtime.site_signals(request.url, page_url)
        if site_signals.get("terms.listed_infringing"):
            self._refuse_listed_site(request, purpose, site_signals)
        site = await runtime.site_files.get(origin_of(request))
        page: PageFacts | None = request.meta.get(PAGE_FACTS_META)
        observation = request_observation(site, request.url, runtime.token, is_image=is_image, page=page)
        observation.signals.update(site_signals)
        if is_image:  # the RSL licences and tdm-policy its signals point to
            observation.add(await runtime.linked.observe(site, request.url, observation.signals, page))
        jurisdiction = request.meta.get(JURISDICTION_META) or runtime.jurisdiction(request.url)
        decision = runtime.decide(purpose, jurisdiction, observation.signals)
        delay = site.robots.crawl_delay(runtime.token)
        if delay is not None and delay > self.max_crawl_delay and decision.allowed:
            directive = site.robots.delay_source(runtime.token)
            too_long = Reason(
                "robots.txt", "robots.crawl_delay_too_long",
                f"robots.txt asks for {delay:g} s between requests ({directive}), "
                f"over the {self.max_crawl_delay:g} s this crawl can honour (FAIRCRAWL_MAX_CRAWL_DELAY): not crawled",
                {"delay_seconds": delay, "directive": directive})
            recorder.decide_request(request, Outcome.REFUSED, too_long, observation=observation,
                                    jurisdiction=jurisdiction, decision=decision)
            raise IgnoreRequest(too_long.detail)
        closed = _outside_visit_time(site.robots, runtime.token) if decision.allowed else None
        if closed is not None:
            recorder.decide_request(request, Outcome.REFUSED, closed, observation=observation,
                                    jurisdiction=jurisdiction, decision=decision)
            raise IgnoreRequest(closed.detail)
        if not decision.allowed:
            recorder.decide_request(request, Outcome.REFUSED, *runtime.policy_reasons(decision),
                                    observation=observation, jurisdiction=jurisdiction, decision=decision)
            raise IgnoreRequest(f"{decision.summary}")
        request.meta[OBSERVATION_META] = _merge(request.meta.get(OBSERVATION_META), observation)
        request.meta[JURISDICTION_META] = jurisdiction
        request.meta[FETCH_DECISION_META] = decision

    def _refuse_listed_site(self, request: Request, purpose: str, site_signals: dict[str, object]) -> None:
        """A site listed as infringing copyright is not contacted at all, not even for its robots.txt.

        The pack decides on the site's own signals with robots.txt taken as allowing: if it refuses even
        then, no robots.txt could change that (deny beats every allow), so nothing is sent. A pack that
        crawls such sites anyway (the unlawful demo) goes on to the usual decision.
        """
        runtime = self.runtime
        jurisdiction = request.meta.get(JURISDICTION_META) or runtime.jurisdiction(request.url)
        if runtime.decide(purpose, jurisdiction, {**site_signals, "robots.allowed": True}).allowed:
            return
        decision = runtime.decide(purpose, jurisdiction, site_signals)  # what is recorded: robots.txt never asked
        entries = (runtime.loaded.terms.lookup(u) for u in (request.url, request.meta.get(PAGE_URL_META)) if u)
        entry = next(e for e in entries if e is not None and e.listed_infringing_by)  # the signal came from it
        listed = Reason("terms", "terms.listed_infringing",
                        f"listed as infringing copyright by {entry.listed_infringing_by} (terms registry "
                        f"{entry.source}): the site is not contacted, not even for its robots.txt")
        observation = Observation(dict(site_signals))
        recorder_for(self.crawler).decide_request(request, Outcome.REFUSED, *runtime.policy_reasons(decision), listed,
                                                  observation=observation, jurisdiction=jurisdiction, decision=decision)
        raise IgnoreRequest(listed.detail)

    def process_response(self, request: Request, response: Response) -> Response:
        # When the request went out (Scrapy's download_latency runs from sending to the response):
        # what Crawl-delay spaces, and what the decision record calls fetched_at.
        latency = float(request.meta.get("download_latency") or 0.0)
        request.meta[FETCHED_AT_META] = now() - timedelta(seconds=latency)
        return response


def _merge(earlier: Observation | None, later: Observation) -> Observation:
    """After a redirect, the new hop's observation extends the first's."""
    if earlier is None:
        return later
    return Observation({**earlier.signals, **later.signals}, [*earlier.reasons, *later.reasons])
