"""A site that EU/EEA courts or authorities recognise as infringing copyright is not crawled at all.

The GPAI Code of Practice's copyright chapter (reference §9.5): crawl only lawfully accessible content, and exclude
sites recognised as persistently and repeatedly infringing. A compliance engineer records the listing in a terms
registry (``listed_infringing``); the test-site server's access log shows that nothing reached the site, not even a
request for its robots.txt. The unlawful demo crawls it anyway and records the breach.
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import CrawlResult, Served, crawl, serve_testsites, stop_testsites

HOST = "gallery.example.de"
START = f"http://{HOST}/"


def listing(tmp_path: Path) -> Path:
    registry = tmp_path / "terms.yaml"
    registry.write_text("terms:\n"
                        f"  - host: {HOST}\n"
                        "    reviewed: 2026-12-01\n"
                        "    listed_infringing: {by: European Commission Counterfeit and Piracy Watch List (test entry),"
                        " listed: 2026-11-30}\n")
    return registry


def crawl_listed(tmp_path: Path, *args: str) -> tuple[CrawlResult, Served]:
    served, server = serve_testsites(tmp_path)
    try:
        result = crawl(tmp_path, f"sqlite:///{tmp_path}/d.db", "--testsites", "--testsites-server", served.url,
                       "--terms", str(listing(tmp_path)), *args, START)
    finally:
        stop_testsites(server)
    return result, served


def test_a_listed_site_is_refused_without_a_single_request(tmp_path: Path) -> None:
    result, served = crawl_listed(tmp_path)

    assert result.report["summary"] == {"page/refused": 1}
    decision = result.decision(START, "page")
    codes = [reason["code"] for reason in decision["reasons"]]
    assert codes == ["listed-infringing-site", "terms.listed_infringing"]
    listed = decision["reasons"][1]["detail"]
    assert "Counterfeit and Piracy Watch List (test entry)" in listed and f"{tmp_path / 'terms.yaml'}:2" in listed
    assert decision["signals"]["terms.listed_infringing"] is True and "robots.allowed" not in decision["signals"]
    assert any(c.startswith("GPAI Code of Practice") for c in decision["reasons"][0]["evidence"]["citations"])
    assert [path for _, host, path in served.requests() if host == HOST] == []  # robots.txt included


def test_the_unlawful_demo_crawls_a_listed_site_and_records_the_breach(tmp_path: Path) -> None:
    result, served = crawl_listed(tmp_path, "--policy", "unlawful-demo")

    decision = result.decision(START, "page")
    assert decision["outcome"] == "crawled"
    assert any(b.startswith("GPAI Code of Practice, Copyright chapter") for b in decision["breaches"])
    assert "/robots.txt" in {path for _, host, path in served.requests() if host == HOST}


def test_an_image_host_listed_as_infringing_is_refused_whatever_page_embeds_it(tmp_path: Path) -> None:
    from scrapy.utils.test import get_crawler

    from crawler.policy_runtime import policy_for

    registry = tmp_path / "terms.yaml"
    registry.write_text("terms:\n  - {host: cdn.example.net, reviewed: 2026-12-01, listed_infringing: {by: a court}}\n")
    runtime = policy_for(get_crawler(settings_dict={"FAIRCRAWL_POLICY": "lawful", "FAIRCRAWL_TERMS": [str(registry)]}))

    assert runtime.site_signals("http://cdn.example.net/a.jpg", "http://blog.example.org/p.html")[
        "terms.listed_infringing"] is True
    assert runtime.site_signals("http://img.cdn.example.net/a.jpg", None)["terms.listed_infringing"] is True
    assert runtime.site_signals("http://blog.example.org/b.jpg", "http://cdn.example.net/p.html")[
        "terms.listed_infringing"] is True  # the page's site speaks for its images
    assert runtime.site_signals("http://blog.example.org/b.jpg", None)["terms.listed_infringing"] is False
