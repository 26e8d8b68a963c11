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


def test_upgrading_an_old_sqlite_database_keeps_every_row(tmp_path: Path) -> None:
    """Migration 0002 rebuilds ``decisions`` on SQLite; with foreign keys on, that used to cascade-delete
    every page and image row of every run."""
    database = Database(f"sqlite:///{tmp_path}/f.db")
    database.upgrade("0001")
    with database.engine.begin() as connection:
        for statement in (
            "insert into crawl_runs (id, started_at, status, policy_name, policy_revision, product_token, testsites, "
            "start_urls) values ('r', '2026-11-22 10:00:00', 'finished', 'lawful', 'x', 'faircrawl', 1, '[]')",
            "insert into decisions (id, run_id, decided_at, kind, outcome, url, reasons, policy_revision, signals, "
            "matched_rules, effect, obligations, citations) values ('d', 'r', '2026-11-22 10:00:01', 'image', "
            "'stored', 'http://a/i.jpg', '[]', 'x', '{}', '[]', 'allow', '{}', '[]')",
            "insert into image_files values ('s', 's.jpg', 1, 'JPEG', 1, 1, '2026-11-22 10:00:01')",
            "insert into images (run_id, decision_id, url, sha256, stored_at) values ('r', 'd', 'http://a/i.jpg', 's', "
            "'2026-11-22 10:00:01')",
            "insert into pages (run_id, decision_id, url, status_code, fetched_at, links_found, images_found) values "
            "('r', 'd', 'http://a/', 200, '2026-11-22 10:00:01', 0, 1)",
        ):
            connection.execute(text(statement))
    database.upgrade()
    with database.engine.connect() as connection:
        counts = {table: connection.scalar(text(f"select count(*) from {table}"))
                  for table in ("crawl_runs", "decisions", "image_files", "images", "pages")}
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1  # back on for the crawl
    assert counts == {"crawl_runs": 1, "decisions": 1, "image_files": 1, "images": 1, "pages": 1}
    database.dispose()
