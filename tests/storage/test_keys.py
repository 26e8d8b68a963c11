"""The key file: readable by its owner only, and never silently replaced while data encrypted with it exists.

Issue 7, defect 20: a 0644 key file was accepted, and a deleted key file was
recreated with a new key, which made the suppression list and the persisted
templates unreadable (or look empty).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from storage import Database, KeyFileError
from storage.key_guard import load_key_for, templates_exist
from storage.keys import load_key
from storage.suppression import SuppressionStore, holds_encrypted_data
from tests.storage.rows import add_run, decision_row, template_row


def _write_key(path: Path, mode: int) -> bytes:
    key = Fernet.generate_key()
    path.write_bytes(key)
    path.chmod(mode)
    return key


def test_a_new_key_file_is_made_for_its_owner_only_and_then_reused(tmp_path: Path) -> None:
    key_file = tmp_path / "var" / "faircrawl.key"
    made = load_key(key_file, environ={}, create_if_missing=True)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert load_key(key_file, environ={}).decrypt(made.encrypt(b"x")) == b"x"


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_a_key_file_others_can_read_or_write_is_refused_with_the_fix(tmp_path: Path, mode: int) -> None:
    key_file = tmp_path / "faircrawl.key"
    _write_key(key_file, mode)
    with pytest.raises(KeyFileError, match=rf"{key_file}.*mode 0{mode:o}.*chmod 600 {key_file}"):
        load_key(key_file, environ={})
    assert stat.S_IMODE(key_file.stat().st_mode) == mode  # left for the owner to fix


@pytest.mark.parametrize("mode", [0o600, 0o400])
def test_a_key_file_only_its_owner_can_read_is_used(tmp_path: Path, mode: int) -> None:
    key_file = tmp_path / "faircrawl.key"
    key = _write_key(key_file, mode)
    assert load_key(key_file, environ={}).decrypt(Fernet(key).encrypt(b"x")) == b"x"


def test_a_missing_key_file_is_not_made_unless_the_caller_says_nothing_is_encrypted(tmp_path: Path) -> None:
    key_file = tmp_path / "faircrawl.key"
    with pytest.raises(KeyFileError, match=rf"{key_file} does not exist.*restore it from your backup"):
        load_key(key_file, environ={}, create_if_missing=False)
    assert not key_file.exists()


def test_the_key_variable_wins_and_the_key_file_variable_moves_the_file(tmp_path: Path) -> None:
    key = Fernet.generate_key()
    assert load_key(tmp_path / "none.key", environ={"FAIRCRAWL_KEY": key.decode()}).decrypt(
        Fernet(key).encrypt(b"x")) == b"x"
    assert not (tmp_path / "none.key").exists()
    with pytest.raises(KeyFileError, match="FAIRCRAWL_KEY is not a valid key"):
        load_key(environ={"FAIRCRAWL_KEY": "short"})
    moved = tmp_path / "elsewhere.key"
    _write_key(moved, 0o644)
    with pytest.raises(KeyFileError, match=f"chmod 600 {moved}"):
        load_key(environ={"FAIRCRAWL_KEY_FILE": str(moved)})
    moved.chmod(0o600)
    load_key(environ={"FAIRCRAWL_KEY_FILE": str(moved)})


def test_a_key_path_that_is_not_a_readable_file_is_a_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "faircrawl.key"
    folder.mkdir(mode=0o700)
    with pytest.raises(KeyFileError, match=f"{folder}.*not a file"):
        load_key(folder, environ={}, create_if_missing=True)


def test_a_suppression_list_holds_encrypted_data_from_its_first_open(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/suppression.db"
    assert not holds_encrypted_data(url)
    assert not (tmp_path / "suppression.db").exists()  # asking does not make the file
    SuppressionStore(url, Fernet(Fernet.generate_key())).dispose()  # its key check is encrypted
    assert holds_encrypted_data(url)


def test_a_deleted_key_is_not_replaced_while_the_suppression_list_needs_it(tmp_path: Path) -> None:
    key_file = tmp_path / "faircrawl.key"
    url = f"sqlite:///{tmp_path}/suppression.db"
    store = SuppressionStore(url, load_key_for(suppression_url=url, key_file=key_file, environ={}))
    store.add_urls(["http://a.example/me.jpg"])
    store.dispose()
    key_file.unlink()
    with pytest.raises(KeyFileError, match=rf"{key_file} does not exist.*{tmp_path}/suppression.db.*backup"):
        load_key_for(suppression_url=url, key_file=key_file, environ={})
    assert not key_file.exists()


def test_a_deleted_key_is_not_replaced_while_persisted_templates_need_it(tmp_path: Path) -> None:
    key_file = tmp_path / "faircrawl.key"
    database = Database(f"sqlite:///{tmp_path}/faircrawl.db")
    database.upgrade()
    assert not templates_exist(database)
    fernet = load_key_for(database=database, suppression_url=f"sqlite:///{tmp_path}/s.db", key_file=key_file,
                          environ={})
    add_run(database)
    with database.engine.begin() as connection:
        from storage.models import DecisionRecord, FaceTemplate

        connection.execute(DecisionRecord.__table__.insert(), [decision_row("d1")])
        connection.execute(FaceTemplate.__table__.insert(), [template_row("d1", fernet.encrypt(b"encoding"))])
    assert templates_exist(database)
    key_file.unlink()
    with pytest.raises(KeyFileError, match=rf"{key_file} does not exist.*face_templates.*{tmp_path}/faircrawl.db"):
        load_key_for(database=database, suppression_url=f"sqlite:///{tmp_path}/s.db", key_file=key_file, environ={})
    assert not key_file.exists() and not (tmp_path / "s.db").exists()
    database.dispose()


def test_a_new_key_is_made_when_no_store_holds_encrypted_data(tmp_path: Path) -> None:
    key_file = tmp_path / "var" / "faircrawl.key"
    database = Database(f"sqlite:///{tmp_path}/faircrawl.db")
    database.upgrade()
    load_key_for(database=database, suppression_url=f"sqlite:///{tmp_path}/s.db", key_file=key_file, environ={})
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert os.stat(key_file).st_size == 44  # a Fernet key: 32 bytes, url-safe base64
    database.dispose()
