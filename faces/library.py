"""The one door to face_recognition: imported here only, its process-wide side effect undone, its calls typed.

Importing face_recognition sets ``PIL.ImageFile.LOAD_TRUNCATED_IMAGES = True``
for the whole process (faces.md §4), so a truncated JPEG would decode silently
with its missing part grey. ``load`` puts the previous value back right after
the import, in the crawl, the CLI and every worker alike; faces.images refuses
to decode at all in a process where the flag is still True. The import is
lazy because it loads its models (a second).

It also loads, at import, the 68-point landmark model (about 70 MiB resident
in every process that imports it), which faircrawl never uses: encodings are
computed on the 5-point landmarks (faces.encode.LANDMARK_MODEL "small"). The
import here binds that name to the 5-point model instead, and then to None, so
each face worker holds about half the memory, and anything that would call the
68-point model fails loudly rather than getting other landmarks. Boxes and
encodings are unchanged (tests/faces/test_library.py compares them with a
plain import in another process).
"""

from __future__ import annotations

import importlib
import threading
from types import ModuleType

import numpy as np
from PIL import ImageFile

_IMPORT_LOCK = threading.Lock()
_68_POINT_LOCATION = "pose_predictor_model_location"  # face_recognition_models' path of the 68-point model

Css = tuple[int, int, int, int]  # top, right, bottom, left: face_recognition's box order


def load() -> ModuleType:
    """face_recognition, imported once, without its 68-point model; ``LOAD_TRUNCATED_IMAGES`` is as it was before."""
    with _IMPORT_LOCK:
        previous = ImageFile.LOAD_TRUNCATED_IMAGES
        models = importlib.import_module("face_recognition_models")
        sixty_eight_points = getattr(models, _68_POINT_LOCATION)
        setattr(models, _68_POINT_LOCATION, models.pose_predictor_five_point_model_location)  # small, and unused
        try:
            module = importlib.import_module("face_recognition")
            module.api.pose_predictor_68_point = None
            return module
        finally:
            setattr(models, _68_POINT_LOCATION, sixty_eight_points)
            ImageFile.LOAD_TRUNCATED_IMAGES = previous


def face_locations(pixels: np.ndarray, upsample: int, model: str) -> list[Css]:
    """Boxes of the faces in an 8-bit RGB, C-contiguous array, clipped to it."""
    found = load().face_locations(pixels, number_of_times_to_upsample=upsample, model=model)
    return [(int(top), int(right), int(bottom), int(left)) for top, right, bottom, left in found]


def face_encodings(pixels: np.ndarray, boxes: list[Css], landmark_model: str) -> list[np.ndarray]:
    """One 128-d float32 encoding per box, computed in memory (5-point landmarks: the only model loaded)."""
    if landmark_model != "small":
        raise ValueError(f"landmark model {landmark_model!r}: only the 5-point model ('small') is loaded")
    found = load().face_encodings(pixels, boxes, model=landmark_model)
    return [np.asarray(encoding, dtype=np.float32) for encoding in found]
