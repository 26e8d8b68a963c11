"""Face encodings: 128 numbers per face, computed in memory; nothing is kept here.

face_recognition 1.3.0's ``face_encodings`` defaults to the 5-point landmark
model ("small"), although its docstring says "large"; the two give different
encodings (0.118 apart on one face), so the model is named explicitly and
recorded by callers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from faces import library
from faces.detect import DEFAULT_MAX_FACES, DEFAULT_MAX_SIDE, DEFAULT_UPSAMPLE, Detection, FaceBox
from faces.images import DEFAULT_MAX_PIXELS, rgb_pixels, scaled_down

LANDMARK_MODEL = "small"  # 5-point; "large" is the 68-point model


@dataclass(frozen=True, slots=True)
class FaceAnalysis:
    """What one image holds: where the faces are and their encodings (float32, in memory only)."""

    detection: Detection
    encodings: tuple[np.ndarray, ...]

    @property
    def count(self) -> int:
        return self.detection.count


def analyse_faces(image_bytes: bytes, *, model: str = "hog", max_side: int = DEFAULT_MAX_SIDE,
                  upsample: int = DEFAULT_UPSAMPLE, max_faces: int = DEFAULT_MAX_FACES,
                  encode: bool = True, max_pixels: int = DEFAULT_MAX_PIXELS) -> FaceAnalysis:
    """Detect faces on a scaled-down copy and, if asked, encode them there; boxes are mapped back."""
    library.load()  # before decoding: its import briefly changes how Pillow treats truncated files
    pixels = rgb_pixels(image_bytes, max_pixels)
    small, factor = scaled_down(pixels, max_side)
    found = library.face_locations(small, upsample, model)
    capped = len(found) > max_faces
    found = found[:max_faces]
    height, width = pixels.shape[:2]
    boxes = tuple(
        FaceBox(min(height, round(top / factor)), min(width, round(right / factor)),
                min(height, round(bottom / factor)), max(0, round(left / factor)))
        for top, right, bottom, left in found
    )
    encodings: tuple[np.ndarray, ...] = ()
    if encode and found:
        encodings = tuple(library.face_encodings(small, found, LANDMARK_MODEL))
    return FaceAnalysis(Detection(boxes, width, height, capped), encodings)


def encode_faces(image_bytes: bytes) -> list[np.ndarray]:
    """Encodings of every face found by HOG detection (a convenience for probes and tests)."""
    return list(analyse_faces(image_bytes).encodings)
