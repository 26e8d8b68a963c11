"""Requests run in the background, one at a time, on one worker thread: the face search already uses the cores.

A request filed through the API is queued and the answer (202) goes back at once; the worker takes each
through the rights service's checkpoints. At start-up every unfinished request (a server killed mid-request,
a CLI command that died) is queued again and resumes from its last checkpoint. A request that fails is
retried after a pause until the service gives up on it (``MAX_ATTEMPTS``).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any

from storage.rights.service import MAX_ATTEMPTS

logger = logging.getLogger(__name__)

#: Seconds before a failed request is tried again.
RETRY_PAUSE_SECONDS = 2.0


class RequestWorker:
    def __init__(self, service: Any) -> None:
        self.service = service
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name="faircrawl-rights-worker", daemon=True)
        self._lock = threading.Lock()
        self.current: str | None = None
        self.activity: str | None = None  # the service's latest progress line for the current request (counts only)
        self._queued: set[str] = set()

    def start(self) -> list[str]:
        """Start the thread; queue (and return) the unfinished requests it resumes."""
        resumed = list(self.service.unfinished())
        for request_id in resumed:
            self.submit(request_id)
        self._thread.start()
        return resumed

    def submit(self, request_id: str) -> None:
        with self._lock:
            if request_id in self._queued:
                return
            self._queued.add(request_id)
        self._queue.put(request_id)

    def pending(self, request_id: str) -> bool:
        with self._lock:
            return request_id in self._queued

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def progress(self, line: str) -> None:
        """The service's progress callback (its lines hold counts, never data)."""
        self.activity = line

    def stop(self, timeout: float = 5.0) -> None:
        self._queue.put(None)
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _loop(self) -> None:
        while True:
            request_id = self._queue.get()
            if request_id is None:
                return
            self.current, self.activity = request_id, None
            try:
                outcome = self.service.run(request_id)
                failed = outcome.status == "failed" and int(outcome.row.get("attempts") or 0) < MAX_ATTEMPTS
            except Exception as error:  # noqa: BLE001 - the worker must outlive any one request
                logger.error("rights request %s could not run: %s", request_id, type(error).__name__)
                failed = False
            finally:
                self.current, self.activity = None, None
                with self._lock:
                    self._queued.discard(request_id)
            if failed:
                time.sleep(RETRY_PAUSE_SECONDS)
                self.submit(request_id)
