"""Load the key knowing which stores hold data encrypted with it, so a missing key is never silently replaced.

One key encrypts both the suppression list and the crawl database's persisted
templates. A new key is made only when neither holds anything encrypted;
otherwise a missing key file is an error naming what needs it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import exists, inspect, select

from storage.connecting import translated
from storage.database import Database
from storage.errors import KeyFileError
from storage.keys import key_file_path, key_from_environment, load_key
from storage.models import FaceTemplate
from storage.suppression import holds_encrypted_data, suppression_target


def templates_exist(database: Database) -> bool:
    """Does the crawl database hold persisted (encrypted) face templates?"""
    with translated(database.target), database.engine.connect() as connection:
        if FaceTemplate.__tablename__ not in inspect(connection).get_table_names():
            return False
        return bool(connection.scalar(select(exists().select_from(FaceTemplate))))


def load_key_for(*, database: Database | None = None, suppression_url: str | None = None,
                 key_file: Path | None = None, environ: Mapping[str, str] | None = None) -> Fernet:
    """The key for these stores: made (0600) only when none of them holds encrypted data.

    Raises KeyFileError when the key file is missing while a store needs it (restore it from backup), is open
    to group or others (``chmod 600``), or is not a key; DatabaseUnavailableError when a store cannot be read.
    """
    from_environment = key_from_environment(environ)
    if from_environment is not None:
        return from_environment
    path = key_file_path(key_file, environ)
    if path.exists() or path.is_symlink():
        return load_key(path, environ)
    needing = []
    if suppression_url is not None and holds_encrypted_data(suppression_url):
        needing.append(f"the opt-out list in {suppression_target(suppression_url).shown}")
    if database is not None and templates_exist(database):
        needing.append(f"the face_templates of {database.target.shown}")
    if needing:
        raise KeyFileError(f"key file {path} does not exist, but {' and '.join(needing)} are encrypted with it: "
                           "restore the key file from your backup (or set FAIRCRAWL_KEY or FAIRCRAWL_KEY_FILE). "
                           "A new key would not read them, so none is made")
    return load_key(path, environ, create_if_missing=True)
