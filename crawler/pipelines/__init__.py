"""Item pipelines for fetched images, in order: validate, consent, faces, screen, store.

Every stage has the same shape: built by ``from_crawler``, it either passes
the item on or records the image's decision (failed or refused, with every
reason) and drops it. Work that touches Pillow, metadata, dlib or the disk runs
off the event loop (threads, or the face worker pool). A known image (same
sha256) is not analysed for faces twice; templates are kept by the store
stage only where the obligation is ``persist``.
"""

from crawler.pipelines.consent import ConsentPipeline
from crawler.pipelines.faces import FacesPipeline
from crawler.pipelines.screen import ScreenPipeline
from crawler.pipelines.store import StorePipeline
from crawler.pipelines.validate import ImageRejected, ValidatePipeline, ValidImage, validate_image

__all__ = ["ConsentPipeline", "FacesPipeline", "ImageRejected", "ScreenPipeline", "StorePipeline", "ValidImage",
           "ValidatePipeline", "validate_image"]
