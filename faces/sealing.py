"""Face encodings sealed for the one process that asked for them, so a broker or result store never holds them in clear.

A crawl run makes a :class:`SealKey` in memory (never written anywhere) and
sends only its public half with each face task. The face worker seals the
encodings to it: a fresh X25519 key per message, the shared secret through
HKDF-SHA256 into an AES-256-GCM key, the worker's public key and a nonce in
front of the ciphertext. What crosses the broker can be opened only with the
run's private key, which no worker holds: a worker needs no secret at all,
and a copy of the broker's data read later opens nothing.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

#: Binds the derived key to this use, so a key derived here is never valid anywhere else.
CONTEXT = b"faircrawl face encodings v1"
_PUBLIC_BYTES = 32
_NONCE_BYTES = 12


class SealError(ValueError):
    """A sealed result that does not open with this key (tampered with, or sealed for another run)."""


class SealKey:
    """The run's private key; :attr:`public` is what travels with each task."""

    __slots__ = ("_private", "public")

    def __init__(self) -> None:
        self._private = X25519PrivateKey.generate()
        self.public = self._private.public_key().public_bytes_raw()

    def open(self, sealed: bytes) -> bytes:
        if len(sealed) < _PUBLIC_BYTES + _NONCE_BYTES:
            raise SealError("sealed face result is too short")
        sender = X25519PublicKey.from_public_bytes(sealed[:_PUBLIC_BYTES])
        nonce = sealed[_PUBLIC_BYTES:_PUBLIC_BYTES + _NONCE_BYTES]
        key = _derive(self._private.exchange(sender), sealed[:_PUBLIC_BYTES], self.public)
        try:
            return AESGCM(key).decrypt(nonce, sealed[_PUBLIC_BYTES + _NONCE_BYTES:], CONTEXT)
        except InvalidTag:
            raise SealError("sealed face result does not open with this run's key") from None

    def __repr__(self) -> str:
        return "<SealKey, private half not shown>"

    def __reduce__(self) -> str:
        raise TypeError("a run's seal key is never serialised")


def seal(recipient_public: bytes, plaintext: bytes) -> bytes:
    """``plaintext`` sealed for the holder of ``recipient_public`` (32 raw X25519 bytes)."""
    recipient = X25519PublicKey.from_public_bytes(recipient_public)
    ephemeral = X25519PrivateKey.generate()
    ephemeral_public = ephemeral.public_key().public_bytes_raw()
    key = _derive(ephemeral.exchange(recipient), ephemeral_public, recipient_public)
    nonce = os.urandom(_NONCE_BYTES)
    return ephemeral_public + nonce + AESGCM(key).encrypt(nonce, plaintext, CONTEXT)


def _derive(shared: bytes, sender_public: bytes, recipient_public: bytes) -> bytes:
    return HKDF(hashes.SHA256(), 32, salt=sender_public + recipient_public, info=CONTEXT).derive(shared)
