"""Item pipelines for fetched images, in order: validate, consent, faces, store.

Every stage has the same shape: built by ``from_crawler``, it either passes
the item on or records the image's decision (failed or refused, with every
reason) and drops it. Work that touches Pillow, metadata, dlib or the disk runs
off the event loop (threads, or the face worker pool). Dedupe and opt-out
screening slot in between consent and store.
"""

from crawler.pipelines.consent import ConsentPipeline
from crawler.pipelines.faces import FacesPipeline
from crawler.pipelines.store import StorePipeline
from crawler.pipelines.validate import ImageRejected, ValidatePipeline, ValidImage, validate_image

__all__ = ["ConsentPipeline", "FacesPipeline", "ImageRejected", "StorePipeline", "ValidImage", "ValidatePipeline",
           "validate_image"]
