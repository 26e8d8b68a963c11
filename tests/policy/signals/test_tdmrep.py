"""TDMRep: tdmrep.json (first match), headers, meta and their precedence, per reference §3."""

from __future__ import annotations

import json

import pytest

from policy.signals.tdmrep import (
    TDMREP_PARSE_LIMIT_BYTES,
    UNSET,
    TdmRepFile,
    TdmValue,
    combine,
    from_headers,
    from_meta,
)

POLICY = "https://provider.com/policies/policy.json"
SPEC_EXAMPLE = json.dumps([
    {"location": "/directory-a/", "tdm-reservation": 1},
    {"location": "/directory-b/html/", "tdm-reservation": 1, "tdm-policy": POLICY},
    {"location": "/directory-b/images/*.jpg", "tdm-reservation": 0},
]).encode()


def rules_file(*entries: object) -> TdmRepFile:
    return TdmRepFile.parse(json.dumps(list(entries)).encode())


SPEC_LOOKUPS = [
    pytest.param("/directory-a/page.html", 1, None, id="directory-a-reserved"),
    pytest.param("/directory-b/html/index.html", 1, POLICY, id="directory-b-html-reserved-with-policy"),
    pytest.param("/directory-b/images/cat.jpg", 0, None, id="directory-b-jpg-not-reserved"),
    pytest.param("/directory-b/images/sub/cat.jpg", 0, None, id="star-crosses-slashes"),
    pytest.param("/directory-b/images/cat.png", None, None, id="directory-b-png-unset"),
    pytest.param("/elsewhere", None, None, id="no-match-is-unset"),
    pytest.param("/Directory-A/page.html", None, None, id="location-match-is-case-sensitive"),
    pytest.param("/x/directory-a/", None, None, id="location-anchored-at-path-start"),
    pytest.param("https://example.com/directory-a/p?q=1#frag", 1, None, id="full-url-accepted"),
]


@pytest.mark.parametrize(("path", "reservation", "policy"), SPEC_LOOKUPS)
def test_spec_example_lookup(path, reservation, policy):
    value = TdmRepFile.parse(SPEC_EXAMPLE).lookup(path)
    assert (value.reservation, value.policy) == (reservation, policy)


def test_first_match_wins_not_longest_match():
    file = rules_file(
        {"location": "/a/", "tdm-reservation": 0},
        {"location": "/a/b/", "tdm-reservation": 1},
    )
    assert file.lookup("/a/b/c").reservation == 0


PATTERN_CASES = [
    pytest.param("/img/*.jpg$", "/img/a.jpg", 1, id="dollar-anchors-end"),
    pytest.param("/img/*.jpg$", "/img/a.jpg?w=100", None, id="dollar-rejects-query"),
    pytest.param("/img/*.jpg", "/img/a.jpg?w=100", 1, id="no-dollar-allows-query"),
    pytest.param("/search?q=*", "/search?q=cats", 1, id="query-string-matched"),
    pytest.param("/a.b", "/aXb", None, id="dot-is-literal"),
    pytest.param("/a$b", "/a$b", 1, id="inner-dollar-is-literal"),
    pytest.param("*", "/anything", 1, id="lone-star-matches-everything"),
    pytest.param("/*a*a*a*a*a*a*a*a*b", "/" + "a" * 50_000, None, id="pathological-pattern-does-not-hang"),
]


@pytest.mark.parametrize(("location", "path", "expected"), PATTERN_CASES)
def test_location_patterns(location, path, expected):
    assert rules_file({"location": location, "tdm-reservation": 1}).lookup(path).reservation == expected


def test_location_without_leading_slash_matches_nothing_and_is_noted():
    file = rules_file({"location": "directory-a/", "tdm-reservation": 1})
    assert file.lookup("/directory-a/x").reservation is None
    assert any("does not start with '/'" in note for note in file.notes)


def test_lookup_evidence_names_the_rule():
    value = TdmRepFile.parse(SPEC_EXAMPLE).lookup("/directory-b/html/x")
    assert value.source == "tdmrep.json"
    assert value.evidence.startswith("tdmrep.json rule #1:")
    assert POLICY in value.evidence


def test_no_match_evidence_says_so():
    value = TdmRepFile.parse(SPEC_EXAMPLE).lookup("/nothing")
    assert value.source == "unset"
    assert "no tdmrep.json location matches" in value.evidence


RESERVATION_VALUES = [
    pytest.param(1, 1, id="one-reserved"),
    pytest.param(0, 0, id="zero-not-reserved"),
    pytest.param(2, None, id="two-is-protocol-error-unset"),
    pytest.param(-1, None, id="negative-is-protocol-error-unset"),
    pytest.param("1", None, id="string-one-is-protocol-error-unset"),
    pytest.param(True, None, id="json-true-is-protocol-error-unset"),
    pytest.param(1.0, None, id="float-is-protocol-error-unset"),
    pytest.param(None, None, id="null-is-protocol-error-unset"),
    pytest.param([1], None, id="array-is-protocol-error-unset"),
]


@pytest.mark.parametrize(("raw", "expected"), RESERVATION_VALUES)
def test_file_reservation_values(raw, expected):
    assert rules_file({"location": "/", "tdm-reservation": raw}).lookup("/x").reservation == expected


def test_matched_rule_with_protocol_error_stops_the_search_and_notes_it():
    file = rules_file(
        {"location": "/a", "tdm-reservation": 7},
        {"location": "/", "tdm-reservation": 1},
    )
    value = file.lookup("/a/b")
    assert value.reservation is None
    assert any("not 0 or 1" in note for note in value.notes)


def test_policy_is_dropped_for_unreserved_file_rule():
    value = rules_file({"location": "/", "tdm-reservation": 0, "tdm-policy": POLICY}).lookup("/x")
    assert (value.reservation, value.policy) == (0, None)


# A tdmrep.json that exists but cannot be read may hide a reservation: it counts as one (fail closed),
# as an unreachable file does. (body, what the note says)
UNREADABLE_FILES = [
    pytest.param(b"", "not valid JSON", id="empty-body"),
    pytest.param(b"not json", "not valid JSON", id="not-json"),
    pytest.param(b'[{"location": "/", "tdm-reservation": 0}', "not valid JSON", id="cut-short"),
    pytest.param(b'{"location": "/", "tdm-reservation": 1}', "must be a JSON array", id="object-not-array"),
    pytest.param(b'"just a string"', "must be a JSON array", id="string-not-array"),
    pytest.param(b"\xff\xfe\x00garbage", "not UTF-8", id="invalid-utf8"),
    pytest.param(b"[" * 100_000 + b"]" * 100_000, "too deep", id="deep-nesting"),
    pytest.param(b"[" * 40 + b"]" * 40, "too deep", id="nested-deeper-than-the-limit"),
    pytest.param(b"[" + b" " * (TDMREP_PARSE_LIMIT_BYTES + 1) + b"]", "over the", id="over-size-limit"),
    pytest.param(json.dumps([{"location": "/", "tdm-reservation": 0, "pad": "x" * (3 * 1024 * 1024)}]).encode(),
                 "over the", id="valid-json-between-1-and-16-mib"),
    pytest.param(None, "not a file", id="none-body"),
]


@pytest.mark.parametrize(("body", "why"), UNREADABLE_FILES)
def test_an_unreadable_file_is_a_reservation_that_says_why(body: object, why: str) -> None:
    file = TdmRepFile.parse(body)  # type: ignore[arg-type]
    value = file.lookup("/images/anything.jpg")

    assert file.rules == ()
    assert (value.reservation, value.source, value.reserved) == (1, "tdmrep.json", True)
    assert why in value.evidence and "reservation assumed" in value.evidence
    assert any(why in note for note in value.notes)


@pytest.mark.parametrize("body", [b"[]", "[]", b"\xef\xbb\xbf[]", b'[{"location": "/elsewhere", "tdm-reservation": 1}]'],
                         ids=["empty-array", "str-body", "bom", "no-matching-rule"])
def test_a_readable_file_without_a_matching_rule_leaves_the_reservation_unset(body: bytes | str) -> None:
    assert TdmRepFile.parse(body).lookup("/images/a.jpg").reservation is None


def test_utf8_bom_is_accepted():
    file = TdmRepFile.parse(b"\xef\xbb\xbf" + SPEC_EXAMPLE)
    assert file.lookup("/directory-a/").reservation == 1


def test_invalid_entries_are_skipped_with_notes_and_later_rules_still_apply():
    file = rules_file(
        "not an object",
        {"tdm-reservation": 1},  # no location
        {"location": 5, "tdm-reservation": 1},
        {"location": "", "tdm-reservation": 1},
        {"location": "/x"},  # no reservation: kept, it is unset where it matches first
        {"location": "/", "tdm-reservation": 1, "tdm-policy": 42},
    )
    assert [r.index for r in file.rules] == [4, 5]
    assert len(file.notes) == 6
    value = file.lookup("/z/y")
    assert (value.reservation, value.policy) == (1, None)


@pytest.mark.parametrize("later", [0, 1])
def test_the_first_matching_entry_decides_even_without_a_reservation(later: int) -> None:
    # reference §3's matcher: the first rule whose location matches returns its value, unset when it has none;
    # a later rule does not decide for it (as with an invalid value such as "1").
    file = rules_file({"location": "/a/"}, {"location": "/", "tdm-reservation": later})
    value = file.lookup("/a/x")
    assert value.reservation is None
    assert any("missing or not 0 or 1" in note for note in value.notes)
    assert file.lookup("/b/x").reservation == later


# -- headers -----------------------------------------------------------------------

HEADER_CASES = [
    pytest.param({"tdm-reservation": ["1"]}, 1, None, id="header-reserved"),
    pytest.param({"TDM-Reservation": ["0"]}, 0, None, id="header-name-case-insensitive"),
    pytest.param({"tdm-reservation": [" 1 "]}, 1, None, id="header-value-whitespace-stripped"),
    pytest.param({"tdm-reservation": "1"}, 1, None, id="single-string-value"),
    pytest.param({b"Tdm-Reservation": [b"1"], b"Tdm-Policy": [POLICY.encode()]}, 1, POLICY,
                 id="scrapy-bytes-headers"),
    pytest.param({"tdm-reservation": ["1"], "tdm-policy": [POLICY]}, 1, POLICY, id="reserved-with-policy"),
    pytest.param({"tdm-reservation": ["yes"]}, None, None, id="non-numeric-value-unset"),
    pytest.param({"tdm-reservation": ["2"]}, None, None, id="other-number-unset"),
    pytest.param({"tdm-reservation": [""]}, None, None, id="empty-value-unset"),
    pytest.param({"tdm-reservation": ["0", "1"]}, 1, None, id="conflicting-instances-reservation-wins"),
    pytest.param({"tdm-reservation": ["1, 0"]}, 1, None, id="comma-joined-instances-reservation-wins"),
    pytest.param({"content-type": ["text/html"]}, None, None, id="no-tdm-headers-unset"),
    pytest.param({}, None, None, id="no-headers-unset"),
]


@pytest.mark.parametrize(("headers", "reservation", "policy"), HEADER_CASES)
def test_header_values(headers, reservation, policy):
    value = from_headers(headers)
    assert (value.reservation, value.policy) == (reservation, policy)


def test_header_source_and_evidence():
    value = from_headers({"tdm-reservation": ["1"]})
    assert value.source == "header"
    assert value.evidence == "header tdm-reservation: 1"


def test_invalid_header_value_leaves_note():
    assert any("'yes'" in note for note in from_headers({"tdm-reservation": ["yes"]}).notes)


@pytest.mark.parametrize("headers", [{"tdm-reservation": None}, {"tdm-reservation": [None, 3]}, {5: ["1"]}])
def test_hostile_header_values_never_raise(headers):
    assert isinstance(from_headers(headers), TdmValue)


@pytest.mark.parametrize("headers", [None, 5, ["tdm-reservation", "1"]])
def test_headers_that_are_not_a_mapping_are_the_callers_bug_not_unset(headers):
    # Reading them as "unset" would read as "not reserved"; policy.observe's guard reads the error as reserved.
    with pytest.raises(AttributeError):
        from_headers(headers)


# -- meta ------------------------------------------------------------------------

META_CASES = [
    pytest.param([("tdm-reservation", "1")], 1, None, id="meta-reserved"),
    pytest.param([("TDM-Reservation", "1"), ("TDM-Policy", POLICY)], 1, POLICY, id="meta-names-case-insensitive"),
    pytest.param([("tdm-reservation", "0")], 0, None, id="meta-not-reserved"),
    pytest.param([("tdm-reservation", "maybe")], None, None, id="meta-invalid-value-unset"),
    pytest.param([("robots", "noai")], None, None, id="other-meta-ignored"),
    pytest.param([("tdm-reservation",), None, ("tdm-reservation", None)], None, None, id="malformed-meta-ignored"),
]


@pytest.mark.parametrize(("metas", "reservation", "policy"), META_CASES)
def test_meta_values(metas, reservation, policy):
    value = from_meta(metas)
    assert (value.reservation, value.policy) == (reservation, policy)


# -- precedence --------------------------------------------------------------------

FILE_1 = TdmValue(1, POLICY, "tdmrep.json", "rule #0")
FILE_0 = TdmValue(0, None, "tdmrep.json", "rule #0")
HEADER_1 = TdmValue(1, None, "header", "header tdm-reservation: 1")
HEADER_0 = TdmValue(0, None, "header", "header tdm-reservation: 0")
HEADER_POLICY_ONLY = TdmValue(None, "https://h/p.json", "header", "header tdm-policy: https://h/p.json")
META_1 = TdmValue(1, None, "meta", "meta tdm-reservation: 1")
META_0 = TdmValue(0, None, "meta", "meta tdm-reservation: 0")

COMBINE_CASES = [
    pytest.param(UNSET, UNSET, UNSET, None, None, "unset", id="nothing-anywhere-unset"),
    pytest.param(FILE_1, UNSET, UNSET, 1, POLICY, "tdmrep.json", id="absence-in-header-and-meta-keeps-file-value"),
    pytest.param(FILE_1, HEADER_0, UNSET, 0, None, "header", id="header-supersedes-file-and-policy-dropped"),
    pytest.param(FILE_0, HEADER_1, UNSET, 1, None, "header", id="header-reserves-over-file-zero"),
    pytest.param(FILE_0, HEADER_1, META_0, 0, None, "meta", id="meta-supersedes-header"),
    pytest.param(UNSET, HEADER_0, META_1, 1, None, "meta", id="meta-reserves-over-header-zero"),
    pytest.param(FILE_1, HEADER_1, UNSET, 1, POLICY, "header", id="policy-kept-when-later-level-has-none"),
    pytest.param(FILE_1, HEADER_POLICY_ONLY, UNSET, 1, "https://h/p.json", "tdmrep.json",
                 id="later-policy-replaces-earlier-policy"),
    pytest.param(FILE_1, UNSET, META_0, 0, None, "meta", id="meta-zero-drops-file-policy"),
    pytest.param(None, None, META_1, 1, None, "meta", id="missing-levels-are-absent"),
]


@pytest.mark.parametrize(("file", "header", "meta", "reservation", "policy", "source"), COMBINE_CASES)
def test_combine_precedence(file, header, meta, reservation, policy, source):
    value = combine(file, header, meta)
    assert (value.reservation, value.policy, value.source) == (reservation, policy, source)


def test_combine_notes_dropped_policy_and_superseded_value():
    value = combine(FILE_1, HEADER_0)
    assert any("ignored" in note and POLICY in note for note in value.notes)
    assert any("supersedes" in note for note in value.notes)


def test_combine_evidence_lists_contributing_levels():
    value = combine(FILE_1, HEADER_1, META_1)
    assert value.evidence == "rule #0; header tdm-reservation: 1; meta tdm-reservation: 1"


def test_end_to_end_file_header_meta():
    file_value = TdmRepFile.parse(SPEC_EXAMPLE).lookup("/directory-b/images/a.jpg")
    header_value = from_headers({"Content-Type": ["image/jpeg"]})
    meta_value = from_meta([("tdm-reservation", "1")])
    final = combine(file_value, header_value, meta_value)
    assert final.reserved is True
    assert final.source == "meta"
