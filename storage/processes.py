"""Which process is which: enough to tell, on the next command, a dead crawl from a live one.

A pid alone is not enough (pids are reused), so a process is also known by
its start time: on Linux ``/proc/<pid>/stat`` field 22, in clock ticks since
boot. A process is only ever judged on its own host; another host's
processes cannot be seen from here and are never called dead.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from functools import cache
from pathlib import Path

PROC = Path("/proc")
#: Field 22 of /proc/<pid>/stat, counted after the ")" that ends the command name (field 2).
START_TIME_FIELD = 22
DEAD_STATES = {"Z", "X"}  # zombie (killed, not yet waited for) and dead


@dataclass(frozen=True, slots=True)
class ProcessIdentity:
    """A process as the database records it."""

    pid: int
    hostname: str
    start_ticks: int | None  # None where /proc is not available


def _read_stat(pid: int) -> tuple[str, int] | None:
    """(state, start time in ticks) from /proc/<pid>/stat, or None when there is no such process."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError, NotADirectoryError):
        return None
    fields = text[text.rindex(")") + 2:].split()  # the command name may hold spaces and parentheses
    return fields[0], int(fields[START_TIME_FIELD - 3])


def start_ticks(pid: int) -> int | None:
    """When ``pid`` started, in clock ticks since boot; None without /proc or without that process."""
    stat = _read_stat(pid) if PROC.joinpath("self", "stat").exists() else None
    return stat[1] if stat else None


@cache
def _identity(pid: int) -> ProcessIdentity:
    return ProcessIdentity(pid, socket.gethostname(), start_ticks(pid))


def this_process() -> ProcessIdentity:
    """The calling process (computed once per pid, so a forked child gets its own)."""
    return _identity(os.getpid())


def is_alive(pid: int, started_ticks: int | None) -> bool:
    """Is ``pid`` on this host still the process that started at ``started_ticks`` (None: any start time)?"""
    if PROC.joinpath("self", "stat").exists():
        stat = _read_stat(pid)
        if stat is None or stat[0] in DEAD_STATES:
            return False
        return started_ticks is None or stat[1] == started_ticks
    try:  # no /proc: the kernel can only say whether the pid exists
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True
