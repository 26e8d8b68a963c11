"""Crawl budgets for the whole run when workers share a frontier: each URL counted once, in one Redis script.

Two workers can find the same link. The first to claim its request key counts
it against every budget that applies and the answer is kept with the key:
granted, or refused by the i-th budget. Every later claim of that key gets the
same answer without counting again. A granted URL is then requested by each
finder, and the frontier queues it once (its dupefilter); a refused one is
refused by each, and the decision is the same row (decision ids derive from
run and request key). So N workers never make more requests than the budget
between them, and a worker that dies between its claim and queueing the
request loses nothing: the page is leased again, parsed again, and its links
claimed again with the same answers.
"""

from __future__ import annotations

from typing import Any

from crawler.budgets import Budget
from crawler.frontier.keys import FrontierKeys, request_key
from policy import Reason

# KEYS: answers (hash: request key -> 0 granted, i refused by the i-th budget), counts (hash: counter -> requests);
# ARGV: request key, then (counter, maximum) pairs. The key's answer, decided on its first claim.
_CLAIM = """
local answered = redis.call('HGET', KEYS[1], ARGV[1])
if answered then return tonumber(answered) end
local n = (#ARGV - 1) / 2
for i = 1, n do
  if tonumber(redis.call('HGET', KEYS[2], ARGV[2 * i]) or '0') >= tonumber(ARGV[2 * i + 1]) then
    redis.call('HSET', KEYS[1], ARGV[1], i)
    return i
  end
end
for i = 1, n do redis.call('HINCRBY', KEYS[2], ARGV[2 * i], 1) end
redis.call('HSET', KEYS[1], ARGV[1], 0)
return 0
"""


class RunBudgets:
    """The run's counts in Redis, under the run's frontier keys."""

    def __init__(self, server: Any, keys: FrontierKeys) -> None:
        self.server = server
        self.keys = keys

    def claim(self, url: str, budgets: list[Budget]) -> Reason | None:
        if not budgets:  # nothing limits this request: no round trip
            return None
        pairs = [value for budget in budgets for value in (budget.counter, budget.maximum)]
        answer = int(self.server.eval(_CLAIM, 2, self.keys.budget_answers, self.keys.budget_counts,
                                      request_key(url), *pairs))
        return budgets[answer - 1].spent() if answer else None

    def used(self) -> dict[str, int]:
        """Requests counted so far, by counter (``page:``, ``image:example.org`` ...)."""
        return {k.decode(): int(v) for k, v in self.server.hgetall(self.keys.budget_counts).items()}
