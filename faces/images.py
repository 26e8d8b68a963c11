"""Turn image bytes into the pixel array dlib needs: upright, 8-bit RGB, C-contiguous.

Each conversion here fixes a way face detection silently fails (faces.md §4):
EXIF-rotated phone photos are sideways until transposed, 16-bit greyscale
clips to white under a plain convert, animated images use their first frame,
and non-contiguous arrays make dlib find nothing.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageOps


def rgb_pixels(image_bytes: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(image_bytes)) as picture:
        picture.seek(0)  # first frame of an animation
        upright = ImageOps.exif_transpose(picture) or picture
        if upright.mode.startswith("I;16") or upright.mode in ("I", "F"):
            wide = np.asarray(upright, dtype=np.float64)
            top = wide.max() or 1.0
            upright = Image.fromarray((wide * (255.0 / top)).clip(0, 255).astype(np.uint8))
        elif upright.mode in ("RGBA", "LA", "PA") or (upright.mode == "P" and "transparency" in upright.info):
            background = Image.new("RGBA", upright.size, (255, 255, 255, 255))
            background.alpha_composite(upright.convert("RGBA"))
            upright = background
        return np.ascontiguousarray(np.asarray(upright.convert("RGB")), dtype=np.uint8)


def scaled_down(pixels: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """Shrink so the longer side is at most ``max_side``; returns the array and the factor used."""
    height, width = pixels.shape[:2]
    longest = max(height, width)
    if longest <= max_side:
        return pixels, 1.0
    factor = max_side / longest
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    smaller = Image.fromarray(pixels).resize(size, Image.Resampling.LANCZOS)
    return np.ascontiguousarray(np.asarray(smaller), dtype=np.uint8), factor
