"""The policy revision: a hash of the code and rule files that decide.

Stored with every decision so a record can be traced to exactly what decided
it. Until rule packs exist, the deciding code is the robots module.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

_POLICY_DIR = Path(__file__).parent


@cache
def policy_revision(policy_name: str) -> str:
    digest = hashlib.sha256(policy_name.encode())
    for path in sorted(_POLICY_DIR.rglob("*")):
        if path.is_file() and path.suffix in {".py", ".yaml", ".yml", ".json"}:
            digest.update(path.relative_to(_POLICY_DIR).as_posix().encode())
            digest.update(path.read_bytes())
    return f"{policy_name}@{digest.hexdigest()[:16]}"
