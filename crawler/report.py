"""Reports of a past run, read back from the database: JSON for tools, text for people.

Both are streamed: decisions are read with a server-side cursor (a few hundred
rows at a time) and written or counted as they pass, so a report costs the
same memory for 100 decisions as for 1,000,000. The JSON written by
:func:`write_report` is byte for byte what ``json.dumps(report, indent=2,
ensure_ascii=False)`` of the whole report would give; :func:`build_report`
still builds that dict, for small runs and callers that want one.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TextIO
from urllib.parse import urlsplit

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from crawler.decision_record import DecisionRecord
from policy.errors import RunNotFoundError
from storage import Database
from storage.models import CrawlRun, ImageRecord, SiteRecord
from storage.models import DecisionRecord as DecisionRow

__all__ = ["RunNotFoundError", "SummaryTally", "build_report", "format_summary", "iter_decisions", "latest_run_id",
           "list_runs", "report_head", "summary_lines", "write_report"]

#: Rows fetched per round trip while streaming decisions (a server-side cursor on PostgreSQL).
STREAM_ROWS = 500
#: Refused and failed decisions a tally keeps for the summary to print; asking for more streams them again.
KEPT_FOR_SUMMARY = 100
OPT_OUT_BLOCKED = ("optout.face_match", "optout.image_match", "optout.url_match")
_INDENT = "  "


def latest_run_id(database: Database) -> str | None:
    with database.session() as session:
        return session.scalar(select(CrawlRun.id).order_by(CrawlRun.started_at.desc()).limit(1))


def list_runs(database: Database, limit: int = 20) -> list[dict[str, Any]]:
    with database.session() as session:
        runs = session.scalars(select(CrawlRun).order_by(CrawlRun.started_at.desc()).limit(limit)).all()
        return [_run_dict(run) for run in runs]


def _run_dict(run: CrawlRun) -> dict[str, Any]:
    return {
        "id": run.id, "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "status": run.status, "finish_reason": run.finish_reason, "policy": run.policy_name,
        "policy_description": run.policy_description,
        "policy_revision": run.policy_revision, "product_token": run.product_token,
        "testsites": run.testsites, "start_urls": run.start_urls, "stats": run.stats or {},
    }


def report_head(database: Database, run_id: str) -> dict[str, Any]:
    """The report without its decisions: the run, the counts per kind and outcome (counted by the database), sites."""
    with database.session() as session:
        run = session.get(CrawlRun, run_id)
        if run is None:
            raise RunNotFoundError(f"no crawl run {run_id!r} in this database; `faircrawl report --list` shows the runs")
        counts = session.execute(
            select(DecisionRow.kind, DecisionRow.outcome, func.count()).where(DecisionRow.run_id == run_id)
            .group_by(DecisionRow.kind, DecisionRow.outcome)).all()
        sites = session.scalars(select(SiteRecord).where(SiteRecord.run_id == run_id).order_by(SiteRecord.origin)).all()
        return {
            "run": _run_dict(run),
            "summary": {f"{kind}/{outcome}": int(n) for kind, outcome, n in sorted(counts)},
            "sites": [
                {"origin": s.origin, "robots_url": s.robots_url, "robots": s.robots_availability,
                 "note": s.robots_note, "crawl_delay_seconds": s.crawl_delay_seconds,
                 "tdmrep": s.tdmrep_state, "ai_txt": s.ai_txt_state}
                for s in sites
            ],
        }


def _decisions_query(run_id: str) -> Select[Any]:
    """Every decision of the run in the order it was made (id breaks ties), with its stored content's sha256."""
    stored = (select(ImageRecord.decision_id, func.max(ImageRecord.sha256).label("sha256"))
              .where(ImageRecord.run_id == run_id).group_by(ImageRecord.decision_id).subquery())
    return (select(*DecisionRow.__table__.columns, stored.c.sha256)
            .outerjoin(stored, stored.c.decision_id == DecisionRow.id)
            .where(DecisionRow.run_id == run_id).order_by(DecisionRow.decided_at, DecisionRow.id))


def _stream(session: Session, query: Select[Any]) -> Iterator[Any]:
    yield from session.execute(query.execution_options(yield_per=STREAM_ROWS))


def iter_decisions(database: Database, run_id: str, query: Select[Any] | None = None) -> Iterator[dict[str, Any]]:
    """The run's decisions as the report shows them, one at a time (nothing of the run is held meanwhile)."""
    with database.session() as session:
        for row in _stream(session, query if query is not None else _decisions_query(run_id)):
            shown = DecisionRecord.from_row(row).as_dict()
            if row.sha256 is not None:
                shown["sha256"] = row.sha256
            yield shown


def _indented(value: Any, depth: int) -> str:
    """``value`` as json.dumps(indent=2) prints it ``depth`` levels down a larger document."""
    return json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n" + _INDENT * depth)


def write_report(database: Database, run_id: str, out: TextIO, tally: SummaryTally | None = None) -> dict[str, Any]:
    """Stream the JSON report to ``out`` (with a final newline); each decision also goes to ``tally``.

    Returns the head (:func:`report_head`).
    """
    head = report_head(database, run_id)
    out.write("{\n")
    for key, value in head.items():
        out.write(f"{_INDENT}{json.dumps(key)}: {_indented(value, 1)},\n")
    out.write(f'{_INDENT}"decisions": [')
    written = 0
    for decision in iter_decisions(database, run_id):
        out.write(("," if written else "") + f"\n{_INDENT * 2}{_indented(decision, 2)}")
        written += 1
        if tally is not None:
            tally.add(decision)
    out.write(f"\n{_INDENT}]\n}}\n" if written else "]\n}\n")
    return head


def build_report(database: Database, run_id: str) -> dict[str, Any]:
    """Everything a reader needs about one run, in memory (write_report streams the same for any size)."""
    return {**report_head(database, run_id), "decisions": list(iter_decisions(database, run_id))}


# -- the text summary -------------------------------------------------------------


@dataclass
class SummaryTally:
    """What the text summary needs from the decisions, counted as they stream past: counters, never the decisions.

    Only the first ``show`` refused or failed decisions are kept, to be printed.
    """

    show: int = 10
    per_host: dict[str, Counter[str]] = field(default_factory=dict)
    codes: Counter[str] = field(default_factory=Counter)
    breaches: Counter[str] = field(default_factory=Counter)
    not_taken: int = 0
    first_not_taken: list[dict[str, Any]] = field(default_factory=list)

    def add(self, decision: dict[str, Any]) -> None:
        host = urlsplit(decision["url"]).netloc
        self.per_host.setdefault(host, Counter())[f"{decision['kind']} {decision['outcome']}"] += 1
        self.codes.update(r["code"] for r in decision["reasons"])
        self.breaches.update(decision.get("breaches") or [])
        if decision["outcome"] in {"refused", "failed"}:
            self.not_taken += 1
            if len(self.first_not_taken) < self.show:
                self.first_not_taken.append({k: decision[k] for k in ("kind", "outcome", "url", "reasons",
                                                                      "policy_summary")})


def tally_decisions(database: Database, run_id: str, show: int = 10) -> SummaryTally:
    """The summary's counts in one streaming pass over the run's decisions."""
    tally = SummaryTally(min(show, KEPT_FOR_SUMMARY))
    for decision in iter_decisions(database, run_id):
        tally.add(decision)
    return tally


def summary_lines(database: Database, run_id: str, show: int = 10, *, head: dict[str, Any] | None = None,
                  tally: SummaryTally | None = None) -> Iterator[str]:
    """A readable summary, line by line: counts, per host, and the most common reasons for refusals and failures.

    ``head`` and ``tally`` are read from the database unless given (a crawl that just streamed its report passes
    what it counted). More refused and failed decisions than the tally kept are streamed from the database.
    """
    head = head if head is not None else report_head(database, run_id)
    tally = tally if tally is not None else tally_decisions(database, run_id, show)
    not_taken: Iterable[dict[str, Any]] = tally.first_not_taken
    if show > tally.show and tally.not_taken > len(tally.first_not_taken):
        query = _decisions_query(run_id).where(DecisionRow.outcome.in_(("refused", "failed"))).limit(show)
        not_taken = iter_decisions(database, run_id, query)
    yield from _lines(head, tally, show, not_taken)


def format_summary(database: Database, run_id: str, show: int = 10, *, head: dict[str, Any] | None = None,
                   tally: SummaryTally | None = None) -> str:
    """:func:`summary_lines` as one text."""
    return "\n".join(summary_lines(database, run_id, show, head=head, tally=tally))


def _lines(head: dict[str, Any], tally: SummaryTally, show: int, not_taken: Iterable[dict[str, Any]]) -> Iterator[str]:
    run = head["run"]
    summary = head["summary"]
    yield f"crawl run {run['id']}  ({run['status']}, {run['finish_reason'] or 'running'})"
    yield (f"  started {run['started_at']}  policy {run['policy_revision']}  token {run['product_token']}"
           + ("  [test sites]" if run["testsites"] else ""))
    yield (f"  pages:  {summary.get('page/crawled', 0)} crawled, {summary.get('page/refused', 0)} refused, "
           f"{summary.get('page/failed', 0)} failed")
    yield (f"  images: {summary.get('image/stored', 0)} stored, {summary.get('image/refused', 0)} refused, "
           f"{summary.get('image/failed', 0)} failed")
    if run["stats"].get("unwritten_rows"):
        unwritten = run["stats"]["unwritten_rows"]
        yield f"  WARNING: {unwritten} rows could not be written; see var/unwritten-{run['id']}.jsonl"
    if tally.per_host:
        yield "  by host:"
        for host in sorted(tally.per_host):
            parts = ", ".join(f"{n} {what}" for what, n in sorted(tally.per_host[host].items()))
            yield f"    {host:<28} {parts}"
    if head["sites"]:
        yield "  robots.txt:"
        for site in head["sites"]:
            delay = f", {site['crawl_delay_seconds']:g} s between requests" if site["crawl_delay_seconds"] else ""
            yield f"    {site['origin']:<36} {site['robots']}: {site['note']}{delay}"
    codes = tally.codes
    blocked = sum(codes[c] for c in OPT_OUT_BLOCKED)
    if codes["optout.ignored"]:
        yield (f"  opt-outs: IGNORED by this pack - {codes['optout.ignored']} image(s) of opted-out people or "
               "images were kept anyway")
    elif blocked:
        yield f"  opt-outs: {blocked} image(s) blocked (only the decision is kept: entry id, how it matched)"
    if tally.breaches:
        yield f"  provisions breached (pack {run['policy']!r}; decisions that breach each):"
        for provision, count in tally.breaches.most_common():
            yield f"    {count:>4}  {provision}"
    if tally.not_taken:
        yield f"  refused and failed ({tally.not_taken}; first {min(show, tally.not_taken)}):"
        for shown, decision in enumerate(not_taken):
            if shown == show:
                break
            yield f"    {decision['outcome']:<7} {decision['kind']:<5} {_shown(decision['url'])}"
            yield f"            {_why(decision)}"


def _shown(url: str, limit: int = 120) -> str:
    """A URL short enough for a summary line (the report keeps it whole)."""
    return url if len(url) <= limit else f"{url[:limit - 25]}...[{len(url)} characters]"


_NEUTRAL_CODES = {"robots.allowed", "robots.unavailable", "page.crawled", "faces.none"}


def _why(decision: dict[str, Any]) -> str:
    """The evidence that mattered and the rule that decided, on one line."""
    reasons = decision["reasons"]
    if decision["outcome"] == "failed" and reasons:
        return f"{reasons[-1]['code']}: {reasons[-1]['detail']}"
    evidence = next((r for r in reasons if r["source"] not in ("policy",) and r["code"] not in _NEUTRAL_CODES), None)
    summary = decision.get("policy_summary") or ""
    if evidence is None:
        last = reasons[-1] if reasons else {"code": "?", "detail": ""}
        return f"{last['code']}: {last['detail']}"
    return f"{evidence['code']}: {evidence['detail']}" + (f" -> {summary}" if summary else "")
