"""The one guarded image loader: bombs refused from the header, truncation an error, nothing global changed, pHash."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import warnings
from pathlib import Path

import imagehash
import numpy as np
import pytest
from PIL import Image, ImageFile, ImageOps

from crawler.testsites.images import landscape, truncated
from crawler.testsites.photos import PACKAGED_FACE_PHOTOS, face_photo
from faces.encode import analyse_faces
from faces.images import DEFAULT_MAX_PIXELS, SUPPORTED_FORMATS, DecodedImage, decode_image, perceptual_hash, rgb_array
from policy.errors import ImageError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PILLOW_MAX_IMAGE_PIXELS = int(1024 * 1024 * 1024 // 4 // 3)  # Pillow's default; nobody may change it

# Runs in a fresh process (its peak RSS is ours to measure), under an address-space limit so that a
# regression fails the test instead of the machine: the 65000 x 65000 JPEG once took 23.7 GB.
BOMB_SCRIPT = """
import json, resource, sys, time
from pathlib import Path
resource.setrlimit(resource.RLIMIT_AS, (6 << 30, 6 << 30))
from crawler.pipelines.validate import validate_image
from faces.encode import analyse_faces
from faces.images import decode_image, rgb_pixels
from policy.errors import ImageError, ProbeError
from storage.suppression import probe_templates
from crawler.testsites.images import landscape
analyse_faces(landscape(1))  # models loaded, allocator warm
entries = {
    "decode_image": decode_image,
    "rgb_pixels": rgb_pixels,
    "validate_image": lambda body: validate_image(body, 40_000_000),
    "analyse_faces": analyse_faces,
    "probe_templates": lambda body: probe_templates([("probe.jpg", body)]),
}
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
results = {}
for path in sys.argv[1:]:
    body = Path(path).read_bytes()
    for entry, call in entries.items():
        started = time.perf_counter()
        try:
            call(body)
            outcome = "decoded"
        except ImageError as error:
            outcome = error.code
        except ProbeError as error:  # a probe photo that is not a usable image names the image's reason
            outcome = error.__cause__.code
        results[Path(path).stem + "/" + entry] = [outcome, time.perf_counter() - started]
growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(json.dumps({"results": results, "rss_growth_mb": growth / 1024}))
"""


@pytest.fixture(scope="module")
def bomb_run(bombs: dict[str, bytes], tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    folder = tmp_path_factory.mktemp("bombs")
    paths = []
    for name, body in bombs.items():
        (folder / f"{name}.img").write_bytes(body)
        paths.append(str(folder / f"{name}.img"))
    run = subprocess.run([sys.executable, "-W", "error", "-c", BOMB_SCRIPT, *paths], cwd=PROJECT_ROOT,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stderr == ""  # no warning printed, no error
    result: dict[str, object] = json.loads(run.stdout)
    return result


ENTRIES = ["decode_image", "rgb_pixels", "validate_image", "analyse_faces", "probe_templates"]
BOMBS = ["jpeg-65000x65000", "png-20000x20000", "png-10000x10000", "png-7000x7000"]


@pytest.mark.parametrize("entry", ENTRIES)
@pytest.mark.parametrize("bomb", BOMBS)
def test_a_bomb_is_refused_quickly_through_every_entry(bomb_run: dict[str, dict[str, list[object]]], bomb: str,
                                                       entry: str) -> None:
    outcome, seconds = bomb_run["results"][f"{bomb}/{entry}"]
    assert outcome == "image.too_many_pixels"
    assert isinstance(seconds, float) and seconds < 0.5


def test_refusing_every_bomb_through_every_entry_takes_almost_no_memory(bomb_run: dict[str, float]) -> None:
    # The smallest bomb would take 49 MB decoded (greyscale), 147 MB as RGB; the largest, 12.7 GB.
    assert bomb_run["rss_growth_mb"] < 20


@pytest.mark.parametrize("bomb", BOMBS)
def test_a_bomb_emits_no_warning_and_changes_no_global_state(bombs: dict[str, bytes], bomb: str) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        filters = list(warnings.filters)
        with pytest.raises(ImageError) as refused:
            decode_image(bombs[bomb])
        assert warnings.filters == filters
    assert refused.value.code == "image.too_many_pixels"
    assert "pixels" in refused.value.detail
    assert caught == []
    assert Image.MAX_IMAGE_PIXELS == PILLOW_MAX_IMAGE_PIXELS
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_the_limit_is_a_parameter_and_the_default_is_40_megapixels() -> None:
    assert DEFAULT_MAX_PIXELS == 40_000_000
    body = landscape(1, size=(320, 240))
    assert decode_image(body, max_pixels=320 * 240).width == 320
    with pytest.raises(ImageError) as refused:
        decode_image(body, max_pixels=320 * 240 - 1)
    assert refused.value.code == "image.too_many_pixels"


def _gif_with_a_large_first_frame() -> bytes:
    """A GIF whose logical screen is 2 x 2 but whose first frame claims 10000 x 10000 (Pillow grows the size)."""
    small = io.BytesIO()
    Image.new("P", (2, 2)).save(small, "GIF")
    body = bytearray(small.getvalue())
    descriptor = body.index(b"\x2c", 13)  # image separator after the screen and colour table
    body[descriptor + 5:descriptor + 9] = (10_000).to_bytes(2, "little") * 2
    return bytes(body)


def test_a_gif_frame_larger_than_its_screen_is_refused_without_a_warning() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ImageError) as refused:
            decode_image(_gif_with_a_large_first_frame())
    assert refused.value.code == "image.too_many_pixels"
    assert caught == []


@pytest.mark.parametrize(("name", "body", "code"), [
    ("empty", b"", "image.empty"),
    ("html", b"<!doctype html><html><body>hi</body></html>", "image.not_an_image"),
    ("garbage", b"\x00\x01garbage" * 10, "image.not_an_image"),
    ("jpeg-magic-only", b"\xff\xd8\xff\xe0" + b"\x00" * 60, "image.corrupt"),
])
def test_what_is_not_an_image_is_named(name: str, body: bytes, code: str) -> None:
    with pytest.raises(ImageError) as refused:
        decode_image(body)
    assert refused.value.code == code


def _saved(picture: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    picture.save(out, fmt, **options)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["PCX", "ICO", "TGA", "PPM"])
def test_formats_outside_the_allow_list_are_not_decoded(fmt: str) -> None:
    with pytest.raises(ImageError) as refused:
        decode_image(_saved(Image.new("RGB", (32, 32)), fmt))
    assert refused.value.code in ("image.unsupported_format", "image.not_an_image")
    if fmt in ("PCX", "ICO", "PPM"):  # formats with a magic number are named
        assert refused.value.code == "image.unsupported_format" and fmt in refused.value.detail


@pytest.mark.parametrize("fmt", sorted(SUPPORTED_FORMATS))
def test_every_allowed_format_decodes_with_its_size(fmt: str) -> None:
    decoded = decode_image(_saved(Image.new("RGB", (64, 48), (200, 10, 10)), fmt))
    assert (decoded.format, decoded.width, decoded.height) == (fmt, 64, 48)
    pixels = rgb_array(decoded)
    assert pixels.shape == (48, 64, 3) and pixels.dtype == np.uint8 and pixels.flags.c_contiguous


def _colour(decoded: DecodedImage) -> tuple[int, ...]:
    return tuple(int(channel) for channel in rgb_array(decoded)[15, 20])


def test_only_the_first_frame_is_decoded() -> None:
    red, blue = Image.new("RGB", (40, 30), (255, 0, 0)), Image.new("RGB", (40, 30), (0, 0, 255))
    for fmt in ("GIF", "WEBP", "TIFF", "PNG"):
        decoded = decode_image(_saved(red, fmt, save_all=True, append_images=[blue]))
        assert _colour(decoded) == pytest.approx((255, 0, 0), abs=8), fmt


def test_a_multi_picture_jpeg_is_its_first_picture_as_a_jpeg() -> None:
    red, blue = Image.new("RGB", (40, 30), (255, 0, 0)), Image.new("RGB", (40, 30), (0, 0, 255))
    decoded = decode_image(_saved(red, "MPO", save_all=True, append_images=[blue]))
    assert decoded.format == "JPEG" and _colour(decoded) == pytest.approx((255, 0, 0), abs=8)


def test_an_exif_rotated_photo_is_made_upright() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways, displayed rotated 90 degrees
    decoded = decode_image(_saved(Image.new("RGB", (64, 48)), "JPEG", exif=exif.tobytes()))
    assert (decoded.width, decoded.height) == (48, 64)


@pytest.mark.parametrize(("fmt", "keep"), [("JPEG", 0.5), ("JPEG", 0.9), ("JPEG", 600), ("PNG", 0.5)])
def test_a_truncated_image_is_rejected(obama: Image.Image, fmt: str, keep: float) -> None:
    whole = _saved(obama, fmt)
    body = whole[:keep] if isinstance(keep, int) else truncated(whole, keep)
    with pytest.raises(ImageError) as refused:
        decode_image(body)
    assert refused.value.code == "image.truncated"


def test_after_a_real_face_analysis_truncated_images_are_still_rejected() -> None:
    assert analyse_faces(face_photo("obama.jpg")).count == 1  # face_recognition is imported by now
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False  # its process-wide side effect was undone
    half = truncated(face_photo("obama.jpg"), 0.5)
    for call in (decode_image, analyse_faces):
        with pytest.raises(ImageError) as refused:
            call(half)
        assert refused.value.code == "image.truncated"


def test_a_process_that_accepts_truncated_images_decodes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)  # as a direct `import face_recognition` leaves it
    with pytest.raises(ImageError) as refused:
        decode_image(face_photo("obama.jpg"))
    assert refused.value.code == "image.corrupt" and "LOAD_TRUNCATED_IMAGES" in refused.value.detail


# -- perceptual hash: imagehash.phash on the decoded image, reduced first -------------------------------------------


def _imagehash(picture: Image.Image) -> int:
    return int(str(imagehash.phash(picture)), 16)


def _reduced(body: bytes) -> Image.Image:
    """What the hash is computed on: upright, greyscale, box-reduced by an integer factor to >= 256 px short side."""
    grey = (ImageOps.exif_transpose(Image.open(io.BytesIO(body)))).convert("L")
    factor = min(grey.size) // 256
    return grey.reduce(factor) if factor > 1 else grey


SMALL_IMAGES = {
    "landscape-160x120": lambda obama: landscape(3, size=(160, 120)),
    "photo-100x125": lambda obama: _saved(obama.resize((100, 125)), "JPEG"),
    "photo-rgba-png": lambda obama: _saved(obama.resize((90, 110)).convert("RGBA"), "PNG"),
    "photo-palette-gif": lambda obama: _saved(obama.resize((120, 127)).convert("P"), "GIF"),
    "photo-511x640": lambda obama: _saved(obama.resize((511, 640)), "JPEG"),  # the largest needing no reduction
}


@pytest.mark.parametrize("name", SMALL_IMAGES)
def test_the_hash_is_imagehash_phash_on_an_image_that_needs_no_reduction(obama: Image.Image, name: str) -> None:
    body = SMALL_IMAGES[name](obama)
    assert perceptual_hash(decode_image(body)) == _imagehash(Image.open(io.BytesIO(body)))


LARGE_PHOTOS = [*PACKAGED_FACE_PHOTOS, "photo-x3", "photo-x5"]


def _large_photo(name: str) -> bytes:
    if name.startswith("photo-x"):
        photo, scale = Image.open(io.BytesIO(face_photo("obama.jpg"))), int(name[-1])
        return _saved(photo.resize((photo.width * scale, photo.height * scale)), "JPEG")  # up to 4550 x 5685
    return face_photo(name)


@pytest.mark.parametrize("name", LARGE_PHOTOS)
def test_the_hash_of_a_large_photo_is_imagehash_phash_of_the_reduced_copy_and_close_to_the_full_one(name: str) -> None:
    body = _large_photo(name)
    value = perceptual_hash(decode_image(body))
    assert value == _imagehash(_reduced(body))
    # Measured 0-2 bits. (On smooth synthetic pictures imagehash.phash itself moves 4-8 bits between an image and
    # its half-size copy, and so does a reduced copy; opt-outs by image match within 8 bits of the same hash.)
    assert bin(value ^ _imagehash(Image.open(io.BytesIO(body)))).count("1") <= 2


@pytest.mark.parametrize("size", [(1600, 1200), (4000, 3000)])
def test_the_hash_of_a_large_picture_is_imagehash_phash_of_the_reduced_copy(size: tuple[int, int]) -> None:
    body = landscape(5, size=size)
    assert perceptual_hash(decode_image(body)) == _imagehash(_reduced(body))


def test_the_hash_does_not_depend_on_how_the_bytes_were_re_encoded(obama: Image.Image) -> None:
    original = perceptual_hash(decode_image(_saved(obama, "PNG")))
    recompressed = perceptual_hash(decode_image(_saved(obama, "JPEG", quality=40)))
    assert bin(original ^ recompressed).count("1") <= 8
