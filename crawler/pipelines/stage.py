"""What every image pipeline stage shares: recording an image's final decision and dropping it."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, NoReturn

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawler.items import FetchedImage
from crawler.policy_runtime import policy_for
from crawler.recording import recorder_for
from policy import Kind, Outcome, Reason
from policy.engine import Decision


class ImageStage:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Any:
        return cls(crawler)

    def record(self, item: FetchedImage, outcome: Outcome, *reasons: Reason, decision: Decision | None = None,
               obligations: dict[str, Any] | None = None) -> str:
        """Record the image's decision: what was observed, why it was fetched, and the final reasons."""
        fetched_because = policy_for(self.crawler).policy_reasons(item.fetch_decision) if item.fetch_decision else []
        codes = {r.code for r in reasons}
        all_reasons = [*item.observation.reasons, *(r for r in fetched_because if r.code not in codes), *reasons]
        if decision is not None and item.fetch_decision is not None:
            decision = replace(
                decision,
                matched_rules=tuple(dict.fromkeys((*item.fetch_decision.matched_rules, *decision.matched_rules))),
                breaches=tuple(dict.fromkeys((*item.fetch_decision.breaches, *decision.breaches,
                                              *item.extra.get("extra_breaches", ())))))
        return recorder_for(self.crawler).decide(
            Kind.IMAGE, outcome, item.url, all_reasons, page_url=item.page_url,
            final_url=item.final_url, signals=item.observation.signals, jurisdiction=item.jurisdiction,
            decision=decision, obligations=obligations, fetched_at=item.fetched_at)

    def drop(self, item: FetchedImage, outcome: Outcome, *reasons: Reason, decision: Decision | None = None) -> NoReturn:
        self.record(item, outcome, *reasons, decision=decision)
        self.crawler.stats.inc_value(f"faircrawl/{outcome.value}/{(reasons[-1].code if reasons else 'policy').replace('.', '/')}")
        raise DropItem(f"{item.url}: {reasons[-1].detail if reasons else outcome.value}")
