"""The key that encrypts biometric data at rest (opt-out templates and hashes, persisted templates).

From ``FAIRCRAWL_KEY`` (a Fernet key: 32 url-safe base64 bytes), else from a
key file created on first use with 0600 permissions (``var/faircrawl.key`` by
default, ``FAIRCRAWL_KEY_FILE`` to move it). Losing the key makes the
encrypted data unreadable, which is also how it is destroyed for good.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from storage.errors import KeyFileError

DEFAULT_KEY_FILE = Path("var/faircrawl.key")


def load_key(key_file: Path | None = None, environ: dict[str, str] | None = None) -> Fernet:
    environ = dict(os.environ) if environ is None else environ
    if environ.get("FAIRCRAWL_KEY"):
        try:
            return Fernet(environ["FAIRCRAWL_KEY"].encode())
        except ValueError:
            raise KeyFileError("FAIRCRAWL_KEY is not a valid key: it must be 32 url-safe base64-encoded bytes "
                            "(make one with `python -c 'from cryptography.fernet import Fernet; "
                            "print(Fernet.generate_key().decode())'`)") from None
    path = Path(environ.get("FAIRCRAWL_KEY_FILE") or key_file or DEFAULT_KEY_FILE)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            out.write(Fernet.generate_key())
    try:
        return Fernet(path.read_bytes().strip())
    except ValueError:
        raise KeyFileError(f"key file {path} does not hold a valid key; restore it from your backup") from None


def decrypt(fernet: Fernet, token: bytes, what: str) -> bytes:
    try:
        return fernet.decrypt(token)
    except InvalidToken:
        raise KeyFileError(f"cannot decrypt {what}: this is not the key it was encrypted with "
                        "(check FAIRCRAWL_KEY or the key file)") from None
