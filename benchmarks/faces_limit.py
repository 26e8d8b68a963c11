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


@dataclass(frozen=True)
class PoolCost:
    images: int
    wall_rate: float  # images/s through faces.FacePool, all cores
    worker_cpu_ms: float  # worker CPU per image, model loading included
    parent_cpu_ms: float  # the caller's CPU per image: the hand-off


def pool_cost(site: Path, sample: int = 2 * SAMPLE_IMAGES, in_flight: int = 16) -> PoolCost:
    """The in-process pool alone on the site's images: what it adds to the detector, apart from the crawl."""
    import asyncio
    import resource

    from faces import FacePool

    images = [path.read_bytes() for path in sorted((site / "img").glob("*.jpg"))[:sample]]

    def children_cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    async def run() -> tuple[float, float]:
        pool = FacePool()
        pool.warm_up()
        slots = asyncio.Semaphore(in_flight)

        async def one(image: bytes) -> None:
            async with slots:
                await pool.analyse(image, encode=False)

        started, own = time.perf_counter(), time.process_time()
        try:
            await asyncio.gather(*(one(image) for image in images))
            return time.perf_counter() - started, time.process_time() - own
        finally:
            pool.close()  # waits for the workers, so their CPU is counted below

    before = children_cpu()
    seconds, parent = asyncio.run(run())
    workers = children_cpu() - before
    return PoolCost(len(images), len(images) / seconds, 1000 * workers / len(images), 1000 * parent / len(images))


def pool_line(cost: PoolCost, limit: DetectorLimit) -> str:
    return (f"pool alone ({cost.images} images, 16 in flight, models loaded inside the timing): {cost.wall_rate:.1f} "
            f"images/s; worker CPU {cost.worker_cpu_ms:.1f} ms/image (detector loop {1000 / limit.cpu_rate:.1f} ms), "
            f"hand-off {cost.parent_cpu_ms:.2f} ms/image in the caller")
