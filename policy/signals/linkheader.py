"""The HTTP ``Link`` header (RFC 8288 §3), read without raising, for ``rel="license"`` statements.

Licences (CC URLs) and RSL documents are announced in ``Link`` headers as well
as in HTML, and the header is the only place an image response can say so.
Parameters are split outside quotes and angle brackets; ``rel`` is a
space-separated, case-insensitive list (§3.3); a relative target resolves
against the response URL (§3.2).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urljoin

#: A header larger than this is hostile; the rest is not read.
MAX_LINK_HEADER_CHARS = 64 * 1024
#: At most this many links are kept from one response.
MAX_LINKS = 256


@dataclass(frozen=True, slots=True)
class Link:
    """One link-value: its target (resolved), its relation types and other parameters."""

    target: str
    rels: frozenset[str]
    params: tuple[tuple[str, str], ...]
    raw: str

    def param(self, name: str) -> str | None:
        for key, value in self.params:
            if key == name:
                return value
        return None


def parse_links(values: Iterable[object], base_url: str = "") -> tuple[list[Link], list[str]]:
    """Every link-value of every ``Link`` header line, and notes on what could not be read."""
    links: list[Link] = []
    notes: list[str] = []
    for value in values:
        text = bytes(value).decode("latin-1") if isinstance(value, (bytes, bytearray)) else str(value)
        if len(text) > MAX_LINK_HEADER_CHARS:
            notes.append(f"Link header of {len(text)} characters: only the first {MAX_LINK_HEADER_CHARS} read")
            text = text[:MAX_LINK_HEADER_CHARS]
        for part in _split(text, ","):
            if len(links) >= MAX_LINKS:
                notes.append(f"more than {MAX_LINKS} links: the rest ignored")
                return links, notes
            link = _link(part.strip(), base_url)
            if link is None:
                if part.strip():
                    notes.append(f"Link value {part.strip()!r:.80} is not '<target>; params': ignored")
                continue
            links.append(link)
    return links, notes


def _link(text: str, base_url: str) -> Link | None:
    if not text.startswith("<") or ">" not in text:
        return None
    end = text.index(">")
    target = text[1:end].strip()
    params: list[tuple[str, str]] = []
    for param in _split(text[end + 1:], ";"):
        name, _, value = param.strip().partition("=")
        name = name.strip().lower()
        if not name:
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1].replace('\\"', '"')
        params.append((name, value))
    rel = next((v for k, v in params if k == "rel"), "")  # §3.3: only the first rel parameter counts
    try:
        resolved = urljoin(base_url, target) if base_url else target
    except ValueError:
        resolved = target
    return Link(resolved, frozenset(r.lower() for r in rel.split()), tuple(params), text[:300])


def _split(text: str, separator: str) -> list[str]:
    """Split on ``separator`` outside double quotes and angle brackets."""
    parts: list[str] = []
    current: list[str] = []
    quoted = bracketed = escaped = False
    for character in text:
        if escaped:
            escaped = False
        elif quoted and character == "\\":
            escaped = True
        elif character == '"' and not bracketed:
            quoted = not quoted
        elif character == "<" and not quoted:
            bracketed = True
        elif character == ">" and not quoted:
            bracketed = False
        elif character == separator and not quoted and not bracketed:
            parts.append("".join(current))
            current = []
            continue
        current.append(character)
    parts.append("".join(current))
    return parts
