"""Retention by the law's own clock: when a persisted face template must be destroyed.

The earliest of: ``retention_days`` after it was made (the pack's and the
consent's limit); ``after_purpose_days`` after its purpose ends (BIPA 0:
"when the initial purpose ... has been satisfied", 740 ILCS 14/15(a); Texas
365: "not later than the first anniversary of the date the purpose ...
expires", §503.001(c)(3)); ``last_interaction_days`` after the person's last
interaction (BIPA 1095: "within 3 years of the individual's last
interaction"). A clock whose date is unknown adds no limit; the pack's
``retention_days`` always does.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from policy.vocabulary import Obligation


def parse_day(value: Any) -> datetime | None:
    """A YYYY-MM-DD signal as the start of that day in UTC; None when absent or not a date."""
    if isinstance(value, datetime):
        return value
    try:
        day = value if isinstance(value, date) else date.fromisoformat(str(value))
    except (TypeError, ValueError):
        return None
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def destroy_by(created: datetime, obligations: Mapping[str, Any], purpose_ends: datetime | None = None,
               last_interaction: datetime | None = None) -> datetime | None:
    """The earliest destruction date the obligations set, or None when they set none."""
    limits = []
    for start, name in ((created, Obligation.RETENTION_DAYS), (purpose_ends, Obligation.AFTER_PURPOSE_DAYS),
                        (last_interaction, Obligation.LAST_INTERACTION_DAYS)):
        days = obligations.get(name)
        if start is not None and days is not None:
            limits.append(start + timedelta(days=int(days)))
    return min(limits) if limits else None
