"""PolicyEngine.decide: deny by default, deny beats allow, the strictest obligation wins, every decision explains itself.

Every rule here is written as a compliance engineer would write it, in a YAML file read by the real loader
(``read_pack``), so these tests also pin down what the YAML means.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from policy.engine import Decision, PolicyContext, PolicyEngine
from policy.packs import read_pack


def engine_from_yaml(tmp_path: Path, rules_yaml: str) -> PolicyEngine:
    """Write ``rules_yaml`` as a rule file, read it with the real loader and refuse rules that do not lint."""
    rule_file = tmp_path / "rules.yaml"
    rule_file.write_text(textwrap.dedent(rules_yaml), encoding="utf-8")
    pack = read_pack(rule_file)
    assert not pack.errors, "\n".join(str(issue) for issue in pack.errors)
    return pack.engine()


def single_rule_yaml(purpose: str = "collect_image", when: str = "") -> str:
    """One allow rule ``the-rule`` for ``purpose``; ``when`` adds to its flow mapping (``jurisdiction: FR, signals: {...}``)."""
    return f"""\
rules:
  - id: the-rule
    description: the rule under test
    when: {{purpose: {purpose}{", " + when if when else ""}}}
    effect: allow
    citations: ["Test Act Art. 1"]
"""


def decide(engine: PolicyEngine, purpose: str = "collect_image", jurisdiction: str = "FR",
           signals: dict[str, Any] | None = None) -> Decision:
    return engine.decide(PolicyContext(purpose, jurisdiction, signals or {}))


# -- default deny ---------------------------------------------------------------------


def test_a_purpose_no_rule_allows_is_denied_by_default_and_the_summary_says_so(tmp_path: Path) -> None:
    engine = engine_from_yaml(tmp_path, single_rule_yaml(purpose="fetch_page"))

    decision = decide(engine, purpose="collect_image", jurisdiction="FR")

    assert decision.effect == "deny" and not decision.allowed
    assert decision.matched_rules == () and decision.deciding_rules == ()
    assert decision.summary == "no rule allows collect_image in FR: denied by default"
    assert decision.citations == () and dict(decision.obligations) == {}


def test_an_allow_whose_condition_fails_leaves_the_default_deny(tmp_path: Path) -> None:
    engine = engine_from_yaml(tmp_path, single_rule_yaml(when="signals: {robots.allowed: true}"))

    decision = decide(engine, signals={"robots.allowed": False})

    assert decision.effect == "deny"
    assert decision.summary == "no rule allows collect_image in FR: denied by default"
    assert [(t.rule_id, t.matched) for t in decision.trace] == [("the-rule", False)]


def test_a_matching_allow_allows_and_cites_its_rule(tmp_path: Path) -> None:
    engine = engine_from_yaml(tmp_path, single_rule_yaml())

    decision = decide(engine)

    assert decision.allowed
    assert decision.summary == "allowed by the-rule"
    assert decision.deciding_rules == ("the-rule",) and decision.citations == ("Test Act Art. 1",)


# -- deny beats allow -------------------------------------------------------------------

ALLOW_AND_DENY = """\
rules:
  - id: allow-everything
    description: baseline
    when: {purpose: collect_image}
    effect: allow
    citations: ["Allow Act Art. 1"]
  - id: deny-opted-out
    description: an opt-out refuses
    when: {purpose: collect_image, signals: {image.robots: {contains: noai}}}
    effect: deny
    citations: ["Deny Act Art. 2", "Deny Act Art. 3"]
"""


def test_a_matching_deny_beats_every_matching_allow(tmp_path: Path) -> None:
    engine = engine_from_yaml(tmp_path, ALLOW_AND_DENY)

    decision = decide(engine, signals={"image.robots": ["noai"]})

    assert decision.effect == "deny"
    assert set(decision.matched_rules) == {"allow-everything", "deny-opted-out"}
    assert decision.deciding_rules == ("deny-opted-out",)
    assert decision.summary == "denied by deny-opted-out (overrides allow allow-everything)"
    assert decision.citations == ("Deny Act Art. 2", "Deny Act Art. 3"), "only the deciding rules are cited"


def test_the_allow_decides_when_the_deny_does_not_match(tmp_path: Path) -> None:
    engine = engine_from_yaml(tmp_path, ALLOW_AND_DENY)

    decision = decide(engine, signals={"image.robots": ["noindex"]})

    assert decision.allowed
    assert decision.deciding_rules == ("allow-everything",) and decision.citations == ("Allow Act Art. 1",)


# -- the strictest obligation wins ------------------------------------------------------------

STRICTEST_OBLIGATION_CASES = [
    pytest.param("{templates: none}", "{templates: persist}", {"templates": "none"}, id="templates-none-beats-persist"),
    pytest.param("{templates: none}", "{templates: transient}", {"templates": "none"},
                 id="templates-none-beats-transient"),
    pytest.param("{templates: transient}", "{templates: persist}", {"templates": "transient"},
                 id="templates-transient-beats-persist"),
    pytest.param("{templates: persist}", "{templates: persist}", {"templates": "persist"},
                 id="templates-persist-when-all-say-persist"),
    pytest.param("{face_images: exclude}", "{face_images: store}", {"face_images": "exclude"},
                 id="face-images-exclude-beats-store"),
    pytest.param("{face_images: store}", "{face_images: store}", {"face_images": "store"},
                 id="face-images-store-when-all-say-store"),
    pytest.param("{retention_days: 365}", "{retention_days: 30}", {"retention_days": 30},
                 id="retention-the-shortest-wins"),
    pytest.param("{retention_days: 0}", "{retention_days: 1095}", {"retention_days": 0},
                 id="retention-zero-days-wins"),
    pytest.param("{attribution: false}", "{attribution: true}", {"attribution": True},
                 id="attribution-any-true-wins"),
    pytest.param("{no_derivatives: false}", "{no_derivatives: false}", {"no_derivatives": False},
                 id="no-derivatives-false-when-all-false"),
    pytest.param("{no_derivatives: true}", "{attribution: true}", {"no_derivatives": True, "attribution": True},
                 id="different-obligations-are-all-kept"),
    pytest.param("{templates: persist, retention_days: 365}", "{templates: transient}",
                 {"templates": "transient", "retention_days": 365}, id="each-obligation-combines-on-its-own"),
]


@pytest.mark.parametrize(("first", "second", "expected"), STRICTEST_OBLIGATION_CASES)
def test_the_strictest_obligation_of_the_matching_rules_wins_in_either_order(
        tmp_path: Path, first: str, second: str, expected: dict[str, Any]) -> None:
    for order, (one, other) in enumerate([(first, second), (second, first)]):
        workdir = tmp_path / f"order-{order}"
        workdir.mkdir()
        engine = engine_from_yaml(workdir, f"""\
            rules:
              - id: rule-one
                description: first rule
                when: {{purpose: face_template}}
                effect: allow
                obligations: {one}
                citations: ["Act 1"]
              - id: rule-two
                description: second rule
                when: {{purpose: face_template, signals: {{consent.biometric: true}}}}
                effect: allow
                obligations: {other}
                citations: ["Act 2"]
            """)

        decision = decide(engine, purpose="face_template", signals={"consent.biometric": True})

        assert decision.allowed and set(decision.matched_rules) == {"rule-one", "rule-two"}
        assert dict(decision.obligations) == expected, f"rules in order {one} then {other}"


def test_obligations_of_a_matching_allow_and_deny_combine_strictest_first(tmp_path: Path) -> None:
    engine = engine_from_yaml(tmp_path, """\
        rules:
          - id: keep-with-faces
            description: allow
            when: {purpose: collect_image}
            effect: allow
            obligations: {face_images: store, attribution: true}
            citations: ["Act 1"]
          - id: faces-need-consent
            description: deny
            when: {purpose: collect_image, signals: {image.faces: {gt: 0}}}
            effect: deny
            obligations: {face_images: exclude, templates: none}
            citations: ["Act 2"]
        """)

    decision = decide(engine, signals={"image.faces": 2})

    assert decision.effect == "deny"
    assert dict(decision.obligations) == {"face_images": "exclude", "templates": "none", "attribution": True}


def test_a_rule_that_does_not_match_imposes_no_obligation(tmp_path: Path) -> None:
    engine = engine_from_yaml(tmp_path, """\
        rules:
          - id: keep
            description: allow
            when: {purpose: collect_image}
            effect: allow
            obligations: {face_images: store}
            citations: ["Act 1"]
          - id: exclude-in-germany
            description: only in DE
            when: {purpose: collect_image, jurisdiction: DE}
            effect: allow
            obligations: {face_images: exclude}
            citations: ["Act 2"]
        """)

    assert dict(decide(engine, jurisdiction="FR").obligations) == {"face_images": "store"}
    assert dict(decide(engine, jurisdiction="DE").obligations) == {"face_images": "exclude"}


# -- every condition operator ---------------------------------------------------------------------

ABSENT = object()  # the signal is not in the context at all

CONDITION_CASES = [
    # equals (and its short form: a bare value)
    pytest.param("terms.scraping: {equals: permitted}", "permitted", True, id="equals-same-value-holds"),
    pytest.param("terms.scraping: {equals: permitted}", "forbidden", False, id="equals-other-value-fails"),
    pytest.param("terms.scraping: {equals: permitted}", ABSENT, False, id="equals-absent-signal-fails"),
    pytest.param("terms.scraping: permitted", "permitted", True, id="bare-value-means-equals"),
    pytest.param("consent.biometric: true", True, True, id="equals-true-holds-for-true"),
    pytest.param("consent.biometric: true", False, False, id="equals-true-fails-for-false"),
    pytest.param("consent.biometric: false", ABSENT, False, id="equals-false-fails-for-absent"),
    pytest.param("consent.biometric: true", None, False, id="a-null-signal-counts-as-absent"),
    # not
    pytest.param("terms.scraping: {not: forbidden}", "permitted", True, id="not-other-value-holds"),
    pytest.param("terms.scraping: {not: forbidden}", "forbidden", False, id="not-same-value-fails"),
    pytest.param("terms.scraping: {not: forbidden}", ABSENT, True, id="not-holds-for-absent-signal"),
    pytest.param("consent.biometric: {not: true}", False, True, id="not-true-holds-for-false"),
    pytest.param("consent.biometric: {not: true}", ABSENT, True, id="not-true-holds-when-no-consent-recorded"),
    # in / not_in
    pytest.param("terms.scraping: {in: [permitted, unknown]}", "unknown", True, id="in-listed-value-holds"),
    pytest.param("terms.scraping: {in: [permitted, unknown]}", "forbidden", False, id="in-unlisted-value-fails"),
    pytest.param("terms.scraping: {in: [permitted, unknown]}", ABSENT, False, id="in-absent-signal-fails"),
    pytest.param("terms.scraping: {not_in: [forbidden]}", "permitted", True, id="not-in-unlisted-value-holds"),
    pytest.param("terms.scraping: {not_in: [forbidden]}", "forbidden", False, id="not-in-listed-value-fails"),
    pytest.param("terms.scraping: {not_in: [forbidden]}", ABSENT, True, id="not-in-holds-for-absent-signal"),
    # contains / contains_any (list signals)
    pytest.param("page.robots: {contains: noai}", ["nofollow", "noai"], True, id="contains-member-holds"),
    pytest.param("page.robots: {contains: noai}", ["noindex"], False, id="contains-non-member-fails"),
    pytest.param("page.robots: {contains: noai}", [], False, id="contains-empty-list-fails"),
    pytest.param("page.robots: {contains: noai}", ABSENT, False, id="contains-absent-signal-fails"),
    pytest.param("image.robots: {contains_any: [noai, noimageai]}", ["noimageai"], True, id="contains-any-one-member-holds"),
    pytest.param("image.robots: {contains_any: [noai, noimageai]}", ["noindex"], False, id="contains-any-no-member-fails"),
    pytest.param("image.robots: {contains_any: [noai, noimageai]}", ABSENT, False, id="contains-any-absent-signal-fails"),
    # gt / gte / lt / lte
    pytest.param("image.faces: {gt: 0}", 1, True, id="gt-larger-holds"),
    pytest.param("image.faces: {gt: 0}", 0, False, id="gt-equal-fails"),
    pytest.param("image.faces: {gt: 0}", ABSENT, False, id="gt-absent-signal-fails"),
    pytest.param("image.faces: {gte: 2}", 2, True, id="gte-equal-holds"),
    pytest.param("image.faces: {gte: 2}", 1, False, id="gte-smaller-fails"),
    pytest.param("image.faces: {gte: 2}", ABSENT, False, id="gte-absent-signal-fails"),
    pytest.param("image.faces: {lt: 2}", 1, True, id="lt-smaller-holds"),
    pytest.param("image.faces: {lt: 2}", 2, False, id="lt-equal-fails"),
    pytest.param("image.faces: {lt: 2}", ABSENT, False, id="lt-absent-signal-fails-not-zero"),
    pytest.param("image.faces: {lte: 1}", 1, True, id="lte-equal-holds"),
    pytest.param("image.faces: {lte: 1}", 2, False, id="lte-larger-fails"),
    pytest.param("image.faces: {lte: 1}", ABSENT, False, id="lte-absent-signal-fails"),
    pytest.param("image.faces: {gt: 0, lte: 3}", 2, True, id="two-tests-on-one-signal-both-hold"),
    pytest.param("image.faces: {gt: 0, lte: 3}", 4, False, id="two-tests-on-one-signal-one-fails"),
    # present
    pytest.param("license.kinds: {present: true}", ["cc-by-4.0"], True, id="present-true-holds-for-a-value"),
    pytest.param("license.kinds: {present: true}", [], True, id="present-true-holds-for-an-empty-list"),
    pytest.param("license.kinds: {present: true}", ABSENT, False, id="present-true-fails-for-absent"),
    pytest.param("license.kinds: {present: true}", None, False, id="present-true-fails-for-null"),
    pytest.param("license.kinds: {present: false}", ABSENT, True, id="present-false-holds-for-absent"),
    pytest.param("license.kinds: {present: false}", ["cc0"], False, id="present-false-fails-for-a-value"),
]


@pytest.mark.parametrize(("signal_test", "value", "holds"), CONDITION_CASES)
def test_a_condition_decides_whether_its_rule_matches(tmp_path: Path, signal_test: str, value: Any,
                                                      holds: bool) -> None:
    engine = engine_from_yaml(tmp_path, single_rule_yaml(when=f"signals: {{{signal_test}}}"))
    signal = signal_test.split(":", 1)[0]
    signals = {} if value is ABSENT else {signal: value}

    decision = decide(engine, signals=signals)

    assert decision.effect == ("allow" if holds else "deny")
    assert decision.trace[0].matched is holds


def test_every_condition_of_a_rule_must_hold(tmp_path: Path) -> None:
    engine = engine_from_yaml(tmp_path, single_rule_yaml(
        when="signals: {image.faces: {gt: 0}, consent.biometric: true, terms.biometric: permitted}"))
    everything = {"image.faces": 1, "consent.biometric": True, "terms.biometric": "permitted"}

    assert decide(engine, signals=everything).allowed
    for missing in everything:
        assert not decide(engine, signals={k: v for k, v in everything.items() if k != missing}).allowed, missing


# -- jurisdiction and except_jurisdiction ---------------------------------------------------------

JURISDICTION_CASES = [
    # groups
    pytest.param("jurisdiction: EU", "FR", True, id="eu-covers-a-member-state"),
    pytest.param("jurisdiction: EU", "FR-75", True, id="eu-covers-a-member-state-subdivision"),
    pytest.param("jurisdiction: EU", "EU", True, id="eu-covers-a-dot-eu-site"),
    pytest.param("jurisdiction: EU", "GB", False, id="eu-does-not-cover-gb"),
    pytest.param("jurisdiction: EU", "NO", False, id="eu-does-not-cover-norway"),
    pytest.param("jurisdiction: EU", "UNKNOWN", False, id="eu-does-not-cover-unknown"),
    pytest.param("jurisdiction: EEA", "NO", True, id="eea-covers-norway"),
    pytest.param("jurisdiction: EEA", "DE", True, id="eea-covers-an-eu-member"),
    pytest.param("jurisdiction: EEA", "EU", True, id="eea-covers-a-dot-eu-site"),
    # UK is GB
    pytest.param("jurisdiction: UK", "GB", True, id="uk-in-a-rule-covers-gb"),
    pytest.param("jurisdiction: GB", "UK", True, id="gb-in-a-rule-covers-uk"),
    pytest.param("jurisdiction: UK", "UK", True, id="uk-covers-uk"),
    pytest.param("jurisdiction: UK", "IE", False, id="uk-does-not-cover-ireland"),
    # countries and their subdivisions
    pytest.param("jurisdiction: US", "US-IL", True, id="us-covers-illinois"),
    pytest.param("jurisdiction: US-IL", "US", False, id="illinois-does-not-cover-the-us"),
    pytest.param("jurisdiction: US-IL", "US-IL", True, id="illinois-covers-illinois"),
    pytest.param("jurisdiction: US-IL", "US-TX", False, id="illinois-does-not-cover-texas"),
    pytest.param("jurisdiction: US", "AU", False, id="us-does-not-cover-australia"),
    pytest.param("jurisdiction: fr", "FR", True, id="lower-case-code-in-a-rule-works"),
    pytest.param("jurisdiction: [FR, DE]", "DE", True, id="a-list-covers-each-member"),
    pytest.param("jurisdiction: [FR, DE]", "IT", False, id="a-list-covers-nothing-else"),
    # any and unknown
    pytest.param("jurisdiction: '*'", "UNKNOWN", True, id="star-covers-unknown"),
    pytest.param("jurisdiction: '*'", "US-IL", True, id="star-covers-everything"),
    pytest.param("jurisdiction: UNKNOWN", "UNKNOWN", True, id="unknown-covers-unknown"),
    pytest.param("jurisdiction: UNKNOWN", "FR", False, id="unknown-does-not-cover-a-known-country"),
    pytest.param("", "UNKNOWN", True, id="no-jurisdiction-covers-unknown"),
    # except_jurisdiction
    pytest.param("except_jurisdiction: EU", "FR", False, id="except-eu-excludes-a-member-state"),
    pytest.param("except_jurisdiction: EU", "GB", True, id="except-eu-keeps-gb"),
    pytest.param("except_jurisdiction: EU", "UNKNOWN", True, id="except-eu-keeps-unknown"),
    pytest.param("except_jurisdiction: UK", "GB", False, id="except-uk-excludes-gb"),
    pytest.param("except_jurisdiction: US", "US-IL", False, id="except-us-excludes-illinois"),
    pytest.param("except_jurisdiction: US-IL", "US", True, id="except-illinois-keeps-the-us"),
    pytest.param("except_jurisdiction: US-IL", "US-TX", True, id="except-illinois-keeps-texas"),
    pytest.param("except_jurisdiction: '*'", "UNKNOWN", False, id="except-star-excludes-unknown"),
    pytest.param("jurisdiction: US, except_jurisdiction: US-IL", "US-TX", True,
                 id="us-except-illinois-covers-texas"),
    pytest.param("jurisdiction: US, except_jurisdiction: US-IL", "US-IL", False,
                 id="us-except-illinois-excludes-illinois"),
    pytest.param("jurisdiction: EU, except_jurisdiction: FR", "DE", True, id="eu-except-france-covers-germany"),
    pytest.param("jurisdiction: EU, except_jurisdiction: FR", "FR", False,
                 id="eu-except-france-excludes-france"),
]


@pytest.mark.parametrize(("scope", "jurisdiction", "covered"), JURISDICTION_CASES)
def test_a_rule_applies_only_in_the_jurisdictions_it_covers(tmp_path: Path, scope: str, jurisdiction: str,
                                                            covered: bool) -> None:
    engine = engine_from_yaml(tmp_path, single_rule_yaml(when=scope))

    decision = decide(engine, jurisdiction=jurisdiction)

    assert decision.allowed is covered
    expected_why = "all conditions hold" if covered else f"jurisdiction {jurisdiction.upper()} not covered"
    assert decision.trace[0].why == expected_why


# -- the trace -----------------------------------------------------------------------------------

TRACED_RULES = """\
rules:
  - id: baseline
    description: allow
    when: {purpose: collect_image}
    effect: allow
    citations: ["Act 1"]
  - id: faces-without-consent
    description: faces need consent
    when:
      purpose: collect_image
      signals:
        image.faces: {gt: 0}
        consent.biometric: {not: true}
    effect: deny
    citations: ["Act 2"]
  - id: only-in-germany
    description: German rule
    when: {purpose: collect_image, jurisdiction: DE}
    effect: deny
    citations: ["Act 3"]
  - id: pages
    description: another purpose
    when: {purpose: fetch_page}
    effect: allow
    citations: ["Act 4"]
"""

TRACE_CASES = [
    pytest.param({"image.faces": 0}, "image.faces gt 0 is false (value: 0)", id="names-the-failing-condition-and-value"),
    pytest.param({}, "image.faces gt 0 is false (value: null)", id="absent-signal-shows-as-null"),
    pytest.param({"image.faces": 1, "consent.biometric": True}, "consent.biometric not true is false (value: true)",
                 id="names-the-first-condition-that-fails"),
    pytest.param({"image.faces": 1}, "all conditions hold", id="says-when-every-condition-holds"),
]


@pytest.mark.parametrize(("signals", "why"), TRACE_CASES)
def test_the_trace_says_which_condition_failed(tmp_path: Path, signals: dict[str, Any], why: str) -> None:
    engine = engine_from_yaml(tmp_path, TRACED_RULES)

    decision = decide(engine, jurisdiction="FR", signals=signals)

    by_rule = {t.rule_id: t for t in decision.trace}
    assert by_rule["faces-without-consent"].why == why
    assert by_rule["faces-without-consent"].matched is (why == "all conditions hold")
    assert by_rule["faces-without-consent"].effect == "deny"


def test_the_trace_lists_every_rule_of_the_purpose_and_only_those(tmp_path: Path) -> None:
    engine = engine_from_yaml(tmp_path, TRACED_RULES)

    decision = decide(engine, jurisdiction="FR", signals={"image.faces": 0})

    assert [(t.rule_id, t.matched, t.why) for t in decision.trace] == [
        ("baseline", True, "all conditions hold"),
        ("faces-without-consent", False, "image.faces gt 0 is false (value: 0)"),
        ("only-in-germany", False, "jurisdiction FR not covered"),
    ]
    assert decision.allowed and decision.matched_rules == ("baseline",)
