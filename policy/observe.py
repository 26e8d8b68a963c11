"""From what was fetched to typed signals: the one place the crawler and `policy explain` share.

Each function takes raw material (site files, headers, HTML, image bytes) and
returns an :class:`Observation`: the flat, typed signals the rules test (see
``policy.vocabulary``) and the evidence for every signal that says something.
Fail closed: a tdmrep.json or ai.txt that cannot be fetched or read, or image
metadata that cannot be read, counts as a refusal, with a reason that says so;
and every reader runs inside :func:`policy.guard.read_guarded`, so a reader
that fails unexpectedly reads as its most protective value. Reason codes come
from the fixed vocabulary (:func:`policy.vocabulary.token_code`), never from
the tokens a response carries.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from parsel import Selector

from policy import guard
from policy.decision import Reason
from policy.guard import read_guarded
from policy.htmlselect import css_to_xpath, select, strings
from policy.robots import RobotsAvailability, RobotsTxt
from policy.signals import aipref, licenses, rsl, tdmpolicy, tdmrep, xmp, xrobots
from policy.signals.aitxt import AiTxt
from policy.signals.c2pa import C2paTrainingMining, training_mining
from policy.signals.tdmrep import TdmRepFile, TdmValue
from policy.vocabulary import token_code

Headers = Mapping[str, Sequence[str]]


@dataclass(frozen=True, slots=True)
class FetchedFile:
    """One site file's fetch: state and body (None unless found)."""

    url: str
    state: str  # found | absent | unreachable
    body: bytes | None
    note: str
    content_type: str = ""  # of the final response (tdm-policy documents are read by media type)
    #: Seconds the response may still be reused by its own Cache-Control max-age (less its Age), None without one.
    max_age: float | None = None


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
    fetched_at: float = 0.0  # when robots.txt was answered, on the cache's clock
    unreachable_streak: int = 0  # robots.txt fetches in a row that found it unreachable (the retry backs off)
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
    rsl_pointers: tuple[rsl.RslPointer, ...] = ()  # <link rel=license type=application/rsl+xml>, Link header
    rsl_inline: tuple[rsl.RslDocument, ...] = ()  # <script type="application/rsl+xml">, already parsed


def header_values(headers: Headers, name: str) -> list[str]:
    """Every instance of a header, decoded, whatever the mapping's key case."""
    values: list[str] = []
    wanted = name.lower()  # once, not once per header: every response is asked for six names
    for key, items in headers.items():
        key_text = key if type(key) is str else key.decode("latin-1") if isinstance(key, bytes) else str(key)
        if key_text.lower() == wanted:
            for item in items if isinstance(items, (list, tuple)) else [items]:
                values.append(item.decode("latin-1") if isinstance(item, bytes) else str(item))
    return values


def _path_and_query(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


# -- before a request -------------------------------------------------------------


def robots_observation(site: SiteFiles, url: str, token: str) -> Observation:
    observation = Observation()
    verdict = read_guarded(observation.reasons, guard.ROBOTS, lambda: site.robots.check(url, token))
    code = {
        RobotsAvailability.UNREACHABLE: "robots.unreachable",
        RobotsAvailability.UNAVAILABLE: "robots.unavailable",
    }.get(verdict.availability, "robots.allowed" if verdict.allowed else "robots.disallowed")
    evidence: dict[str, Any] = {"robots_url": site.robots_url}
    if verdict.rule is not None:
        evidence |= {"line": verdict.rule.line_number, "rule": verdict.rule.text}
    if verdict.group_agents:
        evidence["group"] = list(verdict.group_agents)
    if verdict.lenient_lines:  # read as Google reads a missing colon
        evidence["lenient_parse_lines"] = list(verdict.lenient_lines)
    evidence["citation"] = {"robots.unreachable": "RFC 9309 §2.3.1.4",
                            "robots.unavailable": "RFC 9309 §2.3.1.3"}.get(code, "RFC 9309 §2.2.2")
    observation.signals |= {"robots.allowed": verdict.allowed, "robots.availability": verdict.availability.value}
    observation.reasons.append(Reason("robots.txt", code, verdict.explanation, evidence))
    return observation


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


Usage = tuple[aipref.UsagePreferences, aipref.ContentSignals, tuple[str, ...]]


def _robots_usage(site: SiteFiles | None, url: str, token: str) -> Usage:
    """The Content-Usage and Content-Signal lines of robots.txt that apply to ``url``."""
    if site is None:
        return aipref.UsagePreferences(), aipref.ContentSignals(), ()
    usage = site.usage(token)
    preferences, evidence = usage.for_url(url)
    return preferences, usage.signals_for_url(url)[0], evidence


def _response_usage(site: SiteFiles | None, url: str, token: str, headers: Headers) -> Usage:
    """robots.txt's usage lines combined with the response's Content-Usage headers, most restrictive winning."""
    preferences, content_signals, evidence = _robots_usage(site, url, token)
    headed = aipref.from_headers(header_values(headers, "Content-Usage"))
    signal_lines = header_values(headers, "Content-Signal")
    if signal_lines:  # most restrictive of robots.txt and the response's own Content-Signal
        signalled = aipref.signals_from_headers(signal_lines)
        content_signals = aipref.combine_signals(content_signals, signalled) if content_signals.raw else signalled
    return (aipref.combine(preferences, headed) if site is not None else headed), content_signals, evidence


def _usage_observation(usage: Usage) -> Observation:
    preferences, content_signals, evidence = usage
    observation = Observation()
    train = preferences.train_ai
    observation.signals["aipref.train_ai"] = None if train is aipref.Preference.UNKNOWN else train.value
    search = preferences.search
    observation.signals["aipref.search"] = None if search is aipref.Preference.UNKNOWN else search.value
    if train is not aipref.Preference.UNKNOWN:
        observation.reasons.append(Reason("aipref", f"aipref.train_ai_{train.value}",
                                          f"train-ai={train.value} ({preferences.source}); " + "; ".join(evidence)))
    for label in preferences.legacy_labels:
        observation.reasons.append(Reason("aipref", "aipref.legacy_label", f"legacy label seen: {label}: ignored",
                                          {"vocabulary": aipref.VOCABULARY}))
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
    reasons = observation.reasons
    observation.add(_usage_observation(read_guarded(reasons, guard.AIPREF, lambda: _robots_usage(site, url, token))))
    if not is_image:
        return observation
    tdm = read_guarded(reasons, guard.TDMREP, lambda: _inherit_page_tdm(_tdm_file_value(site, url), page))
    observation.add(_tdm_observation(tdm))
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
    ai_txt = site.ai_txt
    if ai_txt is None:
        return Observation({"ai_txt.training_allowed": None})
    observation = Observation()
    allowed, why = read_guarded(observation.reasons, guard.AI_TXT, lambda: ai_txt.training_allowed(url, token))
    observation.signals["ai_txt.training_allowed"] = allowed
    observation.reasons.append(Reason("ai.txt", "ai_txt.allowed" if allowed else "ai_txt.disallowed", why,
                                      {"url": state.url}))
    return observation


def _directive_reasons(prefix: str, directives: xrobots.RobotsDirectives) -> list[Reason]:
    """One reason per directive and contributing header or tag; unknown directives get the unknown code."""
    reasons = []
    for directive in sorted(directives.directives):
        code, evidence = token_code(prefix, directive)
        reasons += [Reason("x-robots", code, line, evidence) for line in directives.explain(directive)]
    return reasons


def _tdm_headers(headers: Headers) -> TdmValue:
    return tdmrep.from_headers({name: header_values(headers, name) for name in ("tdm-reservation", "tdm-policy")})


# -- a fetched page ---------------------------------------------------------------

NAMED_METAS = css_to_xpath("meta[name]")
HREFLANG_LINKS = css_to_xpath("link[hreflang]")
HTML_LANG = css_to_xpath("html::attr(lang)")


def page_facts(url: str, headers: Headers, html: str, token: str, site: SiteFiles | None,
               now: datetime | None = None, selector: Selector | None = None) -> PageFacts:
    observation = Observation()
    reasons = observation.reasons
    parsed: Selector | None = selector if selector is not None else read_guarded(
        reasons, guard.HTML, lambda: Selector(text=html or "<html></html>"))

    read_metas: list[list[tuple[str, str]]] = []

    def metas() -> list[tuple[str, str]]:
        """The page's named meta tags, read once for the two readers that need them."""
        assert parsed is not None, "the page's HTML could not be parsed"
        if not read_metas:
            read_metas.append([(m.attrib.get("name", ""), m.attrib.get("content", ""))
                               for m in select(parsed, NAMED_METAS)])
        return list(read_metas[0])

    directives = read_guarded(reasons, guard.XROBOTS, lambda: xrobots.merge(
        xrobots.from_headers(header_values(headers, "X-Robots-Tag"), token, now), xrobots.from_meta(metas(), token, now)))
    observation.signals["page.robots"] = sorted(directives.directives) or None
    reasons += _directive_reasons("page", directives)
    tdm_value = read_guarded(reasons, guard.TDMREP, lambda: tdmrep.combine(
        _tdm_file_value(site, url) if site is not None else tdmrep.UNSET, _tdm_headers(headers),
        tdmrep.from_meta(metas())))
    observation.add(_tdm_observation(tdm_value))
    observation.add(_usage_observation(read_guarded(reasons, guard.AIPREF,
                                                    lambda: _page_usage(site, url, token, headers))))
    found = read_guarded(reasons, guard.LICENCES, lambda: _page_licences(html, url, parsed)
                         + licenses.header_licenses(header_values(headers, "Link"), url).licenses)
    languages = read_guarded(reasons, guard.LANGUAGE, lambda: _language_tags(url, headers, parsed))
    pointers, inline = read_guarded(reasons, guard.RSL_POINTERS, lambda: _page_rsl(html, url, headers, parsed))
    return PageFacts(observation, sorted(directives.directives), tdm_value, list(found), *languages,
                     "nofollow" in directives.directives, tuple(pointers), tuple(inline))


def _page_rsl(html: str, url: str, headers: Headers,
              parsed: Selector | None = None) -> tuple[list[rsl.RslPointer], list[rsl.RslDocument]]:
    """The RSL documents a page points to (HTML and Link header), and those it carries inline."""
    pointers, inline = rsl.html_pointers(html, url, parsed)
    return [*pointers, *rsl.header_pointers(header_values(headers, "Link"), url)], inline


def _page_usage(site: SiteFiles | None, url: str, token: str, headers: Headers) -> Usage:
    """A page's Content-Usage (robots.txt lines and headers); Content-Signal applies to images only."""
    preferences, _, evidence = _response_usage(site, url, token, headers)
    return preferences, aipref.ContentSignals(), evidence


def _page_licences(html: str, url: str, parsed: Selector | None) -> tuple[licenses.LicenseRef, ...]:
    assert parsed is not None, "the page's HTML could not be parsed"
    return licenses.scan_page_licenses(html, url, parsed).licenses


def _language_tags(url: str, headers: Headers, parsed: Selector | None) -> tuple[str | None, str | None, str | None]:
    """Content-Language, <html lang> and the self-referencing hreflang, for the jurisdiction."""
    assert parsed is not None, "the page's HTML could not be parsed"
    self_hreflang = None
    for link in select(parsed, HREFLANG_LINKS):
        if (link.attrib.get("href") or "").rstrip("/") == url.rstrip("/"):
            self_hreflang = link.attrib.get("hreflang")
    content_languages = header_values(headers, "Content-Language")
    return (content_languages[0] if content_languages else None), next(iter(strings(parsed, HTML_LANG)), None), self_hreflang


# -- a fetched image ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImageFileFacts:
    """What the image file says about itself (XMP IPTC, C2PA/CAWG), read from the bytes alone.

    Read by :func:`read_image_file`, in a worker process during a crawl (the bytes need not come back), each
    reader guarded as everywhere: ``*_reasons`` hold a failed reader's reason, in the order they were read.
    """

    iptc: xmp.IptcDataMining
    iptc_reasons: tuple[Reason, ...]
    c2pa: C2paTrainingMining
    c2pa_reasons: tuple[Reason, ...]


def read_image_file(body: bytes) -> ImageFileFacts:
    """The image file's own metadata signals (XMP and C2PA), each reader guarded."""
    iptc_reasons: list[Reason] = []
    iptc = read_guarded(iptc_reasons, guard.XMP, lambda: xmp.data_mining(body))
    c2pa_reasons: list[Reason] = []
    c2pa = read_guarded(c2pa_reasons, guard.C2PA, lambda: training_mining(body))
    return ImageFileFacts(iptc, tuple(iptc_reasons), c2pa, tuple(c2pa_reasons))


def image_observation(url: str, headers: Headers, body: bytes, token: str, site: SiteFiles | None,
                      page: PageFacts | None, now: datetime | None = None,
                      file_facts: ImageFileFacts | None = None) -> Observation:
    """Signals of the image response and of the image file itself, plus what the page passes down.

    ``file_facts``: the file's metadata already read from ``body`` (:func:`read_image_file`), else read here.
    """
    observation = Observation()
    reasons = observation.reasons
    directives = read_guarded(reasons, guard.XROBOTS,
                              lambda: xrobots.from_headers(header_values(headers, "X-Robots-Tag"), token, now))
    observation.signals["image.robots"] = sorted(directives.directives) or None
    reasons += _directive_reasons("image", directives)
    tdm = read_guarded(reasons, guard.TDMREP, lambda: _inherit_page_tdm(tdmrep.combine(
        _tdm_file_value(site, url) if site is not None else tdmrep.UNSET, _tdm_headers(headers)), page))
    observation.add(_tdm_observation(tdm))
    observation.add(_usage_observation(read_guarded(reasons, guard.AIPREF,
                                                    lambda: _response_usage(site, url, token, headers))))
    if site is not None:
        observation.add(_ai_txt_observation(site, url, token))
    file_facts = file_facts if file_facts is not None else read_image_file(body)
    iptc = file_facts.iptc
    reasons += file_facts.iptc_reasons
    observation.add(metadata_observation(body, iptc, file_facts))
    found = read_guarded(reasons, guard.LICENCES, lambda: _image_licences(url, page, iptc)
                         + licenses.header_licenses(header_values(headers, "Link"), url, url).licenses)
    observation.add(licence_observation(list(found)))
    if page is not None:
        observation.signals["page.robots"] = page.robots_directives or None
    return observation


def _image_licences(url: str, page: PageFacts | None, iptc: xmp.IptcDataMining) -> tuple[licenses.LicenseRef, ...]:
    """The page's licences that cover this image, and the image's own XMP licence statements."""
    found = [lic for lic in (page.licences if page else []) if lic.image_url in (None, url)]
    return tuple(found + licenses.xmp_licenses(iptc.web_statements, iptc.licensor_urls, url))


def metadata_observation(body: bytes, iptc: xmp.IptcDataMining | None = None,
                         file_facts: ImageFileFacts | None = None) -> Observation:
    """IPTC plus:DataMining and C2PA/CAWG training-mining, failing closed on what cannot be read.

    ``file_facts``: the C2PA assertion already read from ``body`` (with its reader's reasons), else read here.
    """
    observation = Observation()
    reasons = observation.reasons
    iptc = iptc if iptc is not None else read_guarded(reasons, guard.XMP, lambda: xmp.data_mining(body))
    observation.signals["iptc.data_mining"] = list(iptc.codes) or None
    if iptc.prohibits_ai_training:
        observation.signals["iptc.prohibits_ai_training"] = True
        reasons.append(Reason("iptc", "iptc.data_mining_prohibited", f"XMP plus:DataMining {', '.join(iptc.prohibiting_codes)}"))
    elif not iptc.complete:
        observation.signals["iptc.prohibits_ai_training"] = True
        reasons.append(Reason("iptc", "iptc.unreadable", "XMP metadata could not be read safely ("
                              + "; ".join(iptc.notes[:2]) + "): an opt-out may be hidden, refusal assumed"))
    else:
        observation.signals["iptc.prohibits_ai_training"] = False if iptc.codes else None
        if iptc.codes:
            reasons.append(Reason("iptc", "iptc.data_mining", f"XMP plus:DataMining {', '.join(iptc.codes)}"))
    if file_facts is not None:
        reasons += file_facts.c2pa_reasons
        c2pa = file_facts.c2pa
    else:
        c2pa = read_guarded(reasons, guard.C2PA, lambda: training_mining(body))
    use = c2pa.ai_training_use
    observation.signals["c2pa.training_use"] = use
    if c2pa.prohibits_ai_training is not True and (not c2pa.complete or (c2pa.label is not None and use is None)):
        observation.signals["c2pa.prohibits_ai_training"] = True
        why = (f"{c2pa.label} assertion present but it states no training use" if c2pa.complete
               else "a C2PA store present but it cannot be read")
        reasons.append(Reason("c2pa", "c2pa.unreadable", f"{why} ("
                              + "; ".join(c2pa.notes[:2]) + "): refusal assumed"))
    else:
        observation.signals["c2pa.prohibits_ai_training"] = c2pa.prohibits_ai_training
        if use is not None:
            code, evidence = token_code("c2pa", use)
            reasons.append(Reason("c2pa", code, f"{c2pa.label}: training use {use}"
                                  + (" (constrained counts as notAllowed)" if use == "constrained" else ""), evidence))
    return observation


def licence_observation(found: list[licenses.LicenseRef]) -> Observation:
    """Licences (CC or not: a custom licence URL is kept as ``unknown`` for review) and where to acquire one.

    ``acquireLicensePage`` / ``plus:LicensorURL`` grant nothing; they are recorded (reference §6, §8.1 item 6)
    so that a reviewer sees where a licence could be obtained.
    """
    licence_refs = [lic for lic in found if lic.relation == licenses.RELATION_LICENSE]
    acquire_pages = list(dict.fromkeys(lic.url for lic in found if lic.relation == licenses.RELATION_ACQUIRE))
    reasons = []
    for lic in licence_refs:
        code, evidence = token_code("licence", lic.kind)
        reasons.append(Reason("licence", code, f"{lic.url} ({lic.source})", evidence))
    reasons += [Reason("licence", "licence.acquire_page", f"a licence may be acquired at {page}") for page in acquire_pages]
    read = bool(licence_refs)  # None when no licence was found; False when one was, without that element
    signals: dict[str, Any] = {
        "license.kinds": sorted({lic.kind for lic in licence_refs}) or None,
        "license.noncommercial": any(lic.noncommercial for lic in licence_refs) if read else None,
        "license.no_derivatives": any(lic.no_derivatives for lic in licence_refs) if read else None,
        "license.acquire_pages": acquire_pages or None,
    }
    return Observation(signals, reasons)


# -- documents a signal points to (RSL licences, tdm-policy): fetched by the crawler, read here ----------

_RSL_ORDER = (rsl.RslStatus.PROHIBITED, rsl.RslStatus.LICENCE_REQUIRED, rsl.RslStatus.PERMITTED)


def rsl_observation(documents: Sequence[rsl.RslDocument], url: str, usage: str = rsl.AI_TRAIN) -> Observation:
    """The RSL licences that cover ``url``; with several, the most protective verdict stands.

    ``documents`` are what :func:`policy.signals.rsl.parse` (or ``cannot_fetch``) made of every
    document the site points to (robots.txt ``License:``, ``<link>``, ``Link`` header, inline).
    """
    observation = Observation({"rsl.ai_train": None})
    verdicts = [_rsl_verdict(observation.reasons, document, url, usage) for document in documents]
    for status in _RSL_ORDER:
        for verdict in verdicts:
            if verdict.status is status:
                observation.signals["rsl.ai_train"] = status.value
                evidence = {"server": verdict.server} if verdict.server else {}
                observation.reasons.append(Reason("rsl", f"rsl.{status.value}", verdict.reason, evidence))
                return observation
    return observation


def _rsl_verdict(reasons: list[Reason], document: rsl.RslDocument, url: str, usage: str) -> rsl.RslVerdict:
    return read_guarded(reasons, guard.RSL, lambda: document.evaluate(url, usage))


def tdm_policy_observation(policy: tdmpolicy.TdmPolicy | None, purpose: str = "non-research") -> Observation:
    """What the fetched tdm-policy of a reserved resource offers; only read when the reservation is 1."""
    if policy is None:
        return Observation({"tdm.policy_status": None})
    observation = Observation()
    verdict = read_guarded(observation.reasons, guard.TDM_POLICY, lambda: policy.evaluate(purpose))
    observation.signals["tdm.policy_status"] = verdict.status.value
    evidence: dict[str, Any] = {"policy": policy.url}
    if verdict.duties:
        evidence["duties"] = list(verdict.duties)
    if verdict.contact:
        evidence["contact"] = verdict.contact
    observation.reasons.append(Reason("tdmrep", f"tdm.policy_{verdict.status.value}", verdict.reason, evidence))
    return observation
