"""Deterministic image bytes for the test sites: face-free pictures and bad inputs.

Everything here is generated from a seed, so the catalog (and its sha256s) is
the same on every machine; the face photos come from :mod:`.photos`.
"""

from __future__ import annotations

import io
import random
import struct
import zlib

from PIL import Image, ImageDraw


def landscape(seed: int, size: tuple[int, int] = (320, 240), fmt: str = "JPEG") -> bytes:
    """A face-free picture: sky gradient, hills and a sun, varied by ``seed``."""
    rng = random.Random(seed)
    width, height = size
    picture = Image.new("RGB", size)
    draw = ImageDraw.Draw(picture)
    top = (rng.randrange(40, 120), rng.randrange(90, 180), rng.randrange(180, 255))
    for y in range(height):
        shade = y / max(height - 1, 1)
        draw.line([(0, y), (width, y)], fill=tuple(int(c * (1 - 0.5 * shade)) for c in top))
    sun = (rng.randrange(width), rng.randrange(height // 3))
    radius = rng.randrange(10, 30)
    draw.ellipse([sun[0] - radius, sun[1] - radius, sun[0] + radius, sun[1] + radius], fill=(250, 220, 90))
    for hill in range(3):
        base = height - rng.randrange(20, height // 2)
        points = [(0, height)] + [(x, base + rng.randrange(-25, 25)) for x in range(0, width + 40, 40)] + [(width, height)]
        green = (30 + 20 * hill, 90 + rng.randrange(60), 40)
        draw.polygon(points, fill=green)
    out = io.BytesIO()
    if fmt == "JPEG":
        picture.save(out, "JPEG", quality=85)
    else:
        picture.save(out, fmt)
    return out.getvalue()


def truncated(image_bytes: bytes, keep: float = 0.5) -> bytes:
    """The first part of a valid image: headers parse, the pixels run out."""
    return image_bytes[: int(len(image_bytes) * keep)]


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def decompression_bomb(width: int = 30_000, height: int = 30_000) -> bytes:
    """A tiny PNG whose header claims ``width`` x ``height`` pixels (900 M by default).

    Decoding it would need gigabytes; a careful crawler refuses it from the
    header alone, before allocating anything.
    """
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    rows = zlib.compress(b"\x00" * 1024)  # far fewer rows than claimed
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", rows) + _png_chunk(b"IEND", b"")


def oversized(total_bytes: int) -> bytes:
    """A JPEG-looking body of ``total_bytes``: start-of-image marker, then padding."""
    return b"\xff\xd8\xff\xe0" + b"\x00" * (total_bytes - 4)
