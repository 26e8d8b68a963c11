"""Stage 1, validate: is this response a real, safe, complete image? Decoded once, off the event loop.

The bytes go through faces' one guarded loader (``faces.images.decode_image``):
empty bodies, non-images and formats outside the allow-list are refused, the
pixel count is checked from the header before any pixel is allocated
(``FAIRCRAWL_IMAGE_MAX_PIXELS``), and a truncated file is an error. No global
Pillow setting is changed. The perceptual hash is computed from the same
decode, with the function opt-outs by image use.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass

from scrapy.crawler import Crawler

from crawler.items import FetchedImage
from crawler.pipelines.stage import ImageStage
from crawler.policy_runtime import policy_for
from crawler.settings import setting
from crawler.sitefiles import origin_of_url
from faces.images import decode_image
from faces.images import perceptual_hash as decoded_image_hash
from policy import Outcome, Reason
from policy.errors import ImageError
from policy.observe import Observation, image_observation


@dataclass(frozen=True, slots=True)
class ValidImage:
    sha256: str
    format: str
    width: int
    height: int
    byte_size: int
    perceptual_hash: int  # 64-bit pHash, for opt-outs by image and near-duplicates


def validate_image(body: bytes, max_pixels: int) -> ValidImage:
    """Decoded once, by faces' guarded loader (allow-list, pixel limit from the header, truncation); hashed from it."""
    decoded = decode_image(body, max_pixels)
    return ValidImage(hashlib.sha256(body).hexdigest(), decoded.format, decoded.width, decoded.height, len(body),
                      decoded_image_hash(decoded))


class ValidatePipeline(ImageStage):
    """Decode once and read what the image says about itself (headers, XMP, C2PA), in one thread hop.

    Writes ``item.valid`` (sha256, format, size, perceptual hash) and adds the image's own signals.
    """

    name = "validate"

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.max_pixels = setting(crawler.settings, "FAIRCRAWL_IMAGE_MAX_PIXELS")

    async def process_item(self, item: FetchedImage) -> FetchedImage:
        runtime = policy_for(self.crawler)
        site = runtime.site_files.cached(origin_of_url(item.final_url))

        def validate_and_read() -> tuple[ValidImage, Observation]:
            valid = validate_image(item.body, self.max_pixels)
            return valid, image_observation(item.final_url, item.headers, item.body, runtime.token, site,
                                            item.page_facts)

        try:
            item.valid, observed = await asyncio.to_thread(validate_and_read)
        except ImageError as rejected:
            self.drop(item, Outcome.FAILED, Reason("image", rejected.code, rejected.detail))
        item.observation.add(observed)
        return item
