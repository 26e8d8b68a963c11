"""Route catalog hostnames to the test-site server, in test-site mode only.

The server is used as an HTTP proxy, so request URLs keep their realistic
hostnames and nothing touches /etc/hosts or DNS. A catalog site marked ``down``
is routed to a port where nothing listens, so its connections are really refused.
"""

from __future__ import annotations

import logging
import socket
from pathlib import Path

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.httpobj import urlparse_cached

from crawler.settings import setting
from crawler.testsites import build_catalog, listen

logger = logging.getLogger(__name__)

TESTSITE_META = "faircrawl_testsite"


def _closed_port() -> int:
    """A loopback port with nothing listening (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class TestSiteRouter:
    __test__ = False

    def __init__(self, crawler: Crawler) -> None:
        if not crawler.settings.getbool("FAIRCRAWL_TESTSITES"):
            raise NotConfigured  # not in test-site mode (a message would make Scrapy log a warning)
        self.catalog = build_catalog()
        from crawler.testsites import verified

        verified.KEY_FILE["path"] = Path(setting(crawler.settings, "FAIRCRAWL_BOT_KEY_FILE"))  # whose directory is served
        server = crawler.settings.get("FAIRCRAWL_TESTSITES_SERVER")
        if not server:
            port = listen(self.catalog, port=0)
            server = f"http://127.0.0.1:{port.getHost().port}"
            logger.info("serving the test-site catalog at %s for this crawl", server)
        self.server_url = server
        self.nowhere_url = f"http://127.0.0.1:{_closed_port()}"

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> TestSiteRouter:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        site = self.catalog.site(urlparse_cached(request).hostname or "")
        if site is None:
            return
        request.meta["proxy"] = self.nowhere_url if site.down else self.server_url
        request.meta[TESTSITE_META] = True
