"""The policy a crawl runs under, with what it needs at run time, shared by every component.

Loaded once per crawl from the settings (pack name or path, extra rule files,
registries); a pack with errors stops the crawl before anything is fetched.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from scrapy.crawler import Crawler

from crawler.linked import LinkedDocuments
from crawler.settings import setting
from crawler.sitefiles import SiteFilesCache
from policy import Reason
from policy.engine import Decision, Rule
from policy.errors import ConfigError
from policy.jurisdiction import UNKNOWN, Jurisdiction, is_known_code, resolve
from policy.packs import REGISTRY_DIR, LoadedPolicy
from policy.vocabulary import Purpose
from policy.whose_law import decide_for_parties

T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")


def registry_paths(testsites: bool, sites: list[str] | tuple[str, ...] = (),
                   terms: list[str] | tuple[str, ...] = ()) -> tuple[list[Path], list[Path]]:
    """The site and terms registries in use: the given ones or the shipped ones, plus the catalog's in test-site mode."""
    site_paths = [Path(p) for p in sites] or [REGISTRY_DIR / "sites.yaml"]
    terms_paths = [Path(p) for p in terms] or [REGISTRY_DIR / "terms.yaml"]
    if testsites:
        from crawler.testsites.registry import TESTSITE_SITE_REGISTRY, TESTSITE_TERMS_REGISTRY

        site_paths.append(TESTSITE_SITE_REGISTRY)
        terms_paths.append(TESTSITE_TERMS_REGISTRY)
    return site_paths, terms_paths


def pack_may_ask_about_faces(rule: Rule, jurisdiction: str | None = None) -> bool:
    """A rule about faces, or one allowing a template (for ``jurisdiction``, or for any when None)."""
    if jurisdiction is not None and not rule.covers_jurisdiction(jurisdiction):
        return False
    return any(c.signal == "image.faces" for c in rule.conditions) or (
        Purpose.FACE_TEMPLATE in rule.purposes and rule.effect == "allow")


def operator_jurisdiction(settings: Any) -> str:
    """FAIRCRAWL_OPERATOR_JURISDICTION, upper-cased and checked (ConfigError for a code no rule could name).

    Not configured: UNKNOWN (fail closed), except in test-site mode, whose catalog names its operator.
    """
    code = str(setting(settings, "FAIRCRAWL_OPERATOR_JURISDICTION")).upper()
    if not code:
        testsites = settings.getbool("FAIRCRAWL_TESTSITES") if hasattr(settings, "getbool") else False
        if testsites:
            from crawler.testsites.registry import TESTSITE_OPERATOR

            return TESTSITE_OPERATOR
        return UNKNOWN
    code = "GB" if code == "UK" else code
    if not is_known_code(code) or code == "*":
        raise ConfigError(f"FAIRCRAWL_OPERATOR_JURISDICTION={code!r} is not a jurisdiction: use an ISO 3166 code (FR), "
                          "a subdivision (US-IL), EU or UNKNOWN")
    return code


def per_crawler(crawler: Crawler, attribute: str, build: Callable[[Crawler], T]) -> T:
    """One instance per crawl, made on first use and shared by every component that asks."""
    found: T | None = getattr(crawler, attribute, None)
    if found is None:
        found = build(crawler)
        setattr(crawler, attribute, found)
    return found


class CrawlPolicy:
    def __init__(self, crawler: Crawler) -> None:
        from crawler.startup import load_crawl_policy

        settings = crawler.settings
        self.testsites: bool = settings.getbool("FAIRCRAWL_TESTSITES")
        self.loaded: LoadedPolicy = load_crawl_policy(settings)
        self.engine = self.loaded.engine
        self.rules = {rule.id: rule for rule in self.loaded.pack.rules}
        self.token: str = setting(settings, "FAIRCRAWL_PRODUCT_TOKEN")
        self.faces_token: str = setting(settings, "FAIRCRAWL_FACES_TOKEN")
        self.site_files = SiteFilesCache(crawler)
        self.linked = LinkedDocuments(crawler, self.site_files)
        # `policy explain --jurisdiction CODE` decides as if every site were there (dry runs only).
        given = settings.get("FAIRCRAWL_EXPLAIN_JURISDICTION") if settings.getbool("FAIRCRAWL_DRY_RUN") else ""
        self.given_jurisdiction = Jurisdiction(given, "given", "--jurisdiction on the command line") if given else None
        self.operator: str = operator_jurisdiction(settings)
        self._faces_matter: dict[str, bool] = {}
        self._decisions: dict[tuple[Any, ...], Decision] = {}
        self._site_signals: dict[tuple[str, str], dict[str, Any]] = {}
        self._jurisdictions: dict[tuple[str, str | None, str | None, str | None], Jurisdiction] = {}
        self._reasons: dict[int, tuple[Decision, tuple[Reason, ...]]] = {}
        self.catalog_hosts: frozenset[str] = frozenset()
        if self.testsites:
            from crawler.testsites import build_catalog

            self.catalog_hosts = frozenset(build_catalog().sites)

    @property
    def requires_testsites(self) -> bool:
        return self.loaded.pack.requires_testsites

    def jurisdiction(self, url: str, content_language: str | None = None, html_lang: str | None = None,
                     self_hreflang: str | None = None) -> Jurisdiction:
        """Where the site at ``url`` is, as policy.jurisdiction.resolve says; once per host and language tags.

        resolve reads only the host and the three tags, so the answer is worked out once for each combination
        in a crawl (each page of a site asked it again: the registry, the country-code TLD, the tags).
        """
        if self.given_jurisdiction is not None:
            return self.given_jurisdiction
        try:
            key = (urlsplit(url).hostname or "", content_language, html_lang, self_hreflang)
        except ValueError:  # an unparseable URL: as resolve reads it, without the cache
            return resolve(url, self.loaded.sites, content_language, html_lang, self_hreflang)
        return once(self._jurisdictions, key,
                    lambda: resolve(url, self.loaded.sites, content_language, html_lang, self_hreflang))

    def site_signals(self, url: str, page_url: str | None) -> dict[str, Any]:
        """Terms, consent and test-site facts: the page's site speaks for its images.

        They depend on the two hostnames only (the terms registry and the catalog are by host), so they are
        worked out once per pair of hosts in a crawl; each caller gets its own copy.
        """
        try:
            key = (urlsplit(url).hostname or "", urlsplit(page_url or url).hostname or "")
        except ValueError:  # an unparseable URL: as the registry reads it, without the cache
            return self._site_signals_of(url, page_url)
        found: dict[str, Any] = once(self._site_signals, key, lambda: self._site_signals_of(url, page_url))
        return dict(found)

    def _site_signals_of(self, url: str, page_url: str | None) -> dict[str, Any]:
        terms_url = page_url or url
        signals = self.loaded.terms.signals_for(terms_url)
        own = self.loaded.terms.signals_for(url) if page_url else signals
        if own["terms.scraping"] == "forbidden":
            signals["terms.scraping"] = "forbidden"  # the image host forbids it too
        if own["terms.listed_infringing"]:
            signals["terms.listed_infringing"] = True  # an image host listed as infringing, whatever the page
        signals["site.testsite"] = (urlsplit(url).hostname or "") in self.catalog_hosts
        return signals

    def faces_may_matter(self, jurisdiction: str) -> bool:
        """Could faces change an image's fate under the site's or the operator's law? (cached per code)"""
        for code in (jurisdiction, self.operator):
            if code not in self._faces_matter:
                self._faces_matter[code] = any(pack_may_ask_about_faces(rule, code) for rule in self.loaded.pack.rules)
        return self._faces_matter[jurisdiction] or self._faces_matter[self.operator]

    def decide(self, purpose: str, jurisdiction: Jurisdiction, signals: dict[str, Any]) -> Decision:
        """For faces, the stricter of the site's and the operator's law (policy.whose_law).

        The engine is a pure function of (purpose, jurisdiction, operator, signals), and a crawl asks it the
        same question for most of its requests and images: each combination is decided once per crawl, keyed
        by exactly those inputs (values with their types, so ``1`` and ``True`` stay apart).
        """
        key = _decision_key(purpose, jurisdiction.code, signals)
        if key is None:
            return decide_for_parties(self.engine, purpose, jurisdiction.code, self.operator, signals)
        return once(self._decisions, key,
                    lambda: decide_for_parties(self.engine, purpose, jurisdiction.code, self.operator, signals))

    def policy_reasons(self, decision: Decision) -> list[Reason]:
        """One reason per rule that decided, with its description and citations (a new list each time).

        Worked out once per decision object (decisions are shared, see :meth:`decide`); the entry holds the
        decision itself, so its id cannot be reused while the entry exists.
        """
        found = self._reasons.get(id(decision))
        if found is None or found[0] is not decision:
            if len(self._reasons) >= MAX_CACHED:
                self._reasons.clear()
            found = self._reasons[id(decision)] = (decision, tuple(self._policy_reasons(decision)))
        return list(found[1])

    def _policy_reasons(self, decision: Decision) -> list[Reason]:
        if not decision.deciding_rules:
            return [Reason("policy", "policy.default_deny", decision.summary)]
        reasons = [Reason("policy", "policy.whose_law", decision.law, {"operator": self.operator})] if decision.law else []
        for rule_id in decision.deciding_rules:
            rule = self.rules[rule_id]
            evidence: dict[str, Any] = {"rule_source": rule.source, "citations": list(rule.citations)}
            if rule.breaches:
                evidence["breaches"] = list(rule.breaches)
            reasons.append(Reason("policy", rule_id, rule.description.strip(), evidence))
        return reasons


#: Decisions and site signals kept per crawl (a crawl of a million URLs has far fewer combinations).
MAX_CACHED = 4096


def once(cache: dict[K, V], key: K, work_out: Callable[[], V]) -> V:
    """``cache[key]``, worked out on first use; a full cache starts again (memory stays bounded in any crawl)."""
    found = cache.get(key)
    if found is None:
        if len(cache) >= MAX_CACHED:
            cache.clear()
        found = cache[key] = work_out()
    return found


def _frozen(value: Any) -> Any:
    """A hashable stand-in equal only for equal values of the same types (TypeError for anything else)."""
    if isinstance(value, (list, tuple)):
        return (type(value), tuple(_frozen(v) for v in value))
    if isinstance(value, (set, frozenset)):
        return (type(value), frozenset(_frozen(v) for v in value))
    if isinstance(value, dict):
        return (dict, tuple(sorted((k, _frozen(v)) for k, v in value.items())))
    hash(value)
    return (type(value), value)


def _decision_key(purpose: str, code: str, signals: dict[str, Any]) -> tuple[Any, ...] | None:
    """The engine's inputs as a cache key; None when a signal's value cannot be one."""
    try:
        return (purpose, code, frozenset((name, _frozen(value)) for name, value in signals.items()))
    except TypeError:
        return None


def policy_for(crawler: Crawler) -> CrawlPolicy:
    return per_crawler(crawler, "_faircrawl_policy", CrawlPolicy)
