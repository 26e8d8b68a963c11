"""Faces on a Celery queue: the same decisions as the in-process pool, nothing clear on the broker, fail closed.

A real Redis (127.0.0.1:6379, or FAIRCRAWL_TEST_REDIS_URL) and a real
`faircrawl faces worker` started as a subprocess for the module. Each run uses
a fresh queue name, which also prefixes every key the tasks write, so other
users of the same Redis are never touched; the keys are deleted afterwards.
"""

from __future__ import annotations

import base64
import json
import os
import re
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from crawler.testsites.images import landscape
from crawler.testsites.photos import face_photo
from tests.conftest import PROJECT_ROOT, CrawlResult, run_faircrawl

REDIS_URL = os.environ.get("FAIRCRAWL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
#: Reason codes that depend on arrival order (which copy of the same bytes came first), not on the back end.
ORDER_DEPENDENT = {"faces.known_image"}
TIMED_OUT = "fetch.timeout"
QUEUE_REASONS = {"faces.queue_unreachable", "faces.queue_timeout", "faces.queue_unreadable"}


def _require_redis() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        message = f"Redis not reachable at {REDIS_URL} ({type(error).__name__})"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message}: CI must run the face-queue tests")
        pytest.skip(f"{message}; start it on 127.0.0.1:6379 (or set FAIRCRAWL_TEST_REDIS_URL); "
                    "CI (CI=true) always runs these")


def _delete_keys(prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match=f"{prefix}*", count=500):
        client.delete(key)


@pytest.fixture(scope="module")
def face_queue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real face worker (2 processes) on a fresh queue; yields the queue name."""
    _require_redis()
    from faces.queue import QueuedFaces

    queue = f"faircrawl-test-{uuid.uuid4().hex[:10]}"
    log = (tmp_path_factory.mktemp("face-worker") / "worker.log").open("w+")
    worker = subprocess.Popen([sys.executable, "-m", "crawler.cli", "faces", "worker", "--broker", REDIS_URL,
                               "--queue", queue, "--concurrency", "2"], cwd=PROJECT_ROOT, stdout=log, stderr=log)
    try:
        client = QueuedFaces(REDIS_URL, queue, timeout=180)
        try:
            client.round_trip(landscape(1, size=(64, 48)), False)  # the worker answers: ready
        finally:
            client.close()
        yield queue
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=10)
        log.close()
        _delete_keys(f"{queue}:")


def _crawl(workdir: Path, *args: str, env: dict[str, str] | None = None) -> CrawlResult:
    workdir.mkdir(parents=True, exist_ok=True)
    db_url = f"sqlite:///{workdir}/faircrawl.db"
    report_path = workdir / "report.json"
    process = run_faircrawl("crawl", "--testsites", *args, "--db", db_url, "--store", str(workdir / "images"),
                            "--report", str(report_path), cwd=workdir, env=env)
    assert process.returncode == 0, f"crawl failed:\n{process.stdout}\n{process.stderr}"
    return CrawlResult(process, json.loads(report_path.read_text()), db_url, workdir / "images")


def _queued(queue: str, broker: str = REDIS_URL, **more: str) -> dict[str, str]:
    return {"FAIRCRAWL_FACES_BROKER": broker, "FAIRCRAWL_FACES_QUEUE": queue, **more}


def _outcomes(result: CrawlResult) -> dict[tuple[str, str], tuple[str, tuple[str, ...], Any]]:
    return {(d["url"], d["kind"]): (d["outcome"], tuple(sorted({r["code"] for r in d["reasons"]} - ORDER_DEPENDENT)),
                                    d["signals"].get("image.faces")) for d in result.report["decisions"]}


def _faces_and_templates(result: CrawlResult) -> tuple[set[tuple[Any, ...]], dict[tuple[str, int], np.ndarray]]:
    """Stored face boxes, and persisted templates decrypted with the crawl's own key."""
    workdir = result.store.parent
    key = Fernet((workdir / "var" / "faircrawl.key").read_bytes().strip())
    engine = sa.create_engine(result.db_url)
    try:
        with engine.connect() as connection:
            boxes = {tuple(row) for row in connection.execute(sa.text(
                "select image_sha256, face_index, top, right, bottom, left from faces"))}
            templates = {(sha, index): np.frombuffer(key.decrypt(ciphertext), dtype=np.float32)
                         for sha, index, ciphertext in connection.execute(sa.text(
                             "select image_sha256, face_index, ciphertext from face_templates"))}
    finally:
        engine.dispose()
    return boxes, templates


def test_the_catalog_through_celery_is_decided_as_with_the_in_process_pool(
        catalog_crawl: CrawlResult, face_queue: str, tmp_path: Path) -> None:
    queued = _crawl(tmp_path / "queued", env=_queued(face_queue))
    in_process, through_queue = _outcomes(catalog_crawl), _outcomes(queued)
    assert set(through_queue) == set(in_process)
    # A fetch that timed out on a loaded machine (either crawl) says nothing about faces: it is left out, and rare.
    timed_out = {key for key in in_process if TIMED_OUT in in_process[key][1] or TIMED_OUT in through_queue[key][1]}
    assert len(timed_out) <= 3
    differing = {key: (in_process[key], through_queue[key]) for key in set(in_process) - timed_out
                 if in_process[key] != through_queue[key]}
    assert not differing
    codes = [code for _, reasons, _ in through_queue.values() for code in reasons]
    assert codes.count("faces.detected") >= 5 and not QUEUE_REASONS & set(codes)  # faces were really searched
    boxes, templates = _faces_and_templates(queued)
    expected_boxes, expected_templates = _faces_and_templates(catalog_crawl)
    assert boxes == expected_boxes and len(boxes) >= 5
    assert templates.keys() == expected_templates.keys() and templates  # persisted templates: the very same vectors
    assert all(np.array_equal(templates[key], expected_templates[key]) for key in templates)


class RedisMonitor:
    """Every command the Redis server receives while it runs (its MONITOR feed), arguments as bytes."""

    _ARGUMENT = re.compile(rb'"((?:[^"\\]|\\.)*)"')

    def __init__(self, url: str) -> None:
        from redis.connection import parse_url

        options = parse_url(url)
        self._socket = socket.create_connection((options.get("host", "127.0.0.1"), options.get("port", 6379)), 10)
        self._socket.sendall(b"MONITOR\r\n")
        self.commands: list[list[bytes]] = []
        self._marker = f"faircrawl-monitor-stop-{uuid.uuid4().hex}".encode()
        self._url = url
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        buffered = b""
        while True:
            chunk = self._socket.recv(1 << 20)
            if not chunk:
                return
            buffered += chunk
            *lines, buffered = buffered.split(b"\r\n")
            for line in lines:
                arguments = [_unescape(raw) for raw in self._ARGUMENT.findall(line)]
                if self._marker in arguments:
                    return
                self.commands.append(arguments)

    def stop(self) -> list[list[bytes]]:
        import redis

        redis.Redis.from_url(self._url).get(self._marker)
        self._reader.join(timeout=30)
        self._socket.close()
        return self.commands


def _unescape(quoted: bytes) -> bytes:
    r"""Undo the quoting of Redis's MONITOR output (sdscatrepr: \n \r \t \a \b \\ \" and \xHH)."""
    simple = {ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t", ord("a"): b"\a", ord("b"): b"\b",
              ord("\\"): b"\\", ord('"'): b'"'}
    out, index = bytearray(), 0
    while index < len(quoted):
        if quoted[index] == ord("\\") and index + 1 < len(quoted):
            following = quoted[index + 1]
            if following == ord("x"):
                out.append(int(quoted[index + 2:index + 4], 16))
                index += 4
                continue
            out += simple.get(following, bytes([following]))
            index += 2
            continue
        out.append(quoted[index])
        index += 1
    return bytes(out)


def _layers(blob: bytes, depth: int = 0) -> Iterator[bytes]:
    """A payload and everything inside it: JSON strings, and base64 text decoded (kombu wraps bodies in base64)."""
    yield blob
    if depth > 4:
        return
    try:
        parsed = json.loads(blob)
    except (ValueError, UnicodeDecodeError):
        parsed = None
    texts = list(_strings(parsed)) if parsed is not None else [blob.decode("latin-1")]
    for text in texts:
        if text.encode("latin-1", "replace") != blob:
            yield text.encode("latin-1", "replace")
        if len(text) >= 40 and re.fullmatch(r"[A-Za-z0-9+/=\s]+", text):
            try:
                yield from _layers(base64.b64decode(text), depth + 1)
            except ValueError:
                pass


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


#: A clear encoding written as JSON numbers: 128 floats in a list.
_FLOAT_LIST = re.compile(rb"\[\s*(-?\d+\.\d+(e-?\d+)?\s*,\s*){127}-?\d+\.\d+")


def test_the_broker_and_result_backend_never_hold_an_encoding_in_clear(face_queue: str) -> None:
    from faces.encode import analyse_faces
    from faces.queue import QueuedFaces

    photos = [face_photo("obama.jpg"), face_photo("biden.jpg")]
    expected = [analyse_faces(photo).encodings for photo in photos]  # in this process: what must not leak
    client = QueuedFaces(REDIS_URL, face_queue, timeout=180)
    monitor = RedisMonitor(REDIS_URL)
    try:
        received = [client.round_trip(photo, True).encodings for photo in photos]
    finally:
        commands = monitor.stop()
        client.close()
    assert [len(e) for e in received] == [1, 1]
    assert all(np.array_equal(a, b) for got, want in zip(received, expected, strict=True) for a, b in zip(got, want, strict=True))
    blobs = [layer for arguments in commands for argument in arguments for layer in _layers(argument)]
    # Positive controls: the feed did carry both the tasks (the image bytes) and their results (sealed encodings).
    assert all(any(photo in blob for blob in blobs) for photo in photos)
    opened = []
    for blob in blobs:
        try:
            opened.append(client.seal_key.open(blob))
        except ValueError:
            continue
    assert {np.frombuffer(plain, dtype="<f4").tobytes() for plain in opened} >= {
        e[0].astype("<f4").tobytes() for e in expected}
    # The encodings themselves, as raw float32 or float64 bytes or as JSON numbers, appear nowhere.
    for encodings in expected:
        for vector in encodings:
            for needle in (vector.astype("<f4").tobytes(), vector.astype("<f8").tobytes(),
                           vector.astype(">f4").tobytes()):
                assert not any(needle in blob for blob in blobs)
    assert not any(_FLOAT_LIST.search(blob) for blob in blobs)


def test_an_image_the_worker_cannot_read_fails_with_the_workers_reason(face_queue: str) -> None:
    from faces.analyser import FaceTaskFailed
    from faces.queue import QueuedFaces

    client = QueuedFaces(REDIS_URL, face_queue, timeout=180)
    try:
        with pytest.raises(FaceTaskFailed, match="ImageError"):
            client.round_trip(b"GIF89a but nothing after it", False)
    finally:
        client.close()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_broker_that_is_down_makes_every_searched_image_count_as_showing_faces(tmp_path: Path) -> None:
    broker = f"redis://127.0.0.1:{_closed_port()}/0"
    result = _crawl(tmp_path, "http://gallery.example.de/", env=_queued("faircrawl-down", broker))
    forest = result.decision("http://gallery.example.de/img/forest.jpg", "image")  # no face in it
    assert forest["outcome"] == "refused" and forest["signals"]["image.faces"] >= 1
    reasons = {r["code"]: r["detail"] for r in forest["reasons"]}
    assert "broker could not be reached" in reasons["faces.queue_unreachable"]
    assert "faces.none" not in reasons and "eu-face-images-need-consent" in reasons
    searched = [d for d in result.report["decisions"] if d["kind"] == "image" and "image.faces" in d["signals"]]
    assert searched and all(any(r["code"] == "faces.queue_unreachable" for r in d["reasons"]) for d in searched)
    assert all(d["outcome"] != "stored" for d in searched)


def test_no_worker_within_the_timeout_counts_as_showing_faces(tmp_path: Path) -> None:
    _require_redis()
    queue = f"faircrawl-test-idle-{uuid.uuid4().hex[:10]}"  # nobody takes tasks from it
    try:
        result = _crawl(tmp_path, "http://gallery.example.de/", env=_queued(queue, FAIRCRAWL_FACES_TIMEOUT="2"))
    finally:
        _delete_keys(f"{queue}:")
    forest = result.decision("http://gallery.example.de/img/forest.jpg", "image")
    assert forest["outcome"] == "refused" and forest["signals"]["image.faces"] >= 1
    timeout = next(r for r in forest["reasons"] if r["code"] == "faces.queue_timeout")
    assert "no face worker answered within 2 s" in timeout["detail"]


RABBITMQ_URL = os.environ.get("FAIRCRAWL_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")


def test_a_rabbitmq_broker_carries_the_same_analysis(tmp_path: Path) -> None:
    from faces.analyser import FacesUnavailable
    from faces.encode import analyse_faces
    from faces.queue import QueuedFaces, check_broker, face_queue_app

    queue = f"faircrawl-test-{uuid.uuid4().hex[:10]}"
    try:
        check_broker(RABBITMQ_URL, queue)
    except FacesUnavailable as error:
        message = f"RabbitMQ not reachable at {RABBITMQ_URL} ({error.detail})"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message}: CI must run the face-queue tests")
        pytest.skip(f"{message}; start it on 127.0.0.1:5672 (guest/guest) or set FAIRCRAWL_TEST_RABBITMQ_URL; "
                    "CI (CI=true) always runs this")
    log = (tmp_path / "worker.log").open("w+")
    worker = subprocess.Popen([sys.executable, "-m", "crawler.cli", "faces", "worker", "--broker", RABBITMQ_URL,
                               "--queue", queue, "--concurrency", "1"], cwd=PROJECT_ROOT, stdout=log, stderr=log)
    client = QueuedFaces(RABBITMQ_URL, queue, timeout=180)
    try:
        photo = face_photo("biden.jpg")
        through_queue = client.round_trip(photo, True)
        expected = analyse_faces(photo)
        assert through_queue.detection == expected.detection and expected.count == 1
        assert [e.tobytes() for e in through_queue.encodings] == [e.tobytes() for e in expected.encodings]
        face_free = client.round_trip(landscape(2, size=(320, 240)), True)
        assert face_free.count == 0 and face_free.detection.complete and not face_free.encodings
    finally:
        client.close()
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=10)
        log.close()
        with face_queue_app(RABBITMQ_URL, queue).connection_for_write() as connection:
            connection.default_channel.queue_delete(queue)
