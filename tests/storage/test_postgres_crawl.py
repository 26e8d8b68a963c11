"""The PostgreSQL path: the same crawl, the same outcomes, rows in PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from crawler.testsites import build_catalog
from storage.models import CrawlRun, DecisionRecord, ImageRecord
from tests.conftest import crawl, run_faircrawl

SITES = ["http://portraits.example.fr/", "http://news.example.com/", "http://broken.example.com/"]


@pytest.mark.postgres
def test_crawl_into_postgresql_matches_the_manifests(postgres_url: str, tmp_path: Path) -> None:
    result = crawl(tmp_path, postgres_url, "--testsites", *SITES)
    catalog = build_catalog()
    hosts = {"portraits.example.fr", "news.example.com", "broken.example.com", "cdn.example.net", "static.example.org"}
    expected = [e for host in hosts for e in catalog.sites[host].expected]
    for item in expected:
        decision = result.decision(item.url, item.kind)
        assert decision["outcome"] == item.outcome, (item, decision["reasons"])
        assert item.reason in [r["code"] for r in decision["reasons"]]
    engine = create_engine(postgres_url)
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(DecisionRecord)) == len(expected)
        assert connection.scalar(select(func.count()).select_from(ImageRecord)) == sum(
            e.outcome == "stored" for e in expected)
        assert connection.scalar(select(CrawlRun.status)) == "finished"
    engine.dispose()
    shown = run_faircrawl("report", "--db", postgres_url)
    assert shown.returncode == 0 and "crawl run" in shown.stdout
