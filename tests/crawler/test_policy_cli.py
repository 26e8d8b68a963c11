"""`faircrawl policy lint|test|explain` and `faircrawl crawl --policy/--rules`, run as a user runs them.

A broken pack is named by file and line and nothing runs under it; explain shows what the crawler would
decide and why, and stores nothing.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import textwrap
from contextlib import closing
from pathlib import Path

import pytest

from policy.packs import RULES_DIR, read_pack
from tests.conftest import PROJECT_ROOT, run_faircrawl

BROKEN_RULES = """\
rules:
  - id: collect-in-france
    description: a rule with a three-letter country code
    when:
      purpose: collect_image
      jurisdiction: FRA
    effect: allow
    citations: ["Act 1"]
"""
BROKEN_LINE = 6  # the jurisdiction: FRA line


@pytest.fixture
def broken_pack(tmp_path: Path) -> Path:
    pack = tmp_path / "broken-pack"
    pack.mkdir()
    (pack / "pack.yaml").write_text("name: broken\ndescription: one rule with a bad jurisdiction\n")
    (pack / "rules.yaml").write_text(BROKEN_RULES)
    return pack


def assert_user_error(process: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert process.returncode == 2, (process.stdout, process.stderr)
    assert "Traceback" not in process.stderr
    assert process.stderr.startswith("error: "), process.stderr
    for fragment in fragments:
        assert fragment in process.stderr, process.stderr


def shown(path: Path, cwd: Path) -> list[str]:
    """How a message may name ``path``: as given, or relative to the command's working folder."""
    names = [str(path)]
    if path.is_relative_to(cwd):
        names.append(str(path.relative_to(cwd)))
    return names


def assert_names_file_and_line(output: str, path: Path, cwd: Path, line: int, message: str) -> None:
    expected = [f"{name}:{line}: error: {message}" for name in shown(path, cwd)]
    assert any(text in output for text in expected), f"none of {expected} in:\n{output}"


def crawl_runs_in(db: Path) -> int:
    """Rows in crawl_runs of a SQLite file, 0 when the file or the table does not exist (never creates it)."""
    if not db.exists():
        return 0
    with closing(sqlite3.connect(db)) as connection:
        if not connection.execute("select 1 from sqlite_master where name = 'crawl_runs'").fetchone():
            return 0
        return int(connection.execute("select count(*) from crawl_runs").fetchone()[0])


# -- policy lint --------------------------------------------------------------------------------


def test_lint_passes_the_shipped_packs_and_registries() -> None:
    process = run_faircrawl("policy", "lint")

    assert process.returncode == 0, process.stdout + process.stderr
    for pack in ("lawful", "unlawful-demo"):
        assert f"{pack}: {len(read_pack(pack).rules)} rules" in process.stdout
    assert "lawful: 75 rules in 15 files, 0 errors, 0 warnings" in process.stdout
    assert "unlawful-demo: 31 rules in 3 files, 0 errors, 1 warnings" in process.stdout  # keeps templates forever
    assert "registries: sites.yaml and terms.yaml are valid" in process.stdout


def test_lint_fails_a_broken_pack_naming_file_line_and_rule(broken_pack: Path) -> None:
    process = run_faircrawl("policy", "lint", str(broken_pack))

    assert process.returncode == 1, process.stdout + process.stderr
    assert_names_file_and_line(process.stdout, broken_pack / "rules.yaml", PROJECT_ROOT, BROKEN_LINE,
                               "unknown jurisdiction 'FRA' [rule collect-in-france]")
    assert "broken: 1 rules in 1 files, 1 errors" in process.stdout


def test_lint_of_an_unknown_pack_is_a_user_error() -> None:
    assert_user_error(run_faircrawl("policy", "lint", "no-such-pack"), "no rule pack 'no-such-pack'")


# -- policy test --------------------------------------------------------------------------------


def test_policy_test_passes_the_shipped_packs_with_every_rule_covered() -> None:
    process = run_faircrawl("policy", "test")

    assert process.returncode == 0, process.stdout + process.stderr
    assert "lawful: " in process.stdout and "unlawful-demo: " in process.stdout
    assert process.stdout.count(" 0 failed") == 2
    assert "FAIL" not in process.stdout and "rules no case covers" not in process.stdout


def test_policy_test_fails_when_a_case_fails_and_names_it(tmp_path: Path) -> None:
    pack = Path(shutil.copytree(RULES_DIR / "lawful", tmp_path / "lawful"))
    cases = pack / "tests" / "jurisdictions.yaml"
    text = cases.read_text()
    expectation = "expect: {effect: deny, rules: [collect-public-images, eu-face-images-need-consent]"
    assert text.count(expectation) == 1
    cases.write_text(text.replace(expectation, expectation.replace("effect: deny", "effect: allow")))
    case_line = next(number for number, line in enumerate(text.splitlines(), 1)
                     if "name: eu_denies_face_image_without_consent" in line)

    process = run_faircrawl("policy", "test", str(pack))

    assert process.returncode == 1, process.stdout + process.stderr
    assert any(f"FAIL {name}:{case_line} eu_denies_face_image_without_consent" in process.stdout
               for name in shown(cases, PROJECT_ROOT)), process.stdout
    assert "effect: expected allow, got deny (denied by eu-face-images-need-consent" in process.stdout
    assert ", 1 failed" in process.stdout


def test_policy_test_fails_when_no_case_ran(tmp_path: Path) -> None:
    pack = Path(shutil.copytree(RULES_DIR / "lawful", tmp_path / "lawful", ignore=shutil.ignore_patterns("tests")))

    process = run_faircrawl("policy", "test", str(pack))

    assert process.returncode == 1, process.stdout + process.stderr
    assert "lawful: 0 passed, 0 failed" in process.stdout
    assert "lawful: no test ran" in process.stdout
    assert "rules no case covers: " in process.stdout


def test_policy_test_refuses_a_pack_with_lint_errors(broken_pack: Path) -> None:
    process = run_faircrawl("policy", "test", str(broken_pack))

    assert process.returncode == 1, process.stdout + process.stderr
    assert_names_file_and_line(process.stdout, broken_pack / "rules.yaml", PROJECT_ROOT, BROKEN_LINE,
                               "unknown jurisdiction 'FRA'")
    assert "broken: not tested, the pack has errors" in process.stdout


# -- policy explain -------------------------------------------------------------------------------


def test_explain_shows_the_french_face_image_denied_with_citations_and_stores_nothing(tmp_path: Path) -> None:
    rule = next(r for r in read_pack("lawful").rules if r.id == "eu-face-images-need-consent")

    process = run_faircrawl("policy", "explain", "--testsites", "http://portraits.example.fr/private/biden.jpg",
                            "--page-url", "http://portraits.example.fr/", cwd=tmp_path,
                            env={"FAIRCRAWL_DB": f"sqlite:///{tmp_path}/faircrawl.db",
                                 "FAIRCRAWL_STORE": str(tmp_path / "images")})

    assert process.returncode == 0, process.stdout + process.stderr
    assert "jurisdiction: FR  (from cctld: country-code top-level domain .fr)" in process.stdout
    assert "collect_image: DENY  - denied by eu-face-images-need-consent" in process.stdout
    rule_line = rule.source.rsplit(":", 1)[1]
    assert re.search(rf"matched deny  eu-face-images-need-consent  \(\S*policy/rules/lawful/eu\.yaml:{rule_line}\)",
                     process.stdout), process.stdout
    assert f"cites: {'; '.join(rule.citations)}" in process.stdout
    assert "GDPR Art. 6(1)" in rule.citations and "GDPR Art. 9(1)" not in rule.citations  # a photo is not Art. 9 data
    assert sorted(tmp_path.iterdir()) == [], "explain must not create var/, a database or image files"


def test_explain_json_shows_the_image_opt_out_and_the_rule_it_triggers(tmp_path: Path) -> None:
    process = run_faircrawl("policy", "explain", "--testsites", "--json", "http://xrobots.example.com/img/noai.jpg",
                            cwd=tmp_path)

    assert process.returncode == 0, process.stdout + process.stderr
    explanation = json.loads(process.stdout)
    assert explanation["kind"] == "image"
    assert "noai" in explanation["signals"]["image.robots"]
    decisions = {d["purpose"]: d for d in explanation["decisions"]}
    assert decisions["collect_image"]["effect"] == "deny"
    assert "image-response-opts-out" in decisions["collect_image"]["matched_rules"]
    assert decisions["collect_image"]["summary"].startswith("denied by image-response-opts-out")
    assert any(t["rule"] == "image-response-opts-out" and t["matched"] for t in decisions["collect_image"]["trace"])
    assert sorted(tmp_path.iterdir()) == []


def test_explain_with_an_unknown_jurisdiction_is_a_user_error(tmp_path: Path) -> None:
    process = run_faircrawl("policy", "explain", "http://example.com/", "--jurisdiction", "FRA", cwd=tmp_path)

    assert_user_error(process, "unknown jurisdiction 'FRA'", "ISO 3166")
    assert process.stdout == ""


# -- crawl under a pack -----------------------------------------------------------------------------


def test_crawl_under_a_broken_pack_names_file_and_line_and_crawls_nothing(tmp_path: Path, broken_pack: Path) -> None:
    db = tmp_path / "crawl.db"

    process = run_faircrawl("crawl", "--testsites", "--policy", str(broken_pack), "--db", f"sqlite:///{db}",
                            "--store", str(tmp_path / "images"), cwd=tmp_path)

    assert_user_error(process, "rule pack 'broken' has 1 error(s)", "nothing was crawled")
    assert_names_file_and_line(process.stderr, broken_pack / "rules.yaml", tmp_path, BROKEN_LINE,
                               "unknown jurisdiction 'FRA'")
    assert crawl_runs_in(db) == 0
    assert not (tmp_path / "images").exists()


def test_crawl_with_a_broken_rules_file_names_file_and_line_and_crawls_nothing(tmp_path: Path) -> None:
    rules = tmp_path / "extra.yaml"
    rules.write_text(textwrap.dedent(BROKEN_RULES))
    db = tmp_path / "crawl.db"

    process = run_faircrawl("crawl", "--testsites", "--rules", str(rules), "--db", f"sqlite:///{db}",
                            "--store", str(tmp_path / "images"), cwd=tmp_path)

    assert_user_error(process, "rule pack 'lawful' has 1 error(s)", "nothing was crawled")
    assert_names_file_and_line(process.stderr, rules, tmp_path, BROKEN_LINE, "unknown jurisdiction 'FRA'")
    assert crawl_runs_in(db) == 0


@pytest.mark.parametrize("where", [
    pytest.param(("http://example.com/",), id="a-real-site"),
    pytest.param(("--testsites", "http://example.com/"), id="a-real-site-next-to-the-test-sites"),
])
def test_the_unlawful_demo_pack_runs_only_against_the_test_sites(tmp_path: Path, where: tuple[str, ...]) -> None:
    db = tmp_path / "crawl.db"

    process = run_faircrawl("crawl", "--policy", "unlawful-demo", *where, "--db", f"sqlite:///{db}",
                            "--store", str(tmp_path / "images"), cwd=tmp_path)

    assert_user_error(process, "'unlawful-demo' pack reproduces Clearview AI's unlawful collection",
                      "runs only against the local test-site catalog", "--testsites")
    assert crawl_runs_in(db) == 0
    assert sorted(tmp_path.iterdir()) == []
