"""Deadlines for answering access and deletion requests, and what an access answer must contain, by jurisdiction.

Engineering triage of ``reference/rights-law.md`` (counsel must confirm it);
cells the reference marks [unverified] say so in ``note``. A jurisdiction the
table does not know, or a law that sets no deadline, gets the shortest deadline
in the table (fail closed: "we cannot tell who is French" is no excuse for
answering late).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from policy.jurisdiction import EU_MEMBERS, UNKNOWN

EEA_ONLY = frozenset({"IS", "LI", "NO"})


@dataclass(frozen=True, slots=True)
class Deadline:
    """How long a jurisdiction's law gives to answer, and where it says so."""

    law: str
    days: int | None  # calendar days; None when counted in months
    months: int | None
    citation: str
    extension: str  # how it may be extended, if at all
    note: str = ""

    def due(self, received: date) -> date:
        if self.months:
            return add_months(received, self.months)
        return received + timedelta(days=self.days or 0)

    @property
    def shown(self) -> str:
        return f"{self.months} month(s)" if self.months else f"{self.days} days"


def add_months(start: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day when it has fewer (31 Jan + 1 month = 28/29 Feb)."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


GDPR = Deadline("GDPR", None, 1, "GDPR Art. 12(3)",
                "+2 months where necessary, if the person is told within the first month, with reasons (Art. 12(3))")
UK_GDPR = Deadline("UK GDPR", None, 1, "UK GDPR Art. 12(3)",
                   "+2 months (Art. 12(3)); a request for clarification stops the clock (Art. 12A)",
                   "Data (Use and Access) Act 2025 commencement [unverified]")
CCPA = Deadline("CCPA/CPRA", 45, None, "Cal. Civ. Code §1798.130(a)(2); 11 CCR §7021",
                "+45 days with notice within the first 45; receipt confirmed within 10 business days")
TDPSA = Deadline("TDPSA", 45, None, "Tex. Bus. & Com. Code §541.052(b)", "+45 days")
MHMDA = Deadline("My Health My Data Act", 45, None, "RCW 19.373.040(1)(g)", "+45 days; backups within 6 months")
CPA_COLORADO = Deadline("Colorado Privacy Act", 45, None, "C.R.S. 6-1-1306(2)", "+45 days")
PIPEDA = Deadline("PIPEDA", 30, None, "PIPEDA s. 8(3)", "+30 days with notice (s. 8(4)); no answer is a refusal (s. 8(5))",
                  "provincial laws: Quebec 30 days, BC 30 business days, Alberta 45 days [unverified]")
PRIVACY_ACT_AU = Deadline("Privacy Act 1988", 30, None, "APP 12.4",
                          "a 'reasonable period': the OAIC treats 30 days as reasonable")
LGPD = Deadline("LGPD", 15, None, "LGPD Art. 19", "immediately in simplified form; 15 days for a full statement")
FADP = Deadline("FADP", 30, None, "FADP Art. 25(7)", "")
PIPA_KR = Deadline("PIPA", 10, None, "PIPA Enforcement Decree Art. 41(4), 43(3)", "")
APPI = Deadline("APPI", 10, None, "APPI Art. 33", "'without delay': the shortest deadline of the table is applied")

#: The shortest deadline in the table (South Korea, 10 days): for unknown jurisdictions and laws with none.
SHORTEST = PIPA_KR
NO_STATUTORY_DEADLINE = Deadline(
    "faircrawl policy", SHORTEST.days, None, f"{SHORTEST.citation} (shortest in the table)",
    "", "this jurisdiction's law sets no deadline for this request: the shortest deadline of the table applies")

_BY_CODE: dict[str, Deadline] = {
    "GB": UK_GDPR, "UK": UK_GDPR, "US-CA": CCPA, "US-TX": TDPSA, "US-WA": MHMDA, "US-CO": CPA_COLORADO,
    "CA": PIPEDA, "AU": PRIVACY_ACT_AU, "BR": LGPD, "CH": FADP, "KR": PIPA_KR, "JP": APPI, "EU": GDPR, "EEA": GDPR,
}
#: Jurisdictions whose law grants no access or deletion right at all (BIPA: a destruction schedule instead).
NO_RIGHTS = {"US-IL": "740 ILCS 14 (BIPA) grants no access or deletion right; it sets a destruction schedule (§15(a))"}


def deadline_for(jurisdiction: str) -> Deadline:
    """The deadline of ``jurisdiction`` (an ISO code, a US-XX subdivision, EU, or UNKNOWN)."""
    code = jurisdiction.upper()
    if code in _BY_CODE:
        return _BY_CODE[code]
    if code in EU_MEMBERS or code in EEA_ONLY:
        return GDPR
    if code in NO_RIGHTS:
        return NO_STATUTORY_DEADLINE
    if code == UNKNOWN:
        return Deadline("unknown", SHORTEST.days, None, f"{SHORTEST.citation} (shortest in the table)", "",
                        "the person's jurisdiction is unknown: the shortest deadline of the table applies")
    return Deadline("unlisted", SHORTEST.days, None, f"{SHORTEST.citation} (shortest in the table)", "",
                    f"{code} is not in faircrawl's table: the shortest deadline of the table applies")


@dataclass(frozen=True, slots=True)
class AccessContents:
    """What an access answer must say under a law, beyond a copy of the data (and where the law says so)."""

    law: str
    citation: str
    requires: tuple[str, ...]


#: What each law asks an access answer to contain; the answer always holds every item of every law.
ACCESS_CONTENTS = (
    AccessContents("GDPR / UK GDPR", "GDPR Art. 15(1)(a)-(h), 15(3)",
                   ("purposes", "categories", "recipients", "retention", "rights", "source", "automated_decisions",
                    "copy")),
    AccessContents("CCPA/CPRA", "Cal. Civ. Code §1798.110(c)",
                   ("categories", "specific_pieces", "sources", "purposes", "third_parties")),
    AccessContents("PIPEDA", "PIPEDA Sch. 1 cl. 4.9.1-4.9.3", ("existence", "use", "disclosure", "source")),
    AccessContents("My Health My Data Act", "RCW 19.373.040(1)(a)", ("third_parties",)),
    AccessContents("LGPD", "LGPD Art. 19 II", ("source", "criteria", "purposes")),
)
