"""One crawl run's record keeping: decisions, pages, images and sites.

Every component of a crawl reaches the same :class:`CrawlRecorder` through
:func:`recorder_for`; it turns outcomes into rows for the background writer
and keeps the counts that progress lines and the summary print.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import uuid
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

from scrapy import Request, signals
from scrapy.crawler import Crawler

from crawler.decision_record import DecisionRecord, now
from crawler.frontier.keys import request_key
from faces import LANDMARK_MODEL
from policy import Kind, Outcome, Reason
from policy.engine import Decision
from policy.jurisdiction import Jurisdiction
from policy.observe import Observation, SiteFiles
from storage import BackgroundWriter, Database, ImageStore
from storage.runs import RunStatus, create_run, finish_run, run_exists

DECIDED_META = "faircrawl_decided"  # a decision was already recorded for it
KIND_META = "faircrawl_kind"
PAGE_URL_META = "faircrawl_page_url"
OBSERVATION_META = "faircrawl_observation"  # policy.observe.Observation gathered so far
JURISDICTION_META = "faircrawl_jurisdiction"  # policy.jurisdiction.Jurisdiction
PAGE_FACTS_META = "faircrawl_page_facts"  # policy.observe.PageFacts of the embedding page
FETCH_DECISION_META = "faircrawl_fetch_decision"  # the policy decision that let the request go
FETCHED_AT_META = "faircrawl_fetched_at"  # when the response arrived
__all__ = ["CrawlRecorder", "Recording", "now", "original_url", "recorder_for"]


logger = logging.getLogger(__name__)


def signed_64(value: int) -> int:
    """A 64-bit unsigned perceptual hash as the signed integer a BIGINT column holds."""
    return value - (1 << 64) if value >= 1 << 63 else value


def original_url(request: Request) -> str:
    """The URL as first requested, before any redirect."""
    redirects = request.meta.get("redirect_urls")
    return redirects[0] if redirects else request.url


class CrawlRecorder:
    """Builds the rows of one run and counts its outcomes."""

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.run_id: str = settings.get("FAIRCRAWL_RUN_ID") or uuid.uuid4().hex
        from crawler.policy_runtime import policy_for

        runtime = policy_for(crawler)  # loads (and checks) the policy before anything is fetched
        self.policy_name = runtime.loaded.pack.name
        self.policy_description = runtime.loaded.pack.description
        self.policy_revision = runtime.loaded.revision
        self.product_token: str = settings.get("FAIRCRAWL_PRODUCT_TOKEN")
        self.testsites: bool = settings.getbool("FAIRCRAWL_TESTSITES")
        #: `policy explain`: decide everything as a crawl would, store nothing, keep the records here.
        self.dry_run: bool = settings.getbool("FAIRCRAWL_DRY_RUN")
        self.records: list[DecisionRecord] = []
        self.counts: Counter[tuple[str, str]] = Counter()
        self.started_at = now()
        self.crawler = crawler
        self.final_stats: dict[str, Any] = {}
        self.rows_queued = 0  # rows handed to the writer (crawler.frontier.leases releases against it)
        self.frontier: bool = bool(settings.get("FAIRCRAWL_FRONTIER"))
        if self.dry_run:
            return
        self.database = Database(settings.get("FAIRCRAWL_DB"))
        self.image_store = ImageStore(Path(settings.get("FAIRCRAWL_STORE")))
        self._run_created = settings.getbool("FAIRCRAWL_RUN_CREATED")
        spill = Path(settings.get("FAIRCRAWL_SPILL_DIR")) / f"unwritten-{self.run_id}.jsonl"
        self.writer = BackgroundWriter(self.database, spill, idempotent=self.frontier)  # a retried request: once
        crawler.signals.connect(self._opened, signal=signals.spider_opened)
        crawler.signals.connect(self._closed, signal=signals.spider_closed)

    # -- lifecycle ------------------------------------------------------------

    def _opened(self, spider: Any) -> None:
        if not self._run_created:  # started with `scrapy crawl`, not the faircrawl CLI
            self.database.upgrade()
            if self.frontier and run_exists(self.database, self.run_id):
                return  # a worker of a run another worker created
            create_run(self.database, self.run_id, self.policy_name, self.policy_revision, self.product_token,
                       self.testsites, list(getattr(spider, "start_urls", [])), self.policy_description)

    def _closed(self, spider: Any, reason: str) -> None:
        failure = self.writer.close()
        status = RunStatus.FINISHED if reason == "finished" else RunStatus.INTERRUPTED
        if failure is not None:  # rows the database did not take: kept in the spill file, and the run failed
            logger.error("%s", failure)
            status, reason = RunStatus.FAILED, str(failure)
        stats = {f"{kind}/{outcome}": n for (kind, outcome), n in sorted(self.counts.items())}
        scrapy_stats = self.crawler.stats
        if scrapy_stats is not None:
            started = scrapy_stats.get_value("start_time")
            if started is not None:
                stats["elapsed_seconds"] = round((now() - started).total_seconds(), 3)
            stats["responses"] = scrapy_stats.get_value("downloader/response_count", 0)
            stats["requests"] = scrapy_stats.get_value("downloader/request_count", 0)
        if self.writer.spilled_rows:
            stats["unwritten_rows"] = self.writer.spilled_rows
        self.final_stats = stats
        if self.frontier and status is not RunStatus.FAILED:
            return  # one of many workers: the last to finish ends the run (crawler.frontier.leases)
        finish_run(self.database, self.run_id, status, reason, stats)

    # -- outcomes -------------------------------------------------------------

    def decide(
        self,
        kind: Kind | str,
        outcome: Outcome,
        url: str,
        reasons: list[Reason],
        page_url: str | None = None,
        final_url: str | None = None,
        *,
        signals: dict[str, Any] | None = None,
        jurisdiction: Jurisdiction | None = None,
        decision: Decision | None = None,
        fetch_decision: Decision | None = None,
        obligations: dict[str, Any] | None = None,
        breaches: tuple[str, ...] = (),
        fetched_at: datetime | None = None,
        decisions: tuple[tuple[str, Decision], ...] = (),
    ) -> str:
        """Record one decision (built by DecisionRecord, the one builder), count it and log it; returns its id."""
        record = DecisionRecord.build(
            run_id=self.run_id, policy_revision=self.policy_revision, kind=kind, outcome=outcome, url=url,
            reasons=reasons, page_url=page_url, final_url=final_url, signals=signals, jurisdiction=jurisdiction,
            decision=decision, fetch_decision=fetch_decision, obligations=obligations, breaches=breaches,
            fetched_at=fetched_at, decisions=decisions)
        key = request_key(url)
        if self.frontier:  # the same id whichever worker decides it: a second write of it is ignored
            record = dataclasses.replace(record, id=hashlib.sha256(f"{self.run_id}:{key}".encode()).hexdigest()[:32])
        self.counts[(record.kind, record.outcome)] += 1
        stats = self.crawler.stats
        stats.inc_value(f"faircrawl/{record.kind}/{record.outcome}")
        if outcome in (Outcome.REFUSED, Outcome.FAILED):
            deciding = record.reasons[-1].code if record.reasons else "policy.default_deny"
            stats.inc_value(f"faircrawl/{record.kind}/{record.outcome}/{deciding.replace('.', '/')}")
            logger.debug("%s %s %s: %s", record.outcome, record.kind, url, record.policy_summary or deciding)
        if self.dry_run:
            self.records.append(record)
        else:
            self._add("decisions", {**record.row(), "request_key": key})
        return record.id

    def decide_request(self, request: Request, outcome: Outcome, *reasons: Reason,
                       observation: Observation | None = None, jurisdiction: Jurisdiction | None = None,
                       decision: Decision | None = None) -> str:
        """Record the outcome of a request from what its meta carries; marks it decided."""
        observation = observation or request.meta.get(OBSERVATION_META)
        request.meta[DECIDED_META] = True
        fetch_decision = request.meta.get(FETCH_DECISION_META)
        return self.decide(
            request.meta.get(KIND_META, Kind.PAGE), outcome, original_url(request),
            [*(observation.reasons if observation else []), *reasons],
            page_url=request.meta.get(PAGE_URL_META), final_url=request.url,
            signals=observation.signals if observation else None,
            jurisdiction=jurisdiction or request.meta.get(JURISDICTION_META),
            decision=decision or (fetch_decision if outcome is not Outcome.REFUSED else None),
            fetched_at=request.meta.get(FETCHED_AT_META),
        )

    def page_crawled(self, decision_id: str, url: str, status: int, links: int, images: int) -> None:
        self._add("pages", {
            "run_id": self.run_id, "decision_id": decision_id, "url": url, "status_code": status,
            "fetched_at": now(), "links_found": links, "images_found": images,
        })

    def image_stored(self, decision_id: str, url: str, page_url: str | None, relative_path: str, valid: Any,
                     content_type: str | None, faces: Any = None) -> None:
        """Rows for a stored image: its content (with its perceptual hash and, when looked for, its face boxes:
        never encodings), and where it was found. ``valid`` is a ValidImage, ``faces`` a FaceFindings or None."""
        stored_at = now()
        self._add("image_files", {
            "sha256": valid.sha256, "path": relative_path, "byte_size": valid.byte_size, "format": valid.format,
            "width": valid.width, "height": valid.height, "first_stored_at": stored_at,
            "perceptual_hash": signed_64(valid.perceptual_hash),
            "faces_searched_at": stored_at if faces is not None else None,
            "faces_search_complete": faces.complete if faces is not None else None,
        })
        for index, box in enumerate(faces.boxes if faces is not None else ()):
            self._add("faces", {
                "image_sha256": valid.sha256, "face_index": index, "top": box.top, "right": box.right,
                "bottom": box.bottom, "left": box.left, "detector": faces.model, "landmark_model": LANDMARK_MODEL,
                "found_at": stored_at,
            })
        self._add("images", {
            "run_id": self.run_id, "decision_id": decision_id, "url": url, "page_url": page_url,
            "sha256": valid.sha256, "content_type": content_type, "stored_at": stored_at,
        })

    def site_files(self, site: SiteFiles, crawl_delay: float | None) -> None:
        robots = site.robots
        self._add("sites", {
            "run_id": self.run_id, "origin": site.origin, "robots_url": site.robots_url,
            "robots_availability": robots.availability.value,
            "robots_note": robots.status_note or (
                f"{len(robots.groups)} groups, {robots.invalid_lines} unparseable lines"
                + (", truncated at 500 KiB" if robots.truncated else "")),
            "crawl_delay_seconds": crawl_delay, "fetched_at": now(),
            "tdmrep_state": f"{site.tdmrep_state.state}: {site.tdmrep_state.note}",
            "ai_txt_state": f"{site.ai_txt_state.state}: {site.ai_txt_state.note}",
        })

    def add_row(self, table: str, row: dict[str, Any]) -> None:
        """Queue a row of another table of this run (face templates, audit events)."""
        self._add(table, row)

    def _add(self, table: str, row: dict[str, Any]) -> None:
        if not self.dry_run:
            self.writer.add(table, row)
            self.rows_queued += 1

    def rows_settled(self) -> int:
        """Rows the writer has written or spilled (FIFO: every row queued before the n-th is settled with it)."""
        if self.dry_run:
            return self.rows_queued
        return self.writer.written_rows + self.writer.spilled_rows + len(self.writer.unsaved_rows)


class Recording:
    """Extension that creates the run's recorder before the spider opens."""

    def __init__(self, crawler: Crawler) -> None:
        self.recorder = recorder_for(crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Recording:
        return cls(crawler)


def recorder_for(crawler: Crawler) -> CrawlRecorder:
    """The run's recorder, created on first use and shared by every component."""
    from crawler.policy_runtime import per_crawler

    return per_crawler(crawler, "_faircrawl_recorder", CrawlRecorder)
