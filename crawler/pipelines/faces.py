"""Stage 3, faces: find (and where a template is allowed, encode) the faces the policy asks about.

Detection and encoding run in worker processes: the crawl's own (faces.FacePool,
the default) or Celery face workers on a queue (faces.queue.QueuedFaces, when
FAIRCRAWL_FACES_BROKER is set). A queue that cannot answer (broker down, no
worker within FAIRCRAWL_FACES_TIMEOUT) never lets an image pass unsearched: it
counts as showing faces, with the queue's reason recorded. The policy
decides again with the face count; for an image that may be kept and shows
faces, the ``face_template`` decision's obligation (none, transient, persist)
says whether encodings may be computed at all: only then can the image be
screened by face against opt-outs. Encodings stay in memory on the item and
are dropped by the store stage unless the obligation is ``persist``.

An image with the same bytes (same sha256) seen earlier in the crawl is not
analysed again. Nothing is reused on a perceptual-hash match: a resized or
recompressed copy has its own boxes, and what is kept is kept per image.
A search that could not look everywhere (capped, or over the work budget)
counts as showing faces: fail closed. Where robots.txt disallows the faces
token (``faircrawl-faces``) for the image, nothing is searched at all and the
image is decided as if it showed faces, with no template (``faces_token``).

Writes ``item.faces``, ``item.collect_decision`` (with the count), ``item.template_decision``
and ``item.obligations``.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler

from crawler.items import Encodings, FaceFindings, FetchedImage
from crawler.pipelines.faces_token import FACES_TOKEN_IGNORED, faces_refusal
from crawler.pipelines.stage import ImageStage
from crawler.policy_runtime import pack_may_ask_about_faces, policy_for
from crawler.settings import setting
from faces import FacePool
from faces.analyser import FaceAnalyser, FacesUnavailable, FaceTaskFailed
from faces.detect import Detection
from faces.encode import FaceAnalysis
from policy import Outcome, Reason
from policy.vocabulary import Purpose

#: A search that never ran (the face queue did not answer): incomplete, so it shows faces (fail closed).
UNSEARCHED = FaceAnalysis(Detection((), 0, 0, capped=False, complete=False), ())

#: Analyses kept for the crawl, by (sha256, encoded): the same bytes on several pages are analysed once.
KNOWN_IMAGES_KEPT = 1024


class FacesPipeline(ImageStage):
    name = "faces"

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        settings = crawler.settings
        self.model = setting(settings, "FAIRCRAWL_FACE_MODEL")
        self.pool = face_analyser(settings)
        # Start the workers with the crawl when the pack can ever ask about faces.
        self.may_need_faces = any(pack_may_ask_about_faces(rule) for rule in policy_for(crawler).loaded.pack.rules)
        self.ignores_opt_outs = policy_for(crawler).loaded.pack.ignores_opt_outs
        self._known: OrderedDict[tuple[str, bool], FaceAnalysis] = OrderedDict()
        crawler.signals.connect(self._opened, signal=signals.spider_opened)
        crawler.signals.connect(self._closed, signal=signals.spider_closed)

    def _opened(self, spider: Any) -> None:
        if self.may_need_faces:
            self.pool.warm_up()

    def _closed(self, spider: Any) -> None:
        self.pool.close()
        self._known.clear()

    def process_item(self, item: FetchedImage) -> Any:
        if not item.faces_matter:
            return item  # synchronously: most images of most jurisdictions in a face-free crawl
        return self._analyse(item)

    def _remembered(self, sha256: str, encode: bool) -> FaceAnalysis | None:
        """An earlier analysis of the same bytes (one with encodings serves a detection-only request too)."""
        for key in ((sha256, encode), *(((sha256, True),) if not encode else ())):
            found = self._known.get(key)
            if found is not None:
                self._known.move_to_end(key)
                return found
        return None

    def _remember(self, sha256: str, encode: bool, analysis: FaceAnalysis) -> None:
        self._known[(sha256, encode)] = analysis
        while len(self._known) > KNOWN_IMAGES_KEPT:
            self._known.popitem(last=False)

    async def _analyse(self, item: FetchedImage) -> FetchedImage:
        runtime = policy_for(self.crawler)
        assert item.jurisdiction is not None and item.valid is not None
        forbidden = await faces_refusal(runtime, item, own_answer=self.ignores_opt_outs)
        item.observation.signals["robots.faces_allowed"] = forbidden is None
        if forbidden is not None and not self.ignores_opt_outs:
            return self._without_faces(item, forbidden)
        if forbidden is not None:  # a pack that ignores opt-outs processes the faces anyway, and says what that breaches
            item.observation.reasons.append(Reason("robots.txt", "faces.token_ignored", f"{forbidden.detail}; "
                                                   "this pack ignores it", forbidden.evidence))
            item.breaches = (*item.breaches, FACES_TOKEN_IGNORED)
        template = runtime.decide(Purpose.FACE_TEMPLATE, item.jurisdiction, {**item.observation.signals, "image.faces": 1})
        encode = template.allowed and template.obligations.get("templates", "none") != "none"
        sha256 = item.valid.sha256
        analysis = self._remembered(sha256, encode)
        unanswered: Reason | None = None
        if analysis is None:
            try:
                analysis = await self.pool.analyse(item.body, encode=encode)
            except FacesUnavailable as error:  # the queue, not the image: search assumed to have found faces
                self.crawler.stats.inc_value(f"faircrawl/faces/{error.code.rsplit('.', 1)[-1]}")
                unanswered = Reason("faces", error.code, f"{error.detail}: treated as showing faces")
                analysis = UNSEARCHED
            except Exception as error:  # noqa: BLE001 - a face worker that fails must not stop the crawl
                self.drop(item, Outcome.FAILED, Reason("faces", "faces.detection_failed",
                                                       f"face analysis failed ({_failure_name(error)}); not kept"))
            else:
                self._remember(sha256, encode, analysis)
        else:
            item.observation.reasons.append(Reason("faces", "faces.known_image",
                                                   "same bytes (sha256) seen earlier in this crawl: not analysed again"))
        detection = analysis.detection
        complete = detection.complete
        count = max(detection.count, 1) if detection.shows_faces else 0  # an incomplete search counts as faces
        item.observation.signals["image.faces"] = count
        item.observation.reasons.append(unanswered or _count_reason(detection.count, complete, detection.capped,
                                                                    self.model))
        decision = runtime.decide(Purpose.COLLECT_IMAGE, item.jurisdiction, item.observation.signals)
        item.collect_decision = decision
        if not decision.allowed:
            self.drop(item, Outcome.REFUSED, *runtime.policy_reasons(decision), decision=decision)
        if not count:
            item.faces = FaceFindings(0, (), True, self.model)
            return item
        template = runtime.decide(Purpose.FACE_TEMPLATE, item.jurisdiction, item.observation.signals)
        templates = dict(template.obligations) if template.allowed else {"templates": "none"}
        item.obligations = {**decision.obligations, **templates}
        item.template_decision = template
        keep = templates.get("templates") != "none"
        item.faces = FaceFindings(count, detection.boxes, complete, self.model,
                                  Encodings(analysis.encodings) if keep else Encodings())
        return item

    def _without_faces(self, item: FetchedImage, forbidden: Reason) -> FetchedImage:
        """No face may be looked at: decide as if the image showed faces (fail closed), with no template."""
        runtime = policy_for(self.crawler)
        assert item.jurisdiction is not None
        item.observation.reasons.append(forbidden)
        item.observation.signals["image.faces"] = 1  # not looked at: assumed, the protective reading
        decision = runtime.decide(Purpose.COLLECT_IMAGE, item.jurisdiction, item.observation.signals)
        item.collect_decision = decision
        if not decision.allowed:
            self.drop(item, Outcome.REFUSED, *runtime.policy_reasons(decision), decision=decision)
        item.obligations = {**decision.obligations, "templates": "none"}
        return item  # item.faces stays None: nothing was searched (the screen stage reads the signal)


def face_analyser(settings: Any) -> FaceAnalyser:
    """The face back end the settings name: Celery workers on FAIRCRAWL_FACES_BROKER, else the in-process pool."""
    options = {"model": setting(settings, "FAIRCRAWL_FACE_MODEL"),
               "max_side": setting(settings, "FAIRCRAWL_FACE_MAX_SIDE"),
               "max_pixels": setting(settings, "FAIRCRAWL_IMAGE_MAX_PIXELS")}
    broker = setting(settings, "FAIRCRAWL_FACES_BROKER")
    if not broker:
        return FacePool(setting(settings, "FAIRCRAWL_FACE_WORKERS") or None, **options)
    from faces.queue import QueuedFaces

    return QueuedFaces(broker, setting(settings, "FAIRCRAWL_FACES_QUEUE"), setting(settings, "FAIRCRAWL_FACES_TIMEOUT"),
                       in_flight=max(1, settings.getint("CONCURRENT_ITEMS", 16)), **options)


def _failure_name(error: Exception) -> str:
    return str(error) if isinstance(error, FaceTaskFailed) else type(error).__name__


def _count_reason(found: int, complete: bool, capped: bool, model: str) -> Reason:
    if not complete:
        why = "the face cap was reached" if capped else "the image is too large to search everywhere"
        return Reason("faces", "faces.search_incomplete",
                      f"{found} face(s) detected ({model}) but {why}: treated as showing faces")
    return Reason("faces", "faces.detected" if found else "faces.none", f"{found} face(s) detected ({model})")
