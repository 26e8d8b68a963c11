"""The single-process scheduler: Scrapy's own, with the pages it cannot fetch yet waiting on disk.

Scrapy keeps every queued request in memory, about 1 KiB each with its
parsed-URL cache, so the memory of a crawl grows with the part of the site
discovered but not yet fetched (ten thousand pages of a 30,000-page site).
Here, once FAIRCRAWL_FRONTIER_MEMORY requests wait in memory, further page
requests go to Scrapy's own disk queue (``SCHEDULER_DISK_QUEUE``, pickled by
``request_to_dict``) in a private temporary folder that is removed when the
crawl ends. Images and site files (higher priority, fetched soon after the page
that named them) always stay in memory, and a request that cannot be pickled
stays in memory too (Scrapy counts it as ``scheduler/unserializable``).

The folder is not a Scrapy JOBDIR: nothing is resumed from it (a stopped crawl
is resumed from the database, see ``faircrawl resume``), and it holds only what
a queued request holds: its URL, headers and meta (decision context, never face
data).
"""

from __future__ import annotations

import shutil
import tempfile
from typing import Any

from scrapy import Request
from scrapy.core.scheduler import Scheduler
from scrapy.crawler import Crawler
from scrapy.dupefilters import BaseDupeFilter
from scrapy.utils.misc import build_from_crawler, load_object
from twisted.internet.defer import Deferred

from crawler.settings import setting

SPILLED_PRIORITY = 0  # requests at this priority or lower (pages) may wait on disk; images (10) never do


class SpillingScheduler(Scheduler):
    """Scrapy's scheduler that sends page requests to disk once ``memory_requests`` wait in memory (0: never)."""

    def __init__(self, dupefilter: BaseDupeFilter, *, memory_requests: int, **kwargs: Any) -> None:
        self.memory_requests = memory_requests
        self.spill_folder = tempfile.mkdtemp(prefix="faircrawl-frontier-") if memory_requests else None  # mode 0700
        super().__init__(dupefilter, jobdir=self.spill_folder, **kwargs)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SpillingScheduler:
        settings = crawler.settings
        return cls(
            build_from_crawler(load_object(settings["DUPEFILTER_CLASS"]), crawler),
            memory_requests=setting(settings, "FAIRCRAWL_FRONTIER_MEMORY"),
            dqclass=load_object(settings["SCHEDULER_DISK_QUEUE"]),
            mqclass=load_object(settings["SCHEDULER_MEMORY_QUEUE"]),
            logunser=settings.getbool("SCHEDULER_DEBUG"),
            stats=crawler.stats,
            pqclass=load_object(settings["SCHEDULER_PRIORITY_QUEUE"]),
            crawler=crawler,
        )

    def _dqpush(self, request: Request) -> bool:
        """To disk only a page request that finds memory's share taken (Scrapy pops memory first, then disk)."""
        if request.priority > SPILLED_PRIORITY or len(self.mqs) < self.memory_requests:
            return False
        return super()._dqpush(request)

    def close(self, reason: str) -> Deferred[None] | None:
        """Scrapy's close (it saves the disk queue's state), then the folder is removed: nothing resumes from it."""
        try:
            return super().close(reason)
        finally:
            if self.spill_folder is not None:
                shutil.rmtree(self.spill_folder, ignore_errors=True)
