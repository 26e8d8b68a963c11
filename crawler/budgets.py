"""Crawl budgets (FAIRCRAWL_MAX_PAGES, ..._PER_SITE, FAIRCRAWL_MAX_IMAGES, ...): how many requests a run may make.

A URL is counted once, when the spider would request it; one over a budget gets
a ``budget.*`` refusal instead of a request. One process counts in memory
(:class:`LocalBudgets`). Workers sharing a frontier count for the whole run in
Redis (:class:`crawler.frontier.budgets.RunBudgets`), so ``--max-pages 100``
means 100 page requests for the run, however many workers share it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Protocol

from crawler.settings import setting
from policy import Reason

#: (kind, per site?) -> the setting that limits it
BUDGET_SETTINGS = {("page", False): "FAIRCRAWL_MAX_PAGES", ("page", True): "FAIRCRAWL_MAX_PAGES_PER_SITE",
                   ("image", False): "FAIRCRAWL_MAX_IMAGES", ("image", True): "FAIRCRAWL_MAX_IMAGES_PER_SITE"}


@dataclass(frozen=True, slots=True)
class Budget:
    """One limit that applies to a request: ``kind`` requests for the run, or for ``host`` when per site."""

    kind: str
    per_site: bool
    maximum: int
    host: str

    @property
    def counter(self) -> str:
        """What it counts: ``page:`` for the run, ``page:example.org`` for one host."""
        return f"{self.kind}:{self.host if self.per_site else ''}"

    def spent(self) -> Reason:
        scope = f"for {self.host}" if self.per_site else "for the run"
        return Reason("budget", f"budget.{self.kind}s{'_per_site' if self.per_site else ''}",
                      f"not requested: the {self.kind} budget {scope} ({self.maximum}) is spent",
                      {"limit": self.maximum, "scope": self.host if self.per_site else "run"})


def budget_limits(settings: Any) -> dict[tuple[str, bool], int]:
    """(kind, per site?) -> the limit set for it; unset (0) ones left out. Read once per crawl."""
    return {key: maximum for key, name in BUDGET_SETTINGS.items() if (maximum := setting(settings, name))}


def budgets_for(limits: dict[tuple[str, bool], int], kind: str, host: str) -> list[Budget]:
    """The limits that apply to a request of ``kind`` to ``host``."""
    return [Budget(kind, per_site, maximum, host)
            for (budget_kind, per_site), maximum in limits.items() if budget_kind == kind]


class Budgets(Protocol):
    def claim(self, url: str, budgets: list[Budget]) -> Reason | None:
        """Count ``url`` against ``budgets``: None if it may be requested, else the refusal of the first spent one."""


class LocalBudgets:
    """One process's counts (the spider has already deduped the URL)."""

    def __init__(self) -> None:
        self.used: Counter[str] = Counter()

    def claim(self, url: str, budgets: list[Budget]) -> Reason | None:
        for budget in budgets:
            if self.used[budget.counter] >= budget.maximum:
                return budget.spent()
        for budget in budgets:
            self.used[budget.counter] += 1
        return None
