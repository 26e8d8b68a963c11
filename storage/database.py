"""Open the crawl database named by a URL and bring its schema up to date with Alembic.

Every way a URL can be wrong (malformed, an unknown scheme, a missing driver,
a server that is down, a file that is not SQLite or is damaged) ends in a
:class:`DatabaseUnavailableError` naming the URL or file and what to do; a
file that is not a usable database is never recreated or overwritten.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from storage.connecting import Target, open_engine, redact, translated
from storage.migrating import Schema, upgrade_schema

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
CRAWL_SCHEMA = Schema(MIGRATIONS_DIR, "alembic_version")
SQLITE_PRAGMAS = ("PRAGMA foreign_keys=ON", "PRAGMA busy_timeout=10000")

__all__ = ["CRAWL_SCHEMA", "Database", "redact"]


class Database:
    """An engine plus a session factory; ``upgrade()`` applies pending migrations."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.target = Target(url, "database", "--db or FAIRCRAWL_DB")
        self.engine: Engine = open_engine(self.target, SQLITE_PRAGMAS)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    def session(self) -> Session:
        return self.sessions()

    def upgrade(self, revision: str = "head") -> None:
        """Apply every pending migration (up to ``revision``); refuse a schema newer than this code."""
        upgrade_schema(self.engine, self.target, CRAWL_SCHEMA, revision)
        if self.engine.dialect.name == "sqlite":
            # WAL lets the report read while a crawl writes; it is kept in the file, so set once it is ours
            with translated(self.target), self.engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA journal_mode=WAL")

    def dispose(self) -> None:
        self.engine.dispose()
