"""HTTP Message Signatures (RFC 9421) with Ed25519, for the components a bot signature covers.

Written by hand because only a handful of components are needed (``@authority``,
``@method``, ``@path``, ``@target-uri``, ``@scheme`` and plain header fields,
RFC 9421 §2.1-2.2) and the signature base must be exact; the structured fields
are read and written with http-sfv. Checked against RFC 9421 Appendix B.2.6.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from http_sfv.dictionary import Dictionary
from http_sfv.item import InnerList

DEFAULT_PORTS = {"http": 80, "https": 443}
Params = Mapping[str, str | int]


@dataclass(frozen=True, slots=True)
class Message:
    """What a signature can cover: method, URL and header fields (names lowercase, values as sent)."""

    method: str
    url: str
    headers: Mapping[str, str]


def authority(url: str) -> str:
    """``@authority``: host, lowercase, with the port only when it is not the scheme's default (RFC 9421 §2.2.3)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    return host if port is None or DEFAULT_PORTS.get(parts.scheme.lower()) == port else f"{host}:{port}"


def component(message: Message, name: str) -> str:
    """One component's value; KeyError when the message has no such component."""
    parts = urlsplit(message.url)
    derived = {
        "@method": lambda: message.method.upper(),
        "@authority": lambda: authority(message.url),
        "@scheme": lambda: parts.scheme.lower(),
        "@target-uri": lambda: message.url,
        "@path": lambda: parts.path or "/",
        "@query": lambda: f"?{parts.query}",
    }
    if name in derived:
        return derived[name]()
    if name.startswith("@"):
        raise KeyError(name)
    return message.headers[name].strip()


def signature_params(components: Sequence[str], params: Params) -> str:
    """The ``@signature-params`` value (and the Signature-Input member): the inner list with its parameters."""
    written = _plain_inner_list(components, params)
    if written is not None:
        return written
    inner = InnerList(list(components))
    for key, value in params.items():
        inner.params[key] = value
    return str(inner)


_SF_KEY = re.compile(r"[a-z*][a-z0-9_\-.*]*")
_SF_STRING = re.compile(r"[\x20-\x7e]*")


def _plain_inner_list(components: Sequence[str], params: Params) -> str | None:
    """The common case written directly (http-sfv takes 10x as long, once per request): an inner list of
    sf-strings with integer and sf-string parameters, as RFC 8941 §4.1 serialises them; None for anything else,
    which http-sfv then writes (or refuses)."""
    def string(value: str) -> str | None:
        if not _SF_STRING.fullmatch(value):
            return None
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'

    items = [string(c) if isinstance(c, str) else None for c in components]
    if any(item is None for item in items):
        return None
    written = "(" + " ".join(items) + ")"  # type: ignore[arg-type]
    for key, value in params.items():
        if not _SF_KEY.fullmatch(key):
            return None
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            return None
        if isinstance(value, int):
            if abs(value) > 999_999_999_999_999:
                return None
            written += f";{key}={value}"
        else:
            text = string(value)
            if text is None:
                return None
            written += f";{key}={text}"
    return written


def signature_base(message: Message, components: Sequence[str], params: Params) -> bytes:
    """The exact bytes signed (RFC 9421 §2.5)."""
    return _signature_base(message, components, signature_params(components, params))


def _signature_base(message: Message, components: Sequence[str], params_text: str) -> bytes:
    lines = [f'"{name}": {component(message, name)}' for name in components]
    lines.append(f'"@signature-params": {params_text}')
    return "\n".join(lines).encode("utf-8")


def sign(message: Message, components: Sequence[str], params: Params, key: Ed25519PrivateKey,
         label: str = "sig1") -> dict[str, str]:
    """The ``Signature-Input`` and ``Signature`` header fields for ``message``."""
    params_text = signature_params(components, params)
    signature = key.sign(_signature_base(message, components, params_text))
    return {"Signature-Input": f"{label}={params_text}",
            "Signature": f"{label}=:{base64.b64encode(signature).decode('ascii')}:"}


@dataclass(frozen=True, slots=True)
class Signed:
    """One signature read from a message: its label, covered components, parameters and bytes."""

    label: str
    components: tuple[str, ...]
    params: dict[str, object]
    signature: bytes


def read_signatures(message: Message) -> list[Signed]:
    """Every signature whose Signature-Input and Signature members parse; ValueError when neither field parses."""
    inputs, values = Dictionary(), Dictionary()
    try:
        inputs.parse(message.headers.get("signature-input", "").encode("latin-1"))
        values.parse(message.headers.get("signature", "").encode("latin-1"))
    except (ValueError, UnicodeEncodeError) as error:
        raise ValueError(f"Signature-Input or Signature is not a structured field ({error})") from None
    found = []
    for label in inputs:
        inner, value = inputs[label], values[label] if label in values else None
        if not isinstance(inner, InnerList) or value is None or not isinstance(value.value, bytes):
            continue
        names = tuple(str(item.value) for item in inner)
        found.append(Signed(label, names, dict(inner.params), value.value))
    return found


def verify(message: Message, signed: Signed, public_key: Ed25519PublicKey) -> bool:
    """Does ``signed`` verify over ``message`` with ``public_key``? (never raises)"""
    params = {k: v for k, v in signed.params.items() if isinstance(v, (str, int)) and not isinstance(v, bool)}
    if len(params) != len(signed.params):
        return False
    try:
        public_key.verify(signed.signature, signature_base(message, signed.components, params))
    except (InvalidSignature, KeyError, ValueError):
        return False
    return True
