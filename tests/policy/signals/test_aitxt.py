"""Spawning ai.txt: robots grammar read as AI-training consent, per reference §5.1."""

from __future__ import annotations

import pytest

from policy.signals.aitxt import AiTxt

TOKEN = "faircrawl"
HOST = "https://example.com"

# The Spawning WordPress plugin's output, including the stray "/" lines it emits.
SPAWNING_OUTPUT = b"""# Spawning AI
/
/
User-agent: *
Disallow: *.jpg
Disallow: *.png
Allow: *.txt
Allow: /
"""

SPAWNING_CASES = [
    pytest.param("/a.jpg", False, id="jpg-refused"),
    pytest.param("/photos/2024/a.jpg", False, id="jpg-in-subdirectory-refused"),
    pytest.param("/a.png?w=100", False, id="png-with-query-refused-by-leading-star"),
    pytest.param("/a.JPG", False, id="upper-case-extension-refused-via-lower-cased-path"),
    pytest.param("/Photos/A.Png?W=1", False, id="mixed-case-path-and-query-refused"),
    pytest.param("/a.txt", True, id="txt-allowed"),
    pytest.param("/page.html", True, id="other-files-allowed-by-allow-slash"),
    pytest.param("/a.jpeg", True, id="jpeg-not-covered-by-jpg-rule"),
    pytest.param("/a.jpg.html", False, id="jpg-rule-without-dollar-matches-infix"),
]


@pytest.mark.parametrize(("path", "allowed"), SPAWNING_CASES)
def test_spawning_generated_file(path, allowed):
    assert AiTxt.parse(SPAWNING_OUTPUT).training_allowed(HOST + path, TOKEN)[0] is allowed


def ai_txt_allows(text: str, path: str, token: str = TOKEN) -> bool:
    return AiTxt.parse(text.encode()).training_allowed(HOST + path, token)[0]


RULE_CASES = [
    pytest.param("User-agent: *\nDisallow: *\nDisallow: /\n", "/a.txt", False, id="global-disallow-refuses-everything"),
    pytest.param("User-agent: *\nDisallow: *.JPG\n", "/a.JPG", False, id="upper-case-pattern-matches-as-written"),
    pytest.param("User-agent: *\nDisallow: *.jpg$\n", "/a.jpg?w=1", True, id="dollar-anchor-excludes-query"),
    pytest.param("User-agent: *\nDisallow: *.jpg$\n", "/A.JPG", False, id="dollar-anchor-with-lower-cased-path"),
    pytest.param("User-agent: *\nDisallow: .gif\n", "/x/a.gif", False, id="bare-pattern-read-as-leading-star"),
    pytest.param("User-agent: *\nDisallow: images/\n", "/site/images/a.png", False,
                 id="bare-directory-pattern-matches-anywhere"),
    pytest.param("User-agent: *\nDisallow: /art/\nAllow: /art/public/\n", "/art/public/a.jpg", True,
                 id="longest-match-allow-wins"),
    pytest.param("User-agent: *\nDisallow: /art/\nAllow: /art/public/\n", "/art/private/a.jpg", False,
                 id="longest-match-disallow-wins"),
    pytest.param("User-agent: *\nDisallow: /\nUser-agent: faircrawl\nAllow: /\n", "/a.jpg", True,
                 id="named-group-replaces-star-group"),
    pytest.param("User-agent: otherbot\nDisallow: /\n", "/a.jpg", True, id="other-bot-group-does-not-apply"),
    pytest.param("User-agent: FairCrawl\nDisallow: *.jpg\n", "/a.jpg", False, id="token-case-insensitive"),
    pytest.param("", "/a.jpg", True, id="empty-file-refuses-nothing"),
    pytest.param("User-agent: *\nDisallow: /caf%C3%A9/\n", "/CAFÉ/a.jpg", False,
                 id="lower-cased-non-ascii-path-percent-encoded"),
]


@pytest.mark.parametrize(("text", "path", "allowed"), RULE_CASES)
def test_ai_txt_rules(text, path, allowed):
    assert ai_txt_allows(text, path) is allowed


def test_refusal_explanation_names_the_line_and_says_no_training():
    allowed, why = AiTxt.parse(SPAWNING_OUTPUT).training_allowed(HOST + "/a.jpg", TOKEN)
    assert allowed is False
    assert "'Disallow: *.jpg' (line 5" in why
    assert "no AI-training use" in why


def test_lower_cased_path_refusal_says_so():
    _, why = AiTxt.parse(SPAWNING_OUTPUT).training_allowed(HOST + "/A.JPG", TOKEN)
    assert "path lower-cased" in why


def test_allowed_explanation_names_the_allow_line():
    allowed, why = AiTxt.parse(SPAWNING_OUTPUT).training_allowed(HOST + "/a.txt", TOKEN)
    assert allowed is True
    assert "Allow: *.txt" in why


def test_stray_lines_are_counted_and_noted():
    assert any("2 unparseable" in note for note in AiTxt.parse(SPAWNING_OUTPUT).notes)


def test_bare_pattern_rewrite_is_noted():
    notes = AiTxt.parse(b"User-agent: *\nDisallow: .gif\n").notes
    assert notes == ("line 2: pattern '.gif' has no leading '/' or '*': read as '*.gif'",)


@pytest.mark.parametrize(
    "body",
    [b"\x00\xff" * 5000, None, b"User-agent: *\nDisallow: /*a*a*a*a*a*a*a*a*a*a*b\n", "User-agent: *\nDisallow: /\n"],
    ids=["binary", "none", "pathological-pattern", "str-body"],
)
def test_hostile_bodies_never_raise_or_hang(body):
    allowed, why = AiTxt.parse(body).training_allowed(HOST + "/" + "a" * 20_000, TOKEN)
    assert isinstance(allowed, bool) and why


def test_unsplittable_url_is_refused_with_reason():
    allowed, why = AiTxt.parse(SPAWNING_OUTPUT).training_allowed("http://[::1", TOKEN)
    assert allowed is False
    assert "cannot be matched" in why


# -- issue 11: the WordPress plugin's "User-agent: */" ------------------------------------------

PLUGIN_OUTPUT = b"# Spawning AI\n/\nUser-agent: */\nDisallow: *.jpg\nDisallow: *.png\nAllow: *.txt\nAllow: /\n"


@pytest.mark.parametrize(("path", "expected"), [("/a.jpg", False), ("/b/c.PNG", False), ("/notes.txt", True), ("/page", True)])
def test_star_prefixed_agent_is_read_as_star(path, expected):
    ai = AiTxt.parse(PLUGIN_OUTPUT)
    allowed, why = ai.training_allowed("https://example.com" + path, "faircrawl")
    assert allowed is expected
    assert "repaired to '*'" in why


def test_repair_is_recorded_in_notes_and_exact_star_is_not_repaired():
    assert any("'*/' repaired to '*'" in n for n in AiTxt.parse(PLUGIN_OUTPUT).notes)
    assert not any("repaired" in n for n in AiTxt.parse(b"User-agent: *\nDisallow: /\n").notes)
