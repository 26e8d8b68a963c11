"""Two runs side by side: what a lawful crawl took, what a Clearview-style crawl took, and what that breaches.

Every number is read from the runs' own databases (the report is a view of
what is stored, never a separate tally), so a test can recount each one. The
runs may live in different databases (the demo keeps the two packs' data
apart); each is found by id in the databases given.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select

from policy.errors import RunNotFoundError
from storage import Database
from storage.models import CrawlRun, DecisionRecord, FaceRecord, FaceTemplate, ImageRecord, RightsRequest
from storage.suppression import url_digest

#: Reasons that describe what happened rather than why something was refused.
NEUTRAL_CODES = frozenset({"robots.allowed", "robots.unavailable", "page.crawled", "faces.none", "faces.detected",
                           "optout.screened", "image.stored", "faces.known_image", "tdm.not_reserved"})
OPT_OUT_CODES = frozenset({"optout.face_match", "optout.image_match", "optout.url_match"})


@dataclass(slots=True)
class RunFacts:
    """One run as read from its database: its row and every decision, with what was stored from it."""

    run: dict[str, Any]
    decisions: list[dict[str, Any]]
    faces_by_sha256: dict[str, int]
    templates_by_decision: dict[str, int]
    deleted_url_digests: set[str]  # URLs of images deleted at a person's request (as the requests keep them)

    @property
    def policy(self) -> str:
        return str(self.run["policy"])


def find_run(databases: list[Database], run_id: str) -> Database:
    for database in databases:
        with database.session() as session:
            if session.get(CrawlRun, run_id) is not None:
                return database
    raise RunNotFoundError(f"no crawl run {run_id!r} in the database(s) given; `faircrawl report --list` shows the runs")


def load_run(database: Database, run_id: str) -> RunFacts:
    with database.session() as session:
        run = session.get(CrawlRun, run_id)
        if run is None:
            raise RunNotFoundError(f"no crawl run {run_id!r}")
        stored = {row.decision_id: row.sha256 for row in session.scalars(
            select(ImageRecord).where(ImageRecord.run_id == run_id))}
        decisions = []
        for d in session.scalars(select(DecisionRecord).where(DecisionRecord.run_id == run_id)
                                 .order_by(DecisionRecord.decided_at)):
            decisions.append({"id": d.id, "url": d.url, "kind": d.kind, "outcome": d.outcome, "page_url": d.page_url,
                              "jurisdiction": d.jurisdiction, "signals": d.signals or {}, "reasons": d.reasons or [],
                              "matched_rules": d.matched_rules or [], "citations": d.citations or [],
                              "breaches": d.breaches or [], "policy_summary": d.policy_summary,
                              "sha256": stored.get(d.id)})
        faces = {sha: int(n) for sha, n in session.execute(
            select(FaceRecord.image_sha256, func.count()).where(FaceRecord.image_sha256.in_(set(stored.values())))
            .group_by(FaceRecord.image_sha256))}
        templates = {decision_id: int(n) for decision_id, n in session.execute(
            select(FaceTemplate.decision_id, func.count()).where(FaceTemplate.run_id == run_id)
            .group_by(FaceTemplate.decision_id))}
        deleted = {digest for identified in session.scalars(
            select(RightsRequest.identified).where(RightsRequest.kind == "deletion", RightsRequest.status == "completed"))
            for digest in (identified or {}).get("url_digests", [])}
        shown = {"id": run.id, "policy": run.policy_name, "policy_revision": run.policy_revision,
                 "status": run.status, "started_at": run.started_at.isoformat(),
                 "finished_at": run.finished_at.isoformat() if run.finished_at else None}
    return RunFacts(shown, decisions, faces, templates, deleted)


def deciding_code(decision: dict[str, Any]) -> str:
    """Why a decision was refused or failed, in one code: the evidence that mattered, or the rule."""
    reasons = decision["reasons"]
    if decision["outcome"] == "failed" and reasons:
        return str(reasons[-1]["code"])
    evidence = next((r["code"] for r in reasons if r["source"] != "policy" and r["code"] not in NEUTRAL_CODES), None)
    return str(evidence or (reasons[-1]["code"] if reasons else "policy.default_deny"))


def host_of(url: str) -> str:
    return urlsplit(url).netloc or "(no URL)"


def site_table(facts: RunFacts) -> dict[str, dict[str, Any]]:
    """Per site: pages crawled, images stored, images with faces, templates persisted, opted-out people
    collected, refusals by reason."""
    sites: dict[str, dict[str, Any]] = defaultdict(lambda: {
        "pages_crawled": 0, "images_stored": 0, "images_with_faces": 0, "templates_persisted": 0,
        "opted_out_collected": 0, "refused": 0, "failed": 0, "refusals_by_reason": Counter()})
    for decision in facts.decisions:
        if decision["outcome"] == "deleted":
            continue  # a tombstone names no site: see deleted_on_request
        site = sites[host_of(decision["url"])]
        if decision["kind"] == "page" and decision["outcome"] == "crawled":
            site["pages_crawled"] += 1
        if decision["kind"] == "image" and decision["outcome"] == "stored":
            site["images_stored"] += 1
            if facts.faces_by_sha256.get(decision["sha256"] or "", 0) or (decision["signals"].get("image.faces") or 0):
                site["images_with_faces"] += 1
            site["templates_persisted"] += facts.templates_by_decision.get(decision["id"], 0)
            if any(r["code"] == "optout.ignored" for r in decision["reasons"]):
                site["opted_out_collected"] += 1
        if decision["outcome"] in ("refused", "failed"):
            site[decision["outcome"]] += 1
            if decision["outcome"] == "refused":
                site["refusals_by_reason"][deciding_code(decision)] += 1
    return {host: {**counts, "refusals_by_reason": dict(counts["refusals_by_reason"].most_common())}
            for host, counts in sorted(sites.items())}


def totals(table: dict[str, dict[str, Any]], facts: RunFacts) -> dict[str, Any]:
    keys = ("pages_crawled", "images_stored", "images_with_faces", "templates_persisted", "opted_out_collected",
            "refused", "failed")
    reasons: Counter[str] = Counter()
    for counts in table.values():
        reasons.update(counts["refusals_by_reason"])
    return {**{key: sum(counts[key] for counts in table.values()) for key in keys},
            "deleted_on_request": sum(1 for d in facts.decisions if d["outcome"] == "deleted"),
            "refusals_by_reason": dict(reasons.most_common())}


def taken_only_unlawfully(lawful: RunFacts, unlawful: RunFacts) -> list[dict[str, Any]]:
    """Every page and image the unlawful run took that the lawful run refused (or never requested), grouped by
    the lawful rule that refused it and the provisions the taking breaches."""
    lawful_by_url = {(d["url"], d["kind"]): d for d in lawful.decisions}
    groups: dict[tuple[str, str, tuple[str, ...]], dict[str, Any]] = {}
    for decision in unlawful.decisions:
        if decision["outcome"] not in ("stored", "crawled"):
            continue
        other = lawful_by_url.get((decision["url"], decision["kind"]))
        if other is not None and other["outcome"] in ("stored", "crawled"):
            continue
        if other is None and url_digest(decision["url"]) in lawful.deleted_url_digests:
            continue  # the lawful crawl took it too, and deleted it when the person asked
        rule = deciding_code(other) if other is not None else None
        breaches = tuple(decision["breaches"])
        group = groups.setdefault((other["outcome"] if other else "", rule or "", breaches), {
            "lawful_rule": rule, "lawful": None if other is None else other["outcome"], "breaches": list(breaches),
            "count": 0, "citations": [], "items": []})
        group["count"] += 1
        if other is not None:
            group["citations"] = sorted(set(group["citations"]) | set(other["citations"]))
        group["items"].append({
            "url": decision["url"], "kind": decision["kind"], "faces": int(decision["signals"].get("image.faces") or 0),
            "unlawful": {"decision_id": decision["id"], "rules": decision["matched_rules"],
                         "breaches": decision["breaches"]},
            "lawful": None if other is None else {
                "decision_id": other["id"], "outcome": other["outcome"], "rules": other["matched_rules"],
                "citations": other["citations"], "summary": other["policy_summary"] or "",
                "reason": next((r.get("detail") or r["code"] for r in other["reasons"]
                                if r["code"] == group["lawful_rule"]), "")}})
    return sorted(groups.values(), key=lambda g: -int(g["count"]))


def breaches_by_provision(groups: list[dict[str, Any]]) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for group in groups:
        for provision in group["breaches"]:
            counts[provision] += group["count"]
    return dict(counts.most_common())


def stored_by_jurisdiction(facts: RunFacts) -> dict[str, int]:
    counts = Counter(d["jurisdiction"] or "?" for d in facts.decisions if d["kind"] == "image" and d["outcome"] == "stored")
    return dict(sorted(counts.items()))


def compare(lawful: RunFacts, unlawful: RunFacts, rights: dict[str, Any] | None = None) -> dict[str, Any]:
    """The whole comparison, as report.json holds it (the HTML shows the same content)."""
    lawful_sites, unlawful_sites = site_table(lawful), site_table(unlawful)
    groups = taken_only_unlawfully(lawful, unlawful)
    return {
        "runs": {"lawful": lawful.run, "unlawful": unlawful.run},
        "sites": {host: {"lawful": lawful_sites.get(host), "unlawful": unlawful_sites.get(host)}
                  for host in sorted(set(lawful_sites) | set(unlawful_sites))},
        "totals": {"lawful": totals(lawful_sites, lawful), "unlawful": totals(unlawful_sites, unlawful)},
        "taken_only_unlawfully": groups,
        "breaches_by_provision": breaches_by_provision(groups),
        "stored_by_jurisdiction": {"lawful": stored_by_jurisdiction(lawful),
                                   "unlawful": stored_by_jurisdiction(unlawful)},
        "rights": rights or {},
    }
