"""Last stage, store: check the suppression list once more, keep the bytes as fetched, keep templates only if allowed.

An opt-out added while the crawl runs applies here even to images screened
before it was added. Encodings are kept only where the decision's obligation
is ``persist`` (encrypted, with ``retention_until`` and the rules that allowed
it); otherwise they are dropped with the item.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from pathlib import Path

from scrapy.crawler import Crawler

from crawler.items import FetchedImage
from crawler.optouts import OptOutMatch, screen_for
from crawler.pipelines.faces import vectors
from crawler.pipelines.screen import blocked_reason
from crawler.pipelines.stage import ImageStage
from crawler.pipelines.validate import ValidImage
from crawler.policy_runtime import policy_for
from crawler.recording import now, recorder_for
from faces import LANDMARK_MODEL
from policy import Outcome, Reason
from storage import ImageStore
from storage.keys import load_key

logger = logging.getLogger(__name__)


class StorePipeline(ImageStage):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.image_store = ImageStore(Path(crawler.settings.get("FAIRCRAWL_STORE")))
        self.ignores_opt_outs = policy_for(crawler).loaded.pack.ignores_opt_outs
        self._fernet = None

    async def process_item(self, item: FetchedImage) -> FetchedImage:
        valid: ValidImage = item.extra["valid"]
        decision = item.extra["decision"]
        screen = None if self.ignores_opt_outs else screen_for(self.crawler)

        def check_then_write() -> tuple[OptOutMatch | None, str | None]:
            if screen is not None:
                before = screen.current.revision
                latest = screen.refresh()
                if latest.revision != before:  # opted out since this image was screened?
                    match = screen.match([item.url, item.final_url], valid.perceptual_hash, vectors(item), latest)
                    if match is not None:
                        return match, None
            return None, self.image_store.put(item.body, valid.sha256, valid.format)

        try:
            match, relative_path = await asyncio.to_thread(check_then_write)
        except OSError as error:  # the image store cannot be written: say where and why
            logger.error("cannot store %s: %s", item.url, error)
            self.drop(item, Outcome.FAILED, Reason("storage", "storage.write_failed",
                                                   f"cannot write to the image store: {error}"))
        if match is not None:
            item.extra.pop("encodings", None)
            self.drop(item, Outcome.REFUSED, blocked_reason(match))
        assert relative_path is not None
        stored = Reason("image", "image.stored",
                        f"{valid.format} {valid.width}x{valid.height}, {valid.byte_size} bytes, sha256 {valid.sha256[:12]}")
        obligations = item.extra.get("obligations", dict(decision.obligations))
        reasons = [*policy_for(self.crawler).policy_reasons(decision), stored]  # fetch reasons are added by record()
        keep_templates = obligations.get("templates") == "persist" and vectors(item)
        template_decision = item.extra.get("template_decision")
        if template_decision is not None and template_decision.breaches:  # what keeping templates breaches
            item.extra["extra_breaches"] = (*item.extra.get("extra_breaches", ()), *template_decision.breaches)
        if keep_templates:
            until = retention_until(now(), obligations)
            reasons.append(Reason("faces", "templates.persisted",
                                  f"{len(vectors(item))} template(s) kept until {until.date()}"
                                  + ("" if "retention_days" in obligations else " (the pack sets no retention limit)")))
        decision_id = self.record(item, Outcome.STORED, *reasons, decision=decision, obligations=obligations)
        recorder = recorder_for(self.crawler)
        recorder.image_stored(decision_id, item.url, item.page_url, valid.sha256, relative_path,
                              valid.byte_size, valid.format, valid.width, valid.height, item.content_type)
        if keep_templates:
            self._persist_templates(item, decision_id, obligations)
        self.crawler.stats.inc_value("faircrawl/images_stored")
        item.extra.pop("encodings", None)  # transient templates end here
        item.body = b""  # the bytes are on disk; do not hold them in memory
        return item

    def _persist_templates(self, item: FetchedImage, decision_id: str, obligations: dict) -> None:  # type: ignore[type-arg]
        if self._fernet is None:
            self._fernet = load_key()
        recorder = recorder_for(self.crawler)
        template_decision = item.extra.get("template_decision")
        allowed_by = list(template_decision.deciding_rules) if template_decision else []
        created = now()
        boxes = item.extra.get("boxes") or ()
        for index, encoding in enumerate(vectors(item)):
            box = boxes[index] if index < len(boxes) else None
            recorder.add_row("face_templates", {
                "decision_id": decision_id, "run_id": recorder.run_id, "image_sha256": item.extra["valid"].sha256,
                "face_index": index,
                "box": [box.top, box.right, box.bottom, box.left] if box else [],
                "ciphertext": self._fernet.encrypt(encoding.astype("float32").tobytes()),
                "landmark_model": LANDMARK_MODEL, "allowed_by": allowed_by, "created_at": created,
                "retention_until": retention_until(created, obligations),
            })


#: Where a pack sets no retention (only the unlawful demo does), "kept indefinitely", as Clearview did.
NO_RETENTION_LIMIT = timedelta(days=100 * 365)


def retention_until(created, obligations: dict):  # type: ignore[no-untyped-def,type-arg]
    days = obligations.get("retention_days")
    return created + (timedelta(days=int(days)) if days is not None else NO_RETENTION_LIMIT)
