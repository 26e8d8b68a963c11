"""Stage 1, validate: is this response a real, safe, complete image? Decoded once, off the event loop.

Checks, in this order (the order matters: ``Image.open`` reads only the header):
empty body, identifiable image, supported format, pixel count from the header
(a decompression bomb is refused before any pixel is allocated), then a full
decode that catches truncation. Pillow's own bomb check is replaced by ours
(``FAIRCRAWL_IMAGE_MAX_PIXELS``), and truncated files are errors even if
face_recognition has set ``LOAD_TRUNCATED_IMAGES`` for the process.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass

from PIL import Image
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

SUPPORTED_FORMATS = frozenset({"JPEG", "PNG", "GIF", "WEBP", "BMP", "TIFF"})


@dataclass(frozen=True, slots=True)
class ValidImage:
    sha256: str
    format: str
    width: int
    height: int
    byte_size: int
    perceptual_hash: int  # 64-bit pHash, for opt-outs by image and near-duplicates


ImageRejected = ImageError  # the body is not an image faircrawl will keep


def validate_image(body: bytes, max_pixels: int) -> ValidImage:
    """Decoded once, by faces' guarded loader (allow-list, pixel limit from the header, truncation); hashed from it."""
    decoded = decode_image(body, max_pixels)
    return ValidImage(hashlib.sha256(body).hexdigest(), decoded.format, decoded.width, decoded.height, len(body),
                      decoded_image_hash(decoded))


def perceptual_hash(picture: Image.Image) -> int:
    """The pHash of an image opened from a file (``optout add --image``), decoded by faces' guarded loader.

    The file is read again from its start and decoded there, never by Pillow
    directly, so a bomb is refused from its header. New callers should use
    ``faces.images.perceptual_hash(decode_image(body))``.
    """
    source = getattr(picture, "fp", None)
    if source is None:
        raise ValueError("perceptual_hash needs an image opened from a file and not yet loaded")
    source.seek(0)
    return decoded_image_hash(decode_image(source.read()))


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
        except ImageRejected as rejected:
            self.drop(item, Outcome.FAILED, Reason("image", rejected.code, rejected.detail))
        item.observation.add(observed)
        return item
