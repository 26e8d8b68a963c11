"""Face encodings: 128 numbers per face, computed in memory; nothing is kept here.

face_recognition 1.3.0's ``face_encodings`` defaults to the 5-point landmark
model ("small"), although its docstring says "large"; the two give different
encodings (0.118 apart on one face), so the model is named explicitly and
recorded by callers. Encodings are computed on the full-resolution pixels with
the full-resolution boxes, wherever the face was found: dlib cuts each face out
itself (a 150 px aligned chip), so a small face keeps all its pixels and a
large one is reduced by dlib, not by our downscaled search pass.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from faces import library
from faces.detect import DEFAULT_DETECTION_MODEL, DEFAULT_MAX_FACES, DEFAULT_MAX_SIDE, DEFAULT_UPSAMPLE, Detection, locate_faces
from faces.images import DEFAULT_MAX_PIXELS, rgb_pixels

LANDMARK_MODEL = "small"  # 5-point; "large" is the 68-point model


@dataclass(frozen=True, slots=True)
class FaceAnalysis:
    """What one image holds: where the faces are and their encodings (float32, in memory only)."""

    detection: Detection
    encodings: tuple[np.ndarray, ...]

    @property
    def count(self) -> int:
        return self.detection.count


def analyse_faces(image_bytes: bytes, *, model: str = DEFAULT_DETECTION_MODEL, max_side: int = DEFAULT_MAX_SIDE,
                  upsample: int = DEFAULT_UPSAMPLE, max_faces: int = DEFAULT_MAX_FACES, encode: bool = True,
                  max_pixels: int = DEFAULT_MAX_PIXELS, search_pixels: int | None = None) -> FaceAnalysis:
    """Decode (guarded), find the faces (see faces.detect) and, if asked, encode each at full resolution."""
    library.load()  # before decoding: its import briefly changes how Pillow treats truncated files
    pixels = rgb_pixels(image_bytes, max_pixels)
    detection = locate_faces(pixels, model=model, max_side=max_side, upsample=upsample, max_faces=max_faces,
                             search_pixels=search_pixels)
    encodings: tuple[np.ndarray, ...] = ()
    if encode and detection.boxes:
        boxes = [(box.top, box.right, box.bottom, box.left) for box in detection.boxes]
        encodings = tuple(library.face_encodings(pixels, boxes, LANDMARK_MODEL))
    return FaceAnalysis(detection, encodings)


def encode_faces(image_bytes: bytes) -> list[np.ndarray]:
    """Encodings of every face found by HOG detection (a convenience for probes and tests)."""
    return list(analyse_faces(image_bytes).encodings)
