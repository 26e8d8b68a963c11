"""Progress on stderr while a crawl runs: a bar when the number of decisions to come is known, else lines.

On a terminal the bar is redrawn in place (``\\r``) at every interval; in a
log or a pipe each update is a line of its own. The demo knows how many
decisions each catalog crawl makes (``FAIRCRAWL_PROGRESS_TOTAL``), so it shows a
bar per crawl.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet import task

from crawler.recording import CrawlRecorder, recorder_for
from crawler.settings import setting

BAR_WIDTH = 30


def progress_line(recorder: CrawlRecorder, elapsed_seconds: float, total: int = 0) -> str:
    counts = recorder.counts
    refused = counts[("page", "refused")] + counts[("image", "refused")]
    failed = counts[("page", "failed")] + counts[("image", "failed")]
    tally = (f"pages crawled {counts[('page', 'crawled')]}  images stored {counts[('image', 'stored')]}  "
             f"refused {refused}  failed {failed}")
    if not total:
        return f"[faircrawl] {elapsed_seconds:6.1f}s  {tally}"
    done = sum(counts.values())
    filled = min(BAR_WIDTH, round(BAR_WIDTH * done / total))
    return f"[faircrawl] [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{total} decisions {elapsed_seconds:5.1f}s  {tally}"


class Progress:
    def __init__(self, crawler: Crawler, stream: TextIO = sys.stderr) -> None:
        self.interval = setting(crawler.settings, "FAIRCRAWL_PROGRESS_INTERVAL")
        if self.interval <= 0:
            raise NotConfigured  # progress lines off (a message would make Scrapy log a warning)
        self.total = setting(crawler.settings, "FAIRCRAWL_PROGRESS_TOTAL")
        self.crawler = crawler
        self.stream = stream
        self.in_place = bool(self.total) and stream.isatty()
        self.started = time.monotonic()
        self._loop: task.LoopingCall | None = None
        self._last_printed = 0.0
        crawler.signals.connect(self._opened, signal=signals.spider_opened)
        crawler.signals.connect(self._closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Progress:
        return cls(crawler)

    def _print(self, final: bool = False) -> None:
        self._last_printed = time.monotonic()
        line = progress_line(recorder_for(self.crawler), time.monotonic() - self.started, self.total)
        if self.in_place:
            self.stream.write(f"\r{line}" + ("\n" if final else ""))
            self.stream.flush()
        else:
            print(line, file=self.stream, flush=True)

    def _opened(self, spider: Any) -> None:
        self.started = time.monotonic()
        self._loop = task.LoopingCall(self._print)
        self._loop.start(self.interval, now=False)

    def _closed(self, spider: Any, reason: str) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        if self.in_place or time.monotonic() - self._last_printed > 0.5:  # the final count, unless just printed
            self._print(final=True)
