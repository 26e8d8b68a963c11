"""The decision record: the one place that builds it, for the crawl, the report and `policy explain`.

A record says why one page or image ended as it did: the reasons (every signal
that said something, and the rules that decided), the policy revision,
jurisdiction, signals, matched rules, effect, obligations, citations and, under
an unlawful pack, the provisions breached. The crawl writes :meth:`DecisionRecord.row`,
the report reads rows back with :meth:`DecisionRecord.from_row`, and `policy
explain` prints a record built by the same code without storing it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from policy import Kind, Outcome, Reason
from policy.engine import Decision
from policy.jurisdiction import Jurisdiction

#: A decision keeps at most this many reasons; the rest are counted in a last one (a hostile page can produce thousands).
MAX_REASONS = 50
#: Codes of reasons that describe the crawl's own bookkeeping rather than the image (explain never sees them).
CRAWL_CONTEXT_CODES = frozenset({"faces.known_image"})


def now() -> datetime:
    return datetime.now(UTC)


class _RecordIds:
    """Random (version 4) UUIDs from one ``os.urandom`` call per 256: a crawl makes one per response.

    The same randomness as ``uuid.uuid4`` (which costs a system call each, measurable in a crawl); a forked child
    starts a pool of its own, so no id is ever handed out twice.
    """

    BATCH = 256

    def __init__(self) -> None:
        self._forget()
        os.register_at_fork(after_in_child=self._forget)

    def _forget(self) -> None:
        self._lock = threading.Lock()
        self._pool = b""
        self._used = 0

    def next_hex(self) -> str:
        with self._lock:
            if self._used >= len(self._pool):
                self._pool, self._used = os.urandom(16 * self.BATCH), 0
            raw = bytearray(self._pool[self._used:self._used + 16])
            self._used += 16
        raw[6] = raw[6] & 0x0F | 0x40  # version 4, as uuid.UUID(bytes=raw, version=4) sets it (RFC 9562 §5.4)
        raw[8] = raw[8] & 0x3F | 0x80  # the RFC 4122/9562 variant
        return raw.hex()


new_record_id = _RecordIds().next_hex


def capped_reasons(reasons: Iterable[Reason]) -> list[Reason]:
    """The same evidence once, in order, at most MAX_REASONS.

    When there are more, the middle ones go (a count stands in their place): the
    first are what was observed first, the last are the rules and the outcome
    that decided, and both must stay.
    """
    unique = list({(r.code, r.detail): r for r in reasons}.values())
    if len(unique) <= MAX_REASONS:
        return unique
    head = MAX_REASONS // 2 - 1
    tail = MAX_REASONS - head - 1
    left_out = len(unique) - head - tail
    marker = Reason("faircrawl", "reasons.truncated", f"{left_out} more reason(s) not kept (at most {MAX_REASONS})",
                    {"left_out": left_out})
    return [*unique[:head], marker, *unique[-tail:]]


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    id: str
    run_id: str | None
    decided_at: datetime
    fetched_at: datetime | None
    kind: str
    outcome: str
    url: str
    final_url: str | None
    page_url: str | None
    reasons: tuple[Reason, ...]
    policy_revision: str
    jurisdiction: str | None
    jurisdiction_source: str | None
    signals: Mapping[str, Any]
    matched_rules: tuple[str, ...]
    effect: str
    obligations: Mapping[str, Any]
    citations: tuple[str, ...]
    breaches: tuple[str, ...]
    policy_summary: str | None
    #: The policy decisions behind the record, by purpose (for `policy explain -v`); never stored.
    decisions: tuple[tuple[str, Decision], ...] = field(default=(), compare=False)

    @classmethod
    def build(cls, *, run_id: str | None, policy_revision: str, kind: Kind | str, outcome: Outcome, url: str,
              reasons: Iterable[Reason], page_url: str | None = None, final_url: str | None = None,
              signals: Mapping[str, Any] | None = None, jurisdiction: Jurisdiction | None = None,
              decision: Decision | None = None, fetch_decision: Decision | None = None,
              obligations: Mapping[str, Any] | None = None, breaches: Sequence[str] = (),
              fetched_at: datetime | None = None,
              decisions: Sequence[tuple[str, Decision]] = ()) -> DecisionRecord:
        """Assemble a record; ``fetch_decision`` (why the request was sent) adds its rules and breaches."""
        kept = tuple(capped_reasons(reasons))
        decided_by = [d for d in (fetch_decision, decision) if d is not None and d is not decision] + (
            [decision] if decision is not None else [])
        citations = list(decision.citations) if decision else []
        citations += [c for r in kept if isinstance(c := r.evidence.get("citation"), str) and c not in citations]
        return cls(
            id=new_record_id(), run_id=run_id, decided_at=now(), fetched_at=fetched_at, kind=Kind(kind).value,
            outcome=outcome.value, url=url, final_url=final_url if final_url != url else None, page_url=page_url,
            reasons=kept, policy_revision=policy_revision,
            jurisdiction=jurisdiction.code if jurisdiction else None,
            jurisdiction_source=f"{jurisdiction.source}: {jurisdiction.evidence}" if jurisdiction else None,
            signals=_jsonable(signals or {}),
            matched_rules=tuple(dict.fromkeys(r for d in decided_by for r in d.matched_rules)),
            effect="deny" if outcome is Outcome.REFUSED else "allow",
            obligations=dict(obligations if obligations is not None else decision.obligations if decision else {}),
            citations=tuple(citations),
            breaches=tuple(dict.fromkeys((*(b for d in decided_by for b in d.breaches), *breaches))),
            policy_summary=decision.summary if decision else None,
            decisions=tuple(decisions),
        )

    def row(self) -> dict[str, Any]:
        """The ``decisions`` table row."""
        return {
            "id": self.id, "run_id": self.run_id, "decided_at": self.decided_at, "fetched_at": self.fetched_at,
            "kind": self.kind, "outcome": self.outcome, "url": self.url, "final_url": self.final_url,
            "page_url": self.page_url, "reasons": [r.as_dict() for r in self.reasons],
            "policy_revision": self.policy_revision, "jurisdiction": self.jurisdiction,
            "jurisdiction_source": self.jurisdiction_source, "signals": dict(self.signals),
            "matched_rules": list(self.matched_rules), "effect": self.effect, "obligations": dict(self.obligations),
            "citations": list(self.citations), "breaches": list(self.breaches), "policy_summary": self.policy_summary,
        }

    @classmethod
    def from_row(cls, row: Any) -> DecisionRecord:
        """A record read back from a ``decisions`` row (storage.models.DecisionRecord)."""
        return cls(
            id=row.id, run_id=row.run_id, decided_at=row.decided_at, fetched_at=row.fetched_at, kind=row.kind,
            outcome=row.outcome, url=row.url, final_url=row.final_url, page_url=row.page_url,
            reasons=tuple(Reason(r["source"], r["code"], r["detail"], r.get("evidence") or {}) for r in row.reasons),
            policy_revision=row.policy_revision, jurisdiction=row.jurisdiction,
            jurisdiction_source=row.jurisdiction_source, signals=row.signals or {},
            matched_rules=tuple(row.matched_rules or ()), effect=row.effect, obligations=row.obligations or {},
            citations=tuple(row.citations or ()), breaches=tuple(row.breaches or ()), policy_summary=row.policy_summary,
        )

    def as_dict(self) -> dict[str, Any]:
        """The record as the JSON report and `policy explain --json` show it."""
        shown = self.row()
        del shown["run_id"]
        shown["decided_at"] = self.decided_at.isoformat()
        shown["fetched_at"] = self.fetched_at.isoformat() if self.fetched_at else None
        return shown

    @property
    def codes(self) -> list[str]:
        return [r.code for r in self.reasons]


def _jsonable(signals: Mapping[str, Any]) -> dict[str, Any]:
    return {k: sorted(v) if isinstance(v, (set, frozenset)) else v for k, v in signals.items()}
