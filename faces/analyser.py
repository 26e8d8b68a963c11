"""What the crawl asks of a face back end, and how a back end says it could not answer.

Two back ends share this shape: the in-process worker pool (faces.pool) and
Celery workers on a queue (faces.queue, imported only when a broker is
configured, so a crawl without one never loads Celery).
"""

from __future__ import annotations

from typing import Protocol

from faces.encode import FaceAnalysis


class FaceAnalyser(Protocol):
    def warm_up(self) -> None:
        """Start what must run before the first image (the pool's workers); may do nothing."""

    async def analyse(self, image_bytes: bytes, encode: bool = True) -> FaceAnalysis:
        """Faces found, and their encodings when ``encode`` (held in memory by the caller, never written)."""

    def close(self) -> None:
        """Stop the workers this back end started, if any."""


class FacesUnavailable(Exception):
    """The back end could not analyse the image (``code``: faces.queue_unreachable | faces.queue_timeout |
    faces.queue_unreadable): no search ran, so the caller must treat the image as showing faces."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


class FaceTaskFailed(Exception):
    """A worker ran the analysis and it failed (the image, not the queue), named by the worker's exception type."""
