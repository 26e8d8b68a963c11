"""The vocabulary of rights requests: kinds, statuses and checkpoints, task states, the stores a deletion reaches."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


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
    REFUSED = "refused"  # refused outright, as only an unlawful practice does (with the provisions breached)
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


@dataclass(frozen=True, slots=True)
class RightsPractice:
    """How a store answers requests. The lawful practice has no limit at all; a demonstration pack may answer
    the way the CNIL found Clearview answering (SAN-2022-019): access only twice a year and only to the last
    12 months of data, deletion refused. Each limitation records the provisions it breaches."""

    access_lookback_days: int | None = None  # None: data of any age
    access_per_year: int | None = None  # None: as often as asked
    deletion: str = "complete"  # complete | refused
    breaches: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # limitation -> provisions

    @classmethod
    def from_pack(cls, spec: Mapping[str, Any] | None) -> RightsPractice:
        if not spec:
            return LAWFUL_PRACTICE
        return cls(spec.get("access_lookback_days"), spec.get("access_per_year"), spec.get("deletion", "complete"),
                   {k: tuple(v) for k, v in (spec.get("breaches") or {}).items()})

    @property
    def lawful(self) -> bool:
        return self == LAWFUL_PRACTICE


LAWFUL_PRACTICE = RightsPractice()


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
    ACCESS_ANSWERS = "access_answers"  # earlier access answers kept with their requests, and their archives
    SPILL_FILES = "spill_files"  # rows the database could not take
    CACHES = "caches"  # in-memory template indexes
    SUPPRESSION = "suppression"  # the opt-out list: re-collection blocked (and the face, with --optout)


DELETION_ORDER = tuple(Store)


def iso(moment: datetime) -> str:
    """A moment in ISO 8601 with its UTC offset (SQLite gives times back without one: they are UTC)."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()
