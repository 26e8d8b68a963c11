"""Refuse hosts on loopback, private, link-local and other special addresses.

A crawler fed URLs by others must not be turned against the network it runs
in (SSRF). ``--allow-private-hosts`` lifts this, and test-site mode lifts it
for catalog hosts. The check resolves the name itself; a DNS answer that
changes between this check and the connection is not caught (see README).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.utils.httpobj import urlparse_cached

from crawler.gates.testsites import TESTSITE_META
from crawler.recording import recorder_for
from crawler.sitefiles import SITE_FILE_META
from policy import Outcome, Reason

logger = logging.getLogger(__name__)

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def special_purpose(address: IpAddress) -> str | None:
    """Why ``address`` must not be crawled, or None for a public address."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for label, flagged in (
        ("loopback", address.is_loopback), ("private", address.is_private),
        ("link-local", address.is_link_local), ("multicast", address.is_multicast),
        ("unspecified", address.is_unspecified), ("reserved", address.is_reserved),
    ):
        if flagged:
            return label
    return None


class PrivateHostGate:
    def __init__(self, crawler: Crawler) -> None:
        if crawler.settings.getbool("FAIRCRAWL_ALLOW_PRIVATE_HOSTS"):
            raise NotConfigured  # private hosts allowed (--allow-private-hosts) (a message would make Scrapy log a warning)
        self.crawler = crawler
        self._verdicts: dict[str, str | None] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PrivateHostGate:
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        if request.meta.get(TESTSITE_META):
            return
        host = urlparse_cached(request).hostname or ""
        if host not in self._verdicts:
            self._verdicts[host] = await self._classify(host)
        problem = self._verdicts[host]
        if problem is None:
            return
        reason = Reason("host", "host.private", problem)
        if not request.meta.get(SITE_FILE_META):
            recorder_for(self.crawler).decide_request(request, Outcome.REFUSED, reason)
        self.crawler.stats.inc_value("consent/refused/private_host")
        logger.debug("refused %s: %s", request, problem)
        raise IgnoreRequest(problem)

    async def _classify(self, host: str) -> str | None:
        try:
            literal = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            literal = None
        if literal is not None:
            label = special_purpose(literal)
            return f"{host} is a {label} address; use --allow-private-hosts to crawl it" if label else None
        try:
            answers = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except OSError:
            return None  # unresolvable: the download fails and records why
        for *_, sockaddr in answers:
            address = ipaddress.ip_address(sockaddr[0].split("%")[0])
            label = special_purpose(address)
            if label:
                return f"{host} resolves to {address}, a {label} address; use --allow-private-hosts to crawl it"
        return None
