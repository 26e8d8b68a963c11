"""Hostile rule packs and registries: each problem is one error with its file and line, fast, never a traceback.

Policy files are YAML written by people, so the loader refuses what a policy never needs and an attacker
loves: anchors and aliases (a billion laughs expands to gigabytes), the merge key, deep nesting (the
composer recurses), huge files and node counts, non-standard tags, and values a constructor chokes on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from policy.jurisdiction import SiteRegistry
from policy.loading import MAX_DEPTH, MAX_FILE_BYTES, MAX_NODES, PolicyError
from policy.packs import load_policy, read_pack
from policy.terms import TermsRegistry
from policy.testing import run_pack_tests
from tests.policy.helpers import faircrawl, only_error, write

RULE = """\
  - id: collect
    description: d
    when: {purpose: collect_image}
    effect: allow
    citations: ["Act 1"]
"""


def billion_laughs() -> str:
    lines = ['lol0: &lol0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"lol{i}: &lol{i} [" + ", ".join([f"*lol{i - 1}"] * 9) + "]" for i in range(1, 10)]
    return "\n".join(lines) + "\nrules:\n" + RULE + "    note: *lol9\n"


# (file content, line of the error, what the message says)
HOSTILE_YAML: dict[str, tuple[str | bytes, int, str]] = {
    "billion-laughs": (billion_laughs(), 1, "anchors"),
    "recursive-alias": ("rules: &rules\n  - *rules\n", 1, "anchors"),
    "alias-without-anchor": ("rules:\n" + RULE + "    note: *nothing\n", 7, "aliases"),
    "deep-flow-nesting": ("rules: " + "[" * 20_000 + "]" * 20_000 + "\n", 1, f"nested deeper than {MAX_DEPTH}"),
    "deep-block-nesting": ("rules:\n" + "".join(f"{'  ' * i}- \n" for i in range(1, 200)), 65,
                           f"nested deeper than {MAX_DEPTH}"),
    "merge-key": ("rules:\n  - id: merged\n    <<: {description: d, effect: allow}\n"
                  "    when: {purpose: collect_image}\n    citations: [x]\n", 3, "merge key"),
    "bad-int-tag": ("rules:\n" + RULE.replace("description: d", "description: !!int many"), 3, "!!int"),
    "bad-timestamp-tag": ("rules:\n" + RULE.replace("description: d", "description: !!timestamp yesterday"), 3,
                          "!!timestamp"),
    "impossible-date": ("rules:\n" + RULE.replace("description: d", "description: 2026-13-45"), 3, "timestamp"),
    "huge-integer": ("rules:\n" + RULE + "    retention: " + "9" * 5000 + "\n", 7, "!!int"),
    "python-tag": ("rules: !!python/object/apply:os.system ['echo pwned']\n", 1, "tag"),
    "binary-tag": ("rules:\n" + RULE.replace("description: d", "description: !!binary aGk="), 3, "tag"),
    "set-tag": ("rules: !!set {a, b}\n", 1, "tag"),
    "custom-tag": ("rules:\n" + RULE.replace("description: d", "description: !secret d"), 3, "tag"),
    "value-key": ("rules:\n" + RULE.replace("description: d", "description: !!value d"), 3, "tag"),
    "too-many-values": ("rules: [" + "1," * MAX_NODES + "1]\n", 1, f"more than {MAX_NODES}"),
    "too-large": ("rules:\n" + RULE + "#" * (MAX_FILE_BYTES + 1) + "\n", 1, "2 MiB"),
    "not-utf8": (b"rules:\n  - id: \xff\xfe\n", 2, "UTF-8"),
    "control-character": ("rules:\n" + RULE.replace("description: d", "description: d\x07"), 3, "character"),
    "two-documents": ("rules:\n" + RULE + "---\nrules: []\n", 7, "YAML syntax error"),
}


def timed(call: Callable[[], object], limit: float = 2.0) -> object:
    started = time.monotonic()
    result = call()
    assert time.monotonic() - started < limit, f"took {time.monotonic() - started:.1f} s"
    return result


def pack_with(tmp_path: Path, name: str, content: str | bytes) -> tuple[Path, Path]:
    pack = tmp_path / "pack"
    write(pack / "pack.yaml", "name: hostile\n")
    write(pack / "good.yaml", "rules:\n" + RULE.replace("id: collect", "id: good"))
    return pack, write(pack / f"{name}.yaml", content)


# -- through the library ---------------------------------------------------------------------------


@pytest.mark.parametrize(("content", "line", "message"), HOSTILE_YAML.values(), ids=HOSTILE_YAML.keys())
def test_a_hostile_rule_file_is_one_error_naming_file_and_line(tmp_path: Path, content: str | bytes, line: int,
                                                               message: str) -> None:
    pack, hostile = pack_with(tmp_path, "hostile", content)

    error = only_error(timed(lambda: read_pack(pack)).issues)  # type: ignore[attr-defined]

    assert (error.path, error.line) == (str(hostile), line), str(error)
    assert message in error.message, str(error)
    assert error.hint
    with pytest.raises(PolicyError, match="nothing runs under it"):
        timed(lambda: load_policy(pack))


@pytest.mark.parametrize(("content", "line", "message"), HOSTILE_YAML.values(), ids=HOSTILE_YAML.keys())
def test_a_hostile_extra_rules_file_stops_the_policy(tmp_path: Path, content: str | bytes, line: int,
                                                     message: str) -> None:
    extra = write(tmp_path / "extra.yaml", content)

    with pytest.raises(PolicyError) as raised:
        timed(lambda: load_policy("lawful", [extra]))

    assert f"{extra}:{line}: error: " in str(raised.value)


@pytest.mark.parametrize(("content", "line", "message"), HOSTILE_YAML.values(), ids=HOSTILE_YAML.keys())
def test_a_hostile_registry_is_one_error_naming_file_and_line(tmp_path: Path, content: str | bytes, line: int,
                                                              message: str) -> None:
    text = content.replace(b"rules:", b"sites:") if isinstance(content, bytes) else content.replace("rules:", "sites:")
    sites = write(tmp_path / "sites.yaml", text)
    terms = write(tmp_path / "terms.yaml", content.replace(b"rules:", b"terms:") if isinstance(content, bytes)
                  else content.replace("rules:", "terms:"))

    for read in (lambda: SiteRegistry.read([sites]), lambda: TermsRegistry.read([terms])):
        _, issues = timed(read)  # type: ignore[misc]
        error = only_error(issues)
        assert (error.line, message in error.message) == (line, True), str(error)
    with pytest.raises(PolicyError, match=rf"{sites}:{line}: error: "):
        load_policy("lawful", site_registries=[sites])


@pytest.mark.parametrize(("content", "line", "message"), HOSTILE_YAML.values(), ids=HOSTILE_YAML.keys())
def test_a_hostile_test_file_is_one_error_and_no_case_runs(tmp_path: Path, content: str | bytes, line: int,
                                                           message: str) -> None:
    pack, _ = pack_with(tmp_path, "rules", "rules:\n" + RULE)
    hostile = write(pack / "tests" / "cases.yaml", content.replace(b"rules:", b"cases:") if isinstance(content, bytes)
                    else content.replace("rules:", "cases:"))

    report = timed(lambda: run_pack_tests(read_pack(pack)))

    error = only_error(report.errors)  # type: ignore[attr-defined]
    assert (error.path, error.line) == (str(hostile), line), str(error)
    assert not report.ok  # type: ignore[attr-defined]


def test_a_rule_file_that_is_a_symlink_loop_is_one_error(tmp_path: Path) -> None:
    pack, _ = pack_with(tmp_path, "good-too", "rules:\n" + RULE)
    loop = pack / "loop.yaml"
    loop.symlink_to(loop)

    error = only_error(read_pack(pack).issues)

    assert (error.path, error.line) == (str(loop), 1)
    assert "symbolic links" in error.message


def test_a_tests_folder_that_is_a_symlink_loop_is_one_error(tmp_path: Path) -> None:
    pack, _ = pack_with(tmp_path, "good-too", "rules:\n" + RULE)
    (pack / "tests").symlink_to(pack / "tests")

    error = only_error(read_pack(pack).issues)

    assert (error.path, error.line) == (str(pack / "tests"), 1)
    assert "symbolic links" in error.message


def test_a_folder_named_like_a_rule_file_is_one_error(tmp_path: Path) -> None:
    pack, _ = pack_with(tmp_path, "good-too", "rules:\n" + RULE)
    (pack / "folder.yaml").mkdir()

    error = only_error(read_pack(pack).issues)

    assert (error.path, error.line) == (str(pack / "folder.yaml"), 1)
    assert "not a regular file" in error.message


def test_dates_are_kept_as_the_text_written(tmp_path: Path) -> None:
    registry = write(tmp_path / "terms.yaml", "terms:\n  - {host: a.example.com, reviewed: 2026-11-01}\n")

    entry = TermsRegistry.load([registry]).lookup("http://a.example.com/")

    assert entry is not None and entry.reviewed == "2026-11-01"


# -- through the real command --------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile_pack(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, tuple[Path, int]]]:
    """One pack holding every hostile file, a looping symlink rule file and a looping tests folder."""
    pack = tmp_path_factory.mktemp("hostile") / "pack"
    write(pack / "pack.yaml", "name: hostile\n")
    where = {name: (write(pack / f"{name}.yaml", content), line) for name, (content, line, _) in HOSTILE_YAML.items()}
    (pack / "loop.yaml").symlink_to(pack / "loop.yaml")
    (pack / "tests").symlink_to(pack / "tests")
    where["loop"] = (pack / "loop.yaml", 1)
    where["tests"] = (pack / "tests", 1)
    return pack, where


def test_lint_names_every_hostile_file_by_line_once(hostile_pack: tuple[Path, dict[str, tuple[Path, int]]]) -> None:
    pack, where = hostile_pack

    process = timed(lambda: faircrawl("policy", "lint", str(pack)), limit=60)

    output = process.stdout + process.stderr  # type: ignore[attr-defined]
    assert process.returncode == 1, output  # type: ignore[attr-defined]
    assert "Traceback" not in output
    for path, line in where.values():
        assert output.count(f"{path}:{line}: error: ") == 1, f"{path}:{line} not reported once in:\n{output}"


def test_policy_test_of_a_hostile_pack_fails_cleanly(hostile_pack: tuple[Path, dict[str, tuple[Path, int]]]) -> None:
    pack, where = hostile_pack

    process = faircrawl("policy", "test", str(pack))

    assert process.returncode != 0
    assert "Traceback" not in process.stdout + process.stderr
    assert f"{where['billion-laughs'][0]}:1: error: " in process.stdout


def test_a_crawl_under_a_hostile_pack_or_rules_file_fetches_nothing(
        tmp_path: Path, hostile_pack: tuple[Path, dict[str, tuple[Path, int]]]) -> None:
    pack, where = hostile_pack
    db = f"sqlite:///{tmp_path}/crawl.db"
    rules, line = where["deep-flow-nesting"]

    for args in (("--policy", str(pack)), ("--rules", str(rules))):
        process = faircrawl("crawl", "http://shop.example.com/", "--db", db, *args, cwd=tmp_path)
        assert process.returncode == 2, process.stdout + process.stderr
        assert "Traceback" not in process.stderr
        assert f"{rules}:{line}: error: " in process.stderr
        assert process.stderr.startswith("error: ")
    assert not (tmp_path / "crawl.db").exists()
