"""faces.library loads face_recognition without its 68-point model, and finds and encodes faces exactly as before."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from faces import library
from tests.conftest import PROJECT_ROOT

#: Run in a fresh process (face_recognition is imported once per process): boxes and a digest of the encodings
#: of packaged photos, through a plain ``import face_recognition`` or through faces.library. Only digests leave it.
_FACES_OF = """
import hashlib, io, json, sys
import numpy as np
from PIL import Image
from crawler.testsites.photos import face_photo
if sys.argv[1] == "plain":
    import face_recognition as module
else:
    from faces import library
    module = library.load()
found = {}
for name in ("obama.jpg", "biden.jpg", "obama2.jpg"):
    pixels = np.ascontiguousarray(Image.open(io.BytesIO(face_photo(name))).convert("RGB"))
    boxes = module.face_locations(pixels, number_of_times_to_upsample=1, model="hog")
    encodings = module.face_encodings(pixels, boxes, model="small")
    found[name] = [list(boxes), hashlib.sha256(np.asarray(encodings, dtype="<f8").tobytes()).hexdigest()]
print(json.dumps(found))
"""


def _faces_of(mode: str) -> dict[str, list[object]]:
    process = subprocess.run([sys.executable, "-c", _FACES_OF, mode], cwd=PROJECT_ROOT, capture_output=True,
                             text=True, timeout=300)
    assert process.returncode == 0, process.stderr
    found: dict[str, list[object]] = json.loads(process.stdout)
    return found


def test_boxes_and_encodings_are_those_of_a_plain_import() -> None:
    plain, ours = _faces_of("plain"), _faces_of("library")
    assert all(boxes for boxes, _ in plain.values()), "every photo has a face"
    assert ours == plain


def test_the_68_point_model_is_not_loaded_and_cannot_be_asked_for() -> None:
    module = library.load()
    assert module.api.pose_predictor_68_point is None
    assert module.api.pose_predictor_5_point is not None
    with pytest.raises(ValueError, match="5-point"):
        library.face_encodings(np.zeros((8, 8, 3), dtype=np.uint8), [(0, 8, 8, 0)], "large")
