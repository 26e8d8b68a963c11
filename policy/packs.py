"""Rule packs: read and check a pack, and load it with the registries for use, fingerprinted.

A pack is a folder with ``pack.yaml`` (name, description and three switches,
checked against ``rules/pack.schema.json``), rule files (``*.yaml``, checked
against ``rules/schema.json``) and table-driven tests in ``tests/``.
``--policy`` names a shipped pack or a folder; ``--rules`` adds files. Every
problem is a lint issue with file, line and hint (meaning is checked in
:mod:`policy.lint`); a pack or registry with errors is never used.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policy.engine import Condition, PolicyEngine, Rule
from policy.issues import LintIssue, shown_issues
from policy.jurisdiction import SiteRegistry
from policy.lint import lint_rules
from policy.loading import PolicyError, PolicyFileError, line_of, load_yaml_with_lines
from policy.provisions import breach_issues
from policy.schemas import REGISTRY_DIR, RULES_DIR, load_schema, schema_issues
from policy.terms import TermsRegistry

SHIPPED_PACKS = ("lawful", "unlawful-demo")
DEFAULT_PACK = "lawful"

__all__ = ["DEFAULT_PACK", "REGISTRY_DIR", "RULES_DIR", "SHIPPED_PACKS", "LintIssue", "LoadedPolicy", "PackMeta",
           "RulePack", "lint_registries", "load_policy", "read_pack", "resolve_pack"]


@dataclass(frozen=True, slots=True)
class PackMeta:
    """What pack.yaml says (the folder name and protective switches when it says nothing)."""

    name: str
    description: str = ""
    requires_testsites: bool = False
    follows_nofollow_links: bool = False  # a demonstration pack may ignore nofollow too
    ignores_opt_outs: bool = False  # ... and opt-outs (matches are then recorded as breaches)
    rights_practice: dict[str, Any] | None = None  # ... and answer rights requests as Clearview did


@dataclass(slots=True)
class RulePack:
    name: str
    description: str
    requires_testsites: bool
    rules: list[Rule]
    rule_files: list[Path]
    test_files: list[Path]
    issues: list[LintIssue] = field(default_factory=list)
    follows_nofollow_links: bool = False
    ignores_opt_outs: bool = False
    meta_file: Path | None = None  # pack.yaml, when there is one
    rights_practice: dict[str, Any] | None = None  # how rights requests are answered; None: lawfully, in full

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


def resolve_pack(name_or_path: str | Path) -> Path:
    candidate = Path(name_or_path)
    if str(name_or_path) in SHIPPED_PACKS:
        return RULES_DIR / str(name_or_path)
    if candidate.exists():
        return candidate
    raise PolicyError(f"no rule pack {str(name_or_path)!r}: use one of {', '.join(SHIPPED_PACKS)} "
                      "or the path of a pack folder or rule file")


def read_pack(name_or_path: str | Path, extra_rule_files: list[Path] | tuple[Path, ...] = ()) -> RulePack:
    """Read and lint a pack (never raises for problems in its files: they are in ``issues``)."""
    root = resolve_pack(name_or_path)
    issues: list[LintIssue] = []
    meta_file: Path | None = None
    if root.is_dir():
        rule_files = sorted(p for p in root.glob("*.yaml") if p.name != "pack.yaml")
        test_files = _test_files(root, issues)
        meta_file = root / "pack.yaml" if os.path.lexists(root / "pack.yaml") else None
        meta = _read_meta(meta_file, root.name, issues) if meta_file else PackMeta(root.name)
    else:
        rule_files, test_files, meta = [root], [], PackMeta(root.stem)
    rule_files += [Path(p) for p in extra_rule_files]
    rules: list[Rule] = []
    seen_ids: dict[str, str] = {}
    for path in rule_files:
        for rule in _read_rule_file(path, issues):
            if rule.id in seen_ids:
                file_path, line = rule.source.rsplit(":", 1)
                issues.append(LintIssue("error", file_path, int(line), f"duplicate rule id {rule.id!r}",
                                        f"first defined at {seen_ids[rule.id]}; ids must be unique in a pack", rule.id))
                continue
            seen_ids[rule.id] = rule.source
            rules.append(rule)
    issues += lint_rules(rules)
    if not rules and not any(i.severity == "error" for i in issues):
        issues.append(LintIssue("error", str(root), 1, "no rules found", "a pack needs at least one allow rule"))
    return RulePack(meta.name, meta.description, meta.requires_testsites, rules, rule_files, test_files, issues,
                    meta.follows_nofollow_links, meta.ignores_opt_outs, meta_file, meta.rights_practice)


def load_policy(name_or_path: str | Path = DEFAULT_PACK, extra_rule_files: list[Path] | tuple[Path, ...] = (),
                site_registries: list[Path] | None = None, terms_registries: list[Path] | None = None) -> LoadedPolicy:
    """Load a pack and the registries for use; any error in any of them makes this raise PolicyError."""
    pack = read_pack(name_or_path, extra_rule_files)
    sites_paths = site_registries if site_registries is not None else [REGISTRY_DIR / "sites.yaml"]
    terms_paths = terms_registries if terms_registries is not None else [REGISTRY_DIR / "terms.yaml"]
    sites, site_issues = SiteRegistry.read(sites_paths)
    terms, terms_issues = TermsRegistry.read(terms_paths)
    registry_errors = [i for i in (*site_issues, *terms_issues) if i.severity == "error"]
    problems: list[str] = []
    if pack.errors:
        problems += [f"rule pack {pack.name!r} has {len(pack.errors)} error(s); nothing runs under it:",
                     *shown_issues(pack.errors)]
    if registry_errors:
        problems += [f"the registries have {len(registry_errors)} error(s); nothing runs under them:",
                     *shown_issues(registry_errors)]
    if problems:
        raise PolicyError("\n".join(problems))
    files = [*([pack.meta_file] if pack.meta_file else []), *pack.rule_files, *sites_paths, *terms_paths]
    return LoadedPolicy(pack, sites, terms, f"{pack.name}@{_fingerprint(files)}", pack.engine())


def lint_registries(site_registries: list[Path], terms_registries: list[Path]) -> list[LintIssue]:
    """Every problem of the site and terms registries, for `policy lint`."""
    return [*SiteRegistry.read(site_registries)[1], *TermsRegistry.read(terms_registries)[1]]


def _fingerprint(paths: list[Path]) -> str:
    """The revision: a hash of the name and bytes of every file that decides."""
    digest = hashlib.sha256()
    for path in paths:
        try:
            content = Path(path).read_bytes()
        except OSError as error:  # it was read a moment ago: changed or removed since
            raise PolicyError(f"{path}: changed while it was being loaded ({error.strerror}); try again") from None
        digest.update(Path(path).name.encode() + b"\0" + content)
    return digest.hexdigest()[:16]


# -- one file -------------------------------------------------------------------


def _display(path: Path) -> str:
    """Paths as the user gave them, or relative to the working folder when under it (links are not followed)."""
    absolute = Path(os.path.abspath(path))
    return str(absolute.relative_to(Path.cwd())) if absolute.is_relative_to(Path.cwd()) else str(path)


def _test_files(root: Path, issues: list[LintIssue]) -> list[Path]:
    folder = root / "tests"
    if not os.path.lexists(folder):
        return []
    try:
        is_folder = stat.S_ISDIR(os.stat(folder).st_mode)
    except OSError as error:
        issues.append(LintIssue("error", _display(folder), 1, f"the tests folder cannot be read ({error.strerror})",
                                "tests/ holds the pack's cases; fix or remove it"))
        return []
    if not is_folder:
        issues.append(LintIssue("error", _display(folder), 1, "tests is not a folder",
                                "tests/ holds the pack's cases as *.yaml files"))
        return []
    return sorted(folder.glob("*.yaml"))


def _read_meta(path: Path, folder_name: str, issues: list[LintIssue]) -> PackMeta:
    """pack.yaml checked against its schema; a pack.yaml with errors yields the protective switches."""
    shown = _display(path)
    try:
        document, lines = load_yaml_with_lines(Path(shown))
    except PolicyFileError as error:
        issues.append(LintIssue.from_error(error))
        return PackMeta(folder_name, requires_testsites=True)
    document = {} if document is None else document
    problems = schema_issues(shown, document, lines, load_schema(RULES_DIR / "pack.schema.json"))
    if problems:
        issues += problems
        return PackMeta(folder_name, requires_testsites=True)
    breaches = (document.get("rights_practice") or {}).get("breaches") or {}
    issues += breach_issues(shown, breaches, lines, ("rights_practice", "breaches"))
    return PackMeta(**{"name": folder_name, **document})


def _read_rule_file(path: Path, issues: list[LintIssue]) -> list[Rule]:
    shown = _display(path)
    try:
        document, lines = load_yaml_with_lines(Path(shown))
    except PolicyFileError as error:
        issues.append(LintIssue.from_error(error))
        return []
    problems = schema_issues(shown, document, lines, load_schema(RULES_DIR / "schema.json"))
    if problems:
        issues += problems
        return []
    rules = []
    for index, item in enumerate(document["rules"]):
        where = ("rules", index)
        locations = {part: line_of(lines, (*where, "when", part)) for part in ("purpose", "jurisdiction", "except_jurisdiction")}
        locations |= {f"signals.{name}": line_of(lines, (*where, "when", "signals", name))
                      for name in (item["when"].get("signals") or {})}
        locations["citations"] = line_of(lines, (*where, "citations"))
        for part in ("citations", "breaches"):
            locations |= {f"{part}.{i}": line_of(lines, (*where, part, i)) for i in range(len(item.get(part) or ()))}
        rules.append(_build_rule(item, f"{shown}:{line_of(lines, where)}", locations))
    return rules


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
