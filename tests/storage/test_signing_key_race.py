"""The receipts' signing key is made once, even when many requests ask for it at the same moment (the HTTP API)."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from storage.rights.receipts import load_signing_key


def test_requests_racing_to_make_the_first_key_all_get_the_same_one(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "signing.key"
    keys, errors = [], []

    def ask() -> None:
        try:
            keys.append(load_signing_key(path))
        except Exception as error:  # noqa: BLE001 - collected: the test says which
            errors.append(repr(error))

    threads = [threading.Thread(target=ask) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    public = {k.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw) for k in keys}
    assert errors == [] and len(keys) == 16 and len(public) == 1
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == ["signing.key", "signing.pub"]  # no temporary left
    assert load_signing_key(path).public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw) in public
