"""Fetch no more page or image while the image pipeline is full: memory bounded by a count, not only by bytes.

Scrapy stops downloading when the responses waiting in its scraper pass
SCRAPER_SLOT_MAX_ACTIVE_SIZE bytes (5 MB; at least 1 KiB per response). For
small images that is thousands of responses, each with its request, item and
headers alive, and when downloads outpace the image stages the crawl's
memory grows toward that bound. Here the image pipeline counts the images it
holds; while there are FAIRCRAWL_PIPELINE_IMAGES of them, this downloader
middleware holds back the spider's page and image requests (their download
slot stays taken, so Scrapy takes nothing more from the scheduler). Site files
and linked documents, which the stages themselves may need, are never held.
"""

from __future__ import annotations

import asyncio

from scrapy import Request
from scrapy.crawler import Crawler

from crawler.recording import KIND_META
from crawler.settings import setting

_ROOM_ATTRIBUTE = "faircrawl_pipeline_room"


class PipelineRoom:
    """How many images the image pipeline holds, and a wait until it holds fewer than its limit (0: no limit)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.inside = 0
        self._room: asyncio.Event | None = None

    def enter(self) -> None:
        self.inside += 1

    def leave(self) -> None:
        self.inside -= 1
        if self._room is not None and self.inside < self.limit:
            self._room.set()  # every waiter checks again; those past the limit wait for the next image to leave
            self._room = None

    async def wait(self) -> bool:
        """Until there is room; True if it had to wait."""
        waited = False
        while self.limit and self.inside >= self.limit:
            if self._room is None:
                self._room = asyncio.Event()
            await self._room.wait()
            waited = True
        return waited


def room_for(crawler: Crawler) -> PipelineRoom:
    """The crawl's one PipelineRoom, shared by the image pipeline and the middleware."""
    room = getattr(crawler, _ROOM_ATTRIBUTE, None)
    if room is None:
        room = PipelineRoom(setting(crawler.settings, "FAIRCRAWL_PIPELINE_IMAGES"))
        setattr(crawler, _ROOM_ATTRIBUTE, room)
    return room


class WaitForPipelineRoom:
    """Downloader middleware: the spider's requests wait while the image pipeline is full."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.room = room_for(crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WaitForPipelineRoom:
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        if KIND_META in request.meta and await self.room.wait() and self.crawler.stats:
            self.crawler.stats.inc_value("faircrawl/pipeline_full/waited")
