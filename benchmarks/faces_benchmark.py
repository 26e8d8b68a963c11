"""Faces: screening-stage throughput (worker pool) against a plain single-process face_recognition loop.

Both sides do the same work on the same images: decode to RGB, scale to at most
1024 px, HOG detection with one upsample, 5-point encodings; the screening side
also compares every encoding with a suppression list of 1,000 templates. Then
one whole crawl of the test-site catalog (face-heavy sites included) under the
lawful pack, for images/s end to end. Prints figures; the target is >= 1.8x
on 2 cores.

    .venv/bin/python -m benchmarks.faces_benchmark [--copies 3] [--skip-crawl]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

ROOT = Path(__file__).resolve().parent.parent
TARGET_RATIO = 1.8


def workload(copies: int) -> list[bytes]:
    """Packaged face photos in several sizes and variants, plus face-free pictures."""
    from crawler.testsites.images import landscape
    from crawler.testsites.photos import PACKAGED_FACE_PHOTOS, face_photo

    images: list[bytes] = []
    for name in PACKAGED_FACE_PHOTOS:
        original = Image.open(io.BytesIO(face_photo(name))).convert("RGB")
        for variant in (original, ImageOps.mirror(original),
                        original.resize((original.width // 2, original.height // 2))):
            out = io.BytesIO()
            variant.save(out, "JPEG", quality=85)
            images.append(out.getvalue())
    images += [landscape(seed, size=(800, 600)) for seed in range(4)]
    return images * copies


def plain_loop(images: list[bytes]) -> tuple[float, int]:
    from faces import library
    from faces.images import rgb_pixels, scaled_down

    faces = 0
    started = time.perf_counter()
    for image in images:
        small, _ = scaled_down(rgb_pixels(image), 1024)
        boxes = library.face_locations(small, 1, "hog")
        faces += len(library.face_encodings(small, boxes, "small"))
    return time.perf_counter() - started, faces


async def screening_stage(images: list[bytes], workers: int) -> tuple[float, int, int]:
    from faces import FacePool
    from faces.compare import best_match

    rng = np.random.default_rng(7)
    suppression = rng.normal(0, 0.052, (1000, 128)).astype(np.float32)
    pool = FacePool(workers)
    pool.warm_up()
    await asyncio.sleep(0)
    await pool.analyse(images[0])  # workers ready before the clock starts, as in a running crawl
    started = time.perf_counter()
    analyses = await asyncio.gather(*(pool.analyse(image) for image in images))
    matches = sum(1 for a in analyses for e in a.encodings if best_match(suppression, e) is not None)
    elapsed = time.perf_counter() - started
    pool.close()
    return elapsed, sum(a.count for a in analyses), matches


def whole_crawl() -> dict[str, float]:
    work = Path(tempfile.mkdtemp(prefix="faircrawl-faces-bench-"))
    report = work / "report.json"
    command = [str(ROOT / ".venv/bin/faircrawl"), "crawl", "--testsites", "--db", f"sqlite:///{work}/f.db",
               "--store", str(work / "images"), "--report", str(report)]
    subprocess.run(command, cwd=work, env={**os.environ, "FAIRCRAWL_PROGRESS_INTERVAL": "0"},
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    data = json.loads(report.read_text())
    images = [d for d in data["decisions"] if d["kind"] == "image"]
    analysed = sum(1 for d in images if d["signals"].get("image.faces") is not None)
    elapsed = data["run"]["stats"]["elapsed_seconds"]
    return {"images": len(images), "analysed": analysed, "elapsed": elapsed, "rate": len(images) / elapsed}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=3, help="how many times the image set is processed")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--skip-crawl", action="store_true")
    args = parser.parse_args(argv)
    images = workload(args.copies)
    print(f"{len(images)} images ({sum(map(len, images)) // 1024} KiB), {args.workers} face workers")
    plain_seconds, plain_faces = plain_loop(images)
    stage_seconds, stage_faces, matches = asyncio.run(screening_stage(images, args.workers))
    plain_rate, stage_rate = len(images) / plain_seconds, len(images) / stage_seconds
    print(f"{'':<34} {'seconds':>8} {'images/s':>9} {'faces':>6}")
    print(f"{'plain loop (1 process)':<34} {plain_seconds:>8.2f} {plain_rate:>9.2f} {plain_faces:>6}")
    print(f"{'screening stage (pool + matching)':<34} {stage_seconds:>8.2f} {stage_rate:>9.2f} {stage_faces:>6}"
          f"   ({matches} matches against 1,000 random templates)")
    ratio = stage_rate / plain_rate
    print(f"screening / plain = {ratio:.2f}x ({'meets' if ratio >= TARGET_RATIO else 'BELOW'} the >= {TARGET_RATIO}x target)")
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak RSS: this process {own:.0f} MiB, largest face worker {workers:.0f} MiB")
    if not args.skip_crawl:
        crawl = whole_crawl()
        print(f"whole catalog crawl (lawful): {crawl['images']} image decisions ({crawl['analysed']} analysed for faces) "
              f"in {crawl['elapsed']:.1f} s = {crawl['rate']:.2f} images/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
