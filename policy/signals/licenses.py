"""Machine-readable licences: Creative Commons URLs, rel=license, schema.org and XMP (reference §6).

A licence does not grant consent, but NC and ND change what may be done with
an image and BY obliges us to keep attribution, so every licence statement is
collected with where it was found and, when the markup says so, which image
it covers. Only URLs are classified: licence names in prose are not enough.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from parsel import Selector

from policy.htmlselect import select, strings
from policy.signals.linkheader import parse_links
from policy.vocabulary import CC_LICENCE_ELEMENTS, CC_LICENCE_VERSIONS, LICENCE_UNKNOWN

SOURCE_REL = "rel-license"
SOURCE_SCHEMA_ORG = "schema.org"
SOURCE_MICRODATA = "microdata"
SOURCE_XMP = "xmp"
SOURCE_RDFA = "rdfa"
SOURCE_LINK_HEADER = "link-header"
#: RDFa terms and CURIEs (prefix:license) that mean "licence"; full IRIs are matched by their namespace.
_RDFA_LICENSE_IRIS = {
    "http://www.w3.org/1999/xhtml/vocab#license", "http://creativecommons.org/ns#license",
    "http://purl.org/dc/terms/license", "http://schema.org/license", "https://schema.org/license",
}
_RDFA_LICENSE_PREFIXES = {"cc", "dc", "dct", "dcterms", "schema", "xhv"}
RELATION_LICENSE = "license"
RELATION_ACQUIRE = "acquire-license-page"
KIND_UNKNOWN = LICENCE_UNKNOWN

#: JSON-LD nesting deeper than this is not walked (hostile pages).
MAX_JSON_LD_DEPTH = 64

_CC_HOST = re.compile(r"^(?:www\.)?creativecommons\.org$", re.IGNORECASE)
_SUFFIX = r"(?:/(?:deed|legalcode)(?:\.[a-z]{2,3}(?:[-_][a-z0-9]{2,4})?)?(?:\.txt)?)?/?"
_CC_LICENSE_PATH = re.compile(
    r"^/licenses/(?P<code>" + "|".join(map(re.escape, (*CC_LICENCE_ELEMENTS, "by-nd-nc"))) + ")"
    r"/(?P<version>" + "|".join(map(re.escape, CC_LICENCE_VERSIONS)) + ")"
    r"(?:/(?P<jurisdiction>igo|[a-z]{2}(?:-[a-z]{2})?|scotland))?" + _SUFFIX + "$",
    re.IGNORECASE,
)
_CC_PUBLIC_DOMAIN_PATH = re.compile(r"^/publicdomain/(?P<tool>zero|mark)/1\.0" + _SUFFIX + "$", re.IGNORECASE)
_LICENSE_KEYS = {"license", "schema:license", "http://schema.org/license", "https://schema.org/license"}
_ACQUIRE_KEYS = {
    "acquirelicensepage", "schema:acquirelicensepage",
    "http://schema.org/acquirelicensepage", "https://schema.org/acquirelicensepage",
}
_MICRODATA_PROPERTIES = ((RELATION_LICENSE, "license"), (RELATION_ACQUIRE, "acquirelicensepage"))
_CONTENT_URL_KEYS = {"contenturl", "schema:contenturl", "http://schema.org/contenturl", "https://schema.org/contenturl"}


@dataclass(frozen=True, slots=True)
class LicenseRef:
    """One licence statement: the URL, what it is, and where it was found."""

    url: str
    kind: str  # "cc-by-nc-nd-4.0", "cc0", "cc-pdm", or "unknown"
    source: str  # "rel-license", "schema.org", "microdata", "xmp" (or "url" when classified alone)
    image_url: str | None = None  # set when the markup ties the licence to one image
    noncommercial: bool = False
    no_derivatives: bool = False
    share_alike: bool = False
    attribution: bool = False  # BY: keep creator, licence URL and source URL
    relation: str = RELATION_LICENSE  # or "acquire-license-page" (schema.org / plus:LicensorURL)
    jurisdiction: str | None = None  # ported CC 2.x/3.0 licences, e.g. "de"
    evidence: str = ""  # the markup or property it came from

    @property
    def is_creative_commons(self) -> bool:
        return self.kind != KIND_UNKNOWN


#: What a failed licence reader reads as (policy.observe): an unknown licence with every restriction.
PROTECTIVE = LicenseRef("", KIND_UNKNOWN, "reader failure", noncommercial=True, no_derivatives=True, share_alike=True,
                        attribution=True, evidence="the licence reader failed: every restriction assumed")


@dataclass(frozen=True, slots=True)
class PageLicenses:
    """Everything :func:`scan_page_licenses` found, with notes on what it could not read."""

    licenses: tuple[LicenseRef, ...] = ()
    notes: tuple[str, ...] = ()


def classify_license_url(
    url: str, *, source: str = "url", image_url: str | None = None, relation: str = RELATION_LICENSE,
    evidence: str = "",
) -> LicenseRef | None:
    """A :class:`LicenseRef` for a Creative Commons licence or public-domain tool URL, else None.

    http and https, ``www.``, a missing trailing slash, ``deed.xx`` and
    ``legalcode`` suffixes, query strings (``?ref=chooser-v1``) and fragments
    are all accepted.
    """
    if not isinstance(url, str):
        return None
    text = url.strip()
    try:
        parts = urlsplit(text if "//" in text else "//" + text)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("", "http", "https") or not _CC_HOST.match(parts.hostname or ""):
        return None
    path = parts.path
    found = _CC_LICENSE_PATH.match(path)
    if found:
        code = found.group("code").lower().replace("by-nd-nc", "by-nc-nd")
        elements = code.split("-")
        jurisdiction = found.group("jurisdiction")
        return LicenseRef(
            text, f"cc-{code}-{found.group('version')}", source, image_url,
            noncommercial="nc" in elements, no_derivatives="nd" in elements, share_alike="sa" in elements,
            attribution=True, relation=relation, jurisdiction=jurisdiction.lower() if jurisdiction else None,
            evidence=evidence or text,
        )
    found = _CC_PUBLIC_DOMAIN_PATH.match(path)
    if found:
        kind = "cc0" if found.group("tool").lower() == "zero" else "cc-pdm"
        return LicenseRef(text, kind, source, image_url, relation=relation, evidence=evidence or text)
    return None


def page_licenses(html: str, base_url: str) -> list[LicenseRef]:
    """Licences stated by a page: rel=license links, schema.org JSON-LD and microdata."""
    return list(scan_page_licenses(html, base_url).licenses)


def scan_page_licenses(html: str, base_url: str, selector: Selector | None = None) -> PageLicenses:
    """:func:`page_licenses` plus notes on markup that could not be read (pass ``selector`` if already parsed)."""
    notes: list[str] = []
    if selector is None:
        text = html.decode("utf-8", "replace") if isinstance(html, (bytes, bytearray)) else html
        if not isinstance(text, str) or not text.strip():
            return PageLicenses((), ("no HTML to read",))
        try:
            selector = Selector(text=text.replace("\x00", ""))
        except Exception as error:  # noqa: BLE001 - whatever lxml refuses
            return PageLicenses((), (f"HTML could not be parsed ({type(error).__name__})",))
    base = _document_base(selector, base_url if isinstance(base_url, str) else "", notes)
    found: list[LicenseRef] = []
    for reader in (_rel_licenses, _rdfa_licenses, _json_ld_licenses, _microdata_licenses):
        try:
            found.extend(reader(selector, base, notes))
        except Exception as error:  # noqa: BLE001 - one broken reader must not hide the others
            notes.append(f"{reader.__name__} failed ({type(error).__name__}: {error!s:.60})")
    return PageLicenses(tuple(_unique(found)), tuple(notes))


def header_licenses(values: Iterable[object], response_url: str, image_url: str | None = None) -> PageLicenses:
    """``Link: <...>; rel="license"`` (RFC 8288; HTML's license relation) on a response.

    On an image response it covers that image; on a page, the page. RSL
    documents (``type="application/rsl+xml"``) are licences too, read by
    :mod:`policy.signals.rsl`; here they are kept as an unknown licence.
    """
    found, notes = parse_links(values, response_url)
    refs = []
    for link in found:
        if "license" not in link.rels or not link.target:
            continue
        ref = _ref(link.target, SOURCE_LINK_HEADER, image_url, RELATION_LICENSE, f"Link header: {link.raw}")
        if ref is not None:
            refs.append(ref)
    return PageLicenses(tuple(_unique(refs)), tuple(notes))


def xmp_licenses(
    web_statements: Iterable[str], licensor_urls: Iterable[str] = (), image_url: str | None = None,
) -> list[LicenseRef]:
    """``xmpRights:WebStatement`` (licence) and ``plus:LicensorURL`` (where to acquire one)."""
    refs = [_ref(u, SOURCE_XMP, image_url, RELATION_LICENSE, f"xmpRights:WebStatement {u}") for u in web_statements]
    refs += [_ref(u, SOURCE_XMP, image_url, RELATION_ACQUIRE, f"plus:LicensorURL {u}") for u in licensor_urls]
    return _unique([r for r in refs if r is not None])


# -- readers ---------------------------------------------------------------------


def _rel_licenses(selector: Selector, base: str, notes: list[str]) -> list[LicenseRef]:
    """``<a|link|area rel="... license ...">``; rel is a space-separated, case-insensitive list."""
    refs: list[LicenseRef] = []
    for element in select(selector, "//*[self::a or self::link or self::area][@rel]"):
        rel = element.attrib.get("rel", "")
        if "license" not in rel.lower().split():
            continue
        href = (element.attrib.get("href") or "").strip()
        evidence = f'<{element.root.tag} rel="{rel}" href="{href}">'
        if not href:
            notes.append(f"{evidence}: rel=license without an href ignored")
            continue
        ref = _ref(_resolve(base, href, notes), SOURCE_REL, None, RELATION_LICENSE, evidence)
        if ref is not None:
            refs.append(ref)
    return refs


def _rdfa_licenses(selector: Selector, base: str, notes: list[str]) -> list[LicenseRef]:
    """RDFa 1.1: ``property`` or ``rel`` naming the licence relation, object from resource/href/src.

    ``<a rel="license" href>`` without RDFa attributes is the HTML link type and
    read by :func:`_rel_licenses`; a subject set by ``about`` on the element or
    an ancestor ties the licence to that image.
    """
    refs: list[LicenseRef] = []
    for element in select(selector, "//*[@property or @rel]"):
        attributes = element.attrib
        tag = str(element.root.tag).lower() if isinstance(element.root.tag, str) else ""
        names = [("property", attributes.get("property", "")), ("rel", attributes.get("rel", ""))]
        # rel="license" on a, link or area is HTML's link type, already read by _rel_licenses.
        html_rel = tag in ("a", "link", "area") and "resource" not in attributes
        matched = [attr for attr, value in names
                   if any(_is_rdfa_license(t) and not (attr == "rel" and html_rel and t.lower() == "license")
                          for t in value.split())]
        if not matched:
            continue
        raw = next((attributes.get(a) for a in ("resource", "href", "src") if attributes.get(a)), None)
        if raw is None and "property" in matched:
            raw = attributes.get("content") or " ".join("".join(element.xpath(".//text()").getall()).split())
        evidence = f"RDFa <{tag} {matched[0]}=\"{attributes.get(matched[0])}\"> {raw or ''}".strip()
        if not raw:
            notes.append(f"{evidence}: a licence relation without an object ignored")
            continue
        subjects = element.xpath("ancestor-or-self::*[@about][1]/@about").getall()
        image_url = _resolve(base, subjects[0].strip(), notes) if subjects and subjects[0].strip() else None
        if image_url is not None and image_url.split("#", 1)[0] == base.split("#", 1)[0]:
            image_url = None  # about the page itself
        ref = _ref(_resolve(base, raw.strip(), notes), SOURCE_RDFA, image_url, RELATION_LICENSE, evidence)
        if ref is not None:
            refs.append(ref)
    return refs


def _is_rdfa_license(term: str) -> bool:
    lowered = term.strip().lower()
    if lowered == "license" or lowered in _RDFA_LICENSE_IRIS:
        return True
    prefix, _, local = lowered.partition(":")
    return local == "license" and prefix in _RDFA_LICENSE_PREFIXES


def _json_ld_licenses(selector: Selector, base: str, notes: list[str]) -> list[LicenseRef]:
    refs: list[LicenseRef] = []
    for number, script in enumerate(select(selector, "//script[@type]"), start=1):
        media_type = script.attrib.get("type", "").split(";", 1)[0].strip().lower()
        if media_type != "application/ld+json":
            continue
        body = "".join(script.xpath("text()").getall()).strip()
        body = _strip_wrappers(body)
        if not body:
            continue
        try:
            document = json.loads(body)
        except Exception as error:  # noqa: BLE001 - invalid JSON or nesting deep enough to recurse out
            notes.append(f"JSON-LD block {number} is not valid JSON ({type(error).__name__}): skipped")
            continue
        _walk_json_ld(document, base, refs, notes, 0)
    return refs


def _walk_json_ld(node: object, base: str, refs: list[LicenseRef], notes: list[str], depth: int) -> None:
    if depth > MAX_JSON_LD_DEPTH:
        notes.append(f"JSON-LD nested deeper than {MAX_JSON_LD_DEPTH}: rest not read")
        return
    if isinstance(node, list):
        for item in node:
            _walk_json_ld(item, base, refs, notes, depth + 1)
        return
    if not isinstance(node, dict):
        return
    keys = {str(k).lower(): k for k in node}
    image_url = None
    for key in _CONTENT_URL_KEYS & keys.keys():
        urls = _json_urls(node[keys[key]])
        if urls:
            image_url = _resolve(base, urls[0], notes)
            break
    node_type = node.get("@type")
    label = f"{node_type}" if isinstance(node_type, str) else "object"
    for lowered, original in keys.items():
        relation = RELATION_LICENSE if lowered in _LICENSE_KEYS else RELATION_ACQUIRE if lowered in _ACQUIRE_KEYS else None
        if relation is None:
            if isinstance(node[original], (dict, list)):
                _walk_json_ld(node[original], base, refs, notes, depth + 1)
            continue
        for url in _json_urls(node[original]):
            evidence = f"JSON-LD {label}.{original}: {url}"
            ref = _ref(_resolve(base, url, notes), SOURCE_SCHEMA_ORG, image_url, relation, evidence)
            if ref is not None:
                refs.append(ref)


def _microdata_licenses(selector: Selector, base: str, notes: list[str]) -> list[LicenseRef]:
    refs: list[LicenseRef] = []
    for element in select(selector, "//*[@itemprop]"):
        tokens = element.attrib.get("itemprop", "").split()
        lowered = {t.lower() for t in tokens}
        relations = [relation for relation, name in _MICRODATA_PROPERTIES if name in lowered]
        if not relations:
            continue
        value = _microdata_value(element, base, notes)
        if not value:
            notes.append(f"microdata itemprop={' '.join(tokens)!r} without a value ignored")
            continue
        image_url = None
        scopes = element.xpath("ancestor-or-self::*[@itemscope][1]")
        if scopes:
            for candidate in scopes[0].xpath(".//*[@itemprop]"):
                if "contenturl" in {t.lower() for t in candidate.attrib.get("itemprop", "").split()}:
                    image_url = _microdata_value(candidate, base, notes) or None
                    break
        for relation in relations:
            evidence = f"microdata itemprop={' '.join(tokens)!r}: {value}"
            ref = _ref(value, SOURCE_MICRODATA, image_url, relation, evidence)
            if ref is not None:
                refs.append(ref)
    return refs


# -- helpers ---------------------------------------------------------------------


def _ref(url: str, source: str, image_url: str | None, relation: str, evidence: str) -> LicenseRef | None:
    if not isinstance(url, str) or not url.strip():
        return None
    url = url.strip()
    classified = classify_license_url(url, source=source, image_url=image_url, relation=relation, evidence=evidence)
    if classified is not None:
        return classified
    return LicenseRef(url=url, kind=KIND_UNKNOWN, source=source, image_url=image_url, relation=relation, evidence=evidence)


def _microdata_value(element: Selector, base: str, notes: list[str]) -> str:
    """The HTML microdata property value rules, for the elements that carry URLs."""
    tag = str(element.root.tag).lower() if isinstance(element.root.tag, str) else ""
    attribute = {
        "a": "href", "area": "href", "link": "href", "img": "src", "audio": "src", "video": "src",
        "source": "src", "iframe": "src", "embed": "src", "track": "src", "object": "data", "meta": "content",
    }.get(tag)
    if attribute is not None:
        raw = (element.attrib.get(attribute) or "").strip()
        return _resolve(base, raw, notes) if raw and attribute != "content" else raw
    if element.attrib.get("itemscope") is not None:
        return ""
    return " ".join("".join(element.xpath(".//text()").getall()).split())


def _document_base(selector: Selector, base_url: str, notes: list[str]) -> str:
    """``<base href>`` (resolved against the page URL) decides how relative links resolve."""
    for href in strings(selector, "//base/@href")[:1]:
        if href.strip():
            return _resolve(base_url, href.strip(), notes)
    return base_url


def _resolve(base: str, href: str, notes: list[str]) -> str:
    try:
        return urljoin(base, href)
    except ValueError as error:
        notes.append(f"could not resolve {href!r:.80} against {base!r:.80} ({error}): kept as written")
        return href


def _json_urls(value: object, depth: int = 0) -> list[str]:
    """A URL-valued property: a string, ``{"@id"|"url"|"@value": ...}``, or a list of those."""
    if depth > 8:
        return []
    if isinstance(value, str):
        return [value.strip()] if value.strip() else []
    if isinstance(value, dict):
        for key in ("@id", "url", "@value", "contentUrl"):
            if key in value:
                return _json_urls(value[key], depth + 1)
        return []
    if isinstance(value, list):
        return [u for item in value for u in _json_urls(item, depth + 1)]
    return []


def _strip_wrappers(body: str) -> str:
    """HTML comment and CDATA wrappers that some CMSs put around JSON-LD."""
    for start, end in (("<!--", "-->"), ("//<![CDATA[", "//]]>"), ("<![CDATA[", "]]>")):
        if body.startswith(start) and body.endswith(end):
            body = body[len(start):-len(end)].strip()
    return body.rstrip(";").strip()


def _unique(refs: list[LicenseRef]) -> list[LicenseRef]:
    seen: set[tuple[str, str, str | None, str]] = set()
    out: list[LicenseRef] = []
    for ref in refs:
        key = (ref.url, ref.source, ref.image_url, ref.relation)
        if key not in seen:
            seen.add(key)
            out.append(ref)
    return out
