"""Database writes off the crawl's event loop, losing nothing.

The crawl hands finished rows to :class:`BackgroundWriter`; one thread inserts
them in batches, in foreign-key order. The queue between them is bounded
(``max_queued_rows``): when the database falls behind, ``add`` waits, so the
crawl slows down rather than holding every row in memory. What the database does not take goes
to a JSON-lines spill file (:mod:`storage.spill`) instead of being dropped:

- a batch that fails for the database's sake (server down, table gone) is
  retried, then spilled whole;
- a batch that fails for a row's sake (a duplicate key, a foreign key to a
  missing decision, a value the column cannot hold) is split in halves until
  the offending rows are alone: only they are spilled, each with its error;
- anything unexpected in the thread is caught, its rows spilled, and the
  thread goes on with the next batch.

Failure contract: :meth:`BackgroundWriter.close` *returns* a :class:`WriterError`
(it does not raise) when any row was spilled or could not even be spilled, and
``None`` when every row reached the database; :attr:`BackgroundWriter.failure`
holds the same while the crawl runs. The message names the spill file, so a
crawl can end as an error that says where its rows are; :func:`replay_spill`
writes them once the database is back.

``sites`` rows are upserted on (run, origin), the latest fetch winning (a
site's files are fetched again when the cache expires during a long crawl);
``image_files`` rows already present are kept (content stored by an earlier run).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from itertools import groupby
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Executable, Table, insert
from sqlalchemy.dialects.postgresql import Insert as PostgresqlInsert
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import Insert as SQLiteInsert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, StatementError

from storage.connecting import first_line
from storage.database import Database
from storage.errors import WriterError
from storage.models import Base
from storage.spill import SpilledRow, append_spill, read_spill

logger = logging.getLogger(__name__)

#: Tables in the order their foreign keys require.
WRITE_ORDER = ("sites", "decisions", "image_files", "faces", "pages", "images", "face_templates")
#: Tables whose rows may already exist (content stored by an earlier run): the first one stays.
INSERT_IF_ABSENT = {"image_files": ("sha256",), "faces": ("image_sha256", "face_index")}
#: With ``idempotent=True`` (many workers on one run, crawler.frontier) these too: a request decided again after
#: its first worker died has the same decision id (derived from the run and the request), so the first rows stay.
#: Without it a duplicate decision id is a bug, and is spilled like any refused row.
INSERT_IF_ABSENT_IDEMPOTENT = {**INSERT_IF_ABSENT, "decisions": ("id",), "pages": ("decision_id",),
                               "images": ("decision_id",)}
#: Tables where a later row replaces an earlier one with the same key.
UPSERT = {"sites": ("run_id", "origin")}

DEFAULT_BATCH_ROWS = 500
#: Rows queued at most; a crawl that produces them faster than the database takes them waits in ``add``
#: (backpressure), so a slow database slows the crawl instead of filling memory.
DEFAULT_MAX_QUEUED_ROWS = 5_000
DEFAULT_FLUSH_SECONDS = 0.25
GATHER_POLL_SECONDS = 0.05  # how often a gathering batch is checked for being full
QUEUE_CHECK_SECONDS = 1.0  # a full queue: how often ``add`` checks that the worker thread is still there
DEFAULT_RETRY_DELAYS = (0.2, 0.4)  # seconds before the 2nd and 3rd attempt of a batch the database refused

_RANK = {name: rank for rank, name in enumerate(WRITE_ORDER)}


class BackgroundWriter:
    """Queue rows from any thread; a worker thread writes them in batches (see the module's failure contract)."""

    def __init__(self, database: Database, spill_path: Path, *, batch_rows: int = DEFAULT_BATCH_ROWS,
                 flush_seconds: float = DEFAULT_FLUSH_SECONDS,
                 retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS,
                 max_queued_rows: int = DEFAULT_MAX_QUEUED_ROWS, idempotent: bool = False) -> None:
        self.database = database
        self._if_absent = INSERT_IF_ABSENT_IDEMPOTENT if idempotent else INSERT_IF_ABSENT
        self.spill_path = spill_path
        self.written_rows = 0
        self.spilled_rows = 0
        #: Rows that could be neither written nor spilled (the spill file was unwritable): kept here, not lost.
        self.unsaved_rows: list[SpilledRow] = []
        self._batch_rows = batch_rows
        self._flush_seconds = flush_seconds
        self._retry_delays = retry_delays
        self._first_error: str | None = None
        self._spill_error: str | None = None
        self._closed = False
        self._settled: set[int] = set()  # ids of the current batch's rows already written or spilled
        self._queue: queue.Queue[SpilledRow | None] = queue.Queue(maxsize=max(max_queued_rows, batch_rows))
        self._closing = threading.Event()  # set by close(): stop gathering, write what is queued
        self._thread = threading.Thread(target=self._run, name="faircrawl-db-writer", daemon=True)
        self._thread.start()

    def add(self, table: str, row: dict[str, Any]) -> None:
        """Queue one row, waiting while the queue is full; a table the schema does not have, or a closed writer,
        is refused at once."""
        if table not in _RANK:
            raise WriterError(f"no table {table!r} for the background writer; it writes {', '.join(WRITE_ORDER)}")
        if self._closed:
            raise WriterError(f"the background writer for {self.spill_path} is closed; a {table} row came too late")
        self._put(SpilledRow(table, row))

    def _put(self, entry: SpilledRow | None) -> None:
        """Queue ``entry``; should the worker thread be gone while the queue is full, spill the row here instead."""
        while True:
            try:
                self._queue.put(entry, timeout=QUEUE_CHECK_SECONDS)
                return
            except queue.Full:
                if self._thread.is_alive():
                    continue
                if entry is not None:
                    self._spill([entry], WriterError("the background writer thread stopped"))
                return

    def close(self) -> WriterError | None:
        """Write everything still queued, stop the worker, and return the failure (None if every row was written)."""
        if not self._closed:
            self._closed = True
            self._closing.set()
            self._put(None)
        self._thread.join()
        left = [entry for entry in _drain(self._queue) if entry is not None]
        if left:  # only when the worker thread died before the end: the rows are spilled, not lost
            self._spill(left, WriterError("the background writer thread stopped"))
        return self.failure

    @property
    def queued_rows(self) -> int:
        """Rows waiting for the worker thread (at most ``max_queued_rows``)."""
        return self._queue.qsize()

    @property
    def failure(self) -> WriterError | None:
        """What went wrong so far, naming the spill file; None while every row has been written."""
        if not (self.spilled_rows or self.unsaved_rows):
            return None
        parts = []
        if self.spilled_rows:
            parts.append(f"{self.spilled_rows} row(s) could not be written to {self.database.target.what} "
                         f"{self.database.target.shown} and were kept in {self.spill_path}")
        if self.unsaved_rows:
            parts.append(f"{len(self.unsaved_rows)} row(s) could not be spilled to {self.spill_path} either "
                         f"({self._spill_error}) and are held in memory only")
        return WriterError("; ".join(parts) + f". First error: {self._first_error}. Nothing in them is lost: "
                           "replay the spill file (storage.writer.replay_spill) once the database is writable")

    # -- the worker thread ------------------------------------------------------

    def _run(self) -> None:
        stopping = False
        while not stopping:
            batch, stopping = self._next_batch()
            if not batch:
                continue
            try:
                self._write(sorted(batch, key=lambda spilled: _RANK[spilled.table]))
            except Exception as error:  # noqa: BLE001 - a writer bug must not lose the batch or stop the thread
                unsettled = [spilled for spilled in batch if id(spilled) not in self._settled]
                logger.exception("background writer failed; spilling %d row(s)", len(unsettled))
                self._spill(unsettled, error)
            finally:
                self._settled.clear()

    def _next_batch(self) -> tuple[list[SpilledRow], bool]:
        """Up to ``batch_rows`` rows, at most ``flush_seconds`` after the first arrived.

        The rows gather in the queue while this thread sleeps (it looks every GATHER_POLL_SECONDS whether a batch
        is full, and wakes at once on close), rather than taking each row as it comes: a thread woken for every
        row takes the interpreter from the crawl's thread thousands of times a second.
        """
        first = self._queue.get()
        if first is None:
            return [], True
        batch = [first]
        deadline = time.monotonic() + self._flush_seconds
        while not self._closed and self._queue.qsize() < self._batch_rows - 1:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self._closing.wait(min(remaining, GATHER_POLL_SECONDS))
        while len(batch) < self._batch_rows:
            try:
                entry = self._queue.get_nowait()
            except queue.Empty:
                break
            if entry is None:
                return batch, True
            batch.append(entry)
        return batch, False

    def _write(self, rows: list[SpilledRow]) -> None:
        """Write ``rows`` (in foreign-key order) in one transaction, splitting it around rows the database refuses."""
        for attempt, delay in enumerate((*self._retry_delays, None), start=1):
            try:
                with self.database.engine.begin() as connection:
                    for table, group in groupby(rows, key=lambda spilled: spilled.table):
                        self._insert(connection, Base.metadata.tables[table], [spilled.row for spilled in group])
                self.written_rows += len(rows)
                self._settled.update(id(spilled) for spilled in rows)
                return
            except Exception as error:  # noqa: BLE001 - sorted below: the row's fault, or the database's
                if _is_row_error(error):
                    self._split(rows, error)
                    return
                logger.warning("database write of %d row(s) failed (attempt %d): %s", len(rows), attempt,
                               _describe(error))
                if delay is None:
                    self._spill(rows, error)
                    return
                time.sleep(delay)

    def _split(self, rows: list[SpilledRow], error: Exception) -> None:
        if len(rows) == 1:
            logger.warning("a %s row was refused by the database: %s", rows[0].table, _describe(error))
            self._spill(rows, error)
            return
        middle = len(rows) // 2  # each half stays in foreign-key order
        self._write(rows[:middle])
        self._write(rows[middle:])

    def _insert(self, connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
        if table.name in UPSERT:
            rows = list({tuple(row.get(c) for c in UPSERT[table.name]): row for row in rows}.values())  # latest wins
        connection.execute(self._statement(table), rows)

    def _statement(self, table: Table) -> Executable:
        dialect = self.database.engine.dialect.name
        statement: SQLiteInsert | PostgresqlInsert
        if dialect == "sqlite":
            statement = sqlite_insert(table)
        elif dialect == "postgresql":
            statement = postgresql_insert(table)
        else:
            return insert(table)
        if table.name in self._if_absent:
            return statement.on_conflict_do_nothing(index_elements=list(self._if_absent[table.name]))
        if table.name in UPSERT:
            keys = UPSERT[table.name]
            replaced = {c.name: statement.excluded[c.name] for c in table.columns
                        if c.name not in keys and not c.primary_key}
            return statement.on_conflict_do_update(index_elements=list(keys), set_=replaced)
        return insert(table)

    def _spill(self, rows: list[SpilledRow], error: BaseException) -> None:
        reason = _describe(error)
        self._first_error = self._first_error or reason
        described = [SpilledRow(spilled.table, spilled.row, reason) for spilled in rows]
        self._settled.update(id(spilled) for spilled in rows)
        try:
            self.spilled_rows += append_spill(self.spill_path, described)
        except Exception as spill_error:  # noqa: BLE001 - an unwritable spill file: keep the rows in memory
            self._spill_error = f"{type(spill_error).__name__}: {spill_error}"
            self.unsaved_rows.extend(described)
            logger.error("%d row(s) could not be spilled to %s (%s); held in memory", len(rows), self.spill_path,
                         self._spill_error)
            return
        logger.error("%d row(s) kept in %s (%s)", len(rows), self.spill_path, reason)


def _drain(entries: queue.Queue[SpilledRow | None]) -> list[SpilledRow | None]:
    drained = []
    while True:
        try:
            drained.append(entries.get_nowait())
        except queue.Empty:
            return drained


def _is_row_error(error: Exception) -> bool:
    """Did the database refuse a row (so splitting the batch helps), rather than the whole write?"""
    if isinstance(error, IntegrityError | DataError):
        return True
    # a value the driver could not even bind (e.g. not JSON): raised before the database saw anything
    return isinstance(error, StatementError) and not isinstance(error, DBAPIError)


def _describe(error: BaseException) -> str:
    """The error's kind and the driver's first line: never the statement's parameters."""
    return f"{type(error).__name__}: {first_line(error)}"


def replay_spill(database: Database, spill_path: Path, leftover_path: Path | None = None) -> WriterError | None:
    """Write a spill file's rows to ``database``; what it still refuses goes to ``leftover_path``.

    Returns the writer's failure as :meth:`BackgroundWriter.close` does. The spill file itself is left in place:
    remove it once this returns None.
    """
    leftover = leftover_path or spill_path.with_name(f"{spill_path.stem}.leftover{spill_path.suffix}")
    writer = BackgroundWriter(database, leftover)
    for spilled in read_spill(spill_path):
        writer.add(spilled.table, spilled.row)
    return writer.close()

