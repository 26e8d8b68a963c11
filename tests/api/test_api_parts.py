"""The API's small parts on their own: the rate limit's window (with a clock the test turns), the streaming
per-file cut-off, image sniffing, the operator token's file, and requester tokens kept as digests."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from crawler.api.auth import operator_token
from crawler.api.ratelimit import RateLimiter
from crawler.api.uploads import PartSizes, _boundary, sniffed
from policy.errors import ConfigError
from storage.access_tokens import TokenSubject, digest, issue, opens
from storage.database import Database
from tests.leaks import sqlite_dump


def test_the_rate_limit_is_a_sliding_window_per_client() -> None:
    now = [1000.0]
    limiter = RateLimiter(2, 60, clock=lambda: now[0])

    assert [limiter.check("a"), limiter.check("a")] == [None, None]
    assert limiter.check("a") == 60 and limiter.check("b") is None, "another client has its own count"
    now[0] += 30
    assert limiter.check("a") == 30, "the oldest filing frees its place 60 s after it was made"
    now[0] += 30.5
    assert limiter.check("a") is None


def test_one_part_over_its_limit_is_found_across_chunk_edges() -> None:
    boundary = _boundary(b'multipart/form-data; boundary="xyz"')
    assert boundary == b"xyz" and _boundary(b"application/json") is None
    parts = PartSizes(boundary, limit=30)
    assert not parts.too_large(b"--xyz\r\nheaders\r\n\r\n12345")  # 18 bytes of the first part
    assert not parts.too_large(b"\r\n--x")  # the next delimiter split over two chunks: 23 so far
    assert not parts.too_large(b"yz\r\n" + b"a" * 9), "a new part began: 11 bytes"
    assert parts.too_large(b"b" * 20), "the second part passed 30 bytes"


@pytest.mark.parametrize(("content", "accepted"), [
    (b"\xff\xd8\xff\xe0rest", True), (b"\x89PNG\r\n\x1a\nrest", True), (b"RIFF\0\0\0\0WEBPVP8 ", True),
    (b"GIF89a", False), (b"<html>", False), (b"", False), (b"RIFF\0\0\0\0WAVE", False)])
def test_only_jpeg_png_and_webp_pass_the_sniff(content: bytes, accepted: bool) -> None:
    assert sniffed(content) is accepted


def test_the_operator_token_file_is_made_private_and_refused_when_others_can_read_it(tmp_path: Path) -> None:
    made = operator_token(tmp_path / "var" / "api-token", environ={})
    assert made.created and stat.S_IMODE((tmp_path / "var" / "api-token").stat().st_mode) == 0o600
    assert operator_token(tmp_path / "var" / "api-token", environ={}).value == made.value
    assert operator_token(tmp_path / "none", environ={"FAIRCRAWL_API_TOKEN": "t" * 30}).source == "FAIRCRAWL_API_TOKEN"
    with pytest.raises(ConfigError, match="at least 24"):
        operator_token(tmp_path / "none", environ={"FAIRCRAWL_API_TOKEN": "short"})
    (tmp_path / "var" / "api-token").chmod(0o640)
    with pytest.raises(ConfigError, match="chmod 600"):
        operator_token(tmp_path / "var" / "api-token", environ={})


def test_a_requester_token_is_kept_only_as_its_digest_and_opens_only_its_subject(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path}/faircrawl.db")
    database.upgrade()
    try:
        token = issue(database, TokenSubject.REQUEST, "a" * 32)
        other = issue(database, TokenSubject.REQUEST, "b" * 32)

        assert len(token) >= 43 and token != other
        assert opens(database, TokenSubject.REQUEST, "a" * 32, token)
        assert not opens(database, TokenSubject.REQUEST, "a" * 32, other), "another requester's token"
        assert not opens(database, TokenSubject.OPTOUT, "a" * 32, token), "a request's token opens no opt-out"
        assert not opens(database, TokenSubject.REQUEST, "c" * 32, token) and not opens(
            database, TokenSubject.REQUEST, "a" * 32, None) and not opens(database, TokenSubject.REQUEST, "a" * 32, "")
        dump = sqlite_dump(tmp_path / "faircrawl.db")
        assert token not in dump and digest(token) in dump
    finally:
        database.dispose()
