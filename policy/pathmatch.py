"""Robots-style path patterns, matched after percent-encoding normalisation (RFC 9309 §2.2.2-2.2.3).

One matcher for every place that uses these patterns: robots.txt Allow and
Disallow, aipref Content-Usage paths (attach-05 uses "the same percent-encoding
rules") and TDMRep ``location`` patterns (its "Use of regular expressions"
section reuses the robots wording). Both sides are brought to one form before
comparison: non-ASCII and unsafe octets percent-encoded, escaped unreserved
characters decoded (``%7E`` is ``~``), other escapes upper-cased, and a reserved
character that is data where it stands percent-encoded too (RFC 9309 §2.2.2:
"reserved octets MUST be percent-encoded prior to comparison"), so that its raw
and escaped spellings meet: ``/a:b`` is ``/a%3Ab``, and, as the RFC's table has
it, ``?baz=https://foo.bar`` is ``?baz=https%3A%2F%2Ffoo.bar``. A reserved
character that delimits stays as written, distinct from its escape: ``/`` in the
path (``/a%2Fb`` is not ``/a/b``), the first ``?`` (``/a%3Fb`` is not ``/a?b``),
and ``&``, ``=`` and ``+`` in the query, which split and space form fields. In that form
a ``*`` or ``$`` written in a pattern is an operator (``$`` only when final),
while an encoded ``%2A`` or ``%24`` in a pattern, and ``*`` or ``$`` in a URL,
are literal octets, kept as ``%2A`` and ``%24`` so they never read as operators.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

# Characters left as they are when percent-encoding (besides RFC 3986's unreserved ones): "%" (octets already
# encoded), the pattern specials "*" and "$" (their literal forms are handled by the callers), and the reserved
# characters that delimit in that part of the URL. Every other reserved character is data there and is encoded.
_PATH_SAFE = "/%*$"
_QUERY_SAFE = "&=+%*$"
_ESCAPE = re.compile(r"%[0-9a-fA-F]{2}")


class UnmatchableURL(ValueError):
    """A URL that cannot be split or encoded (``http://[::1``, a lone surrogate): it matches nothing safely."""


def normalize_pattern(pattern: str) -> str:
    """A pattern in match form: ``*`` stays a wildcard, a final ``$`` the end anchor, any other ``$`` literal."""
    anchored = pattern.endswith("$")
    body = pattern[:-1] if anchored else pattern
    return _octets(body).replace("$", "%24") + ("$" if anchored else "")


def normalize_target(url: str) -> str:
    """The path and query of ``url`` in match form, its ``*`` and ``$`` literal.

    Raises :class:`UnmatchableURL` for a URL that cannot be split or encoded.
    """
    try:
        parts = urlsplit(url)
        path = (parts.path or "/") + ("?" + parts.query if parts.query else "")
        return _octets(path).replace("*", "%2A").replace("$", "%24")
    except (ValueError, UnicodeError) as error:
        raise UnmatchableURL(f"URL {url!r:.80} cannot be parsed ({type(error).__name__})") from error


def normalize_path(path_and_query: str) -> str:
    """A bare path-and-query (no scheme or host) in match form."""
    try:
        return _octets(path_and_query).replace("*", "%2A").replace("$", "%24")
    except (ValueError, UnicodeError) as error:
        raise UnmatchableURL(f"path {path_and_query!r:.80} cannot be encoded ({type(error).__name__})") from error


def pattern_octets(pattern: str) -> int:
    """A pattern's specificity as RFC 9309 §2.2.2 counts it: octets after normalisation."""
    return len(normalize_pattern(pattern).encode())


def url_matches_pattern(pattern: str, url: str) -> bool:
    """Match one pattern against ``url`` as Allow/Disallow are matched; raises :class:`UnmatchableURL`."""
    return glob_matches(normalize_pattern(pattern), normalize_target(url))


def _octets(text: str) -> str:
    """``text`` (a path, then optionally ``?`` and a query) in match form; UTF-8, strict: a lone surrogate raises."""
    path, question, query = text.partition("?")
    encoded = quote(path, safe=_PATH_SAFE)
    if question:
        encoded += "?" + quote(query, safe=_QUERY_SAFE)
    return _ESCAPE.sub(_canonical_escape, encoded)


def _canonical_escape(match: re.Match[str]) -> str:
    character = chr(int(match.group(0)[1:], 16))
    if character.isascii() and (character.isalnum() or character in "-._~"):
        return character
    return match.group(0).upper()


def glob_matches(pattern: str, target: str) -> bool:
    """Robots-style glob match of a normalised ``pattern`` at the start of ``target``, in linear time.

    A regex of ``.*`` pieces backtracks: ``/*a*a*a*a*a*a*a*b`` against a long run
    of ``a`` never finishes, and robots.txt is hostile input. Matching each piece
    at its leftmost position is exact for patterns whose only wildcard is ``*``.
    """
    anchored = pattern.endswith("$")
    body = pattern[:-1] if anchored else pattern
    if "*" not in body:
        return target == body if anchored else target.startswith(body)
    first, *middle, last = body.split("*")
    if not target.startswith(first):
        return False
    position = len(first)
    for piece in middle:
        found = target.find(piece, position)
        if found < 0:
            return False
        position = found + len(piece)
    if anchored:
        return len(target) - len(last) >= position and target.endswith(last)
    return target.find(last, position) >= 0
