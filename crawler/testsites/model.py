"""What a test site is: its responses by path, and its manifest of expected outcomes.

Every page and image carries two expectations: under the ``lawful`` pack and
under the ``unlawful-demo`` pack, each an outcome (``crawled``, ``stored``,
``refused``, ``failed``, or None when that pack never requests the URL) and a
reason code that must appear among the decision's reasons (a signal code such
as ``robots.disallowed`` or the id of the rule that decided).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from crawler.testsites import images
from crawler.testsites.photos import face_photo

Body = bytes | Callable[[], bytes]
Outcome = tuple[str, str] | None  # (outcome, reason code), or None: not requested

#: Image responses larger than this are over the default FAIRCRAWL_IMAGE_MAX_BYTES.
OVERSIZED_IMAGE_BYTES = 21 * 1024 * 1024
TAKE_PAGE = ("crawled", "take-every-page-and-image")
TAKE_IMAGE = ("stored", "keep-every-image")


@dataclass(frozen=True, slots=True)
class Served:
    """One URL's response on a test site."""

    body: Body = b""
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    location: str | None = None  # for 3xx
    abort: bool = False  # drop the connection without answering
    headers: tuple[tuple[str, str], ...] = ()
    dynamic: bool = False  # read afresh for every request (the crawler's key directory)

    def content(self) -> bytes:
        return self.body() if callable(self.body) else self.body


@dataclass(frozen=True, slots=True)
class Expected:
    """What each pack must record for one URL."""

    url: str
    kind: str  # page | image
    outcome: str | None  # under the lawful pack; None: never requested
    reason: str | None
    faces: int = 0  # faces in the image (0 for face-free pictures and pages)
    unlawful_outcome: str | None = None
    unlawful_reason: str | None = None

    def for_pack(self, pack: str) -> tuple[str, str] | None:
        if pack == "unlawful-demo":
            return (self.unlawful_outcome, self.unlawful_reason or "") if self.unlawful_outcome else None
        return (self.outcome, self.reason or "") if self.outcome else None


@dataclass(slots=True)
class TestSite:
    """A generated site: its responses by path and its manifest."""

    hostname: str
    jurisdiction: str  # the code resolution must find (UNKNOWN when it cannot)
    description: str
    robots: str  # what its robots.txt does, in words, for the manifest
    start: bool = True  # crawled from its home page in test-site mode
    down: bool = False  # nothing listens: connections are refused
    jurisdiction_source: str = ""  # which resolution step must find it
    # Who may see its pages: (request headers, lowercase names; URL) -> why refused (HTTP 403), or None.
    admit: Callable[[dict[str, str], str], str | None] | None = None
    responses: dict[str, Served] = field(default_factory=dict)
    expected: list[Expected] = field(default_factory=list)

    __test__ = False  # not a pytest test class

    @property
    def start_url(self) -> str:
        return f"http://{self.hostname}/"

    def url(self, path: str) -> str:
        return f"http://{self.hostname}{path}"

    def serve(self, path: str, served: Served) -> None:
        self.responses[path] = served

    def page(self, path: str, title: str, links: list[str] | tuple[str, ...] = (),
             images: list[str] | tuple[str, ...] = (), extra_html: str = "", head_html: str = "",
             outcome: str | None = "crawled", reason: str | None = "robots.allowed",
             unlawful: Outcome = TAKE_PAGE, headers: tuple[tuple[str, str], ...] = (), lang: str = "en") -> None:
        """A page linking to ``links`` and embedding ``images`` (paths or absolute URLs)."""
        body = page_html(title, links, images, extra_html, head_html, lang)
        self.serve(path, Served(body.encode(), headers=headers))
        self.expect(path, "page", outcome, reason, unlawful=unlawful)

    def image(self, path: str, body: Body, content_type: str = "image/jpeg", outcome: str | None = "stored",
              reason: str | None = "robots.allowed", faces: int = 0, status: int = 200,
              unlawful: Outcome = TAKE_IMAGE, headers: tuple[tuple[str, str], ...] = ()) -> None:
        self.serve(path, Served(body, content_type, status, headers=headers))
        self.expect(path, "image", outcome, reason, faces, unlawful=unlawful)

    def expect(self, path_or_url: str, kind: str, outcome: str | None, reason: str | None, faces: int = 0,
               unlawful: Outcome = None) -> None:
        url = path_or_url if "://" in path_or_url else self.url(path_or_url)
        if unlawful is None and outcome in ("failed",):
            unlawful = (outcome, reason or "")
        self.expected.append(Expected(url, kind, outcome, reason, faces, *(unlawful or (None, None))))

    def manifest(self) -> dict[str, Any]:
        return {
            "hostname": self.hostname,
            "jurisdiction": self.jurisdiction,
            "jurisdiction_source": self.jurisdiction_source,
            "description": self.description,
            "robots": self.robots,
            "start_url": self.start_url if self.start else None,
            "down": self.down,
            "expected": [
                {"url": e.url, "kind": e.kind, "faces": e.faces,
                 "lawful": {"outcome": e.outcome, "reason": e.reason} if e.outcome else None,
                 "unlawful-demo": {"outcome": e.unlawful_outcome, "reason": e.unlawful_reason}
                 if e.unlawful_outcome else None}
                for e in self.expected
            ],
        }


def page_html(title: str, links: list[str] | tuple[str, ...], image_refs: list[str] | tuple[str, ...],
              extra_html: str = "", head_html: str = "", lang: str = "en") -> str:
    link_html = "\n".join(f'<li><a href="{html.escape(u)}">{html.escape(u)}</a></li>' for u in links)
    image_html = "\n".join(f'<img src="{html.escape(u)}" alt="">' for u in image_refs)
    lang_attr = f' lang="{html.escape(lang)}"' if lang else ""
    return (
        f"<!doctype html><html{lang_attr}><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
        f"{head_html}</head><body><h1>{html.escape(title)}</h1><ul>{link_html}</ul>{image_html}{extra_html}"
        "</body></html>"
    )


def text(body: str) -> Served:
    return Served(body.encode(), "text/plain; charset=utf-8")


def photo(name: str) -> Callable[[], bytes]:
    return lambda: face_photo(name)


def landscape(seed: int, fmt: str = "JPEG") -> Callable[[], bytes]:
    return lambda: images.landscape(seed, fmt=fmt)
