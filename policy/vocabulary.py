"""The names rules and decisions use: purposes, signals (with their types), obligations and reason codes.

One place for each, so the loader, the linter, the engine, the signal readers
and the crawler agree; a rule naming anything else is a lint error with the
list of names, and a reason code is never built from a hostile token.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


class Purpose:
    FETCH_PAGE = "fetch_page"  # may this page be requested at all
    FETCH_IMAGE = "fetch_image"  # may this image be requested (before its bytes are seen)
    COLLECT_IMAGE = "collect_image"  # may the fetched image be kept
    FACE_TEMPLATE = "face_template"  # may face templates be computed, and kept


PURPOSES = (Purpose.FETCH_PAGE, Purpose.FETCH_IMAGE, Purpose.COLLECT_IMAGE, Purpose.FACE_TEMPLATE)


@dataclass(frozen=True, slots=True)
class SignalSpec:
    kind: str  # bool | int | str | list
    description: str
    values: tuple[str, ...] = ()  # allowed values for str signals (empty: any)


SIGNALS: dict[str, SignalSpec] = {
    "robots.allowed": SignalSpec("bool", "robots.txt of the request's host allows faircrawl's token"),
    "robots.availability": SignalSpec("str", "outcome of fetching robots.txt", ("parsed", "unavailable", "unreachable")),
    "page.robots": SignalSpec("list", "X-Robots-Tag and meta robots/faircrawl directives of the page (noai, noimageindex ...)"),
    "image.robots": SignalSpec("list", "X-Robots-Tag directives of the image response"),
    "tdm.reservation": SignalSpec("int", "TDMRep tdm-reservation after file < header < meta precedence (1 reserved, 0 not)"),
    "tdm.policy": SignalSpec("str", "TDMRep tdm-policy URL"),
    "aipref.train_ai": SignalSpec("str", "IETF aipref train-ai, most restrictive of robots.txt and headers", ("y", "n")),
    "aipref.search": SignalSpec("str", "IETF aipref search preference", ("y", "n")),
    "content_signal.ai_train": SignalSpec("str", "Cloudflare Content-Signal ai-train", ("yes", "no")),
    "ai_txt.training_allowed": SignalSpec("bool", "Spawning ai.txt allows AI training on this URL"),
    "iptc.data_mining": SignalSpec("list", "IPTC plus:DataMining codes in the image's XMP (DMI-...)"),
    "iptc.prohibits_ai_training": SignalSpec("bool", "a plus:DataMining code prohibits AI/ML training"),
    "c2pa.training_use": SignalSpec("str", "C2PA/CAWG training-mining use", ("allowed", "notAllowed", "constrained")),
    "c2pa.prohibits_ai_training": SignalSpec("bool", "a C2PA/CAWG assertion is notAllowed or constrained"),
    "rsl.ai_train": SignalSpec("str", "RSL 1.0 licence on AI training of this URL, most protective of the documents",
                               ("permitted", "licence_required", "prohibited")),
    "tdm.policy_status": SignalSpec("str", "what the tdm-policy document offers faircrawl's purpose",
                                    ("permitted", "licence_required", "reserved")),
    "license.kinds": SignalSpec("list", "licences found (cc-by-4.0, cc-by-nc-nd-4.0, cc0 ...)"),
    "license.noncommercial": SignalSpec("bool", "a licence found is NonCommercial"),
    "license.no_derivatives": SignalSpec("bool", "a licence found is NoDerivatives"),
    "license.acquire_pages": SignalSpec("list", "where a licence may be acquired (schema.org acquireLicensePage, "
                                        "XMP plus:LicensorURL): recorded, grants nothing"),
    "terms.listed_infringing": SignalSpec("bool", "the terms registry records that a court or public authority in the "
                                          "EU/EEA recognises the site as persistently infringing copyright"),
    "terms.licence_recorded": SignalSpec("bool", "the terms registry records a licence faircrawl holds for AI use "
                                         "(an RSL licence token, a tdm-policy's duties met)"),
    "terms.scraping": SignalSpec("str", "site terms on automated collection", ("permitted", "forbidden", "unknown")),
    "terms.biometric": SignalSpec("str", "site terms on biometric use of its images", ("permitted", "forbidden", "unknown")),
    "consent.biometric": SignalSpec("bool", "a recorded explicit consent/written release covers the people pictured"),
    "consent.templates": SignalSpec("str", "what the recorded consent allows for templates", ("transient", "persist")),
    "consent.purposes": SignalSpec("list", "what a consent given to faircrawl covers", ("collect_image", "face_template")),
    "consent.retention_days": SignalSpec("int", "how long the consent allows persisted templates to be kept"),
    "consent.purpose_ends": SignalSpec("str", "the date the purpose the consent was given for ends (YYYY-MM-DD)"),
    "consent.last_interaction": SignalSpec("str", "the date of the people's last interaction with faircrawl (YYYY-MM-DD)"),
    "image.faces": SignalSpec("int", "number of faces detected in the image (absent until detected)"),
    "robots.faces_allowed": SignalSpec("bool", "robots.txt allows face processing of the image (the faces token, "
                                       "e.g. faircrawl-faces; absent until faces matter)"),
    "site.testsite": SignalSpec("bool", "the host is a local test site of the catalog"),
}


class Obligation:
    TEMPLATES = "templates"  # none | transient | persist
    RETENTION_DAYS = "retention_days"  # for persisted templates, from their creation
    AFTER_PURPOSE_DAYS = "after_purpose_days"  # ... at most this long after their purpose ends
    LAST_INTERACTION_DAYS = "last_interaction_days"  # ... and after the person's last interaction
    FACE_IMAGES = "face_images"  # exclude | store: may an image showing faces be kept
    ATTRIBUTION = "attribution"  # bool: keep creator and licence (CC BY)
    NO_DERIVATIVES = "no_derivatives"  # bool: never publish crops or resizes (CC ND)
    NONCOMMERCIAL_ONLY = "noncommercial_only"  # bool: a NonCommercial licence (CC NC): non-commercial use only


#: For each ordered obligation, its values from strictest to most permissive.
OBLIGATION_ORDER: dict[str, tuple[str, ...]] = {
    Obligation.TEMPLATES: ("none", "transient", "persist"),
    Obligation.FACE_IMAGES: ("exclude", "store"),
}
#: Obligations that are limits in days: the shortest wins.
DAY_LIMITS = (Obligation.RETENTION_DAYS, Obligation.AFTER_PURPOSE_DAYS, Obligation.LAST_INTERACTION_DAYS)
OBLIGATIONS = (*OBLIGATION_ORDER, *DAY_LIMITS, Obligation.ATTRIBUTION, Obligation.NO_DERIVATIVES,
               Obligation.NONCOMMERCIAL_ONLY)


# -- reason codes -------------------------------------------------------------------------------
#
# A reason's ``code`` is what reports, tests and the crawler key on, so it comes from this fixed
# vocabulary; a token read from a response (an X-Robots-Tag directive, a licence, a C2PA use) never
# becomes part of a code unless it is one of the known tokens below. Rule ids from packs are codes
# too (one per deciding rule); the rule schema limits them to RULE_ID_PATTERN, which has no dot.

#: X-Robots-Tag / robots meta rule names that may be followed by ":" without being a bot name (reference §2.3).
ROBOTS_RULES = frozenset({
    "all", "noindex", "nofollow", "none", "noarchive", "nosnippet", "notranslate", "noimageindex",
    "indexifembedded", "noai", "noimageai", "max-snippet", "max-image-preview", "max-video-preview",
    "unavailable_after", "nocache", "noodp",
})
#: Directives with a code of their own (``page.noai``, ``image.noimageindex``); others are ``*.unknown_directive``.
ROBOTS_DIRECTIVES = ROBOTS_RULES | {"index", "follow"}
#: Creative Commons licence elements and versions that ``policy.signals.licenses`` classifies.
CC_LICENCE_ELEMENTS = ("by", "by-sa", "by-nd", "by-nc", "by-nc-sa", "by-nc-nd")
CC_LICENCE_VERSIONS = ("1.0", "2.0", "2.1", "2.5", "3.0", "4.0")  # 2.1: the ported jp, es and au licences
LICENCE_UNKNOWN = "unknown"
LICENCE_KINDS = frozenset(
    {f"cc-{element}-{version}" for element in CC_LICENCE_ELEMENTS for version in CC_LICENCE_VERSIONS}
    | {"cc0", "cc-pdm", LICENCE_UNKNOWN}
)
#: The code of a signal reader that failed (an exception our code did not expect); the reading is the most protective.
SIGNAL_READER_FAILED = "signal.reader_failed"
#: Raw tokens kept as evidence with an ``*.unknown*`` code are cut to this many characters.
TOKEN_EVIDENCE_CHARS = 100
RULE_ID_PATTERN = "^[a-z0-9][a-z0-9-]*$"

#: For each prefix whose codes are built from a token: the tokens known, and the code for any other.
TOKEN_CODES: dict[str, tuple[frozenset[str], str]] = {
    "page": (ROBOTS_DIRECTIVES, "page.unknown_directive"),
    "image": (ROBOTS_DIRECTIVES, "image.unknown_directive"),
    "licence": (LICENCE_KINDS, "licence.unknown"),
    "c2pa": (frozenset(SIGNALS["c2pa.training_use"].values), "c2pa.unknown_use"),
}

#: Every reason code faircrawl produces (policy/observe.py and crawler/); a test keeps it complete.
REASON_CODES: frozenset[str] = frozenset({
    # robots.txt, per request (policy.observe) and the crawl-delay and visit-time checks (crawler/gates/consent.py)
    "robots.allowed", "robots.disallowed", "robots.unavailable", "robots.unreachable", "robots.crawl_delay_too_long",
    "robots.outside_visit_time",
    # the other signals (policy.observe)
    "tdm.reserved", "tdm.not_reserved",
    "aipref.train_ai_y", "aipref.train_ai_n", "aipref.legacy_label", "content_signal.ai_train_yes",
    "content_signal.ai_train_no",
    "ai_txt.allowed", "ai_txt.disallowed", "ai_txt.unreachable",
    "rsl.permitted", "rsl.licence_required", "rsl.prohibited", "tdm.policy_permitted", "tdm.policy_licence_required",
    "tdm.policy_reserved",
    "iptc.data_mining", "iptc.data_mining_prohibited", "iptc.unreadable", "c2pa.unreadable", "licence.acquire_page",
    SIGNAL_READER_FAILED,
    # fetching and validating (crawler/spiders/site.py, crawler/pipelines/validate.py)
    "fetch.http_error", "fetch.redirect_loop", "fetch.too_many_redirects", "fetch.too_large", "fetch.timeout",
    "fetch.network_error", "host.private",
    "page.crawled", "page.not_html",
    "image.empty", "image.unsupported_format", "image.too_many_pixels", "image.not_an_image", "image.truncated",
    "image.corrupt", "image.stored",
    # faces, opt-outs, storage (crawler/pipelines/)
    "faces.detected", "faces.none", "faces.token_disallowed", "faces.token_ignored", "faces.known_image",
    "faces.detection_failed", "templates.persisted",
    "optout.url_match", "optout.image_match", "optout.face_match", "optout.unscreenable", "optout.screened",
    "optout.ignored", "storage.write_failed",
    # the policy itself (crawler/policy_runtime.py, crawler/gates/consent.py); rule ids are codes too
    "policy.default_deny", "policy.testsites_only", "policy.whose_law", "terms.listed_infringing",
    # produced by the crawler on main since f494248 (budgets, URL checks, stage errors, the record's cap)
    "budget.pages", "budget.images", "budget.pages_per_site", "budget.images_per_site", "host.unresolvable",
    "url.too_long", "url.unparseable", "page.unusable_links", "faces.search_incomplete", "internal.error",
    "reasons.truncated",
} | {f"{prefix}.{token}" for prefix, (tokens, _) in TOKEN_CODES.items() for token in tokens}
  | {unknown for _, unknown in TOKEN_CODES.values()})


def token_code(prefix: str, token: str) -> tuple[str, dict[str, str]]:
    """The reason code for a token read from a response, and the evidence to keep with it.

    ``token_code("page", "noai")`` is ``("page.noai", {})``; a token outside the
    vocabulary gets the prefix's unknown code with the raw token, cut short, as
    evidence: ``("page.unknown_directive", {"token": "ÿþã(noindex"})``.
    """
    known, unknown = TOKEN_CODES[prefix]
    if token in known:
        return f"{prefix}.{token}", {}
    return unknown, {"token": token[:TOKEN_EVIDENCE_CHARS]}


def is_reason_code(code: str) -> bool:
    """True for a code of the vocabulary or a rule id (the only other codes a decision carries)."""
    return code in REASON_CODES or re.fullmatch(RULE_ID_PATTERN, code) is not None
