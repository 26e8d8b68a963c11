"""The baseline: a minimal plain-Scrapy image crawler doing what faircrawl does, minus consent.

It follows page links, yields one Request per ``<img>`` (``dont_filter=True``
and priority 10, as faircrawl's spider does) and writes each image body to
``<store>/<sha1(url)>.jpg``. Scrapy's own RobotsTxtMiddleware (Protego) obeys
robots.txt. After the crawl its stats go to a JSON file for the benchmark.

    python -m benchmarks.plain_scrapy_spider START_URL --store DIR --stats FILE [--concurrency 32]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

from scrapy import Request, Spider
from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.http import Response

IMAGE_PRIORITY = 10  # same as faircrawl: a page's images before more pages


class ImageSpider(Spider):
    name = "plain_images"

    def __init__(self, start_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.start_url = start_url

    async def start(self) -> AsyncIterator[Request]:
        # Not dont_filter (Scrapy's default for start URLs): faircrawl fetches /p/0.html once too.
        yield Request(self.start_url, callback=self.parse)

    def parse(self, response: Response) -> Iterator[Request]:
        self.crawler.stats.inc_value("bench/pages")  # lets the benchmark check the crawl was complete
        for src in response.css("img::attr(src)").getall():
            yield Request(response.urljoin(src), callback=self.parse_image, dont_filter=True,
                          priority=IMAGE_PRIORITY)
        for href in response.css("a::attr(href)").getall():
            yield response.follow(href, callback=self.parse)

    def parse_image(self, response: Response) -> Iterator[dict[str, Any]]:
        yield {"url": response.url, "body": response.body}


class StoreImagePipeline:
    """Write the bytes as fetched, synchronously: what a minimal pipeline would do."""

    def __init__(self, store: Path) -> None:
        self.store = store
        self.store.mkdir(parents=True, exist_ok=True)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StoreImagePipeline:
        return cls(Path(crawler.settings["BENCH_STORE"]))

    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        name = hashlib.sha1(item["url"].encode()).hexdigest()
        (self.store / f"{name}.jpg").write_bytes(item["body"])
        item["body"] = b""
        return item


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("start_url")
    parser.add_argument("--store", required=True, type=Path)
    parser.add_argument("--stats", required=True, type=Path)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args(argv)
    process = CrawlerProcess({
        "BENCH_STORE": str(args.store),
        "CONCURRENT_REQUESTS": args.concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": max(1, args.concurrency // 2),
        "CONCURRENT_ITEMS": 16,
        "COOKIES_ENABLED": False,
        "ITEM_PIPELINES": {StoreImagePipeline: 300},
        "LOG_LEVEL": "WARNING",
        "REMOTE_CONTROL_ENABLED": False,
        "ROBOTSTXT_OBEY": True,
        "TELNETCONSOLE_ENABLED": False,
        "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
    })
    crawler = process.create_crawler(ImageSpider)
    process.crawl(crawler, start_url=args.start_url)
    process.start()
    # Read after the crawl, so CoreStats has set elapsed_time_seconds and finish_reason.
    stats = crawler.stats.get_stats() if crawler.stats else {}
    args.stats.write_text(json.dumps(stats, default=str, indent=2, sort_keys=True))
    return 0 if stats.get("finish_reason") == "finished" else 1


if __name__ == "__main__":
    sys.exit(main())
