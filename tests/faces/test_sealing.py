"""Encodings sealed for the run that asked: only its key opens them, and the key itself never travels."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from faces.sealing import SealError, SealKey, seal


def _encoding() -> bytes:
    return np.random.default_rng(3).normal(0, 0.1, 128).astype("<f4").tobytes()


def test_the_run_key_opens_what_was_sealed_to_it() -> None:
    key = SealKey()
    plain = _encoding()
    sealed = seal(key.public, plain)
    assert plain not in sealed and key.open(sealed) == plain
    assert seal(key.public, plain) != sealed  # a fresh key and nonce each time: equal encodings do not look equal


def test_another_run_key_or_a_changed_byte_opens_nothing() -> None:
    key, other = SealKey(), SealKey()
    sealed = seal(key.public, _encoding())
    with pytest.raises(SealError, match="does not open"):
        other.open(sealed)
    tampered = bytearray(sealed)
    tampered[-1] ^= 1
    with pytest.raises(SealError, match="does not open"):
        key.open(bytes(tampered))
    with pytest.raises(SealError, match="too short"):
        key.open(sealed[:20])


def test_the_private_half_never_prints_or_pickles() -> None:
    key = SealKey()
    assert "not shown" in repr(key)
    with pytest.raises(TypeError, match="never serialised"):
        pickle.dumps(key)
