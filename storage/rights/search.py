"""Searching stored data for a person's face: persisted templates, and stored faces re-encoded from their boxes.

One object holds both engines for a request (or for a server's lifetime, which
keeps the decrypted template matrix in memory between requests). Nothing it
computes is written anywhere but the ``faces`` boxes of images searched for
the first time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
from cryptography.fernet import Fernet
from sqlalchemy import select

from faces import LANDMARK_MODEL
from faces.compare import distances
from storage.database import Database
from storage.image_store import ImageStore
from storage.keys import decrypt
from storage.models import FaceRecord, FaceTemplate, ImageFile


@dataclass(frozen=True, slots=True)
class TemplateHit:
    template_id: int
    image_sha256: str
    face_index: int
    distance: float


@dataclass(frozen=True, slots=True)
class FaceHit:
    image_sha256: str
    face_id: int | None
    face_index: int
    distance: float


@dataclass(slots=True)
class StoredFacesResult:
    hits: list[FaceHit] = field(default_factory=list)
    unsearched: list[str] = field(default_factory=list)  # image files that could not be read or decoded
    faces_searched: int = 0
    images_searched: int = 0


class PersonSearch:
    def __init__(self, database: Database, image_store: ImageStore, fernet: Fernet, *, model: str = "hog",
                 max_side: int = 1024, max_pixels: int = 40_000_000, workers: int | None = None) -> None:
        self.database, self.image_store, self.fernet = database, image_store, fernet
        self.model, self.max_side, self.max_pixels, self.workers = model, max_side, max_pixels, workers
        self.template_count = 0

    def templates(self, probes: list[np.ndarray], threshold: float) -> list[TemplateHit]:
        with self.database.session() as session:
            rows = session.execute(select(FaceTemplate.id, FaceTemplate.image_sha256, FaceTemplate.face_index,
                                          FaceTemplate.ciphertext)).all()
        self.template_count = len(rows)
        if not rows:
            return []
        matrix = np.vstack([np.frombuffer(decrypt(self.fernet, r.ciphertext, "a face template"), dtype=np.float32)
                            for r in rows])
        hits = []
        for probe in probes:
            for index in np.flatnonzero(distances(matrix, probe) < threshold):
                row = rows[int(index)]
                hits.append(TemplateHit(row.id, row.image_sha256, row.face_index,
                                        float(distances(matrix[int(index):int(index) + 1], probe)[0])))
        return hits

    def stored_faces(self, probes: list[np.ndarray], threshold: float,
                     progress: Callable[[str], None] | None = None) -> StoredFacesResult:
        from faces.encode import analyse_faces
        from policy.errors import ImageError

        result = StoredFacesResult()
        with self.database.session() as session:
            files = session.scalars(select(ImageFile)).all()
            boxes: dict[str, list[FaceRecord]] = {}
            for face in session.scalars(select(FaceRecord)):
                boxes.setdefault(face.image_sha256, []).append(face)
        for image in files:
            if image.faces_searched_at is not None and image.sha256 not in boxes:
                continue  # looked for before: no face
            try:
                analysis = analyse_faces(self.image_store.read(image.path), model=self.model, max_side=self.max_side,
                                         max_pixels=self.max_pixels)
            except (OSError, ImageError):
                result.unsearched.append(image.sha256)
                continue
            result.images_searched += 1
            result.faces_searched += len(analysis.encodings)
            if image.faces_searched_at is None:
                self._record_boxes(image.sha256, analysis)
            for index, encoding in enumerate(analysis.encodings):
                closest = min(float(np.linalg.norm(encoding - probe)) for probe in probes)
                if closest < threshold:
                    result.hits.append(FaceHit(image.sha256, None, index, closest))
        return result

    def _record_boxes(self, sha256: str, analysis: object) -> None:
        detection = analysis.detection  # type: ignore[attr-defined]
        now = datetime.now(UTC)
        with self.database.session() as session, session.begin():
            for index, box in enumerate(detection.boxes):
                session.add(FaceRecord(image_sha256=sha256, face_index=index, top=box.top, right=box.right,
                                       bottom=box.bottom, left=box.left, detector=self.model,
                                       landmark_model=LANDMARK_MODEL, found_at=now))
            row = session.get(ImageFile, sha256)
            if row is not None:
                row.faces_searched_at, row.faces_search_complete = now, detection.complete
