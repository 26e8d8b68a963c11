"""Table-driven tests for rule packs (OPA's model): cases live next to the rules.

A case gives a purpose, a jurisdiction (and optionally the operator's, see
:mod:`policy.whose_law`) and signals, and expects an effect,
optionally the exact set of matched rules (``rules``), a subset
(``rules_include``), the exact obligations, and provisions the decision must
cite (``citations_include``), must not cite (``citations_exclude``) or must
record as breached (``breaches_include``). The run fails when a case fails
or when no case ran, and reports the rules that no case matched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policy.engine import Decision
from policy.issues import LintIssue
from policy.jurisdiction import UNKNOWN, is_known_code
from policy.loading import PolicyFileError, line_of, load_yaml_with_lines
from policy.packs import RulePack
from policy.schemas import RULES_DIR, load_schema, schema_issues
from policy.vocabulary import PURPOSES, SIGNALS
from policy.whose_law import decide_for_parties


@dataclass(slots=True)
class CaseResult:
    path: str
    line: int
    name: str
    problems: list[str]
    decision: Decision | None

    @property
    def passed(self) -> bool:
        return not self.problems


@dataclass(slots=True)
class PackTestReport:
    pack: str
    results: list[CaseResult] = field(default_factory=list)
    errors: list[LintIssue] = field(default_factory=list)
    uncovered_rules: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[CaseResult]:
        return [r for r in self.results if not r.passed]

    @property
    def ok(self) -> bool:
        return not self.errors and not self.failed and bool(self.results)


def run_pack_tests(pack: RulePack, test_files: list[Path] | None = None) -> PackTestReport:
    report = PackTestReport(pack.name)
    engine = pack.engine()
    matched_anywhere: set[str] = set()
    for path in test_files if test_files is not None else pack.test_files:
        try:
            document, lines = load_yaml_with_lines(path)
        except PolicyFileError as error:
            report.errors.append(LintIssue.from_error(error))
            continue
        issues = schema_issues(path, document, lines, load_schema(RULES_DIR / "tests.schema.json"), "cases")
        if issues:
            report.errors += issues
            continue
        for index, case in enumerate(document["cases"]):
            line = line_of(lines, ("cases", index))
            result = _run_case(engine, case, str(path), line)
            report.results.append(result)
            if result.decision is not None:
                matched_anywhere.update(result.decision.matched_rules)
    report.uncovered_rules = [r.id for r in pack.rules if r.id not in matched_anywhere]
    return report


def _run_case(engine: Any, case: dict[str, Any], path: str, line: int) -> CaseResult:
    given, expect = case["given"], case["expect"]
    problems: list[str] = []
    if given["purpose"] not in PURPOSES:
        problems.append(f"unknown purpose {given['purpose']!r}")
    jurisdiction = given.get("jurisdiction", UNKNOWN)
    operator = given.get("operator")
    for code in (jurisdiction, *([operator] if operator is not None else [])):
        if not is_known_code(code):
            problems.append(f"unknown jurisdiction {code!r}")
    signals = given.get("signals") or {}
    problems += [f"unknown signal {name!r}" for name in signals if name not in SIGNALS]
    if problems:
        return CaseResult(path, line, case["name"], problems, None)
    decision = decide_for_parties(engine, given["purpose"], jurisdiction.upper(), (operator or jurisdiction).upper(), signals)
    if decision.effect != expect["effect"]:
        problems.append(f"effect: expected {expect['effect']}, got {decision.effect} ({decision.summary})")
    matched = set(decision.matched_rules)
    if "rules" in expect and set(expect["rules"]) != matched:
        problems.append(f"matched rules: expected {sorted(expect['rules'])}, got {sorted(matched)}")
    missing = set(expect.get("rules_include", [])) - matched
    if missing:
        problems.append(f"rules expected to match but did not: {sorted(missing)}")
    problems += _listed(expect, "citations_include", decision.citations, "cite")
    problems += _listed(expect, "breaches_include", decision.breaches, "record as breached")
    wrong = sorted(set(expect.get("citations_exclude", [])) & set(decision.citations))
    if wrong:
        problems.append(f"citations expected absent but cited: {wrong}")
    if "obligations" in expect and dict(expect["obligations"]) != dict(decision.obligations):
        problems.append(f"obligations: expected {expect['obligations']}, got {dict(decision.obligations)}")
    return CaseResult(path, line, case["name"], problems, decision)


def _listed(expect: dict[str, Any], key: str, actual: tuple[str, ...], verb: str) -> list[str]:
    missing = sorted(set(expect.get(key, [])) - set(actual))
    return [f"expected the decision to {verb} {missing}, it has {list(actual)}"] if missing else []
