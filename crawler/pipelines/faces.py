"""Stage 3, faces: find (and where a template is allowed, encode) the faces the policy asks about.

Detection and encoding run in worker processes (faces.FacePool). The policy
decides again with the face count; for an image that may be kept and shows
faces, the ``face_template`` decision's obligation (none, transient, persist)
says whether encodings may be computed at all: only then can the image be
screened by face against opt-outs. Encodings stay in memory on the item and
are dropped by the store stage unless the obligation is ``persist``.
A known image (same sha256, or the same perceptual hash, in this crawl) is not
analysed again; the cache holds counts and in-memory encodings only, for the crawl.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scrapy import signals
from scrapy.crawler import Crawler

from crawler.items import FetchedImage
from crawler.pipelines.stage import ImageStage
from crawler.policy_runtime import pack_may_ask_about_faces, policy_for
from faces import FacePool
from faces.encode import FaceAnalysis
from policy import Outcome, Reason
from policy.vocabulary import Purpose


class FacesPipeline(ImageStage):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        settings = crawler.settings
        self.model = settings.get("FAIRCRAWL_FACE_MODEL")
        self.pool = FacePool(settings.getint("FAIRCRAWL_FACE_WORKERS") or None, model=self.model,
                             max_side=settings.getint("FAIRCRAWL_FACE_MAX_SIDE"))
        # Start the workers with the crawl when the pack can ever ask about faces.
        self.may_need_faces = any(pack_may_ask_about_faces(rule) for rule in policy_for(crawler).loaded.pack.rules)
        self._known: dict[tuple[str, bool], FaceAnalysis] = {}  # sha256, encoded -> analysis, this crawl only
        crawler.signals.connect(self._opened, signal=signals.spider_opened)
        crawler.signals.connect(self._closed, signal=signals.spider_closed)

    def _opened(self, spider: Any) -> None:
        if self.may_need_faces:
            self.pool.warm_up()

    def _closed(self, spider: Any) -> None:
        self.pool.close()
        self._known.clear()

    def process_item(self, item: FetchedImage) -> Any:
        if not item.extra.get("faces_matter"):
            return item  # synchronously: most images of most jurisdictions in a face-free crawl
        return self._analyse(item)

    async def _analyse(self, item: FetchedImage) -> FetchedImage:
        runtime = policy_for(self.crawler)
        assert item.jurisdiction is not None
        template = runtime.decide(Purpose.FACE_TEMPLATE, item.jurisdiction, {**item.observation.signals, "image.faces": 1})
        encode = template.allowed and template.obligations.get("templates", "none") != "none"
        valid = item.extra["valid"]
        analysis = None
        for key in (valid.sha256, f"phash:{valid.perceptual_hash:016x}"):  # same bytes, or the same picture
            analysis = self._known.get((key, encode)) or (self._known.get((key, True)) if not encode else None)
            if analysis is not None:
                break
        if analysis is None:
            try:
                analysis = await self.pool.analyse(item.body, encode=encode)
            except Exception as error:  # noqa: BLE001 - a face worker that fails must not stop the crawl
                self.drop(item, Outcome.FAILED, Reason("faces", "faces.detection_failed",
                                                       f"face analysis failed ({type(error).__name__}); not kept"))
            self._known[(valid.sha256, encode)] = analysis
            self._known[(f"phash:{valid.perceptual_hash:016x}", encode)] = analysis
        else:
            item.observation.reasons.append(Reason("faces", "faces.known_image",
                                                   "same image (sha256 or perceptual hash) seen earlier in this crawl: "
                                                   "not analysed again"))
        count = analysis.count
        item.observation.signals["image.faces"] = count
        detail = f"{count} face(s) detected ({self.model})" + (" - cap reached" if analysis.detection.capped else "")
        item.observation.reasons.append(Reason("faces", "faces.detected" if count else "faces.none", detail))
        decision = runtime.decide(Purpose.COLLECT_IMAGE, item.jurisdiction, item.observation.signals)
        if not decision.allowed:
            self.drop(item, Outcome.REFUSED, *runtime.policy_reasons(decision), decision=decision)
        item.extra["decision"] = decision
        if count:
            template = runtime.decide(Purpose.FACE_TEMPLATE, item.jurisdiction, item.observation.signals)
            templates = dict(template.obligations) if template.allowed else {"templates": "none"}
            item.extra["obligations"] = {**decision.obligations, **templates}
            item.extra["template_decision"] = template
            item.extra["encodings"] = analysis.encodings if templates.get("templates") != "none" else ()
            item.extra["boxes"] = analysis.detection.boxes
        return item


def vectors(item: FetchedImage) -> tuple[np.ndarray, ...]:
    return tuple(item.extra.get("encodings") or ())
