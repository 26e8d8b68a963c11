"""The names rules may use: purposes, signals (with their types) and obligations.

One place for each, so the loader, the linter, the engine and the crawler
agree; a rule naming anything else is a lint error with the list of names.
"""

from __future__ import annotations

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
    "license.kinds": SignalSpec("list", "licences found (cc-by-4.0, cc-by-nc-nd-4.0, cc0 ...)"),
    "license.noncommercial": SignalSpec("bool", "a licence found is NonCommercial"),
    "license.no_derivatives": SignalSpec("bool", "a licence found is NoDerivatives"),
    "terms.scraping": SignalSpec("str", "site terms on automated collection", ("permitted", "forbidden", "unknown")),
    "terms.biometric": SignalSpec("str", "site terms on biometric use of its images", ("permitted", "forbidden", "unknown")),
    "consent.biometric": SignalSpec("bool", "a recorded explicit consent/written release covers the people pictured"),
    "consent.templates": SignalSpec("str", "what the recorded consent allows for templates", ("transient", "persist")),
    "image.faces": SignalSpec("int", "number of faces detected in the image (absent until detected)"),
    "site.testsite": SignalSpec("bool", "the host is a local test site of the catalog"),
}


class Obligation:
    TEMPLATES = "templates"  # none | transient | persist
    RETENTION_DAYS = "retention_days"  # for persisted templates
    FACE_IMAGES = "face_images"  # exclude | store: may an image showing faces be kept
    ATTRIBUTION = "attribution"  # bool: keep creator and licence (CC BY)
    NO_DERIVATIVES = "no_derivatives"  # bool: never publish crops or resizes (CC ND)


#: For each ordered obligation, its values from strictest to most permissive.
OBLIGATION_ORDER: dict[str, tuple[str, ...]] = {
    Obligation.TEMPLATES: ("none", "transient", "persist"),
    Obligation.FACE_IMAGES: ("exclude", "store"),
}
OBLIGATIONS = (*OBLIGATION_ORDER, Obligation.RETENTION_DAYS, Obligation.ATTRIBUTION, Obligation.NO_DERIVATIVES)
