"""Finding everything held about a person: by face (probe templates), by image URL, by page URL.

By face: persisted templates are searched exactly; every other stored face is
re-encoded from its recorded box at request time and compared (there is no
biometric index, by design; that is the price of lawful storage). By URL: the
image stored at that URL, every stored copy with the same bytes, and every
stored image within the opt-out perceptual-hash distance of it. By page URL:
every image collected from that page. Whatever matches is then widened to every
row that names it (every run's image rows and decisions, its faces and
templates), because an image showing the person among others is their data too.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from cryptography.fernet import Fernet
from sqlalchemy import or_, select

from storage.database import Database
from storage.image_store import ImageStore
from storage.models import DecisionRecord, FaceRecord, FaceTemplate, ImageFile, ImageRecord
from storage.rights.search import PersonSearch

#: Two images whose perceptual hashes differ in at most this many of 64 bits are copies (as for opt-outs).
PHASH_DISTANCE = 8

Progress = Callable[[str], None]


@dataclass(slots=True)
class Subject:
    """Who a request is about: probe templates (in memory only), image URLs and page URLs."""

    probes: list[np.ndarray] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    page_urls: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Found:
    """What identification found: content hashes and row ids (never a vector), how each image was found, and
    what could not be searched."""

    sha256: set[str] = field(default_factory=set)
    image_ids: set[int] = field(default_factory=set)
    decision_ids: set[str] = field(default_factory=set)
    face_ids: set[int] = field(default_factory=set)
    template_ids: set[int] = field(default_factory=set)
    urls: set[str] = field(default_factory=set)  # URLs of the person's images (for decisions and report files)
    phashes: dict[str, int] = field(default_factory=dict)  # sha256 -> perceptual hash, to block re-collection
    optouts: list[dict[str, Any]] = field(default_factory=list)  # suppression-list entries that hold the person
    how: dict[str, list[str]] = field(default_factory=dict)  # sha256 -> ["face 0.35 (template)", "url", ...]
    unsearched: list[str] = field(default_factory=list)  # sha256 of stored images that could not be looked at
    searched: dict[str, int] = field(default_factory=dict)  # what was searched, as counts
    seconds: dict[str, float] = field(default_factory=dict)  # how long each search took (templates, stored faces)

    @property
    def empty(self) -> bool:
        return not (self.sha256 or self.image_ids or self.decision_ids or self.face_ids or self.template_ids)

    def note(self, sha256: str, how: str) -> None:
        self.sha256.add(sha256)
        self.how.setdefault(sha256, [])
        if how not in self.how[sha256]:
            self.how[sha256].append(how)

    def as_json(self) -> dict[str, Any]:
        return {"sha256": sorted(self.sha256), "image_ids": sorted(self.image_ids),
                "decision_ids": sorted(self.decision_ids), "face_ids": sorted(self.face_ids),
                "template_ids": sorted(self.template_ids), "urls": sorted(self.urls), "how": self.how,
                "phashes": self.phashes, "optouts": self.optouts, "unsearched": self.unsearched,
                "searched": self.searched, "seconds": self.seconds}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Found:
        return cls(sha256=set(data["sha256"]), image_ids=set(data["image_ids"]), decision_ids=set(data["decision_ids"]),
                   face_ids=set(data["face_ids"]), template_ids=set(data["template_ids"]), urls=set(data.get("urls", [])),
                   phashes=dict(data.get("phashes", {})), optouts=list(data.get("optouts", [])), how=dict(data["how"]),
                   unsearched=list(data["unsearched"]), searched=dict(data["searched"]),
                   seconds=dict(data.get("seconds", {})))

    def counts(self) -> dict[str, int]:
        return {"images": len(self.sha256), "image_rows": len(self.image_ids), "decisions": len(self.decision_ids),
                "faces": len(self.face_ids), "templates": len(self.template_ids)}


def find(database: Database, image_store: ImageStore, subject: Subject, fernet: Fernet, threshold: float,
         face_search: PersonSearch, progress: Progress | None = None, suppression_url: str | None = None) -> Found:
    """Everything stored that is about ``subject`` (and, given the list, the opt-out entries that hold them)."""
    found = Found()
    if suppression_url is not None:
        found.optouts = opt_outs_of(subject, suppression_url, fernet, threshold)
    if subject.probes:
        _by_face(database, image_store, subject.probes, fernet, threshold, face_search, found, progress)
    if subject.urls:
        _by_url(database, image_store, subject.urls, found)
    if subject.page_urls:
        _by_page(database, subject.page_urls, found)
    _widen(database, subject, found)
    return found


def _by_face(database: Database, image_store: ImageStore, probes: list[np.ndarray], fernet: Fernet, threshold: float,
             face_search: PersonSearch, found: Found, progress: Progress | None) -> None:
    started = time.perf_counter()
    template_hits = face_search.templates(probes, threshold)
    found.seconds["templates"] = round(time.perf_counter() - started, 3)
    for template_hit in template_hits:
        found.note(template_hit.image_sha256, f"face distance {template_hit.distance:.2f} (persisted template)")
        found.template_ids.add(template_hit.template_id)
    started = time.perf_counter()
    result = face_search.stored_faces(probes, threshold, progress)
    found.seconds["stored_faces"] = round(time.perf_counter() - started, 3)
    for face_hit in result.hits:
        found.note(face_hit.image_sha256, f"face distance {face_hit.distance:.2f} (re-encoded from its box)")
    found.unsearched += result.unsearched
    found.searched.update(templates=face_search.template_count, faces=result.faces_searched,
                          images=result.images_searched)


def opt_outs_of(subject: Subject, suppression_url: str, fernet: Fernet, threshold: float) -> list[dict[str, Any]]:
    """The suppression-list entries that hold this person (their face, or the URLs given): data held about them
    too, and how an earlier deletion with --optout is linked to a later request."""
    from faces.compare import distances
    from storage.suppression import SuppressionStore, holds_encrypted_data, url_digest

    if not holds_encrypted_data(suppression_url):
        return []
    store = SuppressionStore(suppression_url, fernet)
    try:
        listed, entries = store.load(), {e.id: e for e in store.entries()}
    finally:
        store.dispose()
    owners: dict[str, str] = {}
    for probe in subject.probes:
        if listed.template_owners:
            for index in np.flatnonzero(distances(listed.templates, probe) < threshold):
                owners.setdefault(listed.template_owners[int(index)], "face")
    for url in subject.urls + subject.page_urls:
        owner = listed.url_digests.get(url_digest(url))
        if owner:
            owners.setdefault(owner, "url")
    shown = []
    for entry_id, how in owners.items():
        entry = entries.get(entry_id)
        if entry is not None:
            shown.append({"id": entry_id, "kind": entry.kind, "matched_by": how, "label": entry.label,
                          "created_at": entry.created_at.isoformat()})
    return shown


def _by_url(database: Database, image_store: ImageStore, urls: list[str], found: Found) -> None:
    with database.session() as session:
        stored = session.execute(select(ImageRecord.sha256).where(or_(
            ImageRecord.url.in_(urls), ImageRecord.decision_id.in_(
                select(DecisionRecord.id).where(DecisionRecord.final_url.in_(urls)))))).scalars().all()
        for sha256 in stored:
            found.note(sha256, "its URL")
        hashes = _perceptual_hashes(session, image_store)
    originals = [hashes[sha] for sha in set(stored) if sha in hashes]
    for sha256, value in hashes.items():
        if sha256 in found.sha256:
            continue
        for original in originals:
            distance = bin((value ^ original) & (2**64 - 1)).count("1")
            if distance <= PHASH_DISTANCE:
                found.note(sha256, f"a copy of the image at its URL (perceptual hash {distance} bits away)")
                break


def _perceptual_hashes(session: Any, image_store: ImageStore) -> dict[str, int]:
    """Every stored image's perceptual hash; images stored before hashes were kept are hashed now (and recorded)."""
    from faces.images import decode_image, perceptual_hash
    from policy.errors import ImageError

    hashes = {}
    for row in session.scalars(select(ImageFile)):
        if row.perceptual_hash is None:
            try:
                row.perceptual_hash = _signed(perceptual_hash(decode_image(image_store.read(row.path))))
            except (OSError, ImageError):
                continue
            session.commit()
        hashes[row.sha256] = row.perceptual_hash & (2**64 - 1)
    return hashes


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _by_page(database: Database, page_urls: list[str], found: Found) -> None:
    with database.session() as session:
        for sha256 in session.scalars(select(ImageRecord.sha256).where(ImageRecord.page_url.in_(page_urls))):
            found.note(sha256, "collected from its page")


def _widen(database: Database, subject: Subject, found: Found) -> None:
    """Every row that names what was found: all runs' image rows, their decisions, faces and templates."""
    with database.session() as session:
        for image in session.scalars(select(ImageRecord).where(ImageRecord.sha256.in_(found.sha256))):
            found.image_ids.add(image.id)
            found.decision_ids.add(image.decision_id)
            found.urls.add(image.url)
        urls = set(subject.urls) | found.urls
        for decision_id, url in session.execute(select(DecisionRecord.id, DecisionRecord.url).where(
                DecisionRecord.deleted_by_request.is_(None),
                or_(DecisionRecord.url.in_(urls), DecisionRecord.final_url.in_(urls)))):
            found.decision_ids.add(decision_id)
            found.urls.add(url)
        found.face_ids |= set(session.scalars(select(FaceRecord.id).where(FaceRecord.image_sha256.in_(found.sha256))))
        found.template_ids |= set(session.scalars(
            select(FaceTemplate.id).where(FaceTemplate.image_sha256.in_(found.sha256))))
        found.phashes = {sha256: value & (2**64 - 1) for sha256, value in session.execute(
            select(ImageFile.sha256, ImageFile.perceptual_hash).where(ImageFile.sha256.in_(found.sha256)))
            if value is not None}


def sha256_of_rows(database: Database, table: Any, ids: Iterable[int]) -> list[str]:
    with database.session() as session:
        return sorted(set(session.scalars(select(table.image_sha256).where(table.id.in_(list(ids))))))
