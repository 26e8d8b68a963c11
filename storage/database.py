"""Open the database named by a URL and bring its schema up to date with Alembic."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from storage.errors import DatabaseUnavailableError, SchemaError

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def _redact(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


class Database:
    """An engine plus a session factory; ``upgrade()`` applies pending migrations."""

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            parsed = make_url(url)
        except ArgumentError as error:
            raise DatabaseUnavailableError(
                f"database URL {url!r} is not valid ({error}); use e.g. sqlite:///var/faircrawl.db "
                "or postgresql+psycopg://user@127.0.0.1:5432/dbname"
            ) from None
        if parsed.drivername.startswith("sqlite") and parsed.database not in (None, "", ":memory:"):
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        try:
            self.engine: Engine = create_engine(parsed, pool_pre_ping=True)
        except ImportError as error:
            raise DatabaseUnavailableError(
                f"no driver for {parsed.drivername} ({error}); for PostgreSQL install "
                "faircrawl[postgres] and use a postgresql+psycopg:// URL"
            ) from None
        if parsed.drivername.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    def session(self) -> Session:
        return self.sessions()

    def upgrade(self) -> None:
        """Apply every pending migration; refuse a schema newer than this code."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        head = ScriptDirectory.from_config(config).get_current_head()
        try:
            with self.engine.begin() as connection:
                current = MigrationContext.configure(connection).get_current_revision()
                known = {s.revision for s in ScriptDirectory.from_config(config).walk_revisions()}
                if current is not None and current not in known:
                    raise SchemaError(
                        f"database {_redact(self.url)} has schema revision {current}, unknown to this "
                        f"faircrawl (latest {head}); upgrade faircrawl or use another database"
                    )
                if current != head:
                    config.attributes["connection"] = connection
                    command.upgrade(config, "head")
        except OperationalError as error:
            reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
            raise DatabaseUnavailableError(
                f"cannot open database {_redact(self.url)}: {reason}. Check the URL given with "
                "--db or FAIRCRAWL_DB, and that the server is running"
            ) from None

    def dispose(self) -> None:
        self.engine.dispose()


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")  # the report can read while a crawl writes
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()
