"""Start URLs of a shared run: listed once in Redis by the command that creates the run, read by every worker.

Every worker offers every start URL to the frontier; the frontier queues each once (its dupefilter), so a
worker that dies while starting loses nothing and a worker that joins late adds nothing twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from crawler.frontier.keys import FrontierKeys, connect
from crawler.frontier.scheduler import keys_for
from crawler.settings import setting


def queue_start_urls(server: Any, keys: FrontierKeys, urls: list[str]) -> None:
    """Put the run's start URLs in its list (once, by the command that created the run)."""
    if urls:
        server.rpush(keys.start_urls, *urls)


def take_start_urls(crawler: Any) -> Iterator[str]:
    """The run's start URLs, in order (the frontier queues each once, whoever offers it first)."""
    server = connect(setting(crawler.settings, "FAIRCRAWL_FRONTIER"))
    keys = keys_for(crawler.settings)
    for raw in server.lrange(keys.start_urls, 0, -1):
        yield raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
