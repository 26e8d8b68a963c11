"""Documents a signal points to: RSL licences and TDMRep tdm-policy documents, fetched once per URL per crawl.

An RSL licence is named by robots.txt (``License:``), by the page (``<link>``,
inline ``<script>``, ``Link`` header) or by the image response (``Link``); a
tdm-policy by a reservation of 1. Each URL is fetched once per crawl through
the site-file fetcher (same routing, private-host gate, at most 5 redirects),
with a size limit and a timeout, and cached (at most ``MAX_CACHED`` URLs).
Failing closed: a licence that cannot be fetched reads as prohibited, a policy
that cannot be fetched keeps the reservation, and so do pointers beyond
``MAX_POINTERS`` per image (a site naming thousands of licences is hostile).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from urllib.parse import urljoin

from scrapy.crawler import Crawler

from crawler.sitefiles import SiteFilesCache
from policy.observe import (
    FetchedFile,
    Headers,
    Observation,
    PageFacts,
    SiteFiles,
    header_values,
    rsl_observation,
    tdm_policy_observation,
)
from policy.signals import rsl, tdmpolicy

#: RSL licences and tdm-policy documents are small XML and JSON files.
MAX_DOCUMENT_BYTES = max(rsl.RSL_PARSE_LIMIT_BYTES, tdmpolicy.TDM_POLICY_PARSE_LIMIT_BYTES)
FETCH_TIMEOUT_SECONDS = 10.0
MAX_POINTERS = 8  # licence documents read per image; more reads as prohibited
MAX_CACHED = 1024


class LinkedDocuments:
    """Fetches and caches, for one crawl, the documents signals point to."""

    def __init__(self, crawler: Crawler, site_files: SiteFilesCache) -> None:
        self.crawler = crawler
        self.site_files = site_files
        self._done: OrderedDict[str, FetchedFile] = OrderedDict()
        self._pending: dict[str, asyncio.Future[FetchedFile]] = {}

    async def fetch(self, url: str) -> FetchedFile:
        """The document at ``url``: fetched the first time it is asked for, shared by every later ask."""
        if url in self._done:
            return self._done[url]
        if url in self._pending:
            return await asyncio.shield(self._pending[url])
        future: asyncio.Future[FetchedFile] = asyncio.get_running_loop().create_future()
        self._pending[url] = future
        try:
            fetched = await self._download(url)
        except BaseException as error:  # cancelled: the waiters learn it too
            future.set_exception(error)
            future.exception()
            raise
        finally:
            del self._pending[url]
        self._done[url] = fetched
        while len(self._done) > MAX_CACHED:
            self._done.popitem(last=False)
        future.set_result(fetched)
        self.crawler.stats.inc_value("faircrawl/linked_document/fetched")
        return fetched

    async def _download(self, url: str) -> FetchedFile:
        if not url.lower().startswith(("http://", "https://")):
            return FetchedFile(url, "unreachable", None, "not an http(s) URL")
        try:
            return await self.site_files.fetch_document(url, MAX_DOCUMENT_BYTES, FETCH_TIMEOUT_SECONDS)
        except Exception as error:  # noqa: BLE001 - a document that cannot be fetched fails closed
            return FetchedFile(url, "unreachable", None, f"{type(error).__name__} while fetching")

    async def rsl_documents(self, site: SiteFiles, page: PageFacts | None, headers: Headers | None = None,
                            url: str = "") -> list[rsl.RslDocument]:
        """Every RSL document for a resource: robots.txt's, its page's and its own response's (fetched or inline)."""
        pointers = rsl.robots_pointers(site.robots, site.robots_url)
        inline: list[rsl.RslDocument] = []
        if page is not None:
            pointers += page.rsl_pointers
            inline += page.rsl_inline
        if headers is not None:
            pointers += rsl.header_pointers(header_values(headers, "Link"), url)
        unique = list(dict.fromkeys(p.url for p in pointers))
        documents = [*inline, *await asyncio.gather(*(self._rsl(u) for u in unique[:MAX_POINTERS]))]
        if len(unique) > MAX_POINTERS:
            documents.append(rsl.cannot_fetch(unique[MAX_POINTERS], f"{len(unique)} licence documents named, "
                                              f"more than the {MAX_POINTERS} read"))
        return documents

    async def _rsl(self, url: str) -> rsl.RslDocument:
        fetched = await self.fetch(url)
        if fetched.state == "found" and fetched.body is not None:
            return rsl.parse(fetched.body, fetched.url)
        return rsl.cannot_fetch(url, fetched.note)

    async def tdm_policy(self, url: str) -> tdmpolicy.TdmPolicy:
        fetched = await self.fetch(url)
        if fetched.state == "found" and fetched.body is not None:
            return tdmpolicy.parse(fetched.body, fetched.content_type, fetched.url)
        return tdmpolicy.cannot_fetch(url, fetched.note)

    async def observe(self, site: SiteFiles, url: str, signals: dict[str, object], page: PageFacts | None,
                      headers: Headers | None = None) -> Observation:
        """Signals ``rsl.ai_train`` and ``tdm.policy_status`` for an image, from the documents behind its signals."""
        observation = rsl_observation(await self.rsl_documents(site, page, headers, url), url)
        policy_url = signals.get("tdm.policy")
        if signals.get("tdm.reservation") == 1 and isinstance(policy_url, str) and policy_url:
            policy = await self.tdm_policy(_absolute(url, policy_url))
            observation.add(tdm_policy_observation(policy, purpose="non-research"))
        else:
            observation.signals["tdm.policy_status"] = None
        return observation


def needs_documents(headers: Headers, url: str, signals: dict[str, object]) -> bool:
    """Must the consent stage read documents again: the image response names an RSL licence or a tdm-policy of its own?"""
    own_policy = signals.get("tdm.reservation") == 1 and signals.get("tdm.policy") and signals.get("tdm.policy_status") is None
    return bool(own_policy) or bool(rsl.header_pointers(header_values(headers, "Link"), url))


def _absolute(base: str, href: str) -> str:
    try:
        return urljoin(base, href.strip())
    except ValueError:
        return href
