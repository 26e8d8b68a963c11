"""Screening against the suppression list during a crawl: by URL, by perceptual hash, by face.

The list is opened (and its key checked) when the crawl is built, by
:func:`open_suppression_store`, the one place that opens it for every entry
point. It is decrypted once into memory and re-read whenever its revision
changes, so an opt-out added while a crawl runs applies to every image stored
after it (the store stage checks again just before writing). A match leaves
only the opt-out entry's id and how it matched: never a vector.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from cryptography.fernet import Fernet
from scrapy.crawler import Crawler
from sqlalchemy.engine import make_url

from crawler.settings import setting
from faces.compare import DEFAULT_MATCH_THRESHOLD, best_match
from storage.suppression import SuppressionList, SuppressionStore, url_digest

DEFAULT_PHASH_DISTANCE = 8  # of 64 bits: resized or recompressed copies measure 0-4 here


@dataclass(frozen=True, slots=True)
class OptOutMatch:
    optout_id: str
    matched_by: str  # url | image | face
    detail: str  # e.g. "face distance 0.37 < 0.6" (no vectors)


class OptOutScreen:
    def __init__(self, store: SuppressionStore, match_threshold: float = DEFAULT_MATCH_THRESHOLD,
                 phash_distance: int = DEFAULT_PHASH_DISTANCE) -> None:
        self.store = store
        self.match_threshold = match_threshold
        self.phash_distance = phash_distance
        self._lock = threading.Lock()
        self.current: SuppressionList = store.load()
        self._checked_at = time.monotonic()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> OptOutScreen:
        settings = crawler.settings
        return cls(open_suppression_store(settings), setting(settings, "FAIRCRAWL_MATCH_THRESHOLD"))

    def fresh(self, max_age_seconds: float) -> bool:
        """Was the revision checked within ``max_age_seconds``? (then screening needs no database call)"""
        return time.monotonic() - self._checked_at < max_age_seconds

    def refresh(self, max_age_seconds: float = 0.0) -> SuppressionList:
        """The latest list (re-read only when its revision moved; call from a thread).

        ``max_age_seconds`` lets the screen stage skip the revision query for a moment;
        the store stage always asks (max age 0), so nothing is stored against a stale list.
        """
        if max_age_seconds and time.monotonic() - self._checked_at < max_age_seconds:
            return self.current
        revision = self.store.revision()
        self._checked_at = time.monotonic()
        with self._lock:
            if revision != self.current.revision:
                self.current = self.store.load()
            return self.current

    def match(self, urls: list[str], perceptual_hash: int | None, encodings: tuple[np.ndarray, ...],
              suppression: SuppressionList | None = None) -> OptOutMatch | None:
        listed = suppression or self.current
        for url in urls:
            owner = listed.url_digests.get(url_digest(url))
            if owner:
                return OptOutMatch(owner, "url", "the URL is on the suppression list")
        if perceptual_hash is not None:
            for owner, value in listed.hashes:
                distance = bin(value ^ perceptual_hash).count("1")
                if distance <= self.phash_distance:
                    return OptOutMatch(owner, "image", f"perceptual hash {distance} bits from an opted-out image")
        for encoding in encodings:
            found = best_match(listed.templates, encoding, self.match_threshold)
            if found is not None:
                owner = listed.template_owners[found.index]
                return OptOutMatch(owner, "face", f"face distance {found.distance:.2f} < {self.match_threshold}")
        return None

    def close(self) -> None:
        self.store.dispose()


def open_suppression_store(settings: Any) -> SuppressionStore:
    """The suppression list named by the settings, opened with its key (a wrong key or a broken list raises here).

    A dry run (`policy explain`) must not create anything: with no list on disk yet it screens against an
    empty one in memory.
    """
    from crawler.startup import crawl_key

    url = setting(settings, "FAIRCRAWL_SUPPRESSION_DB")
    if settings.getbool("FAIRCRAWL_DRY_RUN") and not suppression_list_exists(url):
        return SuppressionStore("sqlite://", Fernet(Fernet.generate_key()))
    return SuppressionStore(url, crawl_key(settings))


def suppression_list_exists(url: str) -> bool:
    """False only for a SQLite file that does not exist yet (a server database is assumed to exist)."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite"):
        return True
    database = parsed.database
    return bool(database) and database != ":memory:" and Path(str(database)).exists()


def screen_for(crawler: Crawler) -> OptOutScreen:
    from crawler.policy_runtime import per_crawler

    return per_crawler(crawler, "_faircrawl_optouts", OptOutScreen.from_crawler)


def describe(match: OptOutMatch) -> dict[str, Any]:
    return {"optout_id": match.optout_id, "matched_by": match.matched_by}
