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


class RequestSigner:
    def __init__(self, crawler: Crawler) -> None:
        if not setting(crawler.settings, "FAIRCRAWL_SIGN"):
            raise NotConfigured  # --no-sign (a message would make Scrapy log a warning)
        self.key = load_bot_key(Path(setting(crawler.settings, "FAIRCRAWL_BOT_KEY_FILE")),
                                dry_run=crawler.settings.getbool("FAIRCRAWL_DRY_RUN"))
        self.keyid = jwk(self.key.public_key())["kid"]
        self.agent = f'"{setting(crawler.settings, "FAIRCRAWL_SIGNATURE_AGENT")}"'  # an sf-string
        self._nonces = b""  # random bytes for the next NONCE_BATCH nonces: one system call for many requests
        self._used = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RequestSigner:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        created = int(time.time())
        params: dict[str, str | int] = {
            "created": created, "expires": created + VALIDITY_SECONDS, "keyid": self.keyid, "alg": "ed25519",
            "nonce": base64.b64encode(self._nonce()).decode("ascii"), "tag": TAG}
        message = httpsig.Message(request.method, request.url, {"signature-agent": self.agent})
        request.headers["Signature-Agent"] = self.agent
        for name, value in httpsig.sign(message, COMPONENTS, params, self.key).items():
            request.headers[name] = value

    def _nonce(self) -> bytes:
        """32 fresh random bytes (from the OS, read NONCE_BATCH nonces at a time; each is used once)."""
        if self._used >= len(self._nonces):
            self._nonces, self._used = os.urandom(NONCE_BYTES * NONCE_BATCH), 0
        nonce = self._nonces[self._used:self._used + NONCE_BYTES]
        self._used += NONCE_BYTES
        return nonce
