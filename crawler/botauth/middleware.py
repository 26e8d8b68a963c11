"""Sign every request (Web Bot Auth), on by default; ``--no-sign`` (FAIRCRAWL_SIGN=0) turns it off.

Each request carries ``Signature-Agent`` (where the key directory is) and an
RFC 9421 signature over ``@authority`` and ``signature-agent``, with
``created``, ``expires`` (60 s later), ``keyid`` (the JWK thumbprint),
``alg="ed25519"``, a random ``nonce`` and ``tag="web-bot-auth"``. Site-file
requests are signed too. It runs after every middleware that changes the
request's URL or headers.
"""

from __future__ import annotations

import base64
import os
import time
from pathlib import Path

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawler.botauth import httpsig
from crawler.botauth.keys import jwk, load_bot_key
from crawler.settings import setting

COMPONENTS = ("@authority", "signature-agent")
VALIDITY_SECONDS = 60
TAG = "web-bot-auth"
NONCE_BYTES = 32
NONCE_BATCH = 256
LABEL = "sig1"


class RequestSigner:
    def __init__(self, crawler: Crawler) -> None:
        if not setting(crawler.settings, "FAIRCRAWL_SIGN"):
            raise NotConfigured  # --no-sign (a message would make Scrapy log a warning)
        self.key = load_bot_key(Path(setting(crawler.settings, "FAIRCRAWL_BOT_KEY_FILE")),
                                dry_run=crawler.settings.getbool("FAIRCRAWL_DRY_RUN"))
        self.keyid = jwk(self.key.public_key())["kid"]
        self.agent = f'"{setting(crawler.settings, "FAIRCRAWL_SIGNATURE_AGENT")}"'  # an sf-string
        self._params_format, self._base_format = self._templates()
        self._nonces = b""  # random bytes for the next NONCE_BATCH nonces: one system call for many requests
        self._used = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RequestSigner:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        created = int(time.time())
        nonce = base64.b64encode(self._nonce()).decode("ascii")  # base64: always a plain sf-string
        params_text = self._params_format.format(created=created, expires=created + VALIDITY_SECONDS, nonce=nonce)
        signature = self.key.sign(self._base_format.format(
            authority=httpsig.authority(request.url), params=params_text).encode())
        request.headers["Signature-Agent"] = self.agent
        request.headers["Signature-Input"] = f"{LABEL}={params_text}"
        request.headers["Signature"] = f"{LABEL}=:{base64.b64encode(signature).decode('ascii')}:"

    def _templates(self) -> tuple[str, str]:
        """The signature's parameters and base as format strings, written by httpsig itself once at start.

        Only ``created``, ``expires``, ``nonce`` and ``@authority`` change between requests, so the generic writer
        runs here with placeholders; ``process_request`` fills them in (tests compare both ways of signing).
        """
        placeholders: dict[str, str | int] = {
            "created": 1_111_111_111, "expires": 2_222_222_222, "keyid": self.keyid, "alg": "ed25519",
            "nonce": "NONCE", "tag": TAG}
        params = httpsig.signature_params(COMPONENTS, placeholders).replace("{", "{{").replace("}", "}}")
        for written, slot in ((";created=1111111111", ";created={created}"), (";expires=2222222222", ";expires={expires}"),
                              (';nonce="NONCE"', ';nonce="{nonce}"')):  # unique: a keyid holds no ';' or '='
            assert params.count(written) == 1, params
            params = params.replace(written, slot)
        message = httpsig.Message("GET", "http://AUTHORITY/", {"signature-agent": self.agent})
        base = httpsig.signature_base(message, COMPONENTS, {}).decode()
        base = base.replace("{", "{{").replace("}", "}}").replace('"@authority": authority', '"@authority": {authority}')
        base = base[:base.rindex('"@signature-params": ')] + '"@signature-params": {params}'
        return params, base

    def _nonce(self) -> bytes:
        """32 fresh random bytes (from the OS, read NONCE_BATCH nonces at a time; each is used once)."""
        if self._used >= len(self._nonces):
            self._nonces, self._used = os.urandom(NONCE_BYTES * NONCE_BATCH), 0
        nonce = self._nonces[self._used:self._used + NONCE_BYTES]
        self._used += NONCE_BYTES
        return nonce
