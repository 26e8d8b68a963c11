"""The image bytes' own work in a worker process, in batches: decode, hashes, XMP and C2PA.

A crawl's reactor thread should do about what plain Scrapy does. Decoding an
image, its sha256 and perceptual hash, and reading its XMP and C2PA metadata
are pure functions of the bytes, and in threads of the crawl process they
hold the GIL against the reactor; so they run in a worker process (``spawn``,
never ``fork``: the crawl runs threads and a reactor), the second core.
Images that arrive together go in one batch (one hand-off there, one back);
what comes back is small: the :class:`~crawler.pipelines.validate.ValidImage`
facts and the metadata readers' results, never pixels.

A worker exits when its parent dies (as the face workers do). A worker that
dies, or a pool that cannot start, fails the images of that batch with the
error, which the pipeline records as ``internal.error`` (never as consent);
the next batch starts a new worker.

It lives outside ``crawler.pipelines`` on purpose: a spawned worker imports
this module's package, and the pipelines package imports Scrapy and every
stage; here it needs only faces.images and policy.observe (about 50 MiB
instead of 115 MiB of imports per worker).
"""

from __future__ import annotations

import asyncio
import hashlib
import multiprocessing
import os
import pickle
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from faces.images import decode_image
from faces.images import perceptual_hash as decoded_image_hash
from policy.errors import ImageError
from policy.observe import ImageFileFacts, read_image_file

#: At most this many images per hand-off; a batch also leaves when the loop has nothing else to do.
BATCH_IMAGES = 32
#: How long the first image of a batch waits for others (seconds): a few responses arrive per millisecond.
BATCH_WAIT_SECONDS = 0.004
PARENT_CHECK_INTERVAL = 0.5


@dataclass(frozen=True, slots=True)
class ValidImage:
    sha256: str
    format: str
    width: int
    height: int
    byte_size: int
    perceptual_hash: int  # 64-bit pHash, for opt-outs by image and near-duplicates


def validate_image(body: bytes, max_pixels: int) -> ValidImage:
    """Decoded once, by faces' guarded loader (allow-list, pixel limit from the header, truncation); hashed from it."""
    decoded = decode_image(body, max_pixels)
    return ValidImage(hashlib.sha256(body).hexdigest(), decoded.format, decoded.width, decoded.height, len(body),
                      decoded_image_hash(decoded))


@dataclass(frozen=True, slots=True)
class ImageFileResult:
    """One image's facts from the worker: valid (with its metadata) or refused with a reason code."""

    valid: ValidImage | None
    file_facts: ImageFileFacts | None
    refused: tuple[str, str] | None = None  # (ImageError code, detail)
    error: BaseException | None = None  # an unexpected error, raised again in the crawl process


def read_image(body: bytes, max_pixels: int) -> ImageFileResult:
    """What the pipeline's validate stage needs from the bytes alone (in this process or a worker)."""
    try:
        valid = validate_image(body, max_pixels)
    except ImageError as rejected:
        return ImageFileResult(None, None, (rejected.code, rejected.detail))
    return ImageFileResult(valid, read_image_file(body))


def _read_batch(bodies: list[bytes], max_pixels: int) -> list[ImageFileResult]:
    results = []
    for body in bodies:
        try:
            results.append(read_image(body, max_pixels))
        except Exception as error:  # noqa: BLE001 - sent back and raised for that image only
            results.append(ImageFileResult(None, None, error=_sendable(error)))
    return results


def _sendable(error: Exception) -> BaseException:
    """The error itself if it pickles, else one of the same type name (the record names only the type)."""
    try:
        pickle.dumps(error)
        return error
    except Exception:  # noqa: BLE001 - not picklable: its type name is what the record keeps anyway
        return RuntimeError(type(error).__name__)


def _start_worker(parent: int) -> None:
    threading.Thread(target=_exit_with_parent, args=(parent,), name="imagework-parent-watch", daemon=True).start()


def _exit_with_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_INTERVAL)
    os._exit(1)


def _ready() -> None:
    """Submitted once at start-up so the worker has imported everything before the first image."""


class ImageWorkPool:
    """Batches images for worker processes; ``await read(body)`` gives that image's ImageFileResult."""

    def __init__(self, max_pixels: int, workers: int | None = None) -> None:
        self.max_pixels = max_pixels
        self.workers = workers or max(1, (os.cpu_count() or 1) - 1)
        self._executor: ProcessPoolExecutor | None = None
        self._pending: list[tuple[bytes, asyncio.Future[ImageFileResult]]] = []
        self._flush_handle: asyncio.TimerHandle | None = None

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                                 initializer=_start_worker, initargs=(os.getpid(),))
        return self._executor

    def warm_up(self) -> None:
        pool = self._pool()
        for _ in range(self.workers):
            pool.submit(_ready)

    def read(self, body: bytes) -> asyncio.Future[ImageFileResult]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[ImageFileResult] = loop.create_future()
        self._pending.append((body, future))
        if len(self._pending) >= BATCH_IMAGES:
            self._flush()
        elif self._flush_handle is None:
            self._flush_handle = loop.call_later(BATCH_WAIT_SECONDS, self._flush)
        return future

    def _flush(self) -> None:
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        batch, self._pending = self._pending, []
        if not batch:
            return
        executor: ProcessPoolExecutor | None = None
        try:
            executor = self._pool()
            done = executor.submit(_read_batch, [body for body, _ in batch], self.max_pixels)
        except Exception as error:  # noqa: BLE001 - a pool that cannot take work fails these images, not the crawl
            self._forget_if_broken(error, executor)
            _fail(batch, error)
            return
        loop = asyncio.get_running_loop()

        def settle_on_loop(finished: object) -> None:
            if not loop.is_closed():
                loop.call_soon_threadsafe(self._settle, batch, finished, executor)

        done.add_done_callback(settle_on_loop)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def _settle(self, batch: list[tuple[bytes, asyncio.Future[ImageFileResult]]], finished: object,
                executor: ProcessPoolExecutor) -> None:
        try:
            results = finished.result()  # type: ignore[attr-defined]
        except BaseException as error:  # noqa: BLE001 - the worker died or the batch could not be sent
            self._forget_if_broken(error, executor)
            _fail(batch, error)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)

    def _forget_if_broken(self, error: BaseException, executor: ProcessPoolExecutor | None) -> None:
        """A worker that died breaks its pool: the images in it failed; the next batch gets a new pool."""
        if isinstance(error, BrokenProcessPool) and executor is not None and self._executor is executor:
            executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None


def _fail(batch: list[tuple[bytes, asyncio.Future[ImageFileResult]]], error: BaseException) -> None:
    for _, future in batch:
        if not future.done():
            future.set_exception(error)
