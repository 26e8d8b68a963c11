"""A crawl killed with SIGKILL: its face workers exit, and the next command marks its run and removes its partial files."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from storage.image_store import temporary_prefix
from storage.processes import ProcessIdentity, start_ticks
from tests.conftest import run_faircrawl


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def _wait_for(condition, seconds: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what} within {seconds} s")


def _decisions(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db) as connection:
            return int(connection.execute("select count(*) from decisions").fetchone()[0])
    except sqlite3.Error:
        return 0


def test_a_killed_crawl_leaves_no_workers_and_the_next_command_cleans_up(tmp_path: Path) -> None:
    db, store = tmp_path / "f.db", tmp_path / "images"
    crawl = subprocess.Popen(
        [sys.executable, "-m", "crawler.cli", "crawl", "--testsites", "http://slow.example.se/",
         "http://nowhere.example.com/", "--db", f"sqlite:///{db}", "--store", str(store)],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "FAIRCRAWL_PROGRESS_INTERVAL": "0"})
    try:
        _wait_for(lambda: _decisions(db) >= 2, 60, "the crawl recorded decisions")
        _wait_for(lambda: len(_children(crawl.pid)) >= 1, 30, "face workers started")
        workers = _children(crawl.pid)
        partial = store / "ab" / "cd" / (temporary_prefix(ProcessIdentity(crawl.pid, socket.gethostname(),
                                                                          start_ticks(crawl.pid))) + "x1")
        partial.parent.mkdir(parents=True, exist_ok=True)
        partial.write_bytes(b"half an image")  # what a write cut off by SIGKILL leaves
        crawl.send_signal(signal.SIGKILL)
        crawl.wait(timeout=30)
    finally:
        if crawl.poll() is None:
            crawl.kill()

    _wait_for(lambda: not any(_alive(pid) for pid in workers), 10, "the face workers exited after their parent died")
    shown = run_faircrawl("report", "--json", "--db", f"sqlite:///{db}", cwd=tmp_path,
                          env={"FAIRCRAWL_STORE": str(store)})
    assert shown.returncode == 0, shown.stderr
    assert "marked interrupted" in shown.stderr
    run = json.loads(shown.stdout)["run"]
    assert run["status"] == "interrupted" and run["finish_reason"].startswith(f"process died: pid {crawl.pid}")
    assert sum(n for key, n in run["stats"].items() if "/" in key) >= 2, "what was decided is counted"
    assert not partial.exists(), "the partial file is removed"
    summary = run_faircrawl("report", "--db", f"sqlite:///{db}", cwd=tmp_path)
    assert "interrupted, process died" in summary.stdout
