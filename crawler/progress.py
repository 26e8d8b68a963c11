"""Progress lines on stderr while a crawl runs: pages, images stored, refused, failed."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet import task

from crawler.recording import CrawlRecorder, recorder_for


def progress_line(recorder: CrawlRecorder, elapsed_seconds: float) -> str:
    counts = recorder.counts
    refused = counts[("page", "refused")] + counts[("image", "refused")]
    failed = counts[("page", "failed")] + counts[("image", "failed")]
    return (
        f"[faircrawl] {elapsed_seconds:6.1f}s  pages crawled {counts[('page', 'crawled')]}  "
        f"images stored {counts[('image', 'stored')]}  refused {refused}  failed {failed}"
    )


class Progress:
    def __init__(self, crawler: Crawler, stream: TextIO = sys.stderr) -> None:
        self.interval = crawler.settings.getfloat("FAIRCRAWL_PROGRESS_INTERVAL")
        if self.interval <= 0:
            raise NotConfigured  # progress lines off (a message would make Scrapy log a warning)
        self.crawler = crawler
        self.stream = stream
        self.started = time.monotonic()
        self._loop: task.LoopingCall | None = None
        self._last_printed = 0.0
        crawler.signals.connect(self._opened, signal=signals.spider_opened)
        crawler.signals.connect(self._closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Progress:
        return cls(crawler)

    def _print(self) -> None:
        self._last_printed = time.monotonic()
        print(progress_line(recorder_for(self.crawler), time.monotonic() - self.started), file=self.stream, flush=True)

    def _opened(self, spider: Any) -> None:
        self.started = time.monotonic()
        self._loop = task.LoopingCall(self._print)
        self._loop.start(self.interval, now=False)

    def _closed(self, spider: Any, reason: str) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        if time.monotonic() - self._last_printed > 0.5:  # the final count, unless just printed
            self._print()
