"""Last stage, store: check the suppression list once more, keep the bytes as fetched, keep templates only if allowed.

An opt-out added while the crawl runs applies here even to images screened
before it was added. Encodings are kept only where the decision's obligation
is ``persist`` (encrypted, with ``retention_until`` and the rules that allowed
it); otherwise they are dropped with the item. In a dry run (`policy explain`)
everything is decided the same way and nothing is written.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from scrapy.crawler import Crawler

from crawler.items import FetchedImage
from crawler.optouts import OptOutMatch, OptOutScreen, screen_for
from crawler.pipelines.screen import blocked_reason, match_image
from crawler.pipelines.stage import ImageStage
from crawler.policy_runtime import policy_for
from crawler.recording import now, recorder_for
from crawler.startup import crawl_key
from faces import LANDMARK_MODEL
from policy import Outcome, Reason
from policy.retention import destroy_by, parse_day
from storage import ImageStore
from storage.suppression import SuppressionList

logger = logging.getLogger(__name__)


class StorePipeline(ImageStage):
    name = "store"

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.image_store = ImageStore(Path(crawler.settings.get("FAIRCRAWL_STORE")))
        self.ignores_opt_outs = policy_for(crawler).loaded.pack.ignores_opt_outs
        self.dry_run = recorder_for(crawler).dry_run
        self._fernet: Fernet | None = None
        screen = None if self.ignores_opt_outs else screen_for(crawler)
        self._writes = _CheckedWrites(screen, self.image_store, self.dry_run)

    async def process_item(self, item: FetchedImage) -> FetchedImage:
        valid = item.valid
        decision = item.collect_decision
        assert valid is not None and decision is not None
        try:
            match, relative_path = await self._writes.check_then_write(item)
        except OSError as error:  # the image store cannot be written: say where and why
            logger.error("cannot store %s: %s", item.url, error)
            self.drop(item, Outcome.FAILED, Reason("storage", "storage.write_failed",
                                                   f"cannot write to the image store: {error}"))
        if match is not None:
            self.drop(item, Outcome.REFUSED, blocked_reason(match))
        stored = Reason("image", "image.stored",
                        f"{valid.format} {valid.width}x{valid.height}, {valid.byte_size} bytes, sha256 {valid.sha256[:12]}")
        obligations = item.obligations if item.obligations is not None else dict(decision.obligations)
        reasons = [*policy_for(self.crawler).policy_reasons(decision), stored]  # fetch reasons are added by record()
        keep_templates = obligations.get("templates") == "persist" and bool(item.encodings)
        if item.template_decision is not None and item.template_decision.breaches:  # what keeping templates breaches
            item.breaches = (*item.breaches, *item.template_decision.breaches)
        if keep_templates:
            until = retention_until(now(), obligations, item.observation.signals)
            reasons.append(Reason("faces", "templates.persisted",
                                  f"{len(item.encodings)} template(s) kept until {until.date()}"
                                  + ("" if "retention_days" in obligations else " (the pack sets no retention limit)")))
        decision_id = self.record(item, Outcome.STORED, *reasons, decision=decision, obligations=obligations)
        recorder = recorder_for(self.crawler)
        recorder.image_stored(decision_id, item.url, item.page_url, relative_path, valid, item.content_type, item.faces)
        if keep_templates and not self.dry_run:
            self._persist_templates(item, decision_id, obligations)
        item.forget_encodings()  # transient templates end here
        item.body = b""  # the bytes are on disk; do not hold them in memory
        return item

    def _persist_templates(self, item: FetchedImage, decision_id: str, obligations: dict[str, Any]) -> None:
        if self._fernet is None:
            self._fernet = crawl_key(self.crawler.settings)
        recorder = recorder_for(self.crawler)
        template_decision = item.template_decision
        allowed_by = list(template_decision.deciding_rules) if template_decision else []
        created = now()
        signals = item.observation.signals
        purpose = "consent: " + ", ".join(signals.get("consent.purposes") or ["unstated"]) if signals.get(
            "consent.biometric") else "no consent recorded"
        assert item.faces is not None and item.valid is not None
        boxes = item.faces.boxes
        for index, encoding in enumerate(item.encodings):
            box = boxes[index] if index < len(boxes) else None
            recorder.add_row("face_templates", {
                "decision_id": decision_id, "run_id": recorder.run_id, "image_sha256": item.valid.sha256,
                "face_index": index,
                "box": [box.top, box.right, box.bottom, box.left] if box else [],
                "ciphertext": self._fernet.encrypt(encoding.astype("float32").tobytes()),
                "landmark_model": LANDMARK_MODEL, "allowed_by": allowed_by, "created_at": created,
                "retention_until": retention_until(created, obligations, signals),
                "purpose": purpose, "purpose_ends_at": parse_day(signals.get("consent.purpose_ends")),
                "last_interaction_at": parse_day(signals.get("consent.last_interaction")),
            })


class _CheckedWrites:
    """The suppression list's revision asked once for every image waiting (one thread hop), then each one written.

    Images that reach this stage while a hop is under way wait for the next one. Back on the crawl's thread,
    each image is screened again when the latest revision is not the one the screen stage checked it against
    (another hop may have moved the list on since), and only then written.

    The files are written on the crawl's thread, as Scrapy's own FSFilesStore does. In a thread they cost the
    crawl more than they saved: every system call of a write (stat, mkdir, open, write, rename) gives the
    interpreter lock away and takes it back from the crawl's thread, and on the benchmark site the 4,000 writes
    cost 1.6 ms of CPU each there (0.15-0.25 ms on the crawl's thread) and 24,000 context switches.
    """

    def __init__(self, screen: OptOutScreen | None, image_store: ImageStore, dry_run: bool) -> None:
        self.screen = screen
        self.image_store = image_store
        self.dry_run = dry_run
        self._waiting: list[tuple[FetchedImage, asyncio.Future[tuple[OptOutMatch | None, str]]]] = []
        self._busy = False

    def check_then_write(self, item: FetchedImage) -> asyncio.Future[tuple[OptOutMatch | None, str]]:
        future: asyncio.Future[tuple[OptOutMatch | None, str]] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if not self._busy:
            self._busy = True
            asyncio.get_running_loop().call_soon(self._next_hop)
        return future

    def _next_hop(self) -> None:
        batch, self._waiting = self._waiting, []
        if not batch:
            self._busy = False
            return
        screen = self.screen
        if screen is None:  # opt-outs ignored: nothing to ask the database
            self._settle(batch, None)
            return
        task = asyncio.ensure_future(asyncio.to_thread(screen.refresh))
        task.add_done_callback(lambda done: self._settle(batch, done))

    def _settle(self, batch: list[tuple[FetchedImage, asyncio.Future[tuple[OptOutMatch | None, str]]]],
                done: asyncio.Future[SuppressionList] | None) -> None:
        latest: SuppressionList | None = None
        error: BaseException | None = None
        try:
            latest = done.result() if done is not None else None
        except BaseException as failure:  # noqa: BLE001 - the list could not be read: every image of the hop fails
            error = failure
        for item, future in batch:
            if future.done():
                continue
            if error is not None:
                future.set_exception(error)
                continue
            try:
                future.set_result(self._check_then_write(item, latest))
            except Exception as failure:  # noqa: BLE001 - OSError is the store stage's to report, others internal
                future.set_exception(failure)
        self._next_hop()

    def _check_then_write(self, item: FetchedImage, latest: SuppressionList | None) -> tuple[OptOutMatch | None, str]:
        valid = item.valid
        assert valid is not None
        if self.screen is not None and latest is not None and latest.revision != item.screened_revision:
            match = match_image(self.screen, item, latest)
            if match is not None:  # opted out since this image was screened
                return match, ""
        if self.dry_run:
            return None, self.image_store.relative_path(valid.sha256, valid.format)
        return None, self.image_store.put(item.body, valid.sha256, valid.format)


#: Where a pack sets no retention (only the unlawful demo does), "kept indefinitely", as Clearview did.
NO_RETENTION_LIMIT = timedelta(days=100 * 365)


def retention_until(created: datetime, obligations: dict[str, Any], signals: dict[str, Any] | None = None) -> datetime:
    """The law's own clock (policy.retention): the consent's purpose end and last interaction count."""
    signals = signals or {}
    until = destroy_by(created, obligations, parse_day(signals.get("consent.purpose_ends")),
                       parse_day(signals.get("consent.last_interaction")))
    return until if until is not None else created + NO_RETENTION_LIMIT
