"""Decide: which rules match a context, and what follows from them.

Semantics (Cedar's): nothing is allowed unless a rule allows it; any matching
deny beats every allow; obligations of all matching rules combine and the
strictest wins (templates none < transient < persist, face images exclude <
store, the shortest retention). Every decision carries a trace saying, for
each rule of the purpose, whether it matched or which condition failed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from policy.jurisdiction import jurisdiction_matches
from policy.vocabulary import DAY_LIMITS, OBLIGATION_ORDER

Signals = Mapping[str, Any]


def to_json(value: Any) -> str:
    return json.dumps(value, default=lambda o: sorted(o) if isinstance(o, (set, frozenset)) else str(o))


@dataclass(frozen=True, slots=True)
class Condition:
    """One test of one signal: ``op`` is equals, not, in, not_in, contains, contains_any, gt, gte, lt, lte or present."""

    signal: str
    op: str
    value: Any

    def holds(self, signals: Signals) -> bool:
        actual = signals.get(self.signal)
        if self.op == "present":
            return (actual is not None) is bool(self.value)
        if self.op == "not":
            return bool(actual != self.value)
        if self.op == "not_in":
            return actual not in self.value
        if actual is None:
            return False
        if self.op == "equals":
            return bool(actual == self.value)
        if self.op == "in":
            return actual in self.value
        if self.op == "contains":
            return self.value in actual
        if self.op == "contains_any":
            return any(item in actual for item in self.value)
        try:
            return bool({"gt": actual > self.value, "gte": actual >= self.value,
                         "lt": actual < self.value, "lte": actual <= self.value}[self.op])
        except TypeError:
            return False

    def describe(self) -> str:
        return f"{self.signal} {self.op} {to_json(self.value)}"


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    description: str
    effect: str  # allow | deny
    purposes: tuple[str, ...]
    jurisdictions: tuple[str, ...]  # empty: any
    except_jurisdictions: tuple[str, ...]
    conditions: tuple[Condition, ...]
    obligations: Mapping[str, Any]
    citations: tuple[str, ...]
    breaches: tuple[str, ...]
    source: str  # file:line, for explanations and lint
    locations: Mapping[str, int] = field(default_factory=dict, compare=False)  # "signals.x" -> line

    def line_of(self, part: str) -> int:
        return self.locations.get(part) or int(self.source.rsplit(":", 1)[1])

    def covers_jurisdiction(self, code: str) -> bool:
        if self.jurisdictions and not any(jurisdiction_matches(code, j) for j in self.jurisdictions):
            return False
        return not any(jurisdiction_matches(code, j) for j in self.except_jurisdictions)


@dataclass(frozen=True, slots=True)
class PolicyContext:
    """What a decision is about: purpose, jurisdiction and typed signals (see policy.vocabulary)."""

    purpose: str
    jurisdiction: str
    signals: Signals = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RuleTrace:
    """Whether one rule matched, and if not, what failed (formatted only when read)."""

    rule_id: str
    effect: str
    matched: bool
    failed_condition: Condition | None = None
    failed_value: Any = None
    jurisdiction: str | None = None  # set when the rule does not cover the jurisdiction

    @property
    def why(self) -> str:
        if self.matched:
            return "all conditions hold"
        if self.failed_condition is None:
            return f"jurisdiction {self.jurisdiction} not covered"
        return f"{self.failed_condition.describe()} is false (value: {to_json(self.failed_value)})"


@dataclass(frozen=True, slots=True)
class Decision:
    effect: str  # allow | deny
    matched_rules: tuple[str, ...]
    deciding_rules: tuple[str, ...]  # the denies that won, or the allows when nothing denied
    obligations: Mapping[str, Any]
    citations: tuple[str, ...]
    breaches: tuple[str, ...]
    trace: tuple[RuleTrace, ...]
    summary: str
    law: str = ""  # whose law decided, when more than one party's was asked (policy.whose_law)

    @property
    def allowed(self) -> bool:
        return self.effect == "allow"


def combine_obligations(rules: list[Rule]) -> dict[str, Any]:
    """The strictest of every obligation the rules impose."""
    combined: dict[str, Any] = {}
    for rule in rules:
        _add_obligations(combined, rule.obligations)
    return combined


def _add_obligations(combined: dict[str, Any], more: Mapping[str, Any]) -> None:
    for name, value in more.items():
        if name not in combined:
            combined[name] = value
        elif name in OBLIGATION_ORDER:
            combined[name] = min(combined[name], value, key=OBLIGATION_ORDER[name].index)
        elif name in DAY_LIMITS:
            combined[name] = min(combined[name], value)
        else:
            combined[name] = bool(combined[name]) or bool(value)


def combine_two(first: Decision, second: Decision) -> Decision:
    """Two allows of one request under two laws: the rules of both, the strictest obligations of both."""
    obligations = dict(first.obligations)
    _add_obligations(obligations, second.obligations)

    def union(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*a, *b)))

    return Decision(first.effect, union(first.matched_rules, second.matched_rules),
                    union(first.deciding_rules, second.deciding_rules), obligations,
                    union(first.citations, second.citations), union(first.breaches, second.breaches),
                    (*first.trace, *second.trace), first.summary)


class PolicyEngine:
    """Evaluates contexts against a list of rules (a loaded rule pack)."""

    def __init__(self, rules: list[Rule]) -> None:
        self.rules = rules
        self._by_purpose: dict[str, list[Rule]] = {}
        for rule in rules:
            for purpose in rule.purposes:
                self._by_purpose.setdefault(purpose, []).append(rule)

    def decide(self, context: PolicyContext) -> Decision:
        matched: list[Rule] = []
        trace: list[RuleTrace] = []
        signals = context.signals
        for rule in self._by_purpose.get(context.purpose, []):
            if not rule.covers_jurisdiction(context.jurisdiction):
                trace.append(RuleTrace(rule.id, rule.effect, False, jurisdiction=context.jurisdiction))
                continue
            failed = next((c for c in rule.conditions if not c.holds(signals)), None)
            if failed is None:
                trace.append(RuleTrace(rule.id, rule.effect, True))
                matched.append(rule)
            else:
                trace.append(RuleTrace(rule.id, rule.effect, False, failed, signals.get(failed.signal)))
        denies = [r for r in matched if r.effect == "deny"]
        allows = [r for r in matched if r.effect == "allow"]
        if denies:
            effect, deciding = "deny", denies
            summary = "denied by " + ", ".join(r.id for r in denies) + (
                f" (overrides allow {', '.join(r.id for r in allows)})" if allows else "")
        elif allows:
            effect, deciding = "allow", allows
            summary = "allowed by " + ", ".join(r.id for r in allows)
        else:
            effect, deciding = "deny", []
            summary = f"no rule allows {context.purpose} in {context.jurisdiction}: denied by default"
        citations = tuple(dict.fromkeys(c for r in (denies or allows) for c in r.citations))
        breaches = tuple(dict.fromkeys(b for r in matched for b in r.breaches))
        return Decision(effect, tuple(r.id for r in matched), tuple(r.id for r in deciding),
                        combine_obligations(matched), citations, breaches, tuple(trace), summary)
