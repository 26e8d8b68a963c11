"""Refuse hosts on loopback, private, link-local and other special addresses.

A crawler fed URLs by others must not be turned against the network it runs
in (SSRF). ``--allow-private-hosts`` lifts this, and test-site mode lifts it
for catalog hosts. The check resolves the name itself (a trailing dot and
numeric forms such as ``127.1`` resolve like any other name); a name that
cannot be resolved cannot be checked, so it is refused too (a proxy might
resolve it to anything). A DNS answer that changes between this check and the
connection is not caught (see README).
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
        self._verdicts: dict[str, tuple[str, str] | None] = {}

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
        code, detail = problem
        reason = Reason("host", code, detail)
        if request.meta.get(SITE_FILE_META):
            self.crawler.stats.inc_value(f"faircrawl/site_file/refused/{code.replace('.', '/')}")
        else:
            recorder_for(self.crawler).decide_request(request, Outcome.REFUSED, reason)
        logger.debug("refused %s: %s", request, detail)
        raise IgnoreRequest(detail)

    async def _classify(self, host: str) -> tuple[str, str] | None:
        """(reason code, why) when ``host`` must not be crawled, None for a public host."""
        name = host.strip("[]").rstrip(".")
        if not name:
            return "host.unresolvable", "the URL has no host name"
        try:
            literal = ipaddress.ip_address(name)
        except ValueError:
            literal = None
        if literal is not None:
            label = special_purpose(literal)
            return ("host.private", f"{host} is a {label} address; use --allow-private-hosts to crawl it") if label else None
        try:
            answers = await asyncio.get_running_loop().getaddrinfo(name, None, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as error:
            return ("host.unresolvable", f"{host} cannot be resolved ({type(error).__name__}), so it cannot be checked "
                    "for a private address: not crawled")
        for *_, sockaddr in answers:
            address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
            label = special_purpose(address)
            if label:
                return ("host.private",
                        f"{host} resolves to {address}, a {label} address; use --allow-private-hosts to crawl it")
        return None
