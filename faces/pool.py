"""Face work in worker processes, so dlib uses both cores and never blocks the crawl's event loop.

Workers are started with ``spawn`` (never ``fork``: the crawl process runs
threads and a Twisted reactor) and import face_recognition once each, through
faces.library.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from faces import library
from faces.detect import Detection
from faces.encode import FaceAnalysis, analyse_faces


def _warm_up() -> None:
    library.load()  # the models, once per worker


class FacePool:
    def __init__(self, workers: int | None = None, **detect_options: Any) -> None:
        self.workers = workers or os.cpu_count() or 1
        self.detect_options = detect_options
        self._executor: ProcessPoolExecutor | None = None

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                                 initializer=_warm_up)
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
