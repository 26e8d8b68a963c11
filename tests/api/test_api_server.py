"""The HTTP API through a real `faircrawl serve` on 127.0.0.1 (httpx against uvicorn), over a real crawl.

Every endpoint, every kind of bad input and every auth path; what a requester sees is theirs alone.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import select
import socket
import sqlite3
import stat
import struct
import subprocess
import sys
import threading
import time
import zipfile
import zlib
from pathlib import Path
from typing import Any

import httpx
import pytest

from crawler.testsites.photos import face_photo
from storage.rights.receipts import verify
from tests.api.conftest import (
    BIDEN_ALONE,
    OBAMA,
    OPERATOR_TOKEN,
    PROBE,
    SITES,
    Server,
    bearer,
    copy_world,
    query,
)
from tests.conftest import crawl, run_faircrawl
from tests.leaks import assert_no_biometric_data, needles

OPERATOR = bearer(OPERATOR_TOKEN)


def error_of(response: httpx.Response, status: int) -> str:
    """The response is the JSON error shape with ``status``, and no stack; returns its message."""
    assert response.status_code == status, (response.status_code, response.text[:500])
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    assert "Traceback" not in response.text and 'File "' not in response.text
    return str(body["error"]["message"])


def filed(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 202, response.text
    answer: dict[str, Any] = response.json()
    assert set(answer) == {"id", "token", "kind", "status", "due"} and answer["status"] == "received"
    assert len(answer["token"]) >= 43, "at least 128 bits (here 256) of randomness"
    return answer


def requests_stored(server: Server) -> int:
    return int(query(server.world, "select count(*) from rights_requests")[0][0])


# -- the service ---------------------------------------------------------------------------------------------------


def test_health_openapi_and_the_docs_work_offline(shared_server: Server) -> None:
    http = shared_server.http

    assert http.get("/api/health").json() == {"status": "ok", "database": "reachable", "worker": "running"}
    spec = http.get("/openapi.json").json()
    assert {"/api/requests", "/api/requests/{request_id}", "/api/requests/{request_id}/receipt",
            "/api/requests/{request_id}/export", "/api/optouts", "/api/optouts/{optout_id}", "/api/audit/verify",
            "/api/health", "/api/receipts/public-key"} <= set(spec["paths"])
    docs = http.get("/docs").text
    assert "/docs-assets/swagger-ui-bundle.js" in docs and "http://" not in docs and "https://" not in docs
    for asset in ("/docs-assets/swagger-ui-bundle.js", "/docs-assets/swagger-ui.css"):
        assert http.get(asset).status_code == 200
    page = http.get("/")
    assert page.status_code == 200 and "default-src 'none'" in page.headers["content-security-policy"]
    for external in ('src="http', "src='http", 'href="http', "url(http", "//cdn"):
        assert external not in page.text, "no external assets"
    assert error_of(http.get("/api/nothing-here"), 404).startswith("no such endpoint")


# -- access, through every requester endpoint ----------------------------------------------------------------------


def test_an_access_request_shows_exactly_his_images_their_files_the_archive_and_a_signed_receipt(
        shared_server: Server) -> None:
    http = shared_server.http
    request = filed(shared_server.file("access", photos=[shared_server.world / "probe.jpg"], jurisdiction="FR"))
    token = bearer(request["token"])

    status = shared_server.wait(request["id"], request["token"])

    assert status["status"] == "completed" and status["jurisdiction"] == "FR" and status["due"] == request["due"]
    assert status["progress"]["step"] == status["progress"]["of"] == 4
    assert status["progress"]["checkpoints"] == ["received", "identified", "compiled", "completed"]
    images = status["access"]["images"]
    assert {i["url"] for i in images} == OBAMA, "exactly his images: the group photo too, Biden alone not"
    assert "archive" not in status["access"], "no server path"
    for image in images:
        content = http.get(image["image_url"], headers=token)
        assert content.status_code == 200 and hashlib.sha256(content.content).hexdigest() == image["sha256"]
    biden = query(shared_server.world, "select sha256 from images where url = ?", *BIDEN_ALONE)[0][0]
    error_of(http.get(f"/api/requests/{request['id']}/images/{biden}", headers=token), 404)
    archive = http.get(status["access"]["archive_url"], headers=token)
    assert archive.status_code == 200 and archive.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(archive.content)) as opened:
        assert "answer.json" in opened.namelist()
        assert {Path(n).stem for n in opened.namelist() if n.startswith("images/")} == {i["sha256"] for i in images}
    signed = http.get(f"/api/requests/{request['id']}/receipt", headers=token).json()
    key = http.get("/api/receipts/public-key").json()
    assert key["algorithm"] == "Ed25519" and key["public_key"] == signed["public_key"]
    assert signed["verified"] and verify(signed["receipt"], signed["signature"], key["public_key"])
    assert signed["receipt"]["answer"]["images"] == len(OBAMA)
    text = http.get(f"/api/requests/{request['id']}/receipt", params={"format": "text"}, headers=token)
    assert text.headers["content-type"].startswith("text/plain") and f"access request {request['id']}" in text.text


def test_a_receipt_or_archive_before_completion_is_409_and_a_deletion_has_no_archive(shared_server: Server) -> None:
    http = shared_server.http
    slow = filed(shared_server.file("access", photos=[shared_server.world / "probe.jpg"]))
    token = bearer(slow["token"])
    early = http.get(f"/api/requests/{slow['id']}/receipt", headers=token)
    if early.status_code != 200:  # it may have finished already on a fast machine
        assert "not completed" in error_of(early, 409)
    shared_server.wait(slow["id"], slow["token"])
    unmatched = filed(shared_server.file("deletion", urls=["http://nowhere.example.org/none.jpg"]))
    done = shared_server.wait(unmatched["id"], unmatched["token"])
    assert done["status"] == "completed" and {t["store"]: t["removed"] for t in done["tasks"]}["images"] == 0
    assert "access request" in error_of(
        http.get(f"/api/requests/{unmatched['id']}/export", headers=bearer(unmatched["token"])), 409)


# -- who sees what -------------------------------------------------------------------------------------------------


def test_a_request_opens_only_with_its_own_token_and_nothing_confirms_that_it_exists(shared_server: Server) -> None:
    http = shared_server.http
    mine = filed(shared_server.file("access", urls=sorted(BIDEN_ALONE)))
    theirs = filed(shared_server.file("access", urls=["http://twins.example.com/img/full.jpg"]))
    shared_server.wait(mine["id"], mine["token"])
    shared_server.wait(theirs["id"], theirs["token"])
    unknown = "0" * 32

    answers = {}
    for name, request_id, headers in (
            ("missing", mine["id"], {}), ("wrong", mine["id"], bearer("x" * 43)),
            ("another requester's", mine["id"], bearer(theirs["token"])), ("operator's", mine["id"], OPERATOR),
            ("not bearer", mine["id"], {"Authorization": f"Basic {mine['token']}"}),
            ("unknown id", unknown, bearer(mine["token"]))):
        for path in ("", "/receipt", "/export", "/receipt?format=text"):
            response = http.get(f"/api/requests/{request_id}{path}", headers=headers)
            answers[name, path] = error_of(response, 404)
    assert len(set(answers.values())) == 1, "the same answer whether or not the id exists"
    assert http.get(f"/api/requests/{mine['id']}", headers=bearer(mine["token"])).status_code == 200

    for headers in ({}, bearer(mine["token"]), bearer(OPERATOR_TOKEN[:-1]), bearer(OPERATOR_TOKEN + "x")):
        for path in ("/api/requests", "/api/requests?overdue=true", "/api/audit/verify"):
            response = http.get(path, headers=headers)
            assert "operator" in error_of(response, 401) and response.headers["www-authenticate"].startswith("Bearer")
    listed = http.get("/api/requests", headers=OPERATOR)
    assert listed.status_code == 200 and {mine["id"], theirs["id"]} <= {r["id"] for r in listed.json()}
    assert not any(u in listed.text for u in [*BIDEN_ALONE, "twins.example.com"]), "the list names nobody"
    assert http.get("/api/requests", params={"overdue": "true"}, headers=OPERATOR).json() == []
    access_only = http.get("/api/requests", params={"kind": "deletion"}, headers=OPERATOR).json()
    assert all(r["kind"] == "deletion" for r in access_only)
    assert error_of(http.get("/api/requests", params={"status": "nonsense"}, headers=OPERATOR), 422)
    check = http.get("/api/audit/verify", headers=OPERATOR).json()
    assert check["intact"] is True and check["entries"] > 5
    tokens = "\n".join(str(r) for r in query(shared_server.world, "select * from access_tokens"))
    assert mine["token"] not in tokens and hashlib.sha256(mine["token"].encode()).hexdigest() in tokens, \
        "tokens are stored only as digests"


# -- bad input -----------------------------------------------------------------------------------------------------


def png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` (a decompression bomb's first bytes) and one tiny chunk."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def bad_files(world_template: Path) -> dict[str, bytes]:
    from crawler.testsites.images import landscape
    from crawler.testsites.sites_rights import group_photo

    probe = face_photo(PROBE)
    return {"empty": b"", "truncated": probe[: len(probe) // 3], "html": b"<!doctype html><html><body>hi</body></html>",
            "bomb": png_header(40_000, 40_000), "gif": b"GIF89a" + b"\0" * 100, "no face": landscape(1),
            "two faces": group_photo()()}


@pytest.mark.parametrize(("name", "status", "fragment"), [
    ("empty", 400, "is empty (0 bytes)"),
    ("truncated", 422, "cannot be decoded"),
    ("html", 415, "is an HTML page"),
    ("gif", 415, "JPEG, PNG or WebP"),
    ("bomb", 413, "too many pixels"),
    ("no face", 422, "exactly one face; found 0"),
    ("two faces", 422, "exactly one face; found 2"),
])
def test_a_bad_photo_is_refused_with_a_clear_error_and_nothing_is_stored(
        shared_server: Server, bad_files: dict[str, bytes], name: str, status: int, fragment: str) -> None:
    before = requests_stored(shared_server)

    response = shared_server.http.post("/api/requests", data={"kind": "deletion"},
                                       files=[("photo", ("me.jpg", bad_files[name], "image/jpeg"))])

    assert fragment in error_of(response, status)
    assert requests_stored(shared_server) == before


@pytest.mark.parametrize(("data", "status", "fragment"), [
    ({"kind": "deletion"}, 400, "at least one photo, url or page_url"),
    ({"kind": "erase-me"}, 422, "kind"),
    ({}, 422, "kind"),
    ({"kind": "deletion", "url": "ftp://x/y.jpg"}, 400, "URL 'ftp://x/y.jpg'"),
    ({"kind": "access", "url": "http://a/b.jpg", "jurisdiction": "XX-YY-ZZ"}, 400, "unknown jurisdiction"),
    ({"kind": "access", "url": "http://a/b.jpg", "optout": "true"}, 400, "goes with a deletion"),
    ({"kind": "access", "url": "http://a/b.jpg", "optout": "maybe"}, 422, "optout"),
])
def test_a_bad_request_is_a_clear_error_and_stores_nothing(shared_server: Server, data: dict[str, str], status: int,
                                                           fragment: str) -> None:
    before = requests_stored(shared_server)

    response = shared_server.http.post("/api/requests", data=data, files=[("unused", ("x", b"", "text/plain"))])

    assert fragment in error_of(response, status)
    assert requests_stored(shared_server) == before


def test_uploads_are_limited_before_they_are_read_whole(shared_server: Server) -> None:
    http = shared_server.http
    probe = (shared_server.world / "probe.jpg").read_bytes()
    six = [("photo", (f"p{i}.jpg", probe, "image/jpeg")) for i in range(6)]
    assert "too many files" in error_of(http.post("/api/requests", data={"kind": "access"}, files=six), 413)
    eleven_mib = probe + b"\0" * (11 * 1024 * 1024)
    assert "10.0 MiB" in error_of(http.post("/api/requests", data={"kind": "access"},
                                            files=[("photo", ("big.jpg", eleven_mib, "image/jpeg"))]), 413)

    host, port = shared_server.address.removeprefix("http://").split(":")
    head = b"POST /api/requests HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
    # 60 MiB announced, more than five files can hold: the answer comes before any of the body is sent
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(head + f"Content-Length: {60 * 1024 * 1024}\r\n\r\n".encode() + b"--b\r\n")
        answer = read_all(connection)
    assert answer.startswith("HTTP/1.1 413") and "too_large" in answer, answer

    # one 50 MiB file: cut off as it streams, once it passes the per-file limit
    part = b'--b\r\nContent-Disposition: form-data; name="photo"; filename="x.jpg"\r\n\r\n'
    sent, answer = 0, ""
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(head + f"Content-Length: {50 * 1024 * 1024 + len(part)}\r\n\r\n".encode() + part)
        try:
            while sent < 50 * 1024 * 1024 and not select.select([connection], [], [], 0.05)[0]:
                connection.sendall(b"\0" * (1024 * 1024))
                sent += 1024 * 1024
            answer = read_all(connection)
        except OSError:
            pass  # the server closed the connection on the rest of the body
    assert sent < 30 * 1024 * 1024, "refused long before the whole file was sent"
    deadline = time.monotonic() + 5
    while '"POST /api/requests HTTP/1.1" 413' not in shared_server.output() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert answer.startswith("HTTP/1.1 413") or '"POST /api/requests HTTP/1.1" 413' in shared_server.output()
    assert http.get("/api/health").status_code == 200


def read_all(connection: socket.socket) -> str:
    """Everything the server sends until it closes the connection (or goes quiet for two seconds)."""
    chunks = []
    connection.settimeout(2)
    try:
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    except TimeoutError:
        pass
    return b"".join(chunks).decode("latin-1")


def test_filing_is_rate_limited_per_client_with_retry_after(world_template: Path, tmp_path: Path) -> None:
    server = Server(copy_world(world_template, tmp_path / "world"),
                    env={"FAIRCRAWL_API_RATE_LIMIT": "3", "FAIRCRAWL_API_RATE_WINDOW": "600"}).start()
    try:
        answers = [server.http.post("/api/requests", data={"kind": "deletion"}) for _ in range(3)]
        assert [a.status_code for a in answers] == [400, 400, 400], "bad filings count too"
        limited = server.http.post("/api/requests", data={"kind": "access", "url": "http://a/b.jpg"})
        assert "try again in" in error_of(limited, 429)
        assert 500 <= int(limited.headers["retry-after"]) <= 600
        assert server.http.post("/api/optouts", data={"url": "http://a/b.jpg"}).status_code == 429
        assert server.http.get("/api/health").status_code == 200, "reading is not limited"
    finally:
        server.stop()


# -- opt-outs ------------------------------------------------------------------------------------------------------


def test_an_optout_is_added_and_withdrawn_only_with_its_token(shared_server: Server, bad_files: dict[str, bytes]) -> None:
    http = shared_server.http
    probe = (shared_server.world / "biden-probe.jpg").read_bytes()
    added = http.post("/api/optouts", data={"label": "me"}, files=[("photo", ("me.jpg", probe, "image/jpeg"))])
    assert added.status_code == 201, added.text
    entry = added.json()
    assert entry["kind"] == "face" and entry["items"] == 1 and len(entry["token"]) >= 43
    by_url = http.post("/api/optouts", data={"url": ["http://open.example.com/img/biden.jpg"]}).json()
    by_image = http.post("/api/optouts", files=[("image", ("v.png", bad_files["no face"], "image/jpeg"))]).json()
    assert (by_url["kind"], by_image["kind"]) == ("url", "image")
    assert "one kind per opt-out" in error_of(
        http.post("/api/optouts", data={"url": "http://a/b.jpg"}, files=[("photo", ("me.jpg", probe, "image/jpeg"))]),
        400)
    assert "exactly one face" in error_of(
        http.post("/api/optouts", files=[("photo", ("two.jpg", bad_files["two faces"], "image/jpeg"))]), 422)
    suppression = shared_server.world / "var" / "suppression.db"
    assert suppression_rows(suppression, entry["id"]) == (1, None), "one template, not withdrawn"

    for headers in ({}, bearer(by_url["token"]), OPERATOR):
        error_of(http.delete(f"/api/optouts/{entry['id']}", headers=headers), 404)
    withdrawn = http.delete(f"/api/optouts/{entry['id']}", headers=bearer(entry["token"]))

    assert withdrawn.status_code == 200 and withdrawn.json()["withdrawn"] is True
    assert withdrawn.json()["deleted"]["optout_templates"] == 1
    error_of(http.delete(f"/api/optouts/{entry['id']}", headers=bearer(entry["token"])), 404)
    templates, withdrawn_at = suppression_rows(suppression, entry["id"])
    assert templates == 0 and withdrawn_at is not None, "its template deleted, a tombstone kept"
    actions = [row[0] for row in query(shared_server.world, "select action from audit_log")]
    assert "optout.added" in actions and "optout.withdrawn" in actions


def suppression_rows(path: Path, entry: str) -> tuple[int, Any]:
    with sqlite3.connect(path) as connection:
        templates = connection.execute("select count(*) from optout_templates where optout_id = ?", (entry,)).fetchone()
        withdrawn = connection.execute("select withdrawn_at from optouts where id = ?", (entry,)).fetchone()
    return int(templates[0]), withdrawn[0]


# -- deletion ------------------------------------------------------------------------------------------------------


def test_a_deletion_through_the_api_removes_him_everywhere_and_the_logs_hold_nothing_of_him(
        fresh_server: Server) -> None:
    world, http = fresh_server.world, fresh_server.http
    obama_sha = {row[0] for row in query(world, "select sha256 from images where url in (?, ?, ?, ?, ?)", *sorted(OBAMA))}
    marks = ",".join("?" * len(obama_sha))
    before = filed(fresh_server.file("access", photos=[world / "probe.jpg"]))
    fresh_server.wait(before["id"], before["token"])

    request = filed(fresh_server.file("deletion", photos=[world / "probe.jpg"], jurisdiction="US-CA", optout="true"))
    status = fresh_server.wait(request["id"], request["token"])

    assert status["status"] == "completed" and status["verification"]["passed"] is True, status["failure"]
    assert status["progress"]["checkpoints"] == ["received", "identified", "deleted", "verified", "completed"]
    stores = {t["store"]: t for t in status["tasks"]}
    assert stores["images"]["removed"] == len(OBAMA) and set(stores["image_files"]["items"]) == obama_sha
    assert stores["access_answers"]["items"] == [before["id"]]
    assert stores["caches"]["status"] == "completed" and stores["caches"]["removed"] >= 2, \
        "the server's in-memory template index (loaded by the access request) dropped his templates"
    assert query(world, f"select count(*) from images where sha256 in ({marks})", *sorted(obama_sha)) == [(0,)]
    assert not {p.stem for p in (world / "images").rglob("*.*")} & obama_sha, "no file of his remains"
    assert query(world, "select count(*) from rights_probes") == [(0,)]
    assert query(world, "select count(*) from images where url = ?", *BIDEN_ALONE) == [(1,)], "nobody else's"
    signed = http.get(f"/api/requests/{request['id']}/receipt", headers=bearer(request["token"])).json()
    assert signed["verified"] and signed["receipt"]["verification"]["passed"]
    assert "archive" in error_of(http.get(f"/api/requests/{before['id']}/export", headers=bearer(before["token"])), 410)
    assert http.get("/api/audit/verify", headers=OPERATOR).json()["intact"] is True
    fresh_server.stop()
    from faces.encode import analyse_faces

    probe_encoding = analyse_faces(face_photo(PROBE)).encodings
    assert_no_biometric_data("the server's output", fresh_server.output(),
                             needles(encodings=probe_encoding, probes=[face_photo(PROBE)]))
    assert not any(u in fresh_server.output() for u in OBAMA)


def test_a_request_interrupted_by_a_server_restart_resumes_when_it_starts_again(world_template: Path,
                                                                              tmp_path: Path) -> None:
    world = copy_world(world_template, tmp_path / "world")
    crashing = Server(world, env={"FAIRCRAWL_RIGHTS_CRASH_AFTER": "identified"}).start()
    request = filed(crashing.file("deletion", photos=[world / "probe.jpg"]))
    assert crashing.process is not None and crashing.process.wait(timeout=60) == -9, "killed right after identified"
    crashing.stop()
    assert query(world, "select status from rights_requests where id = ?", request["id"]) == [("identified",)]

    again = Server(world).start()
    try:
        status = again.wait(request["id"], request["token"])
        assert status["status"] == "completed" and status["verification"]["passed"], status["failure"]
        assert "resuming 1 unfinished rights request(s)" in again.output()
    finally:
        again.stop()


def test_concurrent_requests_while_a_crawl_writes_to_the_same_database(fresh_server: Server) -> None:
    world = fresh_server.world
    crawl_process = subprocess.Popen(
        [sys.executable, "-m", "crawler.cli", "crawl", "--testsites", "http://slowfaces.example.com/"],
        cwd=world, env=fresh_server.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    answers: list[httpx.Response] = []

    def file_one(kind: str, urls: list[str]) -> None:
        with httpx.Client(base_url=fresh_server.address, timeout=60) as client:
            answers.append(client.post("/api/requests", data={"kind": kind, "url": urls}))

    try:
        threads = [threading.Thread(target=file_one, args=("access", [url])) for url in sorted(OBAMA)[:3]]
        threads.append(threading.Thread(target=file_one, args=("access", sorted(BIDEN_ALONE))))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        statuses = [fresh_server.wait(a.json()["id"], a.json()["token"], timeout=180) for a in map(_accepted, answers)]
        assert crawl_process.wait(timeout=180) == 0, crawl_process.stderr.read() if crawl_process.stderr else ""
    finally:
        if crawl_process.poll() is None:
            crawl_process.kill()
        crawl_process.wait()  # reaped here: a Popen left running warns later, inside another test
        if crawl_process.stderr:
            crawl_process.stderr.close()
    assert [s["status"] for s in statuses] == ["completed"] * 4
    assert all(s["access"]["images"] for s in statuses)
    stored = query(world, "select count(*) from images where url like 'http://slowfaces.example.com/%'")[0][0]
    assert stored > 0, "the crawl stored its images meanwhile"
    assert fresh_server.http.get("/api/health").json()["status"] == "ok"


def _accepted(response: httpx.Response) -> httpx.Response:
    assert response.status_code == 202, response.text
    return response


# -- the same settings as every other command ----------------------------------------------------------------------


def test_serve_reads_the_same_settings_and_environment_as_every_other_command(world_template: Path,
                                                                              tmp_path: Path) -> None:
    world = copy_world(world_template, tmp_path / "world")
    env = {"FAIRCRAWL_DB": f"sqlite:///{world}/faircrawl.db", "FAIRCRAWL_STORE": str(world / "images")}
    for name, value in (("FAIRCRAWL_API_MAX_FILES", "0"), ("FAIRCRAWL_MATCH_THRESHOLD", "nan")):
        refused = run_faircrawl("serve", cwd=world, env={**env, name: value}, timeout=60)
        assert refused.returncode == 2 and refused.stderr.startswith(f"error: {name}="), refused.stderr
        assert "Traceback" not in refused.stderr
    short = run_faircrawl("serve", cwd=world, env={**env, "FAIRCRAWL_API_TOKEN": "short"}, timeout=60)
    assert short.returncode == 2 and "at least 24" in short.stderr

    server = Server(world, operator_token=None, env={"FAIRCRAWL_API_TOKEN_FILE": str(world / "secret" / "op-token")})
    server.start()
    try:
        token_file = world / "secret" / "op-token"
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        assert f"operator token: in {token_file} (made now, mode 0600)" in server.output()
        assert token_file.read_text().strip() not in server.output(), "the token itself is never printed"
        assert server.http.get("/api/requests", headers=bearer(token_file.read_text().strip())).status_code == 200
        request = filed(server.file("access", urls=sorted(BIDEN_ALONE)))
        server.wait(request["id"], request["token"])
    finally:
        server.stop()
    cli = run_faircrawl("rights", "status", request["id"], "--json", cwd=world, env=env)
    assert cli.returncode == 0 and json.loads(cli.stdout)["status"] == "completed", "the CLI sees the same database"
    os.chmod(world / "secret" / "op-token", 0o644)
    exposed = run_faircrawl("serve", cwd=world, env={**env, "FAIRCRAWL_API_TOKEN_FILE": str(token_file)}, timeout=60)
    assert exposed.returncode == 2 and "chmod 600" in exposed.stderr


@pytest.mark.postgres
def test_the_api_on_postgresql(postgres_url: str, tmp_path: Path) -> None:
    result = crawl(tmp_path, postgres_url, "--testsites", "http://open.example.com/", "http://group.example.com/")
    assert {d["url"] for d in result.report["decisions"] if d["outcome"] == "stored"} >= {
        "http://open.example.com/img/obama.jpg", "http://group.example.com/img/group.jpg"}
    (tmp_path / "probe.jpg").write_bytes(face_photo(PROBE))
    server = Server(tmp_path, env={"FAIRCRAWL_DB": postgres_url, "FAIRCRAWL_STORE": str(result.store)}).start()
    try:
        request = filed(server.file("deletion", photos=[tmp_path / "probe.jpg"]))
        status = server.wait(request["id"], request["token"])
        assert status["status"] == "completed" and status["verification"]["passed"], status["failure"]
        assert {t["store"]: t["removed"] for t in status["tasks"]}["images"] == 2
        assert server.http.get("/api/audit/verify", headers=OPERATOR).json()["intact"] is True
        assert server.http.get("/api/health").json()["database"] == "reachable"
    finally:
        server.stop()


assert SITES  # the world's sites, imported so a reader finds them from here
