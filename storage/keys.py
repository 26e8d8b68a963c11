"""The key that encrypts biometric data at rest (opt-out templates and hashes, persisted templates).

From ``FAIRCRAWL_KEY`` (a Fernet key: 32 url-safe base64 bytes), else from a
key file (the ``key_file`` argument, else ``FAIRCRAWL_KEY_FILE``, else
``var/faircrawl.key``) that only its owner may read. Losing the key makes the
encrypted data unreadable, which is also how it is destroyed for good; so a
missing key file is made anew only when the caller says no data encrypted
with an earlier key exists (:mod:`storage.key_guard` finds out), never behind
its back.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from storage.errors import KeyFileError

DEFAULT_KEY_FILE = Path("var/faircrawl.key")
#: Permission bits a key file must not have: anything for group or others.
EXPOSING_BITS = stat.S_IRWXG | stat.S_IRWXO
MAKE_KEY_HINT = ("make one with `python -c 'from cryptography.fernet import Fernet; "
                 "print(Fernet.generate_key().decode())'`")


def key_file_path(key_file: Path | None = None, environ: Mapping[str, str] | None = None) -> Path:
    """Where the key file is: the argument, else ``FAIRCRAWL_KEY_FILE``, else the default."""
    environ = os.environ if environ is None else environ
    return Path(key_file or environ.get("FAIRCRAWL_KEY_FILE") or DEFAULT_KEY_FILE)


def key_from_environment(environ: Mapping[str, str] | None = None) -> Fernet | None:
    """The key held by ``FAIRCRAWL_KEY``, or None when it is not set."""
    environ = os.environ if environ is None else environ
    if not environ.get("FAIRCRAWL_KEY"):
        return None
    try:
        return Fernet(environ["FAIRCRAWL_KEY"].encode())
    except ValueError:
        raise KeyFileError(f"FAIRCRAWL_KEY is not a valid key: it must be 32 url-safe base64-encoded bytes "
                           f"({MAKE_KEY_HINT})") from None


def load_key(key_file: Path | None = None, environ: Mapping[str, str] | None = None, *,
             create_if_missing: bool = False) -> Fernet:
    """The key; a missing key file is made (0600) only with ``create_if_missing``, else it is a KeyFileError.

    Pass ``create_if_missing=True`` only when no data encrypted with an earlier key exists
    (:func:`storage.key_guard.load_key_for` decides it from the stores).
    """
    from_environment = key_from_environment(environ)
    if from_environment is not None:
        return from_environment
    path = key_file_path(key_file, environ)
    if not path.exists() and not path.is_symlink():
        if not create_if_missing:
            raise KeyFileError(f"key file {path} does not exist, and data encrypted with it may: restore it from "
                               "your backup (or set FAIRCRAWL_KEY or FAIRCRAWL_KEY_FILE); faircrawl makes a new key "
                               "only where nothing encrypted exists yet")
        _create(path)
    return Fernet(_read(path))


def _create(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # another process made it first: use theirs
    except OSError as error:
        raise KeyFileError(f"cannot create key file {path} ({error.strerror}); choose a writable place with "
                           "FAIRCRAWL_KEY_FILE") from None
    with os.fdopen(descriptor, "wb") as out:
        os.fchmod(out.fileno(), 0o600)
        out.write(Fernet.generate_key())
        out.flush()
        os.fsync(out.fileno())


def _read(path: Path) -> bytes:
    try:
        status = path.stat()
    except OSError as error:
        raise KeyFileError(f"cannot read key file {path} ({error.strerror}); restore it from your backup") from None
    if not stat.S_ISREG(status.st_mode):
        raise KeyFileError(f"key file {path} is not a file; point FAIRCRAWL_KEY_FILE at the key file itself")
    mode = stat.S_IMODE(status.st_mode)
    if os.name == "posix" and mode & EXPOSING_BITS:
        raise KeyFileError(f"key file {path} is open to group or others (mode 0{mode:o}); it must be readable by "
                           f"its owner only: run `chmod 600 {path}`")
    try:
        content = path.read_bytes().strip()
    except OSError as error:
        raise KeyFileError(f"cannot read key file {path} ({error.strerror}); check who owns it") from None
    try:
        Fernet(content)
    except ValueError:
        raise KeyFileError(f"key file {path} does not hold a valid key; restore it from your backup") from None
    return content


def decrypt(fernet: Fernet, token: bytes, what: str) -> bytes:
    try:
        return fernet.decrypt(token)
    except InvalidToken:
        raise KeyFileError(f"cannot decrypt {what}: this is not the key it was encrypted with "
                           "(check FAIRCRAWL_KEY or the key file)") from None
