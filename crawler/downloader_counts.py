"""Count requests sent, responses and download errors: Scrapy's DownloaderStats without its byte sizes.

faircrawl reads two of Scrapy's downloader stats (``downloader/request_count``
into the report's ``requests``, ``downloader/response_count`` into its
``responses``). Scrapy's DownloaderStats also sizes every request by writing it
out as HTTP (``request_httprepr``, every header) and every response's headers:
about 3% of a crawl thread on the benchmark site. This keeps the same counts
under the same names, at the same place in the chain (850: after the gates, so
a refused request is not counted as sent), and leaves the byte totals out; each
decision record already says what was fetched.
"""

from __future__ import annotations

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.statscollectors import StatsCollector


class DownloaderCounts:
    """Downloader middleware: request, response (per status) and exception (per type) counts."""

    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DownloaderCounts:
        assert crawler.stats is not None
        return cls(crawler.stats)

    def process_request(self, request: Request) -> None:
        self.stats.inc_value("downloader/request_count")
        self.stats.inc_value(f"downloader/request_method_count/{request.method}")

    def process_response(self, request: Request, response: Response) -> Response:
        self.stats.inc_value("downloader/response_count")
        self.stats.inc_value(f"downloader/response_status_count/{response.status}")
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        self.stats.inc_value("downloader/exception_count")
        self.stats.inc_value(f"downloader/exception_type_count/{type(exception).__module__}.{type(exception).__qualname__}")
