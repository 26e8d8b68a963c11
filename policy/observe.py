"""From what was fetched to typed signals: the one place the crawler and `policy explain` share.

Each function takes raw material (site files, headers, HTML, image bytes) and
returns an :class:`Observation`: the flat, typed signals the rules test (see
``policy.vocabulary``) and the evidence for every signal that says something.
Fail closed: a tdmrep.json or ai.txt that cannot be fetched, or image metadata
that cannot be read, counts as a refusal, with a reason that says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from parsel import Selector

from policy.decision import Reason
from policy.robots import RobotsAvailability, RobotsTxt
from policy.signals import aipref, licenses, tdmrep, xmp, xrobots
from policy.signals.aitxt import AiTxt
from policy.signals.c2pa import training_mining
from policy.signals.tdmrep import TdmRepFile, TdmValue

Headers = Mapping[str, Sequence[str]]


@dataclass(frozen=True, slots=True)
class FetchedFile:
    """One site file's fetch: state and body (None unless found)."""

    url: str
    state: str  # found | absent | unreachable
    body: bytes | None
    note: str


@dataclass(slots=True)
class SiteFiles:
    """The origin-wide files of a site: robots.txt, tdmrep.json, ai.txt."""

    origin: str
    robots: RobotsTxt
    robots_url: str
    tdmrep: TdmRepFile | None
    tdmrep_state: FetchedFile
    ai_txt: AiTxt | None
    ai_txt_state: FetchedFile
    expires_at: float = 0.0
    _usage: dict[str, aipref.RobotsUsage] = field(default_factory=dict, repr=False)

    def usage(self, token: str) -> aipref.RobotsUsage:
        """The robots.txt Content-Usage/Content-Signal lines for ``token``, read once per origin."""
        if token not in self._usage:
            self._usage[token] = aipref.RobotsUsage.from_parsed(self.robots, token)
        return self._usage[token]


@dataclass(slots=True)
class Observation:
    signals: dict[str, Any] = field(default_factory=dict)
    reasons: list[Reason] = field(default_factory=list)

    def add(self, other: Observation) -> Observation:
        self.signals.update(other.signals)
        self.reasons.extend(other.reasons)
        return self


@dataclass(slots=True)
class PageFacts:
    """What a page says that its images inherit, and what it says about itself."""

    observation: Observation
    robots_directives: list[str]
    tdm: TdmValue
    licences: list[licenses.LicenseRef]
    content_language: str | None
    html_lang: str | None
    self_hreflang: str | None
    nofollow: bool


def header_values(headers: Headers, name: str) -> list[str]:
    """Every instance of a header, decoded, whatever the mapping's key case."""
    values: list[str] = []
    for key, items in headers.items():
        key_text = key.decode("latin-1") if isinstance(key, bytes) else str(key)
        if key_text.lower() == name.lower():
            for item in items if isinstance(items, (list, tuple)) else [items]:
                values.append(item.decode("latin-1") if isinstance(item, bytes) else str(item))
    return values


def _path_and_query(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


# -- before a request -------------------------------------------------------------


def robots_observation(site: SiteFiles, url: str, token: str) -> Observation:
    verdict = site.robots.check(url, token)
    code = {
        RobotsAvailability.UNREACHABLE: "robots.unreachable",
        RobotsAvailability.UNAVAILABLE: "robots.unavailable",
    }.get(verdict.availability, "robots.allowed" if verdict.allowed else "robots.disallowed")
    evidence: dict[str, Any] = {"robots_url": site.robots_url}
    if verdict.rule is not None:
        evidence |= {"line": verdict.rule.line_number, "rule": verdict.rule.text}
    if verdict.group_agents:
        evidence["group"] = list(verdict.group_agents)
    evidence["citation"] = {"robots.unreachable": "RFC 9309 §2.3.1.4",
                            "robots.unavailable": "RFC 9309 §2.3.1.3"}.get(code, "RFC 9309 §2.2.2")
    return Observation(
        {"robots.allowed": verdict.allowed, "robots.availability": verdict.availability.value},
        [Reason("robots.txt", code, verdict.explanation, evidence)],
    )


def _tdm_file_value(site: SiteFiles, url: str) -> TdmValue:
    if site.tdmrep_state.state == "unreachable":
        return TdmValue(1, None, "tdmrep.json", f"tdmrep.json unreachable ({site.tdmrep_state.note}): reservation assumed")
    if site.tdmrep is None:
        return tdmrep.UNSET
    return site.tdmrep.lookup(_path_and_query(url))


def _inherit_page_tdm(value: TdmValue, page: PageFacts | None) -> TdmValue:
    """An image with no reservation of its own takes its embedding page's ("absence does not reset")."""
    if value.reservation is None and page is not None and page.tdm.reservation is not None:
        return TdmValue(page.tdm.reservation, page.tdm.policy, f"the embedding page ({page.tdm.source})",
                        page.tdm.evidence)
    return value


def _tdm_observation(value: TdmValue) -> Observation:
    if value.reservation is None:
        return Observation({"tdm.reservation": None})
    signals: dict[str, Any] = {"tdm.reservation": value.reservation, "tdm.policy": value.policy}
    code = "tdm.reserved" if value.reservation == 1 else "tdm.not_reserved"
    return Observation(signals, [Reason("tdmrep", code, f"tdm-reservation {value.reservation} from {value.source}: "
                                                          f"{value.evidence}".rstrip(": "))])


def _usage_observation(preferences: aipref.UsagePreferences, content_signals: aipref.ContentSignals,
                       evidence: Iterable[str]) -> Observation:
    observation = Observation()
    train = preferences.train_ai
    observation.signals["aipref.train_ai"] = None if train is aipref.Preference.UNKNOWN else train.value
    search = preferences.search
    observation.signals["aipref.search"] = None if search is aipref.Preference.UNKNOWN else search.value
    if train is not aipref.Preference.UNKNOWN:
        observation.reasons.append(Reason("aipref", f"aipref.train_ai_{train.value}",
                                          f"train-ai={train.value} ({preferences.source}); " + "; ".join(evidence)))
    ai_train = {"y": "yes", "n": "no"}.get(content_signals.ai_train.value)
    observation.signals["content_signal.ai_train"] = ai_train
    if ai_train is not None:
        observation.reasons.append(Reason("content-signal", f"content_signal.ai_train_{ai_train}",
                                          f"Content-Signal ai-train={ai_train} ({content_signals.source})"))
    return observation


def request_observation(site: SiteFiles, url: str, token: str, *, is_image: bool,
                        page: PageFacts | None = None) -> Observation:
    """Signals known before a request is sent: robots.txt, tdmrep.json, ai.txt, robots.txt usage lines."""
    observation = robots_observation(site, url, token)
    usage = site.usage(token)
    preferences, usage_evidence = usage.for_url(url)
    content_signals, _ = usage.signals_for_url(url)
    observation.add(_usage_observation(preferences, content_signals, usage_evidence))
    if not is_image:
        return observation
    observation.add(_tdm_observation(_inherit_page_tdm(_tdm_file_value(site, url), page)))
    observation.add(_ai_txt_observation(site, url, token))
    if page is not None:
        observation.signals["page.robots"] = page.robots_directives or None
        observation.reasons += [r for r in page.observation.reasons if r.source == "x-robots"]
    return observation


def _ai_txt_observation(site: SiteFiles, url: str, token: str) -> Observation:
    state = site.ai_txt_state
    if state.state == "unreachable":
        return Observation({"ai_txt.training_allowed": False},
                           [Reason("ai.txt", "ai_txt.unreachable", f"ai.txt unreachable ({state.note}): refusal assumed")])
    if site.ai_txt is None:
        return Observation({"ai_txt.training_allowed": None})
    allowed, why = site.ai_txt.training_allowed(url, token)
    return Observation({"ai_txt.training_allowed": allowed},
                       [Reason("ai.txt", "ai_txt.allowed" if allowed else "ai_txt.disallowed", why,
                               {"url": state.url})])


# -- a fetched page ---------------------------------------------------------------


def page_facts(url: str, headers: Headers, html: str, token: str, site: SiteFiles | None,
               now: datetime | None = None, selector: Selector | None = None) -> PageFacts:
    selector = selector if selector is not None else Selector(text=html or "<html></html>")
    metas = [(m.attrib.get("name", ""), m.attrib.get("content", "")) for m in selector.css("meta[name]")]
    header_directives = xrobots.from_headers(header_values(headers, "X-Robots-Tag"), token, now)
    meta_directives = xrobots.from_meta(metas, token, now)
    directives = xrobots.merge(header_directives, meta_directives)
    observation = Observation({"page.robots": sorted(directives.directives) or None})
    for directive in sorted(directives.directives):
        for line in directives.explain(directive):
            observation.reasons.append(Reason("x-robots", f"page.{directive}", line))
    file_value = _tdm_file_value(site, url) if site is not None else tdmrep.UNSET
    tdm_value = tdmrep.combine(file_value, tdmrep.from_headers({k: header_values(headers, k)
                                                               for k in ("tdm-reservation", "tdm-policy")}),
                               tdmrep.from_meta(metas))
    observation.add(_tdm_observation(tdm_value))
    preferences = aipref.from_headers(header_values(headers, "Content-Usage"))
    if site is not None:
        robots_preferences, evidence = site.usage(token).for_url(url)
        preferences = aipref.combine(robots_preferences, preferences)
    else:
        evidence = ()
    observation.add(_usage_observation(preferences, aipref.ContentSignals(), evidence))
    found = licenses.scan_page_licenses(html, url, selector)
    self_hreflang = None
    for link in selector.css("link[hreflang]"):
        if (link.attrib.get("href") or "").rstrip("/") == url.rstrip("/"):
            self_hreflang = link.attrib.get("hreflang")
    languages = header_values(headers, "Content-Language")
    return PageFacts(
        observation, sorted(directives.directives), tdm_value, list(found.licenses),
        languages[0] if languages else None, selector.css("html::attr(lang)").get(), self_hreflang,
        "nofollow" in directives.directives,
    )


# -- a fetched image ----------------------------------------------------------------


def image_observation(url: str, headers: Headers, body: bytes, token: str, site: SiteFiles | None,
                      page: PageFacts | None, now: datetime | None = None) -> Observation:
    """Signals of the image response and of the image file itself, plus what the page passes down."""
    observation = Observation()
    directives = xrobots.from_headers(header_values(headers, "X-Robots-Tag"), token, now)
    observation.signals["image.robots"] = sorted(directives.directives) or None
    for directive in sorted(directives.directives):
        for line in directives.explain(directive):
            observation.reasons.append(Reason("x-robots", f"image.{directive}", line))
    file_value = _tdm_file_value(site, url) if site is not None else tdmrep.UNSET
    value = tdmrep.combine(file_value, tdmrep.from_headers({k: header_values(headers, k)
                                                           for k in ("tdm-reservation", "tdm-policy")}))
    observation.add(_tdm_observation(_inherit_page_tdm(value, page)))
    preferences = aipref.from_headers(header_values(headers, "Content-Usage"))
    content_signals = aipref.ContentSignals()
    evidence: tuple[str, ...] = ()
    if site is not None:
        usage = site.usage(token)
        robots_preferences, evidence = usage.for_url(url)
        preferences = aipref.combine(robots_preferences, preferences)
        content_signals, _ = usage.signals_for_url(url)
    observation.add(_usage_observation(preferences, content_signals, evidence))
    if site is not None:
        observation.add(_ai_txt_observation(site, url, token))
    iptc = xmp.data_mining(body)
    observation.add(metadata_observation(body, iptc))
    found_licences = [lic for lic in (page.licences if page else []) if lic.image_url in (None, url)]
    for statement in iptc.web_statements:
        classified = licenses.classify_license_url(statement, source="xmp", image_url=url)
        if classified is not None:
            found_licences.append(classified)
    observation.add(licence_observation(found_licences))
    if page is not None:
        observation.signals["page.robots"] = page.robots_directives or None
    return observation


def metadata_observation(body: bytes, iptc: xmp.IptcDataMining | None = None) -> Observation:
    """IPTC plus:DataMining and C2PA/CAWG training-mining, failing closed on what cannot be read."""
    observation = Observation()
    iptc = iptc if iptc is not None else xmp.data_mining(body)
    observation.signals["iptc.data_mining"] = list(iptc.codes) or None
    if iptc.prohibits_ai_training:
        observation.signals["iptc.prohibits_ai_training"] = True
        observation.reasons.append(Reason("iptc", "iptc.data_mining_prohibited",
                                          f"XMP plus:DataMining {', '.join(iptc.prohibiting_codes)}"))
    elif not iptc.complete:
        observation.signals["iptc.prohibits_ai_training"] = True
        observation.reasons.append(Reason("iptc", "iptc.unreadable",
                                          "XMP metadata could not be read safely ("
                                          + "; ".join(iptc.notes[:2]) + "): an opt-out may be hidden, refusal assumed"))
    else:
        observation.signals["iptc.prohibits_ai_training"] = False if iptc.codes else None
        if iptc.codes:
            observation.reasons.append(Reason("iptc", "iptc.data_mining", f"XMP plus:DataMining {', '.join(iptc.codes)}"))
    c2pa = training_mining(body)
    use = c2pa.ai_training_use
    observation.signals["c2pa.training_use"] = use
    if c2pa.label is not None and c2pa.prohibits_ai_training is None:
        observation.signals["c2pa.prohibits_ai_training"] = True
        observation.reasons.append(Reason("c2pa", "c2pa.unreadable",
                                          f"{c2pa.label} assertion present but its training use cannot be read: refusal assumed"))
    else:
        observation.signals["c2pa.prohibits_ai_training"] = c2pa.prohibits_ai_training
        if use is not None:
            observation.reasons.append(Reason("c2pa", f"c2pa.{use}", f"{c2pa.label}: training use {use}"
                                              + (" (constrained counts as notAllowed)" if use == "constrained" else "")))
    return observation


def licence_observation(found: list[licenses.LicenseRef]) -> Observation:
    licence_refs = [lic for lic in found if lic.relation == "license"]
    if not licence_refs:
        return Observation({"license.kinds": None, "license.noncommercial": None, "license.no_derivatives": None})
    kinds = sorted({lic.kind for lic in licence_refs})
    return Observation(
        {"license.kinds": kinds, "license.noncommercial": any(lic.noncommercial for lic in licence_refs),
         "license.no_derivatives": any(lic.no_derivatives for lic in licence_refs)},
        [Reason("licence", f"licence.{lic.kind}", f"{lic.url} ({lic.source})") for lic in licence_refs],
    )
