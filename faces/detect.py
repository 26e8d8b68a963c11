"""Find faces: HOG (default) or CNN detection on a scaled-down copy, boxes mapped back.

Stores nothing; the caller decides what may be kept. ``face_recognition`` is
imported on first use because importing it loads four models (about 150 MB).
"""

from __future__ import annotations

from dataclasses import dataclass

from faces.images import DEFAULT_MAX_PIXELS

DEFAULT_DETECTION_MODEL = "hog"
DEFAULT_MAX_SIDE = 1024
DEFAULT_UPSAMPLE = 1
DEFAULT_MAX_FACES = 50


@dataclass(frozen=True, slots=True)
class FaceBox:
    top: int
    right: int
    bottom: int
    left: int


@dataclass(frozen=True, slots=True)
class Detection:
    boxes: tuple[FaceBox, ...]
    width: int
    height: int
    capped: bool  # more faces than max_faces were found; only the first are kept

    @property
    def count(self) -> int:
        return len(self.boxes)


def detect_faces(image_bytes: bytes, *, model: str = DEFAULT_DETECTION_MODEL, max_side: int = DEFAULT_MAX_SIDE,
                 upsample: int = DEFAULT_UPSAMPLE, max_faces: int = DEFAULT_MAX_FACES,
                 max_pixels: int = DEFAULT_MAX_PIXELS) -> Detection:
    """Where the faces are, without encoding them; the image is decoded by the guarded loader."""
    from faces.encode import analyse_faces

    return analyse_faces(image_bytes, model=model, max_side=max_side, upsample=upsample, max_faces=max_faces,
                         encode=False, max_pixels=max_pixels).detection
