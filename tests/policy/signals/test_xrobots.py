"""X-Robots-Tag and robots meta parsing: reference §2.1-2.3 and the img2dataset/datadiligence gaps of §2.2 and §8."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from policy.signals.xrobots import AI_OPT_OUTS, INDEX_OPT_OUTS, RobotsDirectives, from_headers, from_meta, merge

TOKEN = "faircrawl"
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def header_rules(values: list[str], token: str = TOKEN) -> frozenset[str]:
    return from_headers(values, token, now=NOW).directives


HEADER_CASES = [
    # plain rules and casing
    pytest.param(["noindex"], TOKEN, {"noindex"}, id="plain-rule-applies-to-all"),
    pytest.param(["NoAI"], TOKEN, {"noai"}, id="rule-names-are-case-insensitive-noai"),
    pytest.param(["  NOIMAGEAI  "], TOKEN, {"noimageai"}, id="rule-surrounding-space-ignored"),
    pytest.param(["noindex, noarchive"], TOKEN, {"noindex", "noarchive"}, id="comma-separated-rules"),
    pytest.param(["all"], TOKEN, {"all"}, id="all-is-recorded-without-restriction"),
    pytest.param(["none"], TOKEN, {"none", "noindex", "nofollow"}, id="none-implies-noindex-and-nofollow"),
    pytest.param(["NONE"], TOKEN, {"none", "noindex", "nofollow"}, id="none-upper-case-implies-noindex"),
    # values with colons that are not bot names
    pytest.param(["max-snippet: 20, noimageindex"], TOKEN, {"max-snippet", "noimageindex"},
                 id="max-snippet-value-colon-is-not-a-scope"),
    pytest.param(["max-image-preview:large, noai"], TOKEN, {"max-image-preview", "noai"},
                 id="max-image-preview-without-space-is-not-a-scope"),
    pytest.param(["unavailable_after: 25 Jun 2010 15:00:00 PST, noimageai"], TOKEN,
                 {"unavailable_after", "noindex", "noimageai"},
                 id="unavailable-after-date-colons-do-not-scope-and-past-date-adds-noindex"),
    pytest.param(["unavailable_after: Friday, 25-Jun-10 15:00:00 PST, noai"], TOKEN,
                 {"unavailable_after", "noindex", "noai"},
                 id="unavailable-after-rfc850-date-with-comma-is-rejoined"),
    pytest.param(["unavailable_after: Fri, 25 Jun 2010 15:00:00 GMT"], TOKEN, {"unavailable_after", "noindex"},
                 id="unavailable-after-rfc1123-date-with-comma-is-rejoined"),
    pytest.param(["unavailable_after: 2010-06-25"], TOKEN, {"unavailable_after", "noindex"},
                 id="unavailable-after-iso-date-in-past-adds-noindex"),
    pytest.param(["unavailable_after: 2010-06-25T15:00:00Z"], TOKEN, {"unavailable_after", "noindex"},
                 id="unavailable-after-iso-datetime-zulu-in-past-adds-noindex"),
    pytest.param(["unavailable_after: 25 Jun 2099 15:00:00 PST"], TOKEN, {"unavailable_after"},
                 id="unavailable-after-future-date-does-not-add-noindex"),
    pytest.param(["unavailable_after: when pigs fly, noai"], TOKEN, {"unavailable_after", "noai"},
                 id="unavailable-after-unparseable-date-does-not-add-noindex"),
    # bot scopes
    pytest.param(["googlebot: noindex"], TOKEN, set(), id="other-bot-scope-does-not-apply"),
    pytest.param(["faircrawl: noindex"], TOKEN, {"noindex"}, id="own-scope-applies"),
    pytest.param(["FairCrawl: noai"], TOKEN, {"noai"}, id="scope-bot-name-is-case-insensitive"),
    pytest.param(["MyBot: noai"], "mybot", {"noai"}, id="datadiligence-gap-scoped-mixed-case-bot-applies"),
    pytest.param(["noindex, otherbot: noai"], "mybot", {"noindex"},
                 id="img2dataset-gap-rules-before-scope-stay-unscoped"),
    pytest.param(["noindex, otherbot: noai"], "otherbot", {"noindex", "noai"},
                 id="img2dataset-gap-scoped-rule-applies-to-its-bot"),
    pytest.param(["otherbot: noindex, noai"], "mybot", set(),
                 id="datadiligence-gap-scope-covers-following-rules-not-everyone"),
    pytest.param(["otherbot: none"], TOKEN, set(), id="scoped-none-for-other-bot-implies-nothing"),
    pytest.param(["googlebot: nofollow, faircrawl: noai, noimageai"], TOKEN, {"noai", "noimageai"},
                 id="second-scope-replaces-first-in-same-instance"),
    pytest.param(["otherbot:, noai"], TOKEN, set(), id="empty-scope-opener-still-scopes-following-rules"),
    pytest.param(["faircrawl-images: noai"], TOKEN, set(), id="scope-must-equal-token-not-prefix"),
    # several header instances
    pytest.param(["otherbot: noindex", "noai"], TOKEN, {"noai"}, id="scope-resets-for-each-header-instance"),
    pytest.param(["noindex", "noai"], TOKEN, {"noindex", "noai"},
                 id="datadiligence-gap-every-header-instance-is-read"),
    pytest.param(["noindex, noarchive", "googlebot: nofollow"], "googlebot", {"noindex", "noarchive", "nofollow"},
                 id="reference-example-combines-instances"),
    # empty and odd input
    pytest.param([], TOKEN, set(), id="no-header-no-directives"),
    pytest.param(["", " ", ",,,"], TOKEN, set(), id="empty-values-no-directives"),
    pytest.param(["somefuturerule"], TOKEN, {"somefuturerule"}, id="unknown-rule-kept-for-the-record"),
]


@pytest.mark.parametrize(("values", "token", "expected"), HEADER_CASES)
def test_header_directives(values, token, expected):
    assert header_rules(values, token) == frozenset(expected)


IMG2DATASET_TABLE = [
    # reference §2.2 edge-case table: what img2dataset got wrong, and what we must refuse
    pytest.param("none", "mybot", True, id="none-refused-img2dataset-allowed"),
    pytest.param("unavailable_after: 25 Jun 2010 15:00:00 PST, noimageai", "mybot", True,
                 id="unavailable-after-then-noimageai-refused-img2dataset-allowed"),
    pytest.param("noindex, otherbot: noai", "mybot", True, id="noindex-before-scope-refused-img2dataset-allowed"),
    pytest.param("googlebot: noindex", "mybot", False, id="other-bot-noindex-allowed-like-img2dataset"),
    pytest.param("NoAI", "mybot", True, id="mixed-case-noai-refused-like-img2dataset"),
]


@pytest.mark.parametrize(("value", "token", "refused"), IMG2DATASET_TABLE)
def test_img2dataset_default_list_decision(value, token, refused):
    img2dataset_defaults = {"noai", "noimageai", "noindex", "noimageindex"}
    directives = from_headers([value], token, now=NOW)
    assert bool(directives.matching(img2dataset_defaults | INDEX_OPT_OUTS)) is refused


def test_unavailable_after_in_past_relative_to_now_argument():
    value = ["unavailable_after: 2025-06-01"]
    assert "noindex" not in from_headers(value, TOKEN, now=datetime(2025, 1, 1, tzinfo=UTC))
    assert "noindex" in from_headers(value, TOKEN, now=datetime(2025, 7, 1, tzinfo=UTC))


def test_naive_now_is_read_as_utc():
    assert "noindex" in from_headers(["unavailable_after: 2025-06-01T00:00:00Z"], TOKEN, now=datetime(2025, 7, 1))


def test_unparseable_unavailable_after_date_leaves_a_note():
    result = from_headers(["unavailable_after: when pigs fly"], TOKEN, now=NOW)
    assert "noindex" not in result
    assert any("when pigs fly" in note for note in result.notes)


def test_evidence_keeps_raw_values_that_contributed_only():
    result = from_headers(["googlebot: noindex", "noai", "NoImageIndex"], TOKEN, now=NOW)
    assert result.evidence == ("noai", "NoImageIndex")


def test_explain_names_header_instance_and_scope():
    result = from_headers(["noarchive", "faircrawl: none"], TOKEN, now=NOW)
    (why,) = result.explain("noindex")
    assert "X-Robots-Tag[2]" in why
    assert "faircrawl: none" in why
    assert "implied by none" in why


def test_explain_unavailable_after_keeps_the_date():
    result = from_headers(["unavailable_after: 25 Jun 2010 15:00:00 PST"], TOKEN, now=NOW)
    (source,) = [s for s in result.sources if s.directive == "noindex"]
    assert source.derived_from == "unavailable_after"
    assert source.argument == "25 Jun 2010 15:00:00 PST"


def test_bytes_header_values_from_scrapy_are_read():
    assert header_rules([b"noai", b"faircrawl: noimageindex"]) == {"noai", "noimageindex"}


def test_single_string_instead_of_list_is_one_instance():
    assert from_headers("noindex, noai", TOKEN, now=NOW).directives == {"noindex", "noai"}


@pytest.mark.parametrize(
    "values",
    [
        pytest.param(None, id="none-instead-of-list"),
        pytest.param([None, 42, "noai"], id="non-string-items"),
        pytest.param(["x" * 200_000 + ", noai"], id="very-long-value"),
        pytest.param([":::,:,::noai"], id="colons-only"),
        pytest.param(["\x00\xff, noai"], id="control-characters"),
        pytest.param(["unavailable_after: 99999-99-99"], id="impossible-date"),
        pytest.param(["unavailable_after: Mon,"], id="weekday-without-date"),
    ],
)
def test_hostile_header_values_never_raise(values):
    result = from_headers(values, TOKEN, now=NOW)
    assert isinstance(result, RobotsDirectives)


def test_contains_is_case_insensitive_and_matching_finds_ai_opt_outs():
    result = from_headers(["noimageai"], TOKEN, now=NOW)
    assert "NoImageAI" in result
    assert result.matching(AI_OPT_OUTS) == {"noimageai"}


META_CASES = [
    pytest.param([("robots", "noindex")], {"noindex"}, id="robots-meta-applies"),
    pytest.param([("ROBOTS", "NoImageIndex")], {"noimageindex"}, id="meta-name-and-content-case-insensitive"),
    pytest.param([(" robots ", "noai")], {"noai"}, id="meta-name-whitespace-ignored"),
    pytest.param([("faircrawl", "noimageai")], {"noimageai"}, id="meta-named-for-token-applies"),
    pytest.param([("FairCrawl", "noai")], {"noai"}, id="meta-named-for-token-case-insensitive"),
    pytest.param([("googlebot", "noindex")], set(), id="meta-named-for-other-bot-ignored"),
    pytest.param([("description", "noindex")], set(), id="unrelated-meta-ignored"),
    pytest.param([("robots", "none")], {"none", "noindex", "nofollow"}, id="meta-none-implies-noindex"),
    pytest.param([("robots", "noindex"), ("faircrawl", "noai"), ("googlebot", "nofollow")], {"noindex", "noai"},
                 id="several-meta-tags-combine"),
    pytest.param([("robots", "unavailable_after: 2010-06-25")], {"unavailable_after", "noindex"},
                 id="meta-unavailable-after-in-past-adds-noindex"),
    pytest.param([("robots", None), (None, "noai")], set(), id="missing-name-or-content-ignored"),
    pytest.param([("robots",), "noai", 5], set(), id="malformed-pairs-ignored"),
]


@pytest.mark.parametrize(("metas", "expected"), META_CASES)
def test_meta_directives(metas, expected):
    assert from_meta(metas, TOKEN, now=NOW).directives == frozenset(expected)


def test_malformed_meta_pairs_leave_notes():
    result = from_meta([("robots",), 5], TOKEN, now=NOW)
    assert len(result.notes) == 2


def test_meta_explanation_names_the_tag():
    result = from_meta([("faircrawl", "noai")], TOKEN, now=NOW)
    assert result.explain("noai") == ("noai from meta name=faircrawl: 'noai'",)


def test_merge_is_the_union_of_page_meta_and_image_headers():
    page = from_meta([("robots", "noimageindex")], TOKEN, now=NOW)
    image = from_headers(["noai"], TOKEN, now=NOW)
    merged = merge(page, image)
    assert merged.directives == {"noimageindex", "noai"}
    assert merged.evidence == ("noimageindex", "noai")
    assert len(merged.sources) == 2


def test_merge_of_nothing_is_empty():
    assert merge() == RobotsDirectives()
