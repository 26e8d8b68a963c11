"""Item pipelines for fetched images, in order: validate, consent, faces, screen, store.

Every stage has the same shape: built by ``from_crawler``, it either passes
the item on or records the image's decision (failed or refused, with every
reason) and drops it. Work that touches Pillow, metadata, dlib or the disk runs
off the event loop (threads, or the face worker pool). A known image (same
sha256) is not analysed for faces twice; templates are kept by the store
stage only where the obligation is ``persist``.
"""

from __future__ import annotations

import inspect
from typing import Any

from scrapy.crawler import Crawler

from crawler.items import FetchedImage
from crawler.pipelines.consent import ConsentPipeline
from crawler.pipelines.faces import FacesPipeline
from crawler.pipelines.screen import ScreenPipeline
from crawler.pipelines.store import StorePipeline
from crawler.pipelines.validate import ImageRejected, ValidatePipeline, ValidImage, validate_image

__all__ = ["ConsentPipeline", "FacesPipeline", "ImagePipeline", "ImageRejected", "ScreenPipeline", "StorePipeline",
           "ValidImage", "ValidatePipeline", "validate_image"]

STAGES = (ValidatePipeline, ConsentPipeline, FacesPipeline, ScreenPipeline, StorePipeline)


class ImagePipeline:
    """Runs the stages in order as one Scrapy pipeline.

    Each stage is a pipeline of the same shape and could be listed in
    ITEM_PIPELINES on its own; running them here saves Scrapy's per-pipeline
    wrapping, and a stage with nothing to wait for answers synchronously.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.stages = [stage.from_crawler(crawler) for stage in STAGES]

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ImagePipeline:
        return cls(crawler)

    async def process_item(self, item: FetchedImage) -> Any:
        for stage in self.stages:
            result = stage.process_item(item)
            item = await result if inspect.isawaitable(result) else result
        return item
