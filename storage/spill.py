"""The spill file: rows the database did not take, one JSON object a line, readable back.

A line is ``{"table": ..., "row": {...}, "encoded": {column: tag}, "error": ...}``.
Values JSON cannot hold are tagged per column in ``encoded`` rather than inside
the value, so no JSON column's content can be mistaken for a tag: ``base64``
for bytes (a template's ciphertext stays encrypted: only its base64 is
written), ``datetime`` and ``date`` for ISO 8601 text. A value nested inside a
JSON column that JSON cannot hold (which the database refused as well) is
replaced by ``{"$unserialisable": "<type name>"}``: only its type is written,
never its content, so no encoding can leak here.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from storage.errors import WriterError


@dataclass(frozen=True, slots=True)
class SpilledRow:
    """One row for ``table`` and, once spilled, why the database did not take it."""

    table: str
    row: dict[str, Any]
    error: str | None = field(default=None, compare=False)


def _encode(value: Any) -> tuple[Any, str | None]:
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii"), "base64"
    if isinstance(value, datetime):
        return value.isoformat(), "datetime"
    if isinstance(value, date):
        return value.isoformat(), "date"
    return value, None


def _decode(value: Any, tag: str) -> Any:
    if tag == "base64":
        return base64.b64decode(value)
    if tag == "datetime":
        return datetime.fromisoformat(value)
    if tag == "date":
        return date.fromisoformat(value)
    raise ValueError(f"unknown encoding {tag!r}")


def _unserialisable(value: object) -> dict[str, str]:
    return {"$unserialisable": type(value).__name__}


def spill_line(spilled: SpilledRow) -> str:
    """The JSON line for one row (without its newline)."""
    row: dict[str, Any] = {}
    encoded: dict[str, str] = {}
    for column, value in spilled.row.items():
        row[column], tag = _encode(value)
        if tag:
            encoded[column] = tag
    line = {"table": spilled.table, "row": row, "encoded": encoded, "error": spilled.error}
    return json.dumps(line, ensure_ascii=False, default=_unserialisable)


def append_spill(path: Path, rows: Iterable[SpilledRow]) -> int:
    """Append rows to the spill file (created 0600) and flush them to disk; returns how many."""
    text = "".join(spill_line(spilled) + "\n" for spilled in rows)
    if not text:
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(descriptor, "a", encoding="utf-8") as spill:
        spill.write(text)
        spill.flush()
        os.fsync(spill.fileno())
    return text.count("\n")


def read_spill(path: Path) -> list[SpilledRow]:
    """Every row of a spill file, with bytes and datetimes restored, in the order they were spilled."""
    rows: list[SpilledRow] = []
    with path.open(encoding="utf-8") as spill:
        for number, line in enumerate(spill, start=1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                row = dict(entry["row"])
                for column, tag in entry.get("encoded", {}).items():
                    row[column] = _decode(row[column], tag)
                rows.append(SpilledRow(str(entry["table"]), row, entry.get("error")))
            except (ValueError, KeyError, TypeError) as error:
                raise WriterError(f"{path}:{number}: not a spilled row ({type(error).__name__}); the line is "
                                  "damaged (perhaps cut short by a crash): repair or remove it, then read the file "
                                  "again") from None
    return rows
