"""Database writes off the crawl's event loop.

The crawl hands finished rows to :class:`BackgroundWriter`; one thread inserts
them in batches, in foreign-key order. A batch that cannot be written after a
few tries is appended to a JSON-lines spill file instead of being dropped, and
``close()`` reports it, so a database outage never loses a decision.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from storage.database import Database
from storage.models import Base

logger = logging.getLogger(__name__)

#: Tables in the order their foreign keys require.
WRITE_ORDER = ("sites", "decisions", "image_files", "pages", "images", "face_templates", "audit_events")
#: Tables whose rows may already exist (content stored by an earlier run).
INSERT_IF_ABSENT = {"image_files"}

DEFAULT_BATCH_ROWS = 500
DEFAULT_FLUSH_SECONDS = 0.25
WRITE_ATTEMPTS = 3


class BackgroundWriter:
    """Queue rows from any thread; a worker thread writes them in batches."""

    def __init__(self, database: Database, spill_path: Path) -> None:
        self.database = database
        self.spill_path = spill_path
        self.spilled_rows = 0
        self.written_rows = 0
        self._queue: queue.Queue[tuple[str, dict[str, Any]] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="faircrawl-db-writer", daemon=True)
        self._thread.start()

    def add(self, table: str, row: dict[str, Any]) -> None:
        self._queue.put((table, row))

    def close(self) -> None:
        """Write everything still queued, then stop the worker."""
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        stopping = False
        while not stopping:
            batch: dict[str, list[dict[str, Any]]] = defaultdict(list)
            count = 0
            deadline = time.monotonic() + DEFAULT_FLUSH_SECONDS
            while count < DEFAULT_BATCH_ROWS:
                try:
                    entry = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if entry is None:
                    stopping = True
                    break
                batch[entry[0]].append(entry[1])
                count += 1
            if count:
                self._write(batch)

    def _write(self, batch: dict[str, list[dict[str, Any]]]) -> None:
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                with self.database.engine.begin() as connection:
                    for name in WRITE_ORDER:
                        if batch.get(name):
                            connection.execute(self._statement(Base.metadata.tables[name]), batch[name])
                self.written_rows += sum(len(rows) for rows in batch.values())
                return
            except Exception as error:  # noqa: BLE001 - any failure: retry, then spill
                logger.warning("database write failed (attempt %d/%d): %s", attempt, WRITE_ATTEMPTS, error)
                time.sleep(0.2 * attempt)
        self._spill(batch)

    def _statement(self, table: Table):  # type: ignore[no-untyped-def]
        if table.name not in INSERT_IF_ABSENT:
            return insert(table)
        dialect = self.database.engine.dialect.name
        if dialect == "sqlite":
            return sqlite_insert(table).on_conflict_do_nothing()
        if dialect == "postgresql":
            return postgresql_insert(table).on_conflict_do_nothing()
        return insert(table)

    def _spill(self, batch: dict[str, list[dict[str, Any]]]) -> None:
        self.spill_path.parent.mkdir(parents=True, exist_ok=True)
        with self.spill_path.open("a", encoding="utf-8") as spill:
            for name in WRITE_ORDER:
                for row in batch.get(name, []):
                    spill.write(json.dumps({"table": name, "row": row}, default=_json_default) + "\n")
                    self.spilled_rows += 1
        logger.error("database unavailable: %d rows kept in %s", self.spilled_rows, self.spill_path)


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")
