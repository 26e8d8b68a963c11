"""Table-driven tests for :mod:`policy.robots` against RFC 9309.

The rules tested here are the ones quoted in
``/work/shared/reference/standards-and-law.md`` §1.1 (RFC 9309 §§2.1-2.5, 5.2),
plus the non-standard Crawl-delay convention and a differential check against
Protego 0.7 for ordinary files.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
from protego import Protego

from policy.robots import (
    DEFAULT_ROBOTS_TTL_SECONDS,
    DEFAULT_ROBOTS_UNREACHABLE_TTL_SECONDS,
    ROBOTS_MAX_REDIRECTS,
    ROBOTS_PARSE_LIMIT_BYTES,
    RobotsAvailability,
    RobotsTxt,
)

TOKEN = "faircrawl"
HOST = "https://example.com"


def robots(text: str | bytes) -> RobotsTxt:
    body = text.encode("utf-8") if isinstance(text, str) else text
    return RobotsTxt.parse(body)


def allowed(text: str | bytes, path: str, token: str = TOKEN) -> bool:
    return robots(text).check(HOST + path, token).allowed


# ---------------------------------------------------------------------------
# Constants
# ---------------------------------------------------------------------------


def test_parse_limit_is_at_least_500_kibibytes():
    # RFC 9309 §2.5: "The parsing limit MUST be at least 500 kibibytes".
    assert ROBOTS_PARSE_LIMIT_BYTES >= 500 * 1024
    assert ROBOTS_PARSE_LIMIT_BYTES == 512_000


def test_cache_ttl_default_is_24_hours_and_unreachable_ttl_is_shorter():
    assert DEFAULT_ROBOTS_TTL_SECONDS == 24 * 3600
    assert 0 < DEFAULT_ROBOTS_UNREACHABLE_TTL_SECONDS < DEFAULT_ROBOTS_TTL_SECONDS


def test_redirect_limit_follows_at_least_five_redirects():
    # RFC 9309 §2.3.1.2: follow "at least five consecutive redirects".
    assert ROBOTS_MAX_REDIRECTS >= 5


# ---------------------------------------------------------------------------
# Groups (RFC 9309 §2.1, §2.2.4)
# ---------------------------------------------------------------------------

GROUP_CASES = [
    pytest.param(
        "User-agent: otherbot\nUser-agent: faircrawl\nUser-agent: thirdbot\nDisallow: /x\n",
        "/x", False,
        id="several-user-agent-lines-share-one-group",
    ),
    pytest.param(
        "User-agent: faircrawl\nDisallow: /a\nUser-agent: otherbot\nDisallow: /b\n",
        "/b", True,
        id="user-agent-after-rules-starts-new-group",
    ),
    pytest.param(
        "User-agent: faircrawl\nDisallow: /a\nUser-agent: otherbot\nDisallow: /b\n",
        "/a", False,
        id="first-group-rules-still-apply-after-new-group",
    ),
    pytest.param(
        "User-agent: *\nDisallow: /\n\nUser-agent: faircrawl\n",
        "/anything", True,
        id="last-group-without-rules-allows-everything",
    ),
    pytest.param(
        "Disallow: /\nUser-agent: *\nAllow: /elsewhere\n",
        "/private", True,
        id="rule-before-any-user-agent-is-ignored",
    ),
    pytest.param(
        "User-agent: otherbot\nSitemap: https://example.com/s.xml\nUser-agent: faircrawl\nDisallow: /x\n",
        "/x", False,
        id="sitemap-between-user-agents-does-not-end-group",
    ),
    pytest.param(
        "User-agent: faircrawl\nDisallow: /a\nSitemap: https://example.com/s.xml\nDisallow: /b\n",
        "/b", False,
        id="sitemap-between-rules-does-not-end-group",
    ),
    pytest.param(
        "User-agent: otherbot\nContent-Usage: train-ai=n\nUser-agent: faircrawl\nDisallow: /x\n",
        "/x", False,
        id="content-usage-between-user-agents-does-not-end-group",
    ),
    pytest.param(  # Cloudflare's Content-Signal is no RFC 9309 rule: an "other record" (§2.2.4)
        "User-agent: faircrawl\nContent-Signal: ai-train=no\nUser-agent: otherbot\nDisallow: /private/\n",
        "/private/a.jpg", False,
        id="content-signal-after-user-agent-does-not-end-group",
    ),
    pytest.param(  # the aipref attach draft extends the rules with Content-Usage: a user-agent line after it is new
        "User-agent: faircrawl\nContent-Usage: train-ai=n\nUser-agent: otherbot\nDisallow: /private/\n",
        "/private/a.jpg", True,
        id="content-usage-is-a-rule-so-next-user-agent-starts-new-group",
    ),
    pytest.param(
        "User-agent: otherbot\nHost: example.com\nUser-agent: faircrawl\nDisallow: /x\n",
        "/x", False,
        id="host-between-user-agents-does-not-end-group",
    ),
    pytest.param(
        "User-agent: faircrawl\nDisallow: /a\nContent-Signal: ai-train=no\nDisallow: /b\n",
        "/b", False,
        id="unknown-record-between-rules-does-not-end-group",
    ),
    pytest.param(
        "User-agent: otherbot\n\nUser-agent: faircrawl\n\nDisallow: /x\n",
        "/x", False,
        id="blank-lines-do-not-end-group",
    ),
    pytest.param(
        "User-agent: faircrawl\nDisallow:\nUser-agent: otherbot\nDisallow: /x\n",
        "/x", True,
        id="empty-disallow-counts-as-rule-so-next-user-agent-starts-new-group",
    ),
]


@pytest.mark.parametrize(("text", "path", "expected"), GROUP_CASES)
def test_group_boundaries_decide_which_rules_apply(text, path, expected):
    assert allowed(text, path) is expected


def test_several_user_agent_lines_form_one_group_with_all_agents():
    r = robots("User-agent: a\nUser-agent: b\nUser-agent: faircrawl\nDisallow: /x\n")
    assert len(r.groups) == 1
    assert r.groups[0].user_agents == ["a", "b", "faircrawl"]
    assert r.check(HOST + "/x", TOKEN).group_agents == ("a", "b", "faircrawl")


def test_sitemap_lines_are_collected_and_do_not_create_groups():
    r = robots(
        "Sitemap: https://example.com/a.xml\n"
        "User-agent: faircrawl\nSitemap: https://example.com/b.xml\nDisallow: /x\n"
    )
    assert r.sitemaps == ["https://example.com/a.xml", "https://example.com/b.xml"]
    assert len(r.groups) == 1


def test_rule_before_any_user_agent_counts_as_invalid_line():
    r = robots("Disallow: /\nAllow: /x\nUser-agent: *\nDisallow: /y\n")
    assert r.invalid_lines == 2
    assert r.check(HOST + "/", TOKEN).allowed is True


# ---------------------------------------------------------------------------
# Product-token matching (RFC 9309 §2.2.1)
# ---------------------------------------------------------------------------

TOKEN_MATCH_CASES = [
    pytest.param("faircrawl", "faircrawl", True, id="exact"),
    pytest.param("FAIRCRAWL", "faircrawl", True, id="upper-case-line"),
    pytest.param("faircrawl", "FairCrawl", True, id="mixed-case-token"),
    pytest.param("FaIrCrAwL", "FAIRCRAWL", True, id="both-mixed"),
    pytest.param("faircrawl/1.0", "faircrawl", True, id="version-suffix"),
    pytest.param("faircrawl/2.3 (+https://example.org/bot)", "faircrawl", True, id="version-and-comment"),
    pytest.param("  faircrawl  ", "faircrawl", True, id="surrounding-whitespace"),
    pytest.param("Googlebot-Image", "googlebot-image", True, id="hyphen-in-token"),
    pytest.param("face_consent_bot", "Face_Consent_Bot", True, id="underscore-in-token"),
    pytest.param("fair", "faircrawl", False, id="prefix-line-not-applied"),
    pytest.param("faircrawler", "faircrawl", False, id="longer-line-not-applied"),
    pytest.param("faircrawl-images", "faircrawl", False, id="hyphenated-extension-not-applied"),
    pytest.param("crawl", "faircrawl", False, id="suffix-line-not-applied"),
    pytest.param("otherbot", "faircrawl", False, id="different-token"),
    pytest.param("Googlebot", "Googlebot-Image", False, id="shorter-family-token-not-applied"),
]


@pytest.mark.parametrize(("ua_line", "token", "applies"), TOKEN_MATCH_CASES)
def test_group_applies_only_on_case_insensitive_exact_token(ua_line, token, applies):
    text = f"User-agent: {ua_line}\nDisallow: /x\n"
    verdict = robots(text).check(HOST + "/x", token)
    assert verdict.allowed is (not applies)
    assert verdict.group_agents == ((ua_line.strip(),) if applies else ())


def test_prefix_token_group_does_not_apply_and_star_group_is_used_instead():
    # Protego 0.7.0 applies "User-agent: fair" to "faircrawl"; RFC 9309 does not.
    text = "User-agent: fair\nDisallow: /\n\nUser-agent: *\nDisallow: /star-only\n"
    r = robots(text)
    assert r.check(HOST + "/page", TOKEN).allowed is True
    star = r.check(HOST + "/star-only", TOKEN)
    assert star.allowed is False
    assert star.group_agents == ("*",)


def test_groups_for_same_token_are_merged():
    text = (
        "User-agent: faircrawl\nDisallow: /a\n\n"
        "User-agent: *\nDisallow: /\n\n"
        "User-agent: FairCrawl\nDisallow: /b\n"
    )
    r = robots(text)
    assert r.check(HOST + "/a", TOKEN).allowed is False
    assert r.check(HOST + "/b", TOKEN).allowed is False
    merged = r.check(HOST + "/c", TOKEN)
    assert merged.allowed is True  # the '*' Disallow: / is not merged in
    assert merged.group_agents == ("faircrawl", "FairCrawl")


def test_merged_groups_use_longest_match_across_groups():
    text = (
        "User-agent: faircrawl\nDisallow: /photos/\n\n"
        "User-agent: faircrawl\nAllow: /photos/public/\n"
    )
    r = robots(text)
    assert r.check(HOST + "/photos/public/a.jpg", TOKEN).allowed is True
    assert r.check(HOST + "/photos/private/a.jpg", TOKEN).allowed is False


FALLBACK_CASES = [
    pytest.param(
        "User-agent: *\nDisallow: /\n", "/x", False,
        id="star-group-used-when-no-named-group",
    ),
    pytest.param(
        "User-agent: *\nDisallow: /\n\nUser-agent: faircrawl\nAllow: /other\n", "/x", True,
        id="star-group-ignored-when-named-group-exists",
    ),
    pytest.param(
        "User-agent: otherbot\nDisallow: /\n", "/x", True,
        id="no-star-and-no-named-group-allows",
    ),
    pytest.param(
        "", "/x", True,
        id="empty-file-allows",
    ),
    pytest.param(
        "User-agent: *\nUser-agent: faircrawl\nDisallow: /x\n", "/x", False,
        id="named-and-star-in-same-group",
    ),
]


@pytest.mark.parametrize(("text", "path", "expected"), FALLBACK_CASES)
def test_star_group_applies_only_without_named_group(text, path, expected):
    assert allowed(text, path) is expected


def test_no_star_and_no_named_group_explains_no_rules_apply():
    verdict = robots("User-agent: otherbot\nDisallow: /\n").check(HOST + "/x", TOKEN)
    assert verdict.allowed is True
    assert verdict.rule is None
    assert verdict.group_agents == ()
    assert "no rules apply" in verdict.explanation


# ---------------------------------------------------------------------------
# Longest match, ties, implicit /robots.txt (RFC 9309 §2.2.2)
# ---------------------------------------------------------------------------

PRECEDENCE_CASES = [
    pytest.param("Disallow: /\nAllow: /public", "/public/a", True, "Allow: /public",
                 id="longest-match-wins-allow-over-shorter-disallow"),
    pytest.param("Allow: /\nDisallow: /private", "/private/a", False, "Disallow: /private",
                 id="longest-match-wins-disallow-over-shorter-allow"),
    pytest.param("Allow: /private/press-kit/\nDisallow: /private/", "/private/press-kit/logo.png",
                 True, "Allow: /private/press-kit/", id="order-in-file-does-not-matter"),
    pytest.param("Disallow: /a\nAllow: /a", "/a", True, "Allow: /a",
                 id="allow-wins-tie-allow-last"),
    pytest.param("Allow: /a\nDisallow: /a", "/a", True, "Allow: /a",
                 id="allow-wins-tie-allow-first"),
    pytest.param("Disallow: /ab*\nAllow: /a*c", "/abc", True, "Allow: /a*c",
                 id="allow-wins-tie-equal-length-wildcards"),
    pytest.param("Disallow: /private", "/public", True, None,
                 id="no-matching-rule-allows"),
    pytest.param("Disallow:", "/anything", True, None,
                 id="empty-disallow-allows"),
    pytest.param("Disallow: \nDisallow: /x", "/y", True, None,
                 id="empty-disallow-with-other-rules-allows-unmatched"),
    pytest.param("Disallow: /*ab\nAllow: /éé", "/ééab", True, "Allow: /éé",
                 id="length-counted-in-octets-not-characters"),
    pytest.param("Disallow: /fish\nAllow: /fish*", "/fish.html", True, "Allow: /fish*",
                 id="wildcard-counts-toward-length"),
]


@pytest.mark.parametrize(("rules", "path", "expected", "rule_text"), PRECEDENCE_CASES)
def test_most_specific_rule_decides(rules, path, expected, rule_text):
    verdict = robots(f"User-agent: faircrawl\n{rules}\n").check(HOST + path, TOKEN)
    assert verdict.allowed is expected
    if rule_text is None:
        assert verdict.rule is None
    else:
        assert verdict.rule is not None and verdict.rule.text == rule_text


@pytest.mark.parametrize(
    ("text", "sibling_allowed"),
    [
        pytest.param("User-agent: *\nDisallow: /\n", False, id="disallow-root"),
        pytest.param("User-agent: faircrawl\nDisallow: /robots.txt\n", False,
                     id="disallow-robots-txt"),
        pytest.param("User-agent: *\nDisallow: /*.txt$\n", True, id="disallow-txt-wildcard"),
    ],
)
def test_robots_txt_is_implicitly_allowed(text, sibling_allowed):
    r = robots(text)
    verdict = r.check(HOST + "/robots.txt", TOKEN)
    assert verdict.allowed is True
    assert verdict.rule is None
    assert "RFC 9309" in verdict.explanation
    # The implicit allow covers /robots.txt only, not paths that merely start with it.
    assert r.check(HOST + "/robots.txt.bak", TOKEN).allowed is sibling_allowed


# ---------------------------------------------------------------------------
# Special characters, paths, encoding (RFC 9309 §2.2.2, §2.2.3, §5.2)
# ---------------------------------------------------------------------------

MATCH_CASES = [
    # '*' wildcard
    pytest.param("/fish*", "/fish", False, id="star-matches-empty"),
    pytest.param("/fish*", "/fish.html", False, id="star-matches-suffix"),
    pytest.param("/fish*", "/fishheads/yummy.html", False, id="star-matches-subdir"),
    pytest.param("/fish*", "/catfish", True, id="match-starts-at-first-octet-of-path"),
    pytest.param("/*.php", "/index.php", False, id="star-in-middle"),
    pytest.param("/*.php", "/folder/filename.php?parameters", False, id="star-then-query"),
    pytest.param("/*.php", "/windows.PHP", True, id="star-pattern-case-sensitive"),
    pytest.param("/a*b*c", "/axxbyyc", False, id="several-stars"),
    pytest.param("/a*b*c", "/axxc", True, id="several-stars-missing-piece"),
    pytest.param("*", "/anything", False, id="lone-star-matches-everything"),
    pytest.param("/a.b", "/aXb", True, id="dot-is-literal"),
    # '$' anchor
    pytest.param("/fish$", "/fish", False, id="dollar-exact-end"),
    pytest.param("/fish$", "/fish/", True, id="dollar-rejects-longer-path"),
    pytest.param("/fish$", "/fish?x=1", True, id="dollar-rejects-query"),
    pytest.param("/*.gif$", "/img/a.gif", False, id="star-dollar-matches"),
    pytest.param("/*.gif$", "/img/a.gif.html", True, id="star-dollar-rejects-suffix"),
    pytest.param("/faces/*.jpg$", "/faces/a.jpg", False, id="faces-jpg-dollar-blocks-plain"),
    pytest.param("/faces/*.jpg$", "/faces/a.jpg?x=1", True, id="faces-jpg-dollar-allows-query"),
    pytest.param("/faces/*.jpg?", "/faces/a.jpg?x=1", False, id="faces-jpg-question-blocks-query"),
    pytest.param("/a$b", "/a$b", False, id="inner-dollar-is-literal"),
    pytest.param("/a$b", "/a", True, id="inner-dollar-is-not-anchor"),
    # query strings
    pytest.param("/search?q=", "/search?q=cats", False, id="query-string-matched"),
    pytest.param("/search?q=", "/search", True, id="query-pattern-needs-query"),
    pytest.param("/*?", "/page?x=1", False, id="any-query-blocked"),
    pytest.param("/*?", "/page", True, id="no-query-not-blocked"),
    # case sensitivity
    pytest.param("/Private", "/private/a", True, id="path-case-sensitive-lower-url"),
    pytest.param("/Private", "/Private/a", False, id="path-case-sensitive-same-case"),
    pytest.param("/private", "/PRIVATE", True, id="path-case-sensitive-upper-url"),
    # percent-encoding equivalence
    pytest.param("/caf%C3%A9", "/café", False, id="encoded-pattern-raw-url"),
    pytest.param("/café", "/caf%C3%A9", False, id="raw-pattern-encoded-url"),
    pytest.param("/café", "/caf%c3%a9", False, id="raw-pattern-lower-encoded-url"),
    pytest.param("/caf%c3%a9", "/café", False, id="lower-encoded-pattern-raw-url"),
    pytest.param("/a%2fb", "/a%2Fb", False, id="lower-hex-pattern-upper-hex-url"),
    pytest.param("/a%2Fb", "/a%2fb", False, id="upper-hex-pattern-lower-hex-url"),
    pytest.param("/a%2Fb", "/a/b", True, id="encoded-slash-not-equal-slash"),
    pytest.param("/photos/ü*.jpg$", "/photos/%C3%BCber.jpg", False, id="non-ascii-with-wildcards"),
    pytest.param("/a b", "/a%20b", False, id="space-encoded"),
]


@pytest.mark.parametrize(("pattern", "path", "expected"), MATCH_CASES)
def test_path_pattern_matching(pattern, path, expected):
    assert allowed(f"User-agent: faircrawl\nDisallow: {pattern}\n", path) is expected


def test_rfc_example_5_2_longer_disallow_beats_allow_for_gif():
    text = (
        "User-agent: *\n"
        "Allow: /example/page/\n"
        "Disallow: /example/page/disallowed.gif\n"
    )
    r = robots(text)
    gif = r.check(HOST + "/example/page/disallowed.gif", TOKEN)
    assert gif.allowed is False
    assert gif.rule is not None and gif.rule.text == "Disallow: /example/page/disallowed.gif"
    page = r.check(HOST + "/example/page/index.html", TOKEN)
    assert page.allowed is True
    assert page.rule is not None and page.rule.text == "Allow: /example/page/"


def test_fragment_is_not_part_of_matched_path():
    assert allowed("User-agent: *\nDisallow: /a$\n", "/a#section") is False


def test_url_without_path_is_matched_as_root():
    r = robots("User-agent: *\nDisallow: /$\n")
    assert r.check("https://example.com", TOKEN).allowed is False
    assert r.check("https://example.com/x", TOKEN).allowed is True


# ---------------------------------------------------------------------------
# Syntax robustness (RFC 9309 §2.2.3, §2.3.1.5)
# ---------------------------------------------------------------------------

COMMENT_CASES = [
    pytest.param("User-agent: faircrawl\nDisallow: /a # not /a-b\n", "/a", False,
                 id="trailing-comment-stripped-from-rule"),
    pytest.param("User-agent: faircrawl\nDisallow: /a#b\n", "/ab", False,
                 id="hash-starts-comment-inside-value"),
    pytest.param("User-agent: faircrawl # our bot\nDisallow: /a\n", "/a", False,
                 id="trailing-comment-stripped-from-user-agent"),
    pytest.param("# User-agent: faircrawl\n# Disallow: /\nUser-agent: *\nAllow: /\n", "/x", True,
                 id="commented-out-lines-ignored"),
    pytest.param("User-agent: faircrawl\n# Disallow: /a\nDisallow: /b\n", "/a", True,
                 id="comment-line-inside-group-ignored"),
    pytest.param("User-agent: faircrawl\n   \n\t\nDisallow: /a\n", "/a", False,
                 id="whitespace-only-lines-ignored"),
    pytest.param("  User-agent :  faircrawl  \n\tDisallow :\t/a  \n", "/a", False,
                 id="whitespace-around-key-and-value"),
    pytest.param("USER-AGENT: faircrawl\nDISALLOW: /a\n", "/a", False,
                 id="keys-case-insensitive"),
    pytest.param("useragent: faircrawl\ndisallow: /a\n", "/a", False,
                 id="useragent-without-hyphen"),
    pytest.param("User-agent:faircrawl\nDisallow:/a\n", "/a", False,
                 id="no-space-after-colon"),
]


@pytest.mark.parametrize(("text", "path", "expected"), COMMENT_CASES)
def test_comments_and_whitespace_do_not_change_rules(text, path, expected):
    assert allowed(text, path) is expected


@pytest.mark.parametrize("eol", ["\n", "\r\n", "\r"], ids=["lf", "crlf", "cr"])
def test_line_endings_lf_crlf_cr_parse_identically(eol):
    lines = ["User-agent: otherbot", "Disallow: /", "", "User-agent: faircrawl",
             "Allow: /a/public", "Disallow: /a"]
    r = robots(eol.join(lines) + eol)
    assert r.check(HOST + "/a/x", TOKEN).allowed is False
    verdict = r.check(HOST + "/a/public/x", TOKEN)
    assert verdict.allowed is True
    assert verdict.rule is not None and verdict.rule.line_number == 5
    assert r.check(HOST + "/b", TOKEN).allowed is True
    assert r.check(HOST + "/a/x", TOKEN).rule.line_number == 6


def test_mixed_line_endings_in_one_file_parse():
    r = robots(b"User-agent: faircrawl\r\nDisallow: /a\rDisallow: /b\nDisallow: /c\r\n")
    for path in ("/a", "/b", "/c"):
        assert r.check(HOST + path, TOKEN).allowed is False
    assert r.check(HOST + "/c", TOKEN).rule.line_number == 4


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"\xef\xbb\xbfUser-agent: faircrawl\nDisallow: /x\n", id="bytes"),
        pytest.param("\ufeffUser-agent: faircrawl\nDisallow: /x\n", id="str"),
    ],
)
def test_utf8_bom_is_skipped_so_first_line_parses(body):
    r = RobotsTxt.parse(body)
    assert r.check(HOST + "/x", TOKEN).allowed is False
    assert r.groups[0].user_agents == ["faircrawl"]


def test_binary_garbage_lines_are_skipped_and_valid_rules_still_apply():
    body = (
        b"\x00\x01\x02\xff\xfe\xfd\n"
        b"User-agent: faircrawl\n"
        b"\x89PNG\x1a\x00\x00\x00IHDR\n"
        b"Disallow: /private\n"
        b"\xc3\x28\xa0\xa1 garbage without colon\n"
        b"Allow: /private/ok\n"
    )
    r = RobotsTxt.parse(body)
    assert r.check(HOST + "/private/x", TOKEN).allowed is False
    assert r.check(HOST + "/private/ok/x", TOKEN).allowed is True
    assert r.check(HOST + "/public", TOKEN).allowed is True
    assert r.invalid_lines == 3


def test_unparseable_lines_are_counted_in_invalid_lines():
    text = (
        "Disallow: /before-any-group\n"  # rule outside a group
        "User-agent: faircrawl\n"
        "this line has no colon\n"
        "Disallow /missing-colon\n"  # read leniently, as Google does
        "Crawl-delay: soon\n"  # invalid value
        "Disallow: /x\n"
        "Content-Usage: train-ai=n\n"  # a known other record: not invalid
        "Sitemap: https://example.com/s.xml\n"
    )
    r = robots(text)
    assert r.invalid_lines == 3
    assert r.lenient_lines == [4]
    assert r.check(HOST + "/x", TOKEN).allowed is False
    assert r.check(HOST + "/missing-colon", TOKEN).allowed is False


def test_valid_file_has_no_invalid_lines():
    r = robots("# hi\nUser-agent: *\nDisallow: /x\nAllow: /x/y\nCrawl-delay: 1\n")
    assert r.invalid_lines == 0
    assert r.truncated is False
    assert r.availability is RobotsAvailability.PARSED


@pytest.mark.parametrize("key", ["Dissallow", "dissalow", "Disalow", "diasllow", "Disallaw"])
def test_misspelled_disallow_is_read_as_disallow(key):
    r = robots(f"User-agent: faircrawl\n{key}: /x\n")
    verdict = r.check(HOST + "/x", TOKEN)
    assert verdict.allowed is False
    assert verdict.rule is not None and verdict.rule.allow is False


def test_str_body_parses_like_bytes_body():
    text = "User-agent: faircrawl\nDisallow: /café\n"
    a, b = RobotsTxt.parse(text), RobotsTxt.parse(text.encode())
    for path in ("/café", "/caf%C3%A9", "/cafe"):
        assert a.check(HOST + path, TOKEN).allowed == b.check(HOST + path, TOKEN).allowed


# ---------------------------------------------------------------------------
# Crawl-delay (non-standard convention)
# ---------------------------------------------------------------------------

CRAWL_DELAY_CASES = [
    pytest.param("User-agent: faircrawl\nCrawl-delay: 5\n", 5.0, id="matching-group"),
    pytest.param("User-agent: faircrawl\nCrawl-delay: 0.5\n", 0.5, id="fractional"),
    pytest.param("User-agent: faircrawl\nCrawl-delay: 0\n", 0.0, id="zero"),
    pytest.param("User-agent: *\nCrawl-delay: 3\n", 3.0, id="star-fallback-without-named-group"),
    pytest.param("User-agent: *\nCrawl-delay: 3\n\nUser-agent: faircrawl\nCrawl-delay: 7\n",
                 7.0, id="named-group-preferred-over-star"),
    # RFC 9309 §2.2.4: Crawl-delay is an "other record", so it does not end the '*' group: one group for both.
    pytest.param("User-agent: *\nCrawl-delay: 3\n\nUser-agent: faircrawl\nDisallow: /x\n",
                 3.0, id="crawl-delay-does-not-end-a-group"),
    pytest.param("User-agent: *\nCrawl-delay: 3\nDisallow: /\n\nUser-agent: faircrawl\nDisallow: /x\n",
                 None, id="named-group-without-delay-does-not-inherit-star"),
    pytest.param("User-agent: otherbot\nCrawl-delay: 9\n", None, id="other-agent-only"),
    pytest.param("User-agent: faircrawl\nCrawl-delay: soon\n", None, id="non-numeric-ignored"),
    pytest.param("User-agent: faircrawl\nCrawl-delay:\n", None, id="empty-ignored"),
    pytest.param("User-agent: faircrawl\nCrawl-delay: -1\n", None, id="negative-ignored"),
    pytest.param("User-agent: faircrawl\nCrawl-delay: nan\n", None, id="nan-ignored"),
    pytest.param("User-agent: faircrawl\nCrawl-delay: inf\n", None, id="infinity-ignored"),
    pytest.param("Crawl-delay: 4\nUser-agent: faircrawl\nDisallow: /x\n", None,
                 id="before-any-group-ignored"),
    pytest.param("User-agent: faircrawl\nCrawl-delay: 2\n\nUser-agent: FAIRCRAWL\nCrawl-delay: 10\n"
                 "\nUser-agent: faircrawl\nCrawl-delay: 4\n", 10.0, id="max-of-merged-groups"),
    pytest.param("User-agent: faircrawl\nCrawl-delay: 2\nCrawl-delay: x\n", 2.0,
                 id="invalid-value-keeps-earlier-valid"),
]


@pytest.mark.parametrize(("text", "expected"), CRAWL_DELAY_CASES)
def test_crawl_delay_read_for_applicable_group(text, expected):
    assert robots(text).crawl_delay(TOKEN) == expected


# Request-rate (non-standard, as Protego reads it; standards-and-law.md §8.1: "honour Crawl-delay and
# Request-rate by translating them into per-host delay"): requests/period[s|m|h|d], an optional UTC window.
REQUEST_RATE_CASES = [
    pytest.param("User-agent: faircrawl\nRequest-rate: 1/5\n", 5.0, "Request-rate 1/5 (line 2)", id="seconds-bare"),
    pytest.param("User-agent: faircrawl\nRequest-rate: 1/10s\n", 10.0, "Request-rate 1/10s (line 2)", id="seconds"),
    pytest.param("User-agent: faircrawl\nRequest-rate: 30/1m\n", 2.0, "Request-rate 30/1m (line 2)", id="minutes"),
    pytest.param("User-agent: faircrawl\nRequest-rate: 6/1H\n", 600.0, "Request-rate 6/1H (line 2)", id="hours"),
    pytest.param("User-agent: faircrawl\nRequest-rate: 24/1d\n", 3600.0, "Request-rate 24/1d (line 2)", id="days"),
    pytest.param("User-agent: faircrawl\nrequest rate: 1/3\n", 3.0, "Request-rate 1/3 (line 2)", id="spaced-name"),
    # The window is kept in the reason and the rate applies at every hour: the more protective reading.
    pytest.param("User-agent: faircrawl\nRequest-rate: 1/4s 0900-1700\n", 4.0,
                 "Request-rate 1/4s 0900-1700 (line 2)", id="with-window"),
    pytest.param("User-agent: faircrawl\nCrawl-delay: 2\nRequest-rate: 1/8\n", 8.0,
                 "Request-rate 1/8 (line 3)", id="slower-than-crawl-delay-wins"),
    pytest.param("User-agent: faircrawl\nCrawl-delay: 9\nRequest-rate: 1/8\n", 9.0, "Crawl-delay 9",
                 id="crawl-delay-slower-wins"),
    pytest.param("User-agent: faircrawl\nRequest-rate: 1/2\nRequest-rate: 1/6\nRequest-rate: 1/4\n", 6.0,
                 "Request-rate 1/6 (line 3)", id="slowest-of-several"),
    pytest.param("User-agent: *\nRequest-rate: 1/7\n", 7.0, "Request-rate 1/7 (line 2)", id="star-group"),
    pytest.param("User-agent: *\nRequest-rate: 1/7\n\nUser-agent: faircrawl\nDisallow: /x\n", 7.0,
                 "Request-rate 1/7 (line 2)", id="does-not-end-a-group"),
    pytest.param("User-agent: otherbot\nRequest-rate: 1/9\n", None, None, id="other-agent-only"),
    pytest.param("User-agent: faircrawl\nRequest-rate: 0/5\n", None, None, id="zero-requests-ignored"),
    pytest.param("User-agent: faircrawl\nRequest-rate: 1/0\n", None, None, id="zero-period-ignored"),
    pytest.param("User-agent: faircrawl\nRequest-rate: fast\n", None, None, id="words-ignored"),
    pytest.param("User-agent: faircrawl\nRequest-rate: 1/5x\n", None, None, id="unknown-unit-ignored"),
    pytest.param("User-agent: faircrawl\nRequest-rate: 1/5 2500-2600\n", None, None, id="bad-window-ignored"),
    pytest.param("Request-rate: 1/5\nUser-agent: faircrawl\nDisallow: /x\n", None, None, id="before-any-group"),
]


@pytest.mark.parametrize(("text", "expected", "source"), REQUEST_RATE_CASES)
def test_request_rate_becomes_the_delay_between_requests(text, expected, source):
    parsed = robots(text)
    assert parsed.crawl_delay(TOKEN) == expected
    if source is not None:
        assert parsed.delay_source(TOKEN) == source
    else:
        assert parsed.invalid_lines >= (0 if "otherbot" in text else 1)  # a value that cannot be read is counted


VISIT_TIME_CASES = [  # robots.txt, minute of the UTC day, the windows named when closed (None: open), invalid lines
    pytest.param("User-agent: faircrawl\nVisit-time: 0600-0845\n", 6 * 60, None, 0, id="at-the-start"),
    pytest.param("User-agent: faircrawl\nVisit-time: 0600-0845\n", 8 * 60 + 45, None, 0, id="at-the-end"),
    pytest.param("User-agent: faircrawl\nVisit-time: 0600-0845\n", 9 * 60, "Visit-time 0600-0845 (line 2)",
                 0, id="after"),
    pytest.param("User-agent: faircrawl\nVisit-time: 0600 0845\n", 5 * 60, "Visit-time 0600 0845 (line 2)",
                 0, id="space-separated-before"),
    pytest.param("User-agent: faircrawl\nVisit-time: 2200-0300\n", 1 * 60, None, 0, id="past-midnight-inside"),
    pytest.param("User-agent: faircrawl\nVisit-time: 2200-0300\n", 12 * 60, "Visit-time 2200-0300 (line 2)",
                 0, id="past-midnight-outside"),
    pytest.param("User-agent: faircrawl\nVisit-time: 0100-0200\nvisit time: 1300-1400\n", 13 * 60 + 30, None,
                 0, id="either-line-admits"),
    pytest.param("User-agent: *\nVisit-time: 0100-0200\n", 12 * 60, "Visit-time 0100-0200 (line 2)", 0, id="star"),
    pytest.param("User-agent: otherbot\nVisit-time: 0100-0200\n", 12 * 60, None, 0, id="other-agent-only"),
    pytest.param("User-agent: faircrawl\nVisit-time: 2500-0100\n", 12 * 60, None, 1, id="invalid-hour-ignored"),
    pytest.param("User-agent: faircrawl\nVisit-time: mornings\n", 12 * 60, None, 1, id="words-ignored"),
]


@pytest.mark.parametrize(("text", "minute", "closed", "invalid"), VISIT_TIME_CASES)
def test_visit_time_windows(text, minute, closed, invalid):
    parsed = robots(text)
    assert parsed.outside_visit_time(TOKEN, minute) == closed
    assert parsed.invalid_lines == invalid


def test_crawl_delay_is_none_for_unavailable_and_unreachable_files():
    assert RobotsTxt.unavailable("HTTP 404").crawl_delay(TOKEN) is None
    assert RobotsTxt.unreachable("HTTP 503").crawl_delay(TOKEN) is None


# ---------------------------------------------------------------------------
# Size limit (RFC 9309 §2.5)
# ---------------------------------------------------------------------------


def _filler(n_bytes: int) -> bytes:
    """Comment lines totalling exactly ``n_bytes`` (n_bytes >= 2)."""
    out = bytearray()
    while n_bytes - len(out) > 1001:
        out += b"#" + b"x" * 998 + b"\n"
    out += b"#" + b"x" * (n_bytes - len(out) - 2) + b"\n"
    assert len(out) == n_bytes
    return bytes(out)


def test_body_over_limit_is_truncated_rule_after_limit_ignored_rule_before_applies():
    head = b"User-agent: faircrawl\nDisallow: /before\n"
    body = head + _filler(ROBOTS_PARSE_LIMIT_BYTES) + b"Disallow: /after\n"
    assert len(body) > ROBOTS_PARSE_LIMIT_BYTES
    r = RobotsTxt.parse(body)
    assert r.truncated is True
    assert r.check(HOST + "/before", TOKEN).allowed is False
    assert r.check(HOST + "/after", TOKEN).allowed is True


def test_truncation_drops_partial_last_line():
    head = b"User-agent: faircrawl\nDisallow: /before\n"
    straddling = b"Disallow: /partial-rule-cut-here\n"
    # Place the straddling line so that only "Disallow: /p" fits under the limit.
    keep = len(b"Disallow: /p")
    filler = _filler(ROBOTS_PARSE_LIMIT_BYTES - len(head) - keep)
    body = head + filler + straddling
    assert len(head + filler) + keep == ROBOTS_PARSE_LIMIT_BYTES
    r = RobotsTxt.parse(body)
    assert r.truncated is True
    # Parsing the fragment "Disallow: /p" would block /photo; it must be dropped.
    assert r.check(HOST + "/photo", TOKEN).allowed is True
    assert r.check(HOST + "/partial-rule-cut-here", TOKEN).allowed is True
    assert r.check(HOST + "/before", TOKEN).allowed is False


def test_complete_last_line_just_under_limit_applies():
    head = b"User-agent: faircrawl\n"
    rule = b"Disallow: /last\n"
    body = head + _filler(ROBOTS_PARSE_LIMIT_BYTES - len(head) - len(rule)) + rule
    assert len(body) == ROBOTS_PARSE_LIMIT_BYTES
    r = RobotsTxt.parse(body + b"Disallow: /beyond\n")
    assert r.truncated is True
    assert r.check(HOST + "/last", TOKEN).allowed is False
    assert r.check(HOST + "/beyond", TOKEN).allowed is True


@pytest.mark.parametrize(
    ("extra", "truncated"),
    [pytest.param(0, False, id="exactly-at-limit"), pytest.param(1, True, id="one-byte-over")],
)
def test_truncated_flag_set_only_when_body_exceeds_limit(extra, truncated):
    head = b"User-agent: faircrawl\nDisallow: /x\n"
    body = head + _filler(ROBOTS_PARSE_LIMIT_BYTES - len(head) + extra)
    r = RobotsTxt.parse(body)
    assert r.truncated is truncated
    assert r.check(HOST + "/x", TOKEN).allowed is False


# ---------------------------------------------------------------------------
# Fetch outcomes and caching (RFC 9309 §2.3.1, §2.4). Which HTTP status is which
# outcome is decided in one place, crawler/sitefiles.py::next_step (tested with the
# consent gate); here: what each outcome allows.
# ---------------------------------------------------------------------------

DISALLOW_ALL = b"User-agent: *\nDisallow: /\n"
ALLOW_ALL = b"User-agent: *\nAllow: /\n"


def test_a_fetched_file_rules_are_followed():
    r = RobotsTxt.parse(b"User-agent: *\nDisallow: /private\n")
    assert r.availability is RobotsAvailability.PARSED
    assert r.check(HOST + "/private/a", TOKEN).allowed is False
    assert r.check(HOST + "/public", TOKEN).allowed is True
    assert r.cache_ttl_seconds == 24 * 3600


def test_an_unavailable_file_allows_everything():
    r = RobotsTxt.unavailable("HTTP 404")
    for path in ("/", "/private/a.jpg", "/robots.txt"):
        verdict = r.check(HOST + path, TOKEN)
        assert verdict.allowed is True
        assert verdict.availability is RobotsAvailability.UNAVAILABLE
        assert verdict.rule is None
    assert "404" in r.check(HOST + "/", TOKEN).explanation
    assert "§2.3.1.3" in r.check(HOST + "/", TOKEN).explanation
    assert r.cache_ttl_seconds == 24 * 3600


def test_an_unreachable_file_disallows_everything():
    r = RobotsTxt.unreachable("HTTP 503")
    for path in ("/", "/index.html", "/a/b/c.jpg?x=1"):
        verdict = r.check(HOST + path, TOKEN)
        assert verdict.allowed is False
        assert verdict.availability is RobotsAvailability.UNREACHABLE
        assert verdict.rule is None
    assert "503" in r.check(HOST + "/", TOKEN).explanation
    assert 0 < r.cache_ttl_seconds < 24 * 3600


def test_status_classes_live_only_in_the_crawler_site_file_fetch():
    """One place decides what a status means (crawler/sitefiles.py::next_step); policy/robots.py parses."""
    assert not hasattr(RobotsTxt, "from_status")


def test_network_error_unreachable_disallows_with_rfc_explanation():
    verdict = RobotsTxt.unreachable("connection refused").check(HOST + "/", TOKEN)
    assert verdict.allowed is False
    assert verdict.availability is RobotsAvailability.UNREACHABLE
    assert "RFC 9309 §2.3.1.4" in verdict.explanation
    assert "connection refused" in verdict.explanation


@pytest.mark.parametrize(
    ("factory", "ttl"),
    [
        pytest.param(lambda: RobotsTxt.parse(DISALLOW_ALL), DEFAULT_ROBOTS_TTL_SECONDS, id="parsed"),
        pytest.param(lambda: RobotsTxt.unavailable("HTTP 404"), DEFAULT_ROBOTS_TTL_SECONDS,
                     id="unavailable"),
        pytest.param(lambda: RobotsTxt.unreachable("timeout"), DEFAULT_ROBOTS_UNREACHABLE_TTL_SECONDS,
                     id="unreachable"),
    ],
)
def test_cache_ttl_at_most_24_hours_and_shorter_when_unreachable(factory, ttl):
    r = factory()
    assert r.cache_ttl_seconds == ttl
    assert r.cache_ttl_seconds <= 24 * 3600


# ---------------------------------------------------------------------------
# Verdict traceability
# ---------------------------------------------------------------------------


def test_verdict_names_matching_line_number_and_text():
    text = (
        "# faces opt-out\n"                      # 1
        "User-agent: *\n"                        # 2
        "Disallow: /private/\n"                  # 3
        "\n"                                     # 4
        "User-agent: Googlebot-Image\n"          # 5
        "User-agent: faircrawl\n"                # 6
        "Disallow: /faces/\n"                    # 7
        "Allow: /faces/public/\n"                # 8
    )
    r = robots(text)
    verdict = r.check(HOST + "/faces/alice.jpg", TOKEN)
    assert verdict.allowed is False
    assert verdict.availability is RobotsAvailability.PARSED
    assert verdict.rule is not None
    assert verdict.rule.line_number == 7
    assert verdict.rule.allow is False
    assert verdict.rule.pattern == "/faces/"
    assert verdict.group_agents == ("Googlebot-Image", "faircrawl")
    assert "Disallow: /faces/" in verdict.explanation
    assert "line 7" in verdict.explanation
    assert "disallows" in verdict.explanation

    allow = r.check(HOST + "/faces/public/bob.jpg", TOKEN)
    assert allow.allowed is True
    assert allow.rule is not None and allow.rule.line_number == 8
    assert "Allow: /faces/public/" in allow.explanation and "line 8" in allow.explanation


def test_verdict_without_matching_rule_names_the_group():
    verdict = robots("User-agent: faircrawl\nDisallow: /x\n").check(HOST + "/y", TOKEN)
    assert verdict.allowed is True
    assert verdict.rule is None
    assert verdict.group_agents == ("faircrawl",)
    assert "'faircrawl'" in verdict.explanation


# ---------------------------------------------------------------------------
# Differential test against Protego for ordinary files
# ---------------------------------------------------------------------------
# Excluded on purpose (the reference, §1.2, lists Protego deviations): prefix
# user-agent tokens, unknown records between user-agent lines, /robots.txt
# itself, percent-encoding subtleties, and HTTP status handling.

FILE_BASIC = """\
User-agent: *
Disallow: /private/
Allow: /private/press-kit/
Crawl-delay: 3
"""

FILE_NAMED = """\
User-agent: *
Disallow: /

User-agent: faircrawl
Disallow: /people/
Allow: /people/staff/
Disallow: /*.gif$
"""

FILE_WILDCARDS = """\
User-agent: faircrawl
Disallow: /*.php
Disallow: /search?q=
Disallow: /tmp*
Allow: /tmp/public
Disallow: /fish$
"""

FILE_OTHER_BOT = """\
User-agent: badbot
Disallow: /

User-agent: *
Disallow: /cgi-bin/
"""

FILE_COMMENTS = """\
# robots for example.com
User-agent: faircrawl   # us
Disallow: /admin        # keep out
Allow: /admin/help

Sitemap: https://example.com/sitemap.xml
"""

FILE_TIES = """\
User-agent: faircrawl
Allow: /folder
Disallow: /folder
Disallow: /page
Allow: /page.html
"""

FILE_MERGED = """\
User-agent: faircrawl
Disallow: /a/

User-agent: googlebot
Disallow: /

User-agent: faircrawl
Disallow: /b/
"""

DIFFERENTIAL_CASES = [
    (FILE_BASIC, "/"),
    (FILE_BASIC, "/private/x.jpg"),
    (FILE_BASIC, "/private/press-kit/logo.png"),
    (FILE_BASIC, "/public/index.html"),
    (FILE_BASIC, "/private"),
    (FILE_NAMED, "/"),
    (FILE_NAMED, "/about"),
    (FILE_NAMED, "/people/alice.jpg"),
    (FILE_NAMED, "/people/staff/bob.jpg"),
    (FILE_NAMED, "/img/anim.gif"),
    (FILE_NAMED, "/img/anim.gif.html"),
    (FILE_WILDCARDS, "/index.php"),
    (FILE_WILDCARDS, "/dir/page.php?x=1"),
    (FILE_WILDCARDS, "/index.html"),
    (FILE_WILDCARDS, "/search?q=faces"),
    (FILE_WILDCARDS, "/search"),
    (FILE_WILDCARDS, "/tmpfile"),
    (FILE_WILDCARDS, "/tmp/public/a"),
    (FILE_WILDCARDS, "/fish"),
    (FILE_WILDCARDS, "/fish/"),
    (FILE_OTHER_BOT, "/"),
    (FILE_OTHER_BOT, "/cgi-bin/run"),
    (FILE_OTHER_BOT, "/images/a.jpg"),
    (FILE_COMMENTS, "/admin"),
    (FILE_COMMENTS, "/admin/help/faq"),
    (FILE_COMMENTS, "/home"),
    (FILE_TIES, "/folder/a"),
    (FILE_TIES, "/page.html"),
    (FILE_TIES, "/page2"),
    (FILE_MERGED, "/a/x"),
    (FILE_MERGED, "/b/x"),
    (FILE_MERGED, "/c/x"),
]


@pytest.mark.parametrize(
    ("text", "path"),
    [pytest.param(t, p, id=f"case{i:02d}{p}") for i, (t, p) in enumerate(DIFFERENTIAL_CASES)],
)
def test_verdict_agrees_with_protego_on_ordinary_files(text, path):
    url = HOST + path
    expected = Protego.parse(text).can_fetch(url, TOKEN)
    assert robots(text).check(url, TOKEN).allowed is expected


@pytest.mark.parametrize("text", [FILE_BASIC, FILE_NAMED, FILE_OTHER_BOT, FILE_MERGED])
def test_crawl_delay_agrees_with_protego_on_ordinary_files(text):
    assert robots(text).crawl_delay(TOKEN) == Protego.parse(text).crawl_delay(TOKEN)


# ---------------------------------------------------------------------------
# The docstrings name what exists
# ---------------------------------------------------------------------------

POLICY_DIR = Path(__file__).resolve().parents[2] / "policy"
PROJECT_DIR = POLICY_DIR.parent


@pytest.mark.parametrize("source", sorted(POLICY_DIR.rglob("*.py")), ids=lambda p: str(p.relative_to(PROJECT_DIR)))
def test_policy_names_only_modules_and_files_that_exist(source: Path) -> None:
    text = source.read_text(encoding="utf-8")
    modules = re.findall(r":mod:`([a-z_][a-z0-9_.]*)`", text)
    files = re.findall(r"\b((?:policy|crawler|storage|faces)/[A-Za-z0-9_/]+\.(?:py|json|yaml))", text)

    assert [m for m in modules if importlib.util.find_spec(m) is None] == []
    assert [f for f in files if not (PROJECT_DIR / f).exists()] == []
    assert [name for name in ("RobotsGate", "robots_fetch", "robots gate") if name in text] == []


# ---------------------------------------------------------------------------
# Issue 11: Google's leniency for a missing colon, other records never end a group,
# unparseable URLs refused with a reason
# ---------------------------------------------------------------------------

LENIENT_CASES = [
    # Google's parser: whitespace stands in for the colon when the line is exactly two words.
    pytest.param("User-agent: *\ndisallow /\n", "/a", False, id="disallow-without-colon"),
    pytest.param("user-agent FooBot\nDisallow: /\n", "/a", False, id="user-agent-without-colon"),
    pytest.param("User-agent: *\nDisallow: /\nallow /ok\n", "/ok", True, id="allow-without-colon"),
    pytest.param("User-agent: *\ndisallow / extra\n", "/a", True, id="three-words-stay-invalid"),
    pytest.param("User-agent: *\nnoindex /\n", "/a", True, id="unknown-field-without-colon-stays-invalid"),
]


@pytest.mark.parametrize(("text", "path", "expected"), LENIENT_CASES)
def test_missing_colon_is_read_as_google_reads_it(text, path, expected):
    assert allowed(text, path, token="FooBot") is expected


def test_lenient_parse_is_recorded_in_the_reason():
    verdict = robots("User-agent: *\ndisallow /private\n").check(HOST + "/private/a", TOKEN)
    assert verdict.allowed is False
    assert verdict.lenient_lines == (2,)
    assert "lenient parse" in verdict.explanation and "line(s) 2" in verdict.explanation
    agent = robots("user-agent faircrawl\nDisallow: /x\n").check(HOST + "/x", TOKEN)
    assert agent.allowed is False and agent.lenient_lines == (1,) and "lenient parse" in agent.explanation
    strict = robots("User-agent: *\nDisallow: /private\n").check(HOST + "/private/a", TOKEN)
    assert strict.lenient_lines == () and "lenient" not in strict.explanation


@pytest.mark.parametrize("between", [
    "Crawl-delay: 5", "Host: example.com", "Sitemap: https://example.com/s.xml", "Foo: bar", "garbage line here",
    "Request-rate: 1/5", "\x00\x01binary",
], ids=["crawl-delay", "host", "sitemap", "unknown-record", "unparseable", "request-rate", "binary"])
def test_other_lines_between_user_agents_never_end_a_group(between):
    # RFC 9309 §2.2.4: other records "MUST NOT interfere" with User-agent, Allow and Disallow.
    text = f"User-agent: otherbot\n{between}\nUser-agent: faircrawl\nDisallow: /shared\n"
    r = robots(text)
    assert r.check(HOST + "/shared/a", "otherbot").allowed is False
    assert r.check(HOST + "/shared/a", TOKEN).allowed is False


@pytest.mark.parametrize("url", ["http://[::1", "http://[::1/a.jpg", "https://example.com/\ud800.jpg",
                                 "https://example.com/a?\udfff"])
@pytest.mark.parametrize("text", ["User-agent: *\nAllow: /\n", ""], ids=["allow-all", "empty"])
def test_unparseable_url_is_refused_with_a_reason_never_raises(url, text):
    verdict = robots(text).check(url, TOKEN)
    assert verdict.allowed is False
    assert "cannot be parsed" in verdict.explanation


def test_unparseable_url_refused_even_when_robots_is_unavailable():
    verdict = RobotsTxt.unavailable("HTTP 404").check("http://[::1", TOKEN)
    assert verdict.allowed is False and "refused" in verdict.explanation


# ---------------------------------------------------------------------------
# Issue 11: a token per purpose (faircrawl-faces), as Google-Extended is for AI use (reference §9.3)
# ---------------------------------------------------------------------------

from policy.robots import DEFAULT_FACES_TOKEN, purpose_verdict  # noqa: E402

FACES_CASES = [
    pytest.param("User-agent: *\nAllow: /\n\nUser-agent: faircrawl-faces\nDisallow: /people/\n", "/people/a.jpg", False,
                 id="faces-token-disallows-path"),
    pytest.param("User-agent: *\nAllow: /\n\nUser-agent: faircrawl-faces\nDisallow: /people/\n", "/land/a.jpg", True,
                 id="faces-token-other-path"),
    pytest.param("User-agent: *\nDisallow: /people/\n", "/people/a.jpg", False, id="star-group-applies-to-faces-token"),
    pytest.param("User-agent: faircrawl\nAllow: /\n", "/people/a.jpg", True, id="crawl-group-is-not-the-faces-group"),
    pytest.param("User-agent: faircrawl\nDisallow: /\n\nUser-agent: faircrawl-faces\nAllow: /\n", "/a.jpg", False,
                 id="no-crawl-means-no-faces"),
    pytest.param("User-agent: FAIRCRAWL-FACES\nDisallow: /\n", "/a.jpg", False, id="case-insensitive"),
]


@pytest.mark.parametrize(("text", "path", "expected"), FACES_CASES)
def test_faces_purpose_token(text, path, expected):
    verdict = purpose_verdict(robots(text), HOST + path, TOKEN, DEFAULT_FACES_TOKEN)
    assert verdict.allowed is expected, verdict.explanation


def test_faces_refusal_names_the_rule_and_the_token():
    verdict = purpose_verdict(robots("User-agent: faircrawl-faces\nDisallow: /people/\n"), HOST + "/people/a.jpg", TOKEN,
                              DEFAULT_FACES_TOKEN)
    assert "Disallow: /people/" in verdict.explanation and "'faircrawl-faces'" in verdict.explanation
    assert "no face processing" in verdict.explanation


def test_content_signal_inside_a_group_belongs_to_every_agent_of_that_group():
    from policy.signals.aipref import RobotsUsage

    text = b"User-agent: faircrawl\nContent-Signal: ai-train=no\nUser-agent: otherbot\nDisallow: /private/\n"
    usage = RobotsUsage.from_robots(text, "faircrawl")
    assert [rule.group_agents for rule in usage.signal_rules] == [("faircrawl", "otherbot")]
    assert not RobotsTxt.parse(text).check("https://example.com/private/a.jpg", "faircrawl").allowed
