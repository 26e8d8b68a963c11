"""Spawning ai.txt: robots.txt grammar whose Allow/Disallow lines mean AI-training consent.

A False answer means "no AI-training use", never "do not crawl" (reference §5.1).
Spawning's generator writes bare file-type globs (``Disallow: *.jpg``) and
publishers write ``A.JPG``, so a URL is refused when either it or its
lower-cased path is disallowed; ai.txt is user-written, so a pattern that
starts with neither ``/`` nor ``*`` is read as matching anywhere (fail closed).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from policy.robots import RobotsTxt

WELL_KNOWN_PATH = "/ai.txt"
#: What a failed ai.txt reader reads as (policy.observe): no AI-training use, as for an unreachable ai.txt.
PROTECTIVE = (False, "ai.txt could not be checked (the reader failed): refusal assumed")


@dataclass(frozen=True, slots=True)
class AiTxt:
    """A parsed ai.txt; ask :meth:`training_allowed` per image URL."""

    robots: RobotsTxt = field(compare=False)
    notes: tuple[str, ...] = ()

    @classmethod
    def parse(cls, body: bytes) -> AiTxt:
        """Parse with the robots.txt parser; unparseable lines are skipped and counted."""
        if not isinstance(body, (bytes, bytearray, str)):
            return cls(RobotsTxt.parse(b""), (f"body of type {type(body).__name__} is not a file: no rules",))
        robots = RobotsTxt.parse(bytes(body) if isinstance(body, bytearray) else body)
        notes: list[str] = []
        for group in robots.groups:
            for position, agent in enumerate(group.user_agents):
                # The WordPress plugin can write "User-agent: */": a "*"-prefixed agent is read as "*".
                if agent.startswith("*") and agent.strip() != "*":
                    group.user_agents[position] = "*"
                    notes.append(f"group at line {group.line_number}: user-agent {agent!r:.40} repaired to '*'")
            for position, rule in enumerate(group.rules):
                if rule.pattern.startswith(("/", "*")):
                    continue
                # "Disallow: .jpg" or "Disallow: a.jpg": RFC 9309 patterns start with "/",
                # so as written it would match nothing; read it as "*" + pattern.
                group.rules[position] = dataclasses.replace(rule, normalized="*" + rule.normalized)
                notes.append(
                    f"line {rule.line_number}: pattern {rule.pattern!r} has no leading '/' or '*': read as '*{rule.pattern}'"
                )
        if robots.invalid_lines:
            notes.append(f"{robots.invalid_lines} unparseable line(s) skipped")
        if robots.truncated:
            notes.append("ai.txt over the parse limit: rules after the limit ignored")
        return cls(robots, tuple(notes))

    def training_allowed(self, url: str, token: str) -> tuple[bool, str]:
        """Whether ai.txt consents to AI training on ``url`` for ``token``, and why.

        Refused when the URL as given or with its path lower-cased is
        disallowed, so ``/A.JPG`` is caught by ``Disallow: *.jpg``.
        """
        try:
            verdicts = [("", self.robots.check(url, token))]
            lowered = _lowercase_path(url)
            if lowered != url:
                verdicts.append((" (path lower-cased)", self.robots.check(lowered, token)))
        except Exception as error:  # noqa: BLE001 - a URL that cannot be split
            return False, f"ai.txt: URL {url!r:.80} cannot be matched ({error!r:.60}): refused"
        repairs = "; ".join(n for n in self.notes if "repaired" in n)
        repaired = f" ({repairs})" if repairs else ""
        for suffix, verdict in verdicts:
            if not verdict.allowed:
                return False, f"ai.txt{suffix}: {verdict.explanation}: no AI-training use{repaired}"
        return True, f"ai.txt: {verdicts[0][1].explanation}: AI-training use not refused{repaired}"


def _lowercase_path(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path.lower(), parts.query, parts.fragment))
