"""Counts live Python objects of the kinds a crawl makes per response, at two points of a real crawl.

Run as ``python -m tests.crawler.live_objects OUT.json '[1000, 3000]' <faircrawl crawl arguments>``: the real
``faircrawl crawl`` command, with one more Scrapy extension configured. The
extension counts responses and, when the count reaches each checkpoint, runs
the garbage collector and counts the live objects of each per-response kind,
then writes the samples (and the collector's settings, during the crawl and
once faircrawl has closed the spider) to OUT.json when the spider closes.
"""

from __future__ import annotations

import gc
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler

#: Objects a crawl makes for each request, response or image: none may stay once it is written.
PER_RESPONSE_KINDS = frozenset({
    "Request", "Response", "HtmlResponse", "TextResponse", "Headers", "Selector", "FetchedImage", "ValidImage",
    "FaceFindings", "DecisionRecord", "Decision", "Observation", "PageFacts", "Reason", "Jurisdiction",
})
CHECKPOINTS_SETTING = "LIVE_OBJECTS_AT"  # response counts at which to sample, e.g. [1000, 3000]
OUT_SETTING = "LIVE_OBJECTS_OUT"


def collector_state() -> dict[str, Any]:
    """What crawler/gc_tuning.py sets while the spider is open: frozen objects and the young threshold."""
    return {"frozen": gc.get_freeze_count(), "young_threshold": gc.get_threshold()[0]}


def live_counts() -> dict[str, int]:
    gc.collect()
    counts = Counter(type(o).__name__ for o in gc.get_objects())
    return {kind: counts[kind] for kind in sorted(PER_RESPONSE_KINDS)}


class LiveObjects:
    def __init__(self, crawler: Crawler) -> None:
        self.checkpoints = sorted(int(n) for n in crawler.settings.getlist(CHECKPOINTS_SETTING))
        self.out = Path(crawler.settings.get(OUT_SETTING))
        self.crawler = crawler
        self.responses = 0
        self.samples: list[dict[str, Any]] = []
        self.spill_folder: str | None = None  # the embedded scheduler's disk queue (crawler/frontier/embedded.py)
        crawler.signals.connect(self._response, signal=signals.response_received)
        crawler.signals.connect(self._closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LiveObjects:
        return cls(crawler)

    def _response(self, **_: Any) -> None:
        self.responses += 1
        if self.responses in self.checkpoints:
            self.samples.append({"responses": self.responses, "counts": live_counts(), "collector": collector_state()})
            scheduler = self.crawler.engine.scheduler if self.crawler.engine else None
            self.spill_folder = self.spill_folder or getattr(scheduler, "spill_folder", None)

    def _closed(self, spider: Any, reason: str) -> None:
        stats = self.crawler.stats.get_stats() if self.crawler.stats else {}
        self.out.write_text(json.dumps({
            "responses": self.responses, "samples": self.samples, "collector_at_close": collector_state(),
            "scheduler": {key: value for key, value in stats.items() if key.startswith("scheduler/")},
            "spill_folder": self.spill_folder,
            "spill_folder_left": bool(self.spill_folder) and Path(self.spill_folder).exists(),
        }))


def main(argv: list[str]) -> None:
    out, checkpoints, crawl_arguments = argv[0], json.loads(argv[1]), argv[2:]
    from crawler import settings as project_settings

    project_settings.EXTENSIONS = {**project_settings.EXTENSIONS, "tests.crawler.live_objects.LiveObjects": 900}
    project_settings.LIVE_OBJECTS_AT = checkpoints  # type: ignore[attr-defined]
    project_settings.LIVE_OBJECTS_OUT = out  # type: ignore[attr-defined]
    from crawler.cli import main as faircrawl

    faircrawl(["crawl", *crawl_arguments])


if __name__ == "__main__":
    main(sys.argv[1:])
