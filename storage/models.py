"""The database schema: crawl runs, sites, pages, images and decision records.

Rows are written by the background writer (:mod:`storage.writer`), so every
column a crawl fills is known when the row is built; nothing is updated in
place except a run's end. Schema changes go through the Alembic migrations in
``storage/migrations``; :mod:`storage.database` applies them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text
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
    __table_args__ = (Index("ix_pages_decision", "decision_id", unique=True),)

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
    # When its faces were looked for (rows in ``faces``); None: never, so a rights search detects them first.
    faces_searched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    faces_search_complete: Mapped[bool | None]  # False: capped or over budget, so faces may be missing
    perceptual_hash: Mapped[int | None] = mapped_column(BigInteger)  # 64-bit pHash as signed, for finding copies


class ImageRecord(Base):
    """An image URL stored in a run: where it was found and which content it had."""

    __tablename__ = "images"
    __table_args__ = (Index("ix_images_decision", "decision_id", unique=True),)

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
    __table_args__ = (Index("ix_decisions_run_kind_outcome", "run_id", "kind", "outcome"),
                      Index("ix_decisions_run_request_key", "run_id", "request_key", unique=True))

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
    deleted_by_request: Mapped[str | None] = mapped_column(String(32))  # a tombstone: the deletion that emptied it
    # sha256 of the URL as requested (crawler.frontier.keys.request_key): one decision per request and run, whichever
    # worker made it (migration 0010); None in rows made before it
    request_key: Mapped[str | None] = mapped_column(String(64), nullable=True)


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
    # The law's own clock (migration 0009): what the template is kept for, when that ends, the last interaction.
    purpose: Mapped[str | None] = mapped_column(String(200), nullable=True)
    purpose_ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_interaction_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AuditEntry(Base):
    """One entry of the append-only, hash-chained audit log (storage.audit): what happened, never to whom.

    ``entry_hash`` is the SHA-256 of a canonical JSON encoding of (seq, at, action, details, prev_hash), so a
    changed, removed or reordered entry breaks the chain from there on.
    """

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    action: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict[str, Any]]
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))


class FaceRecord(Base):
    """Where a face is in stored image content (the box, and which detector found it): never an encoding."""

    __tablename__ = "faces"
    __table_args__ = (Index("ix_faces_sha256_index", "image_sha256", "face_index", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    image_sha256: Mapped[str] = mapped_column(ForeignKey("image_files.sha256", ondelete="CASCADE"))
    face_index: Mapped[int]
    top: Mapped[int]
    right: Mapped[int]
    bottom: Mapped[int]
    left: Mapped[int]
    detector: Mapped[str] = mapped_column(String(16))  # hog | cnn
    landmark_model: Mapped[str] = mapped_column(String(16))  # the encoder to use for these boxes
    found_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RightsRequest(Base):
    """A deletion or access request: who asked about what, its deadline, where it is, what it found and answered.

    Probe photos are never kept; their templates live encrypted in ``rights_probes`` until the request ends.
    When a deletion completes, the URLs it was given are replaced by their digests.
    """

    __tablename__ = "rights_requests"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # deletion | access
    status: Mapped[str] = mapped_column(String(16), index=True)  # storage.rights.RequestStatus
    jurisdiction: Mapped[str] = mapped_column(String(16))
    jurisdiction_source: Mapped[str] = mapped_column(String(16))  # given | unknown
    due: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    optout: Mapped[bool]
    subject: Mapped[dict[str, Any]]  # {"urls": [...], "page_urls": [...], "photos": n}
    identified: Mapped[dict[str, Any] | None]  # what the identify checkpoint found: hashes and row ids
    answer: Mapped[dict[str, Any] | None]  # what the request answered (access: the answer; deletion: the summary)
    failure: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    optout_id: Mapped[str | None] = mapped_column(String(32))


class RightsTask(Base):
    """One store's part of one request (Fides' request task): what it removed or why it was skipped."""

    __tablename__ = "rights_tasks"
    __table_args__ = (Index("ix_rights_tasks_request_store", "request_id", "store", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("rights_requests.id", ondelete="CASCADE"))
    store: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))  # pending | completed | skipped | failed
    removed: Mapped[int] = mapped_column(Integer, default=0)
    items: Mapped[list[Any]]  # sha256 of removed files, ids of removed rows
    note: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RightsProbe(Base):
    """A probe photo's template, encrypted, kept only while its request runs (the photo itself never is)."""

    __tablename__ = "rights_probes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("rights_requests.id", ondelete="CASCADE"), index=True)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RightsReceipt(Base):
    """The signed receipt of a finished request: its body (canonical JSON), readable text and Ed25519 signature."""

    __tablename__ = "rights_receipts"

    request_id: Mapped[str] = mapped_column(ForeignKey("rights_requests.id", ondelete="CASCADE"), primary_key=True)
    body: Mapped[dict[str, Any]]
    text: Mapped[str] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(String(128))  # base64url of the 64-byte Ed25519 signature
    key_id: Mapped[str] = mapped_column(String(64))  # sha256 of the public key
    signed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AccessToken(Base):
    """The digest of a bearer token that lets one person see one rights request or withdraw one opt-out.

    The token itself is shown once, when the request or opt-out is filed through the HTTP API, and never stored:
    only its SHA-256 (a 256-bit random token needs no slow hash), so a copy of the database opens nothing.
    """

    __tablename__ = "access_tokens"
    __table_args__ = (Index("ix_access_tokens_subject", "subject_kind", "subject_id", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subject_kind: Mapped[str] = mapped_column(String(16))  # request | optout
    subject_id: Mapped[str] = mapped_column(String(32))
    token_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
