"""Last stage, store: keep the image bytes exactly as fetched, content-addressed, and record why."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from scrapy.crawler import Crawler

from crawler.items import FetchedImage
from crawler.pipelines.stage import ImageStage
from crawler.pipelines.validate import ValidImage
from crawler.policy_runtime import policy_for
from crawler.recording import recorder_for
from policy import Outcome, Reason
from storage import ImageStore

logger = logging.getLogger(__name__)


class StorePipeline(ImageStage):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.image_store = ImageStore(Path(crawler.settings.get("FAIRCRAWL_STORE")))

    async def process_item(self, item: FetchedImage) -> FetchedImage:
        valid: ValidImage = item.extra["valid"]
        decision = item.extra["decision"]
        try:
            relative_path = await asyncio.to_thread(self.image_store.put, item.body, valid.sha256, valid.format)
        except OSError as error:  # the image store cannot be written: say where and why
            logger.error("cannot store %s: %s", item.url, error)
            self.drop(item, Outcome.FAILED, Reason("storage", "storage.write_failed",
                                                   f"cannot write to the image store: {error}"))
        stored = Reason("image", "image.stored",
                        f"{valid.format} {valid.width}x{valid.height}, {valid.byte_size} bytes, sha256 {valid.sha256[:12]}")
        reasons = [*policy_for(self.crawler).policy_reasons(decision), stored]  # fetch reasons are added by record()
        decision_id = self.record(item, Outcome.STORED, *reasons, decision=decision,
                                  obligations=item.extra.get("obligations", dict(decision.obligations)))
        recorder_for(self.crawler).image_stored(decision_id, item.url, item.page_url, valid.sha256, relative_path,
                                                valid.byte_size, valid.format, valid.width, valid.height,
                                                item.content_type)
        self.crawler.stats.inc_value("faircrawl/images_stored")
        item.body = b""  # the bytes are on disk; do not hold them in memory
        return item
