"""The terms registry: what a site's terms say about scraping and biometric use, as reviewed by people.

Free-text terms of service cannot be read reliably by a machine, so compliance
engineers record their reading here (origin, the two answers, the terms URL,
the review date, whether a court or authority lists the site as infringing
copyright (``listed_infringing``: such a site is not crawled at all), and any
recorded consent such as model releases: its basis,
who received it (``to``), the purposes it covers and its retention). Only a
consent given to faircrawl counts, and only for the purposes it names. A site
missing from the registry has ``unknown`` terms, which the lawful pack treats
as "not permitted" for biometric purposes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from policy.issues import LintIssue
from policy.registries import HostRegistry, RegistryItem, read_registry
from policy.schemas import REGISTRY_DIR

ANSWERS = ("permitted", "forbidden", "unknown")
TEMPLATE_CONSENTS = ("transient", "persist")
#: The only recipient whose consent faircrawl applies (``consent.to``).
CONSENT_TO = "faircrawl"


@dataclass(frozen=True, slots=True)
class TermsEntry:
    host: str  # normalised (policy.hosts); the entry also covers its subdomains
    scraping: str
    biometric: str
    terms_url: str
    reviewed: str
    consent_basis: str | None  # e.g. "written release from every person pictured (BIPA 15(b))"
    consent_templates: str | None  # transient | persist
    consent_retention_days: int | None
    source: str  # file:line
    licence_basis: str | None = None  # a licence faircrawl holds for AI use (RSL token, tdm-policy duties met)
    consent_to: str | None = None  # who received the consent; only CONSENT_TO counts for faircrawl
    consent_purposes: tuple[str, ...] = ()  # what it covers: collect_image, face_template
    consent_purpose_ends: str | None = None  # YYYY-MM-DD: the purpose ends (the law's destruction clock starts)
    consent_last_interaction: str | None = None  # YYYY-MM-DD: the people's last interaction (BIPA's 3 years)
    listed_infringing_by: str | None = None  # the court, authority or list that recognises the site as infringing

    @property
    def consent_to_faircrawl(self) -> bool:
        """A consent counts only when faircrawl received it: consent per site is not consent to faircrawl."""
        return self.consent_basis is not None and (self.consent_to or "").strip().lower() == CONSENT_TO

    def signals(self) -> dict[str, object]:
        signals: dict[str, object] = {
            "terms.licence_recorded": self.licence_basis is not None,
            "terms.listed_infringing": self.listed_infringing_by is not None,
            "terms.scraping": self.scraping,
            "terms.biometric": self.biometric,
            "consent.biometric": self.consent_to_faircrawl,
            "consent.templates": self.consent_templates,
        }
        if self.consent_to_faircrawl:
            signals["consent.purposes"] = list(self.consent_purposes)
            if self.consent_retention_days is not None:
                signals["consent.retention_days"] = self.consent_retention_days
            for name, value in (("consent.purpose_ends", self.consent_purpose_ends),
                                ("consent.last_interaction", self.consent_last_interaction)):
                if value is not None:
                    signals[name] = value
        return signals


UNKNOWN_TERMS_SIGNALS = {"terms.licence_recorded": False, "terms.listed_infringing": False,
                         "terms.scraping": "unknown", "terms.biometric": "unknown", "consent.biometric": False}


class TermsRegistry(HostRegistry[TermsEntry]):
    """Host -> what its terms say, from YAML files that compliance engineers edit (``registry/terms.yaml``)."""

    title = "the terms registry"

    @classmethod
    def read(cls, paths: list[Path]) -> tuple[TermsRegistry, list[LintIssue]]:
        items, issues = read_registry(paths, "terms", REGISTRY_DIR / "terms.schema.json", lambda fields: [], _meaning)
        return cls([_entry(item) for item in items]), issues

    def lookup(self, url: str) -> TermsEntry | None:
        try:
            host = urlsplit(url).hostname or ""
        except ValueError:  # an unparseable URL has no terms entry
            return None
        return self.covering(host)

    def signals_for(self, url: str) -> dict[str, object]:
        entry = self.lookup(url)
        return entry.signals() if entry else dict(UNKNOWN_TERMS_SIGNALS)


def _meaning(fields: dict[str, Any]) -> TermsEntry:
    """What an entry says, defaults filled in, to compare two entries whatever their host spelling and place."""
    return _entry(RegistryItem("", fields, "", 0))


def _entry(item: RegistryItem) -> TermsEntry:
    """An entry already checked by the schema; a consent's templates default to transient."""
    fields = item.fields
    consent = fields.get("consent")
    return TermsEntry(
        item.host, fields.get("scraping", "unknown"), fields.get("biometric", "unknown"), fields.get("terms_url", ""),
        fields["reviewed"], consent["basis"] if consent else None,
        consent.get("templates", "transient") if consent else None, consent.get("retention_days") if consent else None,
        item.source, fields["licence"]["basis"] if fields.get("licence") else None,
        consent.get("to") if consent else None, tuple(consent.get("purposes", ())) if consent else (),
        str(consent["purpose_ends"]) if consent and "purpose_ends" in consent else None,
        str(consent["last_interaction"]) if consent and "last_interaction" in consent else None,
        fields["listed_infringing"]["by"] if fields.get("listed_infringing") else None,
    )
