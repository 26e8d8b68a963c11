"""A deterministic, face-free static site for crawl benchmarks.

Pages ``/p/{i}.html`` link to page ``(i+1) % N`` (so every page is reachable
from ``/p/0.html``) plus two seeded-random pages, and embed their own unique
JPEGs ``/img/{i}_{k}.jpg`` (gradient blended with noise: no faces, ~20 KB).
The site is cached under ``benchmarks/out/`` and rebuilt only when its
parameters change, so repeated benchmark runs start at once.
"""

from __future__ import annotations

import io
import json
import random
import shutil
from functools import cache
from pathlib import Path

from PIL import Image

OUT_DIR = Path(__file__).resolve().parent / "out"
SITE_VERSION = 1  # bump when the generated content changes
IMAGE_SIZE = 180
JPEG_QUALITY = 85
NOISE_ALPHA = 0.5  # share of noise in each image; 0.5 gives ~20 KB at quality 85
ROBOTS_TXT = "User-agent: *\nDisallow: /private/\nAllow: /\n"


@cache
def _gradients() -> tuple[Image.Image, Image.Image]:
    """Linear and radial gradients at image size (resizing is the slow part: do it once)."""
    size = (IMAGE_SIZE, IMAGE_SIZE)
    return Image.linear_gradient("L").resize(size), Image.radial_gradient("L").resize(size)


def _jpeg(rng: random.Random) -> bytes:
    """A gradient blended with seeded noise: incompressible enough to weigh ~20 KB."""
    size = (IMAGE_SIZE, IMAGE_SIZE)
    linear, green = _gradients()
    red = linear.rotate(rng.randrange(360))
    blue = linear.transpose(Image.Transpose.ROTATE_90)
    noise = Image.frombytes("RGB", size, rng.randbytes(IMAGE_SIZE * IMAGE_SIZE * 3))
    picture = Image.blend(Image.merge("RGB", (red, green, blue)), noise, NOISE_ALPHA)
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


def _page(index: int, links: list[int], images_per_page: int) -> str:
    anchors = "\n".join(f'<li><a href="/p/{j}.html">page {j}</a></li>' for j in links)
    images = "\n".join(f'<img src="/img/{index}_{k}.jpg" alt="pattern {index}.{k}" width="180" height="180">'
                       for k in range(images_per_page))
    return (f"<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>page {index}</title></head>\n"
            f"<body><h1>page {index}</h1>\n{images}\n<ul>\n{anchors}\n</ul></body></html>\n")


def build_site(root: Path, pages: int, images_per_page: int, seed: int) -> None:
    """Write the whole site into ``root`` (which must not exist yet)."""
    rng = random.Random(seed)
    (root / "p").mkdir(parents=True)
    (root / "img").mkdir()
    (root / "robots.txt").write_text(ROBOTS_TXT, encoding="utf-8")
    for i in range(pages):
        links = list(dict.fromkeys([(i + 1) % pages, rng.randrange(pages), rng.randrange(pages)]))
        (root / "p" / f"{i}.html").write_text(_page(i, links, images_per_page), encoding="utf-8")
        for k in range(images_per_page):
            (root / "img" / f"{i}_{k}.jpg").write_bytes(_jpeg(rng))


def ensure_site(pages: int, images_per_page: int, seed: int = 1234) -> Path:
    """The site's folder, generated unless a copy with the same parameters exists."""
    params = {"version": SITE_VERSION, "pages": pages, "images_per_page": images_per_page, "seed": seed}
    root = OUT_DIR / f"site-p{pages}-i{images_per_page}-s{seed}"
    manifest = root / "site.json"
    if manifest.exists() and json.loads(manifest.read_text()) == params:
        return root
    building = root.with_name(root.name + ".building")
    for stale in (root, building):
        shutil.rmtree(stale, ignore_errors=True)
    build_site(building, pages, images_per_page, seed)
    (building / "site.json").write_text(json.dumps(params))  # written last: marks the copy complete
    building.rename(root)
    return root
