"""Fixtures for the storage tests: real databases, SQLite files and the PostgreSQL server alike."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from storage import Database


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test against a SQLite file and against a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/faircrawl.db"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """An upgraded crawl database, disposed afterwards."""
    opened = Database(database_url)
    opened.upgrade()
    yield opened
    opened.dispose()
