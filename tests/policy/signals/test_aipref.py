"""aipref Content-Usage (header and robots.txt) and Cloudflare Content-Signal, per reference §4."""

from __future__ import annotations

import pytest

from policy.robots import RobotsTxt
from policy.signals.aipref import (
    ContentSignals,
    Preference,
    RobotsUsage,
    UsagePreferences,
    combine,
    combine_signals,
    from_headers,
    parse_content_signal,
    parse_content_usage,
)

Y, N, U = Preference.ALLOWED, Preference.DISALLOWED, Preference.UNKNOWN
TOKEN = "faircrawl"
HOST = "https://example.com"

PARSE_CASES = [
    pytest.param("train-ai=n", N, U, id="train-ai-n-disallowed"),
    pytest.param("train-ai=y", Y, U, id="train-ai-y-allowed"),
    pytest.param("train-ai=n, search=y", N, Y, id="two-categories"),
    pytest.param("search=n", U, N, id="search-only"),
    pytest.param('train-ai="n"', U, U, id="string-n-is-not-a-token-unknown"),
    pytest.param("train-ai", U, U, id="bare-key-boolean-true-unknown"),
    pytest.param("train-ai=?0", U, U, id="boolean-false-unknown"),
    pytest.param("train-ai=1", U, U, id="integer-unknown"),
    pytest.param("train-ai=N", U, U, id="upper-case-token-unknown"),
    pytest.param("train-ai=yes", U, U, id="token-yes-unknown"),
    pytest.param("train-ai=(n)", U, U, id="inner-list-unknown"),
    pytest.param("Train-AI=n", U, U, id="upper-case-key-is-parse-failure-all-unknown"),
    pytest.param("search=y, Train-AI=n", U, U, id="parse-failure-anywhere-makes-all-unknown"),
    pytest.param("train-ai=n,", U, U, id="trailing-comma-parse-failure"),
    pytest.param("train-ai=n search=y", U, U, id="missing-comma-parse-failure"),
    pytest.param("", U, U, id="empty-value-unknown"),
    pytest.param("train-ai=n, train-ai=y", Y, U, id="last-duplicate-wins-y"),
    pytest.param("train-ai=y, train-ai=n", N, U, id="last-duplicate-wins-n"),
    pytest.param("train-ai=n;reason=x, search=y;q=1", N, Y, id="parameters-ignored"),
    pytest.param("foo=n, train-ai=y", Y, U, id="unknown-keys-ignored"),
    pytest.param("tdm=n, ai=n, genai=n, train-genai=n", U, U, id="older-draft-labels-ignored"),
    pytest.param("  train-ai=n  ", N, U, id="surrounding-whitespace-allowed"),
    pytest.param("train-ai=n, séarch=y", U, U, id="non-ascii-parse-failure"),
]


@pytest.mark.parametrize(("value", "train_ai", "search"), PARSE_CASES)
def test_parse_content_usage(value, train_ai, search):
    prefs = parse_content_usage(value)
    assert (prefs.train_ai, prefs.search) == (train_ai, search)


def test_all_y_n_values_are_kept_including_unknown_keys():
    prefs = parse_content_usage("foo=n, train-ai=y, bar=?1")
    assert prefs.as_dict == {"foo": "n", "train-ai": "y"}
    assert prefs.get("foo") is N
    assert prefs.get("absent") is U


def test_parse_failure_keeps_raw_value_and_note():
    prefs = parse_content_usage("Train-AI=n")
    assert prefs.raw == "Train-AI=n"
    assert prefs.all_values == ()
    assert prefs.notes and "all unknown" in prefs.notes[0]


def test_non_token_value_for_known_key_is_noted():
    assert any("train-ai" in note for note in parse_content_usage('train-ai="n"').notes)


@pytest.mark.parametrize("value", [None, 42, b"train-ai=n", "\x00", "a" * 100_000, "=" * 1000])
def test_hostile_values_never_raise(value):
    assert isinstance(parse_content_usage(value), UsagePreferences)


def test_header_lines_combine_like_one_dictionary():
    assert from_headers(["train-ai=n", "search=y"]).as_dict == {"train-ai": "n", "search": "y"}
    assert from_headers(["train-ai=n", "train-ai=y"]).train_ai is Y  # joined: last duplicate wins
    assert from_headers([]).train_ai is U


COMBINE_CASES = [
    pytest.param(["train-ai=n", "train-ai=y"], N, id="any-n-disallows"),
    pytest.param(["train-ai=y", "train-ai=n"], N, id="any-n-disallows-order-independent"),
    pytest.param(["train-ai=y", "search=n"], Y, id="y-and-unknown-allows"),
    pytest.param(["search=n", "Train-AI=n"], U, id="unknown-and-failure-unknown"),
    pytest.param([], U, id="nothing-unknown"),
]


@pytest.mark.parametrize(("values", "expected"), COMBINE_CASES)
def test_combine_most_restrictive(values, expected):
    assert combine(*(parse_content_usage(v) for v in values)).train_ai is expected


# -- robots.txt Content-Usage --------------------------------------------------------

DRAFT_EXAMPLE = b"""User-Agent: *
Allow: /
Disallow: /never/
Content-Usage: train-ai=n
Content-Usage: /ai-ok/ train-ai=y

User-Agent: ExampleBot
Allow: /
Content-Usage: train-ai=y
"""

DRAFT_CASES = [
    pytest.param(TOKEN, "/test", N, id="draft-example-star-group-default-n"),
    pytest.param(TOKEN, "/never/test", U, id="draft-example-not-crawlable-no-preferences"),
    pytest.param(TOKEN, "/ai-ok/test", Y, id="draft-example-longer-path-y"),
    pytest.param("ExampleBot", "/test", Y, id="draft-example-named-group-y"),
    pytest.param("examplebot", "/never/test", Y, id="draft-example-named-group-case-insensitive"),
]


@pytest.mark.parametrize(("token", "path", "expected"), DRAFT_CASES)
def test_draft_example(token, path, expected):
    prefs, _ = RobotsUsage.from_robots(DRAFT_EXAMPLE, token).for_url(HOST + path)
    assert prefs.train_ai is expected


def test_evidence_cites_line_and_group():
    _, evidence = RobotsUsage.from_robots(DRAFT_EXAMPLE, TOKEN).for_url(HOST + "/ai-ok/x.jpg")
    assert evidence == ("line 5: 'Content-Usage: /ai-ok/ train-ai=y' (group for '*')",)


def test_not_crawlable_evidence_names_the_disallow_line():
    prefs, evidence = RobotsUsage.from_robots(DRAFT_EXAMPLE, TOKEN).for_url(HOST + "/never/x")
    assert prefs.all_values == ()
    assert "Disallow: /never/" in evidence[0] and "not crawlable" in evidence[0]


def robots_prefs(text: str, path: str, token: str = TOKEN) -> UsagePreferences:
    return RobotsUsage.from_robots(text.encode(), token).for_url(HOST + path)[0]


PATH_CASES = [
    pytest.param("User-agent: *\nContent-Usage: /a/ train-ai=y\nContent-Usage: /a/ train-ai=n\n", "/a/x", N,
                 id="identical-paths-combine-most-restrictive"),
    pytest.param("User-agent: *\nContent-Usage: /a/ train-ai=n\nContent-Usage: /a/ train-ai=y\n", "/a/x", N,
                 id="identical-paths-order-does-not-matter"),
    pytest.param("User-agent: *\nContent-Usage: /ab train-ai=y\nContent-Usage: /a* train-ai=n\n", "/abc", N,
                 id="equal-length-different-paths-combine"),
    pytest.param("User-agent: *\nContent-Usage: / train-ai=y\nContent-Usage: train-ai=n\n", "/x", N,
                 id="no-path-counts-as-slash-and-combines"),
    pytest.param("User-agent: *\nContent-Usage: /a/b/ train-ai=y\nContent-Usage: /a/ train-ai=n\n", "/a/b/c", Y,
                 id="longest-path-wins-regardless-of-order"),
    pytest.param("User-agent: *\nContent-Usage: /a/ train-ai=n\n", "/b", U, id="non-matching-path-unknown"),
    pytest.param("User-agent: *\nContent-Usage: /*.jpg train-ai=n\n", "/p/a.jpg", N, id="wildcard-path"),
    pytest.param("User-agent: *\nContent-Usage: /*.jpg$ train-ai=n\n", "/p/a.jpg?w=1", U, id="dollar-anchor-path"),
    pytest.param("User-agent: *\nContent-Usage: /Photos/ train-ai=n\n", "/photos/a", U, id="path-case-sensitive"),
    pytest.param("User-agent: *\nContent-Usage: /caf%C3%A9/ train-ai=n\n", "/café/a", N,
                 id="percent-encoding-equivalence"),
    pytest.param("User-agent: *\nContent-Usage: train-ai=n # no AI\n", "/x", N, id="trailing-comment-stripped"),
    pytest.param("User-agent: *\ncontent-usage:train-ai=n\n", "/x", N, id="record-name-case-insensitive-no-space"),
    pytest.param("User-agent: *\nContent-Usage: \t/a/\ttrain-ai=n\n", "/a/x", N, id="tab-separates-path"),
    pytest.param("User-agent: *\nContent-Usage: /a/\n", "/a/x", U, id="path-without-preferences-ignored"),
    pytest.param("User-agent: *\nContent-Usage: Train-AI=n\n", "/x", U, id="invalid-dictionary-unknown"),
]


@pytest.mark.parametrize(("text", "path", "expected"), PATH_CASES)
def test_content_usage_path_matching(text, path, expected):
    assert robots_prefs(text, path).train_ai is expected


GROUP_CASES = [
    pytest.param("User-agent: *\nDisallow: /z\nContent-Usage: train-ai=n\nUser-agent: faircrawl\nAllow: /\n", U,
                 id="named-group-replaces-star-group-records"),
    pytest.param("User-agent: otherbot\nContent-Usage: train-ai=n\n", U, id="other-bot-group-ignored"),
    pytest.param("User-agent: FAIRCRAWL\nContent-Usage: train-ai=n\n", N, id="group-token-case-insensitive"),
    pytest.param("User-agent: faircrawl-images\nContent-Usage: train-ai=n\n", U, id="prefix-token-group-ignored"),
    # Content-Usage is a rule of its group (aipref attach draft): the next user-agent line starts a new group.
    pytest.param("User-agent: otherbot\nContent-Usage: train-ai=n\nUser-agent: faircrawl\nDisallow: /private\n", U,
                 id="content-usage-is-a-rule-so-the-next-user-agent-starts-a-group"),
    pytest.param("User-agent: otherbot\nUser-agent: faircrawl\nContent-Usage: train-ai=n\n", N,
                 id="content-usage-after-shared-user-agents-applies-to-both"),
    pytest.param("User-agent: faircrawl\nDisallow: /a\nContent-Usage: train-ai=y\nDisallow: /b\n"
                 "User-agent: faircrawl\nContent-Usage: train-ai=n\n", N, id="merged-groups-for-token-combine"),
    pytest.param("Content-Usage: train-ai=n\nUser-agent: *\nAllow: /\n", U, id="record-before-any-group-ignored"),
]


@pytest.mark.parametrize(("text", "expected"), GROUP_CASES)
def test_content_usage_group_selection(text, expected):
    assert robots_prefs(text, "/x").train_ai is expected


def test_content_usage_line_does_not_end_group_for_allow_disallow():
    text = b"User-agent: otherbot\nContent-Usage: train-ai=n\nUser-agent: faircrawl\nDisallow: /x\n"
    assert RobotsTxt.parse(text).check(HOST + "/x", TOKEN).allowed is False


def test_parser_keeps_records_with_line_numbers():
    robots = RobotsTxt.parse(DRAFT_EXAMPLE)
    records = [(r.key, r.value, r.line_number) for r in robots.groups[0].records]
    assert records == [("content-usage", "train-ai=n", 4), ("content-usage", "/ai-ok/ train-ai=y", 5)]


def test_record_outside_group_is_noted():
    usage = RobotsUsage.from_robots(b"Content-Usage: train-ai=n\nUser-agent: *\n", TOKEN)
    assert usage.notes == ("line 1: 'content-usage' before any user-agent line applies to no one",)


def test_no_rules_evidence_says_nothing_matched():
    prefs, evidence = RobotsUsage.from_robots(b"User-agent: *\nDisallow: /x\n", TOKEN).for_url(HOST + "/y")
    assert prefs.train_ai is U
    assert "no Content-Usage line" in evidence[0]


@pytest.mark.parametrize(
    "body",
    [b"", b"\x00\xff\xfe" * 1000, "User-agent: *\nContent-Usage: train-ai=n\n", None, b"User-agent: *\nContent-Usage:"],
    ids=["empty", "binary", "str-body", "none-body", "empty-record"],
)
def test_hostile_robots_bodies_never_raise(body):
    prefs, evidence = RobotsUsage.from_robots(body, TOKEN).for_url(HOST + "/x")
    assert isinstance(prefs, UsagePreferences) and evidence


def test_unsplittable_url_gives_unknown_with_note():
    usage = RobotsUsage.from_robots(b"User-agent: *\nContent-Usage: train-ai=n\n", TOKEN)
    prefs, evidence = usage.for_url("http://[::1")
    assert prefs.train_ai is U
    assert "cannot be matched" in evidence[0]


# -- Content-Signal -------------------------------------------------------------------

SIGNAL_CASES = [
    pytest.param("search=yes, ai-train=no, ai-input=no", Y, N, N, id="cloudflare-default-no-training"),
    pytest.param("ai-train=yes", U, Y, U, id="ai-train-yes-allowed"),
    pytest.param("AI-Train=No", U, N, U, id="keys-and-values-case-insensitive"),
    pytest.param("ai-train=maybe", U, U, U, id="other-value-unknown"),
    pytest.param("ai-train", U, U, U, id="missing-value-unknown"),
    pytest.param("ai-train=no, ai-train=yes", U, Y, U, id="last-duplicate-wins"),
    pytest.param("", U, U, U, id="empty-unknown"),
]


@pytest.mark.parametrize(("value", "search", "ai_train", "ai_input"), SIGNAL_CASES)
def test_parse_content_signal(value, search, ai_train, ai_input):
    signals = parse_content_signal(value)
    assert (signals.search, signals.ai_train, signals.ai_input) == (search, ai_train, ai_input)


def test_content_signal_use_is_kept():
    assert parse_content_signal("ai-train=no, use=immediate").use == "immediate"


def test_content_signal_ai_train_no_reads_like_train_ai_n():
    signals = parse_content_signal("ai-train=no")
    assert signals.ai_train is parse_content_usage("train-ai=n").train_ai


def test_combine_signals_most_restrictive():
    combined = combine_signals(parse_content_signal("ai-train=yes"), parse_content_signal("ai-train=no"))
    assert combined.ai_train is N


CLOUDFLARE_ROBOTS = b"""# As a condition of accessing this website, you agree to abide by the following content signals
User-agent: *
Content-Signal: search=yes, ai-train=no
Allow: /

User-agent: faircrawl
Content-Signal: /open/ ai-train=yes
Content-Signal: ai-train=no, ai-input=no
Disallow: /private/
"""

ROBOTS_SIGNAL_CASES = [
    pytest.param("otherbot", "/a", N, id="star-group-ai-train-no"),
    pytest.param(TOKEN, "/a", N, id="named-group-default-no"),
    pytest.param(TOKEN, "/open/a.jpg", Y, id="named-group-path-yes"),
    pytest.param(TOKEN, "/private/a", U, id="not-crawlable-no-signals"),
]


@pytest.mark.parametrize(("token", "path", "expected"), ROBOTS_SIGNAL_CASES)
def test_content_signal_in_robots(token, path, expected):
    signals, evidence = RobotsUsage.from_robots(CLOUDFLARE_ROBOTS, token).signals_for_url(HOST + path)
    assert isinstance(signals, ContentSignals)
    assert signals.ai_train is expected
    assert evidence


def test_content_signal_evidence_cites_line():
    _, evidence = RobotsUsage.from_robots(CLOUDFLARE_ROBOTS, "otherbot").signals_for_url(HOST + "/a")
    assert evidence == ("line 3: 'Content-Signal: search=yes, ai-train=no' (group for '*')",)


def test_content_signal_does_not_end_group():
    assert RobotsTxt.parse(CLOUDFLARE_ROBOTS).check(HOST + "/private/x", TOKEN).allowed is False


# -- issue 11: attach-05 §3.2 paths, legacy labels, Content-Signal as a response header ----------

NO_PATH_CASES = [
    # attach-05 §3.2: "a rule value that starts with any other character indicates that the path is absent",
    # and then "the entire rule value is the statement of preference".
    pytest.param("User-agent: *\nContent-Usage: *.jpg train-ai=y\n", "/a.jpg", U, id="star-glob-is-no-path-no-allowance"),
    pytest.param("User-agent: *\nContent-Usage: train-ai=n\nContent-Usage: *.jpg train-ai=y\n", "/a.jpg", N,
                 id="star-glob-never-overrides-a-refusal"),
    pytest.param("User-agent: *\nContent-Usage: images/ train-ai=y\n", "/images/a.jpg", U, id="relative-path-no-rule"),
    pytest.param("User-agent: *\nContent-Usage: train-ai=n\n", "/any/a.jpg", N, id="absent-path-applies-everywhere"),
    pytest.param("User-agent: *\nContent-Usage: /img/\ttrain-ai=n\n", "/img/a.jpg", N, id="htab-separates-path"),
    pytest.param("User-agent: *\nContent-Usage:   /img/ train-ai=n\n", "/img/a.jpg", N, id="leading-space-then-path"),
]


@pytest.mark.parametrize(("text", "path", "expected"), NO_PATH_CASES)
def test_value_not_starting_with_slash_has_no_path(text, path, expected):
    prefs, _ = RobotsUsage.from_robots(text.encode(), TOKEN).for_url(HOST + path)
    assert prefs.train_ai is expected


def test_no_path_rule_is_recorded():
    usage = RobotsUsage.from_robots(b"User-agent: *\nContent-Usage: *.jpg train-ai=y\n", TOKEN)
    assert any("no path" in note and "no rule for any path" in note for note in usage.notes), usage.notes


LEGACY_CASES = ["train-genai=n", "ai=n", "genai=n", "tdm=n", "bots=n", "all=n", "ai-use=n", "ai-output=n", "inference=n"]


@pytest.mark.parametrize("value", LEGACY_CASES)
def test_legacy_labels_are_ignored_but_recorded(value):
    # vocab-07: unknown labels MUST be ignored; the decision still says what the site meant (reference §9.2).
    prefs = parse_content_usage(value)
    assert prefs.train_ai is U and prefs.all_values == ()
    assert prefs.legacy_labels and prefs.legacy_labels[0].startswith(value)
    assert any(n.startswith("legacy label seen") for n in prefs.notes)


def test_legacy_label_beside_current_label_and_through_robots():
    prefs = parse_content_usage("train-genai=n, train-ai=y")
    assert prefs.train_ai is Y and len(prefs.legacy_labels) == 1
    usage = RobotsUsage.from_robots(b"User-agent: *\nContent-Usage: /a/ train-genai=n\n", TOKEN)
    found, _ = usage.for_url(HOST + "/a/x.jpg")
    assert found.train_ai is U and "robots.txt line 2" in found.legacy_labels[0]


def test_content_signal_header_lines_are_read():
    from policy.signals.aipref import signals_from_headers

    signal = signals_from_headers(["search=yes", "ai-train=no"])
    assert signal.ai_train is N and signal.search is Y and signal.source == "Content-Signal header"
    assert signals_from_headers([]).ai_train is U
    assert signals_from_headers([b"ai-train=maybe"]).ai_train is U
