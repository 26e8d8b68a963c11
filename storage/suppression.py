"""The suppression list: people who asked not to be collected, kept apart from crawl data, encrypted.

An opt-out entry holds face templates (from probe photos: the photos are
never kept), perceptual hashes of images, or URLs. Templates and hashes are
biometric or derived data held on the requester's consent, so they live in
their own database (``var/suppression.db`` by default, FAIRCRAWL_SUPPRESSION_DB),
encrypted with the key of :mod:`storage.keys`, and are deleted when the
opt-out is withdrawn; only a tombstone (id, dates, kind) remains. Nothing here
is ever logged. Its small schema is created in place and versioned by
``schema_version`` (it does not share the crawl database's migrations, because
it must be able to live elsewhere).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from cryptography.fernet import Fernet
from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    create_engine,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from policy.errors import ProbeError
from storage.errors import DatabaseUnavailableError
from storage.keys import decrypt

DEFAULT_SUPPRESSION_DB = "sqlite:///var/suppression.db"
SCHEMA_VERSION = 2  # 2: suppression_state.key_check

metadata = MetaData()
optouts = Table(
    "optouts", metadata,
    Column("id", String(32), primary_key=True),
    Column("kind", String(8), nullable=False),  # face | image | url
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("withdrawn_at", DateTime(timezone=True)),
    Column("label", LargeBinary),  # encrypted; cleared on withdrawal
)
templates = Table(
    "optout_templates", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("optout_id", String(32), ForeignKey("optouts.id"), nullable=False, index=True),
    Column("ciphertext", LargeBinary, nullable=False),
)
hashes = Table(
    "optout_hashes", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("optout_id", String(32), ForeignKey("optouts.id"), nullable=False, index=True),
    Column("ciphertext", LargeBinary, nullable=False),
)
urls = Table(
    "optout_urls", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("optout_id", String(32), ForeignKey("optouts.id"), nullable=False, index=True),
    Column("url_sha256", String(64), nullable=False, index=True),
    Column("ciphertext", LargeBinary, nullable=False),
)
state = Table(
    "suppression_state", metadata,
    Column("id", Integer, primary_key=True),
    Column("schema_version", Integer, nullable=False),
    Column("revision", Integer, nullable=False),  # bumped on every change, so a crawl sees new opt-outs
    Column("key_check", LargeBinary),  # a known value encrypted with the store's key: a wrong key fails at once
)
KEY_CHECK = b"faircrawl suppression list"


def normalise_url(url: str) -> str:
    """The form URLs are compared in: no fragment, lower-case scheme and host."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url.strip())
    return urlunsplit((parts.scheme.lower(), (parts.netloc or "").lower(), parts.path or "/", parts.query, ""))


def url_digest(url: str) -> str:
    return hashlib.sha256(normalise_url(url).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class OptOutEntry:
    id: str
    kind: str
    created_at: datetime
    withdrawn_at: datetime | None
    label: str | None
    items: int  # templates, hashes or URLs held


@dataclass(frozen=True, slots=True)
class SuppressionList:
    """What a crawl screens against, decrypted in memory for the crawl only."""

    revision: int
    templates: np.ndarray  # (n, 128) float32
    template_owners: tuple[str, ...]  # opt-out id of each template row
    hashes: tuple[tuple[str, int], ...]  # (opt-out id, 64-bit perceptual hash)
    url_digests: dict[str, str]  # sha256 of a normalised URL -> opt-out id

    @property
    def empty(self) -> bool:
        return not (self.template_owners or self.hashes or self.url_digests)


def probe_templates(photos: list[tuple[str, bytes]]) -> list[np.ndarray]:
    """One template per probe photo, each of which must show exactly one face; the photos are not kept."""
    from PIL import UnidentifiedImageError

    from faces.encode import analyse_faces

    found = []
    for name, content in photos:
        try:
            analysis = analyse_faces(content)
        except (UnidentifiedImageError, OSError, ValueError) as error:
            raise ProbeError(f"{name}: not a readable image ({error})") from None
        if analysis.count != 1:
            raise ProbeError(f"{name}: a probe photo must show exactly one face; found {analysis.count}. "
                             "Use a photo of the person alone, facing the camera")
        found.append(analysis.encodings[0])
    return found


class SuppressionStore:
    def __init__(self, url: str, fernet: Fernet) -> None:
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise DatabaseUnavailableError(f"suppression database URL {url!r} is not valid") from None
        if parsed.drivername.startswith("sqlite") and parsed.database:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        self.engine = create_engine(parsed)
        self.fernet = fernet
        try:
            metadata.create_all(self.engine)
            self._upgrade()
            with self.engine.begin() as connection:
                if connection.scalar(select(func.count()).select_from(state)) == 0:
                    connection.execute(insert(state).values(id=1, schema_version=SCHEMA_VERSION, revision=0,
                                                            key_check=fernet.encrypt(KEY_CHECK)))
                check = connection.scalar(select(state.c.key_check))
        except OperationalError as error:
            raise DatabaseUnavailableError(f"cannot open the suppression database: {error.orig}") from None
        if decrypt(fernet, check, "the suppression list") != KEY_CHECK:
            raise DatabaseUnavailableError("the suppression list's key check does not match")

    def _upgrade(self) -> None:
        """Bring an older list's schema up to date in place (version 1 had no key check)."""
        from sqlalchemy import inspect, text

        columns = {c["name"] for c in inspect(self.engine).get_columns("suppression_state")}
        if "key_check" not in columns:
            with self.engine.begin() as connection:
                connection.execute(text("ALTER TABLE suppression_state ADD COLUMN key_check BLOB"
                                        if self.engine.dialect.name == "sqlite"
                                        else "ALTER TABLE suppression_state ADD COLUMN key_check BYTEA"))
                connection.execute(update(state).values(key_check=self.fernet.encrypt(KEY_CHECK),
                                                        schema_version=SCHEMA_VERSION))

    def dispose(self) -> None:
        self.engine.dispose()

    # -- changes ------------------------------------------------------------------

    def _new(self, connection, kind: str, label: str | None) -> str:  # type: ignore[no-untyped-def]
        optout_id = uuid.uuid4().hex
        connection.execute(insert(optouts).values(
            id=optout_id, kind=kind, created_at=datetime.now(UTC),
            label=self.fernet.encrypt(label.encode()) if label else None))
        connection.execute(update(state).values(revision=state.c.revision + 1))
        return optout_id

    def add_photos(self, photos: list[tuple[str, bytes]], label: str | None = None) -> str:
        """Opt a person out from probe photos (name, bytes): templates kept, photos not."""
        return self.add_faces(probe_templates(photos), label)

    def add_faces(self, encodings: list[np.ndarray], label: str | None = None) -> str:
        with self.engine.begin() as connection:
            optout_id = self._new(connection, "face", label)
            connection.execute(insert(templates), [
                {"optout_id": optout_id, "ciphertext": self.fernet.encrypt(np.asarray(e, np.float32).tobytes())}
                for e in encodings])
        return optout_id

    def add_image_hashes(self, perceptual_hashes: list[int], label: str | None = None) -> str:
        with self.engine.begin() as connection:
            optout_id = self._new(connection, "image", label)
            connection.execute(insert(hashes), [
                {"optout_id": optout_id, "ciphertext": self.fernet.encrypt(value.to_bytes(8, "big"))}
                for value in perceptual_hashes])
        return optout_id

    def add_urls(self, url_list: list[str], label: str | None = None) -> str:
        with self.engine.begin() as connection:
            optout_id = self._new(connection, "url", label)
            connection.execute(insert(urls), [
                {"optout_id": optout_id, "url_sha256": url_digest(u),
                 "ciphertext": self.fernet.encrypt(normalise_url(u).encode())} for u in url_list])
        return optout_id

    def withdraw(self, optout_id: str) -> dict[str, int]:
        """Delete everything the entry holds; keep a tombstone. Returns what was removed, per table."""
        with self.engine.begin() as connection:
            row = connection.execute(select(optouts).where(optouts.c.id == optout_id)).first()
            if row is None:
                raise LookupError(f"no opt-out {optout_id!r}; `faircrawl optout list` shows them")
            removed = {table.name: connection.execute(delete(table).where(table.c.optout_id == optout_id)).rowcount
                       for table in (templates, hashes, urls)}
            connection.execute(update(optouts).where(optouts.c.id == optout_id)
                               .values(withdrawn_at=datetime.now(UTC), label=None))
            connection.execute(update(state).values(revision=state.c.revision + 1))
        return removed

    # -- reading ------------------------------------------------------------------

    def revision(self) -> int:
        with self.engine.connect() as connection:
            return int(connection.scalar(select(state.c.revision)) or 0)

    def entries(self) -> list[OptOutEntry]:
        with self.engine.connect() as connection:
            counts: dict[str, int] = {}
            for table in (templates, hashes, urls):
                for optout_id, count in connection.execute(
                        select(table.c.optout_id, func.count()).group_by(table.c.optout_id)):
                    counts[optout_id] = counts.get(optout_id, 0) + count
            rows = connection.execute(select(optouts).order_by(optouts.c.created_at)).all()
        return [OptOutEntry(r.id, r.kind, r.created_at, r.withdrawn_at,
                            decrypt(self.fernet, r.label, "an opt-out label").decode() if r.label else None,
                            counts.get(r.id, 0)) for r in rows]

    def load(self) -> SuppressionList:
        """Decrypt the active list for screening (raises a key error rather than screening against nothing)."""
        with self.engine.connect() as connection:
            revision = int(connection.scalar(select(state.c.revision)) or 0)
            template_rows = connection.execute(select(templates.c.optout_id, templates.c.ciphertext)).all()
            hash_rows = connection.execute(select(hashes.c.optout_id, hashes.c.ciphertext)).all()
            url_rows = connection.execute(select(urls.c.optout_id, urls.c.url_sha256)).all()
        vectors = [np.frombuffer(decrypt(self.fernet, row.ciphertext, "an opt-out template"), dtype=np.float32)
                   for row in template_rows]
        return SuppressionList(
            revision,
            np.vstack(vectors) if vectors else np.zeros((0, 128), np.float32),
            tuple(row.optout_id for row in template_rows),
            tuple((row.optout_id, int.from_bytes(decrypt(self.fernet, row.ciphertext, "an opt-out hash"), "big"))
                  for row in hash_rows),
            {row.url_sha256: row.optout_id for row in url_rows},
        )
