"""The face detector's own limit on the benchmark site's images: what a crawl that searches every image can reach.

The limit is faces_benchmark's single-process loop (decode, HOG with one
upsample, encodings of what it finds) over a sample of the site's images,
times the number of cores: no crawl can search faster on this machine. The
crawl benchmark sets the images/s of a crawl that searched every image (the
lawful pack: 127.0.0.1 has no known jurisdiction, so faces are looked for
everywhere) against it. The loop is timed in wall seconds and in CPU
seconds; on a busy machine the CPU-based limit is the steadier one.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

TARGET_SHARE = 0.9
SAMPLE_IMAGES = 300


@dataclass(frozen=True)
class DetectorLimit:
    images: int
    wall_rate: float  # images/s of the single-process loop, wall clock
    cpu_rate: float  # images/s per CPU second of the loop
    cores: int

    @property
    def limit(self) -> float:
        """Images/s all cores could search: the single-process loop (wall clock) times the cores."""
        return self.wall_rate * self.cores


def detector_limit(site: Path, sample: int = SAMPLE_IMAGES, cores: int | None = None) -> DetectorLimit:
    from benchmarks.faces_benchmark import plain_loop
    from faces import library

    images = [path.read_bytes() for path in sorted((site / "img").glob("*.jpg"))[:sample]]
    library.load()  # the models load before the clock starts, as in a running worker
    plain_loop(images[:5])
    cpu_started = time.process_time()
    seconds, _ = plain_loop(images)
    cpu = time.process_time() - cpu_started
    return DetectorLimit(len(images), len(images) / seconds, len(images) / cpu if cpu else 0.0,
                         cores or os.cpu_count() or 1)


def faces_line(images_per_second: float, limit: DetectorLimit) -> str:
    share = images_per_second / limit.limit if limit.limit else 0.0
    verdict = "meets" if share >= TARGET_SHARE else "BELOW"
    return (f"faces: {images_per_second:.1f} images/s = {share:.2f}x of the detector limit ({limit.limit:.1f}/s = "
            f"single-process {limit.wall_rate:.1f}/s x {limit.cores} cores; {verdict} the >= {TARGET_SHARE}x target; "
            f"CPU-based limit {limit.cpu_rate * limit.cores:.1f}/s)")
