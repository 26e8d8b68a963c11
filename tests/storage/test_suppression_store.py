"""The suppression list: Alembic migrations of its own, older lists upgraded in place, damaged files refused.

Issue 7: the list's hand-rolled upgrade becomes Alembic (version table
``alembic_version_suppression``); defect 18: a corrupt list (garbage bytes,
a truncated file) broke `optout list/add` and `crawl` with a traceback.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, inspect, text

from storage import Database, DatabaseUnavailableError, KeyFileError, SchemaError
from storage.suppression import SuppressionStore
from tests.conftest import run_faircrawl
from tests.storage.legacy_suppression import build_legacy_list


@pytest.fixture(params=["sqlite", "postgresql"])
def list_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/suppression.db"
    return str(request.getfixturevalue("postgres_url"))


def _version_and_columns(url: str) -> tuple[str, set[str]]:
    engine = create_engine(url)
    with engine.connect() as connection:
        version = connection.scalar(text("select version_num from alembic_version_suppression"))
        columns = {column["name"] for column in inspect(connection).get_columns("suppression_state")}
    engine.dispose()
    return str(version), columns


@pytest.mark.parametrize("version", [1, 2])
def test_a_list_made_by_earlier_code_is_upgraded_in_place_with_every_entry(list_url: str, version: int) -> None:
    key = Fernet(Fernet.generate_key())
    held = build_legacy_list(list_url, version, key)
    with pytest.raises(KeyFileError, match="not the key"):  # checked on its entries when it has no key check yet
        SuppressionStore(list_url, Fernet(Fernet.generate_key()))

    store = SuppressionStore(list_url, key)
    entries = {entry.id: entry for entry in store.entries()}
    screened = store.load()
    store.dispose()

    assert {entry_id: entry.label for entry_id, entry in entries.items()} == held["labels"]
    assert all(entry.items == 1 for entry in entries.values())
    assert screened.revision == held["revision"]
    assert np.array_equal(screened.templates[0], held["encoding"])
    assert screened.hashes == (("i" * 32, held["hash"]),)
    assert screened.url_digests == {held["url_sha256"]: "u" * 32}
    assert _version_and_columns(list_url) == ("s0003", {"id", "revision", "key_check"})
    with pytest.raises(KeyFileError, match="not the key"):  # the key check now guards a version-1 list too
        SuppressionStore(list_url, Fernet(Fernet.generate_key()))


def test_a_new_list_is_made_by_its_migrations_and_works(list_url: str) -> None:
    key = Fernet(Fernet.generate_key())
    store = SuppressionStore(list_url, key)
    face = store.add_faces([np.ones(128, np.float32)], "someone")
    store.add_urls(["HTTP://Photos.Example.FR/me.jpg#top"])
    assert store.load().template_owners == (face,)
    assert store.withdraw(face) == {"optout_templates": 1, "optout_hashes": 0, "optout_urls": 0}
    assert [entry.items for entry in store.entries()] == [0, 1]
    assert store.revision() == 3
    store.dispose()
    assert _version_and_columns(list_url)[0] == "s0003"
    SuppressionStore(list_url, key).dispose()  # opening again changes nothing


def test_a_list_with_a_newer_schema_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/suppression.db"
    key = Fernet(Fernet.generate_key())
    SuppressionStore(url, key).dispose()
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("update alembic_version_suppression set version_num = 's9999'"))
    engine.dispose()
    with pytest.raises(SchemaError, match=r"suppression database .*s9999.*upgrade faircrawl"):
        SuppressionStore(url, key)


def test_the_crawl_database_is_not_taken_for_a_suppression_list(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/faircrawl.db"
    database = Database(url)
    database.upgrade()
    database.dispose()
    with pytest.raises(SchemaError, match=r"is not a faircrawl suppression database.*crawl_runs.*Nothing was changed"):
        SuppressionStore(url, Fernet(Fernet.generate_key()))


def _garbage(path: Path) -> bytes:
    path.write_bytes(bytes(range(256)) * 64)
    return path.read_bytes()


def _truncated(path: Path) -> bytes:
    key = Fernet(Fernet.generate_key())
    store = SuppressionStore(f"sqlite:///{path}", key)
    for number in range(40):
        store.add_faces([np.full(128, number, np.float32)] * 5)
    store.dispose()
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 2])
    return path.read_bytes()


@pytest.mark.parametrize("damage", [_garbage, _truncated])
def test_a_damaged_list_is_refused_by_name_and_left_alone(tmp_path: Path, damage) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "suppression.db"
    before = damage(path)
    with pytest.raises(DatabaseUnavailableError, match=rf"suppression database {path} is not a usable SQLite "
                                                       r"database.*FAIRCRAWL_SUPPRESSION_DB.*backup"):
        SuppressionStore(f"sqlite:///{path}", Fernet(Fernet.generate_key()))
    assert path.read_bytes() == before


def test_a_list_damaged_while_open_fails_its_reads_clearly(tmp_path: Path) -> None:
    path = tmp_path / "suppression.db"
    store = SuppressionStore(f"sqlite:///{path}", Fernet(Fernet.generate_key()))
    store.add_urls(["http://a.example/"])
    store.dispose()
    _garbage(path)
    for read in (store.entries, store.load, store.revision):
        with pytest.raises(DatabaseUnavailableError, match=f"{path} is not a usable SQLite database"):
            read()
    with pytest.raises(DatabaseUnavailableError, match=f"{path}"):
        store.add_urls(["http://b.example/"])


@pytest.mark.parametrize("command", [["optout", "list"], ["optout", "add", "--url", "http://a.example/me.jpg"],
                                     ["crawl", "http://a.example/", "--db", "sqlite:///{tmp}/faircrawl.db"]])
def test_commands_say_the_list_is_damaged_without_a_traceback(tmp_path: Path, command: list[str]) -> None:
    path = tmp_path / "suppression.db"
    before = _garbage(path)
    shown = run_faircrawl(*(part.format(tmp=tmp_path) for part in command), env={"FAIRCRAWL_SUPPRESSION_DB": f"sqlite:///{path}",
                                         "FAIRCRAWL_KEY": Fernet.generate_key().decode()})
    assert shown.returncode == 2 and shown.stderr.startswith("error: ") and "Traceback" not in shown.stderr
    assert str(path) in shown.stderr
    assert path.read_bytes() == before
