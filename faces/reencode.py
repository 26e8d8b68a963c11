"""Re-encode stored faces from their recorded boxes and compare them with probes, in worker processes.

Where no template may be kept, a rights search must encode every stored face
again. The work goes to spawn-started workers (faces.pool's watchdog: they die
with their parent) in batches of file paths and boxes; the probes go to the
workers, so only distances come back, never an encoding. An image without
boxes (stored before boxes were recorded) is detected here once, and its boxes
come back for the caller to record.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from faces import library
from faces.library import Css
from faces.pool import _start_worker

#: Work per batch, in faces (an image still to be detected counts as DETECT_WEIGHT faces): small enough for
#: steady progress and an even split over the workers, large enough that a round trip costs little.
BATCH_FACES = 24
DETECT_WEIGHT = 6
#: Batches waiting per worker: keeps both busy without queueing the whole store in the pipes.
QUEUED_PER_WORKER = 4


@dataclass(frozen=True, slots=True)
class ImageJob:
    """One stored image: its file, and its recorded boxes (None: never searched, detect first)."""

    key: str
    path: str
    boxes: tuple[Css, ...] | None


@dataclass(frozen=True, slots=True)
class ImageOutcome:
    """What a worker found: per face the distance to the closest probe, and the boxes it detected (if it had to)."""

    key: str
    readable: bool
    distances: tuple[float, ...] = ()
    detected: tuple[Css, ...] | None = None
    complete: bool | None = None


def batches(jobs: Sequence[ImageJob], size: int = BATCH_FACES) -> Iterator[list[ImageJob]]:
    """Consecutive jobs grouped to about ``size`` faces of work each."""
    batch: list[ImageJob] = []
    weight = 0
    for job in jobs:
        batch.append(job)
        weight += DETECT_WEIGHT if job.boxes is None else max(1, len(job.boxes))
        if weight >= size:
            yield batch
            batch, weight = [], 0
    if batch:
        yield batch


def search_batch(jobs: list[ImageJob], probes: np.ndarray, options: dict[str, Any]) -> list[ImageOutcome]:
    """In a worker: read, decode, (detect,) encode and compare each image; encodings never leave this function."""
    from faces.detect import locate_faces
    from faces.encode import LANDMARK_MODEL
    from faces.images import rgb_pixels
    from policy.errors import ImageError

    library.load()
    outcomes = []
    for job in jobs:
        try:
            pixels = rgb_pixels(Path(job.path).read_bytes(), options.get("max_pixels", 40_000_000))
        except (OSError, ImageError):
            outcomes.append(ImageOutcome(job.key, readable=False))
            continue
        detected: tuple[Css, ...] | None = None
        complete: bool | None = None
        boxes = job.boxes
        if boxes is None:
            detection = locate_faces(pixels, model=options.get("model", "hog"),
                                     max_side=options.get("max_side", 1024))
            boxes = detected = tuple((b.top, b.right, b.bottom, b.left) for b in detection.boxes)
            complete = detection.complete
        found: tuple[float, ...] = ()
        if boxes:
            encodings = np.asarray(library.face_encodings(pixels, list(boxes), LANDMARK_MODEL), dtype=np.float32)
            gaps = np.linalg.norm(encodings[:, None, :] - probes[None, :, :], axis=2)
            found = tuple(float(value) for value in gaps.min(axis=1))
            del encodings
        outcomes.append(ImageOutcome(job.key, True, found, detected, complete))
    return outcomes


def search_images(jobs: Sequence[ImageJob], probes: np.ndarray, *, workers: int | None = None,
                  **options: Any) -> Iterator[list[ImageOutcome]]:
    """Outcomes batch by batch as the workers finish them; the workers are gone when the iterator ends.

    A worker that dies (dlib crashing on an image) leaves its batches unreadable rather than silently searched.
    """
    if not jobs:
        return
    probes = np.ascontiguousarray(probes, dtype=np.float32).reshape(-1, 128)
    count = max(1, min(workers or os.cpu_count() or 1, len(jobs)))
    pending = iter(list(batches(jobs)))
    executor = ProcessPoolExecutor(count, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_start_worker, initargs=(os.getpid(),))
    running: dict[Future[list[ImageOutcome]], list[ImageJob]] = {}
    try:
        while True:
            while len(running) < count * QUEUED_PER_WORKER and (batch := next(pending, None)) is not None:
                running[executor.submit(search_batch, batch, probes, options)] = batch
            if not running:
                return
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                batch = running.pop(future)
                try:
                    yield future.result()
                except BrokenProcessPool:
                    yield [ImageOutcome(job.key, readable=False) for job in batch]
                    for rest in [*running.values(), *pending]:
                        yield [ImageOutcome(job.key, readable=False) for job in rest]
                    return
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
