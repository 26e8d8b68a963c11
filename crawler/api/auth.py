"""Who may call what: the operator's token, and each requester's token for their own request or opt-out.

The operator token comes from ``FAIRCRAWL_API_TOKEN`` (the environment only: never a flag, which ``ps`` would
show), else from the file ``FAIRCRAWL_API_TOKEN_FILE`` (default ``var/api-token``, mode 0600), which ``serve``
makes with a random token the first time. Every comparison runs in constant time (``hmac.compare_digest``).
"""

from __future__ import annotations

import hmac
import os
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from fastapi import Request

from crawler.api.errors import ApiError
from policy.errors import ConfigError

#: An operator token shorter than this is refused: it could be guessed.
MIN_OPERATOR_TOKEN_LENGTH = 24
OPERATOR_TOKEN_VARIABLE = "FAIRCRAWL_API_TOKEN"


@dataclass(frozen=True, slots=True)
class OperatorToken:
    value: str
    source: str  # "FAIRCRAWL_API_TOKEN", or the file's path
    created: bool = False  # made just now


def operator_token(token_file: Path, environ: Mapping[str, str] | None = None) -> OperatorToken:
    """The operator token: from the environment, else the token file (made, 0600, when missing)."""
    environ = os.environ if environ is None else environ
    given = environ.get(OPERATOR_TOKEN_VARIABLE, "")
    if given:
        _check(given.strip(), OPERATOR_TOKEN_VARIABLE)
        return OperatorToken(given.strip(), OPERATOR_TOKEN_VARIABLE)
    if token_file.exists():
        if stat.S_IMODE(token_file.stat().st_mode) & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigError(f"the operator token file {token_file} is readable by others; run `chmod 600 "
                              f"{token_file}` (or delete it and a new token is made)")
        try:
            value = token_file.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigError(f"cannot read the operator token file {token_file} ({error}); delete it and "
                              "`faircrawl serve` makes a new one") from None
        _check(value, str(token_file))
        return OperatorToken(value, str(token_file))
    value = secrets.token_urlsafe(32)
    token_file.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as out:
        out.write(value + "\n")
    return OperatorToken(value, str(token_file), created=True)


def _check(value: str, source: str) -> None:
    if len(value) < MIN_OPERATOR_TOKEN_LENGTH or not value.isprintable() or " " in value:
        raise ConfigError(f"the operator token from {source} must be at least {MIN_OPERATOR_TOKEN_LENGTH} printable "
                          "characters without spaces; e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))'")


def bearer(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def require_operator(request: Request, expected: str) -> None:
    given = bearer(request) or ""
    if not hmac.compare_digest(given.encode("utf-8", "surrogateescape"), expected.encode("utf-8")):
        raise ApiError(401, "this endpoint is for the operator: send `Authorization: Bearer <token>` with the token "
                            "from FAIRCRAWL_API_TOKEN or the file `faircrawl serve` named at start-up",
                       headers={"WWW-Authenticate": 'Bearer realm="faircrawl operator"'})
