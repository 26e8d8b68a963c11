"""What a site that admits only verified crawlers does (Web Bot Auth, reference §9.3).

It reads ``Signature-Agent``, takes the key directory published at that origin
(here: the catalog's ``faircrawl.example``, which serves the crawler's own
JWKS), and admits a request only when a ``web-bot-auth`` signature covering
``@authority`` and ``signature-agent`` verifies with a key of that directory
and is inside its ``created``/``expires`` window. Everything else gets 403.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from urllib.parse import urlsplit

from http_sfv.item import Item

from crawler.botauth import httpsig
from crawler.botauth.keys import DIRECTORY_PATH, directory_from_file, public_keys

#: The crawler key whose directory faircrawl.example serves; the in-process test-site server is told the crawl's.
KEY_FILE = {"path": Path(os.environ.get("FAIRCRAWL_BOT_KEY_FILE") or "var/bot-signing.key")}
CLOCK_SKEW_SECONDS = 5


def key_directory() -> bytes:
    return json.dumps(directory_from_file(KEY_FILE["path"])).encode()


def admit_verified(headers: dict[str, str], url: str) -> str | None:
    """None when a valid bot signature is present; otherwise why the request is refused."""
    agent_field = headers.get("signature-agent")
    if not agent_field:
        return "this site admits only verified crawlers: no Signature-Agent (Web Bot Auth)"
    agent = Item()
    try:
        agent.parse(agent_field.encode("latin-1"))
    except (ValueError, UnicodeEncodeError):
        return "Signature-Agent is not a structured-field string"
    if not isinstance(agent.value, str):
        return "Signature-Agent is not a string"
    keys = public_keys(_directory(agent.value))
    if not keys:
        return f"no key directory at {agent.value}{DIRECTORY_PATH}"
    message = httpsig.Message("GET", url, headers)
    try:
        signatures = httpsig.read_signatures(message)
    except ValueError as error:
        return str(error)
    now = time.time()
    for signed in signatures:
        params = signed.params
        if params.get("tag") != "web-bot-auth" or not {"@authority", "signature-agent"} <= set(signed.components):
            continue
        created, expires = params.get("created"), params.get("expires")
        if not isinstance(created, int) or not isinstance(expires, int) or not created - CLOCK_SKEW_SECONDS <= now <= expires:
            continue
        key = keys.get(str(params.get("keyid")))
        if key is not None and httpsig.verify(message, signed, key):
            return None
    return "no valid web-bot-auth signature from a key of the Signature-Agent's directory"


def _directory(agent: str) -> dict[str, object]:
    """The key directory the agent publishes: the catalog's, for a catalog host (no other is reachable here)."""
    from crawler.testsites.catalog import build_catalog

    site = build_catalog().site(urlsplit(agent).hostname or "")
    served = site.responses.get(DIRECTORY_PATH) if site is not None else None
    if served is None:
        return {}
    try:
        document = json.loads(served.content())
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}
