"""Bearer tokens that open one rights request or one opt-out to the person who filed it, kept only as digests.

A token is 256 random bits (``secrets.token_urlsafe(32)``), shown once and never stored: the database keeps its
SHA-256. Checking compares digests in constant time (``hmac.compare_digest``), and an unknown subject and a wrong
token look the same to the caller (both ``False``), so an answer never confirms that a request exists.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import select

from storage.connecting import translated
from storage.database import Database
from storage.models import AccessToken

#: Random bytes in a token: 256 bits, twice the 128 the HTTP API promises at least.
TOKEN_BYTES = 32


class TokenSubject(StrEnum):
    REQUEST = "request"
    OPTOUT = "optout"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def issue(database: Database, kind: TokenSubject, subject_id: str) -> str:
    """A new token for ``subject_id``; only its digest is stored. A subject has one token, issued once."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    with translated(database.target), database.session() as session, session.begin():
        session.add(AccessToken(subject_kind=kind.value, subject_id=subject_id, token_sha256=digest(token),
                                created_at=datetime.now(UTC)))
    return token


def opens(database: Database, kind: TokenSubject, subject_id: str, token: str | None) -> bool:
    """Does ``token`` open ``subject_id``? False for a wrong or missing token and for an unknown subject alike."""
    with translated(database.target), database.session() as session:
        stored = session.scalar(select(AccessToken.token_sha256).where(
            AccessToken.subject_kind == kind.value, AccessToken.subject_id == subject_id))
    # compare something in every case, so an unknown id costs the same as a wrong token
    expected = stored if stored is not None else digest(secrets.token_urlsafe(TOKEN_BYTES))
    matched = hmac.compare_digest(expected, digest(token or ""))
    return matched and stored is not None and bool(token)


__all__ = ["TOKEN_BYTES", "TokenSubject", "digest", "issue", "opens"]
