"""The shipped packs' own table-driven cases (``policy/rules/*/tests/*.yaml``), one pytest item per case.

A failing case is reported under its own name (``pytest -k eu_denies_face_image_without_consent``); the
pack as a whole must run at least one case and leave no rule uncovered.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
import yaml

from policy.packs import SHIPPED_PACKS, read_pack
from policy.testing import CaseResult, PackTestReport, run_pack_tests


@cache
def pack_report(pack_name: str) -> PackTestReport:
    return run_pack_tests(read_pack(pack_name))


def shipped_cases() -> list[pytest.ParameterSet]:
    """Every case of every shipped pack, read from the YAML at collection time (plain YAML: names only)."""
    params = []
    for pack_name in SHIPPED_PACKS:
        for test_file in read_pack(pack_name).test_files:
            for case in yaml.safe_load(test_file.read_text(encoding="utf-8"))["cases"]:
                params.append(pytest.param(pack_name, test_file, case["name"], id=case["name"]))
    return params


@pytest.mark.parametrize(("pack_name", "test_file", "case_name"), shipped_cases())
def test_shipped_case_passes(pack_name: str, test_file: Path, case_name: str) -> None:
    results: list[CaseResult] = [r for r in pack_report(pack_name).results
                                 if r.path == str(test_file) and r.name == case_name]

    assert len(results) == 1, f"case {case_name} of {test_file} ran {len(results)} times"
    result = results[0]
    assert result.passed, f"{result.path}:{result.line} {result.name}:\n  " + "\n  ".join(result.problems)


@pytest.mark.parametrize("pack_name", SHIPPED_PACKS)
def test_shipped_pack_runs_its_cases_without_errors(pack_name: str) -> None:
    report = pack_report(pack_name)

    assert report.errors == [], "\n".join(map(str, report.errors))
    assert len(report.results) >= 1, "no case ran"
    assert report.ok


@pytest.mark.parametrize("pack_name", SHIPPED_PACKS)
def test_every_rule_of_a_shipped_pack_is_covered_by_a_case(pack_name: str) -> None:
    assert pack_report(pack_name).uncovered_rules == []


@pytest.mark.parametrize("pack_name", SHIPPED_PACKS)
def test_every_case_of_a_shipped_pack_is_collected_here(pack_name: str) -> None:
    collected = {(str(p.values[1]), p.values[2]) for p in shipped_cases() if p.values[0] == pack_name}

    assert collected == {(r.path, r.name) for r in pack_report(pack_name).results}
