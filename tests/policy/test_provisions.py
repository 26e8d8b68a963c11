"""Known provisions (issue 11): every citation and breach of a pack names a provision of policy/rules/provisions.yaml.

A miscited article ("GDPR Art 9(1)", "RCW 19.375.020(1)" after it was dropped) is a lint warning at its file
and line with a hint; the shipped packs cite only known provisions, pack.yaml's rights_practice breaches included.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from policy.packs import SHIPPED_PACKS, read_pack
from policy.provisions import PROVISIONS_FILE, known_provisions
from tests.policy.helpers import faircrawl, write

CITING = """\
rules:
  - id: collect
    description: d
    when: {{purpose: collect_image}}
    effect: allow
    citations: ["GDPR Art. 6(1)",
                {citation}]
"""


def _citation_issues(pack_path: Path | str) -> list[str]:
    return [str(i) for i in read_pack(pack_path).issues if "not a known provision" in i.message]


def test_the_provisions_file_is_valid_and_every_entry_says_where_the_reference_states_it() -> None:
    provisions = known_provisions()

    assert provisions.issues == ()
    assert len(provisions.by_id) > 50
    assert all(p.source and p.instrument and p.title for p in provisions.by_id.values())


@pytest.mark.parametrize("pack_name", SHIPPED_PACKS)
def test_every_citation_and_breach_of_a_shipped_pack_is_a_known_provision(pack_name: str) -> None:
    assert _citation_issues(pack_name) == []


def test_a_miscited_article_is_flagged_at_its_line_with_the_nearest_known_id(tmp_path: Path) -> None:
    rules = write(tmp_path / "pack" / "rules.yaml", CITING.format(citation='"GDPR Art 9(1)"'))

    issues = [i for i in read_pack(rules).issues if "not a known provision" in i.message]

    assert len(issues) == 1
    assert issues[0].path.endswith("rules.yaml") and issues[0].line == 7 and issues[0].rule_id == "collect"
    assert "did you mean 'GDPR Art. 9(1)'?" in issues[0].hint and "provisions.yaml" in issues[0].hint


@pytest.mark.parametrize("citation", ['"GDPR Art. 9(1) (wherever the person lives in the EU)"',
                                      '"Directive (EU) 2019/790 Art. 4(3) (a reservation in ai.txt)"',
                                      '"faircrawl policy (stricter than the law)"'])
def test_a_known_provision_may_carry_a_note_in_parentheses(tmp_path: Path, citation: str) -> None:
    rules = write(tmp_path / "pack" / "rules.yaml", CITING.format(citation=citation))

    assert _citation_issues(rules) == []


@pytest.mark.parametrize("citation", ['"RCW 19.375.020(1)"', '"GDPR Art. 9"', '"GDPR Art. 9(1)(wrong)"'])
def test_provisions_the_reference_does_not_support_are_not_known(tmp_path: Path, citation: str) -> None:
    rules = write(tmp_path / "pack" / "rules.yaml", CITING.format(citation=citation))

    assert len(_citation_issues(rules)) == 1


def test_a_breach_is_checked_like_a_citation(tmp_path: Path) -> None:
    rules = write(tmp_path / "pack" / "rules.yaml", CITING.format(citation='"GDPR Art. 6(1)"').replace(
        "    citations:", '    breaches: ["GDPR Art. 99(9)"]\n    citations:'))

    (issue,) = [i for i in read_pack(rules).issues if "not a known provision" in i.message]
    assert issue.message.startswith("breach 'GDPR Art. 99(9)'") and issue.line == 6


def test_rights_practice_breaches_in_pack_yaml_are_checked_with_their_line(tmp_path: Path) -> None:
    write(tmp_path / "pack" / "rules.yaml", CITING.format(citation='"GDPR Art. 6(1)"'))
    write(tmp_path / "pack" / "pack.yaml", """\
        name: demo
        requires_testsites: true
        rights_practice:
          deletion: refused
          breaches:
            deletion: ["GDPR Art. 17(1)", "CNIL SAN-2022-019",
                       "GDPR Article 17"]
        """)

    (issue,) = _citation_issues(tmp_path / "pack")
    assert "pack.yaml:7: warning: breach 'GDPR Article 17' is not a known provision" in issue


def test_policy_lint_prints_the_miscitation_with_file_line_and_hint(tmp_path: Path) -> None:
    rules = write(tmp_path / "rules.yaml", CITING.format(citation='"Cal. Civ. Code §1798.100"'))

    process = faircrawl("policy", "lint", str(rules))

    assert f"{rules}:7: warning: citation 'Cal. Civ. Code §1798.100' is not a known provision" in process.stdout
    assert "hint: did you mean" in process.stdout


def test_the_provisions_file_sits_next_to_the_packs() -> None:
    assert PROVISIONS_FILE.parent == read_pack("lawful").rule_files[0].parent.parent
