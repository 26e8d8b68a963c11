"""Stage 3, faces: count the faces when the policy's answer depends on them, then decide again.

Detection runs in worker processes (faces.FacePool); nothing about a face is
kept here: only the count goes into the signals. For an image that is kept
and shows faces, the ``face_template`` decision's obligation (none, transient,
persist) is recorded with it, for the template stage to follow.
"""

from __future__ import annotations

from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler

from crawler.items import FetchedImage
from crawler.pipelines.stage import ImageStage
from crawler.policy_runtime import policy_for
from faces import FacePool
from policy import Outcome, Reason
from policy.engine import combine_obligations
from policy.vocabulary import Purpose


class FacesPipeline(ImageStage):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        settings = crawler.settings
        self.model = settings.get("FAIRCRAWL_FACE_MODEL")
        self.pool = FacePool(settings.getint("FAIRCRAWL_FACE_WORKERS") or None, model=self.model,
                             max_side=settings.getint("FAIRCRAWL_FACE_MAX_SIDE"))
        rules = policy_for(crawler).loaded.pack.rules
        # Start the workers with the crawl when the pack can ever ask about faces.
        self.may_need_faces = any(
            any(c.signal == "image.faces" for c in rule.conditions)
            or (Purpose.FACE_TEMPLATE in rule.purposes and rule.effect == "allow") for rule in rules)
        crawler.signals.connect(self._opened, signal=signals.spider_opened)
        crawler.signals.connect(self._closed, signal=signals.spider_closed)

    def _opened(self, spider: Any) -> None:
        if self.may_need_faces:
            self.pool.warm_up()

    def _closed(self, spider: Any) -> None:
        self.pool.close()

    async def process_item(self, item: FetchedImage) -> FetchedImage:
        if not item.extra.get("faces_matter"):
            return item
        runtime = policy_for(self.crawler)
        try:
            detection = await self.pool.detect(item.body)
        except Exception as error:  # noqa: BLE001 - a face worker that fails must not stop the crawl
            self.drop(item, Outcome.FAILED, Reason("faces", "faces.detection_failed",
                                                   f"face detection failed ({type(error).__name__}); not kept"))
        item.observation.signals["image.faces"] = detection.count
        detail = f"{detection.count} face(s) detected ({self.model})" + (" - cap reached" if detection.capped else "")
        item.observation.reasons.append(Reason("faces", "faces.detected" if detection.count else "faces.none", detail))
        assert item.jurisdiction is not None
        decision = runtime.decide(Purpose.COLLECT_IMAGE, item.jurisdiction, item.observation.signals)
        if not decision.allowed:
            self.drop(item, Outcome.REFUSED, *runtime.policy_reasons(decision), decision=decision)
        item.extra["decision"] = decision
        if detection.count:
            template = runtime.decide(Purpose.FACE_TEMPLATE, item.jurisdiction, item.observation.signals)
            templates = dict(template.obligations) if template.allowed else {"templates": "none"}
            item.extra["obligations"] = {**combine_obligations([]), **decision.obligations, **templates}
            item.extra["template_decision"] = template
        return item
