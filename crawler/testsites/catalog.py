"""The catalog of test sites: the ground truth the crawls are checked against.

Sites come in families: robots.txt and bad inputs (``sites_robots``),
one site per jurisdiction and per resolution step (``sites_jurisdictions``),
one per consent signal (``sites_signals``), opt-outs (``sites_optouts``),
hostile inputs from the integrity review (``sites_hostile``) and the rights
service (``sites_rights``). Each carries its manifest (see ``model``): for
every page and image, what the lawful and the unlawful-demo packs must record,
and why.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from crawler.testsites.model import OVERSIZED_IMAGE_BYTES, Expected, Served, TestSite
from crawler.testsites.sites_hostile import hostile_sites
from crawler.testsites.sites_identity import identity_sites
from crawler.testsites.sites_jurisdictions import jurisdiction_sites
from crawler.testsites.sites_licences import licence_sites
from crawler.testsites.sites_optouts import optout_sites
from crawler.testsites.sites_rights import rights_sites
from crawler.testsites.sites_robots import robots_sites
from crawler.testsites.sites_signals import signal_sites

__all__ = ["OVERSIZED_IMAGE_BYTES", "Catalog", "Expected", "Served", "TestSite", "build_catalog"]


@dataclass(slots=True)
class Catalog:
    """All test sites, by hostname."""

    sites: dict[str, TestSite]

    def site(self, hostname: str) -> TestSite | None:
        return self.sites.get(hostname.lower())

    @property
    def start_urls(self) -> list[str]:
        return [s.start_url for s in self.sites.values() if s.start]

    def expected(self) -> list[Expected]:
        return [e for s in self.sites.values() for e in s.expected]

    def manifest(self) -> list[dict[str, Any]]:
        return [s.manifest() for s in self.sites.values()]


@cache
def build_catalog() -> Catalog:
    """The catalog; built once per process (image bytes are generated lazily, when served)."""
    sites = [*robots_sites(), *jurisdiction_sites(), *signal_sites(), *optout_sites(), *hostile_sites(), *rights_sites(),
             *identity_sites(), *licence_sites()]
    return Catalog({s.hostname: s for s in sites})
