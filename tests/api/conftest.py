"""A real `faircrawl serve` over a real crawl: the catalog's rights world crawled once, each server on a copy.

The world is the rights tests' (tests/crawler/test_rights.py): four catalog sites crawled under the lawful
pack, Obama stored on three of them and in a group photo with Biden, Biden alone on one; the probe is a photo of
Obama that no site carries.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from crawler.testsites.photos import face_photo
from tests.conftest import PROJECT_ROOT, crawl

SITES = ("http://open.example.com/", "http://releases.example.com/", "http://twins.example.com/",
         "http://group.example.com/")
OBAMA = {"http://open.example.com/img/obama.jpg", "http://releases.example.com/img/person.jpg",
         "http://twins.example.com/img/full.jpg", "http://twins.example.com/img/half.jpg",
         "http://group.example.com/img/group.jpg"}
BIDEN_ALONE = {"http://open.example.com/img/biden.jpg"}
PROBE = "obama2.jpg"
OPERATOR_TOKEN = "operator-token-for-the-tests-0123456789"


@pytest.fixture(scope="session")
def world_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The crawled world, made once for every API test; each server gets its own copy."""
    work = tmp_path_factory.mktemp("api-world")
    result = crawl(work, f"sqlite:///{work}/faircrawl.db", "--testsites", *SITES)
    stored = {d["url"] for d in result.report["decisions"] if d["outcome"] == "stored"}
    assert OBAMA | BIDEN_ALONE <= stored, stored
    (work / "probe.jpg").write_bytes(face_photo(PROBE))
    (work / "biden-probe.jpg").write_bytes(face_photo("biden.jpg"))
    return work


def copy_world(template: Path, target: Path) -> Path:
    shutil.copytree(template, target)
    return target


class Server:
    """`faircrawl serve --port 0` in its own process, in the world's folder, configured by environment as a user
    would; ``client`` talks to it over 127.0.0.1."""

    def __init__(self, world: Path, env: dict[str, str] | None = None, operator_token: str | None = OPERATOR_TOKEN,
                 args: tuple[str, ...] = ()) -> None:
        self.world = world
        self.env = {**os.environ, "FAIRCRAWL_PROGRESS_INTERVAL": "0", "FAIRCRAWL_DB": f"sqlite:///{world}/faircrawl.db",
                    "FAIRCRAWL_STORE": str(world / "images"), "PYTHONPATH": str(PROJECT_ROOT), **(env or {})}
        if operator_token is not None:
            self.env["FAIRCRAWL_API_TOKEN"] = operator_token
        else:
            self.env.pop("FAIRCRAWL_API_TOKEN", None)
        self.args = args
        self.logs: list[str] = []
        self.process: subprocess.Popen[str] | None = None
        self.address = ""
        self.client: httpx.Client | None = None

    def start(self, timeout: float = 60) -> Server:
        number = len(self.logs)
        self.out_path = self.world / f"serve-{number}.out"
        self.err_path = self.world / f"serve-{number}.err"
        self.logs += [str(self.out_path), str(self.err_path)]
        with self.out_path.open("w") as out, self.err_path.open("w") as err:  # the child keeps its own copies
            self.process = subprocess.Popen(
                [sys.executable, "-m", "crawler.cli", "serve", "--port", "0", *self.args], cwd=self.world,
                env=self.env, stdout=out, stderr=err, text=True, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(r"serving at (http://127\.0\.0\.1:\d+)", self.out_path.read_text())
            if found:
                self.address = found.group(1)
                break
            if self.process.poll() is not None:
                raise AssertionError(f"serve exited {self.process.returncode}:\n{self.output()}")
            time.sleep(0.1)
        else:
            raise AssertionError(f"serve did not start:\n{self.output()}")
        self.client = httpx.Client(base_url=self.address, timeout=30)
        while time.monotonic() < deadline:
            try:
                if self.client.get("/api/health").status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"serve never became healthy:\n{self.output()}")

    def output(self) -> str:
        return "\n".join(Path(p).read_text(errors="replace") for p in self.logs if Path(p).exists())

    @property
    def http(self) -> httpx.Client:
        assert self.client is not None
        return self.client

    def stop(self) -> int | None:
        if self.client is not None:
            self.client.close()
            self.client = None
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    # -- helpers a test reads as what a requester does -------------------------------------------------------------

    def file(self, kind: str, photos: list[Path] = (), urls: list[str] = (), page_urls: list[str] = (),  # type: ignore[assignment]
             **fields: str) -> httpx.Response:
        files = [("photo", (p.name, p.read_bytes(), "image/jpeg")) for p in photos]
        data: dict[str, Any] = {"kind": kind, "url": list(urls), "page_url": list(page_urls), **fields}
        return self.http.post("/api/requests", data=data, files=files or None)

    def wait(self, request_id: str, token: str, timeout: float = 120) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            answer = self.http.get(f"/api/requests/{request_id}", headers=bearer(token))
            assert answer.status_code == 200, answer.text
            status: dict[str, Any] = answer.json()
            if status["status"] in ("completed", "refused") or status["status"] == "failed" and not status["progress"]["queued"]:
                return status
            time.sleep(0.3)
        raise AssertionError(f"request {request_id} did not finish:\n{self.output()[-3000:]}")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def query(world: Path, sql: str, *parameters: object) -> list[tuple[Any, ...]]:
    with sqlite3.connect(world / "faircrawl.db") as connection:
        return connection.execute(sql, parameters).fetchall()


@pytest.fixture(scope="module")
def shared_server(world_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the tests that change nobody's data (access requests, bad input, auth)."""
    world = copy_world(world_template, tmp_path_factory.mktemp("shared") / "world")
    server = Server(world, env={"FAIRCRAWL_API_RATE_LIMIT": "1000"}).start()
    yield server
    server.stop()


@pytest.fixture
def fresh_server(world_template: Path, tmp_path: Path) -> Iterator[Server]:
    """A server on a world of its own, for a test that deletes."""
    server = Server(copy_world(world_template, tmp_path / "world")).start()
    yield server
    server.stop()
