"""Stored faces without templates: re-encoded from their boxes at request time, on every core.

There is no biometric index here by design. The boxes recorded at crawl time
spare the detection; images stored before boxes were recorded (their
``faces_searched_at`` is NULL) are detected once, and their boxes recorded so
the next search only encodes. The workers get paths and boxes and the probes,
and send back one distance per face (faces.reencode).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from faces import LANDMARK_MODEL
from faces.library import Css
from faces.reencode import ImageJob, ImageOutcome, search_images
from storage.database import Database
from storage.image_store import ImageStore
from storage.models import FaceRecord, ImageFile

#: Report progress at most this often (in images) besides the first and last batch.
PROGRESS_EVERY = 200


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
    images_detected: int = 0  # of which detected for the first time (their boxes are now recorded)


def plan(database: Database, image_store: ImageStore) -> tuple[list[ImageJob], dict[str, list[int]]]:
    """One job per stored image that may show a face, and the face row ids of each, in box order."""
    boxes: dict[str, list[Css]] = {}
    face_ids: dict[str, list[int]] = {}
    with database.session() as session:
        for face_id, sha256, top, right, bottom, left in session.execute(
                select(FaceRecord.id, FaceRecord.image_sha256, FaceRecord.top, FaceRecord.right, FaceRecord.bottom,
                       FaceRecord.left).order_by(FaceRecord.image_sha256, FaceRecord.face_index)):
            boxes.setdefault(sha256, []).append((top, right, bottom, left))
            face_ids.setdefault(sha256, []).append(face_id)
        files = session.execute(select(ImageFile.sha256, ImageFile.path, ImageFile.faces_searched_at)
                                .order_by(ImageFile.sha256)).all()
    jobs = []
    for sha256, path, searched_at in files:
        if sha256 in boxes:
            jobs.append(ImageJob(sha256, str(image_store.root / path), tuple(boxes[sha256])))
        elif searched_at is None:
            jobs.append(ImageJob(sha256, str(image_store.root / path), None))
        # else: looked for before and no face found
    return jobs, face_ids


def search(database: Database, image_store: ImageStore, probes: list[np.ndarray], threshold: float, *,
           progress: Callable[[str], None] | None = None, workers: int | None = None,
           **options: Any) -> StoredFacesResult:
    """Every stored face closer than ``threshold`` to a probe; unreadable files are listed, never skipped silently."""
    result = StoredFacesResult()
    if not probes:
        return result
    jobs, face_ids = plan(database, image_store)
    total_faces = sum(len(job.boxes) for job in jobs if job.boxes is not None)
    undetected = sum(1 for job in jobs if job.boxes is None)
    if progress:
        progress(f"re-encoding {total_faces} stored face(s) in {len(jobs) - undetected} image(s) from their boxes, "
                 f"detecting faces in {undetected} image(s) never searched")
    done, reported = 0, 0
    for outcomes in search_images(jobs, np.stack(probes), workers=workers, **options):
        _record_boxes(database, options.get("model", "hog"), [o for o in outcomes if o.detected is not None],
                      face_ids)
        for outcome in outcomes:
            _take(outcome, face_ids.get(outcome.key, []), threshold, result)
        done += len(outcomes)
        if progress and (done - reported >= PROGRESS_EVERY or done == len(jobs)):
            reported = done
            progress(f"searched {result.faces_searched} face(s) in {done}/{len(jobs)} image(s), "
                     f"{len(result.hits)} match(es), {len(result.unsearched)} unreadable")
    return result


def _take(outcome: ImageOutcome, ids: list[int], threshold: float, result: StoredFacesResult) -> None:
    if not outcome.readable:
        result.unsearched.append(outcome.key)
        return
    result.images_searched += 1
    result.images_detected += outcome.detected is not None
    result.faces_searched += len(outcome.distances)
    for index, distance in enumerate(outcome.distances):
        if distance < threshold:
            result.hits.append(FaceHit(outcome.key, ids[index] if index < len(ids) else None, index, distance))


def _record_boxes(database: Database, detector: str, outcomes: list[ImageOutcome],
                  face_ids: dict[str, list[int]]) -> None:
    """Boxes of images detected for the first time, and that they were searched (so it is done once)."""
    if not outcomes:
        return
    now = datetime.now(UTC)
    try:
        with database.session() as session, session.begin():
            for outcome in outcomes:
                assert outcome.detected is not None
                rows = [FaceRecord(image_sha256=outcome.key, face_index=index, top=top, right=right, bottom=bottom,
                                   left=left, detector=detector, landmark_model=LANDMARK_MODEL, found_at=now)
                        for index, (top, right, bottom, left) in enumerate(outcome.detected)]
                session.add_all(rows)
                image = session.get(ImageFile, outcome.key)
                if image is not None:
                    image.faces_searched_at, image.faces_search_complete = now, outcome.complete
                session.flush()
                face_ids[outcome.key] = [row.id for row in rows]
    except IntegrityError:  # a crawl recorded them meanwhile: theirs stand, the hits keep no face id
        for outcome in outcomes:
            face_ids.pop(outcome.key, None)
