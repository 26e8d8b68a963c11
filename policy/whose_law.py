"""Whose law: for faces, the strictest of the site's jurisdiction and the operator's establishment.

The site is one party only. GDPR Art. 3(1) follows the operator: an operator
established in the EU is bound for everything it does, wherever the site is.
So ``collect_image`` and ``face_template`` are decided under both codes and
the stricter answer wins (a deny beats an allow; obligations combine
strictest-first). An operator whose establishment is not configured is
UNKNOWN, which the packs treat most strictly (fail closed). A face's own
residence cannot be read off a photo: the lawful pack handles that in its
rules (``templates-unknown-residence-need-consent``).
"""

from __future__ import annotations

from dataclasses import replace

from policy.consent import bounded, scoped
from policy.engine import Decision, PolicyContext, PolicyEngine, Signals, combine_two
from policy.jurisdiction import UNKNOWN
from policy.vocabulary import Purpose

#: The purposes whose law follows the operator as well as the site.
FACE_PURPOSES = frozenset({Purpose.COLLECT_IMAGE, Purpose.FACE_TEMPLATE})


def decide_for_parties(engine: PolicyEngine, purpose: str, site: str, operator: str, signals: Signals) -> Decision:
    """The decision under the stricter of ``site`` and ``operator`` for face purposes, else under ``site``.

    Only what a recorded consent covers is applied (policy.consent: its purposes and retention).
    """
    signals = scoped(purpose, signals)
    return bounded(_for_parties(engine, purpose, site, operator, signals), signals)


def _for_parties(engine: PolicyEngine, purpose: str, site: str, operator: str, signals: Signals) -> Decision:
    first = engine.decide(PolicyContext(purpose, site, signals))
    if purpose not in FACE_PURPOSES or operator.upper() == site.upper():
        return first
    second = engine.decide(PolicyContext(purpose, operator, signals))
    decision = stricter(first, second)
    chosen = site if decision is first else operator if decision is second else f"{site} and {operator}"
    law = (f"whose law: site {site}, operator {operator}"
           f"{' (not configured: FAIRCRAWL_OPERATOR_JURISDICTION)' if operator == UNKNOWN else ''}; "
           f"the stricter applies ({chosen})")
    return replace(decision, law=law, summary=f"{decision.summary} [{law}]")


def stricter(site: Decision, operator: Decision) -> Decision:
    """A deny beats an allow (the site's deny first); two allows combine, strictest obligations winning."""
    if not site.allowed:
        return site
    if not operator.allowed:
        return operator
    return combine_two(site, operator)
