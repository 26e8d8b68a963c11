"""Many workers on one run (crawler.frontier): a request decided twice is written once, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from storage import BackgroundWriter, Database
from tests.storage.rows import add_run, decision_row
from tests.storage.test_writer_spill import page_row


def _count(database: Database, table: str) -> int:
    with database.engine.connect() as connection:
        return int(connection.scalar(text(f"select count(*) from {table}")) or 0)


def test_an_idempotent_writer_keeps_the_first_decision_and_page_of_a_request(database: Database,
                                                                            tmp_path: Path) -> None:
    add_run(database)
    first = BackgroundWriter(database, tmp_path / "a.jsonl", idempotent=True)
    first.add("decisions", {**decision_row("d1"), "request_key": "k1"})
    first.add("pages", page_row("d1"))
    assert first.close() is None
    again = BackgroundWriter(database, tmp_path / "b.jsonl", idempotent=True)  # another worker, after the first died
    again.add("decisions", {**decision_row("d1"), "request_key": "k1"})
    again.add("pages", page_row("d1"))
    assert again.close() is None and again.spilled_rows == 0
    assert _count(database, "decisions") == 1 and _count(database, "pages") == 1


def test_two_decisions_of_one_request_under_different_ids_are_refused(database: Database, tmp_path: Path) -> None:
    add_run(database)
    writer = BackgroundWriter(database, tmp_path / "c.jsonl", idempotent=True, retry_delays=(0.01,))
    writer.add("decisions", {**decision_row("d1"), "request_key": "k1"})
    writer.add("decisions", {**decision_row("d2"), "request_key": "k1"})  # the unique key per run (migration 0010)
    failure = writer.close()
    assert _count(database, "decisions") == 1 and writer.spilled_rows == 1 and failure is not None
