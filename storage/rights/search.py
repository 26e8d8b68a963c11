"""Searching stored data for a person's face: persisted templates, and stored faces re-encoded from their boxes.

One object holds both engines for a request, or for a server's lifetime: then
the decrypted template matrix (storage.rights.template_index) stays in memory
between requests, refreshed with new templates and shrunk by ``forget``. Stored
faces without templates have no index by design (storage.rights.stored_faces).
Nothing computed here is written anywhere but the ``faces`` boxes of images
searched for the first time. ``last_timings`` tells the two costs apart: the
demo report shows search "with and without a biometric index".
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from cryptography.fernet import Fernet
from sqlalchemy import select

from storage.database import Database
from storage.image_store import ImageStore
from storage.models import FaceTemplate
from storage.rights import stored_faces as stored
from storage.rights.stored_faces import FaceHit, StoredFacesResult
from storage.rights.template_index import TemplateIndex

__all__ = ["FaceHit", "PersonSearch", "StoredFacesResult", "TemplateHit"]


@dataclass(frozen=True, slots=True)
class TemplateHit:
    template_id: int
    image_sha256: str
    face_index: int
    distance: float


#: How often, at most, a search checks for templates deleted by another process (a count over the whole table).
PRUNE_INTERVAL_SECONDS = 60.0


class PersonSearch:
    def __init__(self, database: Database, image_store: ImageStore, fernet: Fernet, *, model: str = "hog",
                 max_side: int = 1024, max_pixels: int = 40_000_000, workers: int | None = None) -> None:
        self.database, self.image_store, self.fernet = database, image_store, fernet
        self.model, self.max_side, self.max_pixels, self.workers = model, max_side, max_pixels, workers
        self.index = TemplateIndex()
        self.prune_interval = PRUNE_INTERVAL_SECONDS
        self._pruned_at = float("-inf")
        #: Seconds spent by the last calls: "templates_load" (decrypting new templates), "templates_search",
        #: "stored_faces" (re-encoding without an index).
        self.last_timings: dict[str, float] = {}

    @property
    def template_count(self) -> int:
        return len(self.index)

    def templates(self, probes: list[np.ndarray], threshold: float) -> list[TemplateHit]:
        """Every persisted template closer than ``threshold`` to a probe (exact search over the whole index)."""
        started = time.perf_counter()
        prune = time.monotonic() - self._pruned_at >= self.prune_interval
        self.index.refresh(self.database, self.fernet, prune=prune)
        if prune:
            self._pruned_at = time.monotonic()
        loaded = time.perf_counter()
        found = self.index.search(np.stack(probes), threshold) if probes else []
        closest: dict[int, float] = {}
        for template_id, _, distance in found:
            closest[template_id] = min(distance, closest.get(template_id, distance))
        hits = []
        if closest:
            with self.database.session() as session:
                rows = session.execute(select(FaceTemplate.id, FaceTemplate.image_sha256, FaceTemplate.face_index)
                                       .where(FaceTemplate.id.in_(list(closest)))).all()
            hits = [TemplateHit(row.id, row.image_sha256, row.face_index, closest[row.id]) for row in rows]
            self.index.forget(set(closest) - {row.id for row in rows})  # deleted since the refresh
        self.last_timings.update(templates_load=loaded - started, templates_search=time.perf_counter() - loaded)
        return hits

    def stored_faces(self, probes: list[np.ndarray], threshold: float,
                     progress: Callable[[str], None] | None = None) -> StoredFacesResult:
        """Every stored face closer than ``threshold``, re-encoded from its box in worker processes."""
        started = time.perf_counter()
        result = stored.search(self.database, self.image_store, probes, threshold, progress=progress,
                               workers=self.workers, model=self.model, max_side=self.max_side,
                               max_pixels=self.max_pixels)
        self.last_timings["stored_faces"] = time.perf_counter() - started
        return result

    def forget(self, template_ids: set[int]) -> int:
        """Drop deleted templates from the in-memory index; returns how many it held."""
        return self.index.forget(set(template_ids))
