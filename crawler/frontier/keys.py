"""The Redis keys of one shared run, the connection, and the key that names a request for the whole run."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from policy.errors import ConfigError

#: Redis errors that mean "the server is not there" (checked when a worker starts).
CONNECT_TIMEOUT_SECONDS = 5.0


def request_key(url: str) -> str:
    """The run-wide fingerprint of a URL as the spider dedupes it (GET, no body): sha256 of the URL, hex."""
    return hashlib.sha256(url.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True, slots=True)
class FrontierKeys:
    """Every key of one run under ``prefix:run_id:``; deleting them all forgets the run's frontier."""

    prefix: str
    run_id: str

    def key(self, name: str) -> str:
        return f"{self.prefix}:{self.run_id}:{name}"

    @property
    def queue(self) -> str:  # sorted set: encoded request -> -priority (scrapy-redis's PriorityQueue)
        return self.key("requests")

    @property
    def seen(self) -> str:  # set of request keys ever queued (scrapy-redis's RFPDupeFilter)
        return self.key("dupefilter")

    @property
    def inflight(self) -> str:  # sorted set: lease id -> deadline (unix seconds)
        return self.key("inflight")

    @property
    def leased(self) -> str:  # hash: lease id -> encoded request
        return self.key("leased")

    @property
    def scores(self) -> str:  # hash: lease id -> its queue score, to requeue it in place
        return self.key("scores")

    @property
    def start_urls(self) -> str:  # list of start URLs, popped by the workers' start()
        return self.key("start_urls")

    @property
    def workers(self) -> str:  # hash: worker id -> JSON of its state and counts
        return self.key("workers")

    @property
    def budget_answers(self) -> str:  # hash: request key -> its crawl-budget answer (0 granted, i: i-th budget spent)
        return self.key("budget-answers")

    @property
    def budget_counts(self) -> str:  # hash: budget counter ("page:", "image:HOST") -> requests counted
        return self.key("budget-counts")

    def all(self) -> list[str]:
        return [self.queue, self.seen, self.inflight, self.leased, self.scores, self.start_urls, self.workers,
                self.budget_answers, self.budget_counts]


def connect(url: str) -> Any:
    """A Redis client for ``url``, checked with PING; ConfigError naming the URL if it cannot be reached."""
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
                                      socket_timeout=30, retry_on_timeout=True)
        client.ping()
    except (redis.RedisError, ValueError) as error:
        raise ConfigError(f"the frontier {url} cannot be reached ({type(error).__name__}: {error}); start Redis "
                          "there or give --frontier the URL of a running one") from None
    return client
