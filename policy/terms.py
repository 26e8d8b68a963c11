"""The terms registry: what a site's terms say about scraping and biometric use, as reviewed by people.

Free-text terms of service cannot be read reliably by a machine, so compliance
engineers record their reading here (origin, the two answers, the terms URL,
the review date, and any recorded consent such as model releases). A site
missing from the registry has ``unknown`` terms, which the lawful pack treats
as "not permitted" for biometric purposes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from policy.loading import PolicyFileError, load_yaml_with_lines

ANSWERS = ("permitted", "forbidden", "unknown")
TEMPLATE_CONSENTS = ("transient", "persist")


@dataclass(frozen=True, slots=True)
class TermsEntry:
    host: str
    scraping: str
    biometric: str
    terms_url: str
    reviewed: str
    consent_basis: str | None  # e.g. "written release from every person pictured (BIPA 15(b))"
    consent_templates: str | None  # transient | persist
    consent_retention_days: int | None
    source: str  # file:line

    def signals(self) -> dict[str, object]:
        return {
            "terms.scraping": self.scraping,
            "terms.biometric": self.biometric,
            "consent.biometric": self.consent_basis is not None,
            "consent.templates": self.consent_templates,
        }


UNKNOWN_TERMS_SIGNALS = {"terms.scraping": "unknown", "terms.biometric": "unknown", "consent.biometric": False}


class TermsRegistry:
    def __init__(self, entries: list[TermsEntry] | None = None) -> None:
        self.entries = sorted(entries or [], key=lambda e: -len(e.host))

    @classmethod
    def load(cls, paths: list[Path]) -> TermsRegistry:
        entries: list[TermsEntry] = []
        for path in paths:
            document, lines = load_yaml_with_lines(path)
            items = document.get("terms", []) if isinstance(document, dict) else None
            if not isinstance(items, list):
                raise PolicyFileError(path, 1, "a terms registry is a mapping with a list 'terms'",
                                      "see policy/registry/terms.yaml")
            for index, item in enumerate(items):
                entries.append(_entry(path, lines.get(("terms", index), 1), item))
        return cls(entries)

    @classmethod
    def read(cls, paths: list[Path]) -> tuple[TermsRegistry, list["LintIssue"]]:
        from policy.issues import LintIssue
        from policy.loading import PolicyFileError
        try:
            return cls.load(paths), []
        except PolicyFileError as error:
            return cls(), [LintIssue.from_error(error)]

    def lookup(self, url: str) -> TermsEntry | None:
        host = (urlsplit(url).hostname or "").lower()
        for entry in self.entries:
            if host == entry.host or host.endswith("." + entry.host):
                return entry
        return None

    def signals_for(self, url: str) -> dict[str, object]:
        entry = self.lookup(url)
        return entry.signals() if entry else dict(UNKNOWN_TERMS_SIGNALS)


def _entry(path: Path, line: int, item: object) -> TermsEntry:
    where = f"{path}:{line}"
    if not isinstance(item, dict):
        raise PolicyFileError(path, line, "each terms entry is a mapping")
    known = {"host", "scraping", "biometric", "terms_url", "reviewed", "consent"}
    unknown = set(item) - known
    if unknown:
        raise PolicyFileError(path, line, f"unknown field(s) {sorted(unknown)}", f"fields are {sorted(known)}")
    host = item.get("host")
    if not isinstance(host, str) or not host:
        raise PolicyFileError(path, line, "'host' is required", "e.g. host: photos.example.com")
    for name in ("scraping", "biometric"):
        if item.get(name, "unknown") not in ANSWERS:
            raise PolicyFileError(path, line, f"'{name}' must be one of {ANSWERS}")
    reviewed = item.get("reviewed")
    if not isinstance(reviewed, (str, dt.date)):
        raise PolicyFileError(path, line, "'reviewed' (the date a person read the terms) is required",
                              "e.g. reviewed: 2026-11-01")
    consent = item.get("consent")
    basis = templates = retention = None
    if consent is not None:
        if not isinstance(consent, dict) or not isinstance(consent.get("basis"), str):
            raise PolicyFileError(path, line, "'consent' needs a 'basis' saying what was recorded",
                                  "e.g. consent: {basis: written model releases, templates: persist, retention_days: 365}")
        basis = consent["basis"]
        templates = consent.get("templates", "transient")
        if templates not in TEMPLATE_CONSENTS:
            raise PolicyFileError(path, line, f"consent 'templates' must be one of {TEMPLATE_CONSENTS}")
        retention = consent.get("retention_days")
        if retention is not None and (not isinstance(retention, int) or retention < 0):
            raise PolicyFileError(path, line, "consent 'retention_days' must be a whole number of days")
    return TermsEntry(host.lower().strip("."), item.get("scraping", "unknown"), item.get("biometric", "unknown"),
                      str(item.get("terms_url", "")), str(reviewed), basis, templates, retention, where)
