"""Item pipelines for fetched images: validate, then store.

Later stages (dedupe, opt-out screening, face templates) slot in between, each
a pipeline of the same shape. Work that touches Pillow or the disk runs in a
thread so the crawl's event loop keeps downloading.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawler.items import FetchedImage
from crawler.pipelines.validate import ImageRejected, ValidImage, validate_image
from crawler.recording import recorder_for
from policy import Kind, Outcome, Reason
from storage import ImageStore

logger = logging.getLogger(__name__)

__all__ = ["ImagePipeline", "ImageRejected", "ValidImage", "validate_image"]


class ImagePipeline:
    """Validate an image and keep its bytes, exactly as fetched, content-addressed."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.max_pixels = crawler.settings.getint("FAIRCRAWL_IMAGE_MAX_PIXELS")
        self.image_store = ImageStore(Path(crawler.settings.get("FAIRCRAWL_STORE")))

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ImagePipeline:
        return cls(crawler)

    async def process_item(self, item: FetchedImage) -> FetchedImage:
        recorder = recorder_for(self.crawler)
        try:
            valid, relative_path = await asyncio.to_thread(self._validate_and_write, item.body)
        except ImageRejected as rejected:
            recorder.decide(Kind.IMAGE, Outcome.FAILED, item.url, [*item.reasons, rejected.reason],
                            page_url=item.page_url, final_url=item.final_url)
            self.crawler.stats.inc_value(f"faircrawl/failed/{rejected.reason.code.replace('.', '/')}")
            raise DropItem(f"{item.url}: {rejected.reason.detail}") from None
        except OSError as error:  # the image store cannot be written: say where and why
            reason = Reason("storage", "storage.write_failed", f"cannot write to the image store: {error}")
            recorder.decide(Kind.IMAGE, Outcome.FAILED, item.url, [*item.reasons, reason],
                            page_url=item.page_url, final_url=item.final_url)
            logger.error("cannot store %s: %s", item.url, error)
            raise DropItem(str(error)) from None
        stored = Reason("image", "image.stored",
                        f"{valid.format} {valid.width}x{valid.height}, {valid.byte_size} bytes, sha256 {valid.sha256[:12]}")
        decision_id = recorder.decide(Kind.IMAGE, Outcome.STORED, item.url, [*item.reasons, stored],
                                      page_url=item.page_url, final_url=item.final_url)
        recorder.image_stored(decision_id, item.url, item.page_url, valid.sha256, relative_path,
                              valid.byte_size, valid.format, valid.width, valid.height, item.content_type)
        self.crawler.stats.inc_value("faircrawl/images_stored")
        item.body = b""  # the bytes are on disk; do not hold them in memory
        return item

    def _validate_and_write(self, body: bytes) -> tuple[ValidImage, str]:
        valid = validate_image(body, self.max_pixels)
        return valid, self.image_store.put(body, valid.sha256, valid.format)
