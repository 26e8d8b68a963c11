"""IETF aipref usage preferences: the Content-Usage header and robots.txt records (reference §4).

``train-ai=n`` is the IETF's machine-readable training opt-out; Cloudflare's
``Content-Signal: ai-train=no`` says the same thing in another syntax. Protego
ignores both, so the robots.txt records are read here from the groups that
apply to our token, with longest-prefix paths and most-restrictive combining,
and every answer names the line that produced it. Pinned to
draft-ietf-aipref-vocab-07 and draft-ietf-aipref-attach-05.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeVar

from http_sfv.dictionary import Dictionary
from http_sfv.types import Token

from policy.robots import RobotsTxt, pattern_octets, url_matches_pattern

VOCABULARY = "draft-ietf-aipref-vocab-07"
ATTACHMENT = "draft-ietf-aipref-attach-05"
HEADER_NAME = "Content-Usage"
TRAIN_AI = "train-ai"
SEARCH = "search"
CONTENT_USAGE_RECORD = "content-usage"
CONTENT_SIGNAL_RECORD = "content-signal"
#: Labels of earlier vocabulary drafts (vocab-01 to -04): ignored as vocab-07 requires, but recorded.
LEGACY_LABELS = {
    "tdm": "vocab-01", "ai": "vocab-01", "genai": "vocab-01", "inference": "vocab-01", "all": "vocab-02",
    "train-genai": "vocab-02/03", "ai-use": "vocab-02", "bots": "vocab-03/04", "ai-output": "vocab-04",
}


class Preference(StrEnum):
    """One category's resolved preference; the draft "takes no position" on unknown."""

    ALLOWED = "y"
    DISALLOWED = "n"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class UsagePreferences:
    """A parsed Content-Usage value (or several combined)."""

    train_ai: Preference = Preference.UNKNOWN
    search: Preference = Preference.UNKNOWN
    all_values: tuple[tuple[str, str], ...] = ()  # every key whose value was the token y or n
    raw: str = ""  # the value(s) as received
    source: str = ""  # "Content-Usage header", "robots.txt line 7", "combined"
    notes: tuple[str, ...] = ()
    legacy_labels: tuple[str, ...] = ()  # "train-genai=n (robots.txt line 4)": what a site meant in older drafts

    @property
    def as_dict(self) -> dict[str, str]:
        return dict(self.all_values)

    def get(self, key: str) -> Preference:
        return Preference(self.as_dict.get(key, Preference.UNKNOWN))


@dataclass(frozen=True, slots=True)
class ContentSignals:
    """A Cloudflare ``Content-Signal`` value; ``ai_train`` is read like ``train-ai``."""

    search: Preference = Preference.UNKNOWN
    ai_input: Preference = Preference.UNKNOWN
    ai_train: Preference = Preference.UNKNOWN
    all_values: tuple[tuple[str, str], ...] = ()  # key -> "y"/"n" for every yes/no value
    use: str | None = None  # optional "use=immediate|reference|full"
    raw: str = ""
    source: str = ""
    notes: tuple[str, ...] = ()

    @property
    def as_dict(self) -> dict[str, str]:
        return dict(self.all_values)


#: What a failed aipref reader reads as (policy.observe): train-ai=n and ai-train=no, search too.
PROTECTIVE = UsagePreferences(Preference.DISALLOWED, Preference.DISALLOWED, ((TRAIN_AI, "n"), (SEARCH, "n")),
                              source="reader failure", notes=("the usage preferences could not be read: n assumed",))
PROTECTIVE_SIGNALS = ContentSignals(Preference.DISALLOWED, Preference.DISALLOWED, Preference.DISALLOWED,
                                    (("search", "n"), ("ai-input", "n"), ("ai-train", "n")), source="reader failure")


# -- Content-Usage values --------------------------------------------------------


def parse_content_usage(value: str, source: str = f"{HEADER_NAME} header") -> UsagePreferences:
    """Parse an RFC 9651 Dictionary; only the Tokens ``y`` and ``n`` count.

    Keys are case-sensitive, the last duplicate wins, unknown keys and
    parameters are ignored, and a parse failure makes every category unknown.
    """
    raw = _text(value)
    dictionary = Dictionary()
    try:
        dictionary.parse(raw.encode("ascii"))
    except Exception as error:  # noqa: BLE001 - non-ASCII, bad syntax, uppercase keys, empty
        why = str(error) or type(error).__name__
        return UsagePreferences(raw=raw, source=source, notes=(f"not a structured-field Dictionary ({why}): all unknown",))
    values: list[tuple[str, str]] = []
    notes: list[str] = []
    legacy: list[str] = []
    try:
        for key in dictionary:
            member = dictionary[key]
            item_value = getattr(member, "value", None)
            if str(key) in LEGACY_LABELS:
                shown = str(item_value) if isinstance(item_value, Token) else repr(item_value)[:20]
                legacy.append(f"{key}={shown} ({source}; a {LEGACY_LABELS[str(key)]} label, not in {VOCABULARY})")
            elif isinstance(item_value, Token) and str(item_value) in ("y", "n"):
                values.append((str(key), str(item_value)))
            elif key in (TRAIN_AI, SEARCH):
                notes.append(f"{key}: value {item_value!r:.40} is not the token y or n: unknown")
    except Exception as error:  # noqa: BLE001 - inner lists and the like
        return UsagePreferences(raw=raw, source=source, notes=(f"unreadable Dictionary ({error!r:.60}): all unknown",))
    notes += [f"legacy label seen: {label}: ignored" for label in legacy]
    return _preferences(values, raw, source, tuple(notes), tuple(legacy))


def from_headers(values: Iterable[str]) -> UsagePreferences:
    """Every Content-Usage field line, joined with ", " as RFC 9651 §4.2 combines them."""
    lines = [_text(v) for v in _safe_list(values) if v is not None]
    if not lines:
        return UsagePreferences(source=f"{HEADER_NAME} header")
    return parse_content_usage(", ".join(lines))


def combine(*preferences: UsagePreferences) -> UsagePreferences:
    """Most restrictive wins per category: any ``n`` gives n, else any ``y`` gives y, else unknown."""
    resolved: dict[str, str] = {}
    for prefs in preferences:
        for key, value in prefs.all_values:
            if value == "n" or key not in resolved:
                resolved[key] = value
    raws = [p.raw for p in preferences if p.raw]
    sources = [p.source for p in preferences if p.source]
    notes = tuple(n for p in preferences for n in p.notes)
    source = sources[0] if len(sources) == 1 else "combined: " + ", ".join(sources)
    legacy = tuple(label for p in preferences for label in p.legacy_labels)
    return _preferences(list(resolved.items()), " | ".join(raws), source, notes, legacy)


# -- Content-Signal values ---------------------------------------------------------

_YES_NO = {"yes": "y", "no": "n"}


def parse_content_signal(value: str, source: str = "Content-Signal") -> ContentSignals:
    """Read ``search=yes, ai-train=no, ai-input=no[, use=...]``; anything but yes/no is unknown."""
    raw = _text(value)
    values: dict[str, str] = {}
    use: str | None = None
    notes: list[str] = []
    for part in raw.split(","):
        part = part.strip()
        if not part:
            continue
        key, sep, setting = (p.strip() for p in part.partition("="))
        key = key.lower()
        setting = setting.lower().strip('"')
        if not sep:
            notes.append(f"{part!r:.40} has no '=': ignored")
        elif key == "use":
            use = setting
        elif setting in _YES_NO:
            values.pop(key, None)  # last duplicate wins, as in a Dictionary
            values[key] = _YES_NO[setting]
        else:
            notes.append(f"{key}={setting!r:.40} is not yes or no: unknown")
    return ContentSignals(
        search=Preference(values.get("search", Preference.UNKNOWN)),
        ai_input=Preference(values.get("ai-input", Preference.UNKNOWN)),
        ai_train=Preference(values.get("ai-train", Preference.UNKNOWN)),
        all_values=tuple(values.items()), use=use, raw=raw, source=source, notes=tuple(notes),
    )


def signals_from_headers(values: Iterable[str]) -> ContentSignals:
    """Every ``Content-Signal`` response header line (Cloudflare sends it on responses too), joined with ", "."""
    lines = [_text(v) for v in _safe_list(values) if v is not None]
    if not lines:
        return ContentSignals(source="Content-Signal header")
    return parse_content_signal(", ".join(lines), "Content-Signal header")


def combine_signals(*signals: ContentSignals) -> ContentSignals:
    """Most restrictive wins per key, as for Content-Usage."""
    resolved: dict[str, str] = {}
    for signal in signals:
        for key, value in signal.all_values:
            if value == "n" or key not in resolved:
                resolved[key] = value
    uses = [s.use for s in signals if s.use]
    sources = [s.source for s in signals if s.source]
    return ContentSignals(
        search=Preference(resolved.get("search", Preference.UNKNOWN)),
        ai_input=Preference(resolved.get("ai-input", Preference.UNKNOWN)),
        ai_train=Preference(resolved.get("ai-train", Preference.UNKNOWN)),
        all_values=tuple(resolved.items()),
        use=uses[-1] if uses else None,
        raw=" | ".join(s.raw for s in signals if s.raw),
        source=sources[0] if len(sources) == 1 else "combined: " + ", ".join(sources),
        notes=tuple(n for s in signals for n in s.notes),
    )


# -- robots.txt records --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UsageRule:
    """One ``Content-Usage`` line of an applicable group."""

    path: str | None  # None: applies to every path
    preferences: UsagePreferences
    line_number: int
    text: str  # the line as written (after comment removal)
    group_agents: tuple[str, ...]

    def describe(self) -> str:
        agents = ", ".join(repr(a) for a in self.group_agents)
        return f"line {self.line_number}: '{self.text}' (group for {agents})"


@dataclass(frozen=True, slots=True)
class SignalRule:
    """One ``Content-Signal`` line of an applicable group."""

    path: str | None
    signals: ContentSignals
    line_number: int
    text: str
    group_agents: tuple[str, ...]

    def describe(self) -> str:
        agents = ", ".join(repr(a) for a in self.group_agents)
        return f"line {self.line_number}: '{self.text}' (group for {agents})"


@dataclass(frozen=True, slots=True)
class RobotsUsage:
    """Content-Usage and Content-Signal records of the robots.txt groups that apply to ``token``."""

    token: str
    robots: RobotsTxt = field(compare=False)
    usage_rules: tuple[UsageRule, ...] = ()
    signal_rules: tuple[SignalRule, ...] = ()
    notes: tuple[str, ...] = ()

    @classmethod
    def from_robots(cls, body: bytes, token: str) -> RobotsUsage:
        """Parse ``body`` as robots.txt and keep the records in the groups chosen for ``token``."""
        if not isinstance(body, (bytes, bytearray, str)):
            body = b""
        robots = RobotsTxt.parse(bytes(body) if isinstance(body, bytearray) else body)
        return cls.from_parsed(robots, token)

    @classmethod
    def from_parsed(cls, robots: RobotsTxt, token: str) -> RobotsUsage:
        """The same, for an already parsed file (the crawler's site-file cache has one, crawler/sitefiles.py)."""
        notes: list[str] = [
            f"line {r.line_number}: '{r.key}' before any user-agent line applies to no one"
            for r in robots.ungrouped_records if r.key in (CONTENT_USAGE_RECORD, CONTENT_SIGNAL_RECORD)
        ]
        usage: list[UsageRule] = []
        signals: list[SignalRule] = []
        for group in robots.groups_for(token):
            agents = tuple(group.user_agents)
            for record in group.records:
                if record.key not in (CONTENT_USAGE_RECORD, CONTENT_SIGNAL_RECORD):
                    continue
                path, value = _split_path(record.value)
                text = f"{'Content-Usage' if record.key == CONTENT_USAGE_RECORD else 'Content-Signal'}: {record.value}"
                if not value:
                    notes.append(f"line {record.line_number}: '{text}' has no preferences: ignored")
                    continue
                source = f"robots.txt line {record.line_number}"
                if record.key == CONTENT_USAGE_RECORD:
                    prefs = parse_content_usage(value, source)
                    read = bool(prefs.all_values or prefs.legacy_labels)
                    usage.append(UsageRule(path, prefs, record.line_number, text, agents))
                else:
                    signal = parse_content_signal(value, source)
                    read = bool(signal.all_values)
                    signals.append(SignalRule(path, signal, record.line_number, text, agents))
                if path is None and not read:
                    notes.append(f"line {record.line_number}: '{text}': the value does not start with '/', so it has no "
                                 f"path ({ATTACHMENT} §3.2), and read whole it states no preference: no rule for any path")
        return cls(token, robots, tuple(usage), tuple(signals), tuple(notes))

    def for_url(self, url: str) -> tuple[UsagePreferences, tuple[str, ...]]:
        """The Content-Usage preferences for ``url`` and the lines that decided them.

        Longest matching path wins; a rule without a path counts as ``/``;
        rules of equal length combine most-restrictively. Only crawlable paths
        carry preferences (attach-05).
        """
        blocked = self._not_crawlable(url)
        if blocked is not None:
            return UsagePreferences(source="robots.txt", notes=(blocked,)), (blocked,)
        chosen = _longest(self.usage_rules, url)
        if not chosen:
            return UsagePreferences(source="robots.txt"), (self._nothing_matches("Content-Usage", url),)
        return combine(*(r.preferences for r in chosen)), tuple(r.describe() for r in chosen)

    def signals_for_url(self, url: str) -> tuple[ContentSignals, tuple[str, ...]]:
        """The Content-Signal values for ``url``, matched like :meth:`for_url`."""
        blocked = self._not_crawlable(url)
        if blocked is not None:
            return ContentSignals(source="robots.txt", notes=(blocked,)), (blocked,)
        chosen = _longest(self.signal_rules, url)
        if not chosen:
            return ContentSignals(source="robots.txt"), (self._nothing_matches("Content-Signal", url),)
        return combine_signals(*(r.signals for r in chosen)), tuple(r.describe() for r in chosen)

    def _not_crawlable(self, url: str) -> str | None:
        try:
            verdict = self.robots.check(url, self.token)
        except Exception as error:  # noqa: BLE001 - a URL that cannot be split
            return f"URL {url!r:.80} cannot be matched ({error!r:.60}): no preferences"
        if verdict.allowed:
            return None
        return f"not crawlable, so no usage preferences apply: {verdict.explanation}"

    def _nothing_matches(self, record: str, url: str) -> str:
        return f"no {record} line in the groups for '{self.token}' matches {url!r:.120}"


_Rule = TypeVar("_Rule", UsageRule, SignalRule)


def _longest(rules: tuple[_Rule, ...], url: str) -> list[_Rule]:
    """The matching rules with the longest path; several when lengths tie."""
    scored: list[tuple[int, _Rule]] = []
    for rule in rules:
        if rule.path is None:
            scored.append((1, rule))  # as if "/": applies to every path
        elif url_matches_pattern(rule.path, url):
            scored.append((pattern_octets(rule.path), rule))
    if not scored:
        return []
    best = max(score for score, _ in scored)
    return [rule for score, rule in scored if score == best]


def _split_path(value: str) -> tuple[str | None, str]:
    """attach-05 §3.2: a value starting with "/" has a path up to the first SP or HTAB; any other has none.

    Without a path "the entire rule value is the statement of preference", so
    ``*.jpg train-ai=y`` is not a rule for ``*.jpg``: as a whole it is not a
    Dictionary, so its preferences are unknown and it can never allow anything.
    """
    value = value.strip(" \t")
    if not value.startswith("/"):
        return None, value
    path, _, rest = value.replace("\t", " ").partition(" ")
    return path, rest.strip(" \t")


def _preferences(values: list[tuple[str, str]], raw: str, source: str, notes: tuple[str, ...],
                 legacy: tuple[str, ...] = ()) -> UsagePreferences:
    lookup = dict(values)
    return UsagePreferences(
        train_ai=Preference(lookup.get(TRAIN_AI, Preference.UNKNOWN)),
        search=Preference(lookup.get(SEARCH, Preference.UNKNOWN)),
        all_values=tuple(values), raw=raw, source=source, notes=notes, legacy_labels=legacy,
    )


def _text(value: object) -> str:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("latin-1")
    return value if isinstance(value, str) else str(value)


def _safe_list(values: object) -> list[object]:
    if values is None:
        return []
    if isinstance(values, (str, bytes)):
        return [values]
    return list(values) if isinstance(values, Iterable) else []
