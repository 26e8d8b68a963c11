"""Compare encodings: Euclidean distance, a match below the threshold.

0.6 is face_recognition's default tolerance. Measured on packaged photos
(reference faces.md §3): the same person 0.04-0.43, different people 0.63-0.97.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DEFAULT_MATCH_THRESHOLD = 0.6


@dataclass(frozen=True, slots=True)
class Match:
    index: int  # row of the known encodings that matched
    distance: float


def distances(known: np.ndarray, probe: np.ndarray) -> np.ndarray:
    """Distance from ``probe`` (128,) to every row of ``known`` (n, 128); empty for no rows."""
    if known.size == 0:
        return np.zeros(0, dtype=np.float32)
    found: np.ndarray = np.linalg.norm(known.astype(np.float32) - probe.astype(np.float32), axis=1)
    return found


def best_match(known: np.ndarray, probe: np.ndarray, threshold: float = DEFAULT_MATCH_THRESHOLD) -> Match | None:
    """The closest known encoding if it is closer than ``threshold``."""
    found = distances(known, probe)
    if found.size == 0:
        return None
    index = int(np.argmin(found))
    distance = float(found[index])
    return Match(index, distance) if distance < threshold else None
