"""Face work as Celery tasks, so face workers scale on their own machines, apart from the crawl's.

The crawl (:class:`QueuedFaces`) sends each image's bytes (base64 in a JSON
message: the image is not stored before it is screened, so there is no path
on the shared store to send yet) and gets back something small: boxes, the
image size, whether the search was complete, and the encodings only when a
template may be computed, sealed to the run's public key (faces.sealing), so
neither the broker nor the result backend ever holds them in clear. Results
are deleted from the backend once read. Only JSON is accepted on either
side: a pickle from the broker is never loaded.

Fail closed: a broker that cannot be reached, a result that does not come
back within the timeout, or a result that does not open raises
:class:`FacesUnavailable` with its reason, and the caller must treat the image
as showing faces. A task that fails inside the worker (an image dlib cannot
read) raises :class:`FaceTaskFailed`, as the in-process pool raises the
worker's error. Every key this module writes in Redis starts with
``<queue>:``, so several crawls (or test runs) share one Redis without
meeting.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from celery import Celery
from celery.exceptions import TimeoutError as CeleryTimeout

from faces.analyser import FacesUnavailable, FaceTaskFailed
from faces.detect import Detection
from faces.encode import FaceAnalysis, analyse_faces
from faces.geometry import FaceBox
from faces.sealing import SealError, SealKey, seal

logger = logging.getLogger(__name__)

TASK_NAME = "faircrawl.faces.analyse"
DEFAULT_QUEUE = "faircrawl-faces"
DEFAULT_TIMEOUT = 120.0
#: Face tasks one crawl process waits on at once (each waits in a thread of its own).
DEFAULT_IN_FLIGHT = 16
#: Seconds to connect to the broker before an image counts as unanalysable.
CONNECT_TIMEOUT = 5.0
#: How often to retry a broker or result backend that does not answer, before the image counts as showing faces.
RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}
#: The options of faces.encode.analyse_faces a task may set (anything else in a message is refused).
DETECT_OPTIONS = frozenset({"model", "max_side", "upsample", "max_faces", "max_pixels", "search_pixels"})
_ENCODING_DTYPE = "<f4"  # faces.library's float32, so both back ends give the very same numbers


def uses_redis(broker_url: str) -> bool:
    return broker_url.split("://", 1)[0] in ("redis", "rediss")


def face_queue_app(broker_url: str, queue: str = DEFAULT_QUEUE, result_expires: float = DEFAULT_TIMEOUT) -> Celery:
    """The Celery app both sides build from the same two settings: broker URL and queue name.

    Results go to the same Redis (under the queue's prefix) or, with RabbitMQ, back as reply messages (``rpc://``).
    """
    redis = uses_redis(broker_url)
    app = Celery(f"faircrawl-faces-{queue}", broker=broker_url, backend=broker_url if redis else "rpc://",
                 set_as_current=False)
    prefix = {"global_keyprefix": f"{queue}:"} if redis else {}
    app.conf.update(
        task_serializer="json", result_serializer="json", accept_content=["json"], result_accept_content=["json"],
        task_default_queue=queue, task_routes={TASK_NAME: {"queue": queue}},
        task_acks_late=True, task_reject_on_worker_lost=True,  # a worker that dies leaves the task to another
        worker_prefetch_multiplier=1,  # a face task is long: never hoard them in one worker
        result_expires=max(60, int(result_expires * 2)), result_extended=False,
        broker_connection_timeout=CONNECT_TIMEOUT, broker_connection_retry_on_startup=True,
        broker_transport_options={**prefix, "socket_connect_timeout": CONNECT_TIMEOUT},
        # Celery's Redis result backend retries 20 times a second apart: a crawl would wait that long per image.
        result_backend_transport_options={**prefix, "retry_policy": RETRY_POLICY},
        redis_socket_connect_timeout=CONNECT_TIMEOUT, redis_socket_timeout=CONNECT_TIMEOUT + result_expires,
        task_publish_retry_policy=RETRY_POLICY,
        worker_hijack_root_logger=False, worker_send_task_events=False, task_send_sent_event=False,
    )
    app.task(name=TASK_NAME, ignore_result=False)(analyse_task)
    return app


def analyse_task(image: str, encode: bool, options: dict[str, Any], seal_to: str | None) -> dict[str, Any]:
    """The worker's side: analyse the image; encodings leave the worker only sealed to ``seal_to``.

    A failure comes back as its exception type only (``{"failed": "ImageError"}``), as the in-process pool
    reports it: no traceback or message through the broker, and nothing Celery must rebuild.
    """
    try:
        return _analysed(image, encode, options, seal_to)
    except Exception as error:  # noqa: BLE001 - the image's fault: the crawl records it as failed
        logger.warning("face task failed: %s", type(error).__name__)
        return {"failed": type(error).__name__}


def _analysed(image: str, encode: bool, options: dict[str, Any], seal_to: str | None) -> dict[str, Any]:
    unknown = set(options) - DETECT_OPTIONS
    if unknown:
        raise ValueError(f"unknown face-detection options: {', '.join(sorted(unknown))}")
    analysis = analyse_faces(base64.b64decode(image), encode=encode and seal_to is not None, **options)
    detection = analysis.detection
    sealed = None
    if analysis.encodings and seal_to is not None:
        vectors = np.asarray(analysis.encodings, dtype=_ENCODING_DTYPE)
        sealed = base64.b64encode(seal(base64.b64decode(seal_to), vectors.tobytes())).decode("ascii")
    return {"boxes": [[box.top, box.right, box.bottom, box.left] for box in detection.boxes],
            "width": detection.width, "height": detection.height, "capped": detection.capped,
            "complete": detection.complete, "encodings": sealed}


def analysis_from_result(result: dict[str, Any], key: SealKey) -> FaceAnalysis:
    """The task's small result back as a FaceAnalysis (encodings opened with the run's key)."""
    boxes = tuple(FaceBox(*(int(v) for v in box)) for box in result["boxes"])
    detection = Detection(boxes, int(result["width"]), int(result["height"]), bool(result["capped"]),
                          bool(result["complete"]))
    encodings: tuple[np.ndarray, ...] = ()
    if result.get("encodings"):
        try:
            plain = key.open(base64.b64decode(result["encodings"]))
        except (SealError, ValueError) as error:
            raise FacesUnavailable("faces.queue_unreadable", f"the face result could not be opened ({error})") from None
        encodings = tuple(np.frombuffer(plain, dtype=_ENCODING_DTYPE).reshape(-1, 128).copy())
    return FaceAnalysis(detection, encodings)


class QueuedFaces:
    """The crawl's side of the queue: the same ``warm_up`` / ``analyse`` / ``close`` as faces.FacePool."""

    def __init__(self, broker_url: str, queue: str = DEFAULT_QUEUE, timeout: float = DEFAULT_TIMEOUT,
                 in_flight: int = DEFAULT_IN_FLIGHT, **detect_options: Any) -> None:
        self.broker_url = broker_url
        self.queue = queue
        self.timeout = timeout
        self.detect_options = detect_options
        self.seal_key = SealKey()  # this run's, in memory only
        self.app = face_queue_app(broker_url, queue, timeout)
        self._waiters = ThreadPoolExecutor(in_flight, thread_name_prefix="faces-queue")
        self._backends: dict[int, Any] = {}  # one per waiting thread (Celery keeps backends per thread)
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        """The workers run on their own (``faircrawl faces worker``); say at once if the broker is not there."""
        threading.Thread(target=self._check_broker, name="faces-queue-check", daemon=True).start()

    def _check_broker(self) -> None:
        try:
            check_broker(self.broker_url, self.queue)
        except FacesUnavailable as error:
            logger.warning("face queue %s: %s; every image that needs a face search counts as showing faces "
                           "until it answers", self.queue, error.detail)

    async def detect(self, image_bytes: bytes) -> Detection:
        return (await self.analyse(image_bytes, encode=False)).detection

    async def analyse(self, image_bytes: bytes, encode: bool = True) -> FaceAnalysis:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._waiters, self.round_trip, image_bytes, encode)

    def round_trip(self, image_bytes: bytes, encode: bool) -> FaceAnalysis:
        """Send one task and wait for its result (in a thread: Celery's backends are per thread)."""
        backend = self.app.backend
        with self._lock:
            self._backends.setdefault(id(backend), backend)
        arguments = (base64.b64encode(image_bytes).decode("ascii"), encode, self.detect_options,
                     base64.b64encode(self.seal_key.public).decode("ascii") if encode else None)
        try:
            pending = self.app.send_task(TASK_NAME, arguments, queue=self.queue, task_id=str(uuid.uuid4()),
                                         expires=self.timeout, time_limit=self.timeout + 10)
        except Exception as error:  # noqa: BLE001 - kombu, redis and amqp each raise their own connection errors
            raise FacesUnavailable("faces.queue_unreachable", f"the face queue's broker could not be reached "
                                   f"({type(error).__name__})") from None
        try:
            result = pending.get(timeout=self.timeout, propagate=False, disable_sync_subtasks=False)
            state = pending.state
        except CeleryTimeout:
            raise FacesUnavailable("faces.queue_timeout", f"no face worker answered within {self.timeout:g} s "
                                   f"(queue {self.queue})") from None
        except Exception as error:  # noqa: BLE001 - the result backend went away while waiting
            raise FacesUnavailable("faces.queue_unreachable", f"the face queue's result backend could not be "
                                   f"reached ({type(error).__name__})") from None
        finally:
            _forget(pending)
        if state != "SUCCESS" or not isinstance(result, dict):
            raise FaceTaskFailed(type(result).__name__ if isinstance(result, BaseException) else str(state))
        if "failed" in result:
            raise FaceTaskFailed(str(result["failed"]))
        return analysis_from_result(result, self.seal_key)

    def close(self) -> None:
        """Stop waiting, and close every connection the waiting threads and the producers opened."""
        self._waiters.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            backends, self._backends = list(self._backends.values()), {}
        for backend in backends:
            _release(backend)
        self.app.close()


def _release(backend: Any) -> None:
    """Close a result backend's connections (its result consumer, and the Redis client's pool)."""
    try:
        backend.result_consumer.stop()
    except Exception:  # noqa: BLE001 - a consumer that never started has nothing open
        pass
    client = getattr(backend, "client", None)
    if client is not None:
        client.connection_pool.disconnect()


def _forget(pending: Any) -> None:
    """Delete the result from the backend once read (it is sealed, but need not outlive the crawl's use)."""
    try:
        pending.forget()
    except Exception:  # noqa: BLE001 - it expires anyway (result_expires)
        pass


def check_broker(broker_url: str, queue: str = DEFAULT_QUEUE) -> None:
    """Connect once, so a wrong URL or a stopped broker is said at once instead of retried for ever."""
    app = face_queue_app(broker_url, queue)
    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=CONNECT_TIMEOUT)
    except Exception as error:  # noqa: BLE001 - kombu, redis and amqp each raise their own
        raise FacesUnavailable("faces.queue_unreachable", f"the broker could not be reached "
                               f"({type(error).__name__})") from None


def run_worker(broker_url: str, queue: str = DEFAULT_QUEUE, concurrency: int | None = None,
               loglevel: str = "WARNING") -> None:
    """Run a face worker until stopped: one process per core by default, each loading the models once."""
    from celery.signals import worker_process_init

    from faces import library

    def _load_models(**_: Any) -> None:
        library.load()

    worker_process_init.connect(_load_models, weak=False)
    app = face_queue_app(broker_url, queue)
    app.worker_main(["worker", "--queues", queue, "--concurrency", str(concurrency or os.cpu_count() or 1),
                     "--pool", "prefork", "--loglevel", loglevel, "--hostname", f"faces-{uuid.uuid4().hex[:8]}@%h",
                     "--without-gossip", "--without-mingle", "--without-heartbeat"])
