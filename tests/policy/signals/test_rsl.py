"""RSL 1.0: robots.txt ``License:``, HTML and Link-header discovery, and the licence document (reference §9.1).

Examples are the shapes of the RSL guide's templates ("Prohibit AI training", "Allow AI training",
the AI-preferences pairing with a subscription payment) and of reference §9.1.
"""

from __future__ import annotations

import pytest

from policy.robots import RobotsTxt
from policy.signals import rsl
from policy.signals.rsl import RslStatus

NS = 'xmlns="https://rslstandard.org/rsl"'
IMG = "https://news.example.com/images/a.jpg"


def doc(inner: str) -> rsl.RslDocument:
    return rsl.parse(f"<rsl {NS}>{inner}</rsl>".encode(), "https://news.example.com/license.xml")


CASES = [
    pytest.param('<content url="/"><license><prohibits type="usage">train-ai</prohibits></license></content>',
                 RslStatus.PROHIBITED, id="guide-prohibit-ai-training"),
    pytest.param('<content url="/"><license><permits type="usage">train-ai</permits></license></content>',
                 RslStatus.PERMITTED, id="guide-allow-ai-training"),
    pytest.param('<content url="/"><license><permits type="usage">train-ai</permits><payment type="subscription">'
                 '<custom>https://x/contact</custom></payment></license></content>',
                 RslStatus.LICENCE_REQUIRED, id="guide-ai-preferences-subscription"),
    pytest.param('<content url="/" server="https://rslcollective.org/api"><license><permits type="usage">ai-train</permits>'
                 '</license></content>', RslStatus.LICENCE_REQUIRED, id="licence-server-even-when-free"),
    pytest.param('<content url="/"><license><permits type="usage">search</permits><prohibits type="usage">ai-train'
                 '</prohibits><payment type="crawl"/></license></content>', RslStatus.PROHIBITED, id="reference-9.1-shape"),
    pytest.param('<content url="/"><license><permits type="usage">all</permits><prohibits type="usage">ai-all</prohibits>'
                 '</license></content>', RslStatus.PROHIBITED, id="prohibition-overrides-permission"),
    pytest.param('<content url="/"><license><permits type="usage">search</permits></license></content>',
                 RslStatus.PROHIBITED, id="permits-only-search"),
    pytest.param('<content url="/"><license><payment type="free"/></license></content>', RslStatus.PERMITTED,
                 id="no-permits-means-not-restricted"),
    pytest.param('<content url="/"><license><permits type="usage">ai-all</permits><payment type="attribution"/>'
                 '</license></content>', RslStatus.PERMITTED, id="attribution-is-free"),
    pytest.param('<content url="/"><license><permits type="usage">ai-train</permits><permits type="user">non-commercial'
                 '</permits></license></content>', RslStatus.PROHIBITED, id="non-commercial-users-only"),
    pytest.param('<content url="/"><license><permits type="usage">ai-train</permits><permits type="geo">US</permits>'
                 '</license></content>', RslStatus.LICENCE_REQUIRED, id="geo-terms-need-a-check"),
    pytest.param('<content url="/"><license><prohibits type="usage">ai-train</prohibits></license>'
                 '<license><permits type="usage">ai-train</permits><payment type="purchase"/></license></content>',
                 RslStatus.LICENCE_REQUIRED, id="alternatives-best-takeable"),
    pytest.param('<content url="/"></content>', RslStatus.PROHIBITED, id="scope-without-licence"),
    pytest.param('<content url="/text/"><license/></content>', RslStatus.UNSET, id="no-scope-covers-url"),
]


@pytest.mark.parametrize(("inner", "status"), CASES)
def test_licence_verdicts(inner, status):
    verdict = doc(inner).evaluate(IMG)
    assert verdict.status is status, verdict.reason
    assert verdict.reason


def test_most_specific_content_scope_wins():
    document = doc('<content url="/"><license><prohibits type="usage">ai-train</prohibits></license></content>'
                   '<content url="/images/*.jpg"><license><permits type="usage">ai-train</permits></license></content>')
    assert document.evaluate(IMG).status is RslStatus.PERMITTED
    assert document.evaluate("https://news.example.com/text/a.html").status is RslStatus.PROHIBITED


def test_full_url_scope_applies_to_its_host_only():
    document = doc('<content url="https://news.example.com/images/"><license><payment type="free"/></license></content>')
    assert document.evaluate(IMG).status is RslStatus.PERMITTED
    assert document.evaluate("https://other.example.org/images/a.jpg").status is RslStatus.UNSET


def test_content_scope_uses_percent_encoding_equivalence():
    document = doc('<content url="/caf%C3%A9/foo-%24"><license><permits type="usage">search</permits></license></content>')
    assert document.evaluate("https://news.example.com/café/foo-$").status is RslStatus.PROHIBITED


UNREADABLE = [
    pytest.param(b"", id="empty"), pytest.param(b"<rsl", id="truncated"), pytest.param(b"\xff\xfe\x00garbage", id="binary"),
    pytest.param(b'<rsl xmlns="https://example.com/other"><content url="/"/></rsl>', id="wrong-namespace"),
    pytest.param(b"<rsl xmlns='https://rslstandard.org/rsl'></rsl>", id="no-content"),
    pytest.param(b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
                 b"<rsl xmlns='https://rslstandard.org/rsl'>&b;</rsl>", id="entity-expansion"),
    pytest.param(b"<rsl xmlns='https://rslstandard.org/rsl'>" + b"<x>" * 100_000, id="deep-unclosed"),
    pytest.param(b"<rsl xmlns='https://rslstandard.org/rsl'>" + b" " * (rsl.RSL_PARSE_LIMIT_BYTES + 1) + b"</rsl>",
                 id="huge"),
    pytest.param(12345, id="not-bytes"),
]


@pytest.mark.parametrize("body", UNREADABLE)
def test_unreadable_documents_are_prohibited_with_a_reason(body):
    document = rsl.parse(body, "https://x.example/license.xml")
    assert document.unreadable
    verdict = document.evaluate(IMG)
    assert verdict.status is RslStatus.PROHIBITED and "prohibited assumed" in verdict.reason


def test_cannot_fetch_is_prohibited():
    verdict = rsl.cannot_fetch("https://x.example/license.xml", "HTTP 503").evaluate(IMG)
    assert verdict.status is RslStatus.PROHIBITED and "HTTP 503" in verdict.reason


@pytest.mark.parametrize("url", ["http://[::1", "https://news.example.com/\ud800"])
def test_unparseable_url_is_prohibited_never_raises(url):
    verdict = doc('<content url="/"><license><payment type="free"/></license></content>').evaluate(url)
    assert verdict.status is RslStatus.PROHIBITED and "cannot be parsed" in verdict.reason


def test_robots_license_line_is_global_and_ends_no_group():
    text = (b"License: https://news.example.com/license.xml\nUser-agent: a\nLicense: /second.xml\n"
            b"User-agent: faircrawl\nDisallow: /private\nContent-Usage: train-ai=n\n")
    robots = RobotsTxt.parse(text)
    pointers = rsl.robots_pointers(robots, "https://news.example.com/robots.txt")
    assert [(p.url, p.source) for p in pointers] == [
        ("https://news.example.com/license.xml", "robots.txt line 1"),
        ("https://news.example.com/second.xml", "robots.txt line 3")]
    assert robots.check("https://news.example.com/private/x", "a").allowed is False  # one group for a and faircrawl


def test_link_header_and_html_discovery():
    pointers = rsl.header_pointers(['</license.xml>; rel="license"; type="application/rsl+xml", '
                                    '<https://creativecommons.org/licenses/by/4.0/>; rel=license'], IMG)
    assert [p.url for p in pointers] == ["https://news.example.com/license.xml"]
    html = (f'<html><head><link rel="license" type="application/rsl+xml" href="/l.xml">'
            f'<script type="application/rsl+xml"><rsl {NS}><content url="/"><license><prohibits type="usage">ai-all'
            f'</prohibits></license></content></rsl></script></head></html>')
    found, inline = rsl.html_pointers(html, "https://news.example.com/page")
    assert [p.url for p in found] == ["https://news.example.com/l.xml"]
    assert inline[0].evaluate(IMG).status is RslStatus.PROHIBITED


@pytest.mark.parametrize("html", ["", "\x00" * 1000, "<link rel=license type=application/rsl+xml>", 42])
def test_hostile_html_discovery_never_raises(html):
    found, inline = rsl.html_pointers(html, "https://news.example.com/")
    assert isinstance(found, list) and isinstance(inline, list)
