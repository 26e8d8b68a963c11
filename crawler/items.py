"""What the spider hands to the image stages, and what each stage adds to it (typed, in stage order).

The item carries biometric data (face encodings) between stages, so nothing
about it may ever print that data: its ``repr``/``str`` show only the URL and
what was decided, and encodings sit in :class:`Encodings`, which hides them
too. Scrapy logs items on errors and drops; see ``crawler.logformatter``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from faces import FaceBox
from policy.engine import Decision
from policy.jurisdiction import Jurisdiction
from policy.observe import Observation, PageFacts


class Encodings:
    """Face encodings held in memory for one image; they never print, pickle or compare as values."""

    __slots__ = ("_vectors",)

    def __init__(self, vectors: tuple[np.ndarray, ...] = ()) -> None:
        self._vectors = tuple(vectors)

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter(self._vectors)

    def __len__(self) -> int:
        return len(self._vectors)

    def __getitem__(self, index: int) -> np.ndarray:
        return self._vectors[index]

    def __bool__(self) -> bool:
        return bool(self._vectors)

    def __repr__(self) -> str:
        return f"<{len(self._vectors)} face encoding(s), not shown>"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("face encodings are not serialised")


NO_ENCODINGS = Encodings()


@dataclass(frozen=True, slots=True, repr=False)
class FaceFindings:
    """What the faces stage found: boxes, and encodings only where a template may be computed."""

    count: int  # faces the policy must assume (at least 1 when the search was incomplete)
    boxes: tuple[FaceBox, ...]
    complete: bool  # False: capped, or not every part of the image could be searched
    model: str
    encodings: Encodings = NO_ENCODINGS

    def __repr__(self) -> str:
        return f"<FaceFindings {self.count} face(s){'' if self.complete else ', search incomplete'}, {self.encodings!r}>"

    __str__ = __repr__


@dataclass(slots=True, repr=False)
class FetchedImage:
    """An image response and what was observed and decided about it, stage by stage."""

    # -- from the spider (the response and what the gates observed before sending it)
    url: str  # as first requested
    final_url: str  # after redirects
    page_url: str | None
    body: bytes
    content_type: str | None
    headers: dict[str, list[str]] = field(default_factory=dict)
    observation: Observation = field(default_factory=Observation)
    jurisdiction: Jurisdiction | None = None
    page_facts: PageFacts | None = None
    fetch_decision: Decision | None = None
    fetched_at: datetime | None = None
    # -- validate: the decoded image's facts (sha256, size, perceptual hash)
    valid: Any = None  # crawler.pipelines.validate.ValidImage
    # -- consent, then faces: may it be kept (with the face count, once known)
    collect_decision: Decision | None = None
    faces_matter: bool = False  # could faces change its fate in this jurisdiction
    # -- faces: what was found, and what the face_template purpose allows
    faces: FaceFindings | None = None
    template_decision: Decision | None = None
    obligations: dict[str, Any] | None = None  # collect and template obligations combined
    # -- screen: the suppression list revision it was screened against (the store stage screens again if it moved)
    screened_revision: int | None = None
    # -- screen and store: provisions breached on top of the rules' own (unlawful packs only)
    breaches: tuple[str, ...] = ()
    # -- set when its one decision has been recorded
    decision_id: str | None = None

    @property
    def encodings(self) -> Encodings:
        return self.faces.encodings if self.faces is not None else NO_ENCODINGS

    def forget_encodings(self) -> None:
        """Transient templates end here: drop the vectors, keep the count and boxes."""
        if self.faces is not None and self.faces.encodings:
            self.faces = FaceFindings(self.faces.count, self.faces.boxes, self.faces.complete, self.faces.model)

    def __repr__(self) -> str:
        sha = f" sha256={self.valid.sha256[:12]}" if self.valid is not None else ""
        faces = f" faces={self.faces.count}" if self.faces is not None else ""
        decided = " decided" if self.decision_id else ""
        return f"<FetchedImage {self.url}{sha}{faces}{decided}>"

    __str__ = __repr__
