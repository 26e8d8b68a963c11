"""Which law applies to a site: registry, then ccTLD, then Content-Language, <html lang>, self hreflang, else UNKNOWN.

The first step that answers wins, and the answer says where it came from. The Public Suffix List is the
snapshot bundled with tldextract: resolving never touches the network.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from policy import hosts as hosts_module
from policy.jurisdiction import UNKNOWN, Jurisdiction, SiteRegistry, region_of_language_tag, resolve

REGISTRY_YAML = """\
sites:
  - host: shop.example.fr
    jurisdiction: us-il
    note: operator and audience in Chicago
  - host: example.net
    jurisdiction: US
  - host: photos.example.net
    jurisdiction: CA
    note: Toronto studio
  - host: gallery.example.com
    jurisdiction: DE
"""


@pytest.fixture
def registry(tmp_path: Path) -> SiteRegistry:
    path = tmp_path / "sites.yaml"
    path.write_text(REGISTRY_YAML, encoding="utf-8")
    return SiteRegistry.load([path])


# (url, Content-Language, <html lang>, self hreflang) -> (code, source)
RESOLUTION_CASES = [
    # the site registry is asked first
    pytest.param("http://shop.example.fr/", "fr-FR", "fr-FR", "fr-FR", "US-IL", "site-registry",
                 id="registry-beats-cctld-and-every-language-tag"),
    pytest.param("http://img.cdn.shop.example.fr/a.jpg", None, None, None, "US-IL", "site-registry",
                 id="registry-entry-covers-subdomains"),
    pytest.param("http://photos.example.net/", None, None, None, "CA", "site-registry",
                 id="most-specific-registry-entry-wins"),
    pytest.param("http://www.example.net/", None, None, None, "US", "site-registry",
                 id="parent-registry-entry-covers-other-subdomains"),
    pytest.param("http://othershop.example.fr/", None, None, None, "FR", "cctld",
                 id="registry-entry-does-not-cover-a-lookalike-host"),
    pytest.param("http://SHOP.Example.FR:8080/x", None, None, None, "US-IL", "site-registry",
                 id="registry-lookup-ignores-case-and-port"),
    # then the country-code TLD
    pytest.param("http://example.de/", "fr-CA", "fr-CA", "fr-CA", "DE", "cctld", id="cctld-beats-content-language"),
    pytest.param("http://news.example.co.uk/", None, None, None, "GB", "cctld", id="co-uk-is-gb"),
    pytest.param("http://example.uk/", None, None, None, "GB", "cctld", id="uk-is-gb"),
    pytest.param("http://shop.example.com.au/", None, None, None, "AU", "cctld", id="com-au-is-au"),
    pytest.param("http://agency.example.eu/", None, None, None, "EU", "cctld", id="eu-is-the-eu"),
    pytest.param("http://example.fr./", None, None, None, "FR", "cctld", id="trailing-dot-host"),
    # generic TLDs say nothing: the next step answers
    pytest.param("http://example.com/", "de-AT", None, None, "AT", "content-language", id="com-falls-to-content-language"),
    pytest.param("http://example.org/", None, "pt-BR", None, "BR", "html-lang", id="org-falls-to-html-lang"),
    pytest.param("http://example.org/", None, None, "en-NZ", "NZ", "hreflang", id="org-falls-to-hreflang"),
    pytest.param("http://www.example.info/", "es-MX", None, None, "MX", "content-language", id="info-falls-through"),
    # then the language tags, in order
    pytest.param("http://example.com/", "en-GB", "fr-FR", "de-DE", "GB", "content-language",
                 id="content-language-beats-html-lang"),
    pytest.param("http://example.com/", None, "de-AT", "fr-CH", "AT", "html-lang", id="html-lang-beats-hreflang"),
    pytest.param("http://example.com/", "de", "fr-CA", None, "CA", "html-lang",
                 id="language-without-region-gives-no-answer"),
    pytest.param("http://example.com/", "fr-CA", None, None, "CA", "content-language", id="fr-ca-is-canada"),
    pytest.param("http://example.com/", "de, fr-CA, en-US", None, None, "CA", "content-language",
                 id="first-tag-with-a-region-in-a-list-wins"),
    pytest.param("http://example.com/", None, "zh-Hant-TW", None, "TW", "html-lang", id="script-subtag-is-skipped"),
    pytest.param("http://example.com/", "es-419", "it-IT", None, "IT", "html-lang", id="numeric-region-is-no-country"),
    pytest.param("http://example.com/", "en-UK", None, None, UNKNOWN, "unknown", id="uk-is-no-iso-region"),
    # nothing answers
    pytest.param("http://example.com/", None, None, None, UNKNOWN, "unknown", id="nothing-known-is-unknown"),
    pytest.param("http://example.com/", "de", "en", "fr", UNKNOWN, "unknown", id="languages-alone-are-unknown"),
    pytest.param("http://127.0.0.1:8080/", None, None, None, UNKNOWN, "unknown", id="an-ip-address-is-unknown"),
]


@pytest.mark.parametrize(("url", "content_language", "html_lang", "hreflang", "code", "source"), RESOLUTION_CASES)
def test_the_first_step_that_answers_decides_the_jurisdiction(
        registry: SiteRegistry, url: str, content_language: str | None, html_lang: str | None,
        hreflang: str | None, code: str, source: str) -> None:
    resolved = resolve(url, registry, content_language, html_lang, hreflang)

    assert (resolved.code, resolved.source) == (code, source)


EVIDENCE_CASES = [
    pytest.param("http://shop.example.fr/", {}, "shop.example.fr: operator and audience in Chicago",
                 id="registry-cites-entry-and-note"),
    pytest.param("http://gallery.example.com/", {}, "gallery.example.com", id="registry-entry-without-note"),
    pytest.param("http://news.example.co.uk/", {}, "country-code top-level domain .co.uk", id="cctld-names-the-suffix"),
    pytest.param("http://example.com/", {"content_language": "de, fr-CA"}, "content-language fr-CA",
                 id="language-names-the-tag-that-answered"),
    pytest.param("http://example.com/", {}, "no registry entry, no country-code TLD, no language tag with a region: "
                 "strictest rules apply", id="unknown-says-strictest-rules-apply"),
]


@pytest.mark.parametrize(("url", "tags", "evidence"), EVIDENCE_CASES)
def test_the_answer_says_what_it_is_based_on(registry: SiteRegistry, url: str, tags: dict[str, Any],
                                             evidence: str) -> None:
    assert resolve(url, registry, **tags).evidence == evidence


def test_an_empty_registry_leaves_the_cctld_to_answer() -> None:
    assert resolve("http://shop.example.fr/", SiteRegistry()) == Jurisdiction(
        "FR", "cctld", "country-code top-level domain .fr")


def test_registry_hosts_and_codes_are_normalised(registry: SiteRegistry) -> None:
    entry = registry.lookup("Shop.Example.FR.")

    assert entry is not None and (entry.host, entry.jurisdiction, entry.line) == ("shop.example.fr", "US-IL", 2)


LANGUAGE_TAG_CASES = [
    pytest.param("fr-CA", "CA", id="language-region"),
    pytest.param(" en-gb ", "GB", id="lower-case-region-and-spaces"),
    pytest.param("de", None, id="language-alone"),
    pytest.param("de-DE-1996", "DE", id="variant-after-region"),
    pytest.param("sr-Latn-RS", "RS", id="script-then-region"),
    pytest.param("es-419", None, id="un-m49-area-is-not-a-country"),
    pytest.param("en-ZZ", None, id="unassigned-region"),
    pytest.param("x-default", None, id="hreflang-x-default"),
    pytest.param("", None, id="empty"),
]


@pytest.mark.parametrize(("tag", "region"), LANGUAGE_TAG_CASES)
def test_only_a_language_tag_with_a_country_region_names_a_country(tag: str, region: str | None) -> None:
    assert region_of_language_tag(tag) == region


# -- the Public Suffix List is the bundled snapshot -------------------------------------------------


@pytest.fixture
def fresh_extractor() -> Iterator[None]:
    """Build the tldextract extractor anew inside the test (and again afterwards, outside it)."""
    hosts_module.suffix_extractor.cache_clear()
    yield
    hosts_module.suffix_extractor.cache_clear()


def test_the_suffix_list_is_never_fetched(fresh_extractor: None) -> None:
    extractor = hosts_module.suffix_extractor()

    assert extractor.suffix_list_urls == ()
    assert extractor.fallback_to_snapshot is True


def test_resolving_works_with_the_network_unavailable(fresh_extractor: None, monkeypatch: pytest.MonkeyPatch) -> None:
    attempts: list[Any] = []

    def no_network(*args: Any, **kwargs: Any) -> Any:
        attempts.append(args)
        raise OSError("network unavailable in this test")

    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)

    resolved = [resolve(url, SiteRegistry()).code
                for url in ("http://a.example.co.uk/", "http://b.example.com.au/", "http://c.example.eu/",
                            "http://d.example.com/")]

    assert resolved == ["GB", "AU", "EU", UNKNOWN]
    assert attempts == [], "resolving tried to reach the network"

