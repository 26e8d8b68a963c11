"""faircrawl's crawler key (Ed25519, under ``var/``, mode 0600, made on first use) and its JWKS key directory.

The directory is what a site fetches from ``<Signature-Agent>/.well-known/http-message-signatures-directory``
(Web Bot Auth): a JWKS of the public keys, each named by its RFC 7638 JWK
thumbprint, which is also the ``keyid`` of every signature.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from storage.rights.receipts import load_signing_key, public_key_file

DIRECTORY_PATH = "/.well-known/http-message-signatures-directory"
DIRECTORY_MEDIA_TYPE = "application/http-message-signatures-directory+json"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


_EPHEMERAL: list[Ed25519PrivateKey] = []  # a dry run's key when none is kept yet (explain writes nothing)


def load_bot_key(path: Path, dry_run: bool = False) -> Ed25519PrivateKey:
    """The crawler key at ``path``, made with its public key beside it (``.pub``) when missing; 0600 enforced.

    A dry run (``policy explain``) that finds no key signs with one kept in memory for the process.
    """
    if dry_run and not path.exists():
        if not _EPHEMERAL:
            _EPHEMERAL.append(Ed25519PrivateKey.generate())
        return _EPHEMERAL[0]
    return load_signing_key(path)


def jwk(public_key: Ed25519PublicKey) -> dict[str, str]:
    x = _b64url(public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))
    return {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": thumbprint(x)}


def thumbprint(x: str) -> str:
    """RFC 7638 JWK SHA-256 thumbprint of an Ed25519 key (RFC 8037 §2: members crv, kty, x in that order)."""
    canonical = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"))
    return _b64url(hashlib.sha256(canonical.encode("ascii")).digest())


def directory(public_keys: list[Ed25519PublicKey]) -> dict[str, Any]:
    """The JWKS key directory."""
    return {"keys": [jwk(key) for key in public_keys]}


def directory_from_file(private_key_file: Path) -> dict[str, Any]:
    """The directory of the key kept at ``private_key_file``, read from its public half only (empty if none yet)."""
    public = public_key_file(private_key_file)
    if not public.exists():
        return directory([key.public_key() for key in _EPHEMERAL])
    loaded = serialization.load_pem_public_key(public.read_bytes())
    return directory([loaded] if isinstance(loaded, Ed25519PublicKey) else [])


def public_keys(document: dict[str, Any]) -> dict[str, Ed25519PublicKey]:
    """keyid -> public key, for every Ed25519 key of a JWKS (others ignored; never raises)."""
    found = {}
    for entry in document.get("keys", []) if isinstance(document, dict) else []:
        if not isinstance(entry, dict) or entry.get("kty") != "OKP" or entry.get("crv") != "Ed25519":
            continue
        x = entry.get("x")
        try:
            raw = base64.urlsafe_b64decode(str(x) + "=" * (-len(str(x)) % 4))
            found[thumbprint(str(x))] = Ed25519PublicKey.from_public_bytes(raw)
        except ValueError:
            continue
    return found
