"""Deadlines per jurisdiction (reference rights-law.md): each with its provision, unknown gets the shortest."""

from __future__ import annotations

from datetime import date

import pytest

from policy.rights_law import SHORTEST, add_months, deadline_for

RECEIVED = date(2026, 1, 31)


@pytest.mark.parametrize(("code", "due", "citation"), [
    ("FR", date(2026, 2, 28), "GDPR Art. 12(3)"),  # one month, to the last day of a shorter month
    ("DE", date(2026, 2, 28), "GDPR Art. 12(3)"),
    ("EU", date(2026, 2, 28), "GDPR Art. 12(3)"),
    ("NO", date(2026, 2, 28), "GDPR Art. 12(3)"),  # EEA
    ("GB", date(2026, 2, 28), "UK GDPR Art. 12(3)"),
    ("US-CA", date(2026, 3, 17), "§1798.130(a)(2)"),  # 45 days
    ("US-TX", date(2026, 3, 17), "§541.052(b)"),
    ("US-WA", date(2026, 3, 17), "RCW 19.373.040(1)(g)"),
    ("US-CO", date(2026, 3, 17), "6-1-1306(2)"),
    ("CA", date(2026, 3, 2), "s. 8(3)"),  # 30 days
    ("AU", date(2026, 3, 2), "APP 12.4"),
    ("BR", date(2026, 2, 15), "LGPD Art. 19"),
    ("CH", date(2026, 3, 2), "FADP Art. 25(7)"),
    ("KR", date(2026, 2, 10), "Art. 41(4)"),  # 10 days: the shortest in the table
    ("JP", date(2026, 2, 10), "APPI Art. 33"),  # "without delay": the shortest is applied
    ("UNKNOWN", date(2026, 2, 10), "shortest in the table"),
    ("US-IL", date(2026, 2, 10), "shortest in the table"),  # BIPA sets no deadline: fail closed
    ("NZ", date(2026, 2, 10), "shortest in the table"),  # not in the table: fail closed
])
def test_the_due_date_follows_the_jurisdictions_law(code: str, due: date, citation: str) -> None:
    deadline = deadline_for(code)
    assert deadline.due(RECEIVED) == due
    assert citation in deadline.citation


def test_the_shortest_deadline_is_ten_days() -> None:
    assert SHORTEST.days == 10


@pytest.mark.parametrize(("start", "months", "end"), [
    (date(2026, 1, 15), 1, date(2026, 2, 15)), (date(2026, 1, 31), 1, date(2026, 2, 28)),
    (date(2028, 1, 31), 1, date(2028, 2, 29)), (date(2026, 12, 31), 1, date(2027, 1, 31)),
    (date(2026, 11, 30), 3, date(2027, 2, 28)),
])
def test_adding_months_clamps_to_the_end_of_the_month(start: date, months: int, end: date) -> None:
    assert add_months(start, months) == end
