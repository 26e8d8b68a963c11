"""Retention by the law's own clock (issue 11): policy.retention.destroy_by, with the provision for each case.

740 ILCS 14/15(a): destroy when the purpose is satisfied or within 3 years of the last interaction, whichever is
first, and a release's stated term binds; Tex. Bus. & Com. Code §503.001(c)(3): no later than a year after the
purpose expires.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from policy.retention import destroy_by, parse_day

MADE = datetime(2026, 12, 1, tzinfo=UTC)
BIPA = {"templates": "persist", "retention_days": 1095, "after_purpose_days": 0, "last_interaction_days": 1095}
TEXAS = {"templates": "persist", "retention_days": 365, "after_purpose_days": 365}


def test_bipa_destroys_when_the_purpose_is_satisfied_if_that_comes_first() -> None:
    assert destroy_by(MADE, BIPA, purpose_ends=parse_day("2027-03-01")) == datetime(2027, 3, 1, tzinfo=UTC)


def test_bipa_destroys_three_years_after_the_last_interaction_if_that_comes_first() -> None:
    last = parse_day("2025-01-01")
    assert last is not None
    assert destroy_by(MADE, BIPA, purpose_ends=parse_day("2030-01-01"), last_interaction=last) == last + timedelta(days=1095)


def test_bipa_with_no_dates_known_keeps_the_pack_s_three_years_from_capture() -> None:
    assert destroy_by(MADE, BIPA) == MADE + timedelta(days=1095)


def test_a_consent_s_shorter_retention_binds_whatever_the_purpose() -> None:
    assert destroy_by(MADE, {**BIPA, "retention_days": 90}, purpose_ends=parse_day("2030-01-01")) == MADE + timedelta(days=90)


def test_texas_keeps_at_most_a_year_after_the_purpose_expires() -> None:
    ends = parse_day("2027-01-01")
    assert ends is not None
    # A year after capture (2027-12-01) comes before a year after the purpose (2028-01-01): the earlier wins.
    assert destroy_by(MADE, TEXAS, purpose_ends=ends) == MADE + timedelta(days=365)
    assert destroy_by(MADE, {**TEXAS, "retention_days": 5000}, purpose_ends=ends) == ends + timedelta(days=365)


@pytest.mark.parametrize("value", [None, "", "soon", "2027-02-30", 17])
def test_a_date_that_cannot_be_read_adds_no_clock_but_never_removes_the_pack_s(value: object) -> None:
    assert parse_day(value) is None
    assert destroy_by(MADE, BIPA, purpose_ends=parse_day(value)) == MADE + timedelta(days=1095)


def test_no_limit_at_all_is_none_so_the_store_can_say_so() -> None:
    assert destroy_by(MADE, {"templates": "persist"}) is None
