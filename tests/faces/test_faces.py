"""The face-template module on real photos: matching across variants, every image mode, many and tiny faces."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageEnhance, ImageOps

from crawler.testsites.images import landscape
from crawler.testsites.photos import face_photo
from faces.compare import DEFAULT_MATCH_THRESHOLD, best_match, distances
from faces.encode import analyse_faces


def _jpeg(picture: Image.Image, quality: int = 90) -> bytes:
    out = io.BytesIO()
    picture.convert("RGB").save(out, "JPEG", quality=quality)
    return out.getvalue()


def _save(picture: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    picture.save(out, fmt, **options)
    return out.getvalue()


@pytest.fixture(scope="module")
def obama() -> Image.Image:
    return Image.open(io.BytesIO(face_photo("obama.jpg"))).convert("RGB")


@pytest.fixture(scope="module")
def reference(obama: Image.Image) -> np.ndarray:
    return analyse_faces(_jpeg(obama)).encodings[0]


def _one_encoding(image_bytes: bytes) -> np.ndarray:
    analysis = analyse_faces(image_bytes)
    assert analysis.count == 1, analysis.detection
    return analysis.encodings[0]


VARIANTS = {
    "crop": lambda im: im.crop((200, 50, im.width - 150, im.height - 350)),
    "half-scale": lambda im: im.resize((im.width // 2, im.height // 2)),
    "jpeg-quality-20": lambda im: Image.open(io.BytesIO(_jpeg(im, 20))),
    "brighter": lambda im: ImageEnhance.Brightness(im).enhance(1.4),
    "darker": lambda im: ImageEnhance.Brightness(im).enhance(0.6),
    "mirror": ImageOps.mirror,
}


@pytest.mark.parametrize("variant", VARIANTS)
def test_a_variant_of_a_photo_is_the_same_person(obama: Image.Image, reference: np.ndarray, variant: str) -> None:
    encoding = _one_encoding(_jpeg(VARIANTS[variant](obama)))
    assert float(np.linalg.norm(encoding - reference)) < 0.5


@pytest.mark.parametrize("other", ["obama2.jpg", "obama3.jpg"])
def test_a_different_photo_of_the_same_person_matches(reference: np.ndarray, other: str) -> None:
    encoding = _one_encoding(face_photo(other))
    assert float(np.linalg.norm(encoding - reference)) < 0.5
    assert best_match(reference[None, :], encoding) is not None


def test_different_people_do_not_match(reference: np.ndarray) -> None:
    biden = _one_encoding(face_photo("biden.jpg"))
    assert float(distances(reference[None, :], biden)[0]) > 0.6
    assert best_match(reference[None, :], biden, DEFAULT_MATCH_THRESHOLD) is None


def _exif_rotated(picture: Image.Image) -> bytes:
    """Pixels stored sideways with EXIF Orientation 6, as phones do: upright only once transposed."""
    sideways = picture.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    return _save(sideways, "JPEG", exif=exif.tobytes())


def _animated(picture: Image.Image) -> bytes:
    small = picture.resize((picture.width // 2, picture.height // 2)).convert("P")
    blank = Image.new("P", small.size)
    return _save(small, "GIF", save_all=True, append_images=[blank], duration=100)


def _sixteen_bit(picture: Image.Image) -> bytes:
    grey = (np.asarray(picture.convert("L"), dtype=np.uint16) * 257).astype("<u2")
    wide = Image.frombytes("I;16", picture.size, grey.tobytes())
    saved = _save(wide, "PNG")
    assert Image.open(io.BytesIO(saved)).mode.startswith("I")  # really 16-bit on disk
    return saved


MODES = {
    "rgb-jpeg": lambda im: _jpeg(im),
    "greyscale": lambda im: _save(im.convert("L"), "PNG"),
    "cmyk-jpeg": lambda im: _save(im.convert("CMYK"), "JPEG"),
    "palette-png": lambda im: _save(im.convert("P"), "PNG"),
    "rgba-png": lambda im: _save(im.convert("RGBA"), "PNG"),
    "la-png": lambda im: _save(im.convert("LA"), "PNG"),
    "16-bit-grey": _sixteen_bit,
    "webp": lambda im: _save(im, "WEBP"),
    "animated-gif": _animated,
    "exif-rotated": _exif_rotated,
}


@pytest.mark.parametrize("mode", MODES)
def test_every_image_mode_gives_one_face(obama: Image.Image, reference: np.ndarray, mode: str) -> None:
    analysis = analyse_faces(MODES[mode](obama))
    assert analysis.count == 1
    assert float(np.linalg.norm(analysis.encodings[0] - reference)) < 0.5


def test_a_picture_without_a_face_has_none() -> None:
    assert analyse_faces(landscape(1)).count == 0


def _group() -> bytes:
    tiles = [Image.open(io.BytesIO(face_photo(n))).convert("RGB") for n in ("obama.jpg", "biden.jpg", "obama2.jpg")]
    tiles = [t.resize((400, int(400 * t.height / t.width))) for t in tiles]
    height = max(t.height for t in tiles)
    canvas = Image.new("RGB", (400 * len(tiles), height), "white")
    for index, tile in enumerate(tiles):
        canvas.paste(tile, (400 * index, 0))
    return _jpeg(canvas)


def test_several_faces_are_all_found_and_the_cap_is_recorded() -> None:
    group = _group()
    assert analyse_faces(group).count == 3
    capped = analyse_faces(group, max_faces=2)
    assert capped.count == 2 and capped.detection.capped and len(capped.encodings) == 2


def test_a_small_face_is_found(obama: Image.Image) -> None:
    small = obama.resize((180, int(180 * obama.height / obama.width)))
    assert analyse_faces(_jpeg(small)).count == 1


def test_a_large_image_is_scaled_down_and_boxes_are_mapped_back() -> None:
    photo = face_photo("obama3.jpg")  # 1434 x 2333
    full = analyse_faces(photo, max_side=4000, encode=False)
    scaled = analyse_faces(photo, max_side=600, encode=False)
    assert scaled.count == full.count == 1  # found by the scaled pass and by the tiles: merged
    assert scaled.detection.complete and full.detection.complete
    big, small = full.detection.boxes[0], scaled.detection.boxes[0]
    assert abs(big.left - small.left) < 40 and abs(big.top - small.top) < 40
    assert scaled.detection.width == 1434 and scaled.detection.height == 2333
