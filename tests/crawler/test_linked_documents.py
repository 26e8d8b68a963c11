"""RSL licences and tdm-policy documents: fetched once per URL, failing closed (the network is a table, as in
test_consent_gate; the gate, the lawful pack and the parsers are real)."""

from __future__ import annotations

import asyncio

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest

from crawler.gates.consent import ConsentGate
from crawler.linked import MAX_POINTERS
from crawler.recording import KIND_META
from policy import Kind
from tests.crawler.test_consent_gate import gate_setup  # noqa: F401 - the fixture

RSL = b'<rsl xmlns="https://rslstandard.org/rsl"><content url="/"><license>%s</license></content></rsl>'
PROHIBITS = RSL % b'<prohibits type="usage">ai-train</prohibits>'
PERMITS = RSL % b'<permits type="usage">ai-train</permits>'
ROBOTS = b"User-agent: *\nAllow: /\nLicense: http://a.example/licence.xml\n"


def image_allowed(gate: ConsentGate, *urls: str) -> list[bool]:
    async def one(url: str) -> bool:
        try:
            await gate.process_request(Request(url, meta={KIND_META: Kind.IMAGE.value}))
        except IgnoreRequest:
            return False
        return True

    async def every() -> list[bool]:
        return list(await asyncio.gather(*(one(u) for u in urls)))

    return asyncio.run(every())


def test_robots_license_prohibiting_ai_training_refuses_images_and_is_fetched_once(gate_setup) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    gate, _clock, attach = gate_setup
    network = attach({"http://a.example/robots.txt": (200, {}, ROBOTS),
                      "http://a.example/licence.xml": (200, {"Content-Type": "application/rsl+xml"}, PROHIBITS)})
    assert image_allowed(gate, "http://a.example/1.jpg", "http://a.example/2.jpg", "http://a.example/3.jpg") == [False] * 3
    assert network.fetched.count("http://a.example/licence.xml") == 1  # concurrent asks share one fetch
    assert image_allowed(gate, "http://a.example/4.jpg") == [False]
    assert network.fetched.count("http://a.example/licence.xml") == 1  # cached for the run


def test_a_free_permission_allows(gate_setup) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    gate, _clock, attach = gate_setup
    attach({"http://a.example/robots.txt": (200, {}, ROBOTS), "http://a.example/licence.xml": (200, {}, PERMITS)})
    assert image_allowed(gate, "http://a.example/1.jpg") == [True]


@pytest.mark.parametrize("answer", [(500, {}, b""), (404, {}, b""), ConnectionRefusedError("refused"),
                                    (200, {}, b"<not-rsl/>"), (200, {}, b"\xff\xfe garbage")])
def test_a_licence_that_cannot_be_fetched_or_read_is_prohibited(gate_setup, answer) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    gate, _clock, attach = gate_setup
    attach({"http://a.example/robots.txt": (200, {}, ROBOTS), "http://a.example/licence.xml": answer})
    assert image_allowed(gate, "http://a.example/1.jpg") == [False]


def test_pages_are_not_held_back_by_a_licence(gate_setup) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    gate, _clock, attach = gate_setup
    network = attach({"http://a.example/robots.txt": (200, {}, ROBOTS)})
    asyncio.run(gate.process_request(Request("http://a.example/page.html")))
    assert "http://a.example/licence.xml" not in network.fetched


def test_too_many_licence_documents_read_as_prohibited(gate_setup) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    gate, _clock, attach = gate_setup
    lines = "".join(f"License: http://a.example/l{n}.xml\n" for n in range(MAX_POINTERS + 5))
    answers = {f"http://a.example/l{n}.xml": (200, {}, PERMITS) for n in range(MAX_POINTERS + 5)}
    network = attach({"http://a.example/robots.txt": (200, {}, f"User-agent: *\nAllow: /\n{lines}".encode()), **answers})
    assert image_allowed(gate, "http://a.example/1.jpg") == [False]
    assert len([u for u in network.fetched if u.startswith("http://a.example/l")]) == MAX_POINTERS


def test_non_http_licence_urls_are_never_fetched(gate_setup) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    gate, _clock, attach = gate_setup
    robots = b"User-agent: *\nAllow: /\nLicense: file:///etc/passwd\n"
    network = attach({"http://a.example/robots.txt": (200, {}, robots)})
    assert image_allowed(gate, "http://a.example/1.jpg") == [False]
    assert network.fetched == ["http://a.example/robots.txt", "http://a.example/.well-known/tdmrep.json",
                               "http://a.example/ai.txt"]


TDM = (b'[{"location": "/r/", "tdm-reservation": 1, "tdm-policy": "http://a.example/policy.json"},'
       b' {"location": "/z/", "tdm-reservation": 0, "tdm-policy": "http://a.example/zero.json"}]')
POLICY = (b'{"@context": ["http://www.w3.org/ns/odrl.jsonld", "http://www.w3.org/ns/tdmrep.jsonld"], "@type": "Offer",'
          b' "profile": "http://www.w3.org/ns/tdmrep",'
          b' "permission": [{"action": "tdm:mine", "duty": [{"action": "compensate"}]}]}')


def test_tdm_policy_is_read_once_and_only_for_a_reservation(gate_setup) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    gate, _clock, attach = gate_setup
    network = attach({"http://a.example/robots.txt": (200, {}, b"User-agent: *\nAllow: /\n"),
                      "http://a.example/.well-known/tdmrep.json": (200, {}, TDM),
                      "http://a.example/policy.json": (200, {"Content-Type": "application/ld+json"}, POLICY)})
    assert image_allowed(gate, "http://a.example/r/1.jpg", "http://a.example/r/2.jpg", "http://a.example/z/3.jpg") == [
        False, False, True]
    assert network.fetched.count("http://a.example/policy.json") == 1
    assert "http://a.example/zero.json" not in network.fetched  # tdm-reservation 0: "SHOULD NOT process tdm-policy"


def test_observe_records_the_policy_duties_and_an_unfetchable_policy_keeps_the_reservation(gate_setup) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    gate, _clock, attach = gate_setup
    attach({"http://a.example/policy.json": (200, {"Content-Type": "application/ld+json"}, POLICY)})
    runtime = gate.runtime

    async def observe(policy_url: str) -> tuple[object, list[str]]:
        site = await runtime.site_files.get(("http", "a.example", 80))
        seen = await runtime.linked.observe(site, "http://a.example/r/1.jpg",
                                            {"tdm.reservation": 1, "tdm.policy": policy_url}, None)
        return seen.signals["tdm.policy_status"], [r.code for r in seen.reasons]

    assert asyncio.run(observe("http://a.example/policy.json")) == ("licence_required", ["tdm.policy_licence_required"])
    assert asyncio.run(observe("http://a.example/gone.json")) == ("reserved", ["tdm.policy_reserved"])
