"""Crash leftovers: a crawl killed with SIGKILL is marked interrupted by the next command, live ones are not.

Issue 7, defect 19: a killed crawl left its run ``running`` forever and
partial files in the image store.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text

from storage import Database
from storage.database import CRAWL_SCHEMA
from storage.image_store import ImageStore, temporary_prefix
from storage.models import CrawlRun
from storage.processes import ProcessIdentity, start_ticks, this_process
from storage.runs import create_run, finish_run, reap_dead_runs
from tests.conftest import PROJECT_ROOT
from tests.storage.rows import add_run


class Crawl:
    """A real child process that created a run and is now crawling (sleeping)."""

    def __init__(self, url: str, store: Path, run_id: str) -> None:
        self.run_id = run_id
        self.process = subprocess.Popen([sys.executable, "-m", "tests.storage.crashing_crawl", url, str(store), run_id],
                                        cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None and self.process.stdout.readline().strip() == "ready"

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        os.waitid(os.P_PID, self.process.pid, os.WEXITED | os.WNOWAIT)  # dead, but not reaped: a zombie is dead too

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        assert self.process.stdout is not None
        self.process.stdout.close()


@pytest.fixture
def crawls() -> Iterator[list[Crawl]]:
    started: list[Crawl] = []
    yield started
    for crawl in started:
        crawl.close()


def _run(database: Database, run_id: str) -> CrawlRun:
    with database.session() as session:
        run = session.get(CrawlRun, run_id)
        assert run is not None
        return run


def _dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_a_killed_crawl_is_marked_interrupted_with_its_counts_and_its_partial_file_goes(
        database: Database, database_url: str, tmp_path: Path, crawls: list[Crawl]) -> None:
    store = tmp_path / "images"
    killed = Crawl(database_url, store, "killed")
    crawls.append(killed)
    killed.kill()

    reaped = reap_dead_runs(database, ImageStore(store))

    run = _run(database, "killed")
    assert [r.run_id for r in reaped] == ["killed"]
    assert run.status == "interrupted" and run.finished_at is not None
    assert run.finish_reason and run.finish_reason.startswith(f"process died: pid {killed.process.pid} ")
    assert f"found by pid {os.getpid()}" in run.finish_reason
    assert run.stats == {"image/stored": 2, "page/crawled": 1} == reaped[0].stats
    assert not list(store.glob("*/*/.incoming-*"))
    assert reap_dead_runs(database, ImageStore(store)) == []  # once is enough


def test_a_live_crawl_and_its_partial_file_are_left_alone(database: Database, database_url: str, tmp_path: Path,
                                                          crawls: list[Crawl]) -> None:
    store = tmp_path / "images"
    live = Crawl(database_url, store, "live")
    crawls.append(live)

    assert reap_dead_runs(database, ImageStore(store)) == []

    run = _run(database, "live")
    assert (run.status, run.finished_at, run.stats) == ("running", None, None)
    assert len(list(store.glob("*/*/.incoming-*"))) == 1
    live.kill()
    assert [r.run_id for r in reap_dead_runs(database, ImageStore(store))] == ["live"]


def test_runs_of_other_hosts_reused_pids_and_unknown_processes(database: Database) -> None:
    me = this_process()
    assert me.start_ticks is not None  # Linux: /proc/<pid>/stat field 22
    add_run(database, "elsewhere", pid=_dead_pid(), hostname="another-host", process_start_ticks=1)
    add_run(database, "reused-pid", pid=me.pid, hostname=me.hostname, process_start_ticks=me.start_ticks + 1)
    add_run(database, "this-process", pid=me.pid, hostname=me.hostname, process_start_ticks=me.start_ticks)
    add_run(database, "before-0004")  # no process recorded: nothing tells whether it lives

    reaped = reap_dead_runs(database)

    assert [r.run_id for r in reaped] == ["reused-pid"]  # the pid lives, but it is another process now
    assert {run_id: _run(database, run_id).status for run_id in ("elsewhere", "this-process", "before-0004")} == {
        "elsewhere": "running", "this-process": "running", "before-0004": "running"}


def test_create_run_records_the_crawling_process_and_finish_run_ends_it_once(database: Database) -> None:
    create_run(database, "r1", "lawful", "lawful@x", "faircrawl", False, ["http://a.example/"], "the lawful pack")
    run = _run(database, "r1")
    assert (run.pid, run.hostname, run.process_start_ticks) == (os.getpid(), this_process().hostname,
                                                                start_ticks(os.getpid()))
    assert (run.status, run.policy_description, run.start_urls) == ("running", "the lawful pack", ["http://a.example/"])
    assert finish_run(database, "r1", "finished", "finished", {"image/stored": 1})
    assert not finish_run(database, "r1", "interrupted", "shutdown", None, only_if_running=True)
    run = _run(database, "r1")
    assert (run.status, run.finish_reason, run.stats) == ("finished", "finished", {"image/stored": 1})
    create_run(database, "r2", "lawful", "x", "faircrawl", False, [],
               process=ProcessIdentity(pid=12, hostname="worker-7", start_ticks=99))
    assert (_run(database, "r2").pid, _run(database, "r2").hostname) == (12, "worker-7")


def test_migration_0004_keeps_existing_runs_and_their_decisions(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path}/f.db")
    database.upgrade("0003")
    with database.engine.begin() as connection:
        connection.execute(text(
            "insert into crawl_runs (id, started_at, status, finish_reason, policy_name, policy_revision, "
            "product_token, testsites, start_urls) values ('old', '2026-11-30 10:00:00', 'running', NULL, 'lawful', "
            "'x', 'faircrawl', 1, '[]')"))
        connection.execute(text(
            "insert into decisions (id, run_id, decided_at, kind, outcome, url, reasons, policy_revision, signals, "
            "matched_rules, effect, obligations, citations) values ('d1', 'old', '2026-11-30 10:00:01', 'image', "
            "'stored', 'http://a/', '[]', 'x', '{}', '[]', 'allow', '{}', '[]')"))
    database.upgrade()
    run = _run(database, "old")
    assert (run.status, run.pid, run.hostname, run.process_start_ticks) == ("running", None, None, None)
    with database.engine.connect() as connection:
        assert connection.scalar(text("select count(*) from decisions")) == 1
        assert connection.scalar(text("select version_num from alembic_version")) == CRAWL_SCHEMA.head()
    assert reap_dead_runs(database) == []
    with database.session() as session:
        assert session.scalar(select(CrawlRun.status)) == "running"
    database.dispose()


def test_temporary_files_name_their_writer(tmp_path: Path) -> None:
    prefix = temporary_prefix(this_process())
    assert prefix.startswith(f".incoming-{os.getpid()}-{this_process().start_ticks}-")
    store = ImageStore(tmp_path)
    relative = store.put(b"\xff\xd8 jpeg bytes", "ab" + "0" * 62, "JPEG")
    assert store.read(relative) == b"\xff\xd8 jpeg bytes"
    assert not list(tmp_path.glob("*/*/.incoming-*"))  # renamed into place
