"""Web Bot Auth: RFC 9421 signatures (the RFC's own Ed25519 vector), the key under var/, the JWKS key directory,
and the verifying test site's answer to signed, unsigned, replayed and expired requests."""

from __future__ import annotations

import base64
import json
import os
import stat
import time
import urllib.request
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from scrapy import Request
from scrapy.utils.test import get_crawler

from crawler.botauth import httpsig
from crawler.botauth.keys import DIRECTORY_PATH, directory, directory_from_file, jwk, load_bot_key, public_keys, thumbprint
from crawler.botauth.middleware import RequestSigner
from crawler.testsites import build_catalog, verified
from crawler.testsites.server import serve_in_thread
from tests.conftest import run_faircrawl

# RFC 9421 Appendix B.1.4 (test-key-ed25519), as a JWK.
RFC_KEY = Ed25519PrivateKey.from_private_bytes(base64.urlsafe_b64decode("n4Ni-HpISpVObnQMW0wOhCKROaIKqKtW_2ZYb2p9KcU="))


def test_rfc_9421_b_2_6_signature_is_reproduced_and_verifies() -> None:
    message = httpsig.Message("POST", "https://example.com/foo?param=Value&Pet=dog", {
        "date": "Tue, 20 Apr 2021 02:07:55 GMT", "content-type": "application/json", "content-length": "18"})
    fields = httpsig.sign(message, ["date", "@method", "@path", "@authority", "content-type", "content-length"],
                          {"created": 1618884473, "keyid": "test-key-ed25519"}, RFC_KEY, "sig-b26")
    assert fields["Signature-Input"] == ('sig-b26=("date" "@method" "@path" "@authority" "content-type" '
                                         '"content-length");created=1618884473;keyid="test-key-ed25519"')
    assert fields["Signature"] == ("sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5"
                                   "WPpBKRCw==:")
    signed = httpsig.Message(message.method, message.url, {**message.headers, "signature-input": fields["Signature-Input"],
                                                           "signature": fields["Signature"]})
    [found] = httpsig.read_signatures(signed)
    assert httpsig.verify(signed, found, RFC_KEY.public_key())
    tampered = httpsig.Message("POST", "https://example.org/foo", signed.headers)
    assert not httpsig.verify(tampered, found, RFC_KEY.public_key())


def test_authority_drops_default_ports_only() -> None:
    assert httpsig.authority("http://A.Example:80/x") == "a.example"
    assert httpsig.authority("https://a.example:8443/") == "a.example:8443"


def test_jwk_thumbprint_is_rfc_7638_over_crv_kty_x() -> None:
    # RFC 8037 Appendix A.3: the thumbprint of the Appendix A.2 public key.
    assert thumbprint("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo") == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
    document = directory([RFC_KEY.public_key()])
    assert document["keys"][0]["x"] == "JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs"
    assert list(public_keys(document)) == [document["keys"][0]["kid"]]
    assert public_keys({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "!!"}, "junk", {"kty": "RSA"}]}) == {}


def test_key_is_made_under_var_with_mode_0600_and_an_exposed_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "var" / "bot-signing.key"
    key = load_bot_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert directory_from_file(path)["keys"] == [jwk(key.public_key())]
    os.chmod(path, 0o644)
    process = run_faircrawl("crawl", "--testsites", "http://verified.example.com/", "--db", f"sqlite:///{tmp_path}/f.db",
                            "--store", str(tmp_path / "img"), cwd=tmp_path,
                            env={"FAIRCRAWL_BOT_KEY_FILE": str(path)})
    assert process.returncode == 2 and "readable by others" in process.stderr and "Traceback" not in process.stderr


def _signed_headers(tmp_path: Path, url: str) -> dict[str, str]:
    crawler = get_crawler(settings_dict={"FAIRCRAWL_BOT_KEY_FILE": str(tmp_path / "bot.key")})
    request = Request(url)
    RequestSigner(crawler).process_request(request)
    return {k.decode().lower(): request.headers[k].decode() for k in request.headers}


def test_the_verifying_site_admits_signed_requests_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(verified.KEY_FILE, "path", tmp_path / "bot.key")
    url = "http://verified.example.com/img/view.jpg"
    headers = _signed_headers(tmp_path, url)
    assert headers["signature-agent"] == '"http://faircrawl.example"'
    assert 'tag="web-bot-auth"' in headers["signature-input"] and 'alg="ed25519"' in headers["signature-input"]
    assert verified.admit_verified(headers, url) is None
    assert "no Signature-Agent" in (verified.admit_verified({}, url) or "")
    # replayed to another host: @authority differs
    assert verified.admit_verified(headers, "http://other.example.com/img/view.jpg") is not None
    # a signature made by another key
    other = _signed_headers(tmp_path / "other", url)
    assert verified.admit_verified(other, url) is not None
    # expired: the window is 60 s
    later = time.time() + 120
    monkeypatch.setattr(verified.time, "time", lambda: later)
    assert verified.admit_verified(headers, url) is not None


def test_no_sign_setting_turns_the_middleware_off() -> None:
    from scrapy.exceptions import NotConfigured

    with pytest.raises(NotConfigured):
        RequestSigner(get_crawler(settings_dict={"FAIRCRAWL_SIGN": False}))


def test_test_site_mode_serves_the_key_directory_and_the_bot_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(verified.KEY_FILE, "path", tmp_path / "bot.key")
    key = load_bot_key(tmp_path / "bot.key")
    proxy, stop = serve_in_thread(build_catalog())
    try:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": proxy}))
        with opener.open(f"http://faircrawl.example{DIRECTORY_PATH}") as answer:
            assert answer.headers["Content-Type"] == "application/http-message-signatures-directory+json"
            assert json.load(answer) == {"keys": [jwk(key.public_key())]}
        with opener.open("http://faircrawl.example/bot") as answer:
            assert b"faircrawl-faces" in answer.read()
    finally:
        stop()


def test_bot_directory_command_prints_the_published_key(tmp_path: Path) -> None:
    process = run_faircrawl("bot", "directory", cwd=tmp_path)
    assert process.returncode == 0, process.stderr
    printed = json.loads(process.stdout)
    assert printed == directory_from_file(tmp_path / "var" / "bot-signing.key")
    assert stat.S_IMODE((tmp_path / "var" / "bot-signing.key").stat().st_mode) == 0o600


def test_the_signers_templates_sign_exactly_what_httpsig_signs(tmp_path: Path) -> None:
    from crawler.botauth.middleware import COMPONENTS

    crawler = get_crawler(settings_dict={"FAIRCRAWL_BOT_KEY_FILE": str(tmp_path / "bot.key")})
    signer = RequestSigner(crawler)
    for url in ("http://verified.example.com/img/view.jpg", "https://Example.COM:443/a?b=c", "http://[::1]:8080/x",
                "http://h.example:81/", "http://h.example:443/", "https://h.example:443/", "https://h.example:80/",
                "http://h.example:80/"):
        request = Request(url)
        signer.process_request(request)
        headers = {k.decode().lower(): request.headers[k].decode() for k in request.headers}
        message = httpsig.Message("GET", url, {"signature-agent": headers["signature-agent"]})
        (signed,) = httpsig.read_signatures(httpsig.Message("GET", url, headers))
        assert signed.components == COMPONENTS
        again = httpsig.sign(message, COMPONENTS, signed.params, signer.key)  # type: ignore[arg-type]
        assert again == {"Signature-Input": headers["signature-input"], "Signature": headers["signature"]}
        assert httpsig.verify(message, signed, signer.key.public_key())
    # the scheme decides the default port: http://h:443 is "h.example:443", https://h:443 is "h.example"
    plain, tls = Request("http://h.example:443/"), Request("https://h.example:443/")
    signer.process_request(plain)
    headers = {k.decode().lower(): plain.headers[k].decode() for k in plain.headers}
    (signed,) = httpsig.read_signatures(httpsig.Message("GET", plain.url, headers))
    agent = {"signature-agent": headers["signature-agent"]}
    assert httpsig.verify(httpsig.Message("GET", plain.url, agent), signed, signer.key.public_key())
    assert not httpsig.verify(httpsig.Message("GET", tls.url, agent), signed, signer.key.public_key())
