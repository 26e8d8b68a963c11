"""Licence URLs and page licence markup, per reference §6."""

from __future__ import annotations

import json

import pytest

from policy.signals.licenses import (
    LicenseRef,
    classify_license_url,
    page_licenses,
    scan_page_licenses,
    xmp_licenses,
)

PAGE = "https://example.com/gallery/page.html"
BY_ND = "https://creativecommons.org/licenses/by-nd/4.0/"

CLASSIFY_CASES = [
    pytest.param(BY_ND, "cc-by-nd-4.0", id="by-nd-4-canonical"),
    pytest.param("http://creativecommons.org/licenses/by-nc-nd/4.0/", "cc-by-nc-nd-4.0", id="http-scheme"),
    pytest.param("https://creativecommons.org/licenses/by/4.0", "cc-by-4.0", id="no-trailing-slash"),
    pytest.param("https://creativecommons.org/licenses/by-sa/4.0/deed.en", "cc-by-sa-4.0", id="deed-language"),
    pytest.param("https://creativecommons.org/licenses/by-sa/4.0/deed.zh-hans", "cc-by-sa-4.0", id="deed-language-script"),
    pytest.param("https://creativecommons.org/licenses/by-nc/4.0/deed", "cc-by-nc-4.0", id="bare-deed"),
    pytest.param("https://creativecommons.org/licenses/by-nc-sa/4.0/legalcode", "cc-by-nc-sa-4.0", id="legalcode"),
    pytest.param("https://creativecommons.org/licenses/by-nc-sa/4.0/legalcode.de", "cc-by-nc-sa-4.0",
                 id="legalcode-language"),
    pytest.param("https://creativecommons.org/licenses/by/4.0/legalcode.txt", "cc-by-4.0", id="legalcode-txt"),
    pytest.param("https://creativecommons.org/licenses/by/4.0/?ref=chooser-v1", "cc-by-4.0", id="chooser-query"),
    pytest.param("https://creativecommons.org/licenses/by/4.0/#section", "cc-by-4.0", id="fragment"),
    pytest.param("https://www.creativecommons.org/licenses/by/4.0/", "cc-by-4.0", id="www-host"),
    pytest.param("HTTPS://CreativeCommons.org/Licenses/BY-NC/4.0/", "cc-by-nc-4.0", id="case-insensitive"),
    pytest.param("//creativecommons.org/licenses/by/4.0/", "cc-by-4.0", id="protocol-relative"),
    pytest.param("creativecommons.org/licenses/by/4.0/", "cc-by-4.0", id="scheme-less"),
    pytest.param("  https://creativecommons.org/licenses/by/4.0/  ", "cc-by-4.0", id="surrounding-space"),
    pytest.param("https://creativecommons.org/licenses/by/1.0/", "cc-by-1.0", id="version-1-0"),
    pytest.param("https://creativecommons.org/licenses/by/2.0/", "cc-by-2.0", id="version-2-0"),
    pytest.param("https://creativecommons.org/licenses/by/2.5/", "cc-by-2.5", id="version-2-5"),
    pytest.param("https://creativecommons.org/licenses/by/3.0/", "cc-by-3.0", id="version-3-0"),
    pytest.param("https://creativecommons.org/licenses/by-sa/3.0/de/", "cc-by-sa-3.0", id="ported-jurisdiction"),
    pytest.param("https://creativecommons.org/licenses/by-nc/2.0/uk/deed.en_GB", "cc-by-nc-2.0",
                 id="ported-jurisdiction-with-deed"),
    pytest.param("https://creativecommons.org/licenses/by-nd-nc/1.0/", "cc-by-nc-nd-1.0", id="v1-by-nd-nc-spelling"),
    pytest.param("https://creativecommons.org/publicdomain/zero/1.0/", "cc0", id="cc0"),
    pytest.param("http://creativecommons.org/publicdomain/zero/1.0/legalcode", "cc0", id="cc0-legalcode"),
    pytest.param("https://creativecommons.org/publicdomain/mark/1.0/deed.en", "cc-pdm", id="public-domain-mark"),
    # not licences we can classify
    pytest.param("https://creativecommons.org/licenses/by/5.0/", None, id="unknown-version"),
    pytest.param("https://creativecommons.org/licenses/by-xx/4.0/", None, id="unknown-licence-code"),
    pytest.param("https://creativecommons.org/licenses/", None, id="licence-index-page"),
    pytest.param("https://creativecommons.org/about/cclicenses/", None, id="about-page"),
    pytest.param("https://creativecommons.org.evil.com/licenses/by/4.0/", None, id="lookalike-host-suffix"),
    pytest.param("https://evilcreativecommons.org/licenses/by/4.0/", None, id="lookalike-host-prefix"),
    pytest.param("https://example.com/licenses/by/4.0/", None, id="other-host-same-path"),
    pytest.param("ftp://creativecommons.org/licenses/by/4.0/", None, id="ftp-scheme"),
    pytest.param("https://creativecommons.org/licenses/by/4.0/extra/stuff", None, id="extra-path"),
    pytest.param("https://creativecommons.org/publicdomain/zero/2.0/", None, id="cc0-unknown-version"),
    pytest.param("CC BY-NC 4.0", None, id="licence-name-text-is-not-enough"),
    pytest.param("http://[::1", None, id="unsplittable-url"),
    pytest.param("", None, id="empty"),
    pytest.param(None, None, id="none"),
]


@pytest.mark.parametrize(("url", "kind"), CLASSIFY_CASES)
def test_classify_license_url(url, kind):
    ref = classify_license_url(url)
    assert (ref.kind if ref else None) == kind


FLAG_CASES = [
    pytest.param("by", False, False, False, True, id="by-attribution-only"),
    pytest.param("by-sa", False, False, True, True, id="by-sa-share-alike"),
    pytest.param("by-nd", False, True, False, True, id="by-nd-no-derivatives"),
    pytest.param("by-nc", True, False, False, True, id="by-nc-noncommercial"),
    pytest.param("by-nc-sa", True, False, True, True, id="by-nc-sa-noncommercial-share-alike"),
    pytest.param("by-nc-nd", True, True, False, True, id="by-nc-nd-noncommercial-no-derivatives"),
]


@pytest.mark.parametrize(("code", "nc", "nd", "sa", "by"), FLAG_CASES)
def test_license_flags(code, nc, nd, sa, by):
    ref = classify_license_url(f"https://creativecommons.org/licenses/{code}/4.0/")
    assert (ref.noncommercial, ref.no_derivatives, ref.share_alike, ref.attribution) == (nc, nd, sa, by)


@pytest.mark.parametrize("url", ["https://creativecommons.org/publicdomain/zero/1.0/",
                                 "https://creativecommons.org/publicdomain/mark/1.0/"])
def test_public_domain_tools_carry_no_conditions(url):
    ref = classify_license_url(url)
    assert not (ref.noncommercial or ref.no_derivatives or ref.share_alike or ref.attribution)


def test_ported_licence_keeps_jurisdiction():
    assert classify_license_url("https://creativecommons.org/licenses/by-sa/3.0/de/").jurisdiction == "de"


def html(body: str, head: str = "") -> str:
    return f"<!doctype html><html><head>{head}</head><body>{body}</body></html>"


def kinds(page: str, base: str = PAGE) -> list[tuple[str, str, str | None]]:
    return [(r.kind, r.source, r.image_url) for r in page_licenses(page, base)]


REL_CASES = [
    pytest.param(html(f'<a rel="license" href="{BY_ND}">CC</a>'), [("cc-by-nd-4.0", "rel-license", None)],
                 id="anchor-rel-license"),
    pytest.param(html("", f'<link rel="license" href="{BY_ND}">'), [("cc-by-nd-4.0", "rel-license", None)],
                 id="link-rel-license"),
    pytest.param(html(f'<map><area rel="license" href="{BY_ND}"></map>'), [("cc-by-nd-4.0", "rel-license", None)],
                 id="area-rel-license"),
    pytest.param(html(f'<a rel="License" href="{BY_ND}">CC</a>'), [("cc-by-nd-4.0", "rel-license", None)],
                 id="rel-case-insensitive"),
    pytest.param(html(f'<a rel="nofollow  license\texternal" href="{BY_ND}">CC</a>'),
                 [("cc-by-nd-4.0", "rel-license", None)], id="rel-space-separated-list"),
    pytest.param(html(f'<a rel="licensed" href="{BY_ND}">CC</a>'), [], id="rel-substring-does-not-count"),
    # RDFa 1.1 (issue 11): a CURIE in rel, or rel on any element with href, is a licence statement.
    pytest.param(html(f'<a rel="cc:license" href="{BY_ND}">CC</a>'), [("cc-by-nd-4.0", "rdfa", None)],
                 id="rel-prefixed-token-is-rdfa"),
    pytest.param(html(f'<a href="{BY_ND}">CC BY-ND</a>'), [], id="plain-link-to-licence-is-not-a-statement"),
    pytest.param(html(f'<span rel="license" href="{BY_ND}">x</span>'), [("cc-by-nd-4.0", "rdfa", None)],
                 id="rel-on-span-is-rdfa"),
    pytest.param(html('<a rel="license" href="/terms">terms</a>'),
                 [("unknown", "rel-license", None)], id="non-cc-licence-is-unknown-kind"),
    pytest.param(html('<a rel="license" href="">x</a><a rel="license">y</a>'), [], id="missing-href-ignored"),
]


@pytest.mark.parametrize(("page", "expected"), REL_CASES)
def test_rel_license(page, expected):
    assert kinds(page) == expected


def test_relative_href_resolved_against_page_url():
    (ref,) = page_licenses(html('<a rel="license" href="../terms.html">t</a>'), PAGE)
    assert ref.url == "https://example.com/terms.html"


def test_base_element_changes_resolution():
    page = html('<a rel="license" href="terms.html">t</a>', '<base href="/legal/">')
    (ref,) = page_licenses(page, PAGE)
    assert ref.url == "https://example.com/legal/terms.html"


def test_rel_license_evidence_shows_markup():
    (ref,) = page_licenses(html(f'<a rel="license" href="{BY_ND}">CC</a>'), PAGE)
    assert ref.evidence == f'<a rel="license" href="{BY_ND}">'


def json_ld(document: object, media_type: str = "application/ld+json") -> str:
    return html(f'<script type="{media_type}">{json.dumps(document)}</script>')


IMAGE = {
    "@context": "https://schema.org/",
    "@type": "ImageObject",
    "contentUrl": "https://example.com/photos/1x1.jpg",
    "license": "https://creativecommons.org/licenses/by-nc/4.0/",
    "acquireLicensePage": "https://example.com/how-to-use-my-images",
}

JSON_LD_CASES = [
    pytest.param(IMAGE, [("cc-by-nc-4.0", "license"), ("unknown", "acquire-license-page")], id="image-object"),
    pytest.param({"@context": "https://schema.org", "@graph": [IMAGE]},
                 [("cc-by-nc-4.0", "license"), ("unknown", "acquire-license-page")], id="graph"),
    pytest.param([IMAGE], [("cc-by-nc-4.0", "license"), ("unknown", "acquire-license-page")], id="top-level-array"),
    pytest.param({"@type": "Article", "image": {**IMAGE, "acquireLicensePage": None}},
                 [("cc-by-nc-4.0", "license")], id="nested-image-object"),
    pytest.param({**IMAGE, "license": {"@id": BY_ND}, "acquireLicensePage": None}, [("cc-by-nd-4.0", "license")],
                 id="license-as-id-object"),
    pytest.param({**IMAGE, "license": {"@type": "CreativeWork", "url": BY_ND}, "acquireLicensePage": None},
                 [("cc-by-nd-4.0", "license")], id="license-as-creative-work"),
    pytest.param({**IMAGE, "license": [BY_ND, "https://creativecommons.org/publicdomain/zero/1.0/"],
                  "acquireLicensePage": None}, [("cc-by-nd-4.0", "license"), ("cc0", "license")],
                 id="license-list"),
    pytest.param({"@type": "ImageObject", "contentUrl": "a.jpg", "http://schema.org/license": BY_ND},
                 [("cc-by-nd-4.0", "license")], id="expanded-property-iri"),
    pytest.param({"@type": "ImageObject", "contentUrl": "a.jpg", "license": 42}, [], id="non-url-license-ignored"),
]


@pytest.mark.parametrize(("document", "expected"), JSON_LD_CASES)
def test_json_ld(document, expected):
    refs = page_licenses(json_ld(document), PAGE)
    assert [(r.kind, r.relation) for r in refs] == expected
    assert all(r.source == "schema.org" for r in refs)


def test_json_ld_ties_licence_to_content_url():
    (licence, acquire) = page_licenses(json_ld(IMAGE), PAGE)
    assert licence.image_url == "https://example.com/photos/1x1.jpg"
    assert acquire.image_url == "https://example.com/photos/1x1.jpg"
    assert licence.noncommercial is True


def test_json_ld_relative_content_url_resolved():
    (ref,) = page_licenses(json_ld({"@type": "ImageObject", "contentUrl": "img/a.jpg", "license": BY_ND}), PAGE)
    assert ref.image_url == "https://example.com/gallery/img/a.jpg"


def test_json_ld_page_level_licence_has_no_image():
    (ref,) = page_licenses(json_ld({"@type": "WebPage", "license": BY_ND}), PAGE)
    assert ref.image_url is None


@pytest.mark.parametrize("media_type", ["application/ld+json; charset=utf-8", "Application/LD+JSON"])
def test_json_ld_media_type_parameters_and_case(media_type):
    assert len(page_licenses(json_ld(IMAGE, media_type), PAGE)) == 2


def test_plain_json_script_is_not_json_ld():
    assert page_licenses(json_ld(IMAGE, "application/json"), PAGE) == []


def test_json_ld_in_html_comment_wrapper_is_read():
    page = html(f'<script type="application/ld+json"><!--{json.dumps(IMAGE)}--></script>')
    assert len(page_licenses(page, PAGE)) == 2


def test_invalid_json_ld_is_noted_and_other_blocks_still_read():
    page = html('<script type="application/ld+json">{not json</script>'
                f'<script type="application/ld+json">{json.dumps(IMAGE)}</script>')
    scan = scan_page_licenses(page, PAGE)
    assert len(scan.licenses) == 2
    assert any("JSON-LD block 1" in note for note in scan.notes)


def test_deeply_nested_json_ld_does_not_raise():
    nested: object = {"license": BY_ND}
    for _ in range(200):
        nested = {"x": nested}
    scan = scan_page_licenses(html(f'<script type="application/ld+json">{json.dumps(nested)}</script>'), PAGE)
    assert scan.licenses == ()
    assert any("deeper" in note for note in scan.notes)


def test_json_ld_too_deep_for_json_module_is_noted():
    page = html('<script type="application/ld+json">' + "[" * 100_000 + "]" * 100_000 + "</script>")
    assert scan_page_licenses(page, PAGE).notes


MICRODATA_IMAGE = """
<div itemscope itemtype="https://schema.org/ImageObject">
  <img itemprop="contentUrl" src="/photos/2.jpg">
  <a itemprop="license" href="https://creativecommons.org/licenses/by-sa/4.0/">CC BY-SA</a>
  <link itemprop="acquireLicensePage" href="/buy">
</div>
"""

MICRODATA_CASES = [
    pytest.param(MICRODATA_IMAGE, [("cc-by-sa-4.0", "license", "https://example.com/photos/2.jpg"),
                                   ("unknown", "acquire-license-page", "https://example.com/photos/2.jpg")],
                 id="image-object-with-content-url"),
    pytest.param(f'<div itemscope><link itemprop="license" href="{BY_ND}"></div>',
                 [("cc-by-nd-4.0", "license", None)], id="link-in-scope-without-image"),
    pytest.param(f'<div itemscope><meta itemprop="license" content="{BY_ND}"></div>',
                 [("cc-by-nd-4.0", "license", None)], id="meta-content-value"),
    pytest.param(f'<div itemscope><span itemprop="license">{BY_ND}</span></div>',
                 [("cc-by-nd-4.0", "license", None)], id="text-value"),
    pytest.param(f'<div itemscope><a itemprop="url license" href="{BY_ND}">x</a></div>',
                 [("cc-by-nd-4.0", "license", None)], id="itemprop-token-list"),
    pytest.param('<div itemscope><span itemprop="license"></span></div>', [], id="empty-value-ignored"),
]


@pytest.mark.parametrize(("body", "expected"), MICRODATA_CASES)
def test_microdata(body, expected):
    refs = page_licenses(html(body), PAGE)
    assert [(r.kind, r.relation, r.image_url) for r in refs] == expected
    assert all(r.source == "microdata" for r in refs)


def test_all_sources_found_together_and_deduplicated():
    page = html(
        f'<a rel="license" href="{BY_ND}">x</a><a rel="license" href="{BY_ND}">again</a>{MICRODATA_IMAGE}',
        f'<script type="application/ld+json">{json.dumps(IMAGE)}</script>',
    )
    sources = [r.source for r in page_licenses(page, PAGE)]
    assert sources == ["rel-license", "schema.org", "schema.org", "microdata", "microdata"]


@pytest.mark.parametrize(
    "page",
    ["", "   ", None, b"<a rel='license' href='x'>", "<<<>>>\x00\x00", "<a rel='license' href='http://[::1'>x</a>",
     "<html>" * 10_000, 42],
    ids=["empty", "blank", "none", "bytes", "garbage-with-nul", "unsplittable-href", "deeply-nested", "not-text"],
)
def test_hostile_pages_never_raise(page):
    assert isinstance(page_licenses(page, PAGE), list)


def test_bytes_page_is_decoded():
    (ref,) = page_licenses(html(f'<a rel="license" href="{BY_ND}">x</a>').encode(), PAGE)
    assert ref.kind == "cc-by-nd-4.0"


def test_xmp_licenses():
    refs = xmp_licenses(["https://creativecommons.org/licenses/by-nc-nd/4.0/"], ["https://example.com/buy"],
                        image_url="https://example.com/a.jpg")
    assert refs == [
        LicenseRef(url="https://creativecommons.org/licenses/by-nc-nd/4.0/", kind="cc-by-nc-nd-4.0", source="xmp",
                   image_url="https://example.com/a.jpg", noncommercial=True, no_derivatives=True, attribution=True,
                   evidence="xmpRights:WebStatement https://creativecommons.org/licenses/by-nc-nd/4.0/"),
        LicenseRef(url="https://example.com/buy", kind="unknown", source="xmp", image_url="https://example.com/a.jpg",
                   relation="acquire-license-page", evidence="plus:LicensorURL https://example.com/buy"),
    ]


# -- issue 11: CC IGO and ported URLs, RDFa, the HTTP Link header --------------------------------

from policy.signals.licenses import header_licenses  # noqa: E402
from policy.signals.linkheader import MAX_LINK_HEADER_CHARS, parse_links  # noqa: E402

IGO_AND_PORTED = [
    pytest.param("https://creativecommons.org/licenses/by/3.0/igo/", "cc-by-3.0", "igo", id="by-3.0-igo"),
    pytest.param("https://creativecommons.org/licenses/by-nc-nd/3.0/igo/legalcode", "cc-by-nc-nd-3.0", "igo",
                 id="by-nc-nd-3.0-igo-legalcode"),
    pytest.param("http://creativecommons.org/licenses/by-sa/3.0/igo/deed.fr", "cc-by-sa-3.0", "igo", id="igo-deed-fr"),
    pytest.param("https://creativecommons.org/licenses/by/3.0/de/", "cc-by-3.0", "de", id="ported-3.0-de"),
    pytest.param("https://creativecommons.org/licenses/by-nc-sa/2.5/scotland/", "cc-by-nc-sa-2.5", "scotland",
                 id="ported-2.5-scotland"),
    pytest.param("https://creativecommons.org/licenses/by-nc/2.1/jp/", "cc-by-nc-2.1", "jp", id="ported-2.1-jp"),
    pytest.param("https://creativecommons.org/licenses/by/2.1/es/deed.es", "cc-by-2.1", "es", id="ported-2.1-es"),
    pytest.param("https://creativecommons.org/licenses/by-sa/2.0/uk/", "cc-by-sa-2.0", "uk", id="ported-2.0-uk"),
]


@pytest.mark.parametrize(("url", "kind", "jurisdiction"), IGO_AND_PORTED)
def test_igo_and_ported_licences_are_classified(url, kind, jurisdiction):
    ref = classify_license_url(url)
    assert ref is not None and ref.kind == kind and ref.jurisdiction == jurisdiction


RDFA_PAGES = [
    pytest.param('<a property="license" href="https://creativecommons.org/licenses/by-nd/4.0/">BY-ND</a>',
                 "cc-by-nd-4.0", None, id="property-license-href"),
    pytest.param('<span property="cc:license" resource="https://creativecommons.org/licenses/by/4.0/"></span>',
                 "cc-by-4.0", None, id="cc-curie-resource"),
    pytest.param('<meta property="dcterms:license" content="https://creativecommons.org/publicdomain/zero/1.0/">',
                 "cc0", None, id="dcterms-content"),
    pytest.param('<div about="/img/a.jpg"><span rel="license" resource="https://creativecommons.org/licenses/by-nc/4.0/">'
                 "</span></div>", "cc-by-nc-4.0", "https://example.com/img/a.jpg", id="rel-in-rdfa-about-image"),
    pytest.param('<span property="http://creativecommons.org/ns#license" '
                 'resource="https://creativecommons.org/licenses/by-sa/4.0/"></span>', "cc-by-sa-4.0", None, id="full-iri"),
    pytest.param('<span property="schema:license">https://creativecommons.org/licenses/by/4.0/</span>',
                 "cc-by-4.0", None, id="property-text-content"),
]


@pytest.mark.parametrize(("markup", "kind", "image_url"), RDFA_PAGES)
def test_rdfa_licences_are_read(markup, kind, image_url):
    found = scan_page_licenses(f"<html><body>{markup}</body></html>", "https://example.com/page").licenses
    rdfa = [r for r in found if r.source == "rdfa"]
    assert [r.kind for r in rdfa] == [kind] and rdfa[0].image_url == image_url


def test_plain_html_rel_license_is_not_counted_twice():
    html = '<a rel="license" href="https://creativecommons.org/licenses/by/4.0/">x</a>'
    found = scan_page_licenses(html, "https://example.com/").licenses
    assert [r.source for r in found] == ["rel-license"]


def test_rdfa_property_without_object_is_noted():
    result = scan_page_licenses('<span property="license"></span>', "https://example.com/")
    assert result.licenses == () and any("without an object" in n for n in result.notes)


LINK_HEADERS = [
    pytest.param(['<https://creativecommons.org/licenses/by/4.0/>; rel="license"'], ["cc-by-4.0"], id="quoted-rel"),
    pytest.param(["<https://creativecommons.org/licenses/by-nd/4.0/>; rel=license"], ["cc-by-nd-4.0"], id="token-rel"),
    pytest.param(['<https://example.com/a>; rel="next", <https://creativecommons.org/licenses/by/3.0/igo/>; '
                  'rel="copyright LICENSE"'], ["cc-by-3.0"], id="second-link-rel-list-case"),
    pytest.param(['<https://example.com/licence.xml>; rel="license"; type="application/rsl+xml"'], ["unknown"],
                 id="rsl-kept-as-unknown-licence"),
    pytest.param(['<https://x.example/a,b>; rel="license"; title="a, b; c"'], ["unknown"], id="commas-inside"),
    pytest.param(["</licence>; rel=license"], ["unknown"], id="relative-target"),
    pytest.param(['<https://creativecommons.org/licenses/by/4.0/>; rel="alternate"'], [], id="other-rel"),
    pytest.param(["garbage", "", "<unterminated; rel=license"], [], id="malformed"),
]


@pytest.mark.parametrize(("values", "kinds"), LINK_HEADERS)
def test_link_header_licences(values, kinds):
    found = header_licenses(values, "https://example.com/img/a.jpg", "https://example.com/img/a.jpg")
    assert [r.kind for r in found.licenses] == kinds
    assert all(r.source == "link-header" and r.image_url == "https://example.com/img/a.jpg" for r in found.licenses)


def test_link_header_relative_target_resolves_against_the_response():
    links, _ = parse_links(["</licence>; rel=license"], "https://example.com/img/a.jpg")
    assert links[0].target == "https://example.com/licence"


@pytest.mark.parametrize("value", [b"\xff\xfe<\x00>; rel=license", "<" * 100_000, "," * 100_000,
                                   '<a>; rel="' + "x" * (MAX_LINK_HEADER_CHARS + 10), 12345])
def test_hostile_link_headers_never_raise(value):
    found = header_licenses([value], "https://example.com/")
    assert isinstance(found.licenses, tuple)
