"""crawler/downloader_counts.py: the downloader counts faircrawl reads, under Scrapy's names, without byte sizes.

(A whole crawl's counts are checked in test_memory.py: every page, image and site file, once each.)
"""

from __future__ import annotations

from scrapy import Request
from scrapy.http import Response
from scrapy.utils.test import get_crawler
from twisted.internet.error import ConnectionRefusedError

from crawler.cli import crawl_settings
from crawler.downloader_counts import DownloaderCounts
from crawler.spiders.site import SiteSpider


def test_requests_responses_and_errors_are_counted_by_method_status_and_type() -> None:
    crawler = get_crawler(SiteSpider)
    assert crawler.stats is not None
    counts = DownloaderCounts.from_crawler(crawler)
    requests = [Request(f"http://a.example/{n}") for n in range(3)]
    for request in requests:
        assert counts.process_request(request) is None
    for request, status in zip(requests[:2], (200, 404), strict=True):
        response = Response(request.url, status=status, request=request)
        assert counts.process_response(request, response) is response
    assert counts.process_exception(requests[2], ConnectionRefusedError()) is None

    stats = crawler.stats.get_stats()
    assert {k: v for k, v in stats.items() if k.startswith("downloader/")} == {
        "downloader/request_count": 3, "downloader/request_method_count/GET": 3,
        "downloader/response_count": 2, "downloader/response_status_count/200": 1,
        "downloader/response_status_count/404": 1, "downloader/exception_count": 1,
        "downloader/exception_type_count/twisted.internet.error.ConnectionRefusedError": 1}


def test_it_takes_the_place_of_scrapys_downloader_stats() -> None:
    middlewares = crawl_settings().getdict("DOWNLOADER_MIDDLEWARES")
    assert middlewares["scrapy.downloadermiddlewares.stats.DownloaderStats"] is None
    assert middlewares["crawler.downloader_counts.DownloaderCounts"] == 850  # DownloaderStats' own place
