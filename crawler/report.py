"""Reports of a past run, read back from the database: JSON for tools, text for people."""

from __future__ import annotations

from collections import Counter
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select

from crawler.decision_record import DecisionRecord
from policy.errors import RunNotFoundError
from storage import Database
from storage.models import CrawlRun, ImageRecord, SiteRecord
from storage.models import DecisionRecord as DecisionRow

__all__ = ["RunNotFoundError", "build_report", "format_summary", "latest_run_id", "list_runs"]


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


def build_report(database: Database, run_id: str) -> dict[str, Any]:
    """Everything a reader needs about one run; decisions in the order they were made."""
    with database.session() as session:
        run = session.get(CrawlRun, run_id)
        if run is None:
            raise RunNotFoundError(f"no crawl run {run_id!r} in this database; `faircrawl report --list` shows the runs")
        decisions = session.scalars(
            select(DecisionRow).where(DecisionRow.run_id == run_id).order_by(DecisionRow.decided_at)
        ).all()
        stored = {row.decision_id: row for row in session.scalars(select(ImageRecord).where(ImageRecord.run_id == run_id))}
        sites = session.scalars(select(SiteRecord).where(SiteRecord.run_id == run_id).order_by(SiteRecord.origin)).all()
        counts = Counter((d.kind, d.outcome) for d in decisions)
        return {
            "run": _run_dict(run),
            "summary": {f"{kind}/{outcome}": n for (kind, outcome), n in sorted(counts.items())},
            "sites": [
                {"origin": s.origin, "robots_url": s.robots_url, "robots": s.robots_availability,
                 "note": s.robots_note, "crawl_delay_seconds": s.crawl_delay_seconds,
                 "tdmrep": s.tdmrep_state, "ai_txt": s.ai_txt_state}
                for s in sites
            ],
            "decisions": [
                {**DecisionRecord.from_row(d).as_dict(), **({"sha256": stored[d.id].sha256} if d.id in stored else {})}
                for d in decisions
            ],
        }


def format_summary(report: dict[str, Any], show: int = 10) -> str:
    """A readable summary: counts, per host, and the most common reasons for refusals and failures."""
    run = report["run"]
    summary = report["summary"]
    lines = [
        f"crawl run {run['id']}  ({run['status']}, {run['finish_reason'] or 'running'})",
        f"  started {run['started_at']}  policy {run['policy_revision']}  token {run['product_token']}"
        + ("  [test sites]" if run["testsites"] else ""),
        f"  pages:  {summary.get('page/crawled', 0)} crawled, {summary.get('page/refused', 0)} refused, "
        f"{summary.get('page/failed', 0)} failed",
        f"  images: {summary.get('image/stored', 0)} stored, {summary.get('image/refused', 0)} refused, "
        f"{summary.get('image/failed', 0)} failed",
    ]
    if run["stats"].get("unwritten_rows"):
        unwritten = run["stats"]["unwritten_rows"]
        lines.append(f"  WARNING: {unwritten} rows could not be written; see var/unwritten-{run['id']}.jsonl")
    per_host: dict[str, Counter[str]] = {}
    for decision in report["decisions"]:
        host = urlsplit(decision["url"]).netloc
        per_host.setdefault(host, Counter())[f"{decision['kind']} {decision['outcome']}"] += 1
    if per_host:
        lines.append("  by host:")
        for host in sorted(per_host):
            parts = ", ".join(f"{n} {what}" for what, n in sorted(per_host[host].items()))
            lines.append(f"    {host:<28} {parts}")
    if report["sites"]:
        lines.append("  robots.txt:")
        for site in report["sites"]:
            delay = f", Crawl-delay {site['crawl_delay_seconds']:g}s" if site["crawl_delay_seconds"] else ""
            lines.append(f"    {site['origin']:<36} {site['robots']}: {site['note']}{delay}")
    codes = Counter(r["code"] for d in report["decisions"] for r in d["reasons"])
    blocked = sum(codes[c] for c in ("optout.face_match", "optout.image_match", "optout.url_match"))
    if codes["optout.ignored"]:
        lines.append(f"  opt-outs: IGNORED by this pack - {codes['optout.ignored']} image(s) of opted-out people or "
                     "images were kept anyway")
    elif blocked:
        lines.append(f"  opt-outs: {blocked} image(s) blocked (only the decision is kept: entry id, how it matched)")
    breaches = Counter(b for d in report["decisions"] for b in d.get("breaches") or [])
    if breaches:
        lines.append(f"  provisions breached (pack {run['policy']!r}; decisions that breach each):")
        for provision, count in breaches.most_common():
            lines.append(f"    {count:>4}  {provision}")
    not_taken = [d for d in report["decisions"] if d["outcome"] in {"refused", "failed"}]
    if not_taken:
        lines.append(f"  refused and failed ({len(not_taken)}; first {min(show, len(not_taken))}):")
        for decision in not_taken[:show]:
            lines.append(f"    {decision['outcome']:<7} {decision['kind']:<5} {_shown(decision['url'])}")
            lines.append(f"            {_why(decision)}")
    return "\n".join(lines)


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
