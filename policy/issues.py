"""Lint issues: one problem in one policy file, at one line, with a hint; and how many of them to print.

Packs, their tests and the registries all report through this one shape, so
`faircrawl policy lint` prints every kind of problem as ``path:line: error: ...``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from policy.errors import PolicyError, PolicyFileError

#: Issues printed per file before the rest are summarised as "... and N more".
MAX_ISSUES_SHOWN_PER_FILE = 50


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

    @classmethod
    def from_error(cls, error: PolicyFileError) -> LintIssue:
        return cls("error", error.path, error.line, error.problem, error.hint)


def shown_issues(issues: Iterable[LintIssue], per_file: int = MAX_ISSUES_SHOWN_PER_FILE) -> list[str]:
    """The issues as lines to print, at most ``per_file`` for each file, then "... and N more" for it."""
    shown: list[str] = []
    counts: dict[str, int] = {}
    for issue in issues:
        counts[issue.path] = counts.get(issue.path, 0) + 1
        if counts[issue.path] <= per_file:
            shown.append(str(issue))
    shown += [f"{path}: ... and {count - per_file} more" for path, count in counts.items() if count > per_file]
    return shown


def error_lines(heading: str, issues: Iterable[LintIssue]) -> list[str]:
    """``heading`` and the errors among ``issues`` as lines (capped per file); nothing when there is no error."""
    errors = [issue for issue in issues if issue.severity == "error"]
    return [heading.format(count=len(errors)), *shown_issues(errors)] if errors else []


def refuse_on_errors(what: str, issues: Iterable[LintIssue]) -> None:
    """Raise PolicyError listing the errors among ``issues``, if any: nothing runs under ``what`` then."""
    lines = error_lines(f"{what} has {{count}} error(s); nothing runs under it:", issues)
    if lines:
        raise PolicyError("\n".join(lines))
