"""Compute 128-d face encodings of an image held in memory."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageOps

#: face_recognition 1.3.0's encoder defaults to the 5-point landmark model
#: ("small"), although its docstring says "large"; we name it explicitly.
LANDMARK_MODEL = "small"


def encode_faces(image_bytes: bytes) -> list[np.ndarray]:
    """Encodings of every face found by HOG detection; nothing is kept."""
    import face_recognition  # heavy (loads four models): imported on first use

    with Image.open(io.BytesIO(image_bytes)) as picture:
        upright = ImageOps.exif_transpose(picture)
        pixels = np.ascontiguousarray(np.asarray(upright.convert("RGB")), dtype=np.uint8)
    boxes = face_recognition.face_locations(pixels, model="hog")
    return list(face_recognition.face_encodings(pixels, boxes, model=LANDMARK_MODEL))
