"""The suppression list: people who asked not to be collected, kept apart from crawl data, encrypted.

An opt-out entry holds face templates (from probe photos: the photos are
never kept), perceptual hashes of images, or URLs. Templates and hashes are
biometric or derived data held on the requester's consent, so they live in
their own database (``var/suppression.db`` by default, FAIRCRAWL_SUPPRESSION_DB),
encrypted with the key of :mod:`storage.keys`, and are deleted when the
opt-out is withdrawn; only a tombstone (id, dates, kind) remains. Nothing here
is ever logged. Its schema has its own Alembic migrations
(``storage/suppression_migrations``, version table ``alembic_version_suppression``)
because it must be able to live apart from the crawl database; a list made
before that is adopted in place. A damaged or foreign file is refused, never
recreated.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from cryptography.fernet import Fernet
from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    delete,
    exists,
    func,
    insert,
    inspect,
    select,
    update,
)

from policy.errors import ImageError, ProbeError
from storage.connecting import Target, damaged, is_sqlite_file, open_engine, translated
from storage.errors import KeyFileError
from storage.keys import decrypt
from storage.migrating import Schema, upgrade_schema

DEFAULT_SUPPRESSION_DB = "sqlite:///var/suppression.db"
SETTING = "--suppression-db or FAIRCRAWL_SUPPRESSION_DB"
SQLITE_PRAGMAS = ("PRAGMA foreign_keys=ON", "PRAGMA busy_timeout=10000")

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
    Column("revision", Integer, nullable=False),  # bumped on every change, so a crawl sees new opt-outs
    Column("key_check", LargeBinary),  # a known value encrypted with the store's key: a wrong key fails at once
)
KEY_CHECK = b"faircrawl suppression list"
LIST_TABLES = frozenset({"optouts", "optout_templates", "optout_hashes", "optout_urls", "suppression_state"})


def _legacy_revision(connection: Connection, tables: set[str]) -> str | None:
    """A list made before Alembic: version 1 had no key check (s0001), version 2 has one (s0002)."""
    if tables != LIST_TABLES:
        return None
    columns = {column["name"] for column in inspect(connection).get_columns("suppression_state")}
    return "s0002" if "key_check" in columns else "s0001"


SUPPRESSION_SCHEMA = Schema(Path(__file__).with_name("suppression_migrations"), "alembic_version_suppression",
                            _legacy_revision)


def suppression_target(url: str) -> Target:
    """The list as messages name it."""
    return Target(url, "suppression database", SETTING)


def holds_encrypted_data(url: str) -> bool:
    """Does the list at ``url`` hold anything encrypted (its key check, labels, templates, hashes, URLs)?

    Asking never creates the list; a damaged or unreachable list is a DatabaseUnavailableError.
    """
    target = suppression_target(url)
    parsed = target.parsed()
    if parsed is not None and is_sqlite_file(parsed) and not Path(str(parsed.database)).exists():
        return False
    engine = open_engine(target, SQLITE_PRAGMAS)
    try:
        with translated(target), engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
            if "suppression_state" in tables and "key_check" in {
                    column["name"] for column in inspect(connection).get_columns("suppression_state")}:
                if connection.scalar(select(exists().where(state.c.key_check.is_not(None)))):
                    return True
            if "optouts" in tables and connection.scalar(select(exists().where(optouts.c.label.is_not(None)))):
                return True
            return any(connection.scalar(select(exists().select_from(table)))
                       for table in (templates, hashes, urls) if table.name in tables)
    finally:
        engine.dispose()


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
    from faces.encode import analyse_faces

    found = []
    for name, content in photos:
        try:
            analysis = analyse_faces(content)
        except ImageError as error:
            raise ProbeError(f"{name}: not a usable image ({error.detail})") from error  # the cause keeps its code
        if not analysis.detection.complete:
            raise ProbeError(f"{name}: the photo is too large to search for every face; use a smaller photo of the "
                             "person alone")
        if analysis.count != 1:
            raise ProbeError(f"{name}: a probe photo must show exactly one face; found {analysis.count}. "
                             "Use a photo of the person alone, facing the camera")
        found.append(analysis.encodings[0])
    return found


class SuppressionStore:
    """The list in its own database; every failure to read it is a StorageError naming the file or URL."""

    def __init__(self, url: str, fernet: Fernet) -> None:
        self.target = suppression_target(url)
        self.engine = open_engine(self.target, SQLITE_PRAGMAS)
        self.fernet = fernet
        try:
            self._open()
        except BaseException:
            self.engine.dispose()
            raise

    def _open(self) -> None:
        """Check the file, upgrade the schema, and verify (or, on a new or version-1 list, set) the key check."""
        self._check_sqlite_file()
        upgrade_schema(self.engine, self.target, SUPPRESSION_SCHEMA)
        with self._transaction() as connection:
            check = connection.scalar(select(state.c.key_check))
            if check is None:  # a new list, or one made before lists had a key check
                self._check_key_on_entries(connection)
                check = self.fernet.encrypt(KEY_CHECK)
                if connection.scalar(select(func.count()).select_from(state)) == 0:
                    connection.execute(insert(state).values(id=1, revision=0, key_check=check))
                else:
                    connection.execute(update(state).values(key_check=check))
        if decrypt(self.fernet, check, "the suppression list") != KEY_CHECK:
            raise KeyFileError("the suppression list's key check does not match: this is not its key")

    def _check_key_on_entries(self, connection: Connection) -> None:
        """A list without a key check may still hold entries: the key must read them before it is trusted."""
        for column in (templates.c.ciphertext, hashes.c.ciphertext, urls.c.ciphertext, optouts.c.label):
            token = connection.scalar(select(column).where(column.is_not(None)).limit(1))
            if token is not None:
                decrypt(self.fernet, token, "the suppression list's entries")
                return

    def _check_sqlite_file(self) -> None:
        """A damaged SQLite file is refused when the list is opened, not halfway through a crawl (the list is small)."""
        if self.engine.dialect.name != "sqlite":
            return
        with self._connection() as connection:
            problems = [str(row[0]) for row in connection.exec_driver_sql("PRAGMA quick_check")]
        if problems != ["ok"]:
            raise damaged(self.target, "; ".join(problems[:3]))

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        with translated(self.target), self.engine.connect() as connection:
            yield connection

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        with translated(self.target), self.engine.begin() as connection:
            yield connection

    def dispose(self) -> None:
        self.engine.dispose()

    # -- changes ------------------------------------------------------------------

    def _new(self, connection: Connection, kind: str, label: str | None) -> str:
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
        with self._transaction() as connection:
            optout_id = self._new(connection, "face", label)
            connection.execute(insert(templates), [
                {"optout_id": optout_id, "ciphertext": self.fernet.encrypt(np.asarray(e, np.float32).tobytes())}
                for e in encodings])
        return optout_id

    def add_image_hashes(self, perceptual_hashes: list[int], label: str | None = None) -> str:
        with self._transaction() as connection:
            optout_id = self._new(connection, "image", label)
            connection.execute(insert(hashes), [
                {"optout_id": optout_id, "ciphertext": self.fernet.encrypt(value.to_bytes(8, "big"))}
                for value in perceptual_hashes])
        return optout_id

    def add_urls(self, url_list: list[str], label: str | None = None) -> str:
        with self._transaction() as connection:
            optout_id = self._new(connection, "url", label)
            connection.execute(insert(urls), [
                {"optout_id": optout_id, "url_sha256": url_digest(u),
                 "ciphertext": self.fernet.encrypt(normalise_url(u).encode())} for u in url_list])
        return optout_id

    def withdraw(self, optout_id: str) -> dict[str, int]:
        """Delete everything the entry holds; keep a tombstone. Returns what was removed, per table."""
        with self._transaction() as connection:
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
        with self._connection() as connection:
            return int(connection.scalar(select(state.c.revision)) or 0)

    def entries(self) -> list[OptOutEntry]:
        with self._connection() as connection:
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
        with self._connection() as connection:
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
