"""How the background writer's rows reach SQLite: a page of rows per INSERT, not one sqlite3 step per row.

Each step gives the interpreter lock away and the writer's thread takes it back from the crawl's thread, so
row-by-row inserts cost the crawl a forced hand-off per row (storage.connecting sets SQLAlchemy's
``use_insertmanyvalues_wo_returning`` for SQLite engines).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select

from storage import BackgroundWriter, Database
from storage.models import Base
from tests.storage.rows import add_run, decision_row

ROWS = 300


def test_a_batch_of_rows_goes_to_sqlite_as_a_few_multi_row_inserts(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path}/writer.db")
    database.upgrade()
    add_run(database)
    statements: list[tuple[str, bool]] = []

    def seen(_conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, executemany: bool) -> None:
        if statement.startswith("INSERT INTO decisions"):
            statements.append((statement, executemany))

    event.listen(database.engine, "before_cursor_execute", seen)
    writer = BackgroundWriter(database, tmp_path / "spill.jsonl", batch_rows=ROWS, flush_seconds=5)
    for number in range(ROWS):
        writer.add("decisions", decision_row(f"d{number}"))
    assert writer.close() is None

    with database.engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(Base.metadata.tables["decisions"])) == ROWS
    assert statements and len(statements) < ROWS // 10, f"{len(statements)} INSERT statements for {ROWS} rows"
    assert all(statement.count("VALUES") == 1 and statement.count("), (") > 0 for statement, _ in statements)
    database.dispose()
