"""Keep Python's cyclic garbage collector off what lives for the whole crawl, and run it less often.

A crawl process holds about 180,000 long-lived objects (Scrapy, Twisted,
SQLAlchemy, lxml, the rule pack, the policy engine's tables, the Public Suffix
List's trie) before its first request, and every full collection walked all of
them again. With Python's default thresholds the per-request churn (Deferreds,
coroutines, Tasks, Handles) set off a young collection every 700 allocations
and a full one every few hundred responses: on the benchmark site 11 s of a
50 s crawl went to the collector (plain Scrapy: 4.7 s of 28 s).

While the spider is open, everything that was alive when it opened sits in the
permanent generation (``gc.freeze``), so collections walk only what the crawl
creates, and the youngest generation's threshold is raised, so that each
collection has more to free per object it walks. Reference counting still
frees almost everything at once; only reference cycles wait for a collection,
a little longer than before. At close both are undone (a process that runs
several crawls, such as the test suite, collects what the earlier ones left).
"""

from __future__ import annotations

import gc

from scrapy import signals
from scrapy.crawler import Crawler

from policy.hosts import suffix_extractor

YOUNG_THRESHOLD = 10_000  # allocations between young collections while crawling (Python 3.11's default: 700)


class _Tuned:
    """The process's state: how many spiders are open, and the thresholds found before the first opened."""

    open_spiders = 0
    thresholds_before = gc.get_threshold()


class CollectorTuning:
    """Extension: freeze the start-up objects and raise the young threshold while any spider is open.

    One crawl per process is the rule (``faircrawl crawl``); should several overlap in one process, the first to
    open tunes and the last to close restores, so none restores a threshold another one set.
    """

    def __init__(self, crawler: Crawler) -> None:
        crawler.signals.connect(self._opened, signal=signals.spider_opened)
        crawler.signals.connect(self._closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CollectorTuning:
        return cls(crawler)

    def _opened(self) -> None:
        _Tuned.open_spiders += 1
        if _Tuned.open_spiders > 1:
            return
        suffix_extractor()("example.com")  # builds the Public Suffix List trie (17,000 objects) before the freeze
        gc.freeze()  # no gc.collect() first: it takes 0.3 s and found 16 objects of start-up garbage
        _Tuned.thresholds_before = young, middle, old = gc.get_threshold()
        gc.set_threshold(max(YOUNG_THRESHOLD, young), middle, old)

    def _closed(self) -> None:
        _Tuned.open_spiders = max(0, _Tuned.open_spiders - 1)  # a spider that failed to open still closes
        if _Tuned.open_spiders > 0:
            return
        gc.set_threshold(*_Tuned.thresholds_before)
        gc.unfreeze()  # back to the oldest generation: collected like anything else from now on
