"""Host names as the registries key them: one normal form, shared by loading and lookup.

A registry entry covers its host and every subdomain, so a name that is a
public suffix (``com``, ``co.uk``, ``github.io``) would give every site under
it a jurisdiction or terms; such names, wildcards, URLs and malformed labels
are refused. The normal form is the one in the URLs the crawler fetches:
Scrapy builds them with w3lib's ``safe_url_string``, which NFKC-normalises a
Unicode host and encodes it with Python's ``idna`` codec (IDNA 2003: ``ß``
becomes ``ss``), so ``bücher.example.com`` and the crawled
``xn--bcher-kva.example.com`` compare equal.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from functools import cache, lru_cache
from typing import TypeVar

import tldextract

T = TypeVar("T")

#: What a host entry may look like, for hints.
HOST_HINT = "a host is a name such as shop.example.com: no scheme, path, port or wildcard (an entry covers its subdomains)"

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_MAX_HOST_LENGTH = 253


@lru_cache(maxsize=4096)
def normalise_host(text: str) -> str:
    """The registry form of ``text``: stripped, lower-case, one trailing dot removed, IDNA-encoded.

    Raises ValueError saying what is wrong when ``text`` is not a host name a
    registry may name (see the module docstring).
    """
    if not isinstance(text, str):
        raise ValueError(f"a host must be text, not {type(text).__name__}")
    host = text.strip()
    if not host:
        raise ValueError("the host is empty")
    if "://" in host:
        raise ValueError("is a URL: write only the host name")
    if any(character.isspace() for character in host):
        raise ValueError("contains whitespace")
    if "*" in host:
        raise ValueError("wildcards are not allowed: an entry already covers every subdomain")
    if any(character in host for character in "/?#@\\"):
        raise ValueError("has a path, query or user part: write only the host name")
    if host.startswith("["):
        raise ValueError("an IP address is not a valid host name for a registry")
    if ":" in host:
        raise ValueError("has a port: write only the host name")
    host = host.lower().removesuffix(".")
    ascii_host = _idna(host)
    labels = ascii_host.split(".")
    if "" in labels:
        raise ValueError("has an empty label ('..', or a dot at the start or end)")
    bad = next((label for label in labels if not _LABEL.match(label)), None)
    if bad is not None or len(ascii_host) > _MAX_HOST_LENGTH:
        shown = bad if bad is not None else ascii_host
        raise ValueError(f"{shown[:70]!r} is not a valid host name (letters, digits and '-' in labels of 1-63 "
                         "characters, not starting or ending with '-')")
    parts = suffix_extractor()(ascii_host, include_psl_private_domains=True)
    if not parts.top_domain_under_public_suffix:
        if parts.suffix == ascii_host:
            raise ValueError(f"{ascii_host!r} is a public suffix: an entry would cover every site under it")
        raise ValueError(f"{ascii_host!r} has no registrable domain under the Public Suffix List "
                         "(an unknown top-level domain, an IP address or a single label)")
    return ascii_host


@cache
def suffix_extractor() -> tldextract.TLDExtract:
    """tldextract with its bundled Public Suffix List snapshot only: nothing is fetched at run time."""
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def covering_entry(entries: Mapping[str, T], host: str) -> T | None:
    """The entry for ``host`` or for its nearest parent domain; None when none covers it (or it is no site name)."""
    key = _lookup_key(host)
    if key is None:
        return None
    labels = key.split(".")
    for start in range(len(labels)):
        found = entries.get(".".join(labels[start:]))
        if found is not None:
            return found
    return None


@lru_cache(maxsize=4096)
def _lookup_key(host: str) -> str | None:
    """normalise_host's answer, or None for no site name; cached both ways (lru_cache keeps no exceptions, and an
    IP address or a single label would otherwise go through the Public Suffix List on every lookup)."""
    try:
        return normalise_host(host)
    except ValueError:
        return None


def _idna(host: str) -> str:
    """As w3lib encodes a URL's host: ASCII as is, anything else NFKC-normalised, then the ``idna`` codec."""
    if host.isascii():
        return host
    try:
        return unicodedata.normalize("NFKC", host).encode("idna").decode("ascii")
    except UnicodeError as error:
        raise ValueError(f"is not a valid internationalised host name ({error})") from None
