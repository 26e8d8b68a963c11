"""Persisted face templates, decrypted once into one float32 matrix and searched exactly by brute force.

A long-running server keeps one index: loading decrypts every template (about
0.1 ms each), a query only reads the matrix. The matrix is preallocated and
filled in chunks straight from the ciphertexts (no list of a million arrays),
grows geometrically when new templates appear (rows with an id above the
highest loaded), and shrinks in place when templates are forgotten: a deleted
template's vector is overwritten, not merely hidden. Search is exact: squared
distances by matrix product, chunked, as a filter with a safety margin, then
the true distance of every candidate.
"""

from __future__ import annotations

import numpy as np
from cryptography.fernet import Fernet
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.database import Database
from storage.keys import decrypt
from storage.models import FaceTemplate

DIMENSIONS = 128
#: Templates decrypted per database round trip while loading.
LOAD_CHUNK = 20_000
#: Rows per matrix product in a search (128 MiB of matrix): the scan is bound by memory bandwidth, and smaller
#: products cost more than they save (measured at 1M rows: 4,096 per product 1.6 s, 32,768 376 ms, 262,144 and
#: more about 140 ms on a loaded machine, where BLAS threads waiting for each other dominate small products).
SEARCH_CHUNK = 262_144
#: Added to the squared threshold before the exact check: float32 rounding of |x|^2 - 2x.p + |p|^2 is far smaller.
FILTER_MARGIN = 1e-3


class TemplateIndex:
    """Template ids and their vectors, row for row; ``size`` rows of the preallocated matrix are in use."""

    def __init__(self) -> None:
        self.matrix = np.zeros((0, DIMENSIONS), dtype=np.float32)
        self.norms = np.zeros(0, dtype=np.float32)  # squared norm of each row
        self.ids = np.zeros(0, dtype=np.int64)
        self.size = 0
        self.max_id = 0  # the highest template id ever loaded: newer rows are what a refresh adds

    def __len__(self) -> int:
        return self.size

    def reserve(self, rows: int) -> None:
        """Room for ``rows`` in all (grows by at least half, so repeated refreshes copy little)."""
        if rows <= len(self.ids):
            return
        capacity = max(rows, len(self.ids) + len(self.ids) // 2)
        matrix = np.zeros((capacity, DIMENSIONS), dtype=np.float32)
        matrix[:self.size] = self.matrix[:self.size]
        self.matrix[:] = 0  # the old copy held biometric data: wipe it before it is freed
        self.matrix = matrix
        self.norms = np.resize(self.norms, capacity)
        self.ids = np.resize(self.ids, capacity)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Append templates (already decrypted); ids must be above every id loaded so far."""
        count = len(ids)
        self.reserve(self.size + count)
        end = self.size + count
        self.matrix[self.size:end] = vectors
        self.norms[self.size:end] = np.einsum("ij,ij->i", self.matrix[self.size:end], self.matrix[self.size:end])
        self.ids[self.size:end] = ids
        self.size = end
        if count:
            self.max_id = max(self.max_id, int(np.max(ids)))

    def refresh(self, database: Database, fernet: Fernet, *, prune: bool = True) -> int:
        """Load the templates stored since the last refresh (one indexed max() when there are none) and, with
        ``prune``, drop those deleted meanwhile by someone else (expiry, another process); returns rows added."""
        with database.session() as session:
            if prune:
                self._prune(session)
            newest = session.scalar(select(func.max(FaceTemplate.id))) or 0
            if newest <= self.max_id:
                return 0
            newer = session.scalar(select(func.count()).select_from(FaceTemplate).where(FaceTemplate.id > self.max_id))
            self.reserve(self.size + int(newer or 0))
            added, last = 0, self.max_id
            while True:
                rows = session.execute(select(FaceTemplate.id, FaceTemplate.ciphertext).where(FaceTemplate.id > last)
                                       .order_by(FaceTemplate.id).limit(LOAD_CHUNK)).all()
                if not rows:
                    return added
                self.reserve(self.size + len(rows))  # rows stored while loading
                start = self.size
                for offset, (_, token) in enumerate(rows):
                    self.matrix[start + offset] = np.frombuffer(decrypt(fernet, token, "a face template"),
                                                                dtype=np.float32)
                self.add(np.array([row[0] for row in rows], dtype=np.int64), self.matrix[start:start + len(rows)])
                added, last = added + len(rows), int(rows[-1][0])

    def _prune(self, session: Session) -> None:
        held = session.scalar(select(func.count()).select_from(FaceTemplate).where(FaceTemplate.id <= self.max_id))
        if held != self.size:
            alive = np.fromiter(session.scalars(select(FaceTemplate.id).where(FaceTemplate.id <= self.max_id)),
                                dtype=np.int64)
            self.forget(set(self.ids[:self.size][~np.isin(self.ids[:self.size], alive)].tolist()))

    def forget(self, template_ids: set[int]) -> int:
        """Remove these templates from memory (their rows are overwritten); returns how many were held."""
        if not template_ids or not self.size:
            return 0
        keep = np.flatnonzero(~np.isin(self.ids[:self.size], np.fromiter(template_ids, dtype=np.int64)))
        dropped = self.size - len(keep)
        if not dropped:
            return 0
        for start in range(0, len(keep), LOAD_CHUNK):  # in place: every write lands at or below what it reads
            rows = keep[start:start + LOAD_CHUNK]
            end = start + len(rows)
            self.matrix[start:end] = self.matrix[rows]
            self.norms[start:end] = self.norms[rows]
            self.ids[start:end] = self.ids[rows]
        self.matrix[len(keep):self.size] = 0
        self.size = len(keep)
        return dropped

    def search(self, probes: np.ndarray, threshold: float) -> list[tuple[int, int, float]]:
        """Every (template id, probe number, distance) closer than ``threshold``: exact, not approximate."""
        if not self.size or not len(probes):
            return []
        probes = np.ascontiguousarray(probes, dtype=np.float32).reshape(-1, DIMENSIONS)
        probe_norms = np.einsum("ij,ij->i", probes, probes)
        limit = np.float32(threshold * threshold + FILTER_MARGIN)
        transposed = np.ascontiguousarray(probes.T)
        hits = []
        for start in range(0, self.size, SEARCH_CHUNK):
            end = min(start + SEARCH_CHUNK, self.size)
            squared = self.matrix[start:end] @ transposed
            squared *= -2
            squared += self.norms[start:end, None]
            squared += probe_norms[None, :]
            rows, columns = np.nonzero(squared < limit)
            if len(rows):
                exact = np.linalg.norm(self.matrix[start + rows] - probes[columns], axis=1)
                for row, column, distance in zip(rows.tolist(), columns.tolist(), exact.tolist(), strict=True):
                    if distance < threshold:
                        hits.append((int(self.ids[start + row]), column, float(distance)))
        return hits
