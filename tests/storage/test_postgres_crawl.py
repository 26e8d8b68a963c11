"""The PostgreSQL path: the same crawl, the same outcomes, rows in PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, func, select

from crawler.testsites import build_catalog
from storage.models import CrawlRun, DecisionRecord, ImageRecord
from tests.conftest import PROJECT_ROOT, run_faircrawl

SITES = ["http://portraits.example.fr/", "http://news.example.com/", "http://broken.example.com/"]


@pytest.mark.postgres
def test_crawl_into_postgresql_matches_the_manifests(postgres_url: str, tmp_path: Path) -> None:
    # this checkout's code (a fresh folder as cwd would import the installed one), its own key and opt-out list
    env = {"PYTHONPATH": str(PROJECT_ROOT), "FAIRCRAWL_KEY": Fernet.generate_key().decode(),
           "FAIRCRAWL_SUPPRESSION_DB": f"sqlite:///{tmp_path}/suppression.db"}
    report_path = tmp_path / "report.json"
    process = run_faircrawl("crawl", "--testsites", *SITES, "--db", postgres_url, "--store", str(tmp_path / "images"),
                            "--report", str(report_path), cwd=tmp_path, env=env)
    assert process.returncode == 0, f"crawl failed:\n{process.stdout}\n{process.stderr}"
    decisions = json.loads(report_path.read_text())["decisions"]
    catalog = build_catalog()
    hosts = {"portraits.example.fr", "news.example.com", "broken.example.com", "cdn.example.net", "static.example.org"}
    expected = [e for host in hosts for e in catalog.sites[host].expected]
    for item in expected:
        (decision,) = [d for d in decisions if d["url"] == item.url and d["kind"] == item.kind]
        assert decision["outcome"] == item.outcome, (item, decision["reasons"])
        assert item.reason in [r["code"] for r in decision["reasons"]]
    engine = create_engine(postgres_url)
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(DecisionRecord)) == len(expected)
        assert connection.scalar(select(func.count()).select_from(ImageRecord)) == sum(
            e.outcome == "stored" for e in expected)
        assert connection.scalar(select(CrawlRun.status)) == "finished"
    engine.dispose()
    shown = run_faircrawl("report", "--db", postgres_url, env=env)
    assert shown.returncode == 0 and "crawl run" in shown.stdout
