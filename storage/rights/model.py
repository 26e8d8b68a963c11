"""The vocabulary of rights requests: kinds, statuses and checkpoints, task states, the stores a deletion reaches."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum


class RequestKind(StrEnum):
    DELETION = "deletion"
    ACCESS = "access"


class RequestStatus(StrEnum):
    """Where a request is; the checkpoints are ordered (a request resumes after the last one it reached)."""

    RECEIVED = "received"
    IDENTIFIED = "identified"
    DELETED = "deleted"  # every store's task reported (deletion)
    COMPILED = "compiled"  # the answer and its archive are written (access)
    VERIFIED = "verified"  # a second search found nothing left (deletion)
    COMPLETED = "completed"
    FAILED = "failed"


#: The checkpoints of each kind, in order (``failed`` can follow any of them).
CHECKPOINTS: dict[RequestKind, tuple[RequestStatus, ...]] = {
    RequestKind.DELETION: (RequestStatus.RECEIVED, RequestStatus.IDENTIFIED, RequestStatus.DELETED,
                           RequestStatus.VERIFIED, RequestStatus.COMPLETED),
    RequestKind.ACCESS: (RequestStatus.RECEIVED, RequestStatus.IDENTIFIED, RequestStatus.COMPILED,
                         RequestStatus.COMPLETED),
}
UNFINISHED = (RequestStatus.RECEIVED, RequestStatus.IDENTIFIED, RequestStatus.DELETED, RequestStatus.COMPILED,
              RequestStatus.VERIFIED, RequestStatus.FAILED)


class TaskStatus(StrEnum):
    PENDING = "pending"
    COMPLETED = "completed"
    SKIPPED = "skipped"  # nothing of the person there, with the reason


class Store(StrEnum):
    """Every place faircrawl keeps something about a person, in the order a deletion empties them."""

    IMAGE_FILES = "image_files"  # the files on disk (sha256)
    FACES = "faces"  # face boxes of those images
    FACE_TEMPLATES = "face_templates"  # persisted templates (encrypted)
    IMAGES = "images"  # where each was found (rows)
    DECISIONS = "decisions"  # decision records naming them: emptied to tombstones
    IMAGE_FILE_ROWS = "image_file_rows"  # the content rows
    REPORTS = "reports"  # JSON reports faircrawl wrote under its own folders
    SPILL_FILES = "spill_files"  # rows the database could not take
    CACHES = "caches"  # in-memory template indexes
    SUPPRESSION = "suppression"  # the opt-out list: re-collection blocked (and the face, with --optout)


DELETION_ORDER = tuple(Store)


def iso(moment: datetime) -> str:
    """A moment in ISO 8601 with its UTC offset (SQLite gives times back without one: they are UTC)."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()
