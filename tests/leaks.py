"""Scanning what faircrawl wrote for biometric data: runs of floats, known encodings, probe photo bytes.

Used wherever a test must prove that a log, a report, an error message, a spill
file or a database holds no face encoding, face crop or probe photo.
"""

from __future__ import annotations

import base64
import re
import sqlite3
from collections.abc import Iterable
from pathlib import Path

import numpy as np

#: Twenty or more numbers in a row, as a printed or JSON-encoded vector would show them.
FLOAT_RUN = re.compile(r"(?:-?\d+\.\d{3,}(?:e-?\d+)?[\s,;\]\[]+){20,}")


def needles(encodings: Iterable[np.ndarray] = (), probes: Iterable[bytes] = ()) -> list[bytes]:
    """Byte strings that must never appear: encoding components as Python prints them, probe bytes and base64."""
    found: list[bytes] = []
    for encoding in encodings:
        for value in list(encoding)[:4]:
            found += [repr(float(value)).encode(), f"{float(value):.8f}".encode()]
    for probe in probes:
        middle = probe[len(probe) // 2: len(probe) // 2 + 48]
        found += [middle, base64.b64encode(middle)[8:48]]
    return found


def assert_no_biometric_data(name: str, content: bytes | str, needles_: Iterable[bytes] = ()) -> None:
    data = content.encode("utf-8", "surrogateescape") if isinstance(content, str) else content
    text = data.decode("utf-8", "replace")
    run = FLOAT_RUN.search(text)
    assert run is None, f"{name} holds a run of numbers like an encoding: {run.group(0)[:120]!r}"
    for needle in needles_:
        assert needle not in data, f"{name} holds biometric data ({needle[:20]!r}...)"


def sqlite_dump(path: Path) -> str:
    """Every row of every table of a SQLite database, as text (ciphertext stays ciphertext)."""
    connection = sqlite3.connect(path)
    try:
        parts = []
        for (table,) in connection.execute("select name from sqlite_master where type = 'table'"):
            for row in connection.execute(f'select * from "{table}"'):
                parts.append(f"{table}: {row!r}")
        return "\n".join(parts)
    finally:
        connection.close()
