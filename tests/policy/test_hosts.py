"""Host names in registries: one normal form, the one the crawler's URLs have, and only names a registry may use.

A registry entry covers its host and every subdomain, so an entry for ``com`` or ``github.io`` would give
every site under it a jurisdiction or terms; and a Unicode name must compare equal to the IDNA form that
Scrapy (w3lib's ``safe_url_string``) puts in the URLs it crawls.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from w3lib.url import safe_url_string

from policy import hosts as hosts_module
from policy.hosts import covering_entry, normalise_host

ACCEPTED = [
    pytest.param("shop.example.com", "shop.example.com", id="plain"),
    pytest.param("  Shop.Example.COM.  ", "shop.example.com", id="spaces-case-and-one-trailing-dot"),
    pytest.param("example.com", "example.com", id="a-registrable-domain"),
    pytest.param("bücher.example.com", "xn--bcher-kva.example.com", id="unicode-label"),
    pytest.param("BÜCHER.example.com", "xn--bcher-kva.example.com", id="unicode-upper-case"),
    pytest.param("xn--bcher-kva.example.com", "xn--bcher-kva.example.com", id="already-idna"),
    pytest.param("straße.example.de", "strasse.example.de", id="sharp-s-as-w3lib-maps-it"),
    pytest.param("ｓｈｏｐ.example.com", "shop.example.com", id="full-width-letters-nfkc"),
    pytest.param("пример.рф", "xn--e1afmkfd.xn--p1ai", id="unicode-tld"),
    pytest.param("news.example.co.uk", "news.example.co.uk", id="under-a-two-label-suffix"),
    pytest.param("alice.github.io", "alice.github.io", id="under-a-private-suffix"),
    pytest.param("a-b.example.com", "a-b.example.com", id="hyphen-inside"),
]


@pytest.mark.parametrize(("text", "expected"), ACCEPTED)
def test_a_host_is_normalised_as_the_crawler_encodes_it(text: str, expected: str) -> None:
    crawled = urlsplit(safe_url_string(f"http://{text.strip()}/photo.jpg")).hostname or ""

    assert normalise_host(text) == expected
    assert normalise_host(crawled) == expected, "the registry side and the crawled side must compare equal"


REFUSED = [
    pytest.param("", "empty", id="empty"),
    pytest.param("   ", "empty", id="blank"),
    pytest.param("*", "wildcard", id="star"),
    pytest.param("*.example.com", "wildcard", id="wildcard-subdomain"),
    pytest.param("shop.*.com", "wildcard", id="wildcard-inside"),
    pytest.param("..", "empty label", id="dots"),
    pytest.param("shop..example.com", "empty label", id="double-dot"),
    pytest.param(".example.com", "empty label", id="leading-dot"),
    pytest.param("example.com..", "empty label", id="two-trailing-dots"),
    pytest.param("http://x/", "URL", id="url"),
    pytest.param("https://shop.example.com", "URL", id="url-without-path"),
    pytest.param("shop.example.com/terms", "path", id="path"),
    pytest.param("shop.example.com?x=1", "path", id="query"),
    pytest.param("user@shop.example.com", "path", id="user"),
    pytest.param("shop.example.com:8080", "port", id="port"),
    pytest.param("[::1]", "not a valid host name", id="ipv6"),
    pytest.param("shop example.com", "whitespace", id="space-inside"),
    pytest.param("shop.example.com\nexample.org", "whitespace", id="newline-inside"),
    pytest.param("shop\texample.com", "whitespace", id="tab-inside"),
    pytest.param("-shop.example.com", "not a valid host name", id="leading-hyphen"),
    pytest.param("shop-.example.com", "not a valid host name", id="trailing-hyphen"),
    pytest.param("sh_op.example.com", "not a valid host name", id="underscore"),
    pytest.param("a" * 64 + ".example.com", "not a valid host name", id="label-too-long"),
    pytest.param("com", "public suffix", id="com"),
    pytest.param("COM.", "public suffix", id="com-upper-with-dot"),
    pytest.param("co.uk", "public suffix", id="co-uk"),
    pytest.param("github.io", "public suffix", id="github-io"),
    pytest.param("рф", "public suffix", id="unicode-tld-alone"),
    pytest.param("localhost", "no registrable domain", id="localhost"),
    pytest.param("shop.example.invalid", "no registrable domain", id="unknown-tld"),
    pytest.param("127.0.0.1", "no registrable domain", id="ip-address"),
]


@pytest.mark.parametrize(("text", "problem"), REFUSED)
def test_a_host_a_registry_may_not_name_is_refused_with_the_reason(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        normalise_host(text)


def test_a_host_that_is_not_text_is_refused() -> None:
    with pytest.raises(ValueError, match="text"):
        normalise_host(42)  # type: ignore[arg-type]


ENTRIES = {"example.net": "parent", "photos.example.net": "child", "xn--bcher-kva.example.com": "books"}


@pytest.mark.parametrize(("host", "expected"), [
    pytest.param("example.net", "parent", id="the-host-itself"),
    pytest.param("www.example.net", "parent", id="a-subdomain"),
    pytest.param("a.b.photos.example.net", "child", id="the-most-specific-entry"),
    pytest.param("PHOTOS.example.net.", "child", id="case-and-trailing-dot"),
    pytest.param("bücher.example.com", "books", id="unicode-lookup"),
    pytest.param("xn--bcher-kva.example.com", "books", id="idna-lookup"),
    pytest.param("otherexample.net", None, id="a-lookalike-is-not-a-subdomain"),
    pytest.param("net", None, id="a-public-suffix"),
    pytest.param("127.0.0.1", None, id="an-ip-address"),
    pytest.param("", None, id="no-host"),
])
def test_an_entry_covers_its_host_and_subdomains(host: str, expected: str | None) -> None:
    assert covering_entry(ENTRIES, host) == expected
    assert covering_entry(ENTRIES, host) == expected  # again, from the lookup-key cache


def test_a_host_that_is_no_site_name_is_looked_up_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """An IP address raises in normalise_host, which lru_cache does not keep: the lookup key caches the None."""
    calls: list[str] = []
    real = hosts_module.normalise_host

    def counting(text: str) -> str:
        calls.append(text)
        return real(text)

    monkeypatch.setattr(hosts_module, "normalise_host", counting)
    hosts_module._lookup_key.cache_clear()
    for _ in range(3):
        assert covering_entry(ENTRIES, "10.9.8.7") is None
        assert covering_entry(ENTRIES, "www.example.net") == "parent"
    assert calls == ["10.9.8.7", "www.example.net"]
    hosts_module._lookup_key.cache_clear()
