"""What every image stage shares: recording the image's one decision, and dropping it."""

from __future__ import annotations

from typing import Any, NoReturn

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawler.items import FetchedImage
from crawler.policy_runtime import policy_for
from crawler.recording import recorder_for
from policy import Kind, Outcome, Reason
from policy.engine import Decision
from policy.vocabulary import Purpose


class ImageStage:
    """A stage reads and writes typed fields of the item; ``name`` is used when it fails unexpectedly."""

    name = "stage"

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Any:
        return cls(crawler)

    def record(self, item: FetchedImage, outcome: Outcome, *reasons: Reason, decision: Decision | None = None,
               obligations: dict[str, Any] | None = None) -> str:
        """Record the image's one decision: what was observed, why it was fetched, and the final reasons."""
        if item.decision_id is not None:
            raise RuntimeError(f"{item.url} already has decision {item.decision_id}")
        runtime = policy_for(self.crawler)
        fetched_because = runtime.policy_reasons(item.fetch_decision) if item.fetch_decision else []
        codes = {r.code for r in reasons}
        all_reasons = [*item.observation.reasons, *(r for r in fetched_because if r.code not in codes), *reasons]
        purposes = tuple((purpose, d) for purpose, d in (
            (Purpose.FETCH_IMAGE, item.fetch_decision), (Purpose.COLLECT_IMAGE, item.collect_decision),
            (Purpose.FACE_TEMPLATE, item.template_decision)) if d is not None)
        item.decision_id = recorder_for(self.crawler).decide(
            Kind.IMAGE, outcome, item.url, all_reasons, page_url=item.page_url,
            final_url=item.final_url, signals=item.observation.signals, jurisdiction=item.jurisdiction,
            decision=decision, fetch_decision=item.fetch_decision, obligations=obligations, breaches=item.breaches,
            fetched_at=item.fetched_at, decisions=purposes)
        return item.decision_id

    def drop(self, item: FetchedImage, outcome: Outcome, *reasons: Reason, decision: Decision | None = None) -> NoReturn:
        self.record(item, outcome, *reasons, decision=decision)
        item.forget_encodings()
        raise DropItem(f"{item.url}: {reasons[-1].detail if reasons else outcome.value}")
