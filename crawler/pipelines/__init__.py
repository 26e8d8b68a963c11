"""Item pipelines for fetched images, in order: validate, consent, faces, screen, store.

Every stage has the same shape: built by ``from_crawler``, it reads and writes
typed fields of the item (``crawler.items.FetchedImage``) and either passes it
on or records the image's decision (failed or refused, with every reason) and
drops it. Work that touches Pillow, metadata or dlib runs in worker processes
(the image worker, crawler.imagework, and the face pool); the suppression
list's revision is asked in a thread. A stage that fails in a way nobody
planned for still ends the image in exactly one decision: ``failed``, reason
``internal.error``, naming the stage and the exception type.
"""

from __future__ import annotations

import inspect
import logging
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawler.gates.room import room_for
from crawler.items import FetchedImage
from crawler.logformatter import safe_exception_text
from crawler.pipelines.consent import ConsentPipeline
from crawler.pipelines.faces import FacesPipeline
from crawler.pipelines.screen import ScreenPipeline
from crawler.pipelines.stage import ImageStage
from crawler.pipelines.store import StorePipeline
from crawler.pipelines.validate import ValidatePipeline, ValidImage, validate_image
from policy import Outcome, Reason

__all__ = ["ConsentPipeline", "FacesPipeline", "ImagePipeline", "ScreenPipeline", "StorePipeline",
           "ValidImage", "ValidatePipeline", "validate_image"]

logger = logging.getLogger(__name__)


class ImagePipeline:
    """Runs the stages in order as one Scrapy pipeline.

    Each stage is a pipeline of the same shape and could be listed in
    ITEM_PIPELINES on its own; running them here saves Scrapy's per-pipeline
    wrapping, lets a stage with nothing to wait for answer synchronously, and
    gives one place where an unexpected error becomes a decision.
    """

    STAGES: tuple[type[ImageStage], ...] = (ValidatePipeline, ConsentPipeline, FacesPipeline, ScreenPipeline,
                                            StorePipeline)

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.stages = [stage.from_crawler(crawler) for stage in self.STAGES]
        self.room = room_for(crawler)  # counts the images inside, for crawler.gates.room

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ImagePipeline:
        return cls(crawler)

    async def process_item(self, item: FetchedImage) -> Any:
        self.room.enter()
        try:
            for stage in self.stages:
                try:
                    result = stage.process_item(item)
                    item = await result if inspect.isawaitable(result) else result
                except DropItem:
                    raise
                except Exception as error:  # noqa: BLE001 - whatever happened, the image gets its one decision
                    self._failed_inside(stage, item, error)
                    raise DropItem(f"{item.url}: internal error in the {stage.name} stage") from None
            return item
        finally:
            self.room.leave()

    def _failed_inside(self, stage: ImageStage, item: FetchedImage, error: Exception) -> None:
        """Record ``internal.error`` (stage and exception type only: no item content) and count it."""
        self.crawler.stats.inc_value(f"faircrawl/internal_error/{stage.name}")
        logger.error("internal error in the %s stage for %s: %s", stage.name, item.url, safe_exception_text(error))
        item.forget_encodings()
        if item.decision_id is not None:
            return  # decided before the error: the decision stands
        reason = Reason("faircrawl", "internal.error",
                        f"unexpected {type(error).__name__} in the {stage.name} stage: the image was not kept",
                        {"stage": stage.name, "exception": type(error).__name__})
        try:
            stage.record(item, Outcome.FAILED, reason)
        except Exception as again:  # noqa: BLE001 - the recorder itself is broken: say so, without content
            logger.error("could not record the failure of %s: %s", item.url, safe_exception_text(again))
