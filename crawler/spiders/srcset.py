"""Image candidates of a ``srcset`` attribute, parsed by the HTML standard's algorithm.

Splitting on commas breaks URLs that contain them (``/w_300,h_200/pic.jpg``,
common on image CDNs); the standard instead reads a URL as a run of
non-whitespace, strips trailing commas, and splits descriptors on commas that
are not inside parentheses. Candidates whose descriptors are invalid are
dropped, as a browser drops them. Reference: HTML Living Standard,
"parse a srcset attribute" (§4.8.4.3.10).
"""

from __future__ import annotations

import re

_WHITESPACE = " \t\n\f\r"
_WIDTH = re.compile(r"[0-9]+w")
_DENSITY = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?x")  # a valid floating-point number, then x
_HEIGHT = re.compile(r"[0-9]+h")


def srcset_urls(value: str) -> list[str]:
    """The URLs of the valid image candidates in ``value``, in order (not yet resolved against the page)."""
    urls: list[str] = []
    position, end = 0, len(value)
    while True:
        while position < end and (value[position] in _WHITESPACE or value[position] == ","):
            position += 1  # splitting loop
        if position >= end:
            return urls
        start = position
        while position < end and value[position] not in _WHITESPACE:
            position += 1
        url = value[start:position]
        descriptors: list[str] = []
        if url.endswith(","):
            url = url.rstrip(",")
        else:
            position = _tokenise_descriptors(value, position, descriptors)
        if url and _descriptors_valid(descriptors):
            urls.append(url)


def _tokenise_descriptors(value: str, position: int, descriptors: list[str]) -> int:
    """The descriptor tokeniser: returns the position after this candidate's descriptors."""
    end = len(value)
    while position < end and value[position] in _WHITESPACE:
        position += 1
    current = ""
    state = "in descriptor"
    while True:
        c = value[position] if position < end else None
        if state == "in descriptor":
            if c is None:
                if current:
                    descriptors.append(current)
                return position
            if c in _WHITESPACE:
                if current:
                    descriptors.append(current)
                current, state = "", "after descriptor"
            elif c == ",":
                if current:
                    descriptors.append(current)
                return position + 1
            elif c == "(":
                current, state = current + c, "in parens"
            else:
                current += c
        elif state == "in parens":
            if c is None:
                descriptors.append(current)
                return position
            current += c
            if c == ")":
                state = "in descriptor"
        else:  # after descriptor
            if c is None:
                return position
            if c not in _WHITESPACE:
                state = "in descriptor"
                continue  # reconsume this character
        position += 1


def _descriptors_valid(descriptors: list[str]) -> bool:
    """The descriptor parser: at most one of width / density, a height only with a width, no zero or negative."""
    width = density = height = None
    for descriptor in descriptors:
        if _WIDTH.fullmatch(descriptor):
            if width is not None or density is not None or int(descriptor[:-1]) == 0:
                return False
            width = int(descriptor[:-1])
        elif _DENSITY.fullmatch(descriptor):
            if width is not None or density is not None or height is not None:
                return False
            density = float(descriptor[:-1])
            if density < 0:
                return False
        elif _HEIGHT.fullmatch(descriptor):
            if height is not None or density is not None or int(descriptor[:-1]) == 0:
                return False
            height = int(descriptor[:-1])
        else:
            return False
    return not (height is not None and width is None)
