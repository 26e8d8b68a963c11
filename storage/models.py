"""The database schema: crawl runs, sites, pages, images and decision records.

Rows are written by the background writer (:mod:`storage.writer`), so every
column a crawl fills is known when the row is built; nothing is updated in
place except a run's end. Schema changes go through the Alembic migrations in
``storage/migrations``; :mod:`storage.database` applies them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class CrawlRun(Base):
    """One `faircrawl crawl`: what it was asked to do and how it ended."""

    __tablename__ = "crawl_runs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16))  # running | finished | interrupted | failed
    finish_reason: Mapped[str | None] = mapped_column(Text)  # Scrapy's reason, or why the run was marked interrupted
    policy_name: Mapped[str] = mapped_column(String(64))
    policy_revision: Mapped[str] = mapped_column(String(64))
    product_token: Mapped[str] = mapped_column(String(64))
    testsites: Mapped[bool]
    start_urls: Mapped[list[Any]]
    stats: Mapped[dict[str, Any] | None]
    policy_description: Mapped[str | None] = mapped_column(Text)
    # the crawling process, so the next command can tell a dead crawl from a live one (storage.runs)
    pid: Mapped[int | None]
    hostname: Mapped[str | None] = mapped_column(String(255))
    process_start_ticks: Mapped[int | None] = mapped_column(BigInteger)  # /proc/<pid>/stat field 22


class SiteRecord(Base):
    """An origin seen in a run, with what its robots.txt said."""

    __tablename__ = "sites"
    __table_args__ = (Index("ix_sites_run_origin", "run_id", "origin", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("crawl_runs.id", ondelete="CASCADE"))
    origin: Mapped[str] = mapped_column(String(512))  # scheme://host:port
    robots_url: Mapped[str] = mapped_column(Text)
    robots_availability: Mapped[str] = mapped_column(String(16))  # parsed | unavailable | unreachable
    robots_note: Mapped[str] = mapped_column(Text)
    crawl_delay_seconds: Mapped[float | None]
    tdmrep_state: Mapped[str | None] = mapped_column(Text)
    ai_txt_state: Mapped[str | None] = mapped_column(Text)
    fetched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PageRecord(Base):
    """A page that was fetched and parsed."""

    __tablename__ = "pages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("crawl_runs.id", ondelete="CASCADE"), index=True)
    decision_id: Mapped[str] = mapped_column(ForeignKey("decisions.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(Text)
    status_code: Mapped[int]
    fetched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    links_found: Mapped[int]
    images_found: Mapped[int]


class ImageFile(Base):
    """Image content, stored once per sha256 under the image store."""

    __tablename__ = "image_files"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    path: Mapped[str] = mapped_column(Text)  # relative to the image store root
    byte_size: Mapped[int] = mapped_column(BigInteger)
    format: Mapped[str] = mapped_column(String(16))
    width: Mapped[int]
    height: Mapped[int]
    first_stored_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ImageRecord(Base):
    """An image URL stored in a run: where it was found and which content it had."""

    __tablename__ = "images"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("crawl_runs.id", ondelete="CASCADE"), index=True)
    decision_id: Mapped[str] = mapped_column(ForeignKey("decisions.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(Text)
    page_url: Mapped[str | None] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(ForeignKey("image_files.sha256"), index=True)
    content_type: Mapped[str | None] = mapped_column(String(128))
    stored_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DecisionRecord(Base):
    """Why one request or image was crawled, stored, refused or failed.

    The policy fields (revision, jurisdiction, signals, matched rules, effect,
    obligations, citations) are those of DESIGN.md's decision record; the
    policy engine fills them, the robots gate and the pipeline add reasons.
    """

    __tablename__ = "decisions"
    __table_args__ = (Index("ix_decisions_run_kind_outcome", "run_id", "kind", "outcome"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("crawl_runs.id", ondelete="CASCADE"))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    fetched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # when the request was sent
    kind: Mapped[str] = mapped_column(String(8))  # page | image
    outcome: Mapped[str] = mapped_column(String(8))  # crawled | stored | refused | failed
    url: Mapped[str] = mapped_column(Text, index=True)
    final_url: Mapped[str | None] = mapped_column(Text)
    page_url: Mapped[str | None] = mapped_column(Text)
    reasons: Mapped[list[Any]]
    policy_revision: Mapped[str] = mapped_column(String(64))
    jurisdiction: Mapped[str | None] = mapped_column(String(16))
    jurisdiction_source: Mapped[str | None] = mapped_column(Text)
    signals: Mapped[dict[str, Any]]
    matched_rules: Mapped[list[Any]]
    effect: Mapped[str] = mapped_column(String(8))  # allow | deny
    obligations: Mapped[dict[str, Any]]
    citations: Mapped[list[Any]]
    breaches: Mapped[list[Any] | None]  # provisions an unlawful pack's allow breaches
    policy_summary: Mapped[str | None] = mapped_column(Text)  # e.g. "denied by eu-face-images-need-consent"


class FaceTemplate(Base):
    """A face template the policy allowed to ``persist``: encrypted, with the rules and the date it must go."""

    __tablename__ = "face_templates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    decision_id: Mapped[str] = mapped_column(ForeignKey("decisions.id", ondelete="CASCADE"))
    run_id: Mapped[str] = mapped_column(String(32))
    image_sha256: Mapped[str] = mapped_column(String(64), index=True)
    face_index: Mapped[int]
    box: Mapped[list[Any]]
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    landmark_model: Mapped[str] = mapped_column(String(16))
    allowed_by: Mapped[list[Any]]
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    retention_until: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class AuditEvent(Base):
    """What the machine changed, e.g. templates expired (a hash-chained log comes with the rights service)."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    action: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict[str, Any]]
