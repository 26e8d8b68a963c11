"""Image validation: each bad input becomes a named reason; every real image mode passes."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageFile

from crawler.pipelines.validate import validate_image
from crawler.testsites import images
from crawler.testsites.photos import face_photo
from faces.images import decode_image
from faces.images import perceptual_hash as image_hash
from policy.errors import ImageError
from tests.conftest import run_faircrawl

LIMIT = 40_000_000


def _encoded(mode: str, fmt: str, size: tuple[int, int] = (64, 48), **save: object) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size).save(out, fmt, **save)
    return out.getvalue()


@pytest.mark.parametrize(("body", "code"), [
    (b"", "image.empty"),
    (b"<!doctype html><html><body>hi</body></html>", "image.not_an_image"),
    (b"\x00\x01garbage" * 10, "image.not_an_image"),
    (images.decompression_bomb(), "image.too_many_pixels"),
    (images.decompression_bomb(7000, 7000), "image.too_many_pixels"),  # 49 M: over our limit, under Pillow's
    (_encoded("RGB", "PCX"), "image.unsupported_format"),
], ids=["empty", "html", "garbage", "bomb-900M", "bomb-49M", "pcx"])
def test_bad_bodies_are_rejected_with_a_reason(body: bytes, code: str) -> None:
    with pytest.raises(ImageError) as rejected:
        validate_image(body, LIMIT)
    assert rejected.value.code == code
    assert rejected.value.detail


def test_importing_the_stage_changes_no_pillow_setting() -> None:
    assert Image.MAX_IMAGE_PIXELS == int(1024 * 1024 * 1024 // 4 // 3)  # Pillow's default bomb check stays on
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


@pytest.mark.parametrize("keep", [0.5, 0.9])
def test_a_truncated_jpeg_is_rejected_even_after_a_face_analysis(keep: float) -> None:
    from faces.encode import analyse_faces

    assert analyse_faces(face_photo("obama.jpg")).count == 1  # face_recognition imported, through faces/
    with pytest.raises(ImageError) as rejected:
        validate_image(images.truncated(face_photo("obama.jpg"), keep), LIMIT)
    assert rejected.value.code == "image.truncated"


@pytest.mark.parametrize(("mode", "fmt", "options"), [
    ("RGB", "JPEG", {}), ("L", "JPEG", {}), ("CMYK", "JPEG", {}), ("P", "PNG", {}), ("RGBA", "PNG", {}),
    ("LA", "PNG", {}), ("I;16", "PNG", {}), ("RGB", "WEBP", {}), ("P", "GIF", {}), ("RGB", "BMP", {}),
    ("RGB", "TIFF", {}),
])
def test_every_common_image_mode_is_accepted(mode: str, fmt: str, options: dict[str, object]) -> None:
    body = _encoded(mode, fmt, **options)
    valid = validate_image(body, LIMIT)
    assert (valid.format, valid.width, valid.height, valid.byte_size) == (fmt, 64, 48, len(body))


def test_a_real_photo_is_accepted_with_its_sha256() -> None:
    import hashlib

    photo = face_photo("biden.jpg")
    valid = validate_image(photo, LIMIT)
    assert valid.sha256 == hashlib.sha256(photo).hexdigest() and valid.format == "JPEG"


def test_the_crawl_and_optout_add_image_share_one_perceptual_hash(tmp_path: Path) -> None:
    from crawler.cli import _image_hash

    photo = face_photo("obama3.jpg")
    (tmp_path / "photo.jpg").write_bytes(photo)
    crawled = validate_image(photo, LIMIT).perceptual_hash
    opted_out = _image_hash(str(tmp_path / "photo.jpg"), LIMIT)  # what `faircrawl optout add --image` stores
    assert crawled == opted_out == image_hash(decode_image(photo))


def test_optout_add_image_refuses_a_bomb_instead_of_decoding_it(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(_encoded("1", "PNG", (7000, 7000)))  # a complete 49 M pixel PNG of 6 KB: over our limit
    process = run_faircrawl("optout", "add", "--image", str(bomb), cwd=tmp_path,
                            env={"FAIRCRAWL_SUPPRESSION_DB": f"sqlite:///{tmp_path}/s.db",
                                 "FAIRCRAWL_KEY_FILE": str(tmp_path / "k")})
    assert process.returncode == 2 and process.stderr.startswith(f"error: {bomb}:"), process.stderr
    assert "pixels" in process.stderr and "Traceback" not in process.stderr
    assert not (tmp_path / "s.db").exists(), "nothing is added when an image is refused"
