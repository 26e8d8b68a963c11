"""Shared fixtures: run the real `faircrawl` command, find the real databases."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def run_faircrawl(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
                  timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run `faircrawl ARGS` in a fresh process, as a user would."""
    full_env = {**os.environ, "FAIRCRAWL_PROGRESS_INTERVAL": "0", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "crawler.cli", *args], cwd=cwd or PROJECT_ROOT, env=full_env,
        capture_output=True, text=True, timeout=timeout,
    )


@dataclass
class CrawlResult:
    process: subprocess.CompletedProcess[str]
    report: dict[str, Any]
    db_url: str
    store: Path

    def decision(self, url: str, kind: str) -> dict[str, Any]:
        matches = [d for d in self.report["decisions"] if d["url"] == url and d["kind"] == kind]
        assert len(matches) == 1, f"expected one {kind} decision for {url}, found {len(matches)}"
        return matches[0]


def crawl(workdir: Path, db_url: str, *args: str) -> CrawlResult:
    store = workdir / "images"
    report_path = workdir / f"report-{uuid.uuid4().hex[:6]}.json"
    process = run_faircrawl("crawl", *args, "--db", db_url, "--store", str(store),
                            "--report", str(report_path), cwd=workdir)
    assert process.returncode == 0, f"crawl failed:\n{process.stdout}\n{process.stderr}"
    return CrawlResult(process, json.loads(report_path.read_text()), db_url, store)


@dataclass
class Served:
    """A `faircrawl testsites serve` process's address and access log (when each request arrived, at the site)."""

    url: str
    access_log: Path

    def requests(self) -> list[tuple[float, str, str]]:
        lines = self.access_log.read_text().splitlines() if self.access_log.exists() else []
        return [(float(at), host, path) for at, host, path in (line.split(" ", 2) for line in lines)]


def serve_testsites(workdir: Path) -> tuple[Served, subprocess.Popen[str]]:
    """Start the catalog's server on a free port (it names the port on its first line), logging every request."""
    log = workdir / f"access-{uuid.uuid4().hex[:6]}.log"
    server = subprocess.Popen([sys.executable, "-m", "crawler.cli", "testsites", "serve", "--port", "0",
                               "--access-log", str(log)], cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    first = server.stdout.readline()
    url = next(word for word in first.split() if word.startswith("http://"))
    return Served(url, log), server


def stop_testsites(server: subprocess.Popen[str]) -> None:
    server.terminate()
    server.wait()
    if server.stdout is not None:
        server.stdout.close()


@pytest.fixture(scope="session")
def catalog_crawl(tmp_path_factory: pytest.TempPathFactory) -> CrawlResult:
    """One real crawl of the whole test-site catalog into a fresh SQLite database."""
    workdir = tmp_path_factory.mktemp("catalog-crawl")
    return crawl(workdir, f"sqlite:///{workdir}/faircrawl.db", "--testsites")


@pytest.fixture(scope="session")
def unlawful_crawl(tmp_path_factory: pytest.TempPathFactory) -> CrawlResult:
    """The same catalog crawled under the unlawful-demo pack."""
    workdir = tmp_path_factory.mktemp("unlawful-crawl")
    return crawl(workdir, f"sqlite:///{workdir}/faircrawl.db", "--testsites", "--policy", "unlawful-demo")


def _postgres_url() -> str:
    return os.environ.get("FAIRCRAWL_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


@contextlib.contextmanager
def postgres_schema() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards (for fixtures of any scope).

    In CI (CI=true) a missing server fails the test; elsewhere it skips and says how to run it.
    """
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    base = _postgres_url()
    try:
        engine = create_engine(base)
        with engine.connect() as connection:
            connection.execute(text("select 1"))
    except (OperationalError, ImportError) as error:
        message = f"PostgreSQL not reachable at {base} ({type(error).__name__})"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message}: CI must run the PostgreSQL tests")
        pytest.skip(f"{message}; start it on 127.0.0.1:5432 with a database 'test', or set "
                    "FAIRCRAWL_TEST_POSTGRES_URL; CI (CI=true) always runs these")
    schema = f"faircrawl_test_{uuid.uuid4().hex[:10]}"
    with engine.begin() as connection:
        connection.execute(text(f'create schema "{schema}"'))
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as connection:
            connection.execute(text(f'drop schema "{schema}" cascade'))
        engine.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL schema for one test (see postgres_schema)."""
    with postgres_schema() as url:
        yield url


#: Debian's Chromium, which set-up installs (apt-get, as root); the browser tests drive it with Playwright.
CHROMIUM = Path(os.environ.get("FAIRCRAWL_CHROMIUM", "/usr/bin/chromium"))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium per test module; a missing browser fails in CI and skips elsewhere, saying how to install it."""
    if not CHROMIUM.exists():
        message = f"Chromium is not installed at {CHROMIUM}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message}: CI must run the browser tests (./dev.sh installs it with apt-get as root)")
        pytest.skip(f"{message}; install it with `apt-get install chromium` (./dev.sh setup does when run as root), "
                    "then run these tests again; CI (CI=true) always runs them")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield launched
        launched.close()
