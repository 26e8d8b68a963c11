"""face_recognition is importable after set-up (no dlib build) and encodes real faces."""

from __future__ import annotations

import numpy as np

from crawler.testsites.photos import face_photo
from faces import encode_faces


def test_dlib_comes_from_the_prebuilt_wheel() -> None:
    from importlib.metadata import distribution

    import dlib

    assert distribution("dlib-bin").version.startswith(dlib.__version__.split(".")[0])


def test_a_packaged_photo_yields_one_128_d_encoding() -> None:
    encodings = encode_faces(face_photo("obama.jpg"))
    assert len(encodings) == 1
    assert encodings[0].shape == (128,)


def test_same_person_is_close_and_different_people_are_far() -> None:
    obama, obama2, biden = (encode_faces(face_photo(n))[0] for n in ("obama.jpg", "obama2.jpg", "biden.jpg"))
    assert np.linalg.norm(obama - obama2) < 0.5
    assert np.linalg.norm(obama - biden) > 0.6
