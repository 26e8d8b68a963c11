"""Face work in worker processes, so dlib uses both cores and never blocks the crawl's event loop.

Workers are started with ``spawn`` (never ``fork``: the crawl process runs
threads and a Twisted reactor) and import face_recognition once each, through
faces.library. Each worker exits when its parent dies: the workers of a
SIGKILLed crawl were seen alive minutes later, holding about 170 MB each. A
watchdog thread compares ``os.getppid()`` with the parent recorded at start (an
orphan is re-parented); PR_SET_PDEATHSIG would not do, as it fires when the
*thread* that spawned the worker exits.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from faces import library
from faces.detect import Detection
from faces.encode import FaceAnalysis, analyse_faces

#: How often a worker checks that its parent is alive, in seconds.
PARENT_CHECK_INTERVAL = 0.5


def _start_worker(parent: int) -> None:
    """Worker initializer: exit with the parent, then load the models."""
    threading.Thread(target=_exit_with_parent, args=(parent,), name="faces-parent-watch", daemon=True).start()
    library.load()


def _exit_with_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_INTERVAL)
    os._exit(1)  # no clean-up to wait for: the results have nowhere to go


def _warm_up() -> None:
    library.load()


class FacePool:
    def __init__(self, workers: int | None = None, **detect_options: Any) -> None:
        """``detect_options`` are passed to faces.encode.analyse_faces (model, max_side, max_pixels, ...)."""
        self.workers = workers or os.cpu_count() or 1
        self.detect_options = detect_options
        self._executor: ProcessPoolExecutor | None = None

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                                 initializer=_start_worker, initargs=(os.getpid(),))
        return self._executor

    def warm_up(self) -> None:
        """Start the workers now (each loads the models, about a second) instead of on the first image."""
        pool = self._pool()
        for _ in range(self.workers):
            pool.submit(_warm_up)

    async def detect(self, image_bytes: bytes) -> Detection:
        return (await self.analyse(image_bytes, encode=False)).detection

    async def analyse(self, image_bytes: bytes, encode: bool = True) -> FaceAnalysis:
        """Faces found, and their encodings when ``encode`` (returned to this process, never written)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool(), _analyse, image_bytes, encode, self.detect_options)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None


def _analyse(image_bytes: bytes, encode: bool, options: dict[str, Any]) -> FaceAnalysis:
    return analyse_faces(image_bytes, encode=encode, **options)
