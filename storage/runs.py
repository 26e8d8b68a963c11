"""A crawl run's lifecycle rows: created running, finished once, or marked interrupted when its process died.

A run records the process crawling it (pid, host, start time), so a crawl
killed with SIGKILL, which cannot finish its own row, is found by the next
command: :func:`reap_dead_runs` marks it ``interrupted`` with the reason and
the counts of what it decided, and removes the partial image files it left.
Runs of live processes and of other hosts are never touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select, update

from storage.audit import append_in
from storage.database import Database
from storage.image_store import ImageStore
from storage.models import CrawlRun, DecisionRecord
from storage.processes import ProcessIdentity, is_alive, this_process


class RunStatus(StrEnum):
    RUNNING = "running"
    FINISHED = "finished"
    INTERRUPTED = "interrupted"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ReapedRun:
    """A run found running whose process had died, as it was marked."""

    run_id: str
    pid: int
    hostname: str
    finish_reason: str
    stats: dict[str, Any]


def create_run(database: Database, run_id: str, policy_name: str, policy_revision: str, product_token: str,
               testsites: bool, start_urls: list[str], policy_description: str = "", *,
               process: ProcessIdentity | None = None) -> None:
    """Record a run as ``running`` in ``process`` (default: the calling process, which must be the crawling one)."""
    process = process or this_process()
    with database.session() as session, session.begin():
        session.add(CrawlRun(
            id=run_id, started_at=datetime.now(UTC), status=RunStatus.RUNNING.value, policy_name=policy_name,
            policy_revision=policy_revision, product_token=product_token, testsites=testsites,
            start_urls=start_urls, policy_description=policy_description,
            pid=process.pid, hostname=process.hostname, process_start_ticks=process.start_ticks,
        ))
        session.flush()
        append_in(session, "crawl.started", {"run": run_id, "policy": policy_revision, "start_urls": len(start_urls)})


def finish_run(database: Database, run_id: str, status: str, reason: str, stats: dict[str, Any] | None,
               only_if_running: bool = False) -> bool:
    """Record how a run ended (``stats`` None keeps those stored); True when a row was changed.

    With ``only_if_running`` a run that already ended is left as it is (checked in the same statement).
    The audit log gets a ``crawl.finished`` entry in the same transaction.
    """
    values: dict[str, Any] = {"finished_at": datetime.now(UTC), "status": str(status), "finish_reason": reason}
    if stats is not None:
        values["stats"] = stats
    statement = update(CrawlRun).where(CrawlRun.id == run_id).values(**values)
    if only_if_running:
        statement = statement.where(CrawlRun.status == RunStatus.RUNNING.value)
    with database.session() as session, session.begin():
        changed = bool(getattr(session.execute(statement), "rowcount", 0))
        if changed:
            counts = {k: v for k, v in (stats or {}).items() if "/" in k and isinstance(v, int)}
            append_in(session, "crawl.finished", {"run": run_id, "status": str(status), **counts})
        return changed


def merge_run_stats(database: Database, run_id: str, extra: dict[str, Any]) -> None:
    """Add ``extra`` to a run's stats (the launcher of many workers adds their final states once all stopped)."""
    with database.session() as session, session.begin():
        run = session.get(CrawlRun, run_id)
        if run is not None:
            run.stats = {**(run.stats or {}), **extra}


def run_exists(database: Database, run_id: str) -> bool:
    with database.session() as session:
        return session.get(CrawlRun, run_id) is not None


def run_start_urls(database: Database, run_id: str) -> list[str]:
    """The start URLs a run was created with (a worker joining it follows links inside their sites)."""
    with database.session() as session:
        run = session.get(CrawlRun, run_id)
        return [str(url) for url in (run.start_urls if run is not None else [])]


def decision_counts(database: Database, run_id: str) -> dict[str, int]:
    """How many decisions of each kind and outcome a run recorded, as ``{"image/stored": n, ...}``."""
    query = (select(DecisionRecord.kind, DecisionRecord.outcome, func.count())
             .where(DecisionRecord.run_id == run_id).group_by(DecisionRecord.kind, DecisionRecord.outcome))
    with database.session() as session:
        return {f"{kind}/{outcome}": int(count) for kind, outcome, count in sorted(session.execute(query))}


def reap_dead_runs(database: Database, image_store: ImageStore | None = None) -> list[ReapedRun]:
    """Mark every ``running`` run whose process died on this host as ``interrupted``; remove partial files.

    Runs without a recorded process (made before migration 0004) are left alone: nothing tells whether they live.
    """
    me = this_process()
    with database.session() as session:
        candidates = session.execute(
            select(CrawlRun.id, CrawlRun.pid, CrawlRun.process_start_ticks)
            .where(CrawlRun.status == RunStatus.RUNNING.value, CrawlRun.hostname == me.hostname,
                   CrawlRun.pid.is_not(None))).all()
    reaped = []
    for run_id, pid, started in candidates:
        if pid is None or is_alive(pid, started):
            continue
        found = datetime.now(UTC).isoformat(timespec="seconds")
        reason = (f"process died: pid {pid} on {me.hostname} ended without finishing the run "
                  f"(found by pid {me.pid} at {found})")
        stats = decision_counts(database, run_id)
        if finish_run(database, run_id, RunStatus.INTERRUPTED, reason, stats, only_if_running=True):
            reaped.append(ReapedRun(run_id, pid, me.hostname, reason, stats))
    if image_store is not None:
        image_store.remove_abandoned_temporaries()
    return reaped
