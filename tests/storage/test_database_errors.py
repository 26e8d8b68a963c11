"""User mistakes with ``--db`` end in one clear error naming the URL or file, never a traceback, and touch nothing.

Issue 7, defect 18: ``foo://x`` raised NoSuchModuleError and a file that is
not SQLite raised DatabaseError ("file is not a database"), also in `faircrawl report`.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from storage import Database, DatabaseUnavailableError, SchemaError
from tests.conftest import run_faircrawl


def _real_sqlite_file(path: Path, rows: int = 2000) -> bytes:
    connection = sqlite3.connect(path)
    connection.execute("create table notes (body blob)")
    connection.executemany("insert into notes values (?)", [(bytes(200),)] * rows)
    connection.commit()
    connection.close()
    return path.read_bytes()


def test_an_unknown_scheme_names_the_url_and_the_setting() -> None:
    with pytest.raises(DatabaseUnavailableError, match=r"'foo://x'.*--db or FAIRCRAWL_DB.*sqlite:///"):
        Database("foo://x")


def test_a_file_that_is_not_sqlite_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database\n" * 20)
    before = path.read_bytes()
    with pytest.raises(DatabaseUnavailableError, match=rf"{path} is not a usable SQLite database .*file is not a "
                                                       r"database.*--db or FAIRCRAWL_DB"):
        Database(f"sqlite:///{path}").upgrade()
    assert path.read_bytes() == before


def test_a_truncated_sqlite_file_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "faircrawl.db"
    whole = _real_sqlite_file(path)
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(DatabaseUnavailableError, match=rf"{path} is not a usable SQLite database.*backup"):
        Database(f"sqlite:///{path}").upgrade()
    assert path.read_bytes() == whole[: len(whole) // 2]


def test_a_database_holding_other_tables_is_not_taken_over(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    before = _real_sqlite_file(path, rows=1)
    with pytest.raises(SchemaError, match=rf"{path} is not a faircrawl database.*notes.*Nothing was changed"):
        Database(f"sqlite:///{path}").upgrade()
    assert path.read_bytes() == before


def test_a_folder_that_cannot_be_made_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    with pytest.raises(DatabaseUnavailableError, match=r"cannot create the folder .*a-file/f\.db"):
        Database(f"sqlite:///{tmp_path}/a-file/f.db")


@pytest.mark.parametrize("bad_url", ["foo://x", "sqlite:///{tmp}/notes.db"])
def test_report_says_what_is_wrong_without_a_traceback(bad_url: str, tmp_path: Path) -> None:
    (tmp_path / "notes.db").write_text("not a database\n" * 20)
    shown = run_faircrawl("report", "--db", bad_url.format(tmp=tmp_path))
    assert shown.returncode == 2, shown.stderr
    assert shown.stderr.startswith("error: ") and "Traceback" not in shown.stderr
    assert "foo://x" in shown.stderr or f"{tmp_path}/notes.db" in shown.stderr
