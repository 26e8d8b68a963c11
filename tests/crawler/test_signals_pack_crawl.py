"""The benchmark's signals pack reads and decides every consent signal as the lawful pack does, without faces.

``benchmarks/signals`` links the lawful pack's signal files (signals.yaml,
rsl.yaml), so the crawl benchmark can measure "every signal read and decided"
apart from face detection. Here the whole test-site catalog is crawled under
it and compared with the lawful crawl: every URL the lawful pack refuses by a
signal rule is refused by the same rule, the signals recorded are the same,
and no face is looked for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from policy.packs import RULES_DIR, read_pack
from tests.conftest import PROJECT_ROOT, CrawlResult, crawl

SIGNALS_PACK = PROJECT_ROOT / "benchmarks" / "signals"
#: Signals only the faces stage sets; the signals pack never gets there.
FACE_SIGNALS = {"image.faces", "robots.faces_allowed"}


@pytest.fixture(scope="module")
def signals_crawl(tmp_path_factory: pytest.TempPathFactory) -> CrawlResult:
    workdir = tmp_path_factory.mktemp("signals-crawl")
    return crawl(workdir, f"sqlite:///{workdir}/faircrawl.db", "--testsites", "--policy", str(SIGNALS_PACK))


def _signal_rule_ids() -> set[str]:
    return {rule.id for rule in read_pack(SIGNALS_PACK).rules}


def _by_url(result: CrawlResult) -> dict[tuple[str, str], dict[str, Any]]:
    return {(d["url"], d["kind"]): d for d in result.report["decisions"]}


def test_the_pack_is_the_lawful_packs_signal_files() -> None:
    pack = read_pack(SIGNALS_PACK)
    assert not pack.errors
    assert sorted(p.name for p in pack.rule_files) == ["rsl.yaml", "signals.yaml"]
    for path in pack.rule_files:
        assert Path(path).read_bytes() == (RULES_DIR / "lawful" / path.name).read_bytes()
    lawful_ids = {rule.id for rule in read_pack("lawful").rules}
    assert _signal_rule_ids() <= lawful_ids
    assert not any(c.signal == "image.faces" for rule in pack.rules for c in rule.conditions)


def test_what_lawful_refuses_by_a_signal_is_refused_by_the_same_rule(catalog_crawl: CrawlResult,
                                                                     signals_crawl: CrawlResult) -> None:
    signal_denies = {rule.id for rule in read_pack(SIGNALS_PACK).rules if rule.effect == "deny"}
    lawful, signals = _by_url(catalog_crawl), _by_url(signals_crawl)
    compared = 0
    for key, decision in lawful.items():
        deciding = set(decision["matched_rules"]) & signal_denies
        if decision["outcome"] != "refused" or not deciding or key not in signals:
            continue
        other = signals[key]
        if decision["signals"].get("robots.availability") != other["signals"].get("robots.availability"):
            continue  # the site's robots.txt itself was fetched differently (a timeout on a loaded machine)
        assert other["outcome"] == "refused", (key, other["reasons"])
        assert deciding <= set(other["matched_rules"]), (key, other["matched_rules"])
        compared += 1
    assert compared >= 20  # the catalog's signal families: robots.txt, TDMRep, ai.txt, aipref, XMP, C2PA, RSL...


def test_every_signal_is_read_as_under_lawful(catalog_crawl: CrawlResult, signals_crawl: CrawlResult) -> None:
    lawful, signals = _by_url(catalog_crawl), _by_url(signals_crawl)
    both = [key for key in lawful if key in signals and key[1] == "image" and lawful[key]["signals"]]
    assert len(both) >= 50
    for key in both:
        expected = {k: v for k, v in lawful[key]["signals"].items() if k not in FACE_SIGNALS}
        found = {k: v for k, v in signals[key]["signals"].items() if k not in FACE_SIGNALS}
        if lawful[key]["outcome"] == signals[key]["outcome"] == "refused" and expected != found:
            # refused at different stages (the gate before the image was fetched, or after): same signals so far
            assert all(found[k] == v for k, v in expected.items() if k in found), key
            continue
        assert found == expected, key


def test_refusals_are_a_subset_of_lawfuls_and_no_face_is_looked_for(catalog_crawl: CrawlResult,
                                                                    signals_crawl: CrawlResult) -> None:
    lawful, signals = _by_url(catalog_crawl), _by_url(signals_crawl)
    for key, decision in signals.items():
        assert "image.faces" not in decision["signals"], key
        assert not [r for r in decision["reasons"] if r["code"].startswith("faces.")], key
        if decision["outcome"] == "refused" and key in lawful:
            assert lawful[key]["outcome"] == "refused", (key, decision["reasons"])
    assert any(d["outcome"] == "stored" and lawful.get(k, {}).get("outcome") == "refused"
               for k, d in signals.items())  # face images: refused under lawful, kept here
    assert signals_crawl.report["run"]["policy"] == "signals"
