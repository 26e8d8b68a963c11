"""Crawl budgets for the whole run when workers share a frontier: each URL counted once, in one Redis script.

Two workers can find the same link; the first to claim its request key counts
it (and requests it, or refuses it as over budget), the other learns that it is
taken and does nothing, as the frontier's dupefilter would have dropped it. The
check and the counting are one script, so N workers never make more requests
than the budget allows between them.
"""

from __future__ import annotations

from typing import Any, Literal

from crawler.budgets import Budget
from crawler.frontier.keys import FrontierKeys, request_key
from policy import Reason

# KEYS: counted (set of request keys), counts (hash: counter -> requests); ARGV: request key, then counter, maximum
# pairs. -1 if the key was counted before, 0 if counted now, i if the i-th budget is spent (the key stays counted).
_CLAIM = """
if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return -1 end
local n = (#ARGV - 1) / 2
for i = 1, n do
  if tonumber(redis.call('HGET', KEYS[2], ARGV[2 * i]) or '0') >= tonumber(ARGV[2 * i + 1]) then return i end
end
for i = 1, n do redis.call('HINCRBY', KEYS[2], ARGV[2 * i], 1) end
return 0
"""


class RunBudgets:
    """The run's counts in Redis, under the run's frontier keys."""

    def __init__(self, server: Any, keys: FrontierKeys) -> None:
        self.server = server
        self.keys = keys

    def claim(self, url: str, budgets: list[Budget]) -> Reason | None | Literal[False]:
        if not budgets:  # nothing limits this request: no round trip
            return None
        pairs = [value for budget in budgets for value in (budget.counter, budget.maximum)]
        found = int(self.server.eval(_CLAIM, 2, self.keys.budget_counted, self.keys.budget_counts,
                                     request_key(url), *pairs))
        if found < 0:
            return False
        return budgets[found - 1].spent() if found else None

    def used(self) -> dict[str, int]:
        """Requests counted so far, by counter (``page:``, ``image:example.org`` ...)."""
        return {k.decode(): int(v) for k, v in self.server.hgetall(self.keys.budget_counts).items()}
