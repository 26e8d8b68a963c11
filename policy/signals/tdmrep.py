"""W3C TDM Reservation Protocol: tdmrep.json, tdm-* headers and meta tags (reference §3).

A ``tdm-reservation: 1`` is the machine-readable CDSM Art. 4 opt-out, so every
level the spec defines is read, combined in the spec's order (file < header <
meta) with "absence does not reset", and each value keeps the rule, header or
tag it came from. datadiligence reads only the header (§8).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from policy.pathmatch import UnmatchableURL, glob_matches, normalize_path, normalize_pattern

WELL_KNOWN_PATH = "/.well-known/tdmrep.json"
RESERVATION_FIELD = "tdm-reservation"
POLICY_FIELD = "tdm-policy"
#: The spec sets no limit; a rules file this large is hostile, not a policy.
TDMREP_PARSE_LIMIT_BYTES = 1024 * 1024
#: Nesting of arrays and objects read; the spec's file is an array of flat objects (two levels).
TDMREP_MAX_DEPTH = 32

SOURCE_FILE = "tdmrep.json"
SOURCE_HEADER = "header"
SOURCE_META = "meta"
SOURCE_UNSET = "unset"


@dataclass(frozen=True, slots=True)
class TdmValue:
    """A tdm-reservation (1, 0 or None for unset) and tdm-policy, with where they came from."""

    reservation: int | None
    policy: str | None
    source: str  # "tdmrep.json", "header", "meta" or "unset"
    evidence: str  # the matched rule, header or tag as written
    notes: tuple[str, ...] = ()

    @property
    def reserved(self) -> bool:
        """True when TDM rights are reserved (the CDSM Art. 4 opt-out)."""
        return self.reservation == 1


UNSET = TdmValue(None, None, SOURCE_UNSET, "")
#: What a failed TDMRep reader reads as (policy.observe): rights reserved, as for an unreachable tdmrep.json.
PROTECTIVE = TdmValue(1, None, "reader failure", "the TDMRep reader failed: reservation assumed")


@dataclass(frozen=True, slots=True)
class TdmRule:
    """One valid entry of tdmrep.json, with its position in the array."""

    location: str
    reservation: int | None  # None when the value was a protocol error
    policy: str | None
    index: int  # 0-based position in the array
    raw: str  # the entry re-serialised, for the decision record

    def matches(self, path_and_query: str) -> bool:
        """Robots-style glob (``*``, trailing ``$``), case-sensitive, after the spec's percent-decoding.

        The spec: a percent-encoded unreserved character "MUST be unencoded prior
        to comparison"; ``/path/foo-%24`` matches ``/path/foo-$`` (policy.pathmatch).
        """
        return glob_matches(normalize_pattern(self.location), normalize_path(path_and_query))


@dataclass(frozen=True, slots=True)
class TdmRepFile:
    """A parsed /.well-known/tdmrep.json: rules in file order, first match wins.

    A file that exists but cannot be read (too large, not UTF-8, not JSON, too
    deep, not an array) may hide a reservation, so it reads as one, as an
    unreachable file does: ``unreadable`` says why. Entries that are invalid
    one by one keep the spec's handling (skipped, or their value unset).
    """

    rules: tuple[TdmRule, ...] = ()
    notes: tuple[str, ...] = ()
    unreadable: str | None = None

    @classmethod
    def parse(cls, body: bytes) -> TdmRepFile:
        """Parse the file; anything unusable yields a file that reserves everything, with a note."""
        if not isinstance(body, (bytes, bytearray, str)):
            return cls.cannot_read(f"body of type {type(body).__name__} is not a file")
        raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else bytes(body)
        if len(raw) > TDMREP_PARSE_LIMIT_BYTES:
            return cls.cannot_read(f"tdmrep.json is {len(raw)} bytes, over the {TDMREP_PARSE_LIMIT_BYTES}-byte limit")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            return cls.cannot_read("tdmrep.json is not UTF-8")
        try:
            document = json.loads(text)
        except RecursionError:
            return cls.cannot_read(f"tdmrep.json is nested too deep (more than {TDMREP_MAX_DEPTH} levels)")
        except ValueError as error:  # JSONDecodeError, and int() refusing a 5,000-digit number
            return cls.cannot_read(f"tdmrep.json is not valid JSON ({type(error).__name__})")
        if json_depth(document, TDMREP_MAX_DEPTH) > TDMREP_MAX_DEPTH:
            return cls.cannot_read(f"tdmrep.json is nested too deep (more than {TDMREP_MAX_DEPTH} levels)")
        if not isinstance(document, list):
            return cls.cannot_read(f"tdmrep.json must be a JSON array, found {type(document).__name__}")
        rules: list[TdmRule] = []
        notes: list[str] = []
        for index, entry in enumerate(document):
            rule = _read_entry(index, entry, notes)
            if rule is not None:
                rules.append(rule)
        return cls(tuple(rules), tuple(notes))

    @classmethod
    def cannot_read(cls, why: str) -> TdmRepFile:
        return cls((), (f"{why}: reservation assumed",), why)

    def lookup(self, path_and_query: str) -> TdmValue:
        """The first rule whose location matches (case-sensitive, ``*`` and trailing ``$``)."""
        if self.unreadable is not None:
            return TdmValue(1, None, SOURCE_FILE, f"tdmrep.json cannot be read ({self.unreadable}): reservation assumed",
                            self.notes)
        try:
            target = _path_and_query(path_and_query)
            normalize_path(target)
        except UnmatchableURL as error:
            return TdmValue(1, None, SOURCE_FILE, f"{error}: reservation assumed", self.notes)
        for rule in self.rules:
            if not rule.matches(target):
                continue
            policy = rule.policy if rule.reservation == 1 else None
            notes = self.notes
            if rule.reservation is None:
                notes += (f"rule #{rule.index} matched but its {RESERVATION_FIELD} is missing or not 0 or 1: unset",)
            return TdmValue(rule.reservation, policy, SOURCE_FILE, f"tdmrep.json rule #{rule.index}: {rule.raw}", notes)
        return TdmValue(None, None, SOURCE_UNSET, f"no tdmrep.json location matches {target!r}", self.notes)


def from_headers(headers: Mapping[str, Sequence[str]]) -> TdmValue:
    """The ``tdm-reservation`` / ``tdm-policy`` response headers (names case-insensitive).

    Accepts str or bytes names and values, and a single value instead of a list.
    """
    reservations: list[str] = []
    policies: list[str] = []
    for name, values in headers.items():  # not a mapping is the caller's bug: policy.observe reads it as reserved
        lowered = _text(name).strip().lower()
        if lowered == RESERVATION_FIELD:
            reservations.extend(_values(values))
        elif lowered == POLICY_FIELD:
            policies.extend(_values(values))
    return _level(SOURCE_HEADER, reservations, policies)


def from_meta(metas: Iterable[tuple[str, str]]) -> TdmValue:
    """``<meta name="tdm-reservation">`` / ``<meta name="tdm-policy">`` (names case-insensitive)."""
    reservations: list[str] = []
    policies: list[str] = []
    try:
        pairs = list(metas)
    except Exception:  # noqa: BLE001 - not iterable
        pairs = []
    for pair in pairs:
        try:
            name, content = pair
        except (TypeError, ValueError):
            continue
        if name is None or content is None:
            continue
        lowered = _text(name).strip().lower()
        if lowered == RESERVATION_FIELD:
            reservations.append(_text(content))
        elif lowered == POLICY_FIELD:
            policies.append(_text(content))
    return _level(SOURCE_META, reservations, policies)


def combine(file: TdmValue | None = None, header: TdmValue | None = None, meta: TdmValue | None = None) -> TdmValue:
    """Apply the spec's precedence, file < header < meta; an unset level keeps earlier values.

    ``tdm-policy`` is dropped when the final reservation is 0 (agents "SHOULD NOT
    process" it).
    """
    reservation: int | None = None
    policy: str | None = None
    source = SOURCE_UNSET
    evidence: list[str] = []
    notes: list[str] = []
    for level in (file, header, meta):
        if level is None:
            continue
        notes.extend(level.notes)
        if level.reservation is not None:
            if reservation is not None and level.reservation != reservation:
                notes.append(f"{level.source} supersedes the earlier {source} value {reservation} with {level.reservation}")
            reservation, source = level.reservation, level.source
            evidence.append(level.evidence)
        if level.policy is not None:
            policy = level.policy
            if level.reservation is None:
                evidence.append(level.evidence)
    if reservation == 0 and policy is not None:
        notes.append(f"{POLICY_FIELD} {policy!r} ignored: final {RESERVATION_FIELD} is 0")
        policy = None
    return TdmValue(reservation, policy, source, "; ".join(e for e in evidence if e), tuple(notes))


# -- helpers --------------------------------------------------------------------


def _read_entry(index: int, entry: object, notes: list[str]) -> TdmRule | None:
    if not isinstance(entry, dict):
        notes.append(f"entry #{index} is not an object: skipped")
        return None
    location = entry.get("location")
    if not isinstance(location, str) or not location:
        notes.append(f"entry #{index} has no string 'location': skipped")
        return None
    if not location.startswith(("/", "*")):
        notes.append(f"entry #{index}: location {location!r:.60} does not start with '/' or '*': it matches no path")
    # The first entry whose location matches decides, even one without a value: unset there (reference §3's
    # matcher), not the next entry's value.
    reservation = _json_reservation(entry.get(RESERVATION_FIELD))
    if RESERVATION_FIELD not in entry:
        notes.append(f"entry #{index} has no '{RESERVATION_FIELD}': unset where it matches first")
    elif reservation is None:
        notes.append(f"entry #{index}: {RESERVATION_FIELD} {entry[RESERVATION_FIELD]!r:.40} is not 0 or 1: unset")
    policy = entry.get(POLICY_FIELD)
    if policy is not None and not isinstance(policy, str):
        notes.append(f"entry #{index}: {POLICY_FIELD} is not a string: ignored")
        policy = None
    try:
        raw = json.dumps(entry, sort_keys=True, ensure_ascii=False)[:500]
    except Exception:  # noqa: BLE001 - unserialisable is impossible for parsed JSON, but never raise
        raw = repr(entry)[:500]
    return TdmRule(location, reservation, policy or None, index, raw)


def json_depth(document: object, limit: int) -> int:
    """How deeply arrays and objects nest in parsed JSON, counted without recursion (stops once past ``limit``)."""
    deepest = 0
    pending: list[tuple[object, int]] = [(document, 1)]
    while pending:
        value, level = pending.pop()
        if isinstance(value, (list, dict)):
            deepest = max(deepest, level)
            if deepest > limit:
                return deepest
            pending.extend((item, level + 1) for item in (value.values() if isinstance(value, dict) else value))
    return deepest


def _json_reservation(value: object) -> int | None:
    # bool is an int in Python (True == 1) but not a JSON number; 1.0 and "1" are protocol errors.
    if isinstance(value, int) and not isinstance(value, bool) and value in (0, 1):
        return value
    return None


def _level(source: str, reservations: list[str], policies: list[str]) -> TdmValue:
    """One header or meta level; several values are combined most-restrictively, with a note."""
    notes: list[str] = []
    values = [v.strip() for raw in reservations for v in raw.split(",")]
    values = [v for v in values if v]
    valid = sorted({int(v) for v in values if v in ("0", "1")}, reverse=True)
    for bad in (v for v in values if v not in ("0", "1")):
        notes.append(f"{source} {RESERVATION_FIELD} {bad!r:.40} is not 0 or 1: treated as unset")
    reservation = valid[0] if valid else None
    if len(valid) > 1:
        notes.append(f"conflicting {source} {RESERVATION_FIELD} values {values}: the reservation (1) wins")
    policy_values = [p.strip() for p in policies if p.strip()]
    policy = policy_values[-1] if policy_values else None
    if len(set(policy_values)) > 1:
        notes.append(f"several {source} {POLICY_FIELD} values: using the last, {policy!r}")
    shown = [f"{RESERVATION_FIELD}: {r}" for r in reservations] + [f"{POLICY_FIELD}: {p}" for p in policies]
    evidence = f"{source} " + "; ".join(shown) if shown else ""
    return TdmValue(reservation, policy, source if reservation is not None or policy else SOURCE_UNSET, evidence, tuple(notes))


def _values(values: object) -> list[str]:
    if values is None:
        return []
    if isinstance(values, (str, bytes, bytearray)) or not isinstance(values, Iterable):
        return [_text(values)]
    return [_text(v) for v in values if v is not None]


def _text(value: object) -> str:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("latin-1")
    return value if isinstance(value, str) else str(value)


def _path_and_query(target: str) -> str:
    """Accept a path-and-query or a whole URL; the fragment is never matched."""
    text = _text(target)
    try:
        parts = urlsplit(text)
    except ValueError as error:
        raise UnmatchableURL(f"URL {text!r:.80} cannot be parsed") from error
    if parts.scheme or parts.netloc or "#" in text:
        path = parts.path or "/"
        return path + ("?" + parts.query if parts.query else "")
    return text
