"""Which law applies to a site: site registry, then country-code TLD, then language tags, else unknown.

First hit wins and the source is recorded with the result. "Unknown" is a
jurisdiction of its own that the rule packs treat most strictly: the answer to
"we cannot tell who is French, so we cannot protect them".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from policy.hosts import suffix_extractor
from policy.issues import LintIssue
from policy.registries import HostRegistry, read_registry
from policy.schemas import REGISTRY_DIR

UNKNOWN = "UNKNOWN"
ANY = "*"

EU_MEMBERS = frozenset(
    "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split()
)
#: Named groups a rule may use instead of listing countries.
GROUPS: dict[str, frozenset[str]] = {
    "EU": EU_MEMBERS,
    "EEA": EU_MEMBERS | {"IS", "LI", "NO"},
}
#: ccTLDs sold and used worldwide as generic names: they say nothing about a site's country.
GENERIC_USE_CCTLDS = frozenset({"AI", "CO", "FM", "GG", "IO", "LY", "ME", "TV", "WS"})
#: ccTLDs whose label is not the ISO 3166 code.
CCTLD_EXCEPTIONS = {"UK": "GB", "EU": "EU"}
#: ISO 3166-1 alpha-2 codes, so lint can catch a typo such as "FRA".
ISO_COUNTRIES = frozenset("""
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ
CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR
GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO
JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR
MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO
RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV
TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
""".split())
_SUBDIVISION = re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,3}$")
_LANGUAGE_REGION = re.compile(r"^[a-zA-Z]{2,3}(?:-[a-zA-Z]{4})?-([a-zA-Z]{2})(?:-|$)")


@dataclass(frozen=True, slots=True)
class Jurisdiction:
    """A resolved jurisdiction code (``FR``, ``US-IL``, ``EU``, ``UNKNOWN``) and how it was found."""

    code: str
    source: str  # site-registry | cctld | content-language | html-lang | hreflang | unknown
    evidence: str


def is_known_code(code: str) -> bool:
    """True for codes a rule may name: ISO countries, ``CC-SUB`` subdivisions, groups, UNKNOWN, ``*``."""
    upper = code.upper()
    if upper in GROUPS or upper in {UNKNOWN, ANY, "UK"}:
        return True
    if _SUBDIVISION.match(upper):
        return upper[:2] in ISO_COUNTRIES
    return upper in ISO_COUNTRIES


def jurisdiction_matches(actual: str, named: str) -> bool:
    """Does the rule's ``named`` jurisdiction cover the resolved ``actual`` one?

    ``US`` covers ``US-IL``; ``EU`` covers every member state and ``EU`` itself, ``EEA`` covers ``EU`` too;
    ``UK`` is ``GB``; ``*`` covers everything, UNKNOWN included.
    """
    actual, named = actual.upper(), named.upper()
    actual = "GB" if actual == "UK" else actual
    named = "GB" if named == "UK" else named
    if named == ANY or actual == named:
        return True
    if named in GROUPS:
        return actual.split("-")[0] in GROUPS[named] or (actual in GROUPS and GROUPS[actual] <= GROUPS[named])
    return actual.startswith(named + "-") and not _SUBDIVISION.match(named)


@dataclass(frozen=True, slots=True)
class RegistryEntry:
    host: str  # normalised (policy.hosts); the entry also covers its subdomains
    jurisdiction: str
    note: str
    line: int


class SiteRegistry(HostRegistry[RegistryEntry]):
    """Hostname -> jurisdiction, from YAML files that compliance engineers edit (``registry/sites.yaml``)."""

    title = "the site registry"

    def __init__(self, entries: list[RegistryEntry] | None = None, sources: tuple[str, ...] = ()) -> None:
        super().__init__(entries)
        self.sources = sources

    @classmethod
    def read(cls, paths: list[Path]) -> tuple[SiteRegistry, list[LintIssue]]:
        items, issues = read_registry(paths, "sites", REGISTRY_DIR / "sites.schema.json", _check_site,
                                      lambda fields: str(fields["jurisdiction"]).upper())
        entries = [RegistryEntry(item.host, item.fields["jurisdiction"].upper(), item.fields.get("note", ""), item.line)
                   for item in items]
        return cls(entries, tuple(str(p) for p in paths)), issues

    def lookup(self, host: str) -> RegistryEntry | None:
        return self.covering(host)


def _check_site(fields: dict[str, Any]) -> list[tuple[str, str, str]]:
    code = fields["jurisdiction"]
    if code.strip() == ANY or not is_known_code(code):
        return [("jurisdiction", f"unknown jurisdiction {code!r}" if code.strip() != ANY else
                 "'*' is for rules; a site has one jurisdiction",
                 "use an ISO 3166 code (FR), a subdivision (US-IL), EU or UNKNOWN")]
    return []


def from_cctld(host: str) -> Jurisdiction | None:
    suffix = suffix_extractor()(host).suffix
    if not suffix:
        return None
    label = suffix.rsplit(".", 1)[-1].upper()
    if label in GENERIC_USE_CCTLDS and "." not in suffix:
        return None  # .io or .ai alone; a second-level suffix such as .co.uk still counts
    code = CCTLD_EXCEPTIONS.get(label, label)
    if len(label) == 2 and (code in ISO_COUNTRIES or code in GROUPS):
        return Jurisdiction(code, "cctld", f"country-code top-level domain .{suffix}")
    return None


def region_of_language_tag(tag: str) -> str | None:
    """``fr-CA`` -> ``CA``; ``de`` (no region) -> None: a language alone names no country."""
    found = _LANGUAGE_REGION.match(tag.strip())
    if not found:
        return None
    region = found.group(1).upper()
    return region if region in ISO_COUNTRIES else None


def resolve(
    url: str,
    registry: SiteRegistry,
    content_language: str | None = None,
    html_lang: str | None = None,
    self_hreflang: str | None = None,
) -> Jurisdiction:
    """Resolve the jurisdiction of the site at ``url``; the first source that answers wins."""
    host = (urlsplit(url).hostname or "").lower()
    entry = registry.lookup(host)
    if entry is not None:
        return Jurisdiction(entry.jurisdiction, "site-registry", f"{entry.host}: {entry.note}".rstrip(": "))
    by_tld = from_cctld(host)
    if by_tld is not None:
        return by_tld
    for source, header in (("content-language", content_language), ("html-lang", html_lang),
                           ("hreflang", self_hreflang)):
        for tag in (header or "").split(","):
            region = region_of_language_tag(tag)
            if region:
                return Jurisdiction(region, source, f"{source} {tag.strip()}")
    return Jurisdiction(UNKNOWN, "unknown",
                        "no registry entry, no country-code TLD, no language tag with a region: strictest rules apply")
