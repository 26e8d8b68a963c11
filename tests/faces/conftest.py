"""Real inputs for the face-module tests, built in memory once per session: bombs, contact sheets, small faces."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from crawler.testsites.images import decompression_bomb
from crawler.testsites.photos import face_photo

#: The box face_recognition finds in obama.jpg at full resolution (HOG, one upsample): left, top, right, bottom.
OBAMA_FACE = (349, 142, 617, 409)


def jpeg(picture: Image.Image, quality: int = 90) -> bytes:
    out = io.BytesIO()
    picture.convert("RGB").save(out, "JPEG", quality=quality)
    return out.getvalue()


def jpeg_bomb(width: int = 65_000, height: int = 65_000) -> bytes:
    """A valid 1x1 JPEG whose start-of-frame header is patched to claim ``width`` x ``height`` (about 700 bytes)."""
    body = bytearray(jpeg(Image.new("RGB", (1, 1))))
    sof = body.index(b"\xff\xc0")  # baseline SOF0: length (2), precision (1), height (2), width (2)
    body[sof + 5:sof + 9] = struct.pack(">HH", height, width)
    return bytes(body)


def complete_png(width: int, height: int) -> bytes:
    """A complete, valid 8-bit greyscale PNG of zeros: small on disk, ``width * height`` bytes once decoded."""
    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    packer = zlib.compressobj(9)
    row = b"\x00" * (width + 1)  # filter byte, then the row
    data = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


@pytest.fixture(scope="session")
def bombs() -> dict[str, bytes]:
    """Over our 40 M limit: far over Pillow's (error), between Pillow's warning and error, and under Pillow's."""
    return {
        "jpeg-65000x65000": jpeg_bomb(),
        "png-20000x20000": decompression_bomb(20_000, 20_000),
        "png-10000x10000": complete_png(10_000, 10_000),
        "png-7000x7000": complete_png(7_000, 7_000),
    }


@pytest.fixture(scope="session")
def obama() -> Image.Image:
    return Image.open(io.BytesIO(face_photo("obama.jpg"))).convert("RGB")


@pytest.fixture(scope="session")
def obama_face(obama: Image.Image) -> Image.Image:
    return obama.crop(OBAMA_FACE)


@pytest.fixture(scope="session")
def contact_sheet(obama_face: Image.Image) -> bytes:
    """500 faces of about 33 px on a 2500 x 2000 canvas (25 x 20 cells of 100 px), as a JPEG."""
    sheet = Image.new("RGB", (2500, 2000), (235, 235, 235))
    face = obama_face.resize((33, 33), Image.Resampling.LANCZOS)
    for row in range(20):
        for column in range(25):
            sheet.paste(face, (column * 100 + 33, row * 100 + 33))
    return jpeg(sheet)


@pytest.fixture(scope="session")
def obama_face_box() -> tuple[int, int, int, int]:
    """Left, top, right, bottom of the face in obama.jpg."""
    return OBAMA_FACE


@pytest.fixture(scope="session")
def one_small_face(obama_face: Image.Image) -> tuple[bytes, tuple[int, int]]:
    """A 2500 x 2000 canvas with one 60 px face (25 px once scaled to 1024, too small to find there); its left, top."""
    canvas = Image.new("RGB", (2500, 2000), (235, 235, 235))
    at = (1700, 1300)
    canvas.paste(obama_face.resize((60, 60), Image.Resampling.LANCZOS), at)
    return jpeg(canvas), at
