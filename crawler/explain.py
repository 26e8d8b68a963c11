"""`faircrawl policy explain URL`: the decision record the crawl would make for URL, and how the policy got there.

It is not a second pipeline: it runs the crawl itself in dry-run mode
(``FAIRCRAWL_DRY_RUN``), with the same gates (test-site routing, the
private-host gate, the consent gate and its site-file cache), the same spider
code for the embedding page, the same image stages (the configured face model,
the suppression list) and the same record builder; the dry run only keeps the
records in memory instead of writing rows, files or templates. So what it
prints is what a crawl would record, and it stores nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.http import Response
from scrapy.settings import Settings

from crawler.decision_record import DecisionRecord
from crawler.recording import recorder_for
from crawler.spiders.site import SiteSpider
from policy import Kind
from policy.errors import ExplainError

__all__ = ["Explained", "ExplainError", "ExplainTarget", "explain_targets", "explanation_dict", "format_explanation"]

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".tif", ".tiff")
_TARGETS_META = "faircrawl_explain_targets"  # the image URLs to request from this page


@dataclass(frozen=True, slots=True)
class ExplainTarget:
    url: str
    page_url: str | None = None  # for an image: the page that embeds it

    @property
    def kind(self) -> Kind:
        path = urlsplit(self.url).path.lower()
        return Kind.IMAGE if self.page_url or path.endswith(IMAGE_SUFFIXES) else Kind.PAGE


@dataclass(slots=True)
class Explained:
    target: ExplainTarget
    record: DecisionRecord
    policy_revision: str
    rules: dict[str, Any] = field(default_factory=dict)  # rule id -> policy.engine.Rule
    notes: list[str] = field(default_factory=list)


class ExplainSpider(SiteSpider):
    """Requests each target (and its embedding page) once; follows nothing else."""

    name = "explain"

    def __init__(self, targets: list[ExplainTarget], start_urls: list[str] | tuple[str, ...] | str = (),
                 **kwargs: Any) -> None:
        super().__init__(start_urls, **kwargs)
        self.targets = targets

    async def start(self) -> AsyncIterator[Request]:
        pages: dict[str, list[str]] = {}
        for target in self.targets:
            if target.page_url:
                pages.setdefault(target.page_url, []).append(target.url)
        for page_url, images in pages.items():
            request = self._request(page_url, Kind.PAGE, page_url=None)
            if request is not None:
                request.meta[_TARGETS_META] = images
                yield request
        for target in self.targets:
            if not target.page_url and target.url not in pages:
                request = self._request(target.url, target.kind, page_url=None)
                if request is not None:
                    yield request

    def _follow(self, response: Response, images: list[str], links: list[str],
                inherited: dict[str, Any]) -> Iterator[Request]:
        for image_url in response.meta.get(_TARGETS_META, []):
            request = self._request(image_url, Kind.IMAGE, page_url=response.url, inherited=inherited)
            if request is not None:
                yield request


def explain_targets(targets: list[ExplainTarget], settings: Settings, *,
                    jurisdiction: str | None = None) -> list[Explained]:
    """Run the dry-run crawl of ``targets`` in this process (once per process) and return their records."""
    from crawler.cli import _run_scrapy
    from crawler.policy_runtime import policy_for
    from crawler.startup import preflight

    settings.update({"FAIRCRAWL_DRY_RUN": True, "FAIRCRAWL_PROGRESS_INTERVAL": 0, "LOG_LEVEL": "ERROR",
                     "FAIRCRAWL_EXPLAIN_JURISDICTION": (jurisdiction or "").upper()}, priority="cmdline")
    preflight(settings, dry_run=True)
    _, _, crawler = _run_scrapy([], settings, ExplainSpider, targets=targets)
    recorder = recorder_for(crawler)
    rules = {rule.id: rule for rule in policy_for(crawler).loaded.pack.rules}
    by_url = {record.url: record for record in recorder.records}
    explained = []
    for target in targets:
        record = by_url.get(target.url)
        page = by_url.get(target.page_url) if target.page_url else None
        if record is None and page is not None:  # the crawl never gets to the image: say why with the page's record
            result = Explained(target, page, recorder.policy_revision, rules, [
                f"{target.url} is never requested: its page {target.page_url} is {page.outcome}"])
        elif record is None:
            stopped = crawler.stats.get_value("finish_reason")
            raise ExplainError(f"{target.url} was not decided (the dry-run crawl ended early: {stopped})")
        else:
            result = Explained(target, record, recorder.policy_revision, rules)
        explained.append(result)
    return explained


def _shown_decisions(explained: Explained, purpose: str | None) -> list[tuple[str, Any]]:
    return [(p, d) for p, d in explained.record.decisions if purpose is None or p == purpose]


def format_explanation(explained: Explained, purpose: str | None = None, verbose: bool = False) -> str:
    record = explained.record
    source = (record.jurisdiction_source or "").replace(": ", ": ", 1)
    lines = [f"{record.url}  ({record.kind})", f"policy: {explained.policy_revision}",
             f"jurisdiction: {record.jurisdiction}  (from {source})" if record.jurisdiction else "jurisdiction: not resolved",
             f"outcome: {record.outcome}" + (f"  - {record.policy_summary}" if record.policy_summary else "")]
    lines.append("signals:")
    for name, value in sorted(record.signals.items()):
        if value is not None:
            lines.append(f"  {name} = {value}")
    lines.append("evidence:")
    for reason in record.reasons:
        lines.append(f"  [{reason.source}] {reason.code}: {reason.detail}")
    for note in explained.notes:
        lines.append(f"note: {note}")
    for name, decision in _shown_decisions(explained, purpose):
        lines.append(f"{name}: {decision.effect.upper()}  - {decision.summary}")
        for rule_id in decision.matched_rules:
            rule = explained.rules[rule_id]
            lines.append(f"  matched {rule.effect:<5} {rule_id}  ({rule.source})")
            lines.append(f"        {rule.description.strip()}")
            if rule.citations:
                lines.append(f"        cites: {'; '.join(rule.citations)}")
            if rule.breaches:
                lines.append(f"        breaches: {'; '.join(rule.breaches)}")
        if decision.obligations:
            lines.append(f"  obligations: {dict(decision.obligations)}")
        if verbose:
            for trace in decision.trace:
                if not trace.matched:
                    lines.append(f"  not matched {trace.rule_id}: {trace.why}")
    return "\n".join(lines)


def explanation_dict(explained: Explained, purpose: str | None = None) -> dict[str, Any]:
    """The record as the crawl would store it, plus each purpose's decision with its trace."""
    return {
        **explained.record.as_dict(), "notes": explained.notes,
        "faces": explained.record.signals.get("image.faces"),
        "decisions": [{"purpose": p, "effect": d.effect, "summary": d.summary, "matched_rules": list(d.matched_rules),
                       "obligations": dict(d.obligations), "citations": list(d.citations), "breaches": list(d.breaches),
                       "trace": [{"rule": t.rule_id, "matched": t.matched, "why": t.why} for t in d.trace]}
                      for p, d in _shown_decisions(explained, purpose)],
    }

