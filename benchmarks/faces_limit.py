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
    wall_rate: float  # images/s through faces.FacePool, all cores, models already loaded
    worker_cpu_ms: float  # worker CPU per image once the models are loaded
    parent_cpu_ms: float  # the caller's CPU per image: the hand-off


def pool_cost(site: Path, sample: int = 2 * SAMPLE_IMAGES, in_flight: int = 16) -> PoolCost:
    """The in-process pool alone on the site's images: what it adds to the detector, apart from the crawl."""
    import asyncio

    from benchmarks.procstats import cpu_seconds
    from faces import FacePool

    images = [path.read_bytes() for path in sorted((site / "img").glob("*.jpg"))[:sample]]

    async def run() -> PoolCost:
        pool = FacePool()
        try:
            pool.warm_up()
            await asyncio.gather(*(pool.analyse(image, encode=False) for image in images[:2 * pool.workers]))
            workers = list(pool._pool()._processes)  # noqa: SLF001 - a benchmark may look inside
            slots = asyncio.Semaphore(in_flight)

            async def one(image: bytes) -> None:
                async with slots:
                    await pool.analyse(image, encode=False)

            worker_cpu = sum(cpu_seconds(pid) for pid in workers)
            started, own = time.perf_counter(), time.process_time()
            await asyncio.gather(*(one(image) for image in images))
            seconds, parent = time.perf_counter() - started, time.process_time() - own
            worker_cpu = sum(cpu_seconds(pid) for pid in workers) - worker_cpu
        finally:
            pool.close()
        count = len(images)
        return PoolCost(count, count / seconds, 1000 * worker_cpu / count, 1000 * parent / count)

    return asyncio.run(run())


def pool_line(cost: PoolCost, limit: DetectorLimit) -> str:
    return (f"pool alone ({cost.images} images, 16 in flight, models loaded): {cost.wall_rate:.1f} images/s; "
            f"worker CPU {cost.worker_cpu_ms:.1f} ms/image (the single-process loop: {1000 / limit.cpu_rate:.1f} ms), "
            f"hand-off {cost.parent_cpu_ms:.2f} ms/image in the caller")
