"""From fetched material to signals, failing closed: unreadable site files, failing readers and hostile tokens.

Site files are assembled the way the crawler assembles them (``crawler.sitefiles.site_files_from``), and the
lawful pack decides on what is observed, so each test shows what a crawl would do.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from crawler.sitefiles import site_files_from
from crawler.testsites.c2pa_embed import with_training_mining
from crawler.testsites.images import landscape
from policy.engine import PolicyContext
from policy.observe import (
    FetchedFile,
    Observation,
    SiteFiles,
    image_observation,
    page_facts,
    request_observation,
)
from policy.packs import load_policy
from policy.vocabulary import REASON_CODES, SIGNAL_READER_FAILED, TOKEN_EVIDENCE_CHARS, is_reason_code

ORIGIN = "http://photos.example.fr"
IMAGE = f"{ORIGIN}/gallery/lake.jpg"
PAGE = f"{ORIGIN}/gallery/"
TOKEN = "faircrawl"
NOW = datetime(2026, 12, 1, tzinfo=UTC)
JPEG = landscape(3, size=(64, 48))


def fetched(path: str, body: bytes | None, state: str = "found") -> FetchedFile:
    return FetchedFile(f"{ORIGIN}{path}", state, body, "HTTP 200" if state == "found" else "HTTP 404")


def site(tdmrep_body: bytes | None = None, robots: bytes = b"User-agent: *\nAllow: /\n",
         ai_txt: bytes | None = None) -> SiteFiles:
    return site_files_from(ORIGIN, fetched("/robots.txt", robots),
                           fetched("/.well-known/tdmrep.json", tdmrep_body, "found" if tdmrep_body is not None else "absent"),
                           fetched("/ai.txt", ai_txt, "found" if ai_txt is not None else "absent"), 0.0)


def decide(purpose: str, observation: Observation) -> str:
    signals = {"terms.scraping": "permitted", "terms.biometric": "unknown", "consent.biometric": False,
               "image.faces": 0, **observation.signals}
    return load_policy("lawful").engine.decide(PolicyContext(purpose, "FR", signals)).effect


def codes(observation: Observation) -> list[str]:
    return [reason.code for reason in observation.reasons]


# -- a tdmrep.json that exists but cannot be read is a reservation ---------------------------------

UNREADABLE_TDMREP = {
    "between-1-and-16-mib": json.dumps([{"location": "/", "tdm-reservation": 0, "pad": "x" * (2 * 1024 * 1024)}]).encode(),
    "invalid-json": b'[{"location": "/", "tdm-reservation": 0},',
    "not-utf8": b'[{"location": "/\xff", "tdm-reservation": 0}]',
    "too-deep": b"[" * 5000 + b"]" * 5000,
    "not-an-array": b'{"location": "/", "tdm-reservation": 0}',
}


@pytest.mark.parametrize("body", UNREADABLE_TDMREP.values(), ids=UNREADABLE_TDMREP.keys())
def test_an_unreadable_tdmrep_json_reserves_the_site_images(body: bytes) -> None:
    before_fetch = request_observation(site(body), IMAGE, TOKEN, is_image=True)
    after_fetch = image_observation(IMAGE, {}, JPEG, TOKEN, site(body), None, NOW)

    for observation in (before_fetch, after_fetch):
        assert observation.signals["tdm.reservation"] == 1
        (reason,) = [r for r in observation.reasons if r.source == "tdmrep"]
        assert reason.code == "tdm.reserved" and "cannot be read" in reason.detail
    assert decide("fetch_image", before_fetch) == "deny"
    assert decide("collect_image", after_fetch) == "deny"


def test_a_readable_tdmrep_json_still_decides_by_its_rules() -> None:
    body = json.dumps([{"location": "/gallery/", "tdm-reservation": 0}]).encode()

    observation = request_observation(site(body), IMAGE, TOKEN, is_image=True)

    assert observation.signals["tdm.reservation"] == 0


# -- a reader that fails reads as its most protective value ----------------------------------------


class Unreadable(dict[str, Any]):
    """Headers whose every read raises: what a bug in a caller or a reader looks like."""

    def items(self) -> Any:
        raise RuntimeError("secret-input-bytes")

    def __iter__(self) -> Any:
        raise RuntimeError("secret-input-bytes")


def failures(observation: Observation) -> dict[str, str]:
    """reader -> exception type, from the signal.reader_failed reasons."""
    found = {r.evidence["reader"]: r.evidence["exception"] for r in observation.reasons if r.code == SIGNAL_READER_FAILED}
    assert all("secret-input-bytes" not in r.detail + json.dumps(r.evidence) for r in observation.reasons)
    return found


@pytest.mark.parametrize("headers", [Unreadable(), 42, None], ids=["raising-mapping", "int", "none"])
def test_headers_that_break_every_header_reader_read_as_every_opt_out_on_an_image(headers: Any) -> None:
    observation = image_observation(IMAGE, headers, JPEG, TOKEN, site(), None, NOW)

    # the licence reader reads the Link header too (issue 11), so it fails protectively as well
    assert set(failures(observation)) == {"x-robots", "tdmrep", "aipref", "licences"}
    assert {"noai", "noimageai", "noindex", "noimageindex", "none"} <= set(observation.signals["image.robots"])
    assert observation.signals["tdm.reservation"] == 1
    assert observation.signals["aipref.train_ai"] == "n"
    assert observation.signals["content_signal.ai_train"] == "no"
    assert decide("collect_image", observation) == "deny"


@pytest.mark.parametrize("headers", [Unreadable(), 7], ids=["raising-mapping", "int"])
def test_headers_that_break_the_page_readers_read_as_opt_outs_nofollow_and_no_jurisdiction(headers: Any) -> None:
    facts = page_facts(PAGE, headers, "<html lang='fr-FR'><head></head></html>", TOKEN, site(), NOW)

    # the page's RSL pointers are read from the Link header too (issue 11): an unreadable licence, prohibited
    assert set(failures(facts.observation)) == {"x-robots", "tdmrep", "aipref", "licences", "language tags", "rsl pointers"}
    assert [d.unreadable for d in facts.rsl_inline] == ["the page's RSL links could not be read"]
    assert facts.nofollow is True
    assert {"noai", "noimageai", "noimageindex"} <= set(facts.robots_directives)
    assert facts.tdm.reservation == 1
    assert (facts.content_language, facts.html_lang, facts.self_hreflang) == (None, None, None)
    image = request_observation(site(), IMAGE, TOKEN, is_image=True, page=facts)
    assert image.signals["tdm.reservation"] == 1
    assert decide("fetch_image", image) == "deny"


def test_html_that_is_not_text_reads_as_opt_outs_and_unknown_licences() -> None:
    facts = page_facts(PAGE, {}, 12345, TOKEN, site(), NOW)  # type: ignore[arg-type]

    assert {"html", "x-robots", "tdmrep", "licences", "language tags"} <= set(failures(facts.observation))
    assert facts.nofollow is True and facts.tdm.reservation == 1
    assert [(lic.kind, lic.noncommercial, lic.no_derivatives) for lic in facts.licences] == [("unknown", True, True)]


def test_image_bytes_of_the_wrong_type_read_as_prohibited_metadata() -> None:
    observation = image_observation(IMAGE, {}, "not bytes", TOKEN, site(), None, NOW)  # type: ignore[arg-type]

    assert observation.signals["iptc.prohibits_ai_training"] is True
    assert observation.signals["c2pa.prohibits_ai_training"] is True
    assert decide("collect_image", observation) == "deny"


class BrokenAiTxt:
    def training_allowed(self, url: str, token: str) -> tuple[bool, str]:
        raise KeyError("secret-input-bytes")


class BrokenRobots:
    status_note = ""

    def check(self, url: str, token: str) -> Any:
        raise IndexError("secret-input-bytes")

    def groups_for(self, token: str) -> list[Any]:
        raise IndexError("secret-input-bytes")

    ungrouped_records: list[Any] = []


def test_a_failing_ai_txt_reader_reads_as_a_refusal() -> None:
    files = site(ai_txt=b"User-agent: *\nAllow: /\n")
    files.ai_txt = BrokenAiTxt()  # type: ignore[assignment]

    observation = request_observation(files, IMAGE, TOKEN, is_image=True)

    assert failures(observation) == {"ai.txt": "KeyError"}
    assert observation.signals["ai_txt.training_allowed"] is False
    assert decide("fetch_image", observation) == "deny"


def test_a_failing_robots_reader_reads_as_complete_disallow() -> None:
    files = site()
    files.robots = BrokenRobots()  # type: ignore[assignment]

    observation = request_observation(files, PAGE, TOKEN, is_image=False)

    assert failures(observation) == {"robots.txt": "IndexError", "aipref": "IndexError"}
    assert (observation.signals["robots.allowed"], observation.signals["robots.availability"]) == (False, "unreachable")
    assert observation.signals["aipref.train_ai"] == "n"
    assert decide("fetch_page", observation) == "deny"


def test_protocol_errors_keep_their_spec_meaning_and_are_no_failure() -> None:
    headers = {"tdm-reservation": ["maybe"], "Content-Usage": ["train-ai=\"n\", ÿ"], "X-Robots-Tag": ["\x00\x01"]}

    observation = image_observation(IMAGE, headers, JPEG, TOKEN, site(), None, NOW)

    assert failures(observation) == {}
    assert observation.signals["tdm.reservation"] is None  # an invalid value is unset (TDMRep)
    assert observation.signals["aipref.train_ai"] is None  # an unparseable Dictionary is unknown (aipref)


# -- reason codes come from the vocabulary ----------------------------------------------------------

HOSTILE_DIRECTIVES = ["ÿþã(noindex", "noindex\u202e", "robots.allowed", "crawled", "x" * 5000, "NOAI"]


@pytest.mark.parametrize("value", HOSTILE_DIRECTIVES, ids=["latin1-garbage", "bidi", "a-code", "crawled", "long", "upper"])
def test_hostile_x_robots_tokens_never_become_reason_codes(value: str) -> None:
    image = image_observation(IMAGE, {"X-Robots-Tag": [value]}, JPEG, TOKEN, site(), None, NOW)
    page = page_facts(PAGE, {"X-Robots-Tag": [value]}, f'<meta name="robots" content="{value}">', TOKEN, site(), NOW)

    for observation, prefix in ((image, "image"), (page.observation, "page")):
        robots = [r for r in observation.reasons if r.source == "x-robots"]
        assert robots, "the directive is still reported"
        assert all(r.code in REASON_CODES for r in observation.reasons)
        for reason in robots:
            if reason.code == f"{prefix}.unknown_directive":
                assert reason.evidence["token"] == value.lower()[:TOKEN_EVIDENCE_CHARS]
            else:
                assert reason.code == f"{prefix}.noai" and value == "NOAI"


def test_known_directives_keep_their_codes() -> None:
    observation = image_observation(IMAGE, {"X-Robots-Tag": ["noai, noimageindex, faircrawl: noindex"]}, JPEG, TOKEN,
                                    site(), None, NOW)

    assert {"image.noai", "image.noimageindex", "image.noindex"} <= set(codes(observation))
    assert all(r.evidence == {} for r in observation.reasons if r.source == "x-robots")


def test_licence_and_c2pa_codes_come_from_the_vocabulary() -> None:
    page = page_facts(PAGE, {}, '<link rel="license" href="https://creativecommons.org/licenses/by-nd/4.0/">'
                      '<link rel="license" href="https://example.com/my-licence">', TOKEN, site(), NOW)
    image = image_observation(IMAGE, {}, with_training_mining(JPEG, {"cawg.ai_training": {"use": "notAllowed"}}),
                              TOKEN, site(), page, NOW)

    assert "licence.cc-by-nd-4.0" in codes(image) and "c2pa.notAllowed" in codes(image)
    assert all(is_reason_code(code) for code in codes(image) + codes(page.observation))


def test_every_reason_code_in_the_code_is_in_the_vocabulary() -> None:
    """Every literal code in policy/ and crawler/ (Reason(source, "code", ...)) is known, so the crawler can check."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    literal = re.compile(r"""Reason\(\s*["'][^"']+["'],\s*["']([a-z_]+\.[A-Za-z0-9_.-]+)["']""")
    found = {match for folder in ("policy", "crawler", "storage") for path in (root / folder).rglob("*.py")
             for match in literal.findall(path.read_text(encoding="utf-8"))}
    assert found and found <= REASON_CODES, sorted(found - REASON_CODES)
    assert {"fetch.http_error", "image.stored", "optout.face_match", "policy.default_deny"} <= found | REASON_CODES
