"""Apply only what a recorded consent covers: its purposes, and its retention.

Consent per site is not consent to faircrawl (policy.terms: only a consent
given to faircrawl sets ``consent.biometric``). It also covers only the
purposes it names (``consent.purposes``): for any other purpose
``consent.biometric`` is false. A consent's ``retention_days`` binds: a
persisted template is kept no longer than the consent or the pack allows,
whichever is shorter (GDPR Art. 5(1)(e); 740 ILCS 14/15(b)(2)'s stated term).
"""

from __future__ import annotations

from dataclasses import replace

from policy.engine import Decision, Signals
from policy.vocabulary import Obligation, Purpose

CONSENTED_PURPOSES = (Purpose.COLLECT_IMAGE, Purpose.FACE_TEMPLATE)


def scoped(purpose: str, signals: Signals) -> Signals:
    """``signals`` for ``purpose``: a consent that does not name the purpose does not count for it."""
    covered = signals.get("consent.purposes")
    if purpose not in CONSENTED_PURPOSES or covered is None or purpose in covered or not signals.get("consent.biometric"):
        return signals
    return {**signals, "consent.biometric": False}


def bounded(decision: Decision, signals: Signals) -> Decision:
    """A persisted template kept no longer than the consent's ``retention_days`` allows."""
    days = signals.get("consent.retention_days")
    if (not decision.allowed or decision.obligations.get(Obligation.TEMPLATES) != "persist"
            or not isinstance(days, int) or isinstance(days, bool)):
        return decision
    current = decision.obligations.get(Obligation.RETENTION_DAYS)
    if current is not None and current <= days:
        return decision
    return replace(decision, obligations={**decision.obligations, Obligation.RETENTION_DAYS: days},
                   summary=f"{decision.summary} [the consent's retention of {days} days binds]")
