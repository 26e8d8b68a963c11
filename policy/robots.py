"""robots.txt per RFC 9309, with every verdict traceable to the line that caused it.

Protego (Scrapy's parser) decides correctly in most cases but cannot say *which*
line decided, matches product tokens as prefixes (``User-agent: face`` applies
to ``FaceConsentBot``) and knows nothing of HTTP status, redirects, size limits
or caching. Every faircrawl decision must name its rule, so the matching here is
our own, written against RFC 9309 §2. Fetching lives in the crawler, in one
place: crawler/sitefiles.py (``next_step`` classifies statuses and redirects;
its cache keeps each origin's outcome), and crawler/gates/consent.py asks
:meth:`RobotsTxt.check` before every request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from policy.pathmatch import (
    UnmatchableURL,
    glob_matches,
    normalize_pattern,
    normalize_target,
    pattern_octets,
    url_matches_pattern,
)

#: RFC 9309 §2.5: the parsing limit "MUST be at least 500 kibibytes".
ROBOTS_PARSE_LIMIT_BYTES = 500 * 1024
#: RFC 9309 §2.4: a cached copy "SHOULD NOT" be used for more than 24 hours.
DEFAULT_ROBOTS_TTL_SECONDS = 24 * 3600
#: An unreachable robots.txt is retried sooner; until then everything stays disallowed.
DEFAULT_ROBOTS_UNREACHABLE_TTL_SECONDS = 3600
#: RFC 9309 §2.3.1.2: follow "at least five consecutive redirects".
ROBOTS_MAX_REDIRECTS = 5

# The leading token of a User-agent value; digits included so "faircrawl2" is not "faircrawl".
_PRODUCT_TOKEN = re.compile(r"[A-Za-z0-9_-]+")
_RULE_FIELDS = {"allow", "disallow"}
# Misspellings that major parsers (Google's, Protego) accept for "disallow".
_DISALLOW_TYPOS = {"dissallow", "dissalow", "disalow", "diasllow", "disallaw"}
_USER_AGENT_FIELDS = {"user-agent", "useragent", "user agent"}
_RULE_LIKE_RECORDS = {"content-usage"}  # the aipref attach draft makes it a rule; Content-Signal is no rule
_REQUEST_RATE_FIELDS = {"request-rate", "request rate"}
_VISIT_TIME_FIELDS = {"visit-time", "visit time"}
_LENIENT_NOTE = "no colon; read as Google's parser reads it (lenient parse)"

# Re-exported: the shared matcher lived here before policy.pathmatch.
__all__ = ["UnmatchableURL", "glob_matches", "pattern_octets", "url_matches_pattern"]


class RobotsAvailability(StrEnum):
    """What the fetch of robots.txt produced (RFC 9309 §2.3.1)."""

    PARSED = "parsed"  # 2xx: follow the parseable rules
    UNAVAILABLE = "unavailable"  # 4xx or too many redirects: may access anything
    UNREACHABLE = "unreachable"  # 5xx or network error: assume complete disallow


@dataclass(frozen=True, slots=True)
class RobotsRule:
    """One allow or disallow line, kept with its position so reasons can cite it."""

    allow: bool
    pattern: str  # as written in the file
    line_number: int
    normalized: str = field(compare=False, default="")
    lenient: bool = field(compare=False, default=False)  # written without a colon ("disallow /")

    @property
    def text(self) -> str:
        return f"{'Allow' if self.allow else 'Disallow'}: {self.pattern}"


@dataclass(frozen=True, slots=True)
class RobotsRecord:
    """An "other record" (RFC 9309 §2.2.4) such as Content-Usage, kept for the signal parsers."""

    key: str  # field name, lower-cased
    value: str  # as written, comment and surrounding whitespace removed
    line_number: int

    @property
    def text(self) -> str:
        return f"{self.key}: {self.value}"


@dataclass(slots=True)
class RobotsGroup:
    """User-agent lines followed by rules; ends at the next user-agent line after a rule."""

    user_agents: list[str]
    line_number: int
    rules: list[RobotsRule] = field(default_factory=list)
    crawl_delay_seconds: float | None = None
    # Request-rate (non-standard, as Protego reads it): the seconds between requests it implies, and its text.
    request_interval_seconds: float | None = None
    request_rate_text: str | None = None
    # Visit-time windows (non-standard, as Protego reads it): (start, end) in minutes of the UTC day, and the text.
    visit_windows: list[tuple[int, int, str]] = field(default_factory=list)
    # Other records inside the group (Content-Usage, Content-Signal, ...), in file order.
    records: list[RobotsRecord] = field(default_factory=list)
    # Lines of user-agent values written without a colon ("user-agent FooBot").
    lenient_agent_lines: list[int] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class RobotsVerdict:
    """The answer for one URL, with what decided it (for the decision record)."""

    allowed: bool
    availability: RobotsAvailability
    rule: RobotsRule | None  # the longest matching rule, or None
    group_agents: tuple[str, ...]  # user-agent values of the group(s) applied
    explanation: str
    lenient_lines: tuple[int, ...] = ()  # lines read without their colon that took part in the verdict


#: What a failed robots.txt check reads as (policy.observe): complete disallow, as for an unreachable file.
PROTECTIVE_VERDICT = RobotsVerdict(False, RobotsAvailability.UNREACHABLE, None, (),
                                   "robots.txt could not be checked (the reader failed): complete disallow assumed")


#: Verdicts a parsed file keeps (the URLs in flight at one time, with room to spare).
VERDICTS_KEPT = 512


@dataclass(slots=True)
class RobotsTxt:
    """A parsed robots.txt (or the stand-in for an unavailable/unreachable one)."""

    availability: RobotsAvailability
    groups: list[RobotsGroup] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)
    invalid_lines: int = 0
    lenient_lines: list[int] = field(default_factory=list)  # lines read as Google reads a missing colon
    truncated: bool = False
    # Other records before the first user-agent line: they belong to no group.
    ungrouped_records: list[RobotsRecord] = field(default_factory=list)
    status_note: str = ""  # why unavailable/unreachable, e.g. "HTTP 503"
    _groups_by_token: dict[str, tuple[int, list[RobotsGroup]]] = field(default_factory=dict, repr=False, compare=False)
    #: The latest verdicts by (URL, token): a request is checked by the gate, then by the usage readers of
    #: its request and of its response, and the image stages; each URL is matched once.
    _verdicts: dict[tuple[str, str], RobotsVerdict] = field(default_factory=dict, repr=False, compare=False)

    # -- construction -----------------------------------------------------------

    @classmethod
    def parse(cls, body: bytes | str) -> RobotsTxt:
        """Parse the first :data:`ROBOTS_PARSE_LIMIT_BYTES` of a robots.txt body.

        Every line is tried; lines that do not parse are counted and skipped
        (RFC 9309 §2.3.1.5), so binary garbage yields the rules that *are* there.
        """
        raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
        truncated = len(raw) > ROBOTS_PARSE_LIMIT_BYTES
        if truncated:
            raw = raw[:ROBOTS_PARSE_LIMIT_BYTES]
            # Drop the partial last line rather than parse half a rule.
            cut = max(raw.rfind(b"\n"), raw.rfind(b"\r"))
            raw = raw[: cut + 1] if cut >= 0 else b""
        if raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        text = raw.decode("utf-8", errors="replace")
        robots = cls(availability=RobotsAvailability.PARSED, truncated=truncated)
        robots._read_lines(text)
        return robots

    @property
    def cache_ttl_seconds(self) -> float:
        """How long this outcome may be reused (RFC 9309 §2.4: at most 24 h)."""
        if self.availability is RobotsAvailability.UNREACHABLE:
            return DEFAULT_ROBOTS_UNREACHABLE_TTL_SECONDS
        return DEFAULT_ROBOTS_TTL_SECONDS

    @classmethod
    def unavailable(cls, note: str) -> RobotsTxt:
        return cls(availability=RobotsAvailability.UNAVAILABLE, status_note=note)

    @classmethod
    def unreachable(cls, note: str) -> RobotsTxt:
        return cls(availability=RobotsAvailability.UNREACHABLE, status_note=note)

    def _read_lines(self, text: str) -> None:
        current: RobotsGroup | None = None
        group_has_rules = False
        for number, line in enumerate(re.split(r"\r\n|\r|\n", text), start=1):
            content = line.split("#", 1)[0].strip()
            if not content:
                continue
            lenient = False
            if ":" in content:
                key, value = (part.strip() for part in content.split(":", 1))
                key = key.lower()
            else:
                split = _lenient_split(content)
                if split is None:
                    self.invalid_lines += 1
                    continue
                key, value = split
                lenient = True
                self.lenient_lines.append(number)
            if key in _USER_AGENT_FIELDS:
                if current is None or group_has_rules:
                    current = RobotsGroup(user_agents=[], line_number=number)
                    self.groups.append(current)
                    group_has_rules = False
                current.user_agents.append(value)
                if lenient:
                    current.lenient_agent_lines.append(number)
            elif key in _RULE_FIELDS or key in _DISALLOW_TYPOS:
                if current is None:
                    self.invalid_lines += 1  # a rule outside any group applies to no one
                    continue
                group_has_rules = True
                if not value:
                    continue  # "Disallow:" with no path allows everything: no rule
                allow = key == "allow"
                current.rules.append(RobotsRule(allow, value, number, normalize_pattern(value), lenient))
            elif key == "crawl-delay":
                # An "other record" (§2.2.4): it belongs to its group but never ends one.
                if current is None:
                    self.invalid_lines += 1
                    continue
                try:
                    delay = float(value)
                except ValueError:
                    self.invalid_lines += 1
                    continue
                if delay >= 0 and delay == delay and delay != float("inf"):
                    # Several delays in one group (merged lines): the longest is the polite one.
                    current.crawl_delay_seconds = max(delay, current.crawl_delay_seconds or 0.0)
            elif key in _REQUEST_RATE_FIELDS:
                # "<requests>/<period>[s|m|h|d]", optionally a UTC window "HHMM-HHMM": an "other record" like
                # Crawl-delay. The window is kept in the text, and the rate is applied at all hours (the more
                # protective reading: a crawler that cannot tell the site's hours keeps the rate).
                interval = _request_interval(value)
                if current is None or interval is None:
                    self.invalid_lines += 1
                    continue
                if current.request_interval_seconds is None or interval > current.request_interval_seconds:
                    current.request_interval_seconds = interval
                    current.request_rate_text = f"Request-rate {value} (line {number})"
            elif key in _VISIT_TIME_FIELDS:
                window = _visit_window(value)
                if current is None or window is None:
                    self.invalid_lines += 1
                    continue
                current.visit_windows.append((*window, f"Visit-time {value} (line {number})"))
            elif key in {"sitemap", "sitemaps", "site-map"}:
                self.sitemaps.append(value)  # never terminates a group (§2.2.4)
            else:
                # Other records (Host, Content-Usage, Content-Signal, ...) are read by the
                # signal parsers. Content-Usage is a rule of its group (the aipref attach draft
                # extends RFC 9309's rules with it): a user-agent line after it starts a new
                # group. The others, Cloudflare's Content-Signal included (no standard makes it
                # a rule), never end a group (§2.2.4: they must not change how groups are read).
                record = RobotsRecord(key, value, number)
                (current.records if current is not None else self.ungrouped_records).append(record)
                if current is not None and key in _RULE_LIKE_RECORDS:
                    group_has_rules = True

    # -- matching ---------------------------------------------------------------

    def groups_for(self, product_token: str) -> list[RobotsGroup]:
        """Groups that apply to ``product_token``: all exact matches merged, else ``*``."""
        token = product_token.lower()
        cached = self._groups_by_token.get(token)
        if cached is not None and cached[0] == len(self.groups):
            return cached[1]
        named = [g for g in self.groups if any(_agent_matches(a, token) for a in g.user_agents)]
        chosen = named or [g for g in self.groups if any(a.strip() == "*" for a in g.user_agents)]
        self._groups_by_token[token] = (len(self.groups), chosen)  # asked for every request of a crawl
        return chosen

    def crawl_delay(self, product_token: str) -> float | None:
        """The seconds the file asks between two requests: its Crawl-delay or the interval its Request-rate implies
        (``1/10s``: 10 s), whichever is longer, over every group that applies; None when it asks for neither."""
        delays = [
            delay
            for g in self.groups_for(product_token)
            for delay in (g.crawl_delay_seconds, g.request_interval_seconds)
            if delay is not None
        ]
        return max(delays) if delays else None

    def delay_source(self, product_token: str) -> str:
        """Which line sets :meth:`crawl_delay`, for a decision's reason ("Crawl-delay 5" or "Request-rate 1/10s ...")."""
        delay = self.crawl_delay(product_token)
        for group in self.groups_for(product_token):
            if group.crawl_delay_seconds is not None and group.crawl_delay_seconds == delay:
                return f"Crawl-delay {delay:g}"
            if group.request_interval_seconds == delay and group.request_rate_text:
                return group.request_rate_text
        return "no Crawl-delay or Request-rate"

    def visit_windows(self, product_token: str) -> list[tuple[int, int, str]]:
        """The Visit-time windows of the groups that apply (start and end minute of the UTC day, the line)."""
        return [w for g in self.groups_for(product_token) for w in g.visit_windows]

    def outside_visit_time(self, product_token: str, minute_of_day: int) -> str | None:
        """The Visit-time lines that apply, when ``minute_of_day`` (UTC) is inside none of them; else None.

        Several lines (or merged groups) each admit their window; a window may run past midnight (2200-0300).
        """
        windows = self.visit_windows(product_token)
        if not windows or any(_within(minute_of_day, start, end) for start, end, _ in windows):
            return None
        return ", ".join(text for _, _, text in windows)

    def check(self, url: str, product_token: str) -> RobotsVerdict:
        """Decide whether ``product_token`` may fetch ``url`` under this file (matched once per URL and token)."""
        key = (url, product_token)
        verdict = self._verdicts.get(key)
        if verdict is None:
            verdict = self._check(url, product_token)
            if len(self._verdicts) >= VERDICTS_KEPT:
                self._verdicts.clear()
            self._verdicts[key] = verdict
        return verdict

    def _check(self, url: str, product_token: str) -> RobotsVerdict:
        if self.availability is RobotsAvailability.UNREACHABLE:
            return RobotsVerdict(
                False, self.availability, None, (),
                f"robots.txt unreachable ({self.status_note}): complete disallow "
                "assumed (RFC 9309 §2.3.1.4)",
            )
        if self.availability is RobotsAvailability.UNAVAILABLE:
            try:
                normalize_target(url)
            except UnmatchableURL as error:
                return RobotsVerdict(False, self.availability, None, (), f"{error}: refused")
            return RobotsVerdict(
                True, self.availability, None, (),
                f"robots.txt unavailable ({self.status_note}): access allowed "
                "(RFC 9309 §2.3.1.3)",
            )
        try:
            target = normalize_target(url)
        except UnmatchableURL as error:
            return RobotsVerdict(False, self.availability, None, (), f"{error}: refused, it cannot be matched against any rule")
        if target == "/robots.txt":
            return RobotsVerdict(True, self.availability, None, (), "/robots.txt is implicitly allowed (RFC 9309 §2.2.2)")
        groups = self.groups_for(product_token)
        agents = tuple(a for g in groups for a in g.user_agents)
        best: RobotsRule | None = None
        for group in groups:
            for rule in group.rules:
                if not glob_matches(rule.normalized, target):
                    continue
                if best is None or _outranks(rule, best):
                    best = rule
        if not groups:
            why = f"no group for '{product_token}' and no '*' group: no rules apply"
            return RobotsVerdict(True, self.availability, None, agents, why)
        group_desc = "group for " + ", ".join(repr(a) for a in agents)
        lenient = sorted({n for g in groups for n in g.lenient_agent_lines}
                         | ({best.line_number} if best is not None and best.lenient else set()))
        note = f"; line(s) {', '.join(map(str, lenient))}: {_LENIENT_NOTE}" if lenient else ""
        if best is None:
            return RobotsVerdict(True, self.availability, None, agents, f"no rule in the {group_desc} matches{note}",
                                 tuple(lenient))
        verb = "allows" if best.allow else "disallows"
        return RobotsVerdict(
            best.allow, self.availability, best, agents,
            f"'{best.text}' (line {best.line_number}, {group_desc}) {verb} it{note}", tuple(lenient),
        )


#: The default second product token: a robots.txt-only token for face processing, as Google-Extended is for AI use.
DEFAULT_FACES_TOKEN = "faircrawl-faces"


def purpose_verdict(robots: RobotsTxt, url: str, crawl_token: str, purpose_token: str) -> RobotsVerdict:
    """May ``purpose_token``'s purpose (face processing) run on ``url``, fetched under ``crawl_token``?

    The purpose token is matched like any product token (RFC 9309 §2.2.1: its
    own group, else ``*``); the purpose is allowed only where crawling is
    too, so a site that forbids crawling never has to name the purpose token.
    """
    crawl = robots.check(url, crawl_token)
    if not crawl.allowed:
        return crawl
    purpose = robots.check(url, purpose_token)
    if purpose.allowed or purpose.availability is not RobotsAvailability.PARSED:
        return purpose
    return RobotsVerdict(False, purpose.availability, purpose.rule, purpose.group_agents,
                         f"crawling allowed, but {purpose.explanation} for '{purpose_token}': no face processing",
                         purpose.lenient_lines)


#: Fields Google's parser accepts without a colon; others stay invalid (a Content-Usage value must not be guessed).
_LENIENT_FIELDS = {"user-agent", "useragent", "allow", "disallow", "crawl-delay", "sitemap"} | _DISALLOW_TYPOS


_RATE = re.compile(r"(\d+)\s*/\s*(\d+)\s*([smhd]?)(?:\s+(\S.*))?", re.IGNORECASE)  # then a Visit-time window
_PERIOD_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_WINDOW = re.compile(r"(\d{4})(?:\s*-\s*|\s+)(\d{4})")


def _minutes(hhmm: str) -> int | None:
    hours, minutes = int(hhmm[:2]), int(hhmm[2:])
    return hours * 60 + minutes if hours <= 23 and minutes <= 59 else None


def _visit_window(value: str) -> tuple[int, int] | None:
    """A Visit-time value (``0600-0845``, or ``0600 0845`` as Protego also reads it) in minutes; None if invalid."""
    match = _WINDOW.fullmatch(value.strip())
    if match is None:
        return None
    start, end = _minutes(match.group(1)), _minutes(match.group(2))
    return None if start is None or end is None else (start, end)


def _within(minute: int, start: int, end: int) -> bool:
    """Inside [start, end] of the day; a window whose end comes before its start runs past midnight."""
    return start <= minute <= end if start <= end else minute >= start or minute <= end


def _request_interval(value: str) -> float | None:
    """Seconds between requests for a Request-rate value (``1/5``, ``10/1m``, ``1/10s 0900-1700``); None if invalid."""
    match = _RATE.fullmatch(value.strip())
    if match is None:
        return None
    requests, period = int(match.group(1)), int(match.group(2))
    if requests <= 0 or period <= 0:
        return None
    if match.group(4) is not None and _visit_window(match.group(4)) is None:
        return None  # what follows the rate is not a window of the day
    return period * _PERIOD_SECONDS[match.group(3).lower()] / requests


def _lenient_split(content: str) -> tuple[str, str] | None:
    """Google's robots parser: a missing colon may be whitespace, if the line is exactly two words."""
    words = content.split()
    if len(words) != 2 or words[0].lower() not in _LENIENT_FIELDS:
        return None
    return words[0].lower(), words[1]


def _agent_matches(user_agent_value: str, token_lower: str) -> bool:
    """RFC 9309 §2.2.1: case-insensitive match of the line's product token."""
    found = _PRODUCT_TOKEN.match(user_agent_value.strip())
    return found is not None and found.group(0).lower() == token_lower


def _outranks(candidate: RobotsRule, incumbent: RobotsRule) -> bool:
    """Most octets wins; on a tie, allow wins (RFC 9309 §2.2.2)."""
    a, b = len(candidate.normalized.encode()), len(incumbent.normalized.encode())
    if a != b:
        return a > b
    return candidate.allow and not incumbent.allow
