"""What the policy tests share: writing policy files, picking the one error, and running the real command."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from policy.issues import LintIssue

PROJECT_DIR = Path(__file__).resolve().parents[2]


def write(path: Path, content: str | bytes) -> Path:
    """Write a policy file (text is dedented, bytes are written as they are), making its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(textwrap.dedent(content), encoding="utf-8")
    return path


def only_error(issues: list[LintIssue]) -> LintIssue:
    """The one error among ``issues`` (warnings may come with it); fails showing them all otherwise."""
    errors = [issue for issue in issues if issue.severity == "error"]
    assert len(errors) == 1, "\n".join(map(str, issues))
    return errors[0]


def faircrawl(*args: str, cwd: Path = PROJECT_DIR) -> subprocess.CompletedProcess[str]:
    """Run `faircrawl ARGS` in a fresh process on this checkout's code, as a user would."""
    environment = {**os.environ, "FAIRCRAWL_PROGRESS_INTERVAL": "0", "PYTHONPATH": str(PROJECT_DIR)}
    return subprocess.run([sys.executable, "-m", "crawler.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env=environment)
