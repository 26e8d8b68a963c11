"""TDMRep ``tdm-policy`` documents: the ODRL 2.2 offer behind a reservation (TDMRep CG report, "TDM Policy").

A ``tdm-reservation: 1`` may point to a policy that offers mining on terms:
free, after obtaining consent, against compensation, or for research only.
Finer AI terms are expected to appear here (reference §9.4), so the document
is read rather than ignored. The reading never weakens a reservation by
accident: a policy that cannot be fetched or read, is human-readable only,
uses an action, duty or constraint we do not know, or prohibits mining keeps
the reservation. Duties (``obtainConsent``, ``compensate``) mean "not
permitted unless a licence is recorded in the terms registry".

The crawler fetches each policy URL once (cached like site files) and calls
:func:`parse`, then :meth:`TdmPolicy.evaluate`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum

from policy.signals.tdmrep import json_depth

PROFILE = "http://www.w3.org/ns/tdmrep"
CONTEXTS = ("http://www.w3.org/ns/odrl.jsonld", "http://www.w3.org/ns/tdmrep.jsonld")
#: A policy is one small JSON object; anything larger is hostile.
TDM_POLICY_PARSE_LIMIT_BYTES = 256 * 1024
MAX_DEPTH = 32
MACHINE_READABLE = ("application/json", "application/ld+json")

_MINE = {"tdm:mine", "http://www.w3.org/ns/tdmrep#mine"}
_DUTIES = {
    "obtainconsent": "obtainConsent", "odrl:obtainconsent": "obtainConsent",
    "http://www.w3.org/ns/odrl/2/obtainconsent": "obtainConsent",
    "compensate": "compensate", "odrl:compensate": "compensate", "http://www.w3.org/ns/odrl/2/compensate": "compensate",
}
_PURPOSES = {"tdm:research": "research", "http://www.w3.org/ns/tdmrep#research": "research",
             "tdm:non-research": "non-research", "http://www.w3.org/ns/tdmrep#non-research": "non-research"}


class TdmPolicyStatus(StrEnum):
    PERMITTED = "permitted"  # the policy offers mining for our purpose with no duty: the reservation is lifted for us
    LICENCE_REQUIRED = "licence_required"  # obtainConsent or compensate: only with a recorded licence
    RESERVED = "reserved"  # not offered for our purpose, prohibited, unreadable or unknown terms: the reservation stands


@dataclass(frozen=True, slots=True)
class TdmPermission:
    """One ``permission`` entry: its action, duties and purpose constraint."""

    action: str
    duties: tuple[str, ...]  # "obtainConsent", "compensate", or unknown duties as written
    purposes: tuple[str, ...]  # "research" / "non-research"; () means any purpose
    unknown: tuple[str, ...]  # terms we cannot evaluate (unknown duties, constraints), as written
    index: int


@dataclass(frozen=True, slots=True)
class TdmPolicyVerdict:
    status: TdmPolicyStatus
    reason: str
    duties: tuple[str, ...] = ()
    contact: str | None = None  # vcard:hasEmail or vcard:hasURL of the assigner, to ask for consent


@dataclass(frozen=True, slots=True)
class TdmPolicy:
    """A read policy document; ``unreadable`` says why the reservation must stand regardless."""

    url: str
    permissions: tuple[TdmPermission, ...] = ()
    prohibits_mining: bool = False
    uid: str | None = None
    contact: str | None = None
    notes: tuple[str, ...] = ()
    unreadable: str | None = None

    def evaluate(self, purpose: str = "non-research") -> TdmPolicyVerdict:
        """What the policy offers for mining with ``purpose`` ("research" or "non-research"; never raises)."""
        where = f"tdm-policy {self.url}"
        if self.unreadable is not None:
            return TdmPolicyVerdict(TdmPolicyStatus.RESERVED, f"{where} cannot be used ({self.unreadable}): reservation kept")
        if self.prohibits_mining:
            return TdmPolicyVerdict(TdmPolicyStatus.RESERVED, f"{where} prohibits tdm:mine: reservation kept")
        best: TdmPolicyVerdict | None = None
        for permission in self.permissions:
            what = f"{where}, permission #{permission.index}"
            if permission.action not in _MINE:
                continue
            if permission.purposes and purpose not in permission.purposes:
                continue
            if permission.unknown:
                verdict = TdmPolicyVerdict(TdmPolicyStatus.LICENCE_REQUIRED, f"{what} has terms faircrawl cannot evaluate ("
                                           + ", ".join(permission.unknown) + "): only with a recorded licence",
                                           permission.duties, self.contact)
            elif permission.duties:
                verdict = TdmPolicyVerdict(TdmPolicyStatus.LICENCE_REQUIRED, f"{what} offers tdm:mine with the duties "
                                           + ", ".join(permission.duties) + ": not permitted unless a licence is "
                                           "recorded in the terms registry", permission.duties, self.contact)
            else:
                scope = f" for {purpose} purposes" if permission.purposes else ""
                return TdmPolicyVerdict(TdmPolicyStatus.PERMITTED, f"{what} offers tdm:mine{scope} with no duty",
                                        (), self.contact)
            best = best or verdict
        if best is not None:
            return best
        return TdmPolicyVerdict(TdmPolicyStatus.RESERVED,
                                f"{where} offers no tdm:mine permission for {purpose} purposes: reservation kept",
                                (), self.contact)


def cannot_fetch(url: str, why: str) -> TdmPolicy:
    """A policy that could not be fetched: "not a protocol error", and the reservation stands."""
    return TdmPolicy(url, unreadable=f"could not be fetched ({why})")


def parse(body: bytes | str, content_type: str, url: str) -> TdmPolicy:
    """Read a policy served with ``content_type``; HTML (human-readable) or anything unusable keeps the reservation."""
    media = (content_type or "").split(";", 1)[0].strip().lower() if isinstance(content_type, str) else ""
    if media == "text/html":
        return TdmPolicy(url, unreadable="a human-readable (text/html) policy: a person must read it")
    if media not in MACHINE_READABLE:
        return TdmPolicy(url, unreadable=f"served as {media or 'no media type'!r}, not application/json or ld+json")
    if not isinstance(body, (bytes, bytearray, str)):
        return TdmPolicy(url, unreadable=f"body of type {type(body).__name__} is not a document")
    raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else bytes(body)
    if len(raw) > TDM_POLICY_PARSE_LIMIT_BYTES:
        return TdmPolicy(url, unreadable=f"{len(raw)} bytes, over the {TDM_POLICY_PARSE_LIMIT_BYTES}-byte limit")
    try:
        document = json.loads(raw.decode("utf-8-sig"))
    except RecursionError:
        return TdmPolicy(url, unreadable="nested too deep")
    except ValueError as error:  # UnicodeDecodeError, JSONDecodeError, huge integers
        return TdmPolicy(url, unreadable=f"not UTF-8 JSON ({type(error).__name__})")
    if json_depth(document, MAX_DEPTH) > MAX_DEPTH:
        return TdmPolicy(url, unreadable=f"nested deeper than {MAX_DEPTH} levels")
    if not isinstance(document, dict):
        return TdmPolicy(url, unreadable=f"a policy is a JSON object, found {type(document).__name__}")
    return _read(document, url)


def _read(document: dict[str, object], url: str) -> TdmPolicy:
    notes: list[str] = []
    if document.get("profile") != PROFILE:
        return TdmPolicy(url, unreadable=f"profile {document.get('profile')!r:.60} is not {PROFILE}")
    context = document.get("@context")
    contexts = context if isinstance(context, list) else [context]
    missing = [c for c in CONTEXTS if c not in contexts]
    if missing:
        notes.append(f"@context lacks {', '.join(missing)}: read by the TDMRep profile anyway")
    if document.get("@type") not in ("Offer", "odrl:Offer", "Policy", "Agreement"):
        notes.append(f"@type {document.get('@type')!r:.40} is not Offer")
    policy_duties, policy_unknown = _duties(document.get("duty"), "policy")
    permissions = []
    for index, entry in enumerate(_list(document.get("permission"))):
        if not isinstance(entry, dict):
            notes.append(f"permission #{index} is not an object: skipped")
            continue
        duties, unknown = _duties(entry.get("duty"), f"permission #{index}")
        purposes, unknown_constraints = _purposes(entry.get("constraint"))
        permissions.append(TdmPermission(_action(entry.get("action")), tuple(dict.fromkeys(policy_duties + duties)),
                                         purposes, tuple(policy_unknown + unknown + unknown_constraints), index))
    if not permissions:
        notes.append("no permission: the policy offers nothing")
    # The spec says a policy "SHOULD not contain" prohibitions; one that prohibits mining is honoured.
    prohibited = any(isinstance(p, dict) and _action(p.get("action")) in _MINE for p in _list(document.get("prohibition")))
    return TdmPolicy(url, tuple(permissions), prohibited, _string(document.get("uid")), _contact(document.get("assigner")),
                     tuple(notes))


def _action(value: object) -> str:
    if isinstance(value, dict):
        value = value.get("@id") or value.get("rdf:value")
    return value.strip().lower() if isinstance(value, str) else repr(value)[:40]


def _duties(value: object, where: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    known: list[str] = []
    unknown: list[str] = []
    for duty in _list(value):
        action = _action(duty.get("action")) if isinstance(duty, dict) else _action(duty)
        if action in _DUTIES:
            known.append(_DUTIES[action])
        else:
            unknown.append(f"{where} duty {action!r:.40}")
    return tuple(known), tuple(unknown)


def _purposes(value: object) -> tuple[tuple[str, ...], tuple[str, ...]]:
    purposes: list[str] = []
    unknown: list[str] = []
    for constraint in _list(value):
        if not isinstance(constraint, dict):
            unknown.append(f"constraint {constraint!r:.40}")
            continue
        left, operator, right = (constraint.get(k) for k in ("leftOperand", "operator", "rightOperand"))
        right_text = _action(right)
        if _action(left) in ("purpose", "odrl:purpose") and _action(operator) in ("eq", "odrl:eq") and right_text in _PURPOSES:
            purposes.append(_PURPOSES[right_text])
        else:
            unknown.append(f"constraint {left!r:.20} {operator!r:.10} {right!r:.30}")
    return tuple(purposes), tuple(unknown)


def _contact(assigner: object) -> str | None:
    if not isinstance(assigner, dict):
        return None
    for key in ("vcard:hasEmail", "vcard:hasURL", "uid"):
        found = _string(assigner.get(key))
        if found:
            return found
    return None


def _string(value: object) -> str | None:
    return value[:300] if isinstance(value, str) and value else None


def _list(value: object) -> list[object]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]
