"""Large images are searched where small faces can be found: a downscaled pass plus full-resolution tiles."""

from __future__ import annotations

import time

import numpy as np
import pytest

from crawler.testsites.images import landscape
from crawler.testsites.photos import face_photo
from faces.detect import DEFAULT_MAX_FACES, detect_faces
from faces.encode import analyse_faces
from faces.geometry import FaceBox, same_face, spans, tiles


def test_a_contact_sheet_of_500_small_faces_is_capped_and_incomplete(contact_sheet: bytes) -> None:
    started = time.perf_counter()
    detection = detect_faces(contact_sheet)
    seconds = time.perf_counter() - started
    # Before: scaled to 1024 px, the 33 px faces became 13 px; 0 faces, and the image counted as face-free.
    assert detection.capped and not detection.complete
    assert detection.count == DEFAULT_MAX_FACES
    assert detection.shows_faces
    assert len({(box.top // 100, box.left // 100) for box in detection.boxes}) == DEFAULT_MAX_FACES  # 50 cells
    assert seconds < 10  # the search stops at the cap; measured about 1.5 s on one core


def test_one_small_face_on_a_large_canvas_is_found_mapped_back_and_encoded(
        one_small_face: tuple[bytes, tuple[int, int]]) -> None:
    body, (left, top) = one_small_face
    analysis = analyse_faces(body)
    assert analysis.count == 1 and analysis.detection.complete  # before: 0 (25 px at 1024)
    assert same_face(analysis.detection.boxes[0], FaceBox(top, left + 60, top + 60, left))
    reference = analyse_faces(face_photo("obama.jpg")).encodings[0]
    # encoded from the full-resolution pixels, where the face was found: still the same person
    assert float(np.linalg.norm(analysis.encodings[0] - reference)) < 0.6


def test_a_normal_photo_still_gives_one_face_with_its_full_resolution_box(
        obama_face_box: tuple[int, int, int, int]) -> None:
    detection = detect_faces(face_photo("obama.jpg"))  # 910 x 1137: one full-resolution pass
    assert detection.count == 1 and detection.complete and not detection.capped
    box = detection.boxes[0]
    left, top, right, bottom = obama_face_box
    assert max(abs(box.left - left), abs(box.top - top), abs(box.right - right), abs(box.bottom - bottom)) <= 12


def test_an_image_too_large_for_the_work_budget_is_incomplete_and_counts_as_showing_faces() -> None:
    stopped = detect_faces(landscape(2, size=(2500, 2000)), search_pixels=1_000_000)  # its tiles: 5.7 Mpx
    assert stopped.count == 0 and not stopped.complete and not stopped.capped and stopped.shows_faces
    searched = detect_faces(landscape(2))
    assert searched.complete and searched.count == 0 and not searched.shows_faces


# -- geometry --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("length", "tile", "overlap"), [(2500, 1536, 146), (2000, 1536, 146), (1537, 1536, 300),
                                                         (40_000, 1536, 500), (1000, 1536, 100), (4000, 1000, 998)])
def test_spans_cover_the_length_within_the_tile_size_and_share_the_overlap(length: int, tile: int,
                                                                           overlap: int) -> None:
    found = spans(length, tile, overlap)
    assert found[0][0] == 0 and found[-1][1] == length
    assert all(0 < end - start <= tile for start, end in found)
    assert all(previous[1] - following[0] >= overlap for previous, following in zip(found, found[1:], strict=False))
    if length > tile:
        # any stretch no longer than the overlap lies wholly inside one span
        for start in range(0, length - overlap, 7):
            assert any(low <= start and start + overlap <= high for low, high in found)


def test_an_overlap_as_large_as_the_tile_is_refused() -> None:
    with pytest.raises(ValueError):
        spans(4000, 1000, 999)


def test_tiles_are_the_product_of_the_spans() -> None:
    found = tiles(2500, 2000, 1536, 146)
    assert len(found) == 4 and found[0] == (0, 0, found[0][2], found[0][3])
    assert max(right for _, _, right, _ in found) == 2500 and max(bottom for *_, bottom in found) == 2000


def test_boxes_of_the_same_face_are_merged_and_neighbours_are_not() -> None:
    face = FaceBox(100, 200, 200, 100)
    assert same_face(face, FaceBox(105, 210, 210, 105))  # the same face at another scale
    assert same_face(face, FaceBox(120, 180, 180, 120))  # a partial box inside it
    assert not same_face(face, FaceBox(100, 300, 200, 200))  # the neighbour in a contact sheet
