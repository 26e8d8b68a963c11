"""Consent and legal policy: signals, jurisdictions, rule packs and the engine that decides.

Imports nothing else of faircrawl's, so the rules can be read and tested alone.
"""

from policy.decision import Kind, Outcome, Reason
from policy.robots import (
    DEFAULT_ROBOTS_TTL_SECONDS,
    DEFAULT_ROBOTS_UNREACHABLE_TTL_SECONDS,
    ROBOTS_MAX_REDIRECTS,
    ROBOTS_PARSE_LIMIT_BYTES,
    RobotsAvailability,
    RobotsTxt,
    RobotsVerdict,
)

__all__ = [
    "DEFAULT_ROBOTS_TTL_SECONDS",
    "DEFAULT_ROBOTS_UNREACHABLE_TTL_SECONDS",
    "ROBOTS_MAX_REDIRECTS",
    "ROBOTS_PARSE_LIMIT_BYTES",
    "Kind",
    "Outcome",
    "Reason",
    "RobotsAvailability",
    "RobotsTxt",
    "RobotsVerdict",
]
