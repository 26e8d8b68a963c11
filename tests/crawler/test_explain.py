"""`policy explain` prints the record the crawl makes: the same code, the same gates, nothing stored."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

from crawler.decision_record import CRAWL_CONTEXT_CODES
from crawler.testsites import images
from tests.conftest import PROJECT_ROOT, CrawlResult, run_faircrawl

#: Fields of a record that explain must reproduce exactly (ids and timestamps are per run).
COMPARED = ("kind", "outcome", "url", "final_url", "page_url", "jurisdiction", "jurisdiction_source", "signals",
            "matched_rules", "effect", "obligations", "citations", "breaches", "policy_summary")

EXPLAIN_MANY = """
import json, sys
from crawler.cli import crawl_settings
from crawler.explain import ExplainTarget, explain_targets
targets = [ExplainTarget(url, page) for url, page in json.load(sys.stdin)]
explained = explain_targets(targets, crawl_settings(FAIRCRAWL_TESTSITES=True))
print(json.dumps([e.record.as_dict() for e in explained]))
"""


def _codes(record: dict[str, object]) -> list[str]:
    return [r["code"] for r in record["reasons"] if r["code"] not in CRAWL_CONTEXT_CODES]  # type: ignore[index, union-attr]


def test_explain_reproduces_the_catalog_crawls_record_for_every_image(catalog_crawl: CrawlResult) -> None:
    crawled = [d for d in catalog_crawl.report["decisions"] if d["kind"] == "image" and d["page_url"]]
    workdir = catalog_crawl.store.parent  # the crawl's own var/ (suppression list, key)

    process = subprocess.run([sys.executable, "-c", EXPLAIN_MANY], input=json.dumps([(d["url"], d["page_url"])
                             for d in crawled]), capture_output=True, text=True, cwd=workdir, timeout=600,
                             env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)})

    assert process.returncode == 0, process.stderr
    explained = json.loads(process.stdout)
    assert len(explained) == len(crawled) > 100
    for crawl_record, explain_record in zip(crawled, explained, strict=True):
        for name in COMPARED:
            assert explain_record[name] == crawl_record[name], (crawl_record["url"], name)
        assert _codes(explain_record) == _codes(crawl_record), crawl_record["url"]


class _CountingHandler(BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        _CountingHandler.requests.append(self.path)
        body = images.landscape(1)
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_explain_never_fetches_a_loopback_address(tmp_path: Path) -> None:
    server = HTTPServer(("127.0.0.1", 0), _CountingHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/photo.jpg"
    try:
        process = run_faircrawl("policy", "explain", "--json", url, cwd=tmp_path)
    finally:
        server.shutdown()
        server.server_close()

    assert process.returncode == 0, process.stderr
    record = json.loads(process.stdout)
    assert record["outcome"] == "refused" and record["reasons"][-1]["code"] == "host.private"
    assert _CountingHandler.requests == [], "not even robots.txt was fetched"
    assert sorted(tmp_path.iterdir()) == [], "explain stores nothing"


def test_explain_does_not_follow_robots_redirects_to_loopback(tmp_path: Path) -> None:
    process = run_faircrawl("policy", "explain", "--testsites", "--json", "http://sneaky.example.com/img/a.jpg",
                            cwd=tmp_path)

    assert process.returncode == 0, process.stderr
    record = json.loads(process.stdout)
    assert record["outcome"] == "refused"
    robots = next(r for r in record["reasons"] if r["code"] == "robots.unreachable")
    assert "127.0.0.1 is a loopback address" in robots["detail"]


def test_explaining_an_image_whose_page_is_refused_says_it_is_never_requested(tmp_path: Path) -> None:
    process = run_faircrawl("policy", "explain", "--testsites", "http://noscrape.example.com/img/a.jpg",
                            "--page-url", "http://noscrape.example.com/", cwd=tmp_path)

    assert process.returncode == 0, process.stderr
    assert "is never requested: its page http://noscrape.example.com/ is refused" in process.stdout
    assert "terms-forbid-scraping" in process.stdout
