"""Real crawls of the faces-token, RSL, tdm-policy and verified-crawler test sites under both packs (issue 11)."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.identity import user_agent
from crawler.settings import setting
from crawler.testsites import build_catalog
from crawler.testsites.photos import face_photo
from tests.conftest import CrawlResult, crawl, run_faircrawl

SITES = ["http://faces-token.example.com/", "http://faces-token-ca.example.com/", "http://rsl.example.com/", "http://rsl-page.example.com/",
         "http://rsl-licensed.example.com/", "http://tdm-policy.example.com/", "http://verified.example.com/"]
PACKS = ("lawful", "unlawful-demo")


@pytest.fixture(scope="module")
def crawls(tmp_path_factory: pytest.TempPathFactory) -> dict[str, CrawlResult]:
    results = {}
    for pack in PACKS:
        workdir = tmp_path_factory.mktemp(f"identity-{pack}")
        results[pack] = crawl(workdir, f"sqlite:///{workdir}/f.db", "--testsites", "--policy", pack, *SITES)
    return results


def _expected(pack: str) -> list[tuple[str, str, tuple[str, str]]]:
    hosts = {url.split("/")[2] for url in SITES}
    return [(e.url, e.kind, e.for_pack(pack)) for e in build_catalog().expected()  # type: ignore[misc]
            if e.url.split("/")[2] in hosts and e.for_pack(pack)]


@pytest.mark.parametrize("pack", PACKS)
def test_every_expectation_of_the_new_sites_holds(crawls: dict[str, CrawlResult], pack: str) -> None:
    for url, kind, (outcome, reason) in _expected(pack):
        decision = crawls[pack].decision(url, kind)
        assert decision["outcome"] == outcome, (url, decision["reasons"])
        assert reason in [r["code"] for r in decision["reasons"]], (url, decision["reasons"])


def test_faces_token_refusal_cites_its_line_and_runs_no_detection(crawls: dict[str, CrawlResult]) -> None:
    decision = crawls["lawful"].decision("http://faces-token.example.com/people/view.jpg", "image")
    token = next(r for r in decision["reasons"] if r["code"] == "faces.token_disallowed")
    assert token["evidence"]["rule"] == "Disallow: /people/" and token["evidence"]["line"] == 2
    assert token["evidence"]["token"] == "faircrawl-faces"
    codes = {r["code"] for r in decision["reasons"]}
    assert not codes & {"faces.detected", "faces.none", "faces.known_image"}  # nothing was searched
    assert decision["signals"]["robots.faces_allowed"] is False and decision["signals"]["image.faces"] == 1


def test_faces_token_allowed_elsewhere_on_the_site(crawls: dict[str, CrawlResult]) -> None:
    decision = crawls["lawful"].decision("http://faces-token.example.com/img/view.jpg", "image")
    assert decision["signals"]["robots.faces_allowed"] is True and decision["outcome"] == "stored"


def test_unlawful_pack_processes_faces_anyway_and_records_the_breach(crawls: dict[str, CrawlResult]) -> None:
    decision = crawls["unlawful-demo"].decision("http://faces-token.example.com/people/portrait.jpg", "image")
    assert "RFC 9309 §2.2.1 (faircrawl-faces disallow ignored)" in decision["breaches"]
    assert "faces.detected" in [r["code"] for r in decision["reasons"]]


def test_user_agent_links_to_the_bot_page_and_names_both_tokens() -> None:
    settings = {"FAIRCRAWL_PRODUCT_TOKEN": "faircrawl", "FAIRCRAWL_FACES_TOKEN": "faircrawl-faces",
                "FAIRCRAWL_BOT_INFO_URL": "https://crawler.example.org/bot"}
    assert user_agent(settings) == ("faircrawl/0.1 (+https://crawler.example.org/bot; "
                                    "robots.txt tokens: faircrawl, faircrawl-faces)")
    page = (Path(__file__).resolve().parents[2] / "docs" / "bot.md").read_text()
    assert "faircrawl-faces" in page and "http-message-signatures-directory" in page


def test_faces_token_setting_is_checked() -> None:
    from policy.errors import ConfigError

    assert setting({"FAIRCRAWL_FACES_TOKEN": None}, "FAIRCRAWL_FACES_TOKEN") == "faircrawl-faces"
    with pytest.raises(ConfigError):
        setting({"FAIRCRAWL_FACES_TOKEN": "faces/1.0"}, "FAIRCRAWL_FACES_TOKEN")


def test_rsl_refusal_names_the_licence_scope(crawls: dict[str, CrawlResult]) -> None:
    decision = crawls["lawful"].decision("http://rsl.example.com/paid/c.jpg", "image")
    rsl = next(r for r in decision["reasons"] if r["code"] == "rsl.licence_required")
    assert "http://rsl.example.com/license.xml" in rsl["detail"] and "'/paid/'" in rsl["detail"]
    assert decision["signals"]["rsl.ai_train"] == "licence_required"
    assert "RSL 1.0 (Really Simple Licensing)" in decision["citations"]


def test_a_recorded_licence_lifts_the_rsl_payment_requirement(crawls: dict[str, CrawlResult]) -> None:
    decision = crawls["lawful"].decision("http://rsl-licensed.example.com/img/a.jpg", "image")
    assert decision["outcome"] == "stored" and decision["signals"]["terms.licence_recorded"] is True


def test_an_unfetchable_licence_named_by_the_image_response_is_prohibited(crawls: dict[str, CrawlResult]) -> None:
    decision = crawls["lawful"].decision("http://rsl-page.example.com/img/gone.jpg", "image")
    rsl = next(r for r in decision["reasons"] if r["code"] == "rsl.prohibited")
    assert "could not be fetched (HTTP 404)" in rsl["detail"]


def test_tdm_policy_duties_are_recorded_with_the_contact(crawls: dict[str, CrawlResult]) -> None:
    decision = crawls["lawful"].decision("http://tdm-policy.example.com/duties/a.jpg", "image")
    policy = next(r for r in decision["reasons"] if r["code"] == "tdm.policy_licence_required")
    assert policy["evidence"]["duties"] == ["compensate"] and policy["evidence"]["contact"] == "mailto:rights@example.com"
    breached = crawls["unlawful-demo"].decision("http://tdm-policy.example.com/duties/a.jpg", "image")
    assert "W3C TDMRep (tdm-policy duties obtainConsent, compensate unmet)" in breached["breaches"]
    assert "RSL 1.0 (licence terms ignored: no licence obtained)" in crawls["unlawful-demo"].decision(
        "http://rsl.example.com/img/a.jpg", "image")["breaches"]


def test_a_site_for_verified_crawlers_refuses_an_unsigned_crawl(tmp_path: Path) -> None:
    unsigned = crawl(tmp_path, f"sqlite:///{tmp_path}/f.db", "--testsites", "--no-sign", "http://verified.example.com/")
    page = unsigned.decision("http://verified.example.com/", "page")
    assert page["outcome"] == "failed" and page["reasons"][-1]["evidence"] == {"status": 403}
    assert not [d for d in unsigned.report["decisions"] if d["kind"] == "image"]  # nothing behind it was reached


def test_signed_crawl_is_admitted_and_its_key_lives_under_var(crawls: dict[str, CrawlResult]) -> None:
    assert crawls["lawful"].decision("http://verified.example.com/img/view.jpg", "image")["outcome"] == "stored"
    key = crawls["lawful"].store.parent / "var" / "bot-signing.key"
    assert key.exists() and key.stat().st_mode & 0o077 == 0


def test_where_no_face_check_is_needed_the_image_is_kept_but_never_templated(crawls: dict[str, CrawlResult]) -> None:
    decision = crawls["lawful"].decision("http://faces-token-ca.example.com/img/portrait.jpg", "image")
    assert decision["outcome"] == "stored" and decision["jurisdiction"] == "US-CA"
    assert decision["obligations"]["templates"] == "none"
    assert not {"faces.detected", "templates.persisted"} & {r["code"] for r in decision["reasons"]}


def test_with_face_opt_outs_on_file_such_an_image_cannot_be_screened_and_is_refused(tmp_path: Path) -> None:
    (tmp_path / "probe.jpg").write_bytes(face_photo("obama.jpg"))
    added = run_faircrawl("optout", "add", "--photo", str(tmp_path / "probe.jpg"), cwd=tmp_path)
    assert added.returncode == 0, added.stderr
    result = crawl(tmp_path, f"sqlite:///{tmp_path}/f.db", "--testsites", "http://faces-token-ca.example.com/")
    decision = result.decision("http://faces-token-ca.example.com/img/portrait.jpg", "image")
    assert decision["outcome"] == "refused" and "optout.unscreenable" in [r["code"] for r in decision["reasons"]]
