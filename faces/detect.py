"""Find faces: HOG (default) or CNN; large images searched twice so that neither big nor small faces are missed.

A large image scaled to ``max_side`` hides small faces (a 2500 x 2000 sheet of
33 px faces gave 0 at 1024 px), and searching it only at full size would cost
memory and time for faces any scale finds. So: a whole-image pass at
``max_side`` finds the big faces; full-resolution tiles, overlapping by more
than the largest face that pass can miss, find the small ones; boxes found
twice are merged. An image that fits one tile is simply searched at full size.
The search stops at the face cap, and is skipped when its tiles exceed the
work budget: either way the Detection is *incomplete*, and callers must treat
an incomplete image as showing at least one face (``shows_faces``).
Stores nothing; the caller decides what may be kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil

import numpy as np

from faces import library
from faces.geometry import FaceBox, same_face, tiles
from faces.images import DEFAULT_MAX_PIXELS, scaled_down

DEFAULT_DETECTION_MODEL = "hog"
DEFAULT_MAX_SIDE = 1024
DEFAULT_UPSAMPLE = 1
DEFAULT_MAX_FACES = 50

#: Full-resolution tiles are at most this wide and high (dlib upsamples each: ~28 MB of pixels at one upsample).
TILE_SIDE = 1536

#: The smallest face box HOG finds without upsampling, in pixels (measured on obama.jpg's face pasted on a blank
#: canvas: 48 px missed, 60 px found; with one upsample 24 missed, 28 found). It halves with each upsample.
SMALLEST_FACE = 60

#: Work budget: the most full-resolution tile pixels searched per image. HOG with one upsample costs about
#: 240 ms per megapixel on one core (faces.md §3: 193-204 ms for 820 x 1024), so 20 Mpx is about 5 s, enough
#: for camera photos up to about 16 Mpx (a 4000 x 3000 photo plans 15.5 Mpx of tiles). CNN costs about 3 s per
#: megapixel without upsampling (2.7-3.2 s at 1024 px), so 1.5 Mpx is about 5 s too.
SEARCH_PIXELS = {"hog": 20_000_000, "cnn": 1_500_000}


@dataclass(frozen=True, slots=True)
class Detection:
    """Where the faces are. ``complete`` is False when the cap was reached (``capped``: more than ``max_faces``
    faces; only the first are kept) or the work budget stopped the search: then faces may be missing, and the image
    must be treated as showing at least one face."""

    boxes: tuple[FaceBox, ...]  # full-image coordinates
    width: int
    height: int
    capped: bool
    complete: bool

    @property
    def count(self) -> int:
        """Faces found (a lower bound unless ``complete``)."""
        return len(self.boxes)

    @property
    def shows_faces(self) -> bool:
        """What a policy must assume: faces were found, or the search could not rule them out (fail closed)."""
        return bool(self.boxes) or not self.complete


def detect_faces(image_bytes: bytes, *, model: str = DEFAULT_DETECTION_MODEL, max_side: int = DEFAULT_MAX_SIDE,
                 upsample: int = DEFAULT_UPSAMPLE, max_faces: int = DEFAULT_MAX_FACES,
                 max_pixels: int = DEFAULT_MAX_PIXELS, search_pixels: int | None = None) -> Detection:
    """Where the faces are in image bytes, without encoding them (faces.encode.analyse_faces with encode=False)."""
    from faces.encode import analyse_faces  # encode builds on this module

    return analyse_faces(image_bytes, model=model, max_side=max_side, upsample=upsample, max_faces=max_faces,
                         encode=False, max_pixels=max_pixels, search_pixels=search_pixels).detection


def locate_faces(pixels: np.ndarray, *, model: str = DEFAULT_DETECTION_MODEL, max_side: int = DEFAULT_MAX_SIDE,
                 upsample: int = DEFAULT_UPSAMPLE, max_faces: int = DEFAULT_MAX_FACES,
                 search_pixels: int | None = None) -> Detection:
    """Search an 8-bit RGB array: one pass if it fits ``max_side`` or one tile, else a scaled pass plus tiles."""
    height, width = pixels.shape[:2]
    if max(width, height) <= max(max_side, TILE_SIDE):
        return _result(_find(pixels, upsample, model), width, height, max_faces, searched_all=True)
    small, factor = scaled_down(pixels, max_side)
    found = [_scaled_back(box, factor, width, height) for box in _find(small, upsample, model)]
    if len(found) > max_faces:
        return _result(found, width, height, max_faces, searched_all=False)
    # Faces smaller than this (full-resolution px) may be missed by the scaled pass; tiles overlap by twice that.
    missed = SMALLEST_FACE / 2 ** upsample / factor
    overlap = ceil(2 * missed)
    plan = tiles(width, height, max(TILE_SIDE, 3 * overlap), overlap)
    budget = SEARCH_PIXELS.get(model, min(SEARCH_PIXELS.values())) if search_pixels is None else search_pixels
    if sum((right - left) * (bottom - top) for left, top, right, bottom in plan) > budget:
        return _result(found, width, height, max_faces, searched_all=False)
    for left, top, right, bottom in plan:
        tile = np.ascontiguousarray(pixels[top:bottom, left:right])
        for box in _find(tile, upsample, model):
            moved = FaceBox(box.top + top, box.right + left, box.bottom + top, box.left + left)
            if not any(same_face(moved, known) for known in found):
                found.append(moved)
        if len(found) > max_faces:
            return _result(found, width, height, max_faces, searched_all=False)
    return _result(found, width, height, max_faces, searched_all=True)


def _find(pixels: np.ndarray, upsample: int, model: str) -> list[FaceBox]:
    return [FaceBox(top, right, bottom, left) for top, right, bottom, left in
            library.face_locations(pixels, upsample, model)]


def _scaled_back(box: FaceBox, factor: float, width: int, height: int) -> FaceBox:
    return FaceBox(max(0, round(box.top / factor)), min(width, round(box.right / factor)),
                   min(height, round(box.bottom / factor)), max(0, round(box.left / factor)))


def _result(found: list[FaceBox], width: int, height: int, max_faces: int, searched_all: bool) -> Detection:
    capped = len(found) > max_faces
    return Detection(tuple(found[:max_faces]), width, height, capped, complete=searched_all and not capped)
