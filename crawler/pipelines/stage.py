"""What every image pipeline stage shares: recording an image's final decision and dropping it."""

from __future__ import annotations

from typing import Any, NoReturn

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawler.items import FetchedImage
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
        return recorder_for(self.crawler).decide(
            Kind.IMAGE, outcome, item.url, [*item.observation.reasons, *reasons], page_url=item.page_url,
            final_url=item.final_url, signals=item.observation.signals, jurisdiction=item.jurisdiction,
            decision=decision, obligations=obligations)

    def drop(self, item: FetchedImage, outcome: Outcome, *reasons: Reason, decision: Decision | None = None) -> NoReturn:
        self.record(item, outcome, *reasons, decision=decision)
        self.crawler.stats.inc_value(f"faircrawl/{outcome.value}/{(reasons[-1].code if reasons else 'policy').replace('.', '/')}")
        raise DropItem(f"{item.url}: {reasons[-1].detail if reasons else outcome.value}")
