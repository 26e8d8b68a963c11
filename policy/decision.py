"""The vocabulary of decisions: outcomes, kinds of request, and reasons.

A *reason* names the rule or signal that produced it (``robots.txt``, ``http``,
``image``, ``host``), a stable ``code`` that tests and reports key on, and a
human ``detail``; every decision record carries a list of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    PAGE = "page"
    IMAGE = "image"


class Outcome(StrEnum):
    CRAWLED = "crawled"  # a page fetched and parsed
    STORED = "stored"  # an image kept
    REFUSED = "refused"  # not fetched or not kept because a rule said no
    FAILED = "failed"  # could not be fetched or was not a usable image


@dataclass(frozen=True, slots=True)
class Reason:
    """Why something happened: which rule or signal, in a code and in words."""

    source: str  # robots.txt | host | http | image | page
    code: str  # e.g. robots.disallowed, image.truncated
    detail: str
    evidence: dict[str, Any] = field(default_factory=dict)  # e.g. robots URL and line

    def as_dict(self) -> dict[str, Any]:
        record: dict[str, Any] = {"source": self.source, "code": self.code, "detail": self.detail}
        if self.evidence:
            record["evidence"] = dict(self.evidence)
        return record
