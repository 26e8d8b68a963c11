"""The one guarded image loader: every image faircrawl decodes (crawled, opt-out, probe, rights) comes through here.

Why it does not call ``Image.open``: that runs Pillow's global bomb check
before we can refuse, which warns (``DecompressionBombWarning``) above
``Image.MAX_IMAGE_PIXELS`` and raises above twice that. Silencing it would
mean changing the process-wide warnings filters, which is not thread-safe (the
crawl validates in threads, and XMP reading catches warnings too), and turning
it off (``MAX_IMAGE_PIXELS = None``) let a 700-byte JPEG take 23.7 GB. So the
format is identified by our allow-list and the header is parsed by Pillow's
plugin class itself; its size is checked against our limit before a single
pixel is allocated. A GIF's first frame may be larger than its screen (Pillow
then grows the image and runs its check), so its extent is read first. Our
limit never exceeds Pillow's ``MAX_IMAGE_PIXELS``, so Pillow's load-time checks
(TIFF tiles, crops) cannot fire either. Nothing global is changed.

Then: first frame only, truncation is an error (``LOAD_TRUNCATED_IMAGES`` is
refused rather than trusted: see faces.library), EXIF orientation applied.
Conversions for dlib (faces.md §4) are in ``rgb_array``; the perceptual hash
in ``perceptual_hash``.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass

import imagehash
import numpy as np
from PIL import Image, ImageFile, ImageOps
from PIL.BmpImagePlugin import BmpImageFile
from PIL.GifImagePlugin import GifImageFile
from PIL.JpegImagePlugin import JpegImageFile
from PIL.PngImagePlugin import PngImageFile
from PIL.TiffImagePlugin import TiffImageFile
from PIL.WebPImagePlugin import WebPImageFile

from policy.errors import ImageError

#: Images with more pixels are refused from their header (the crawl's FAIRCRAWL_IMAGE_MAX_PIXELS default).
DEFAULT_MAX_PIXELS = 40_000_000

# JPEG is read by its own class, not Pillow's factory, so a multi-picture JPEG (MPO) is its first picture.
_DECODERS: tuple[type[ImageFile.ImageFile], ...] = (JpegImageFile, PngImageFile, GifImageFile, WebPImageFile,
                                                   BmpImageFile, TiffImageFile)
SUPPORTED_FORMATS = frozenset(str(decoder.format) for decoder in _DECODERS)

#: The perceptual hash is computed on a copy box-reduced to at least this many pixels on the short side. Measured
#: against imagehash.phash of the full image: 0-2 bits on the packaged photos at 64, 128 or 256; on smooth
#: synthetic 4000 x 3000 landscapes up to 8 bits at 64 and 128, 6 at 256, 4 at 512 (which costs 3x as much).
HASH_MIN_SIDE = 256


@dataclass(frozen=True, slots=True, eq=False)
class DecodedImage:
    """The first frame, fully decoded and upright; ``picture`` keeps its stored mode (``rgb_array`` makes RGB)."""

    format: str  # one of SUPPORTED_FORMATS
    width: int  # upright, full resolution
    height: int
    picture: Image.Image


def decode_image(body: bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> DecodedImage:
    """Decode ``body`` or raise ImageError with a reason code; nothing is allocated for a refused image."""
    if not body:
        raise ImageError("image.empty", "the image is empty (0 bytes)")
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        raise ImageError("image.corrupt", "not decoded: truncation cannot be detected while "
                         "PIL.ImageFile.LOAD_TRUNCATED_IMAGES is True (import face_recognition through faces.library)")
    decoder = _decoder_for(body)
    limit = max_pixels if Image.MAX_IMAGE_PIXELS is None else min(max_pixels, Image.MAX_IMAGE_PIXELS)
    try:
        if decoder is GifImageFile:
            _check_pixels(_gif_extent(body), limit)
        picture = decoder(io.BytesIO(body))
        _check_pixels(picture.size, limit)
        picture.load()  # the first frame: Pillow opens every format positioned there
        ImageOps.exif_transpose(picture, in_place=True)
    except Image.DecompressionBombError as error:  # WebP checks its canvas before allocating it
        raise ImageError("image.too_many_pixels", f"{error}; not decoded") from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, KeyError, struct.error) as error:
        message = str(error) or type(error).__name__
        if "truncated" in message.lower() or isinstance(error, EOFError):
            raise ImageError("image.truncated", f"the image data ends early ({message})") from None
        raise ImageError("image.corrupt", f"the image cannot be decoded ({message})") from None
    return DecodedImage(str(decoder.format), picture.width, picture.height, picture)


def _decoder_for(body: bytes) -> type[ImageFile.ImageFile]:
    """The allowed format whose signature starts ``body``; other known formats are named, never parsed."""
    prefix = body[:16]
    for decoder in _DECODERS:
        accept = Image.OPEN[str(decoder.format)][1]
        if accept is not None and accept(prefix) is True:
            return decoder
    Image.init()  # register every plugin, to name a format we do not decode
    for name, (_, accept) in Image.OPEN.items():
        if accept is not None and accept(prefix) is True:
            raise ImageError("image.unsupported_format",
                             f"{name} images are not decoded (only {', '.join(sorted(SUPPORTED_FORMATS))})")
    looks_like = "an HTML page" if prefix.lstrip().lower().startswith((b"<!doctype", b"<html")) else "not an image"
    raise ImageError("image.not_an_image", f"the body is {looks_like} ({len(body)} bytes)")


def _check_pixels(size: tuple[int, int], limit: int) -> None:
    width, height = size
    if width * height > limit:
        raise ImageError("image.too_many_pixels", f"{width}x{height} = {width * height:,} pixels exceeds the limit "
                         f"of {limit:,} (possible decompression bomb); not decoded")


def _gif_extent(body: bytes) -> tuple[int, int]:
    """The size Pillow gives a GIF's first frame: its screen, grown to the first image's extent.

    Walks the blocks as Pillow's GifImagePlugin does: extensions are skipped,
    unknown bytes one at a time, until the first image descriptor or the trailer.
    """
    width, height = struct.unpack_from("<HH", body, 6)
    flags, position = body[10], 13
    if flags & 0x80:  # global colour table
        position += 3 << ((flags & 7) + 1)
    while position < len(body) and body[position] != 0x3B:  # trailer
        if body[position] == 0x21:  # extension: label, then sub-blocks up to an empty one
            position += 2
            while position < len(body) and body[position]:
                position += body[position] + 1
        elif body[position] == 0x2C and position + 9 <= len(body):  # the first image descriptor
            left, top, frame_width, frame_height = struct.unpack_from("<HHHH", body, position + 1)
            return max(width, left + frame_width), max(height, top + frame_height)
        position += 1
    return width, height


def rgb_array(image: DecodedImage) -> np.ndarray:
    """The pixels dlib needs: 8-bit RGB, C-contiguous. Each step fixes a way detection silently fails (faces.md §4).

    16-bit greyscale is rescaled (a plain convert clips it to white), alpha is
    flattened on white, and a non-contiguous array would make dlib find nothing.
    """
    picture = image.picture
    if picture.mode.startswith("I;16") or picture.mode in ("I", "F"):
        wide = np.asarray(picture, dtype=np.float64)
        top = wide.max() or 1.0
        picture = Image.fromarray((wide * (255.0 / top)).clip(0, 255).astype(np.uint8))
    elif picture.mode in ("RGBA", "LA", "PA") or (picture.mode == "P" and "transparency" in picture.info):
        background = Image.new("RGBA", picture.size, (255, 255, 255, 255))
        background.alpha_composite(picture.convert("RGBA"))
        picture = background
    rgb = picture if picture.mode == "RGB" else picture.convert("RGB")
    return np.ascontiguousarray(np.asarray(rgb), dtype=np.uint8)


def rgb_pixels(image_bytes: bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Decode (guarded) and convert for dlib in one call."""
    return rgb_array(decode_image(image_bytes, max_pixels))


def perceptual_hash(image: DecodedImage) -> int:
    """imagehash's pHash (64 bits, most significant first), on a greyscale copy box-reduced by an integer factor.

    The reduction (``Image.reduce``, an integer box filter, on the decoded
    image) keeps at least HASH_MIN_SIDE px on the short side before imagehash's
    own 32x32 Lanczos resize: 8 ms instead of 27 on a 3.3 Mpx photo. On an
    image that needs no reduction the value is exactly ``imagehash.phash``'s; on
    large photos it is within 2 bits of it (tested). The crawl and ``optout add
    --image`` both hash here, so their hashes agree exactly.
    """
    grey = image.picture.convert("L")
    factor = min(grey.size) // HASH_MIN_SIDE
    if factor > 1:
        grey = grey.reduce(factor)
    bits = np.asarray(imagehash.phash(grey).hash, dtype=bool).flatten()
    return int.from_bytes(np.packbits(bits).tobytes(), "big")


def scaled_down(pixels: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """Shrink so the longer side is at most ``max_side``; returns the array and the factor used."""
    height, width = pixels.shape[:2]
    longest = max(height, width)
    if longest <= max_side:
        return pixels, 1.0
    factor = max_side / longest
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    smaller = Image.fromarray(pixels).resize(size, Image.Resampling.LANCZOS)
    return np.ascontiguousarray(np.asarray(smaller), dtype=np.uint8), factor
