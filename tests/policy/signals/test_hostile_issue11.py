"""Hostile input for the parsers issue 11 added or changed: huge, binary, malformed; never raise, fail closed, fast.

Every checker that takes a URL refuses one it cannot parse (``http://[::1``, lone surrogates) with a reason.
"""

from __future__ import annotations

import time

import pytest

from policy.robots import RobotsTxt
from policy.signals import aipref, licenses, rsl, tdmpolicy
from policy.signals.aitxt import AiTxt
from policy.signals.linkheader import parse_links
from policy.signals.tdmrep import TdmRepFile

BAD_URLS = ["http://[::1", "http://[::1/a.jpg", "https://example.com/\ud800.jpg", "https://example.com/a?\udfff",
]
ROBOTS = b"User-agent: *\nAllow: /\nContent-Usage: train-ai=y\nContent-Signal: ai-train=yes\n"


@pytest.mark.parametrize("url", BAD_URLS)
def test_every_checker_refuses_an_unparseable_url_with_a_reason(url):
    verdict = RobotsTxt.parse(ROBOTS).check(url, "faircrawl")
    assert verdict.allowed is False and verdict.explanation
    allowed, why = AiTxt.parse(b"User-agent: *\nAllow: /\n").training_allowed(url, "faircrawl")
    assert allowed is False and why
    usage = aipref.RobotsUsage.from_robots(ROBOTS, "faircrawl")
    prefs, evidence = usage.for_url(url)
    assert prefs.train_ai is not aipref.Preference.ALLOWED and evidence
    signals, _ = usage.signals_for_url(url)
    assert signals.ai_train is not aipref.Preference.ALLOWED
    value = TdmRepFile.parse(b'[{"location": "/", "tdm-reservation": 0}]').lookup(url)
    assert value.reservation == 1 and value.evidence
    document = rsl.parse(b'<rsl xmlns="https://rslstandard.org/rsl"><content url="/"><license/></content></rsl>')
    assert document.evaluate(url).status is rsl.RslStatus.PROHIBITED
    assert licenses.classify_license_url(url) is None


HOSTILE_ROBOTS = {
    "binary": bytes(range(256)) * 2000,
    "no-colon-flood": b"disallow /x\n" * 50_000,
    "huge-star-pattern": b"User-agent: *\nDisallow: /" + b"*a" * 100_000 + b"b\n",
    "encoded-flood": b"User-agent: *\nDisallow: /" + b"%2A%24" * 80_000 + b"\n",
    "content-usage-no-path-flood": b"User-agent: *\n" + b"Content-Usage: *.jpg train-ai=y\n" * 20_000,
    "license-flood": b"License: https://x.example/l.xml\n" * 30_000,
}


@pytest.mark.parametrize("body", HOSTILE_ROBOTS.values(), ids=HOSTILE_ROBOTS.keys())
def test_hostile_robots_bodies_parse_fast_and_never_allow_training(body):
    started = time.monotonic()
    robots = RobotsTxt.parse(body)
    robots.check("https://example.com/" + "a" * 5000, "faircrawl")
    prefs, _ = aipref.RobotsUsage.from_parsed(robots, "faircrawl").for_url("https://example.com/a.jpg")
    rsl.robots_pointers(robots, "https://example.com/robots.txt")
    assert prefs.train_ai is not aipref.Preference.ALLOWED
    assert time.monotonic() - started < 10


HOSTILE_VALUES = [b"\xff\xfe\x00", "a" * 1_000_000, "=" * 10_000, "train-genai=" + "n" * 10_000, "\ud800", ",;<>\"" * 5000]


@pytest.mark.parametrize("value", HOSTILE_VALUES, ids=range(len(HOSTILE_VALUES)))
def test_hostile_header_values_never_raise(value):
    aipref.signals_from_headers([value])
    aipref.from_headers([value])
    parse_links([value], "https://example.com/")
    licenses.header_licenses([value], "https://example.com/")
    rsl.header_pointers([value], "https://example.com/")


HOSTILE_DOCUMENTS = [b"", b"\x00" * 10_000, b"{" * 50_000, b"<" * 50_000, b'{"profile": "http://www.w3.org/ns/tdmrep",'
                     b' "permission": ' + b"[" * 5000 + b"]" * 5000 + b"}", "\ud800"]


@pytest.mark.parametrize("body", HOSTILE_DOCUMENTS, ids=range(len(HOSTILE_DOCUMENTS)))
def test_hostile_policy_documents_fail_closed(body):
    assert tdmpolicy.parse(body, "application/json", "u").evaluate().status is tdmpolicy.TdmPolicyStatus.RESERVED
    assert rsl.parse(body, "u").evaluate("https://example.com/a.jpg").status is rsl.RslStatus.PROHIBITED


@pytest.mark.parametrize("parse", [RobotsTxt.parse, AiTxt.parse, TdmRepFile.parse, lambda b: rsl.parse(b, "u"),
                                   lambda b: tdmpolicy.parse(b, "application/json", "u")],
                         ids=["robots", "ai.txt", "tdmrep", "rsl", "tdm-policy"])
def test_str_bodies_with_lone_surrogates_never_raise(parse):
    parse("User-agent: *\nDisallow: /\ud800\n[\"\udcff\"]")
