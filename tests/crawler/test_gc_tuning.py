"""crawler/gc_tuning.py with crawls that overlap in one process: the last to close restores the collector.

(A single real crawl is checked in test_memory.py, during the crawl and after it.)
"""

from __future__ import annotations

import gc

from scrapy import signals
from scrapy.utils.test import get_crawler

from crawler.gc_tuning import YOUNG_THRESHOLD, CollectorTuning
from crawler.spiders.site import SiteSpider


def test_overlapping_crawls_keep_the_tuning_until_the_last_closes() -> None:
    before = gc.get_threshold()
    first, second = get_crawler(SiteSpider), get_crawler(SiteSpider)
    tunings = [CollectorTuning.from_crawler(first), CollectorTuning.from_crawler(second)]  # signals hold weak refs
    try:
        first.signals.send_catch_log(signals.spider_opened, spider=None)
        assert gc.get_freeze_count() > 0 and gc.get_threshold()[0] == max(YOUNG_THRESHOLD, before[0])
        second.signals.send_catch_log(signals.spider_opened, spider=None)
        first.signals.send_catch_log(signals.spider_closed, spider=None)
        assert gc.get_freeze_count() > 0 and gc.get_threshold()[0] == max(YOUNG_THRESHOLD, before[0])
        second.signals.send_catch_log(signals.spider_closed, spider=None)
        assert gc.get_freeze_count() == 0 and gc.get_threshold() == before
    finally:
        del tunings
        gc.unfreeze()
        gc.set_threshold(*before)
