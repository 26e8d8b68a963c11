"""Engines from user-given URLs, and database errors turned into messages a user can act on.

Shared by the crawl database and the suppression list, which are opened the
same way but named differently in messages (``what``) and configured by
different settings (``setting``). Engines hide bound parameters from error
messages, so no row value (a template's ciphertext, a URL) ever reaches a log
line or an exception.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, SQLAlchemyError, StatementError

from storage.errors import DatabaseUnavailableError

#: What a valid URL looks like, for messages.
URL_EXAMPLES = "sqlite:///var/faircrawl.db or postgresql+psycopg://user@127.0.0.1:5432/dbname"
#: SQLite reports these for a file that is not (or no longer) a whole SQLite database.
DAMAGE_MARKERS = ("file is not a database", "malformed", "not a database", "corrupt")


def redact(url: str) -> str:
    """The URL without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


@dataclass(frozen=True, slots=True)
class Target:
    """A database as a user named it: the URL, what it is for, and the setting that names it."""

    url: str
    what: str  # "database", "suppression database"
    setting: str  # "--db or FAIRCRAWL_DB"

    @property
    def shown(self) -> str:
        """The SQLite file, or the redacted URL: what the user recognises."""
        parsed = self.parsed()
        if parsed is not None and is_sqlite_file(parsed):
            return str(parsed.database)
        return redact(self.url)

    def parsed(self) -> URL | None:
        try:
            return make_url(self.url)
        except ArgumentError:
            return None


def is_sqlite_file(parsed: URL) -> bool:
    return parsed.drivername.startswith("sqlite") and parsed.database not in (None, "", ":memory:")


def open_engine(target: Target, sqlite_pragmas: tuple[str, ...]) -> Engine:
    """An engine for ``target``; a malformed URL, an unknown scheme or a missing driver is a clear error."""
    parsed = target.parsed()
    if parsed is None:
        raise DatabaseUnavailableError(
            f"{target.what} URL {target.url!r} is not valid; give {target.setting} as e.g. {URL_EXAMPLES}")
    if is_sqlite_file(parsed):
        try:
            Path(str(parsed.database)).parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise DatabaseUnavailableError(
                f"cannot create the folder of {target.what} {parsed.database} ({error.strerror}); "
                f"choose a writable place with {target.setting}") from None
    try:
        engine = create_engine(parsed, pool_pre_ping=True, hide_parameters=True)
    except ArgumentError as error:  # NoSuchModuleError among them: foo://x
        raise DatabaseUnavailableError(
            f"{target.what} URL {redact(target.url)!r} names no database faircrawl can use ({error}); "
            f"give {target.setting} as e.g. {URL_EXAMPLES}") from None
    except ImportError as error:
        raise DatabaseUnavailableError(
            f"no driver for {parsed.drivername} ({error}); for PostgreSQL install faircrawl[postgres] and use a "
            "postgresql+psycopg:// URL") from None
    if parsed.drivername.startswith("sqlite") and sqlite_pragmas:
        event.listen(engine, "connect", _pragmas_listener(sqlite_pragmas))
    return engine


def _pragmas_listener(pragmas: tuple[str, ...]) -> Any:
    def set_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            for pragma in pragmas:
                cursor.execute(pragma)
        finally:
            cursor.close()

    return set_pragmas


def first_line(error: BaseException) -> str:
    """The driver's own message, first line only (SQLAlchemy's adds the statement)."""
    wrapped = error.orig if isinstance(error, StatementError) else None
    origin = wrapped if isinstance(wrapped, BaseException) else error
    lines = str(origin).strip().splitlines()
    return lines[0] if lines else type(origin).__name__


def is_damaged_file(error: BaseException) -> bool:
    return any(marker in first_line(error).lower() for marker in DAMAGE_MARKERS)


def damaged(target: Target, reason: str) -> DatabaseUnavailableError:
    """The error for a SQLite file that is not (or no longer) a whole database; the file is never touched."""
    parsed = target.parsed()
    file = parsed.database if parsed is not None else target.url
    return DatabaseUnavailableError(
        f"{target.what} {file} is not a usable SQLite database ({reason}). faircrawl left the file as it is: if "
        f"it is the wrong file, fix {target.setting}; if it is damaged, restore it from your backup (or move it "
        "away to start an empty one)")


def unavailable(target: Target, error: SQLAlchemyError) -> DatabaseUnavailableError:
    """The error to raise when ``target`` cannot be read or written."""
    reason = first_line(error)
    parsed = target.parsed()
    if parsed is not None and is_sqlite_file(parsed) and is_damaged_file(error):
        return damaged(target, reason)
    return DatabaseUnavailableError(
        f"cannot open {target.what} {target.shown}: {reason}. Check the URL given with {target.setting}, "
        "and that the server is running")


@contextmanager
def translated(target: Target) -> Iterator[None]:
    """Turn a failure to reach or read ``target`` inside the block into :func:`unavailable`'s clear error.

    Integrity errors are the caller's (a row that breaks a constraint), not the database's, and pass through.
    """
    try:
        yield
    except IntegrityError:
        raise
    except DBAPIError as error:
        raise unavailable(target, error) from None
