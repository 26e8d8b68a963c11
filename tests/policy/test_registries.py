"""The site and terms registries: checked by JSON Schema and by meaning, every problem named by file and line.

An entry covers its host and every subdomain, so a host that widens (``com``), a host that can never match
(a URL, a wildcard, a Unicode name compared with the crawler's IDNA form) or two entries for one host are
errors, and nothing runs under a registry that has one.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from w3lib.url import safe_url_string

from policy.jurisdiction import SiteRegistry, resolve
from policy.loading import PolicyError
from policy.packs import REGISTRY_DIR, lint_registries, load_policy
from policy.terms import TermsRegistry
from tests.policy.helpers import faircrawl, only_error, write


def site(host: str, jurisdiction: str = "US-IL") -> str:
    return f"  - host: {host}\n    jurisdiction: {jurisdiction}\n"


# -- hosts ---------------------------------------------------------------------------------------

BAD_HOSTS = [
    pytest.param("com", "public suffix", id="com-would-cover-every-dot-com-site"),
    pytest.param("co.uk", "public suffix", id="co-uk"),
    pytest.param("github.io", "public suffix", id="github-io"),
    pytest.param('""', "empty", id="empty"),
    pytest.param('"*"', "wildcard", id="star"),
    pytest.param('"*.example.com"', "wildcard", id="wildcard"),
    pytest.param("..", "empty label", id="dots"),
    pytest.param("http://x/", "URL", id="url"),
    pytest.param("shop.example.com/terms", "path", id="path"),
    pytest.param('"shop.example.com:8080"', "port", id="port"),
    pytest.param('"shop example.com"', "whitespace", id="whitespace"),
    pytest.param("sh_op.example.com", "not a valid host name", id="bad-label"),
    pytest.param("localhost", "no registrable domain", id="localhost"),
]


@pytest.mark.parametrize(("host", "problem"), BAD_HOSTS)
def test_a_site_host_a_registry_may_not_name_is_an_error_at_its_line(tmp_path: Path, host: str, problem: str) -> None:
    registry = write(tmp_path / "sites.yaml", "sites:\n" + site("shop.example.com") + site(host, "US-CA"))

    sites, issues = SiteRegistry.read([registry])
    error = only_error(issues)

    assert (error.path, error.line) == (str(registry), 4)
    assert problem in error.message and error.message.startswith("host ")
    assert "shop.example.com" in error.hint
    assert sites.lookup("shop.example.com") is not None


@pytest.mark.parametrize(("host", "problem"), BAD_HOSTS)
def test_a_terms_host_a_registry_may_not_name_is_an_error_at_its_line(tmp_path: Path, host: str, problem: str) -> None:
    registry = write(tmp_path / "terms.yaml", f"terms:\n  - host: {host}\n    reviewed: 2026-11-01\n")

    error = only_error(TermsRegistry.read([registry])[1])

    assert (error.path, error.line, problem in error.message) == (str(registry), 2, True), str(error)


def test_a_registry_entry_for_com_never_reaches_a_crawl(tmp_path: Path) -> None:
    registry = write(tmp_path / "sites.yaml", "sites:\n" + site("com", "US-CA"))

    with pytest.raises(PolicyError, match=rf"{registry}:2: error: host 'com': 'com' is a public suffix"):
        load_policy("lawful", site_registries=[registry])


def test_a_unicode_host_matches_the_idna_host_the_crawler_fetches(tmp_path: Path) -> None:
    terms = write(tmp_path / "terms.yaml", """\
        terms:
          - host: bücher.example.com
            scraping: forbidden
            biometric: forbidden
            reviewed: 2026-11-01
        """)
    sites = write(tmp_path / "sites.yaml", "sites:\n" + site("bücher.example.com", "DE"))
    crawled = safe_url_string("http://bücher.example.com/team/portrait.jpg")
    assert crawled == "http://xn--bcher-kva.example.com/team/portrait.jpg"

    policy = load_policy("lawful", site_registries=[sites], terms_registries=[terms])

    assert policy.terms.signals_for(crawled)["terms.scraping"] == "forbidden"
    assert policy.terms.signals_for("http://img.bücher.example.com/a.jpg")["terms.scraping"] == "forbidden"
    assert resolve(crawled, policy.sites).code == "DE"


def test_an_idna_host_in_the_registry_matches_a_unicode_url(tmp_path: Path) -> None:
    registry = write(tmp_path / "sites.yaml", "sites:\n" + site("xn--bcher-kva.example.com", "AT"))

    assert resolve("http://BÜCHER.example.com./", SiteRegistry.load([registry])).code == "AT"


# -- duplicates ------------------------------------------------------------------------------------


def test_one_host_with_two_jurisdictions_is_an_error_naming_both_places(tmp_path: Path) -> None:
    registry = write(tmp_path / "sites.yaml", "sites:\n" + site("shop.example.com", "US-IL")
                     + site("Shop.Example.com.", "FR"))

    error = only_error(SiteRegistry.read([registry])[1])

    assert (error.path, error.line) == (str(registry), 4)
    assert f"conflicts with the entry for shop.example.com at {registry}:2" in error.message


def test_one_host_in_two_registry_files_with_two_jurisdictions_is_an_error(tmp_path: Path) -> None:
    first = write(tmp_path / "a" / "sites.yaml", "sites:\n" + site("shop.example.com", "US-IL"))
    second = write(tmp_path / "b" / "sites.yaml", "# the catalog's\nsites:\n" + site("shop.example.com", "US-CA"))

    error = only_error(SiteRegistry.read([first, second])[1])

    assert (error.path, error.line) == (str(second), 3)
    assert f"at {first}:2" in error.message
    with pytest.raises(PolicyError, match="conflicts with the entry"):
        load_policy("lawful", site_registries=[first, second])


def test_an_identical_duplicate_is_a_warning_and_the_registry_is_used(tmp_path: Path) -> None:
    registry = write(tmp_path / "sites.yaml", "sites:\n" + site("shop.example.com", "us-il") + site("shop.example.com"))

    sites, issues = SiteRegistry.read([registry])

    assert [(i.severity, i.line) for i in issues] == [("warning", 4)]
    assert "repeats the entry for shop.example.com" in issues[0].message
    assert SiteRegistry.load([registry]).lookup("shop.example.com") is not None


def test_two_different_terms_entries_for_one_host_are_an_error(tmp_path: Path) -> None:
    registry = write(tmp_path / "terms.yaml", """\
        terms:
          - {host: photos.example.com, scraping: permitted, reviewed: 2026-11-01}
          - {host: PHOTOS.example.com, scraping: forbidden, reviewed: 2026-11-01}
        """)

    error = only_error(TermsRegistry.read([registry])[1])

    assert (error.line, "conflicts with the entry for photos.example.com" in error.message) == (3, True)


def test_identical_terms_entries_are_a_warning(tmp_path: Path) -> None:
    registry = write(tmp_path / "terms.yaml", """\
        terms:
          - {host: photos.example.com, scraping: unknown, reviewed: 2026-11-01}
          - {host: photos.example.com, reviewed: 2026-11-01}
        """)

    assert [(i.severity, i.line) for i in TermsRegistry.read([registry])[1]] == [("warning", 3)]


# -- shape and meaning -----------------------------------------------------------------------------

BROKEN_SITE_REGISTRIES = [
    pytest.param("sites:\n" + site("shop.example.com") + site("boutique.example.com", "FRA"), 5,
                 "unknown jurisdiction 'FRA'", "ISO 3166", id="bad-jurisdiction"),
    pytest.param("sites:\n" + site("shop.example.com", '"*"'), 3, "'*' is for rules", "", id="star-jurisdiction"),
    pytest.param("sites:\n  - host: shop.example.com\n    note: no jurisdiction given\n", 2,
                 "'jurisdiction' is a required property", "US-IL", id="missing-jurisdiction"),
    pytest.param("sites:\n  - jurisdiction: FR\n", 2, "'host' is a required property", "shop.example.com",
                 id="missing-host"),
    pytest.param("sites:\n" + site("shop.example.com") + "    jurisdicton: FR\n", 4, "unknown field 'jurisdicton'",
                 "did you mean 'jurisdiction'?", id="unknown-field-with-did-you-mean"),
    pytest.param("sites:\n  - {host: 42, jurisdiction: FR}\n", 2, "42 is not of type 'string'", "expected string",
                 id="host-not-text"),
    pytest.param("sites: shop.example.com\n", 1, "'shop.example.com' is not of type 'array'", "expected array",
                 id="sites-not-a-list"),
    pytest.param("site:\n" + site("shop.example.com"), 1, "unknown field 'site'", "did you mean 'sites'?",
                 id="misspelled-list"),
    pytest.param("", 1, "None is not of type 'object'", "", id="empty-file"),
    pytest.param("sites:\n  - host: shop.example.com\n  jurisdiction: FR\n", 3, "YAML syntax error", "indentation",
                 id="yaml-syntax-error"),
]


@pytest.mark.parametrize(("registry_yaml", "line", "message", "hint"), BROKEN_SITE_REGISTRIES)
def test_a_broken_site_registry_names_file_and_line(tmp_path: Path, registry_yaml: str, line: int, message: str,
                                                    hint: str) -> None:
    registry = write(tmp_path / "sites.yaml", registry_yaml)

    error = only_error(SiteRegistry.read([registry])[1])

    assert (error.path, error.line) == (str(registry), line), str(error)
    assert message in error.message and hint in error.hint, str(error)
    with pytest.raises(PolicyError, match=rf"{registry}:{line}: error: "):
        SiteRegistry.load([registry])


TERMS_ENTRY = "  - {host: photos.example.com, scraping: permitted, biometric: forbidden, reviewed: 2026-11-01}\n"

BROKEN_TERMS_REGISTRIES = [
    pytest.param(TERMS_ENTRY + "  - {host: other.example.com, scraping: permitted}\n", 3,
                 "'reviewed' is a required property", "the date a person read the terms", id="missing-reviewed"),
    pytest.param("  - {host: a.example.com, reviewed: 2026-13-45}\n", 2, "!!timestamp value '2026-13-45' cannot be read",
                 "fix the value", id="impossible-reviewed-date"),
    pytest.param("  - {host: a.example.com, reviewed: '2026-13-45'}\n", 2, "'2026-13-45' is not a 'date'", "2026-11-01",
                 id="impossible-quoted-reviewed-date"),
    pytest.param("  - {host: a.example.com, reviewed: '1 November'}\n", 2, "is not a 'date'", "", id="reviewed-prose"),
    pytest.param("  - {scraping: permitted, reviewed: 2026-11-01}\n", 2, "'host' is a required property", "",
                 id="missing-host"),
    pytest.param("  - {host: a.example.com, scraping: maybe, reviewed: 2026-11-01}\n", 2,
                 "'maybe' is not one of ['permitted', 'forbidden', 'unknown']", "", id="scraping-answer-unknown"),
    pytest.param("  - {host: a.example.com, reviewd: 2026-11-01}\n", 2, "unknown field 'reviewd'",
                 "did you mean 'reviewed'?", id="unknown-field"),
    pytest.param("  - {host: a.example.com, reviewed: 2026-11-01, consent: {templates: persist}}\n", 2,
                 "'basis' is a required property", "what was recorded", id="consent-without-basis"),
    pytest.param("  - {host: a.example.com, reviewed: 2026-11-01, consent: {basis: releases, templates: forever}}\n",
                 2, "'forever' is not one of ['transient', 'persist']", "", id="consent-templates-unknown"),
    pytest.param("  - {host: a.example.com, reviewed: 2026-11-01, consent: {basis: r, retention_days: -1}}\n",
                 2, "-1 is less than the minimum of 0", "", id="negative-retention"),
    pytest.param("  - {host: a.example.com, reviewed: 2026-11-01, consent: {basis: r, retention_days: '365'}}\n",
                 2, "'365' is not of type 'integer'", "", id="retention-as-text"),
]


@pytest.mark.parametrize(("entries_yaml", "line", "message", "hint"), BROKEN_TERMS_REGISTRIES)
def test_a_broken_terms_registry_names_file_and_line(tmp_path: Path, entries_yaml: str, line: int, message: str,
                                                     hint: str) -> None:
    registry = write(tmp_path / "terms.yaml", "terms:\n" + entries_yaml)

    error = only_error(TermsRegistry.read([registry])[1])

    assert (error.path, error.line) == (str(registry), line), str(error)
    assert message in error.message and hint in error.hint, str(error)


def test_every_problem_of_a_registry_is_reported_once(tmp_path: Path) -> None:
    registry = write(tmp_path / "sites.yaml", "sites:\n" + site("com") + site('"*.example.com"') + site("a.example.com", "XX")
                     + site("b.example.com") + site("b.example.com", "FR"))

    issues = SiteRegistry.read([registry])[1]

    assert [(i.severity, i.line) for i in issues] == [("error", 2), ("error", 4), ("error", 7), ("error", 10)]


def test_a_consent_is_read_with_its_defaults(tmp_path: Path) -> None:
    registry = write(tmp_path / "terms.yaml", "terms:\n  - {host: r.example.com, reviewed: 2026-11-01, "
                                              "consent: {basis: written releases}}\n")

    entry = TermsRegistry.load([registry]).lookup("http://www.r.example.com/a.jpg")

    assert entry is not None
    assert (entry.scraping, entry.consent_basis, entry.consent_templates, entry.source) == (
        "unknown", "written releases", "transient", f"{registry}:2")


def test_the_shipped_and_catalog_registries_have_no_problem() -> None:
    from crawler.testsites.registry import TESTSITE_SITE_REGISTRY, TESTSITE_TERMS_REGISTRY

    assert lint_registries([REGISTRY_DIR / "sites.yaml", TESTSITE_SITE_REGISTRY],
                           [REGISTRY_DIR / "terms.yaml", TESTSITE_TERMS_REGISTRY]) == []


def test_lint_reports_registry_problems_by_file_and_line(tmp_path: Path) -> None:
    sites = write(tmp_path / "sites.yaml", "sites:\n" + site("com"))
    terms = write(tmp_path / "terms.yaml", "terms:\n  - {host: a.example.com}\n")

    process = faircrawl("policy", "lint", "--sites", str(sites), "--terms", str(terms))

    assert process.returncode == 1, process.stdout + process.stderr
    assert f"{sites}:2: error: host 'com': 'com' is a public suffix" in process.stdout
    assert f"{terms}:2: error: 'reviewed' is a required property" in process.stdout
    assert "registries: 2 errors, 0 warnings" in process.stdout
    assert "Traceback" not in process.stderr


# -- consent per site is not consent to faircrawl (issue 11; GDPR Art. 4(11), 9(2)(a); 740 ILCS 14/15(b)) --------


def test_a_release_given_to_the_site_is_recorded_but_is_not_consent_to_faircrawl(tmp_path: Path) -> None:
    registry = write(tmp_path / "terms.yaml", "terms:\n  - {host: stock.example.com, reviewed: 2026-11-01, consent: "
                                              "{basis: model releases to the agency, to: stock.example.com, "
                                              "purposes: [collect_image, face_template]}}\n")

    signals = TermsRegistry.load([registry]).signals_for("http://stock.example.com/a.jpg")

    assert signals["consent.biometric"] is False and "consent.purposes" not in signals


def test_a_consent_to_faircrawl_carries_its_purposes_and_retention(tmp_path: Path) -> None:
    registry = write(tmp_path / "terms.yaml", "terms:\n  - {host: r.example.com, reviewed: 2026-11-01, consent: "
                                              "{basis: written releases, to: faircrawl, purposes: [face_template], "
                                              "templates: persist, retention_days: 90}}\n")

    signals = TermsRegistry.load([registry]).signals_for("http://r.example.com/a.jpg")

    assert signals["consent.biometric"] is True
    assert (signals["consent.purposes"], signals["consent.retention_days"]) == (["face_template"], 90)


def test_a_consent_without_a_recipient_does_not_count(tmp_path: Path) -> None:
    registry = write(tmp_path / "terms.yaml", "terms:\n  - {host: r.example.com, reviewed: 2026-11-01, "
                                              "consent: {basis: written releases}}\n")

    assert TermsRegistry.load([registry]).signals_for("http://r.example.com/a.jpg")["consent.biometric"] is False


@pytest.mark.parametrize(("consent", "message"), [
    ("{basis: r, to: faircrawl, purposes: []}", "should be non-empty"),
    ("{basis: r, to: faircrawl, purposes: [train_models]}", "'train_models' is not one of"),
])
def test_a_consent_names_known_purposes(tmp_path: Path, consent: str, message: str) -> None:
    registry = write(tmp_path / "terms.yaml", f"terms:\n  - {{host: r.example.com, reviewed: 2026-11-01, consent: {consent}}}\n")

    assert message in only_error(TermsRegistry.read([registry])[1]).message


# -- registries from outside the code (issue 11): --sites/--terms, FAIRCRAWL_SITES/FAIRCRAWL_TERMS -----------------


def test_explain_uses_a_registry_given_with_sites_and_refuses_a_broken_one(tmp_path: Path) -> None:
    broken = write(tmp_path / "ours" / "sites.yaml", "sites:\n" + site("com"))

    process = faircrawl("policy", "explain", "--sites", str(broken), "http://example.com/a.jpg")

    assert process.returncode != 0
    assert f"{broken}:2: error: host 'com'" in process.stderr


def test_policy_lint_checks_the_registries_named_in_the_environment(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    broken = write(tmp_path / "ours" / "terms.yaml", "terms:\n  - {host: a.example.com}\n")
    monkeypatch.setenv("FAIRCRAWL_TERMS", str(broken))

    process = faircrawl("policy", "lint")

    assert process.returncode == 1
    assert f"{broken}:2: error:" in process.stdout


# -- sites listed as infringing copyright (GPAI Code of Practice, copyright chapter; reference §9.5) -----------------


def test_a_listing_as_infringing_is_read_with_who_listed_it(tmp_path: Path) -> None:
    registry = write(tmp_path / "terms.yaml", "terms:\n  - {host: pirate.example.com, reviewed: 2026-12-01, "
                                              "listed_infringing: {by: a court of Milan, listed: 2026-11-30}}\n")

    terms = TermsRegistry.load([registry])

    assert terms.signals_for("http://www.pirate.example.com/a.jpg")["terms.listed_infringing"] is True
    assert terms.lookup("http://pirate.example.com/").listed_infringing_by == "a court of Milan"  # type: ignore[union-attr]
    assert terms.signals_for("http://other.example.com/a.jpg")["terms.listed_infringing"] is False


def test_a_listing_must_say_who_listed_the_site(tmp_path: Path) -> None:
    registry = write(tmp_path / "terms.yaml", "terms:\n  - {host: pirate.example.com, reviewed: 2026-12-01,\n"
                                              "     listed_infringing: {url: 'https://list.example/'}}\n")

    issue = only_error(TermsRegistry.read([registry])[1])

    assert "'by' is a required property" in issue.message and f"{registry}:" in str(issue)
