"""What a rule pack means, checked before it is used: names, impossible rules, shadowed allows, citations.

The schema has already checked the shape; this checks what the shape cannot
say (OPA and Cedar validate the same way): unknown purposes, signals and
jurisdictions, conditions that can never hold, allows that an unconditional
deny always beats, rules that cite nothing, and citations or breaches that
name no known provision (policy/provisions.py). It runs in about linear time,
so a pack of thousands of rules lints in well under a second.
"""

from __future__ import annotations

import difflib
from typing import Any, Protocol

from policy.engine import Rule
from policy.issues import LintIssue
from policy.jurisdiction import is_known_code, jurisdiction_matches
from policy.provisions import known_provisions
from policy.vocabulary import PURPOSES, SIGNALS


class _Report(Protocol):
    def __call__(self, rule: Rule, severity: str, message: str, hint: str = "", at: str = "") -> None: ...


def lint_rules(rules: list[Rule]) -> list[LintIssue]:
    """Every problem of meaning in a pack's rules: names, impossible conditions, shadowed allows, missing citations."""
    issues: list[LintIssue] = []

    def issue(rule: Rule, severity: str, message: str, hint: str = "", at: str = "") -> None:
        path = rule.source.rsplit(":", 1)[0]
        issues.append(LintIssue(severity, path, rule.line_of(at), message, hint, rule.id))

    for rule in rules:
        for purpose in rule.purposes:
            if purpose not in PURPOSES:
                issue(rule, "error", f"unknown purpose {purpose!r}", f"purposes are {', '.join(PURPOSES)}", "purpose")
        for part, codes in (("jurisdiction", rule.jurisdictions), ("except_jurisdiction", rule.except_jurisdictions)):
            for code in codes:
                if not is_known_code(code):
                    issue(rule, "error", f"unknown jurisdiction {code!r}",
                          "use an ISO 3166 code (FR), a subdivision (US-IL), EU, EEA, UK, UNKNOWN or *", part)
        if rule.jurisdictions and all(any(jurisdiction_matches(j, e) for e in rule.except_jurisdictions)
                                      for j in rule.jurisdictions):
            issue(rule, "error", "can never match: every jurisdiction it names is also excepted", "", "except_jurisdiction")
        _lint_citations(rule, issues)
        if not rule.citations:
            issue(rule, "error", "no citations", "cite the instrument and article, e.g. 'GDPR Art. 9(1)' or 'RFC 9309 §2.3.1.4'",
                  "citations")
        if (rule.effect == "allow" and rule.obligations.get("templates") == "persist"
                and "retention_days" not in rule.obligations):
            issue(rule, "warning", "templates persist with no retention_days: kept indefinitely",
                  "every biometric retention needs a limit (e.g. 740 ILCS 14/15(a): 3 years at most)")
        if rule.effect == "deny" and rule.obligations.get("templates") == "persist":
            issue(rule, "warning", "a deny rule obliging 'persist' has no effect: obligations combine strictest-first")
        _lint_conditions(rule, issue)
    _lint_shadowing(rules, issue)
    for purpose in PURPOSES:
        if rules and not any(r.effect == "allow" and purpose in r.purposes for r in rules):
            first = rules[0]
            path, line = first.source.rsplit(":", 1)
            issues.append(LintIssue("warning", path, int(line), f"no rule ever allows {purpose!r}: it is always denied"))
    return issues


def _lint_citations(rule: Rule, issues: list[LintIssue]) -> None:
    """Every citation and breach must name a known provision (policy/rules/provisions.yaml)."""
    provisions = known_provisions()
    path = rule.source.rsplit(":", 1)[0]
    for part, cited in (("citations", rule.citations), ("breaches", rule.breaches)):
        for index, citation in enumerate(cited):
            what = "citation" if part == "citations" else "breach"
            found = provisions.check(citation, path, rule.line_of(f"{part}.{index}"), what, rule.id)
            if found is not None:
                issues.append(found)


def _lint_conditions(rule: Rule, issue: _Report) -> None:
    bounds: dict[str, dict[str, Any]] = {}
    for condition in rule.conditions:
        at = f"signals.{condition.signal}"

        def flag(severity: str, message: str, hint: str = "", at: str = at) -> None:
            issue(rule, severity, message, hint, at)

        spec = SIGNALS.get(condition.signal)
        if spec is None:
            close = difflib.get_close_matches(condition.signal, list(SIGNALS), n=1)
            flag("error", f"unknown signal {condition.signal!r}",
                  f"did you mean {close[0]!r}?" if close else "signals are listed in policy/vocabulary.py")
            continue
        bounds.setdefault(condition.signal, {})[condition.op] = condition.value
        values = condition.value if condition.op in ("in", "not_in", "contains_any") else [condition.value]
        if condition.op == "present":
            continue
        if condition.op in ("in", "not_in", "contains_any") and not values:
            if condition.op != "not_in":
                flag("error", f"can never match: {condition.signal} {condition.op} an empty list")
            continue
        if condition.op in ("contains", "contains_any") and spec.kind != "list":
            flag("error", f"{condition.op} needs a list signal; {condition.signal} is {spec.kind}")
            continue
        if condition.op in ("gt", "gte", "lt", "lte") and spec.kind != "int":
            flag("error", f"{condition.op} needs a number signal; {condition.signal} is {spec.kind}")
            continue
        if spec.kind == "list" and condition.op in ("equals", "not", "in", "not_in"):
            flag("error", f"{condition.signal} is a list: test it with contains or contains_any")
            continue
        for value in values:
            if spec.kind == "bool" and not isinstance(value, bool):
                flag("error", f"{condition.signal} is true or false, not {value!r}")
            elif spec.kind == "int" and (isinstance(value, bool) or not isinstance(value, int)):
                flag("error", f"{condition.signal} is a number, not {value!r}")
            elif spec.kind in ("str", "list") and spec.values and value not in spec.values:
                flag("error", f"{condition.signal} is never {value!r}", f"its values are {', '.join(spec.values)}")
    for signal, ops in bounds.items():
        low = max([ops[o] + (1 if o == "gt" else 0) for o in ("gt", "gte") if o in ops], default=None)
        high = min([ops[o] - (1 if o == "lt" else 0) for o in ("lt", "lte") if o in ops], default=None)
        if low is not None and high is not None and low > high:
            issue(rule, "error", f"can never match: {signal} cannot be both >= {low} and <= {high}", "", f"signals.{signal}")
        if ops.get("present") is False and len(ops) > 1:
            issue(rule, "error", f"can never match: {signal} is tested although required absent", "", f"signals.{signal}")
        if "equals" in ops and "not" in ops and ops["equals"] == ops["not"]:
            issue(rule, "error", f"can never match: {signal} equals and not {ops['equals']!r}", "", f"signals.{signal}")


def _lint_shadowing(rules: list[Rule], issue: _Report) -> None:
    """An allow that an unconditional deny always beats can never take effect: said once per allow."""
    index = _UnconditionalDenies([r for r in rules if r.effect == "deny" and not r.conditions
                                  and not r.except_jurisdictions])
    for allow in (r for r in rules if r.effect == "allow"):
        shadowing = index.shadowing(allow)
        if not shadowing:
            continue
        first = index.denies[shadowing[0]]
        others = f"; so do {len(shadowing) - 1} other unconditional deny rule(s)" if len(shadowing) > 1 else ""
        issue(allow, "error", f"can never take effect: deny rule {first.id!r} ({first.source}) always matches "
              f"the same requests and deny beats allow{others}", "add conditions to the deny or remove one of the two")
    seen: dict[tuple[Any, ...], Rule] = {}
    for rule in rules:
        key = (rule.effect, rule.purposes, rule.jurisdictions, rule.except_jurisdictions, repr(rule.conditions))
        if key in seen:
            issue(rule, "warning", f"same scope and conditions as rule {seen[key].id!r} ({seen[key].source}): redundant")
        else:
            seen[key] = rule


class _UnconditionalDenies:
    """Denies without conditions, indexed so that finding the ones that cover an allow never compares every pair.

    A deny covers an allow when its purposes include all of the allow's and it
    applies everywhere, or to every jurisdiction the allow names. Answers are
    cached per (purposes, jurisdictions), which packs repeat a lot.
    """

    def __init__(self, denies: list[Rule]) -> None:
        self.denies = denies
        self._everywhere = frozenset(i for i, d in enumerate(denies) if not d.jurisdictions or "*" in d.jurisdictions)
        by_code: dict[str, set[int]] = {}
        for position, deny in enumerate(denies):
            for code in deny.jurisdictions:
                by_code.setdefault(code, set()).add(position)
        self._by_code = {code: frozenset(positions) for code, positions in by_code.items()}
        self._for_purposes: dict[frozenset[str], frozenset[int]] = {}
        self._covering_code: dict[str, frozenset[int]] = {}
        self._answers: dict[tuple[tuple[str, ...], tuple[str, ...]], tuple[int, ...]] = {}

    def shadowing(self, allow: Rule) -> tuple[int, ...]:
        """Positions (in rule order) of the denies that always beat ``allow``."""
        key = (allow.purposes, allow.jurisdictions)
        if key not in self._answers:
            places = self._everywhere
            if allow.jurisdictions:
                places = places | frozenset.intersection(*(self._covering(code) for code in allow.jurisdictions))
            self._answers[key] = tuple(sorted(places & self._with_purposes(frozenset(allow.purposes))))
        return self._answers[key]

    def _with_purposes(self, purposes: frozenset[str]) -> frozenset[int]:
        if purposes not in self._for_purposes:
            self._for_purposes[purposes] = frozenset(i for i, d in enumerate(self.denies) if purposes <= set(d.purposes))
        return self._for_purposes[purposes]

    def _covering(self, code: str) -> frozenset[int]:
        if code not in self._covering_code:
            self._covering_code[code] = frozenset().union(
                *(positions for named, positions in self._by_code.items() if jurisdiction_matches(code, named)))
        return self._covering_code[code]
