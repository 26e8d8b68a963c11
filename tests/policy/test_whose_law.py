"""Whose law (issue 11; GDPR Art. 3(1) follows the operator, Art. 3(2) the person): policy.whose_law and the setting.

For faces the stricter of the operator's establishment and the site's jurisdiction applies, an operator not
configured is UNKNOWN (the strictest), and which law decided is said in the decision.
"""

from __future__ import annotations

import pytest
from scrapy.settings import Settings

from crawler.policy_runtime import operator_jurisdiction
from crawler.settings import check_settings
from policy.errors import ConfigError
from policy.packs import read_pack
from policy.whose_law import decide_for_parties

ENGINE = read_pack("lawful").engine()


def test_an_eu_operator_is_bound_by_the_gdpr_on_a_californian_site() -> None:
    decision = decide_for_parties(ENGINE, "collect_image", "US-CA", "FR", {"image.faces": 1})

    assert not decision.allowed and "eu-face-images-need-consent" in decision.deciding_rules
    assert decision.law == "whose law: site US-CA, operator FR; the stricter applies (FR)"
    assert decision.law in decision.summary


def test_an_unknown_operator_is_said_to_be_unconfigured() -> None:
    decision = decide_for_parties(ENGINE, "face_template", "US-CA", "UNKNOWN", {"consent.biometric": True})

    assert "not configured: FAIRCRAWL_OPERATOR_JURISDICTION" in decision.law


def test_the_same_jurisdiction_twice_is_one_decision_with_no_note() -> None:
    decision = decide_for_parties(ENGINE, "collect_image", "FR", "FR", {"image.faces": 1})

    assert decision.law == ""


def test_requests_are_decided_by_the_site_alone() -> None:
    decision = decide_for_parties(ENGINE, "fetch_page", "US-CA", "FR", {"robots.allowed": True})

    assert decision.allowed and decision.law == ""


@pytest.mark.parametrize(("configured", "testsites", "expected"), [
    ("", False, "UNKNOWN"), ("", True, "US-CA"), ("fr", False, "FR"), ("UK", False, "GB"), ("UNKNOWN", True, "UNKNOWN"),
])
def test_the_operator_setting(configured: str, testsites: bool, expected: str) -> None:
    settings = Settings({"FAIRCRAWL_OPERATOR_JURISDICTION": configured, "FAIRCRAWL_TESTSITES": testsites})

    assert operator_jurisdiction(settings) == expected


@pytest.mark.parametrize("configured", ["ZZ", "France", "*"])
def test_an_operator_code_no_rule_could_name_stops_the_crawl(configured: str) -> None:
    with pytest.raises(ConfigError, match="FAIRCRAWL_OPERATOR_JURISDICTION"):
        check_settings(Settings({"FAIRCRAWL_OPERATOR_JURISDICTION": configured}))
