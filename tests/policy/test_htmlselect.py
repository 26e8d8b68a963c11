"""policy.htmlselect answers what parsel answers, on every HTML page of the test-site catalog and on odd pages."""

from __future__ import annotations

import pytest
from parsel import Selector
from scrapy.http import HtmlResponse

from crawler.spiders.site import IMAGE_SOURCES, IMAGE_SRCSETS, LINK_HREFS
from crawler.testsites.catalog import build_catalog
from policy.htmlselect import css_to_xpath, select, strings
from policy.observe import HREFLANG_LINKS, HTML_LANG, NAMED_METAS

ELEMENT_QUERIES = [NAMED_METAS, HREFLANG_LINKS, "//*[self::a or self::link or self::area][@rel]",
                   "//*[@property or @rel]", "//script[@type]", "//*[@itemprop]", "//link[@rel][@href]"]
STRING_QUERIES = [LINK_HREFS, IMAGE_SOURCES, IMAGE_SRCSETS, HTML_LANG, "//base/@href", "//script/text()"]

ODD_PAGES = [
    "",
    "<p>no html element",
    "<html lang='fr-CA'><head><base href='/x/'><meta name=robots content=noai>"
    "<meta name=ROBOTS content='noindex'><link rel='License alternate' hreflang=de href=/de></head>"
    "<body><img src=a.jpg srcset='b.jpg 2x, c.jpg 3x'><picture><source srcset=d.webp></picture>"
    "<a href='  /y  '>y</a><a>no href</a><area rel=license href=/l>"
    "<script type='application/ld+json'>{\"license\": \"x\"}</script></body></html>",
    "<svg><a href='/svg-link'>s</a></svg><math><a href=/m>m</a></math>",
    "<html><body>\x01\x02 <a href='/\u00e9t\u00e9'>utf</a><img src='data:,x'></body></html>",
]


def _catalog_pages() -> list[tuple[str, bytes]]:
    pages = []
    for site in build_catalog().sites.values():
        for path, served in site.responses.items():
            if "html" in served.content_type and not served.dynamic:
                pages.append((site.url(path), served.content()))
    return pages


def _assert_same(selector: Selector) -> None:
    for query in ELEMENT_QUERIES:
        ours, theirs = select(selector, query), selector.xpath(query)
        assert [s.get() for s in ours] == [s.get() for s in theirs], query
        assert [dict(s.attrib) for s in ours] == [dict(s.attrib) for s in theirs], query
        assert [s.xpath(".//text()").getall() for s in ours] == [s.xpath(".//text()").getall() for s in theirs]
    for query in STRING_QUERIES:
        assert strings(selector, query) == selector.xpath(query).getall(), query


def test_every_catalog_page_gets_parsels_answers() -> None:
    pages = _catalog_pages()
    assert len(pages) > 50  # the catalog's pages, not an empty loop
    found = 0
    for url, body in pages:
        response = HtmlResponse(url, body=body, headers={"Content-Type": "text/html; charset=utf-8"})
        _assert_same(response.selector)
        found += sum(len(select(response.selector, query)) for query in ELEMENT_QUERIES)
        found += sum(len(strings(response.selector, query)) for query in STRING_QUERIES)
    assert found > 100  # the queries found links, images, meta tags and licences: the comparison compared something


@pytest.mark.parametrize("html", ODD_PAGES)
def test_odd_pages_get_parsels_answers(html: str) -> None:
    _assert_same(Selector(text=html))


def test_a_selector_without_a_tree_finds_nothing_as_parsel_does() -> None:
    text = Selector(text="{}", type="json")
    assert select(text, NAMED_METAS) == [] and strings(text, LINK_HREFS) == []


def test_css_is_translated_as_parsel_translates_it() -> None:
    page = Selector(text="<a href=/1>1</a><img src=/i.jpg srcset='/j.jpg 2x'>")
    assert strings(page, css_to_xpath("a::attr(href)")) == page.css("a::attr(href)").getall() == ["/1"]
    assert strings(page, IMAGE_SRCSETS) == page.css("img::attr(srcset), source::attr(srcset)").getall()
