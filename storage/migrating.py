"""Alembic upgrades for both of faircrawl's databases, each with its own migrations and version table.

The crawl database and the suppression list may live in different places (the
list holds biometric data on consent and is kept apart), so each has its own
migrations folder and its own version table. Both are upgraded in place, on
one connection and in one transaction; a schema newer than the code, or a
database that holds someone else's tables, is refused instead of altered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, MetaData, inspect

from storage.connecting import Target, translated
from storage.errors import SchemaError


@dataclass(frozen=True, slots=True)
class Schema:
    """One database's migrations: where they are, their version table, and how to adopt a pre-Alembic copy."""

    script_location: Path
    version_table: str
    #: For a database made before it had Alembic: the revision its tables already match, or None.
    legacy_revision: Callable[[Connection, set[str]], str | None] | None = None

    def head(self) -> str:
        """The newest revision of these migrations."""
        from alembic.script import ScriptDirectory

        head = ScriptDirectory.from_config(self.config()).get_current_head()
        assert head is not None
        return head

    def config(self) -> Config:
        config = Config()
        config.set_main_option("script_location", str(self.script_location))
        config.attributes["version_table"] = self.version_table
        return config


def upgrade_schema(engine: Engine, target: Target, schema: Schema, revision: str = "head") -> None:
    """Bring ``target`` to ``revision``; refuse a newer schema or a database that is not one of ours."""
    with translated(target), engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Alembic rebuilds a SQLite table to alter it (drop, then rename a copy): with foreign keys on,
            # dropping it would cascade-delete every row that refers to it. The pragma only works outside a
            # transaction; the keys are checked before the upgrade commits.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            with connection.begin():
                _upgrade(connection, target, schema, revision)
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise SchemaError(f"upgrading {target.what} {target.shown} found {len(broken)} broken "
                                          f"reference(s) (first in table {broken[0][0]}); the upgrade was rolled "
                                          "back as far as SQLite allows: keep a copy of the file and report this")
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


def _upgrade(connection: Connection, target: Target, schema: Schema, revision: str) -> None:
    config = schema.config()
    scripts = ScriptDirectory.from_config(config)
    head = scripts.get_current_head()
    known = {script.revision for script in scripts.walk_revisions()}
    current = MigrationContext.configure(connection, opts={"version_table": schema.version_table}) \
        .get_current_revision()
    config.attributes["connection"] = connection
    if current is None:
        tables = set(inspect(connection).get_table_names())
        adopted = schema.legacy_revision(connection, tables) if schema.legacy_revision else None
        if adopted is None and tables:
            raise SchemaError(
                f"{target.what} {target.shown} is not a faircrawl {target.what}: it already holds tables "
                f"({', '.join(sorted(tables)[:5])}) that faircrawl did not make. Nothing was changed; point "
                f"{target.setting} at an empty database of its own")
        if adopted is not None:
            command.stamp(config, adopted)
            current = adopted
    elif current not in known:
        raise SchemaError(
            f"{target.what} {target.shown} has schema revision {current}, unknown to this faircrawl "
            f"(latest {head}); upgrade faircrawl or use another {target.what}")
    if current != (head if revision == "head" else revision):
        command.upgrade(config, revision)


def run_migrations(target_metadata: MetaData | None) -> None:
    """The body of each migrations folder's ``env.py``: run on the connection :func:`upgrade_schema` hands over."""
    from alembic import context

    attributes = context.config.attributes
    context.configure(connection=attributes["connection"], target_metadata=target_metadata, render_as_batch=True,
                      version_table=attributes["version_table"])
    with context.begin_transaction():
        context.run_migrations()
