"""Find faces: HOG (default) or CNN detection on a scaled-down copy, boxes mapped back.

Stores nothing; the caller decides what may be kept. ``face_recognition`` is
imported on first use because importing it loads four models (about 150 MB).
"""

from __future__ import annotations

from dataclasses import dataclass

from faces.images import rgb_pixels, scaled_down

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
                 upsample: int = DEFAULT_UPSAMPLE, max_faces: int = DEFAULT_MAX_FACES) -> Detection:
    import face_recognition

    pixels = rgb_pixels(image_bytes)
    small, factor = scaled_down(pixels, max_side)
    found = face_recognition.face_locations(small, number_of_times_to_upsample=upsample, model=model)
    height, width = pixels.shape[:2]
    boxes = tuple(
        FaceBox(min(height, round(top / factor)), min(width, round(right / factor)),
                min(height, round(bottom / factor)), max(0, round(left / factor)))
        for top, right, bottom, left in found
    )
    return Detection(boxes[:max_faces], width, height, len(boxes) > max_faces)
