"""X-Robots-Tag headers and robots meta tags, parsed so that no opt-out is missed.

img2dataset and datadiligence both miss opt-outs (reference §2.2, §8): ``none``
not implying ``noindex``, a date containing ``:`` read as a bot name, a bot
scope swallowing the rules before it, case-sensitive matching, and only the
first header instance read. This parser follows reference §2.3 and keeps, for
each directive, the header instance or meta tag it came from.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from policy.vocabulary import ROBOTS_RULES

#: Rule names that may be followed by ":" without being a bot name (reference §2.3).
KNOWN_RULES = ROBOTS_RULES
#: Directives an opt-out gate usually refuses on (img2dataset's default list plus ``none``).
INDEX_OPT_OUTS = frozenset({"noindex", "noimageindex", "none"})
AI_OPT_OUTS = frozenset({"noai", "noimageai"})

HEADER_NAME = "X-Robots-Tag"
_WEEKDAYS = {
    "mon", "tue", "wed", "thu", "fri", "sat", "sun",
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
}
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True, slots=True)
class DirectiveSource:
    """Where one directive came from: enough to quote it in a decision record."""

    directive: str  # lower-cased rule name, e.g. "noindex"
    origin: str  # "X-Robots-Tag[2]" (1-based header instance) or "meta name=robots"
    raw: str  # the whole header value or meta content it was read from
    scope: str | None  # the bot name that scoped it, or None for all crawlers
    derived_from: str | None = None  # "none" or "unavailable_after" when implied
    argument: str = ""  # the text after "rule:", e.g. the unavailable_after date

    def describe(self) -> str:
        scope = f" (scoped to {self.scope})" if self.scope else ""
        implied = f", implied by {self.derived_from}" if self.derived_from else ""
        return f"{self.directive} from {self.origin}: {self.raw!r}{scope}{implied}"


@dataclass(frozen=True, slots=True)
class RobotsDirectives:
    """The directives that apply to one crawler token, with their evidence."""

    directives: frozenset[str] = frozenset()
    evidence: tuple[str, ...] = ()  # raw header values / meta contents that contributed
    sources: tuple[DirectiveSource, ...] = ()
    notes: tuple[str, ...] = ()

    def __contains__(self, directive: object) -> bool:
        return isinstance(directive, str) and directive.lower() in self.directives

    def matching(self, names: Iterable[str]) -> frozenset[str]:
        """The subset of ``names`` present, e.g. ``matching(AI_OPT_OUTS)``."""
        return self.directives & {n.lower() for n in names}

    def explain(self, directive: str) -> tuple[str, ...]:
        """Why ``directive`` is present: one line per contributing header or tag."""
        wanted = directive.lower()
        return tuple(s.describe() for s in self.sources if s.directive == wanted)


#: What a failed X-Robots-Tag or meta reader reads as (policy.observe): every opt-out, nofollow included.
PROTECTIVE = RobotsDirectives(frozenset({"none", "noindex", "nofollow", "noimageindex", "noai", "noimageai"}),
                              notes=("the directives could not be read: every opt-out assumed",))


def from_headers(values: Iterable[str], token: str, now: datetime | None = None) -> RobotsDirectives:
    """Directives for ``token`` from every X-Robots-Tag header instance (all of them, in order).

    Accepts ``bytes`` values too (as Scrapy's ``headers.getlist`` returns them).
    """
    return _collect(
        ((f"{HEADER_NAME}[{index}]", value) for index, value in enumerate(_safe_iter(values), start=1)),
        token, now,
    )


def from_meta(metas: Iterable[tuple[str, str]], token: str, now: datetime | None = None) -> RobotsDirectives:
    """Directives from ``<meta name=... content=...>`` pairs named ``robots`` or ``token``.

    Names are compared case-insensitively; other names are ignored.
    """
    wanted = {"robots", _text(token).strip().lower()}
    selected: list[tuple[str, object]] = []
    notes: list[str] = []
    for pair in _safe_iter(metas):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            notes.append(f"ignored meta entry that is not a (name, content) pair: {pair!r:.80}")
            continue
        name, content = pair
        if name is None or content is None:
            continue
        lowered = _text(name).strip().lower()
        if lowered in wanted:
            selected.append((f"meta name={lowered}", content))
    result = _collect(selected, token, now)
    return RobotsDirectives(result.directives, result.evidence, result.sources, tuple(notes) + result.notes)


def merge(*parts: RobotsDirectives) -> RobotsDirectives:
    """The union of several results (page meta plus image headers, for instance)."""
    directives: set[str] = set()
    evidence: list[str] = []
    sources: list[DirectiveSource] = []
    notes: list[str] = []
    for part in parts:
        directives |= part.directives
        evidence.extend(e for e in part.evidence if e not in evidence)
        sources.extend(part.sources)
        notes.extend(part.notes)
    return RobotsDirectives(frozenset(directives), tuple(evidence), tuple(sources), tuple(notes))


# -- parsing ------------------------------------------------------------------


def _collect(entries: Iterable[tuple[str, object]], token: str, now: datetime | None) -> RobotsDirectives:
    token_lower = _text(token).strip().lower()
    moment = _aware(now) if now is not None else datetime.now(UTC)
    sources: list[DirectiveSource] = []
    notes: list[str] = []
    for origin, value in entries:
        if value is None:
            continue
        raw = _text(value)
        sources.extend(_parse_value(origin, raw, token_lower, moment, notes))
    implied: list[DirectiveSource] = []
    for source in sources:
        if source.directive == "none":
            for rule in ("noindex", "nofollow"):
                implied.append(DirectiveSource(rule, source.origin, source.raw, source.scope, "none"))
    sources.extend(implied)
    evidence: list[str] = []
    for source in sources:
        if source.raw not in evidence:
            evidence.append(source.raw)
    return RobotsDirectives(
        frozenset(s.directive for s in sources), tuple(evidence), tuple(sources), tuple(notes),
    )


def _parse_value(origin: str, raw: str, token: str, now: datetime, notes: list[str]) -> list[DirectiveSource]:
    """One header instance or meta content: the scope starts empty for each (reference §2.3)."""
    found: list[DirectiveSource] = []
    scope: str | None = None
    parts = [p.strip() for p in raw.split(",")]
    index = 0
    while index < len(parts):
        part = parts[index]
        index += 1
        if not part:
            continue
        if ":" in part:
            head, rest = (p.strip() for p in part.split(":", 1))
            if head.lower() not in KNOWN_RULES:
                scope, part = head.lower(), rest  # "<bot>: rule" opens a new scope
                if not part:
                    continue
        rule, _, argument = (p.strip() for p in part.partition(":"))
        rule = rule.lower()
        if rule == "unavailable_after" and argument.lower() in _WEEKDAYS and index < len(parts):
            # RFC 850/1123 dates carry a comma ("Friday, 25-Jun-10 ..."): rejoin it,
            # or the date's "15:00" would open a bogus bot scope.
            argument = f"{argument}, {parts[index]}"
            index += 1
        if scope not in (None, token):
            continue
        found.append(DirectiveSource(rule, origin, raw, scope, argument=argument))
        if rule == "unavailable_after":
            expiry = _parse_date(argument)
            if expiry is None:
                notes.append(f"{origin}: unavailable_after date {argument!r} not understood; ignored")
            elif expiry <= now:
                found.append(DirectiveSource("noindex", origin, raw, scope, "unavailable_after", argument))
    return found


def _parse_date(text: str) -> datetime | None:
    """RFC 822/850/1123 or ISO 8601, as Google accepts; naive times are read as UTC."""
    text = text.strip()
    if not text:
        return None
    try:
        return _aware(parsedate_to_datetime(text))
    except Exception:  # noqa: BLE001 - hostile dates must never escape as errors
        pass
    candidate = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    try:
        parsed = datetime.fromisoformat(candidate)
    except (ValueError, OverflowError):
        return None
    if _DATE_ONLY.match(text):
        parsed = parsed.replace(hour=0, minute=0, second=0)
    return _aware(parsed)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return value if isinstance(value, str) else str(value)


def _safe_iter(values: object) -> list[object]:
    if values is None:
        return []
    if isinstance(values, (str, bytes)):
        return [values]  # a single value passed where a list was expected
    return list(values) if isinstance(values, Iterable) else []
