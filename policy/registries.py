"""Registry files (sites, terms): read safely, checked against their JSON Schema, hosts normalised, conflicts found.

Both registries are lists of entries keyed by host, edited by compliance
engineers, and used together with the test-site catalog's; so the same host
may appear in two files. Two entries for one host that mean different things
are an error (which one applies would depend on file order); two that mean
the same are a warning. Every problem is a lint issue with file and line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Generic, Protocol, Self, TypeVar

from policy.hosts import HOST_HINT, covering_entry, normalise_host
from policy.issues import LintIssue, refuse_on_errors
from policy.loading import PolicyFileError, line_of, load_yaml_with_lines
from policy.schemas import load_schema, schema_issues

#: (field, problem, hint) for each thing wrong with an entry's meaning.
EntryCheck = Callable[[dict[str, Any]], list[tuple[str, str, str]]]


@dataclass(frozen=True, slots=True)
class RegistryItem:
    """One valid entry: its normalised host, the entry as written, and where it is."""

    host: str
    fields: dict[str, Any]
    path: str
    line: int

    @property
    def source(self) -> str:
        return f"{self.path}:{self.line}"


class _Entry(Protocol):
    @property
    def host(self) -> str: ...


EntryT = TypeVar("EntryT", bound=_Entry)


class HostRegistry(Generic[EntryT]):
    """Entries keyed by normalised host, each covering its subdomains; the most specific entry answers."""

    title: ClassVar[str] = "the registry"

    def __init__(self, entries: list[EntryT] | None = None) -> None:
        self.entries = sorted(entries or [], key=lambda e: -len(e.host))  # most specific first
        self._by_host: dict[str, EntryT] = {}
        for entry in self.entries:
            self._by_host.setdefault(entry.host, entry)

    @classmethod
    def read(cls, paths: list[Path]) -> tuple[Self, list[LintIssue]]:
        """The registry and every problem of its files (never raises for them: see :meth:`load`)."""
        raise NotImplementedError

    @classmethod
    def load(cls, paths: list[Path]) -> Self:
        """The registry for use; PolicyError listing every error if any file has one."""
        registry, issues = cls.read(paths)
        refuse_on_errors(cls.title, issues)
        return registry

    def covering(self, host: str) -> EntryT | None:
        """The entry for ``host`` or its nearest parent domain (see :func:`policy.hosts.covering_entry`)."""
        return covering_entry(self._by_host, host)


def read_registry(paths: list[Path], list_key: str, schema_path: Path, check: EntryCheck,
                  meaning: Callable[[dict[str, Any]], object]) -> tuple[list[RegistryItem], list[LintIssue]]:
    """The valid entries of every file, first one per host, and every problem found; never raises."""
    items: dict[str, RegistryItem] = {}
    issues: list[LintIssue] = []
    for path in paths:
        try:
            document, lines = load_yaml_with_lines(path)
        except PolicyFileError as error:
            issues.append(LintIssue.from_error(error))
            continue
        problems = schema_issues(path, document, lines, load_schema(schema_path), list_key)
        if problems:
            issues += problems
            continue
        for index, entry in enumerate(document[list_key]):
            where = (list_key, index)
            try:
                host = normalise_host(entry["host"])
            except ValueError as error:
                issues.append(LintIssue("error", str(path), line_of(lines, (*where, "host")),
                                        f"host {entry['host']!r:.80}: {error}", HOST_HINT))
                continue
            wrong = check(entry)
            issues += [LintIssue("error", str(path), line_of(lines, (*where, field)), problem, hint)
                       for field, problem, hint in wrong]
            if wrong:
                continue
            item = RegistryItem(host, entry, str(path), line_of(lines, where))
            first = items.setdefault(host, item)
            if first is not item:
                issues.append(_duplicate(first, item, meaning(first.fields) == meaning(entry)))
    return list(items.values()), issues


def _duplicate(first: RegistryItem, again: RegistryItem, same: bool) -> LintIssue:
    if same:
        return LintIssue("warning", again.path, again.line, f"repeats the entry for {again.host} at {first.source}",
                         "remove one of the two")
    return LintIssue("error", again.path, again.line,
                     f"conflicts with the entry for {again.host} at {first.source}: one host, two different answers",
                     "keep one entry per host (an entry already covers every subdomain)")
