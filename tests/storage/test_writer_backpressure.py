"""The background writer's queue is bounded: a crawl faster than its database waits instead of filling memory.

Issue 12: every row a crawl produced used to sit in an unbounded queue while
the database lagged, so memory grew with the crawl.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text

from storage import BackgroundWriter, Database
from tests.storage.rows import add_run, decision_row

ROWS = 40
BOUND = 10


@contextmanager
def write_locked(database: Database) -> Iterator[None]:
    """Another client holds the decisions table (PostgreSQL) or the whole file (SQLite) for writing."""
    if database.engine.dialect.name == "sqlite":
        holder = sqlite3.connect(str(database.engine.url.database), isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    with database.engine.connect() as connection:
        transaction = connection.begin()
        connection.execute(text("LOCK TABLE decisions IN ACCESS EXCLUSIVE MODE"))
        try:
            yield
        finally:
            transaction.rollback()


def test_a_full_queue_makes_add_wait_until_the_database_takes_rows(database: Database, tmp_path: Path) -> None:
    add_run(database)
    spill = tmp_path / "unwritten.jsonl"
    writer = BackgroundWriter(database, spill, batch_rows=5, flush_seconds=0.01, max_queued_rows=BOUND)
    adder = threading.Thread(target=lambda: [writer.add("decisions", decision_row(f"d{n}")) for n in range(ROWS)])

    with write_locked(database):
        adder.start()
        adder.join(timeout=0.5)  # unbounded, 40 rows would have been queued in microseconds
        waiting, queued = adder.is_alive(), writer.queued_rows
    adder.join(timeout=60)
    failure = writer.close()

    assert waiting, "add() went on although the database took nothing"
    assert queued <= BOUND
    assert not adder.is_alive() and failure is None and not spill.exists()
    with database.engine.connect() as connection:
        assert connection.scalar(text("select count(*) from decisions")) == ROWS, "every row written once released"
