"""Rule packs: a mistake in a rule file is named by file, line and rule before anything runs under it.

Also: pack.yaml is checked like the rules, the shipped packs lint clean, a pack with errors is never loaded,
the revision fingerprints exactly the files that decide, and thousands of rules lint in a second or two.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from policy.issues import MAX_ISSUES_SHOWN_PER_FILE
from policy.loading import PolicyError
from policy.packs import REGISTRY_DIR, RULES_DIR, SHIPPED_PACKS, load_policy, read_pack
from tests.policy.helpers import faircrawl, only_error, write


@pytest.fixture(autouse=True)
def run_from_the_project_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    """Messages name files as the user passed them; rule files here live in tmp_path, outside the project."""
    monkeypatch.chdir(RULES_DIR.parent.parent)


SOUND_RULE = """\
rules:
  - id: collect
    description: d
    when: {purpose: collect_image}
    effect: allow
    citations: ["Act 1"]
"""

# -- one broken rule file, one clear error --------------------------------------------------------

# (rule file, line of the error, rule named, what the message says, what the hint says)
BROKEN_RULE_FILES = [
    pytest.param("""\
        rules:
          - id: bad-indent
            description: d
           effect: allow
        """, 4, None, "YAML syntax error", "indentation", id="yaml-syntax-error"),
    pytest.param("""\
        rules:
          - id: maybe-rule
            description: d
            when: {purpose: collect_image}
            effect: maybe
            citations: ["Act 1"]
        """, 5, "maybe-rule", "'maybe' is not one of ['allow', 'deny']", "", id="effect-maybe-is-not-allow-or-deny"),
    pytest.param("""\
        rules:
          - id: string-retention
            description: d
            when: {purpose: face_template}
            effect: allow
            obligations:
              templates: persist
              retention_days: a year
            citations: ["Act 1"]
        """, 8, "string-retention", "'a year' is not of type 'integer'", "expected integer",
        id="retention-days-must-be-a-number"),
    pytest.param("""\
        rules:
          - id: no-description
            when: {purpose: collect_image}
            effect: allow
            citations: ["Act 1"]
        """, 2, "no-description", "'description' is a required property", "", id="missing-required-field"),
    pytest.param("""\
        rules:
          - id: typo-rule
            description: d
            when: {purpose: collect_image}
            effect: allow
            citation: ["Act 1"]
        """, 6, "typo-rule", "unknown field 'citation'", "did you mean 'citations'?",
        id="unknown-rule-field-with-did-you-mean"),
    pytest.param("""\
        rules:
          - id: typo-in-when
            description: d
            when:
              purpose: collect_image
              jurisdictions: FR
            effect: allow
            citations: ["Act 1"]
        """, 6, "typo-in-when", "unknown field 'jurisdictions'", "did you mean 'jurisdiction'?",
        id="unknown-when-field-with-did-you-mean"),
    pytest.param("""\
        rules:
          - id: face-typo
            description: d
            when:
              purpose: collect_image
              signals:
                image.face: {gt: 0}
            effect: allow
            citations: ["Act 1"]
        """, 7, "face-typo", "unknown signal 'image.face'", "did you mean 'image.faces'?",
        id="unknown-signal-with-did-you-mean"),
    pytest.param("""\
        rules:
          - id: three-letters
            description: d
            when:
              purpose: collect_image
              jurisdiction: FRA
            effect: allow
            citations: ["Act 1"]
        """, 6, "three-letters", "unknown jurisdiction 'FRA'", "ISO 3166 code (FR)",
        id="unknown-jurisdiction-fra"),
    pytest.param("""\
        rules:
          - id: bad-except
            description: d
            when:
              purpose: collect_image
              except_jurisdiction: [EU, XX]
            effect: allow
            citations: ["Act 1"]
        """, 6, "bad-except", "unknown jurisdiction 'XX'", "", id="unknown-excepted-jurisdiction"),
    pytest.param("""\
        rules:
          - id: plural-purpose
            description: d
            when:
              purpose: collect_images
            effect: allow
            citations: ["Act 1"]
        """, 5, "plural-purpose", "unknown purpose 'collect_images'", "collect_image", id="unknown-purpose"),
    pytest.param("""\
        rules:
          - id: uncited
            description: d
            when: {purpose: collect_image}
            effect: allow
        """, 2, "uncited", "no citations", "cite the instrument and article", id="missing-citations"),
    pytest.param("""\
        rules:
          - id: empty-citations
            description: d
            when: {purpose: collect_image}
            effect: allow
            citations: []
        """, 6, "empty-citations", "no citations", "", id="empty-citations"),  # points at the empty list
    pytest.param("""\
        rules:
          - id: more-than-five-fewer-than-three
            description: d
            when:
              purpose: collect_image
              signals:
                image.faces: {gt: 5, lt: 3}
            effect: allow
            citations: ["Act 1"]
        """, 7, "more-than-five-fewer-than-three", "can never match: image.faces cannot be both >= 6 and <= 2", "",
        id="contradictory-gt-and-lt"),
    pytest.param("""\
        rules:
          - id: in-nothing
            description: d
            when:
              purpose: collect_image
              signals:
                terms.scraping: {in: []}
            effect: allow
            citations: ["Act 1"]
        """, 7, "in-nothing", "can never match: terms.scraping in an empty list", "", id="in-an-empty-list"),
    pytest.param("""\
        rules:
          - id: absent-and-tested
            description: d
            when:
              purpose: collect_image
              signals:
                image.faces: {present: false, gt: 0}
            effect: allow
            citations: ["Act 1"]
        """, 7, "absent-and-tested", "can never match: image.faces is tested although required absent", "",
        id="required-absent-and-tested"),
    pytest.param("""\
        rules:
          - id: equals-and-not
            description: d
            when:
              purpose: collect_image
              signals:
                terms.scraping: {equals: forbidden, not: forbidden}
            effect: allow
            citations: ["Act 1"]
        """, 7, "equals-and-not", "can never match: terms.scraping equals and not 'forbidden'", "",
        id="equals-and-not-the-same-value"),
    pytest.param("""\
        rules:
          - id: misspelt-value
            description: d
            when:
              purpose: collect_image
              signals:
                terms.scraping: forbiden
            effect: allow
            citations: ["Act 1"]
        """, 7, "misspelt-value", "terms.scraping is never 'forbiden'", "permitted, forbidden, unknown",
        id="a-value-the-signal-never-takes"),
    pytest.param("""\
        rules:
          - id: bool-as-string
            description: d
            when:
              purpose: collect_image
              signals:
                consent.biometric: "yes"
            effect: allow
            citations: ["Act 1"]
        """, 7, "bool-as-string", "consent.biometric is true or false, not 'yes'", "", id="a-bool-signal-given-a-string"),
    pytest.param("""\
        rules:
          - id: contains-on-a-string
            description: d
            when:
              purpose: collect_image
              signals:
                terms.scraping: {contains: forbidden}
            effect: allow
            citations: ["Act 1"]
        """, 7, "contains-on-a-string", "contains needs a list signal; terms.scraping is str", "",
        id="contains-on-a-string-signal"),
    pytest.param("""\
        rules:
          - id: france-but-not-the-eu
            description: d
            when:
              purpose: collect_image
              jurisdiction: FR
              except_jurisdiction: EU
            effect: allow
            citations: ["Act 1"]
        """, 7, "france-but-not-the-eu", "can never match: every jurisdiction it names is also excepted", "",
        id="jurisdiction-fully-excepted"),
    pytest.param("""\
        rules:
          - id: deny-everything
            description: d
            when: {purpose: collect_image}
            effect: deny
            citations: ["Act 1"]
          - id: allow-in-france
            description: d
            when: {purpose: collect_image, jurisdiction: FR}
            effect: allow
            citations: ["Act 2"]
        """, 7, "allow-in-france", "can never take effect: deny rule 'deny-everything'", "add conditions to the deny",
        id="allow-shadowed-by-an-unconditional-deny"),
    pytest.param("""\
        rules:
          - id: deny-in-the-eu
            description: d
            when: {purpose: [collect_image, fetch_image], jurisdiction: EU}
            effect: deny
            citations: ["Act 1"]
          - id: allow-in-germany
            description: d
            when: {purpose: collect_image, jurisdiction: DE}
            effect: allow
            citations: ["Act 2"]
        """, 7, "allow-in-germany", "can never take effect: deny rule 'deny-in-the-eu'", "",
        id="allow-shadowed-by-a-deny-for-its-whole-jurisdiction"),
    pytest.param("""\
        rules:
          - id: deny-anywhere
            description: d
            when: {purpose: collect_image, jurisdiction: '*'}
            effect: deny
            citations: ["Act 1"]
          - id: allow-everywhere
            description: d
            when: {purpose: collect_image}
            effect: allow
            citations: ["Act 2"]
        """, 7, "allow-everywhere", "can never take effect: deny rule 'deny-anywhere'", "",
        id="allow-shadowed-by-a-deny-for-any-jurisdiction"),
]


@pytest.mark.parametrize(("rule_yaml", "line", "rule_id", "message", "hint"), BROKEN_RULE_FILES)
def test_a_broken_rule_file_gives_one_error_naming_file_line_and_rule(
        tmp_path: Path, rule_yaml: str, line: int, rule_id: str | None, message: str, hint: str) -> None:
    rule_file = write(tmp_path / "broken.yaml", rule_yaml)

    error = only_error(read_pack(rule_file).issues)

    assert (error.path, error.line, error.rule_id) == (str(rule_file), line, rule_id), str(error)
    assert message in error.message
    assert hint in error.hint
    assert str(error).startswith(f"{rule_file}:{line}: error: {error.message}")
    if rule_id:
        assert f"[rule {rule_id}]" in str(error)


# Rules that are fine must stay fine: the linter must not cry wolf.
ACCEPTED_RULES = [
    pytest.param("when: {purpose: collect_image, jurisdiction: US, except_jurisdiction: US-IL}",
                 id="a-country-except-one-of-its-states"),
    pytest.param("when: {purpose: collect_image, jurisdiction: EU, except_jurisdiction: FR}",
                 id="a-group-except-one-member"),
    pytest.param("when: {purpose: collect_image, signals: {image.faces: {gte: 1, lte: 1}}}",
                 id="gte-and-lte-the-same-number"),
    pytest.param("when: {purpose: collect_image, signals: {terms.scraping: {not_in: []}}}",
                 id="not-in-an-empty-list-always-holds"),
    pytest.param("when: {purpose: collect_image, jurisdiction: [uk, us-il]}", id="lower-case-codes"),
]


@pytest.mark.parametrize("when", ACCEPTED_RULES)
def test_a_sound_rule_has_no_error(tmp_path: Path, when: str) -> None:
    rule_file = write(tmp_path / "sound.yaml", f"""\
        rules:
          - id: sound
            description: d
            {when}
            effect: allow
            citations: ["Act 1"]
        """)

    assert read_pack(rule_file).errors == []


def test_a_deny_with_a_condition_does_not_shadow_an_allow(tmp_path: Path) -> None:
    rule_file = write(tmp_path / "rules.yaml", """\
        rules:
          - id: deny-opted-out
            description: d
            when: {purpose: collect_image, signals: {image.robots: {contains: noai}}}
            effect: deny
            citations: ["Act 1"]
          - id: allow
            description: d
            when: {purpose: collect_image}
            effect: allow
            citations: ["Act 2"]
        """)

    assert read_pack(rule_file).errors == []


def test_the_same_rule_id_in_two_files_names_both_places(tmp_path: Path) -> None:
    first = write(tmp_path / "pack" / "a.yaml", SOUND_RULE)
    second = write(tmp_path / "pack" / "b.yaml", "# the same rule again\n" + SOUND_RULE)

    error = only_error(read_pack(tmp_path / "pack").issues)

    assert (error.path, error.line, error.rule_id) == (str(second), 3, "collect")
    assert error.message == "duplicate rule id 'collect'"
    assert f"first defined at {first}:2" in error.hint


def test_a_duplicate_key_in_a_mapping_is_named_by_line(tmp_path: Path) -> None:
    rule_file = write(tmp_path / "rules.yaml", """\
        rules:
          - id: twice
            description: d
            when: {purpose: collect_image}
            effect: allow
            effect: deny
            citations: ["Act 1"]
        """)

    error = only_error(read_pack(rule_file).issues)

    assert (error.path, error.line) == (str(rule_file), 6)
    assert error.message == "duplicate key 'effect'"


def test_a_pack_without_rules_is_an_error(tmp_path: Path) -> None:
    write(tmp_path / "empty" / "pack.yaml", "name: empty\n")

    error = only_error(read_pack(tmp_path / "empty").issues)

    assert error.message == "no rules found"


def test_an_unknown_pack_name_says_which_packs_exist() -> None:
    with pytest.raises(PolicyError, match="no rule pack 'lawfull': use one of lawful, unlawful-demo"):
        read_pack("lawfull")


def test_load_policy_refuses_a_pack_with_errors_and_lists_every_one(tmp_path: Path) -> None:
    pack = tmp_path / "broken"
    write(pack / "pack.yaml", "name: broken\n")
    bad_jurisdiction = write(pack / "a.yaml", """\
        rules:
          - id: a
            description: d
            when: {purpose: collect_image, jurisdiction: FRA}
            effect: allow
            citations: ["Act 1"]
        """)
    bad_effect = write(pack / "b.yaml", """\
        rules:
          - id: b
            description: d
            when: {purpose: collect_image}
            effect: maybe
            citations: ["Act 1"]
        """)

    with pytest.raises(PolicyError) as raised:
        load_policy(pack)

    message = str(raised.value)
    assert message.startswith("rule pack 'broken' has 2 error(s); nothing runs under it:")
    assert f"{bad_jurisdiction}:4: error: unknown jurisdiction 'FRA' [rule a]" in message
    assert f"{bad_effect}:5: error: 'maybe' is not one of ['allow', 'deny'] [rule b]" in message


def test_an_extra_rules_file_is_linted_with_the_pack(tmp_path: Path) -> None:
    extra = write(tmp_path / "extra.yaml", """\
        rules:
          - id: robots-allows-fetch
            description: the same id as a lawful rule
            when: {purpose: fetch_page}
            effect: allow
            citations: ["Act 1"]
        """)

    with pytest.raises(PolicyError, match=rf"{extra}:2: error: duplicate rule id 'robots-allows-fetch'"):
        load_policy("lawful", [extra])


# -- the shipped packs --------------------------------------------------------------------------


@pytest.mark.parametrize("pack_name", SHIPPED_PACKS)
def test_a_shipped_pack_lints_with_no_error_and_no_warning(pack_name: str) -> None:
    pack = read_pack(pack_name)
    # The unlawful demo keeps templates forever on purpose (as Clearview did): lint must say so, and only that.
    expected = ["templates persist with no retention_days: kept indefinitely"] if pack_name == "unlawful-demo" else []

    assert [i.message for i in pack.issues] == expected, "\n".join(map(str, pack.issues))
    assert pack.rules and pack.test_files


def test_persisting_templates_without_a_retention_limit_is_flagged(tmp_path) -> None:  # type: ignore[no-untyped-def]
    rules = tmp_path / "forever.yaml"
    rules.write_text("rules:\n  - id: keep-forever\n    description: d\n    when: {purpose: face_template}\n"
                     "    effect: allow\n    obligations: {templates: persist}\n    citations: [x]\n")
    issues = [i for i in read_pack(rules).issues if "retention_days" in i.message]
    assert len(issues) == 1 and issues[0].severity == "warning" and issues[0].rule_id == "keep-forever"


def test_only_the_unlawful_demo_pack_is_restricted_to_the_test_sites() -> None:
    assert read_pack("unlawful-demo").requires_testsites is True
    assert read_pack("lawful").requires_testsites is False


# -- the revision -----------------------------------------------------------------------------


def copy_of_lawful(tmp_path: Path) -> Path:
    return Path(shutil.copytree(RULES_DIR / "lawful", tmp_path / "lawful"))


def test_the_revision_names_the_pack_and_is_stable(tmp_path: Path) -> None:
    first, second = load_policy("lawful").revision, load_policy("lawful").revision

    assert first == second
    assert first.startswith("lawful@") and len(first) == len("lawful@") + 16
    assert load_policy(copy_of_lawful(tmp_path)).revision == first, "the same files give the same revision anywhere"


def test_the_revision_changes_when_a_rule_file_changes(tmp_path: Path) -> None:
    pack = copy_of_lawful(tmp_path)
    before = load_policy(pack).revision
    eu = pack / "eu.yaml"

    eu.write_text(eu.read_text().replace("retention_days: 365", "retention_days: 30"))

    assert load_policy(pack).revision != before


def test_the_revision_ignores_the_pack_tests(tmp_path: Path) -> None:
    pack = copy_of_lawful(tmp_path)
    before = load_policy(pack).revision

    (pack / "tests" / "signals.yaml").write_text("cases: []\n")

    assert load_policy(pack).revision == before


def test_the_revision_changes_with_an_extra_rule_file_or_a_registry(tmp_path: Path) -> None:
    base = load_policy("lawful").revision
    extra = write(tmp_path / "extra.yaml", """\
        rules:
          - id: extra-allow
            description: d
            when: {purpose: collect_image}
            effect: allow
            citations: ["Act 1"]
        """)
    sites = write(tmp_path / "sites.yaml", "sites: [{host: shop.example.com, jurisdiction: US-IL}]\n")

    with_extra = load_policy("lawful", [extra]).revision
    with_sites = load_policy("lawful", site_registries=[REGISTRY_DIR / "sites.yaml", sites]).revision

    assert len({base, with_extra, with_sites}) == 3


# -- pack.yaml ---------------------------------------------------------------------------------

# (a line of pack.yaml after "name: p", the message, the hint)
BROKEN_PACK_YAML = [
    pytest.param('ignores_opt_outs: "false"', "'false' is not of type 'boolean'", "write true or false without quotes",
                 id="quoted-false-is-not-a-boolean"),
    pytest.param("requires_testsites: 0", "0 is not of type 'boolean'", "expected boolean", id="zero-is-not-false"),
    pytest.param("follows_nofollow_links: yes please", "'yes please' is not of type 'boolean'", "expected boolean",
                 id="words-are-not-booleans"),
    pytest.param("ignore_opt_outs: true", "unknown field 'ignore_opt_outs'", "did you mean 'ignores_opt_outs'?",
                 id="unknown-field-with-did-you-mean"),
    pytest.param("description: [a, b]", "['a', 'b'] is not of type 'string'", "expected string", id="description-list"),
]


def pack_folder(tmp_path: Path, pack_yaml: str) -> tuple[Path, Path]:
    pack = tmp_path / "pack"
    write(pack / "rules.yaml", SOUND_RULE)
    return pack, write(pack / "pack.yaml", pack_yaml)


@pytest.mark.parametrize(("line_text", "message", "hint"), BROKEN_PACK_YAML)
def test_a_broken_pack_yaml_is_an_error_naming_file_and_line(tmp_path: Path, line_text: str, message: str,
                                                            hint: str) -> None:
    pack, pack_yaml = pack_folder(tmp_path, f"name: p\n{line_text}\n")

    read = read_pack(pack)
    error = only_error(read.issues)

    assert (error.path, error.line, error.message) == (str(pack_yaml), 2, message)
    assert hint in error.hint
    assert read.ignores_opt_outs is False and read.follows_nofollow_links is False
    with pytest.raises(PolicyError, match=rf"{pack_yaml}:2: error: "):
        load_policy(pack)


@pytest.mark.parametrize(("pack_yaml", "line", "message"), [
    pytest.param("- name: p\n", 1, "is not of type 'object'", id="a-list-not-a-mapping"),
    pytest.param("name: ../../etc\n", 1, "does not match", id="a-name-that-is-a-path"),
    pytest.param("name: p\nname: q\n", 2, "duplicate key 'name'", id="duplicate-key"),
])
def test_a_pack_yaml_of_the_wrong_shape_is_an_error(tmp_path: Path, pack_yaml: str, line: int, message: str) -> None:
    pack, path = pack_folder(tmp_path, pack_yaml)

    error = only_error(read_pack(pack).issues)

    assert (error.path, error.line) == (str(path), line)
    assert message in error.message


def test_pack_yaml_switches_are_read_when_they_are_booleans(tmp_path: Path) -> None:
    pack, _ = pack_folder(tmp_path, "name: demo\ndescription: d\nrequires_testsites: true\n"
                                    "follows_nofollow_links: true\nignores_opt_outs: false\n")

    read = read_pack(pack)

    assert read.errors == []
    assert (read.name, read.requires_testsites, read.follows_nofollow_links, read.ignores_opt_outs) == (
        "demo", True, True, False)


def test_lint_shows_pack_yaml_errors(tmp_path: Path) -> None:
    pack, pack_yaml = pack_folder(tmp_path, 'name: p\nignores_opt_outs: "false"\n')

    process = faircrawl("policy", "lint", str(pack))

    assert process.returncode == 1, process.stdout + process.stderr
    assert f"{pack_yaml}:2: error: 'false' is not of type 'boolean'" in process.stdout
    assert "Traceback" not in process.stderr


# -- many rules --------------------------------------------------------------------------------


def many_rules_pack(tmp_path: Path, denies: int, allows: int) -> Path:
    deny = "  - {{id: deny-{0}, description: d, when: {{purpose: collect_image, jurisdiction: EU}}, effect: deny, " \
           "citations: [x]}}\n"
    allow = "  - {{id: allow-{0}, description: d, when: {{purpose: collect_image, jurisdiction: [FR, DE]}}, " \
            "effect: allow, citations: [x], obligations: {{retention_days: {0}}}}}\n"
    text = "rules:\n" + "".join(deny.format(i) for i in range(denies)) + "".join(allow.format(i) for i in range(allows))
    return write(tmp_path / "pack" / "rules.yaml", text).parent


def test_thousands_of_shadowed_allows_lint_fast_with_one_error_each(tmp_path: Path) -> None:
    pack = many_rules_pack(tmp_path, 2000, 2000)

    started = time.monotonic()
    read = read_pack(pack)
    elapsed = time.monotonic() - started

    shadowed = [i for i in read.errors if "can never take effect" in i.message]
    assert len(read.rules) == 4000
    assert elapsed < 5.0, f"lint took {elapsed:.1f} s"  # about 1.3 s on an idle 2-core machine; quadratic took minutes
    assert sorted(i.rule_id or "" for i in shadowed) == sorted(f"allow-{i}" for i in range(2000))
    assert all("deny rule 'deny-0'" in i.message and "1999 other unconditional deny rule(s)" in i.message
               for i in shadowed)


def test_lint_output_is_capped_per_file(tmp_path: Path) -> None:
    pack = many_rules_pack(tmp_path, 300, 300)

    process = faircrawl("policy", "lint", str(pack))

    issues = len(read_pack(pack).issues)
    assert process.returncode == 1
    assert process.stdout.count(": error: ") + process.stdout.count(": warning: ") == MAX_ISSUES_SHOWN_PER_FILE
    assert f"{pack / 'rules.yaml'}: ... and {issues - MAX_ISSUES_SHOWN_PER_FILE} more" in process.stdout
    assert f"{len(read_pack(pack).errors)} errors" in process.stdout


def test_load_policy_lists_a_capped_number_of_errors(tmp_path: Path) -> None:
    pack = many_rules_pack(tmp_path, 300, 300)

    with pytest.raises(PolicyError) as raised:
        load_policy(pack)

    assert str(raised.value).count(": error: ") == MAX_ISSUES_SHOWN_PER_FILE
    assert "... and 250 more" in str(raised.value)


@pytest.mark.parametrize("switch", [
    "ignores_opt_outs: true", "follows_nofollow_links: true",
    "rights_practice:\n  deletion: refused\n  breaches:\n    deletion: [GDPR Art. 17(1)]",
])
@pytest.mark.parametrize("testsites", ["", "requires_testsites: false\n"])
def test_a_pack_that_switches_a_protection_off_must_be_restricted_to_the_test_sites(
        tmp_path: Path, switch: str, testsites: str) -> None:
    pack, pack_yaml = pack_folder(tmp_path, f"name: p\n{testsites}{switch}\n")

    read = read_pack(pack)
    error = only_error(read.issues)

    assert error.path == str(pack_yaml) and "requires_testsites" in error.message
    assert "test sites" in error.hint
    assert read.requires_testsites is True and read.rights_practice is None and read.ignores_opt_outs is False
    with pytest.raises(PolicyError):
        load_policy(pack)
