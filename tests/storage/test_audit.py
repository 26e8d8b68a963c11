"""The audit log: append-only and hash-chained; tampering is found; concurrent writers never fork the chain."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from storage import Database
from storage.audit import GENESIS_HASH, append, entry_hash, verify
from tests.conftest import PROJECT_ROOT

APPEND_MANY = """
import sys
from storage import Database
from storage.audit import append
database = Database(sys.argv[1])
for index in range(int(sys.argv[2])):
    append(database, "test.entry", {"writer": sys.argv[3], "index": index})
database.dispose()
"""


def _database(url: str) -> Database:
    database = Database(url)
    database.upgrade()
    return database


def test_each_entry_holds_the_hash_of_the_one_before(tmp_path: Path) -> None:
    database = _database(f"sqlite:///{tmp_path}/a.db")
    first = append(database, "rights.received", {"request": "r1"})
    second = append(database, "rights.completed", {"request": "r1", "removed": 3})
    with database.engine.connect() as connection:
        rows = connection.execute(text("select seq, at, action, details, prev_hash, entry_hash from audit_log "
                                       "order by seq")).all()
    assert (first, second) == (1, 2) and rows[0].prev_hash == GENESIS_HASH and rows[1].prev_hash == rows[0].entry_hash
    at = datetime.fromisoformat(rows[1].at).replace(tzinfo=UTC)
    assert rows[1].entry_hash == entry_hash(2, at, "rights.completed", {"request": "r1", "removed": 3}, rows[0].entry_hash)
    assert verify(database).intact and verify(database).entries == 2
    database.dispose()


@pytest.mark.parametrize(("tamper", "first_bad", "problem"), [
    ("update audit_log set details = '{\"request\": \"r9\"}' where seq = 2", 2, "changed"),
    ("update audit_log set action = 'rights.nothing' where seq = 3", 3, "changed"),
    ("delete from audit_log where seq = 2", 2, "removed"),
    ("delete from audit_log where seq = 4", 4, "removed"),
])
def test_a_changed_or_removed_entry_is_named(tmp_path: Path, tamper: str, first_bad: int, problem: str) -> None:
    database = _database(f"sqlite:///{tmp_path}/a.db")
    for index in range(5):
        append(database, "test.entry", {"index": index})
    with database.engine.begin() as connection:
        connection.execute(text(tamper))
    check = verify(database)
    assert not check.intact and check.first_bad == first_bad and problem in (check.problem or "")
    database.dispose()


def test_a_reordered_pair_breaks_the_chain(tmp_path: Path) -> None:
    database = _database(f"sqlite:///{tmp_path}/a.db")
    for index in range(4):
        append(database, "test.entry", {"index": index})
    with database.engine.begin() as connection:
        connection.execute(text("update audit_log set seq = -2 where seq = 2"))
        connection.execute(text("update audit_log set seq = 2 where seq = 3"))
        connection.execute(text("update audit_log set seq = 3 where seq = -2"))
    assert verify(database).first_bad == 2
    database.dispose()


def _concurrent_writers(url: str) -> Database:
    database = _database(url)
    writers = [subprocess.Popen([sys.executable, "-c", APPEND_MANY, url, "40", name], cwd=PROJECT_ROOT)
               for name in ("a", "b", "c")]
    assert [w.wait(timeout=120) for w in writers] == [0, 0, 0]
    return database


def test_concurrent_writers_keep_one_chain_on_sqlite(tmp_path: Path) -> None:
    database = _concurrent_writers(f"sqlite:///{tmp_path}/a.db")
    check = verify(database)
    assert check.intact and check.entries == 120
    database.dispose()


@pytest.mark.postgres
def test_concurrent_writers_keep_one_chain_on_postgresql(postgres_url: str) -> None:
    database = _concurrent_writers(postgres_url)
    check = verify(database)
    assert check.intact and check.entries == 120
    database.dispose()


def test_old_audit_events_move_into_the_chain(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path}/a.db")
    database.upgrade("0004")
    with database.engine.begin() as connection:
        connection.execute(text("insert into audit_events (at, action, details) values "
                                "('2026-11-30 10:00:00', 'templates.expired', '{\"removed\": 2}'), "
                                "('2026-11-30 11:00:00', 'templates.expired', '{\"removed\": 0}')"))
    database.upgrade()
    with database.engine.connect() as connection:
        rows = connection.execute(text("select seq, action, details from audit_log order by seq")).all()
    assert [(r.seq, r.action) for r in rows] == [(1, "templates.expired"), (2, "templates.expired")]
    assert verify(database).intact
    append(database, "rights.received", {"request": "r1"})
    assert verify(database).intact and verify(database).entries == 3
    database.dispose()
