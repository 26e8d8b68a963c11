"""A per-client limit on filing requests and opt-outs: a sliding window, with a clock a test can replace."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable


class RateLimiter:
    """At most ``limit`` events per client in any ``window`` seconds; ``check`` says how long to wait otherwise."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, client: str) -> int | None:
        """Count one event for ``client``; None when allowed, else the seconds until it would be (Retry-After)."""
        now = self.clock()
        with self._lock:
            events = self._events.setdefault(client, deque())
            while events and events[0] <= now - self.window:
                events.popleft()
            if len(events) >= self.limit:
                return max(1, math.ceil(events[0] + self.window - now))
            events.append(now)
            if len(self._events) > 10_000:  # forget idle clients, so the table cannot grow without bound
                for idle in [c for c, e in self._events.items() if not e or e[-1] <= now - self.window]:
                    del self._events[idle]
            return None
