"""Percent-encoding equivalence shared by robots.txt, aipref Content-Usage paths and TDMRep locations.

Tables: RFC 9309 §2.2.2 (the percent-encoding table) and §2.2.3 (special
characters and their encoded forms); the TDMRep CG report, "Use of regular
expressions" (``/path/foo-%24`` matches ``https://provider.com/path/foo-$``) and
its rule that percent-encoded unreserved characters are decoded first (``%7E``
is ``~``).
"""

from __future__ import annotations

import pytest

from policy.pathmatch import UnmatchableURL, normalize_target, url_matches_pattern
from policy.robots import RobotsTxt
from policy.signals.aipref import RobotsUsage
from policy.signals.tdmrep import TdmRepFile

HOST = "https://www.example.com"

# (pattern as written in the file, URL path, matches)
RFC_9309_TABLE = [
    # §2.2.2 percent-encoding table
    pytest.param("/foo/bar?baz=quz", "/foo/bar?baz=quz", True, id="2.2.2-query-as-is"),
    pytest.param("/foo/bar?baz=https%3A%2F%2Ffoo.bar", "/foo/bar?baz=https%3A%2F%2Ffoo.bar", True,
                 id="2.2.2-encoded-reserved-query"),
    pytest.param("/foo/bar?baz=https%3a%2f%2ffoo.bar", "/foo/bar?baz=https%3A%2F%2Ffoo.bar", True,
                 id="2.2.2-encoded-reserved-query-hex-case"),
    # the table's row as a site writes it: the pattern's reserved octets are encoded before comparison
    pytest.param("/foo/bar?baz=https://foo.bar", "/foo/bar?baz=https%3A%2F%2Ffoo.bar", True,
                 id="2.2.2-raw-reserved-pattern-encoded-url"),
    pytest.param("/foo/bar?baz=https%3A%2F%2Ffoo.bar", "/foo/bar?baz=https://foo.bar", True,
                 id="2.2.2-encoded-pattern-raw-reserved-url"),
    pytest.param("/a:b", "/a%3Ab", True, id="2.2.2-reserved-data-in-path-raw-pattern"),
    pytest.param("/a%3Ab", "/a:b", True, id="2.2.2-reserved-data-in-path-raw-url"),
    pytest.param("/u/@me;v=1", "/u/%40me%3Bv%3D1", True, id="2.2.2-path-sub-delims-are-data"),
    pytest.param("/foo/bar/ツ", "/foo/bar/%E3%83%84", True, id="2.2.2-non-ascii-encoded"),
    pytest.param("/foo/bar/%E3%83%84", "/foo/bar/%E3%83%84", True, id="2.2.2-encoded-stays"),
    pytest.param("/foo/bar/%E3%83%84", "/foo/bar/ツ", True, id="2.2.2-encoded-pattern-raw-url"),
    pytest.param("/foo/bar/%62%61%7A", "/foo/bar/baz", True, id="2.2.2-unreserved-decoded"),
    pytest.param("/foo/bar/baz", "/foo/bar/%62%61%7A", True, id="2.2.2-unreserved-decoded-in-url"),
    # §2.2.3: an encoded special character is the literal character
    pytest.param("/path/file-with-a-%2A.html", "/path/file-with-a-*.html", True, id="2.2.3-%2A-matches-literal-star"),
    pytest.param("/path/file-with-a-%2A.html", "/path/file-with-a-%2A.html", True, id="2.2.3-%2A-matches-encoded-star"),
    pytest.param("/path/file-with-a-%2a.html", "/path/file-with-a-*.html", True, id="2.2.3-lower-hex-%2a"),
    pytest.param("/path/file-with-a-%2A.html", "/path/file-with-a-x.html", False, id="2.2.3-%2A-is-no-wildcard"),
    pytest.param("/path/foo-%24", "/path/foo-$", True, id="2.2.3-%24-matches-literal-dollar"),
    pytest.param("/path/foo-%24", "/path/foo-%24", True, id="2.2.3-%24-matches-encoded-dollar"),
    pytest.param("/path/foo-%24", "/path/foo-", False, id="2.2.3-%24-is-no-anchor"),
    pytest.param("/path/foo-%24", "/path/foo-$/more", True, id="2.2.3-%24-prefix"),
    # §2.2.3: written specials are operators
    pytest.param("/this/path/exactly$", "/this/path/exactly", True, id="2.2.3-dollar-anchor"),
    pytest.param("/this/path/exactly$", "/this/path/exactly/more", False, id="2.2.3-dollar-anchor-stops"),
    pytest.param("/this/*/exactly", "/this/a/b/exactly", True, id="2.2.3-star"),
    pytest.param("/this/*/exactly", "/this/exactly", False, id="2.2.3-star-needs-slashes"),
    # in a URL, * and $ are literal
    pytest.param("/a*c", "/a*c", True, id="url-star-literal-matched-by-wildcard"),
    pytest.param("/a%2Ac", "/abc", False, id="url-b-not-encoded-star"),
    pytest.param("/a$b", "/a$b", True, id="inner-dollar-literal"),
    pytest.param("/a$b", "/a%24b", True, id="inner-dollar-literal-vs-encoded"),
    pytest.param("/price$", "/price%24", False, id="final-dollar-is-anchor-not-literal"),
    pytest.param("/price%24$", "/price$", True, id="encoded-dollar-then-anchor"),
    pytest.param("/price%24$", "/price$x", False, id="encoded-dollar-then-anchor-stops"),
    # reserved escapes stay distinct from the character
    pytest.param("/a%2Fb", "/a/b", False, id="reserved-slash-stays-encoded"),
    pytest.param("/a%3Fb", "/a?b", False, id="reserved-question-stays-encoded"),
    # ... and so do the query's field delimiters
    pytest.param("/s?a=1&b=2", "/s?a=1%26b=2", False, id="query-ampersand-stays-distinct"),
    pytest.param("/s?a%3D1", "/s?a=1", False, id="query-equals-stays-distinct"),
    pytest.param("/s?q=a+b", "/s?q=a%2Bb", False, id="query-plus-stays-distinct"),
    pytest.param("/s?next=/a/b", "/s?next=%2Fa%2Fb", True, id="query-slash-is-data"),
]


@pytest.mark.parametrize(("pattern", "path", "expected"), RFC_9309_TABLE)
def test_rfc_9309_percent_encoding_table_in_robots_rules(pattern, path, expected):
    robots = RobotsTxt.parse(f"User-agent: *\nDisallow: {pattern}\n".encode())
    verdict = robots.check(HOST + path, "faircrawl")
    assert verdict.allowed is (not expected), verdict.explanation


@pytest.mark.parametrize(("pattern", "path", "expected"), RFC_9309_TABLE)
def test_same_table_for_aipref_content_usage_paths(pattern, path, expected):
    # attach-05 §3: Content-Usage paths "use the same percent-encoding rules as used for Allow/Disallow".
    usage = RobotsUsage.from_robots(f"User-agent: *\nContent-Usage: {pattern} train-ai=n\n".encode(), "faircrawl")
    prefs, _ = usage.for_url(HOST + path)
    assert (prefs.train_ai.value == "n") is expected


# TDMRep "Use of regular expressions" and its percent-encoding paragraph.
TDMREP_TABLE = [
    pytest.param("/path/foo-%24", "https://provider.com/path/foo-$", True, id="spec-example-%24"),
    pytest.param("/~user/", "/%7Euser/photo.jpg", True, id="%7E-in-url-is-tilde"),
    pytest.param("/%7Euser/", "/~user/photo.jpg", True, id="%7E-in-location-is-tilde"),
    pytest.param("/%7euser/", "/~user/photo.jpg", True, id="%7e-lower-hex"),
    pytest.param("/this/path/exactly$", "/this/path/exactly", True, id="spec-dollar"),
    pytest.param("/this/path/exactly$", "/this/path/exactly/x", False, id="spec-dollar-stops"),
    pytest.param("/this/*/then", "/this/a/then", True, id="spec-star"),
    pytest.param("/a%2Fb", "/a/b", False, id="reserved-stays-encoded"),
    pytest.param("/caf%C3%A9/", "/café/x", True, id="non-ascii"),
    pytest.param("/Images/", "/images/x", False, id="case-sensitive"),
]


@pytest.mark.parametrize(("location", "target", "expected"), TDMREP_TABLE)
def test_tdmrep_locations_use_the_same_normalisation(location, target, expected):
    file = TdmRepFile.parse(f'[{{"location": "{location}", "tdm-reservation": 1}}]'.encode())
    assert file.lookup(target).reserved is expected


@pytest.mark.parametrize("url", ["http://[::1", "http://[::1/a", "https://example.com/\ud800", "http://x/\udcff.jpg"])
def test_unparseable_urls_raise_only_the_declared_error(url):
    with pytest.raises(UnmatchableURL):
        normalize_target(url)
    with pytest.raises(UnmatchableURL):
        url_matches_pattern("/", url)
