"""What a crawl works out once and reuses gives the same answers as working it out every time.

The policy engine's decisions (keyed by exactly its inputs), the site signals
(by the two hostnames), decision-record ids and request-signature nonces
(random bytes read in batches) and the signature parameters (written without
http-sfv in the common case).
"""

from __future__ import annotations

import random
import string
import uuid
from pathlib import Path

from http_sfv.item import InnerList
from scrapy import Request
from scrapy.utils.test import get_crawler

from crawler.botauth.httpsig import signature_params
from crawler.botauth.middleware import RequestSigner
from crawler.decision_record import new_record_id
from crawler.policy_runtime import _decision_key, policy_for
from policy.jurisdiction import Jurisdiction, resolve
from policy.vocabulary import Purpose
from policy.whose_law import decide_for_parties

FR = Jurisdiction("FR", "cctld", ".fr")
SIGNALS = {"robots.allowed": True, "tdm.reservation": None, "license.kinds": ["cc-by"], "image.faces": 1,
           "consent.biometric": False, "terms.scraping": "unknown"}


def test_cached_decisions_are_the_engines_answers() -> None:
    runtime = policy_for(get_crawler(settings_dict={"FAIRCRAWL_POLICY": "lawful"}))
    variants = [SIGNALS, {**SIGNALS, "image.faces": 0}, {**SIGNALS, "tdm.reservation": 1},
                {**SIGNALS, "license.kinds": None}, {**SIGNALS, "robots.allowed": False}]
    for purpose in (Purpose.FETCH_IMAGE, Purpose.COLLECT_IMAGE, Purpose.FACE_TEMPLATE):
        for jurisdiction in (FR, Jurisdiction("US-IL", "registry", "x"), Jurisdiction("UNKNOWN", "unknown", "")):
            for signals in variants:
                first = runtime.decide(purpose, jurisdiction, dict(signals))
                again = runtime.decide(purpose, jurisdiction, dict(signals))
                fresh = decide_for_parties(runtime.engine, purpose, jurisdiction.code, runtime.operator, signals)
                assert first is again  # decided once
                assert first == fresh


def test_the_key_is_exactly_the_inputs() -> None:
    key = _decision_key(Purpose.COLLECT_IMAGE, "FR", SIGNALS)
    assert key == _decision_key(Purpose.COLLECT_IMAGE, "FR", dict(reversed(list(SIGNALS.items()))))
    assert key != _decision_key(Purpose.COLLECT_IMAGE, "DE", SIGNALS)
    assert key != _decision_key(Purpose.FETCH_IMAGE, "FR", SIGNALS)
    assert key != _decision_key(Purpose.COLLECT_IMAGE, "FR", {**SIGNALS, "image.faces": True})  # 1 and True differ
    assert key != _decision_key(Purpose.COLLECT_IMAGE, "FR", {**SIGNALS, "image.faces": 1.0})
    assert key != _decision_key(Purpose.COLLECT_IMAGE, "FR", {**SIGNALS, "license.kinds": ("cc-by",)})
    assert key != _decision_key(Purpose.COLLECT_IMAGE, "FR", {**SIGNALS, "extra": None})
    assert _decision_key(Purpose.COLLECT_IMAGE, "FR", {**SIGNALS, "odd": object()}) is not None
    unhashable = {**SIGNALS, "odd": [bytearray(b"x")]}
    assert _decision_key(Purpose.COLLECT_IMAGE, "FR", unhashable) is None
    runtime = policy_for(get_crawler(settings_dict={"FAIRCRAWL_POLICY": "lawful"}))
    assert runtime.decide(Purpose.COLLECT_IMAGE, FR, unhashable) == decide_for_parties(
        runtime.engine, Purpose.COLLECT_IMAGE, "FR", runtime.operator, unhashable)


def test_site_signals_are_per_pair_of_hosts_and_each_caller_gets_a_copy() -> None:
    runtime = policy_for(get_crawler(settings_dict={"FAIRCRAWL_POLICY": "lawful"}))
    cases = [("http://a.example.fr/x.jpg", "http://a.example.fr/p.html"), ("http://cdn.example/y.jpg", None),
             ("http://cdn.example/y.jpg", "http://a.example.fr/p.html")]
    for url, page in cases:
        first = runtime.site_signals(url, page)
        first["terms.scraping"] = "changed by a caller"
        assert runtime.site_signals(url, page) == runtime._site_signals_of(url, page)


def test_jurisdictions_are_per_host_and_language_tags() -> None:
    runtime = policy_for(get_crawler(settings_dict={"FAIRCRAWL_POLICY": "lawful"}))
    cases = [("http://a.example.fr/p.html", None, None, None), ("http://a.example.fr/q.html", "de-DE", None, None),
             ("http://127.0.0.1:8000/p/1.html", None, None, None), ("http://127.0.0.1:8000/p/2.html", "fr-FR", None, None),
             ("http://127.0.0.1:8000/p/3.html", None, "en-GB", None), ("http://127.0.0.1:8000/p/4.html", None, None, "de-AT"),
             ("http://site.example/p.html", None, "pt-BR", "es-MX"), ("http://SITE.example/other.html", None, None, None)]
    for _ in range(2):
        for url, content_language, html_lang, hreflang in cases:
            assert runtime.jurisdiction(url, content_language, html_lang, hreflang) == resolve(
                url, runtime.loaded.sites, content_language, html_lang, hreflang)
    assert runtime.jurisdiction("http://127.0.0.1:8000/p/2.html", "fr-FR").code == "FR"
    assert runtime.jurisdiction("http://127.0.0.1:8000/p/9.html").code == "UNKNOWN"  # the tag is part of the key
    assert len(runtime._jurisdictions) == len(cases)  # one per host and tags (p/9 shares p/1's, SITE is site)


def test_record_ids_are_random_uuid4_and_never_repeat() -> None:
    ids = [new_record_id() for _ in range(3000)]
    assert len(set(ids)) == len(ids)
    assert all(uuid.UUID(i).version == 4 and uuid.UUID(i).variant == uuid.RFC_4122 and len(i) == 32 for i in ids)
    assert all(uuid.UUID(i).hex == i for i in ids)  # lower-case hex, as uuid4().hex writes it


def test_nonces_are_fresh_for_every_request(tmp_path: Path) -> None:
    signer = RequestSigner(get_crawler(settings_dict={"FAIRCRAWL_BOT_KEY_FILE": str(tmp_path / "bot.key")}))
    nonces = set()
    for index in range(600):  # more than one batch of random bytes
        request = Request(f"http://a.example/{index}")
        signer.process_request(request)
        nonces.add(request.headers[b"Signature-Input"].split(b'nonce="')[1].split(b'"')[0])
    assert len(nonces) == 600


def test_signature_parameters_are_written_as_http_sfv_writes_them() -> None:
    rng = random.Random(9421)
    alphabet = string.printable[:95]

    def text() -> str:
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))

    for _ in range(2000):
        components = tuple(text() for _ in range(rng.randint(0, 3)))
        params: dict[str, str | int] = {
            rng.choice(["created", "expires", "keyid", "alg", "nonce", "tag", "a*b", "x-y.z", "Bad"]):
                rng.choice([rng.randint(-10**15, 10**15), text()]) for _ in range(rng.randint(0, 5))}
        inner = InnerList(list(components))
        try:
            for name, value in params.items():
                inner.params[name] = value
            expected = str(inner)
        except Exception:  # noqa: BLE001 - http-sfv refuses it: so must we
            expected = None
        try:
            written = signature_params(components, params)
        except Exception:  # noqa: BLE001
            written = None
        assert written == expected, (components, params)


def test_policy_reasons_are_worked_out_once_per_decision_and_each_caller_gets_a_list() -> None:
    runtime = policy_for(get_crawler(settings_dict={"FAIRCRAWL_POLICY": "lawful"}))
    for signals in (SIGNALS, {**SIGNALS, "robots.allowed": False}, {**SIGNALS, "tdm.reservation": 1}):
        decision = runtime.decide(Purpose.COLLECT_IMAGE, FR, signals)
        first = runtime.policy_reasons(decision)
        first.append(first[0])  # a caller's list is its own
        assert runtime.policy_reasons(decision) == runtime._policy_reasons(decision) == first[:-1]
