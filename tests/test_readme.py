"""The README stays true: every setting is documented, and CI runs the README's test command."""

from __future__ import annotations

import re

from crawler.settings import faircrawl_settings
from tests.conftest import PROJECT_ROOT

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_in_the_readme() -> None:
    documented = set(re.findall(r"FAIRCRAWL_[A-Z_]+", README))
    missing = [s.name for s in faircrawl_settings if s.from_environment and s.name not in documented]
    assert missing == [], f"settings missing from the README: {missing}"


def test_ci_runs_the_readme_test_command() -> None:
    assert "./dev.sh test" in README
    assert "./dev.sh test" in (PROJECT_ROOT / ".ci" / "run").read_text()
