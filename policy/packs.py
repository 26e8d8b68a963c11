"""Rule packs: load, validate against the JSON Schema, lint, and fingerprint them.

A pack is a folder with ``pack.yaml`` (name, description, whether it may only
run against the test sites), rule files (``*.yaml``) and table-driven tests in
``tests/``. ``--policy`` names a shipped pack or a folder; ``--rules`` adds
files. Errors name file, line and rule, with a hint; a pack with errors is
never used.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from policy.engine import Condition, PolicyEngine, Rule
from policy.jurisdiction import SiteRegistry, is_known_code, jurisdiction_matches
from policy.loading import PathKey, PolicyError, PolicyFileError, line_of, load_yaml_with_lines
from policy.terms import TermsRegistry
from policy.vocabulary import PURPOSES, SIGNALS

RULES_DIR = Path(__file__).with_name("rules")
REGISTRY_DIR = Path(__file__).with_name("registry")
SHIPPED_PACKS = ("lawful", "unlawful-demo")
DEFAULT_PACK = "lawful"
_OPS = ("equals", "not", "in", "not_in", "contains", "contains_any", "gt", "gte", "lt", "lte", "present")


@dataclass(frozen=True, slots=True)
class LintIssue:
    severity: str  # error | warning
    path: str
    line: int
    message: str
    hint: str = ""
    rule_id: str | None = None

    def __str__(self) -> str:
        rule = f" [rule {self.rule_id}]" if self.rule_id else ""
        hint = f"\n    hint: {self.hint}" if self.hint else ""
        return f"{self.path}:{self.line}: {self.severity}: {self.message}{rule}{hint}"


@dataclass(slots=True)
class RulePack:
    name: str
    description: str
    requires_testsites: bool
    rules: list[Rule]
    rule_files: list[Path]
    test_files: list[Path]
    issues: list[LintIssue] = field(default_factory=list)
    follows_nofollow_links: bool = False  # a demonstration pack may ignore nofollow too
    ignores_opt_outs: bool = False  # ... and opt-outs (matches are then recorded as breaches)

    @property
    def errors(self) -> list[LintIssue]:
        return [i for i in self.issues if i.severity == "error"]

    def engine(self) -> PolicyEngine:
        return PolicyEngine(self.rules)


@dataclass(slots=True)
class LoadedPolicy:
    """Everything that decides: the pack, the registries, and the revision that fingerprints them all."""

    pack: RulePack
    sites: SiteRegistry
    terms: TermsRegistry
    revision: str
    engine: PolicyEngine


@cache
def _schema(name: str) -> dict[str, Any]:
    return json.loads((RULES_DIR / name).read_text())


def resolve_pack(name_or_path: str | Path) -> Path:
    candidate = Path(name_or_path)
    if str(name_or_path) in SHIPPED_PACKS:
        return RULES_DIR / str(name_or_path)
    if candidate.exists():
        return candidate
    raise PolicyError(f"no rule pack {str(name_or_path)!r}: use one of {', '.join(SHIPPED_PACKS)} "
                      "or the path of a pack folder or rule file")


def read_pack(name_or_path: str | Path, extra_rule_files: list[Path] | tuple[Path, ...] = ()) -> RulePack:
    """Read and lint a pack (never raises for problems in the rules: they are in ``issues``)."""
    root = resolve_pack(name_or_path)
    meta: dict[str, Any] = {}
    issues: list[LintIssue] = []
    if root.is_dir():
        rule_files = sorted(p for p in root.glob("*.yaml") if p.name != "pack.yaml")
        test_files = sorted((root / "tests").glob("*.yaml")) if (root / "tests").is_dir() else []
        if (root / "pack.yaml").exists():
            try:
                loaded, _ = load_yaml_with_lines(root / "pack.yaml")
                meta = loaded if isinstance(loaded, dict) else {}
            except PolicyFileError as error:
                issues.append(LintIssue("error", error.path, error.line, error.problem, error.hint))
    else:
        rule_files, test_files = [root], []
    rule_files += [Path(p) for p in extra_rule_files]
    rules: list[Rule] = []
    seen_ids: dict[str, str] = {}
    for path in rule_files:
        file_rules, file_issues = _read_rule_file(path)
        issues += file_issues
        for rule in file_rules:
            if rule.id in seen_ids:
                file_path, line = rule.source.rsplit(":", 1)
                issues.append(LintIssue("error", file_path, int(line), f"duplicate rule id {rule.id!r}",
                                        f"first defined at {seen_ids[rule.id]}; ids must be unique in a pack", rule.id))
                continue
            seen_ids[rule.id] = rule.source
            rules.append(rule)
    issues += _semantic_lint(rules)
    if not rules and not any(i.severity == "error" for i in issues):
        issues.append(LintIssue("error", str(root), 1, "no rules found", "a pack needs at least one allow rule"))
    name = str(meta.get("name") or (root.name if root.is_dir() else root.stem))
    return RulePack(name, str(meta.get("description", "")), bool(meta.get("requires_testsites", False)),
                    rules, rule_files, test_files, issues, bool(meta.get("follows_nofollow_links", False)),
                    bool(meta.get("ignores_opt_outs", False)))


def load_policy(name_or_path: str | Path = DEFAULT_PACK, extra_rule_files: list[Path] | tuple[Path, ...] = (),
                site_registries: list[Path] | None = None, terms_registries: list[Path] | None = None) -> LoadedPolicy:
    """Load a pack and the registries for use; any lint error makes this raise PolicyError."""
    pack = read_pack(name_or_path, extra_rule_files)
    if pack.errors:
        raise PolicyError(f"rule pack {pack.name!r} has {len(pack.errors)} error(s); nothing runs under it:\n"
                          + "\n".join(str(e) for e in pack.errors))
    sites_paths = site_registries if site_registries is not None else [REGISTRY_DIR / "sites.yaml"]
    terms_paths = terms_registries if terms_registries is not None else [REGISTRY_DIR / "terms.yaml"]
    sites = SiteRegistry.load(sites_paths)
    terms = TermsRegistry.load(terms_paths)
    digest = hashlib.sha256()
    pack_meta = [resolve_pack(name_or_path) / "pack.yaml"] if (resolve_pack(name_or_path) / "pack.yaml").exists() else []
    for path in [*pack_meta, *pack.rule_files, *sites_paths, *terms_paths]:
        digest.update(Path(path).name.encode() + b"\0" + Path(path).read_bytes())
    return LoadedPolicy(pack, sites, terms, f"{pack.name}@{digest.hexdigest()[:16]}", pack.engine())


# -- one file -------------------------------------------------------------------


def _display(path: Path) -> str:
    """A short path for messages: relative to the working folder or to the project, if it is under one."""
    resolved = Path(path).resolve()
    for base in (Path.cwd(), RULES_DIR.parent.parent):
        try:
            return str(resolved.relative_to(base))
        except ValueError:
            continue
    return str(path)


def _read_rule_file(path: Path) -> tuple[list[Rule], list[LintIssue]]:
    path = Path(_display(path)) if not Path(_display(path)).is_absolute() and Path(_display(path)).exists() else path
    try:
        document, lines = load_yaml_with_lines(path)
    except PolicyFileError as error:
        return [], [LintIssue("error", error.path, error.line, error.problem, error.hint)]
    issues = _schema_issues(path, document, lines, _schema("schema.json"))
    if issues:
        return [], issues
    rules = []
    for index, item in enumerate(document["rules"]):
        where = ("rules", index)
        locations = {part: line_of(lines, (*where, "when", part)) for part in ("purpose", "jurisdiction", "except_jurisdiction")}
        locations |= {f"signals.{name}": line_of(lines, (*where, "when", "signals", name))
                      for name in (item["when"].get("signals") or {})}
        locations["citations"] = line_of(lines, (*where, "citations"))
        rules.append(_build_rule(item, f"{path}:{line_of(lines, where)}", locations))
    return rules, []


def _schema_issues(path: Path, document: Any, lines: dict[PathKey, int], schema: dict[str, Any]) -> list[LintIssue]:
    issues = []
    validator = jsonschema.Draft202012Validator(schema)
    for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path))):
        where: PathKey = tuple(error.absolute_path)
        message, hint = error.message, ""
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = set(error.schema.get("properties", {}))
            extras = [k for k in error.instance if k not in allowed]
            if extras:
                where = (*where, extras[0])
                close = difflib.get_close_matches(str(extras[0]), sorted(allowed), n=1)
                message = f"unknown field {extras[0]!r}"
                hint = (f"did you mean {close[0]!r}? " if close else "") + f"allowed here: {', '.join(sorted(allowed))}"
        elif error.validator == "oneOf" and where and where[-1] in ("purpose", "jurisdiction", "except_jurisdiction"):
            message, hint = f"{where[-1]} must be a name or a list of names", "e.g. jurisdiction: [EU, GB]"
        elif error.validator == "type":
            hint = f"expected {error.validator_value}"
        rule_id = None
        if len(where) >= 2 and where[0] == "rules" and isinstance(where[1], int):
            rules = document.get("rules") if isinstance(document, dict) else None
            if isinstance(rules, list) and where[1] < len(rules) and isinstance(rules[where[1]], dict):
                rule_id = rules[where[1]].get("id")
        issues.append(LintIssue("error", str(path), line_of(lines, where), message, hint, rule_id))
    return issues


def _names(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def _build_rule(item: dict[str, Any], source: str, locations: dict[str, int]) -> Rule:
    when = item["when"]
    conditions = []
    for signal, test in (when.get("signals") or {}).items():
        if isinstance(test, dict):
            conditions += [Condition(signal, op, value) for op, value in test.items()]
        else:
            conditions.append(Condition(signal, "equals", test))
    return Rule(
        id=item["id"], description=item["description"], effect=item["effect"],
        purposes=_names(when.get("purpose")), jurisdictions=tuple(j.upper() for j in _names(when.get("jurisdiction"))),
        except_jurisdictions=tuple(j.upper() for j in _names(when.get("except_jurisdiction"))),
        conditions=tuple(conditions), obligations=dict(item.get("obligations") or {}),
        citations=tuple(item.get("citations") or ()), breaches=tuple(item.get("breaches") or ()), source=source,
        locations=locations,
    )


# -- meaning ----------------------------------------------------------------------


def _semantic_lint(rules: list[Rule]) -> list[LintIssue]:
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


def _lint_conditions(rule: Rule, issue: Any) -> None:
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


def _lint_shadowing(rules: list[Rule], issue: Any) -> None:
    """An allow that an unconditional deny always beats can never take effect."""
    for deny in (r for r in rules if r.effect == "deny" and not r.conditions and not r.except_jurisdictions):
        for allow in (r for r in rules if r.effect == "allow"):
            if not set(allow.purposes) <= set(deny.purposes):
                continue
            covered = not deny.jurisdictions or "*" in deny.jurisdictions or (allow.jurisdictions and all(
                any(jurisdiction_matches(j, d) for d in deny.jurisdictions) for j in allow.jurisdictions))
            if covered:
                issue(allow, "error", f"can never take effect: deny rule {deny.id!r} ({deny.source}) always matches "
                      "the same requests and deny beats allow", "add conditions to the deny or remove one of the two")
    seen: dict[tuple[Any, ...], Rule] = {}
    for rule in rules:
        key = (rule.effect, rule.purposes, rule.jurisdictions, rule.except_jurisdictions, repr(rule.conditions))
        if key in seen:
            issue(rule, "warning", f"same scope and conditions as rule {seen[key].id!r} ({seen[key].source}): redundant")
        else:
            seen[key] = rule
