"""Signed receipts: what a request removed or returned, certified with Ed25519 so the requester can prove it later.

The receipt's body is encoded canonically (JSON, sorted keys, no spaces, UTF-8)
and signed with faircrawl's signing key (``var/rights-signing.key``, mode 0600,
made on first use); the public key sits beside it (``var/rights-signing.pub``)
and `faircrawl rights receipt --public-key` prints it. Anyone holding the
public key can check a receipt: change one byte of the body and the check fails.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from storage.errors import KeyFileError

DEFAULT_SIGNING_KEY_FILE = Path("var/rights-signing.key")


def canonical(body: Any) -> bytes:
    """The one byte string a receipt's signature covers."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def public_key_file(private_key_file: Path) -> Path:
    return private_key_file.with_suffix(".pub")


def load_signing_key(path: Path, receipts_signed: int = 0) -> Ed25519PrivateKey:
    """The signing key at ``path``, made (0600, with its public key beside it) when there is none yet, unless
    receipts were signed already: a new key would make every one of them fail its check."""
    if not path.exists():
        if receipts_signed:
            raise KeyFileError(f"signing key {path} is missing but {receipts_signed} receipt(s) were signed with it; "
                               "restore it from your backup (a new key would make every earlier receipt fail its "
                               "check), or point FAIRCRAWL_SIGNING_KEY_FILE at it")
        key = Ed25519PrivateKey.generate()
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written whole to a private temporary file, then linked into place: two requests making the first key at
        # once (the HTTP API answers them in parallel) cannot both win, and the loser never reads a half-written file.
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".signing-key-")  # 0600
        try:
            with os.fdopen(descriptor, "wb") as out:
                out.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption()))
            try:
                os.link(temporary, path)
            except FileExistsError:  # another request made it first: theirs is the key
                return load_signing_key(path, receipts_signed)
        finally:
            Path(temporary).unlink(missing_ok=True)
        public_key_file(path).write_bytes(public_pem(key.public_key()))
        return key
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        raise KeyFileError(f"signing key {path} is readable by others; run `chmod 600 {path}`")
    try:
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError):
        raise KeyFileError(f"signing key {path} is not an Ed25519 private key; restore it from your backup") from None
    if not isinstance(loaded, Ed25519PrivateKey):
        raise KeyFileError(f"signing key {path} is not an Ed25519 key")
    if not public_key_file(path).exists():
        public_key_file(path).write_bytes(public_pem(loaded.public_key()))
    return loaded


def public_pem(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def key_id(public_key: Ed25519PublicKey) -> str:
    """The SHA-256 of the raw public key: which key signed a receipt."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def sign(body: Any, key: Ed25519PrivateKey) -> str:
    return base64.urlsafe_b64encode(key.sign(canonical(body))).decode("ascii")


def verify(body: Any, signature: str, public_key_pem: bytes | str) -> bool:
    """Does ``signature`` certify exactly ``body`` under this public key?"""
    pem = public_key_pem.encode("ascii") if isinstance(public_key_pem, str) else public_key_pem
    try:
        public_key = serialization.load_pem_public_key(pem)
        if not isinstance(public_key, Ed25519PublicKey):
            return False
        public_key.verify(base64.urlsafe_b64decode(signature.encode("ascii")), canonical(body))
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def receipt_text(body: dict[str, Any], signature: str) -> str:
    """The receipt as people read it (the JSON is what the signature covers)."""
    request = body["request"]
    lines = [f"faircrawl receipt for {request['kind']} request {request['id']}",
             f"  status {request['status']}; jurisdiction {request['jurisdiction']}; due {request['due']}",
             f"  received {request['created_at']}; completed {request['completed_at']}"]
    for store in body.get("stores", []):
        lines.append(f"  {store['store']:<16} {store['status']:<9} removed {store['removed']}"
                     + (f"  ({store['note']})" if store.get("note") else ""))
    verification = body.get("verification")
    if verification:
        lines.append(f"  verification: {'passed' if verification['passed'] else 'FAILED'}; searched "
                     + ", ".join(f"{n} {what}" for what, n in verification["searched"].items())
                     + f"; found {len(verification['found'])}")
    refused = body.get("refused")
    if refused:
        lines.append(f"  REFUSED: {refused['why']}; breaches {'; '.join(refused['breaches']) or '-'}")
    answer = body.get("answer")
    if answer:
        lines.append(f"  answered: {answer['images']} image(s), {answer['decisions']} decision(s), "
                     f"{answer['requests']} earlier request(s)")
    lines += [f"  issued {body['issued_at']} by faircrawl; signing key {body['key_id'][:16]}...",
              f"  Ed25519 signature (base64url): {signature}",
              "  check it: faircrawl rights receipt --public-key > key.pem, then verify the JSON body's canonical "
              "encoding against this signature"]
    return "\n".join(lines)
