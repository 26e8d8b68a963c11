"""RSL 1.0 (Really Simple Licensing): where a site points to its licence, and what the licence allows (reference §9.1).

A site states AI-use terms in an XML licence it points to from robots.txt
(``License:``, a global line), an HTML ``<link rel="license"
type="application/rsl+xml">``, an inline ``<script type="application/rsl+xml">``
or an HTTP ``Link`` header. For faircrawl a licence that prohibits the
purpose, asks for payment or names a licence server means "not permitted
unless a licence is recorded in the terms registry"; a licence that cannot be
fetched or read keeps the most protective reading (prohibited). Prohibitions
override permissions; the most specific ``content url`` scope wins.

The crawler fetches each pointed-to document once per URL (like site files)
and calls :func:`parse`, then :meth:`RslDocument.evaluate` per URL.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urljoin, urlsplit
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeElementTree
from parsel import Selector

from policy.htmlselect import select
from policy.pathmatch import UnmatchableURL, glob_matches, normalize_pattern, normalize_target
from policy.robots import RobotsTxt
from policy.signals.linkheader import parse_links

NAMESPACE = "https://rslstandard.org/rsl"
MEDIA_TYPE = "application/rsl+xml"
ROBOTS_FIELD = "license"
#: An RSL document larger than this is hostile; it reads as prohibited.
RSL_PARSE_LIMIT_BYTES = 1024 * 1024
#: Payment types that ask for nothing but (at most) attribution; any other asks for payment or a licence.
FREE_PAYMENTS = {"free", "attribution"}
#: AI usages that ``ai-all`` covers: the 1.0 vocabulary and the draft's names.
AI_USAGES = {"ai-train", "train-ai", "train-genai", "ai-input", "ai-index", "ai-use"}
AI_TRAIN = "ai-train"


class RslStatus(StrEnum):
    PERMITTED = "permitted"  # free, no licence server, the purpose permitted and not prohibited
    LICENCE_REQUIRED = "licence_required"  # payment or a licence server: permitted only with a recorded licence
    PROHIBITED = "prohibited"  # the purpose prohibited, not permitted, or the licence unreadable
    UNSET = "unset"  # no content scope of the document covers the URL


@dataclass(frozen=True, slots=True)
class RslPointer:
    """Where a site points to an RSL document (robots.txt line, HTML link, Link header)."""

    url: str
    source: str  # "robots.txt line 4", "<link rel=license>", "Link header"


@dataclass(frozen=True, slots=True)
class RslLicense:
    """One ``<license>``: permitted and prohibited usages, user types and payment types."""

    permits_usage: frozenset[str] | None  # None: no <permits type="usage"> (every usage not prohibited)
    prohibits_usage: frozenset[str]
    permits_user: frozenset[str] | None
    prohibits_user: frozenset[str]
    geo_restricted: bool
    payments: tuple[str, ...]  # payment types; () means none given, which is free


@dataclass(frozen=True, slots=True)
class RslContent:
    """One ``<content url>`` scope and its licences, in document order."""

    url: str
    server: str | None
    licenses: tuple[RslLicense, ...]
    index: int


@dataclass(frozen=True, slots=True)
class RslVerdict:
    status: RslStatus
    reason: str
    server: str | None = None
    attribution: bool = False


@dataclass(frozen=True, slots=True)
class RslDocument:
    """A parsed RSL document; ``unreadable`` says why one could not be read (then everything is prohibited)."""

    contents: tuple[RslContent, ...] = ()
    source_url: str = ""
    notes: tuple[str, ...] = ()
    unreadable: str | None = None

    def evaluate(self, url: str, usage: str = AI_TRAIN, user: str = "commercial") -> RslVerdict:
        """What this document says about ``usage`` of ``url`` by a ``user`` of that type (never raises)."""
        where = f"RSL licence {self.source_url}".strip()
        if self.unreadable is not None:
            return RslVerdict(RslStatus.PROHIBITED, f"{where} cannot be read ({self.unreadable}): prohibited assumed")
        try:
            content = self._scope(url)
        except UnmatchableURL as error:
            return RslVerdict(RslStatus.PROHIBITED, f"{where}: {error}: prohibited assumed")
        if content is None:
            return RslVerdict(RslStatus.UNSET, f"{where}: no <content url> covers {url!r:.100}")
        scope = f"{where}, <content url={content.url!r}> (#{content.index})"
        if not content.licenses:
            return RslVerdict(RslStatus.PROHIBITED, f"{scope} has no <license>: prohibited assumed")
        verdicts = [_license_verdict(lic, usage, user, content, scope, n) for n, lic in enumerate(content.licenses, 1)]
        # Licences in one scope are alternatives: the best one a crawler could take decides.
        for status in (RslStatus.PERMITTED, RslStatus.LICENCE_REQUIRED):
            for verdict in verdicts:
                if verdict.status is status:
                    return verdict
        return verdicts[0]

    def _scope(self, url: str) -> RslContent | None:
        """The most specific ``content url`` matching ``url`` (most octets; the first on a tie)."""
        target = normalize_target(url)
        host = (urlsplit(url).hostname or "").lower()
        best: tuple[int, RslContent] | None = None
        for content in self.contents:
            pattern = content.url
            if "//" in pattern:  # a full URL: same host, then its path
                parts = urlsplit(pattern)
                if (parts.hostname or "").lower() != host:
                    continue
                pattern = (parts.path or "/") + ("?" + parts.query if parts.query else "")
            normalized = normalize_pattern(pattern)
            if glob_matches(normalized, target) and (best is None or len(normalized) > best[0]):
                best = (len(normalized), content)
        return best[1] if best else None


def _license_verdict(lic: RslLicense, usage: str, user: str, content: RslContent, scope: str, number: int) -> RslVerdict:
    covered = {usage} | ({"ai-train", "train-ai"} if usage in ("ai-train", "train-ai") else set())
    what = f"{scope}, licence {number}"
    hit = _covers(lic.prohibits_usage, covered)
    if hit:
        return RslVerdict(RslStatus.PROHIBITED, f"{what} prohibits usage {hit} (prohibitions override permissions)")
    if lic.permits_usage is not None and not _covers(lic.permits_usage, covered):
        permitted = " ".join(sorted(lic.permits_usage)) or "nothing"
        return RslVerdict(RslStatus.PROHIBITED, f"{what} permits only {permitted}, not {usage}")
    if user in lic.prohibits_user or (lic.permits_user is not None and user not in lic.permits_user):
        return RslVerdict(RslStatus.PROHIBITED, f"{what} does not permit {user} users")
    attribution = "attribution" in lic.payments
    paid = [p for p in lic.payments if p not in FREE_PAYMENTS]
    needs = []
    if paid:
        needs.append(f"payment ({', '.join(paid)})")
    if content.server:
        needs.append(f"a licence token from the server {content.server} (even when free)")
    if lic.geo_restricted:
        needs.append("a check of its geographic terms")
    if needs:
        return RslVerdict(RslStatus.LICENCE_REQUIRED, f"{what} permits {usage} only with " + " and ".join(needs)
                          + ": not permitted unless a licence is recorded in the terms registry", content.server, attribution)
    return RslVerdict(RslStatus.PERMITTED, f"{what} permits {usage} free of charge", None, attribution)


def _covers(values: frozenset[str], covered: set[str]) -> str | None:
    for value in sorted(values):
        if value in covered or value == "all" or (value == "ai-all" and not covered.isdisjoint(AI_USAGES)):
            return value
    return None


# -- parsing ----------------------------------------------------------------------


def parse(body: bytes | str, source_url: str = "") -> RslDocument:
    """Parse an RSL document; anything unusable yields a document that prohibits everything, with the reason."""
    if not isinstance(body, (bytes, bytearray, str)):
        return _unreadable(source_url, f"body of type {type(body).__name__} is not a document")
    raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else bytes(body)
    if len(raw) > RSL_PARSE_LIMIT_BYTES:
        return _unreadable(source_url, f"{len(raw)} bytes, over the {RSL_PARSE_LIMIT_BYTES}-byte limit")
    try:
        root = SafeElementTree.fromstring(raw)
    except DefusedXmlException as error:
        return _unreadable(source_url, f"forbidden XML construct ({type(error).__name__})")
    except Exception as error:  # noqa: BLE001 - ParseError, and whatever expat refuses
        return _unreadable(source_url, f"not well-formed XML ({type(error).__name__})")
    if root.tag != f"{{{NAMESPACE}}}rsl":
        return _unreadable(source_url, f"root element {root.tag!r:.80} is not <rsl xmlns=\"{NAMESPACE}\">")
    notes: list[str] = []
    contents: list[RslContent] = []
    for index, element in enumerate(root.findall(_tag("content"))):
        url = (element.get("url") or "").strip()
        if not url:
            notes.append(f"<content> #{index} has no url: skipped")
            continue
        server = (element.get("server") or "").strip() or None
        contents.append(RslContent(url, server, tuple(_license(lic) for lic in element.findall(_tag("license"))), index))
    if not contents:
        return _unreadable(source_url, "no <content url> element")
    return RslDocument(tuple(contents), source_url, tuple(notes))


def _license(element: Element) -> RslLicense:
    def words(tag: str, kind: str) -> frozenset[str] | None:
        found = [e for e in element.findall(_tag(tag)) if (e.get("type") or "usage").strip().lower() == kind]
        if not found:
            return None
        return frozenset(w.lower() for e in found for w in (e.text or "").replace(",", " ").split())

    payments = tuple((p.get("type") or "free").strip().lower() for p in element.findall(_tag("payment")))
    geo = words("permits", "geo") is not None or words("prohibits", "geo") is not None
    return RslLicense(words("permits", "usage"), words("prohibits", "usage") or frozenset(),
                      words("permits", "user"), words("prohibits", "user") or frozenset(), geo, payments)


def _tag(name: str) -> str:
    return f"{{{NAMESPACE}}}{name}"


def _unreadable(source_url: str, why: str) -> RslDocument:
    return RslDocument((), source_url, (f"{why}: prohibited assumed",), why)


def cannot_fetch(source_url: str, why: str) -> RslDocument:
    """A pointed-to licence that could not be fetched: the most protective reading (§9.1)."""
    return _unreadable(source_url, f"could not be fetched ({why})")


# -- discovery ------------------------------------------------------------------------


def robots_pointers(robots: RobotsTxt, robots_url: str) -> list[RslPointer]:
    """``License: <absolute URL>`` lines of robots.txt, wherever they stand (a global line, not a group's)."""
    records = [*robots.ungrouped_records, *(r for g in robots.groups for r in g.records)]
    pointers = []
    for record in sorted(records, key=lambda r: r.line_number):
        if record.key == ROBOTS_FIELD and record.value:
            pointers.append(RslPointer(_absolute(robots_url, record.value), f"robots.txt line {record.line_number}"))
    return pointers


def header_pointers(link_values: Iterable[object], response_url: str) -> list[RslPointer]:
    """``Link: <...>; rel="license"; type="application/rsl+xml"``."""
    links, _ = parse_links(link_values, response_url)
    return [RslPointer(link.target, "Link header") for link in links
            if "license" in link.rels and (link.param("type") or "").lower() == MEDIA_TYPE]


def html_pointers(html: str, page_url: str, selector: Selector | None = None) -> tuple[list[RslPointer], list[RslDocument]]:
    """``<link rel="license" type="application/rsl+xml" href>`` and inline ``<script type="application/rsl+xml">``.

    ``selector``: the page already parsed from ``html`` (used when ``html`` has no NUL, which is removed first).
    """
    if selector is None or not isinstance(html, str) or "\x00" in html:
        try:
            selector = Selector(text=html.replace("\x00", "") if isinstance(html, str) else "")
        except Exception:  # noqa: BLE001 - whatever lxml refuses: nothing found, the page's other readers note it
            return [], []
    pointers = []
    for link in select(selector, "//link[@rel][@href]"):
        rels = (link.attrib.get("rel") or "").lower().split()
        if "license" in rels and (link.attrib.get("type") or "").strip().lower() == MEDIA_TYPE:
            pointers.append(RslPointer(_absolute(page_url, link.attrib["href"].strip()), "<link rel=license>"))
    inline = [parse("".join(script.xpath("text()").getall()).strip(), f"{page_url} (inline)")
              for script in select(selector, "//script[@type]")
              if (script.attrib.get("type") or "").split(";")[0].strip().lower() == MEDIA_TYPE]
    return pointers, inline


def _absolute(base: str, href: str) -> str:
    try:
        return urljoin(base, href)
    except ValueError:
        return href
