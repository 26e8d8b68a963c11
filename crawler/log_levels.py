"""Make no log record that no handler will print: Scrapy's two per-response debug lines.

Scrapy sets the root logger to NOTSET and filters by LOG_LEVEL in its handler,
so its engine's ``Crawled (200) <GET ...>`` and its scraper's ``Scraped from``
lines become LogRecords for every response, only to be dropped by the handler:
about 2% of a crawl thread at the default WARNING level (py-spy, benchmark
site). While the spider is open, those two loggers are set to the lowest level
any handler that would see their records accepts, so with ``-v``/``-vv``, a
``LOG_LEVEL`` of DEBUG or a test capturing at DEBUG, nothing changes; at close
they go back to what they were.
"""

from __future__ import annotations

import logging

from scrapy import signals
from scrapy.crawler import Crawler

PER_RESPONSE_LOGGERS = ("scrapy.core.engine", "scrapy.core.scraper")


def lowest_handled_level(logger: logging.Logger) -> int:
    """The lowest level of the handlers a record of ``logger`` reaches (NOTSET: some handler takes everything)."""
    levels = []
    current: logging.Logger | None = logger
    while current is not None:
        levels += [handler.level for handler in current.handlers]
        if not current.propagate:
            break
        current = current.parent
    if not levels:
        return logging.WARNING  # logging's last resort handler prints WARNING and above
    return min(levels)


class PerResponseLogLevels:
    """Extension: raise the per-response loggers to what their handlers print while the spider is open."""

    def __init__(self, crawler: Crawler) -> None:
        self._before: dict[str, int] = {}
        crawler.signals.connect(self._opened, signal=signals.spider_opened)
        crawler.signals.connect(self._closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PerResponseLogLevels:
        return cls(crawler)

    def _opened(self) -> None:
        for name in PER_RESPONSE_LOGGERS:
            logger = logging.getLogger(name)
            if logger.level != logging.NOTSET:
                continue  # someone chose its level: theirs stands
            lowest = lowest_handled_level(logger)
            if lowest > logging.DEBUG:
                self._before[name] = logger.level
                logger.setLevel(lowest)

    def _closed(self) -> None:
        for name, level in self._before.items():
            logging.getLogger(name).setLevel(level)
        self._before.clear()
