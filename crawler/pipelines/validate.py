"""Stage 1, validate: is this response a real, safe, complete image? Decoded once, in a worker process.

The bytes go through faces' one guarded loader (``faces.images.decode_image``):
empty bodies, non-images and formats outside the allow-list are refused, the
pixel count is checked from the header before any pixel is allocated
(``FAIRCRAWL_IMAGE_MAX_PIXELS``), and a truncated file is an error. No global
Pillow setting is changed. The perceptual hash is computed from the same
decode, with the function opt-outs by image use. Decoding, hashing and the
XMP and C2PA readers run in a worker process, in batches
(:mod:`crawler.imagework`); the response's headers and what the
page and site say are read here, from the same code as ever
(:func:`policy.observe.image_observation`).
"""

from __future__ import annotations

from scrapy import signals
from scrapy.crawler import Crawler

from crawler.imagework import ImageWorkPool, ValidImage, validate_image
from crawler.items import FetchedImage
from crawler.pipelines.stage import ImageStage
from crawler.policy_runtime import policy_for
from crawler.settings import setting
from crawler.sitefiles import origin_of_url
from policy import Outcome, Reason
from policy.observe import image_observation

__all__ = ["ValidImage", "ValidatePipeline", "validate_image"]


class ValidatePipeline(ImageStage):
    """Decode once and read what the image says about itself (headers, XMP, C2PA), in one hand-off to a worker.

    Writes ``item.valid`` (sha256, format, size, perceptual hash) and adds the image's own signals.
    """

    name = "validate"

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.max_pixels = setting(crawler.settings, "FAIRCRAWL_IMAGE_MAX_PIXELS")
        self.pool = ImageWorkPool(self.max_pixels)
        crawler.signals.connect(self._opened, signal=signals.spider_opened)
        crawler.signals.connect(self._closed, signal=signals.spider_closed)

    def _opened(self, spider: object) -> None:
        self.pool.warm_up()

    def _closed(self, spider: object) -> None:
        self.pool.close()

    async def process_item(self, item: FetchedImage) -> FetchedImage:
        runtime = policy_for(self.crawler)
        site = runtime.site_files.cached(origin_of_url(item.final_url))
        result = await self.pool.read(item.body)
        if result.error is not None:
            raise result.error
        if result.refused is not None:
            self.drop(item, Outcome.FAILED, Reason("image", *result.refused))
        item.valid = result.valid
        item.observation.add(image_observation(item.final_url, item.headers, item.body, runtime.token, site,
                                               item.page_facts, file_facts=result.file_facts))
        return item
