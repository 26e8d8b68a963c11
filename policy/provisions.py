"""Known provisions (``rules/provisions.yaml``): every citation and breach in a pack must name one.

A citation is a provision id, optionally followed by a note in parentheses:
``GDPR Art. 9(1) (wherever the person lives in the EU)``. Anything else is a
lint warning at its file and line with the nearest known id as a hint, so a
miscited article is caught before the pack is used.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from policy.issues import LintIssue
from policy.loading import PathKey, PolicyFileError, line_of, load_yaml_with_lines
from policy.schemas import RULES_DIR, load_schema, schema_issues

PROVISIONS_FILE = RULES_DIR / "provisions.yaml"


@dataclass(frozen=True, slots=True)
class Provision:
    id: str
    instrument: str
    title: str
    source: str
    unverified: str | None = None


@dataclass(frozen=True, slots=True)
class Provisions:
    by_id: dict[str, Provision]
    issues: tuple[LintIssue, ...] = ()

    def find(self, citation: str) -> Provision | None:
        """The provision ``citation`` names: its id exactly, or its id followed by `` (note)``."""
        text = citation.strip()
        if text in self.by_id:
            return self.by_id[text]
        if not text.endswith(")"):
            return None
        cut = text.rfind(" (")
        while cut > 0:  # the longest id before a note: "Directive (EU) 2019/790 Art. 4(3) (note)"
            if text[:cut] in self.by_id:
                return self.by_id[text[:cut]]
            cut = text.rfind(" (", 0, cut)
        return None

    def check(self, citation: str, path: str, line: int, what: str, rule_id: str | None = None) -> LintIssue | None:
        """A warning when ``citation`` names no known provision; None when it does."""
        if self.find(citation) is not None:
            return None
        close = _closest(citation.split(" (")[0][:200], tuple(self.by_id))
        hint = (f"did you mean {close[0]!r}? " if close else "") + (
            f"cite a provision listed in {PROVISIONS_FILE.name} (add it there with its instrument, title and source), "
            "optionally followed by a note in parentheses")
        return LintIssue("warning", path, line, f"{what} {citation!r:.120} is not a known provision", hint, rule_id)


@lru_cache(maxsize=4096)
def _closest(text: str, ids: tuple[str, ...]) -> list[str]:
    """The known id nearest to a miscitation (cached: a big pack repeats the same few)."""
    return difflib.get_close_matches(text, ids, n=1, cutoff=0.7)


@cache
def known_provisions(path: Path = PROVISIONS_FILE) -> Provisions:
    """The known provisions; problems of the file itself are in ``issues`` (never raises)."""
    try:
        document, lines = load_yaml_with_lines(path)
    except PolicyFileError as error:
        return Provisions({}, (LintIssue.from_error(error),))
    problems = schema_issues(path, document, lines, load_schema(RULES_DIR / "provisions.schema.json"), "provisions")
    if problems:
        return Provisions({}, tuple(problems))
    found: dict[str, Provision] = {}
    issues: list[LintIssue] = []
    for index, item in enumerate(document["provisions"]):
        if item["id"] in found:
            issues.append(LintIssue("error", str(path), line_of(lines, ("provisions", index)),
                                    f"provision {item['id']!r} is listed twice", "keep one entry per id"))
        found.setdefault(item["id"], Provision(**item))
    return Provisions(found, tuple(issues))


def breach_issues(path: str, breaches: dict[str, list[str]], lines: dict[PathKey, int], where: PathKey) -> list[LintIssue]:
    """Warnings for pack.yaml ``rights_practice.breaches`` that name no known provision."""
    provisions = known_provisions()
    issues = []
    for name, cited in breaches.items():
        for index, citation in enumerate(cited):
            issue = provisions.check(citation, path, line_of(lines, (*where, name, index)), "breach")
            if issue is not None:
                issues.append(issue)
    return issues
