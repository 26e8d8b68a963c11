"""The catalog of test sites: what each serves, and what a lawful crawl must do with it.

Each :class:`TestSite` is generated deterministically and carries its manifest:
hostname (with a realistic country-code TLD), jurisdiction, and for every page
and image the expected outcome (``crawled``, ``stored``, ``refused`` or
``failed``) with the reason code that must explain it. The tests compare real
crawls with these manifests, so this module is the ground truth.
"""

from __future__ import annotations

import html
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from crawler.testsites import images
from crawler.testsites.photos import face_photo

Body = bytes | Callable[[], bytes]

#: Image responses larger than this are refused by default (FAIRCRAWL_IMAGE_MAX_BYTES).
OVERSIZED_IMAGE_BYTES = 21 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Served:
    """One URL's response on a test site."""

    body: Body = b""
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    location: str | None = None  # for 3xx
    abort: bool = False  # drop the connection without answering
    headers: tuple[tuple[str, str], ...] = ()

    def content(self) -> bytes:
        return self.body() if callable(self.body) else self.body


@dataclass(frozen=True, slots=True)
class Expected:
    """The outcome a lawful crawl must record for one URL, and the reason code behind it."""

    url: str
    kind: str  # "page" | "image"
    outcome: str  # "crawled" | "stored" | "refused" | "failed"
    reason: str  # a reason code that must appear among the decision's reasons
    faces: int = 0  # faces in the image (0 for face-free pictures and pages)


@dataclass(slots=True)
class TestSite:
    """A generated site: its responses by path and its manifest."""

    hostname: str
    jurisdiction: str
    description: str
    robots: str  # what its robots.txt does, in words, for the manifest
    start: bool = True  # crawled from its home page in test-site mode
    down: bool = False  # nothing listens: connections are refused
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

    def page(
        self,
        path: str,
        title: str,
        links: list[str] = (),  # type: ignore[assignment]
        images: list[str] = (),  # type: ignore[assignment]
        extra_html: str = "",
        outcome: str = "crawled",
        reason: str = "robots.allowed",
    ) -> None:
        """A page linking to ``links`` and embedding ``images`` (paths or absolute URLs)."""
        body = _page_html(title, links, images, extra_html)
        self.serve(path, Served(body.encode()))
        self.expect(path, "page", outcome, reason)

    def image(
        self,
        path: str,
        body: Body,
        content_type: str = "image/jpeg",
        outcome: str = "stored",
        reason: str = "robots.allowed",
        faces: int = 0,
        status: int = 200,
    ) -> None:
        self.serve(path, Served(body, content_type, status))
        self.expect(path, "image", outcome, reason, faces)

    def expect(self, path_or_url: str, kind: str, outcome: str, reason: str, faces: int = 0) -> None:
        url = path_or_url if "://" in path_or_url else self.url(path_or_url)
        self.expected.append(Expected(url, kind, outcome, reason, faces))

    def manifest(self) -> dict[str, Any]:
        return {
            "hostname": self.hostname,
            "jurisdiction": self.jurisdiction,
            "description": self.description,
            "robots": self.robots,
            "start_url": self.start_url if self.start else None,
            "down": self.down,
            "expected": [
                {"url": e.url, "kind": e.kind, "outcome": e.outcome, "reason": e.reason, "faces": e.faces}
                for e in self.expected
            ],
        }


def _page_html(title: str, links: list[str], image_refs: list[str], extra_html: str) -> str:
    link_html = "\n".join(f'<li><a href="{html.escape(u)}">{html.escape(u)}</a></li>' for u in links)
    image_html = "\n".join(f'<img src="{html.escape(u)}" alt="">' for u in image_refs)
    return (
        f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title></head>"
        f"<body><h1>{html.escape(title)}</h1><ul>{link_html}</ul>{image_html}{extra_html}</body></html>"
    )


def _text(body: str) -> Served:
    return Served(body.encode(), "text/plain; charset=utf-8")


def _photo(name: str) -> Callable[[], bytes]:
    return lambda: face_photo(name)


def _landscape(seed: int, fmt: str = "JPEG") -> Callable[[], bytes]:
    return lambda: images.landscape(seed, fmt=fmt)


# -- the sites -----------------------------------------------------------------


def _open_site() -> TestSite:
    site = TestSite(
        "open.example.com", "US-CA", "An open photo blog: everything may be crawled.",
        "User-agent: * / Allow: /",
    )
    site.serve("/robots.txt", _text("User-agent: *\nAllow: /\n"))
    site.page("/", "Open photo blog", links=["/gallery.html", "about.html"],
              images=["/img/obama.jpg", "http://open.example.com/img/meadow.jpg"])
    site.page("/gallery.html", "Gallery", links=["/"],
              images=["/img/biden.jpg", "/img/meadow.jpg", "img/hills.png"],
              extra_html='<picture><source srcset="/img/dusk.jpg 1x, /img/dusk-2x.jpg 2x"></picture>')
    site.page("/about.html", "About", images=[])
    site.image("/img/obama.jpg", _photo("obama.jpg"), faces=1)
    site.image("/img/biden.jpg", _photo("biden.jpg"), faces=1)
    site.image("/img/meadow.jpg", _landscape(1))
    site.image("/img/hills.png", _landscape(2, "PNG"), "image/png")
    site.image("/img/dusk.jpg", _landscape(3))
    site.image("/img/dusk-2x.jpg", _landscape(4))
    return site


def _portraits_site() -> TestSite:
    """faircrawl's own group replaces the ``*`` group (RFC 9309 §2.2.1)."""
    site = TestSite(
        "portraits.example.fr", "FR",
        "Portraits; robots.txt has a '*' group and a group for faircrawl's token.",
        "'*' disallows /private/; 'faircrawl' disallows /faces/ (and so is not bound by '*'); "
        "'otherbot' disallows everything",
    )
    site.serve("/robots.txt", _text(
        "# Portrait studio\n"
        "User-agent: *\n"
        "Disallow: /private/\n"
        "\n"
        "User-agent: otherbot\n"
        "Disallow: /\n"
        "\n"
        "User-agent: FairCrawl\n"
        "Disallow: /faces/\n"
        "Sitemap: http://portraits.example.fr/sitemap.xml\n"
    ))
    site.page("/", "Portraits", links=["/studio.html"],
              images=["/faces/obama2.jpg", "/private/biden.jpg", "/img/studio.jpg"])
    site.page("/studio.html", "Studio", images=["/faces/obama3.jpg"])
    site.image("/faces/obama2.jpg", _photo("obama2.jpg"), outcome="refused", reason="robots.disallowed", faces=1)
    site.image("/faces/obama3.jpg", _photo("obama3.jpg"), outcome="refused", reason="robots.disallowed", faces=1)
    site.image("/private/biden.jpg", _photo("biden.jpg"), faces=1)
    site.image("/img/studio.jpg", _landscape(10))
    return site


def _gallery_site() -> TestSite:
    site = TestSite(
        "gallery.example.de", "DE",
        "Only a '*' group: longest match, Allow beats a shorter Disallow, '$' anchors.",
        "'*': Disallow /private/, Allow /private/press-kit/, Disallow /*.png$",
    )
    site.serve("/robots.txt", _text(
        "User-agent: *\n"
        "Disallow: /private/\n"
        "Allow: /private/press-kit/\n"
        "Disallow: /*.png$\n"
    ))
    site.page("/", "Galerie", links=["/private/index.html"],
              images=["/private/secret.jpg", "/private/press-kit/obama.jpg", "/img/river.png",
                      "/img/river.png?size=large", "/img/forest.jpg"])
    site.expect("/private/index.html", "page", "refused", "robots.disallowed")
    site.serve("/private/index.html", Served(b"<html><body>private</body></html>"))
    site.image("/private/secret.jpg", _landscape(20), outcome="refused", reason="robots.disallowed")
    site.image("/private/press-kit/obama.jpg", _photo("obama.jpg"), faces=1)
    site.image("/img/river.png", _landscape(21, "PNG"), "image/png", outcome="refused", reason="robots.disallowed")
    site.expect("/img/river.png?size=large", "image", "stored", "robots.allowed")
    site.image("/img/forest.jpg", _landscape(22))
    return site


def _robots_status_site(hostname: str, jurisdiction: str, status: int) -> TestSite:
    allowed = 400 <= status < 500
    outcome_page, outcome_image = ("crawled", "stored") if allowed else ("refused", "refused")
    reason = "robots.unavailable" if allowed else "robots.unreachable"
    meaning = "allow everything (RFC 9309 §2.3.1.3)" if allowed else "disallow everything (RFC 9309 §2.3.1.4)"
    site = TestSite(hostname, jurisdiction, f"robots.txt answers HTTP {status}.", f"HTTP {status}: {meaning}")
    site.serve("/robots.txt", Served(f"<html><body>error {status}</body></html>".encode(), status=status))
    site.page("/", f"robots.txt {status}", links=["/more.html"], images=["/img/a.jpg"],
              outcome=outcome_page, reason=reason)
    if allowed:
        site.page("/more.html", "More", images=["/img/b.jpg"], outcome=outcome_page, reason=reason)
        site.image("/img/a.jpg", _landscape(status), outcome=outcome_image, reason=reason)
        site.image("/img/b.jpg", _photo("obama3.jpg"), outcome=outcome_image, reason=reason, faces=1)
    return site


def _unreachable_robots_site() -> TestSite:
    site = TestSite(
        "flaky.example.nl", "NL", "The connection for robots.txt is dropped without an answer.",
        "network error: disallow everything (RFC 9309 §2.3.1.4)",
    )
    site.serve("/robots.txt", Served(abort=True))
    site.page("/", "Flaky", images=["/img/a.jpg"], outcome="refused", reason="robots.unreachable")
    site.serve("/img/a.jpg", Served(_landscape(30), "image/jpeg"))
    return site


def _down_site() -> TestSite:
    site = TestSite(
        "down.example.pt", "PT", "Nothing listens: every connection is refused.",
        "connection refused: disallow everything (RFC 9309 §2.3.1.4)", down=True,
    )
    site.expect("/", "page", "refused", "robots.unreachable")
    return site


def _redirect_sites() -> list[TestSite]:
    moved = TestSite(
        "moved.example.it", "IT",
        "robots.txt redirects 3 times, across hosts; the final rules apply to this host.",
        "3 redirects to rules.example.it, whose file disallows /hidden/",
    )
    moved.serve("/robots.txt", Served(status=301, location="/robots-moved.txt"))
    moved.serve("/robots-moved.txt", Served(status=302, location="http://rules.example.it/step.txt"))
    rules = TestSite("rules.example.it", "IT", "Hosts moved.example.it's robots.txt.", "not crawled", start=False)
    rules.serve("/step.txt", Served(status=307, location="http://rules.example.it/moved-robots.txt"))
    rules.serve("/moved-robots.txt", _text("User-agent: *\nDisallow: /hidden/\n"))
    moved.page("/", "Moved", images=["/hidden/obama.jpg", "/img/lake.jpg"])
    moved.image("/hidden/obama.jpg", _photo("obama.jpg"), outcome="refused", reason="robots.disallowed", faces=1)
    moved.image("/img/lake.jpg", _landscape(40))

    chain = TestSite(
        "longchain.example.es", "ES",
        "robots.txt redirects 6 times: more than 5, so it is treated as unavailable.",
        "6 redirects (the last target would disallow everything): unavailable, allow (RFC 9309 §2.3.1.2)",
    )
    chain.serve("/robots.txt", Served(status=301, location="/r1.txt"))
    for hop in range(1, 6):
        chain.serve(f"/r{hop}.txt", Served(status=302, location=f"/r{hop + 1}.txt"))
    chain.serve("/r6.txt", _text("User-agent: *\nDisallow: /\n"))
    chain.page("/", "Long chain", images=["/img/coast.jpg"], reason="robots.unavailable")
    chain.image("/img/coast.jpg", _landscape(41), reason="robots.unavailable")
    return [moved, rules, chain]


def _cdn_sites() -> list[TestSite]:
    news = TestSite(
        "news.example.com", "US-NY", "A news site whose photos live on two other hosts.",
        "'*': Disallow /drafts/",
    )
    news.serve("/robots.txt", _text("User-agent: *\nDisallow: /drafts/\n"))
    news.page("/", "News", links=["/story.html", "/drafts/next.html"],
              images=["http://cdn.example.net/photos/obama3.jpg", "http://static.example.org/img/skyline.jpg",
                      "/img/logo.png"])
    news.page("/story.html", "Story", images=["http://cdn.example.net/photos/biden.jpg"])
    news.expect("/drafts/next.html", "page", "refused", "robots.disallowed")
    news.serve("/drafts/next.html", Served(b"<html><body>draft</body></html>"))
    news.image("/img/logo.png", _landscape(50, "PNG"), "image/png")

    cdn = TestSite(
        "cdn.example.net", "US", "An image CDN whose own robots.txt forbids everything.",
        "'*': Disallow /", start=False,
    )
    cdn.serve("/robots.txt", _text("User-agent: *\nDisallow: /\n"))
    cdn.image("/photos/obama3.jpg", _photo("obama3.jpg"), outcome="refused", reason="robots.disallowed", faces=1)
    cdn.image("/photos/biden.jpg", _photo("biden.jpg"), outcome="refused", reason="robots.disallowed", faces=1)

    static = TestSite(
        "static.example.org", "US", "A second image host that allows crawling.", "'*': Disallow /private/",
        start=False,
    )
    static.serve("/robots.txt", _text("User-agent: *\nDisallow: /private/\n"))
    static.image("/img/skyline.jpg", _landscape(51))
    return [news, cdn, static]


def _crawl_delay_site() -> TestSite:
    site = TestSite(
        "slow.example.se", "SE", "Asks faircrawl for one request per second.",
        "'faircrawl': Crawl-delay 1",
    )
    site.serve("/robots.txt", _text("User-agent: *\nDisallow: /nothing/\n\nUser-agent: faircrawl\nCrawl-delay: 1\n"))
    site.page("/", "Slow", links=["/a.html", "/b.html"], images=["/img/fjord.jpg"])
    site.page("/a.html", "A")
    site.page("/b.html", "B", images=["/img/birch.jpg"])
    site.image("/img/fjord.jpg", _landscape(60))
    site.image("/img/birch.jpg", _landscape(61))
    return site


def _huge_robots() -> bytes:
    head = b"User-agent: *\nDisallow: /early/\n"
    filler = b"".join(b"X-Filler-%d: %s\n" % (n, b"z" * 90) for n in range(100_000))  # about 10 MB
    return head + filler + b"Disallow: /late/\n"


def _noisy_robots() -> bytes:
    rng = random.Random(7)
    noise = bytes(rng.randrange(256) for _ in range(4096)).replace(b"\n", b" ").replace(b"\r", b" ")
    return noise + b"\nUser-agent: *\nDisallow: /blocked/\n" + noise


def _bad_robots_sites() -> list[TestSite]:
    huge = TestSite(
        "hugerobots.example.ch", "CH", "A 10 MB robots.txt: only the first 500 KiB are read.",
        "'*': Disallow /early/ at the top, Disallow /late/ after 10 MB of filler",
    )
    huge.serve("/robots.txt", Served(_huge_robots, "text/plain"))
    huge.page("/", "Huge robots", images=["/early/a.jpg", "/late/b.jpg"])
    huge.image("/early/a.jpg", _landscape(70), outcome="refused", reason="robots.disallowed")
    huge.image("/late/b.jpg", _landscape(71))

    noise = TestSite(
        "noise.example.at", "AT", "robots.txt is binary garbage around one valid group.",
        "garbage, then '*': Disallow /blocked/, then garbage",
    )
    noise.serve("/robots.txt", Served(_noisy_robots, "text/plain"))
    noise.page("/", "Noise", images=["/blocked/a.jpg", "/img/b.jpg"])
    noise.image("/blocked/a.jpg", _landscape(72), outcome="refused", reason="robots.disallowed")
    noise.image("/img/b.jpg", _landscape(73))
    return [huge, noise]


def _broken_site() -> TestSite:
    site = TestSite(
        "broken.example.com", "US", "Bad inputs: every one must become a clear failed decision.",
        "'*': Allow /",
    )
    site.serve("/robots.txt", _text("User-agent: *\nAllow: /\n"))
    site.page("/", "Broken things",
              links=["/loop.html", "/vanishing.html", "/missing.html"],
              images=["/img/fine.jpg", "/img/html-page.jpg", "/img/truncated.jpg", "/img/empty.jpg",
                      "/img/huge.jpg", "/img/bomb.png", "/img/loop.jpg", "/img/missing.jpg",
                      "/img/error.jpg"])
    site.image("/img/fine.jpg", _landscape(80))
    site.image("/img/html-page.jpg", b"<!doctype html><html><body>Not an image</body></html>",
               outcome="failed", reason="image.not_an_image")
    site.image("/img/truncated.jpg", lambda: images.truncated(face_photo("obama.jpg")),
               outcome="failed", reason="image.truncated")
    site.image("/img/empty.jpg", b"", outcome="failed", reason="image.empty")
    site.image("/img/huge.jpg", lambda: images.oversized(OVERSIZED_IMAGE_BYTES),
               outcome="failed", reason="fetch.too_large")
    site.image("/img/bomb.png", images.decompression_bomb, "image/png",
               outcome="failed", reason="image.too_many_pixels")
    site.serve("/img/loop.jpg", Served(status=302, location="/img/loop-back.jpg"))
    site.serve("/img/loop-back.jpg", Served(status=302, location="/img/loop.jpg"))
    site.expect("/img/loop.jpg", "image", "failed", "fetch.redirect_loop")
    site.image("/img/missing.jpg", b"not found", "text/plain", outcome="failed", reason="fetch.http_error", status=404)
    site.image("/img/error.jpg", b"oops", "text/plain", outcome="failed", reason="fetch.http_error", status=500)
    site.serve("/loop.html", Served(status=301, location="/loop.html"))
    site.expect("/loop.html", "page", "failed", "fetch.redirect_loop")
    site.serve("/vanishing.html", Served(abort=True))
    site.expect("/vanishing.html", "page", "failed", "fetch.network_error")
    site.serve("/missing.html", Served(b"<html>gone</html>", status=404))
    site.expect("/missing.html", "page", "failed", "fetch.http_error")
    return site


@dataclass(slots=True)
class Catalog:
    """All test sites, by hostname."""

    sites: dict[str, TestSite]

    def site(self, hostname: str) -> TestSite | None:
        return self.sites.get(hostname.lower())

    @property
    def start_urls(self) -> list[str]:
        return [s.start_url for s in self.sites.values() if s.start]

    def expected(self) -> list[Expected]:
        return [e for s in self.sites.values() for e in s.expected]

    def manifest(self) -> list[dict[str, Any]]:
        return [s.manifest() for s in self.sites.values()]


@cache
def build_catalog() -> Catalog:
    """The catalog; built once per process (image bytes are generated lazily)."""
    sites = [
        _open_site(),
        _portraits_site(),
        _gallery_site(),
        _robots_status_site("maintenance.example.de", "DE", 503),
        _robots_status_site("nofile.example.co.uk", "GB", 404),
        _robots_status_site("members.example.ie", "IE", 403),
        _unreachable_robots_site(),
        _down_site(),
        *_redirect_sites(),
        *_cdn_sites(),
        _crawl_delay_site(),
        *_bad_robots_sites(),
        _broken_site(),
    ]
    return Catalog({s.hostname: s for s in sites})
