"""The background writer loses nothing: rows it cannot write are spilled, readable back, and reported.

Issue 7, defect 4: a ``face_templates`` row (bytes) used to kill the writer
thread while spilling, and one bad row sent its whole batch to the spill file.
"""

from __future__ import annotations

import base64
import logging
import time
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select, text

from storage import BackgroundWriter, Database, WriterError
from storage.models import DecisionRecord, FaceTemplate, PageRecord, SiteRecord
from storage.spill import read_spill
from storage.writer import replay_spill
from tests.storage.rows import WHEN, add_run, decision_row, site_row, template_row, unreachable_postgres_url

QUICK = {"retry_delays": (0.01,)}


def page_row(decision_id: str, run_id: str = "r1") -> dict[str, object]:
    return {"run_id": run_id, "decision_id": decision_id, "url": f"http://a.example/{decision_id}", "status_code": 200,
            "fetched_at": WHEN, "links_found": 1, "images_found": 2}


def _count(database: Database, table: str) -> int:
    with database.engine.connect() as connection:
        return int(connection.scalar(text(f"select count(*) from {table}")) or 0)


def test_a_templates_row_is_spilled_as_base64_ciphertext_and_reads_back(tmp_path: Path) -> None:
    key = Fernet(Fernet.generate_key())
    plaintext = bytes(range(256)) * 2  # stands for a 128-d encoding
    ciphertext = key.encrypt(plaintext)
    spill = tmp_path / "unwritten-r1.jsonl"
    writer = BackgroundWriter(Database(unreachable_postgres_url()), spill, **QUICK)
    rows = [("decisions", decision_row("d1")), ("face_templates", template_row("d1", ciphertext)),
            ("decisions", decision_row("d2"))]
    for table, row in rows:
        writer.add(table, row)
    failure = writer.close()

    assert writer.spilled_rows == 3 and writer.written_rows == 0
    assert isinstance(failure, WriterError) and str(spill) in str(failure) and "3 row(s)" in str(failure)
    assert str(writer.failure) == str(failure)  # also readable while the crawl runs
    stored = spill.read_text()
    assert base64.b64encode(ciphertext).decode() in stored  # still encrypted, as base64
    assert base64.b64encode(plaintext).decode() not in stored and plaintext.hex() not in stored
    spilled = read_spill(spill)
    assert sorted((r.table, r.row["decision_id" if r.table == "face_templates" else "id"]) for r in spilled) == [
        ("decisions", "d1"), ("decisions", "d2"), ("face_templates", "d1")]
    assert {r.table: r.row for r in spilled if r.table == "face_templates"}["face_templates"] == rows[1][1]
    assert [r.row for r in spilled if r.table == "decisions"] == [rows[0][1], rows[2][1]]  # datetimes restored
    assert all(r.error for r in spilled)  # why each row was not written

    # once the database is back, the spill file replays into it and the template still decrypts
    database = Database(f"sqlite:///{tmp_path}/back.db")
    database.upgrade()
    add_run(database)
    assert replay_spill(database, spill) is None
    with database.session() as session:
        template = session.scalars(select(FaceTemplate)).one()
        assert key.decrypt(template.ciphertext) == plaintext
        assert session.scalar(select(func.count()).select_from(DecisionRecord)) == 2
    database.dispose()


def test_one_bad_row_among_hundreds_spills_alone(database: Database, tmp_path: Path) -> None:
    add_run(database)
    spill = tmp_path / "unwritten.jsonl"
    writer = BackgroundWriter(database, spill, batch_rows=1000, flush_seconds=30, **QUICK)  # one batch
    for number in range(300):
        writer.add("decisions", decision_row(f"d{number}"))
    writer.add("decisions", decision_row("d7"))  # duplicate primary key
    writer.add("pages", page_row("no-such-decision"))  # foreign key to a missing decision
    for number in range(300, 400):
        writer.add("decisions", decision_row(f"d{number}"))
        writer.add("pages", page_row(f"d{number}"))
    failure = writer.close()

    assert _count(database, "decisions") == 400 and _count(database, "pages") == 100
    assert writer.written_rows == 500 and writer.spilled_rows == 2
    spilled = read_spill(spill)
    assert sorted(r.table for r in spilled) == ["decisions", "pages"]
    assert all(r.error and r.error.startswith("IntegrityError") for r in spilled)
    assert failure is not None and "2 row(s)" in str(failure) and str(spill) in str(failure)


def test_errors_and_logs_never_carry_the_rows_values(database: Database, tmp_path: Path,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    add_run(database)
    ciphertext = Fernet(Fernet.generate_key()).encrypt(b"an encoding")
    spill = tmp_path / "unwritten.jsonl"
    writer = BackgroundWriter(database, spill, **QUICK)
    with caplog.at_level(logging.DEBUG, logger="storage"):
        writer.add("face_templates", template_row("no-such-decision", ciphertext))
        failure = writer.close()
    (spilled,) = read_spill(spill)
    assert spilled.error and ciphertext.decode() not in spilled.error
    assert ciphertext.decode() not in caplog.text and ciphertext.decode() not in str(failure)
    assert "IntegrityError" in caplog.text


def test_a_second_robots_fetch_for_the_same_origin_keeps_the_latest(database: Database, tmp_path: Path) -> None:
    add_run(database)
    spill = tmp_path / "unwritten.jsonl"
    same_batch = BackgroundWriter(database, spill, **QUICK)
    same_batch.add("sites", site_row("http://a.example", "first"))
    same_batch.add("sites", site_row("http://a.example", "second"))
    assert same_batch.close() is None
    later_batches = BackgroundWriter(database, spill, batch_rows=1, **QUICK)
    later_batches.add("sites", site_row("http://a.example", "third"))  # the cache expired during a long crawl
    later_batches.add("sites", site_row("http://b.example", "other"))
    assert later_batches.close() is None
    with database.session() as session:
        notes = {origin: note for origin, note in session.execute(select(SiteRecord.origin, SiteRecord.robots_note))}
    assert notes == {"http://a.example": "third", "http://b.example": "other"}
    assert not spill.exists()


def test_a_database_unwritable_mid_way_ends_with_every_row_written_or_spilled(database: Database,
                                                                               tmp_path: Path) -> None:
    add_run(database)
    spill = tmp_path / "unwritten.jsonl"
    writer = BackgroundWriter(database, spill, batch_rows=20, flush_seconds=0.02, **QUICK)
    for number in range(100):
        writer.add("decisions", decision_row(f"d{number}"))
        writer.add("pages", page_row(f"d{number}"))
    deadline = time.monotonic() + 30
    while writer.written_rows == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    with database.engine.begin() as connection:  # the tables go away under the writer's feet
        connection.execute(text("alter table decisions rename to decisions_away"))  # the writer's lock order
        connection.execute(text("alter table pages rename to pages_away"))
    for number in range(100, 200):
        writer.add("decisions", decision_row(f"d{number}"))
        writer.add("pages", page_row(f"d{number}"))
    failure = writer.close()

    with database.engine.connect() as connection:
        written = set(connection.scalars(text("select id from decisions_away")))
        written_pages = set(connection.scalars(text("select decision_id from pages_away")))
    spilled = read_spill(spill)
    spilled_decisions = {r.row["id"] for r in spilled if r.table == "decisions"}
    spilled_pages = {r.row["decision_id"] for r in spilled if r.table == "pages"}
    everything = {f"d{number}" for number in range(200)}
    assert written and spilled_decisions
    assert written | spilled_decisions == everything and not written & spilled_decisions
    assert written_pages | spilled_pages == everything and not written_pages & spilled_pages
    assert writer.written_rows + writer.spilled_rows == 400
    assert failure is not None and str(spill) in str(failure)


def test_the_writer_thread_survives_a_row_it_cannot_even_serialise(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path}/f.db")
    database.upgrade()
    add_run(database)
    spill = tmp_path / "unwritten.jsonl"
    writer = BackgroundWriter(database, spill, **QUICK)
    broken = decision_row("broken")
    broken["signals"] = {"opaque": object()}  # not JSON: neither the database nor the spill file can hold it
    writer.add("decisions", broken)
    writer.add("decisions", decision_row("fine"))
    time.sleep(0.5)  # a later batch, after the failure
    writer.add("decisions", decision_row("later"))
    failure = writer.close()

    with database.session() as session:
        assert set(session.scalars(select(DecisionRecord.id))) == {"fine", "later"}
    (spilled,) = read_spill(spill)
    assert spilled.row["id"] == "broken" and spilled.row["signals"] == {"opaque": {"$unserialisable": "object"}}
    assert spilled.error and "serializable" in spilled.error
    assert failure is not None and "1 row(s)" in str(failure)
    database.dispose()


def test_rows_that_can_be_neither_written_nor_spilled_are_kept_and_reported(tmp_path: Path) -> None:
    (tmp_path / "not-a-folder").write_text("")
    spill = tmp_path / "not-a-folder" / "unwritten.jsonl"
    writer = BackgroundWriter(Database(unreachable_postgres_url()), spill, **QUICK)
    writer.add("decisions", decision_row("d1"))
    failure = writer.close()
    assert failure is not None and "could not be spilled" in str(failure) and str(spill) in str(failure)
    assert [r.row for r in writer.unsaved_rows] == [decision_row("d1")]


def test_rows_for_no_known_table_or_after_close_are_refused_at_once(tmp_path: Path) -> None:
    writer = BackgroundWriter(Database(f"sqlite:///{tmp_path}/f.db"), tmp_path / "unwritten.jsonl")
    with pytest.raises(WriterError, match="no table 'nonsense'"):
        writer.add("nonsense", {})
    assert writer.close() is None
    with pytest.raises(WriterError, match="closed"):
        writer.add("decisions", decision_row("d1"))


def test_a_spill_file_with_a_damaged_line_names_the_line(tmp_path: Path) -> None:
    spill = tmp_path / "unwritten.jsonl"
    spill.write_text('{"table": "decisions", "row": {}, "encoded": {}}\n{"table": "dec')
    with pytest.raises(WriterError, match=rf"{spill}:2"):
        read_spill(spill)


def test_written_rows_count_only_what_reached_the_database(database: Database, tmp_path: Path) -> None:
    add_run(database)
    writer = BackgroundWriter(database, tmp_path / "unwritten.jsonl", **QUICK)
    writer.add("decisions", decision_row("d1"))
    writer.add("pages", page_row("d1"))
    assert writer.close() is None and writer.written_rows == 2 and writer.spilled_rows == 0
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(PageRecord)) == 1
