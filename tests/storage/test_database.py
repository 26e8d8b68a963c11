"""Migrations, clear errors for unusable databases, and no lost rows when writes fail."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from storage import BackgroundWriter, Database, DatabaseUnavailableError, SchemaError


def test_upgrade_creates_every_table(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path}/nested/dir/f.db")
    database.upgrade()
    database.upgrade()  # idempotent
    tables = set(inspect(database.engine).get_table_names())
    assert {"crawl_runs", "sites", "pages", "image_files", "images", "decisions", "alembic_version"} <= tables
    with database.engine.connect() as connection:  # so the report can read while a crawl writes
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_a_schema_newer_than_the_code_is_refused(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path}/f.db")
    database.upgrade()
    with database.engine.begin() as connection:
        connection.execute(text("update alembic_version set version_num = '9999_future'"))
    with pytest.raises(SchemaError, match="9999_future"):
        database.upgrade()


def test_an_invalid_url_says_what_a_valid_one_looks_like() -> None:
    with pytest.raises(DatabaseUnavailableError, match="sqlite:///"):
        Database("not a url")


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_server_gives_a_clear_error() -> None:
    database = Database(f"postgresql+psycopg://nobody@127.0.0.1:{_closed_port()}/none?connect_timeout=2")
    with pytest.raises(DatabaseUnavailableError, match="cannot open database .*check the URL|Check the URL"):
        database.upgrade()


def test_rows_that_cannot_be_written_are_spilled_not_lost(tmp_path: Path) -> None:
    database = Database(f"postgresql+psycopg://nobody@127.0.0.1:{_closed_port()}/none?connect_timeout=1")
    spill = tmp_path / "unwritten.jsonl"
    writer = BackgroundWriter(database, spill, retry_delays=(0.01,))
    row = {"id": "d1", "run_id": "r1", "decided_at": datetime(2026, 1, 1, tzinfo=UTC), "kind": "image",
           "outcome": "stored", "url": "http://a/", "final_url": None, "page_url": None, "reasons": [],
           "policy_revision": "x", "jurisdiction": None, "jurisdiction_source": None, "signals": {},
           "matched_rules": [], "effect": "allow", "obligations": {}, "citations": []}
    writer.add("decisions", row)
    writer.close()
    (kept,) = [json.loads(line) for line in spill.read_text().splitlines()]
    assert writer.spilled_rows == 1
    assert kept["table"] == "decisions" and kept["encoded"] == {"decided_at": "datetime"}
    assert kept["row"] == {**row, "decided_at": "2026-01-01T00:00:00+00:00"}
    assert kept["error"].startswith("OperationalError: ") and "Connection refused" in kept["error"]
