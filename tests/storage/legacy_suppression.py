"""Suppression lists exactly as earlier faircrawl made them, before the list had Alembic.

The tables are those of ``storage/suppression.py`` at bf4e987 (schema version
1) and at 0a2da2b (version 2: ``suppression_state.key_check``), created by
SQLAlchemy the way that code created them and filled the way it filled them.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import numpy as np
from cryptography.fernet import Fernet
from sqlalchemy import Column, DateTime, ForeignKey, Integer, LargeBinary, MetaData, String, Table, create_engine, insert

KEY_CHECK = b"faircrawl suppression list"


def _tables(version: int) -> tuple[MetaData, dict[str, Table]]:
    metadata = MetaData()
    tables = {
        "optouts": Table("optouts", metadata,
                         Column("id", String(32), primary_key=True),
                         Column("kind", String(8), nullable=False),
                         Column("created_at", DateTime(timezone=True), nullable=False),
                         Column("withdrawn_at", DateTime(timezone=True)),
                         Column("label", LargeBinary)),
        "templates": Table("optout_templates", metadata,
                           Column("id", Integer, primary_key=True, autoincrement=True),
                           Column("optout_id", String(32), ForeignKey("optouts.id"), nullable=False, index=True),
                           Column("ciphertext", LargeBinary, nullable=False)),
        "hashes": Table("optout_hashes", metadata,
                        Column("id", Integer, primary_key=True, autoincrement=True),
                        Column("optout_id", String(32), ForeignKey("optouts.id"), nullable=False, index=True),
                        Column("ciphertext", LargeBinary, nullable=False)),
        "urls": Table("optout_urls", metadata,
                      Column("id", Integer, primary_key=True, autoincrement=True),
                      Column("optout_id", String(32), ForeignKey("optouts.id"), nullable=False, index=True),
                      Column("url_sha256", String(64), nullable=False, index=True),
                      Column("ciphertext", LargeBinary, nullable=False)),
    }
    state_columns = [Column("id", Integer, primary_key=True), Column("schema_version", Integer, nullable=False),
                     Column("revision", Integer, nullable=False)]
    if version >= 2:
        state_columns.append(Column("key_check", LargeBinary))
    tables["state"] = Table("suppression_state", metadata, *state_columns)
    return metadata, tables


def build_legacy_list(url: str, version: int, fernet: Fernet) -> dict[str, Any]:
    """A list of schema ``version`` with one face, one image and one URL entry; returns what it holds."""
    metadata, tables = _tables(version)
    engine = create_engine(url)
    metadata.create_all(engine)
    encoding = np.linspace(-0.2, 0.2, 128, dtype=np.float32)
    url_held = "http://photos.example.fr/me.jpg"
    created = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
    with engine.begin() as connection:
        state = {"id": 1, "schema_version": version, "revision": 3}
        if version >= 2:
            state["key_check"] = fernet.encrypt(KEY_CHECK)
        connection.execute(insert(tables["state"]).values(**state))
        for entry_id, kind, label in (("f" * 32, "face", "Ada"), ("i" * 32, "image", None), ("u" * 32, "url", "blog")):
            connection.execute(insert(tables["optouts"]).values(
                id=entry_id, kind=kind, created_at=created, label=fernet.encrypt(label.encode()) if label else None))
        connection.execute(insert(tables["templates"]).values(optout_id="f" * 32,
                                                              ciphertext=fernet.encrypt(encoding.tobytes())))
        connection.execute(insert(tables["hashes"]).values(optout_id="i" * 32,
                                                           ciphertext=fernet.encrypt((0xABCDEF).to_bytes(8, "big"))))
        connection.execute(insert(tables["urls"]).values(optout_id="u" * 32,
                                                         url_sha256=hashlib.sha256(url_held.encode()).hexdigest(),
                                                         ciphertext=fernet.encrypt(url_held.encode())))
    engine.dispose()
    return {"encoding": encoding, "hash": 0xABCDEF, "url_sha256": hashlib.sha256(url_held.encode()).hexdigest(),
            "labels": {"f" * 32: "Ada", "i" * 32: None, "u" * 32: "blog"}, "revision": 3}
