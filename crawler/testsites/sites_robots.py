"""The robots.txt and bad-input sites of the catalog (the skeleton's scenarios)."""

from __future__ import annotations

import random

from crawler.testsites import images
from crawler.testsites.model import (
    OVERSIZED_IMAGE_BYTES,
    TAKE_IMAGE,
    Served,
    TestSite,
    landscape,
    photo,
    text,
)
from crawler.testsites.photos import face_photo

IGNORES_ROBOTS = ("stored", "ignores-robots-txt")
IGNORES_ROBOTS_PAGE = ("crawled", "ignores-robots-txt")
KEEPS_EU_FACES = ("stored", "keeps-faces-eu")
KEEPS_UK_FACES = ("stored", "keeps-faces-uk")




def _open_site() -> TestSite:
    site = TestSite(
        "open.example.com", "US-CA", "An open photo blog: everything may be crawled.",
        "User-agent: * / Allow: /",
    )
    site.serve("/robots.txt", text("User-agent: *\nAllow: /\n"))
    site.page("/", "Open photo blog", links=["/gallery.html", "about.html"],
              images=["/img/obama.jpg", "http://open.example.com/img/meadow.jpg"])
    site.page("/gallery.html", "Gallery", links=["/"],
              images=["/img/biden.jpg", "/img/meadow.jpg", "img/hills.png"],
              extra_html='<picture><source srcset="/img/dusk.jpg 1x, /img/dusk-2x.jpg 2x"></picture>')
    site.page("/about.html", "About", images=[])
    site.image("/img/obama.jpg", photo("obama.jpg"), faces=1, reason="ca-public-face-images")
    site.image("/img/biden.jpg", photo("biden.jpg"), faces=1, reason="ca-public-face-images")
    site.image("/img/meadow.jpg", landscape(1))
    site.image("/img/hills.png", landscape(2, "PNG"), "image/png")
    site.image("/img/dusk.jpg", landscape(3))
    site.image("/img/dusk-2x.jpg", landscape(4))
    return site


def _portraits_site() -> TestSite:
    """faircrawl's own group replaces the ``*`` group (RFC 9309 §2.2.1)."""
    site = TestSite(
        "portraits.example.fr", "FR",
        "Portraits; robots.txt has a '*' group and a group for faircrawl's token.",
        "'*' disallows /private/; 'faircrawl' disallows /faces/ (and so is not bound by '*'); "
        "'otherbot' disallows everything",
    )
    site.serve("/robots.txt", text(
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
    site.image("/faces/obama2.jpg", photo("obama.jpg"), outcome="refused", reason="robots.disallowed", faces=1,
               unlawful=IGNORES_ROBOTS)
    site.image("/faces/obama3.jpg", photo("obama3.jpg"), outcome="refused", reason="robots.disallowed", faces=1,
               unlawful=IGNORES_ROBOTS)
    # allowed by faircrawl's own group, but a face in the EU without consent
    site.image("/private/biden.jpg", photo("biden.jpg"), outcome="refused", reason="eu-face-images-need-consent",
               faces=1, unlawful=KEEPS_EU_FACES)
    site.image("/img/studio.jpg", landscape(10))
    return site


def _gallery_site() -> TestSite:
    site = TestSite(
        "gallery.example.de", "DE",
        "Only a '*' group: longest match, Allow beats a shorter Disallow, '$' anchors.",
        "'*': Disallow /private/, Allow /private/press-kit/, Disallow /*.png$",
    )
    site.serve("/robots.txt", text(
        "User-agent: *\n"
        "Disallow: /private/\n"
        "Allow: /private/press-kit/\n"
        "Disallow: /*.png$\n"
    ))
    site.page("/", "Galerie", links=["/private/index.html"],
              images=["/private/secret.jpg", "/private/press-kit/obama.jpg", "/img/river.png",
                      "/img/river.png?size=large", "/img/forest.jpg"])
    site.page("/private/index.html", "private", outcome="refused", reason="robots.disallowed", unlawful=IGNORES_ROBOTS_PAGE)
    site.image("/private/secret.jpg", landscape(20), outcome="refused", reason="robots.disallowed",
               unlawful=IGNORES_ROBOTS)
    site.image("/private/press-kit/obama.jpg", photo("obama.jpg"), faces=1, outcome="refused",
               reason="eu-face-images-need-consent", unlawful=KEEPS_EU_FACES)
    site.image("/img/river.png", landscape(21, "PNG"), "image/png", outcome="refused", reason="robots.disallowed",
               unlawful=IGNORES_ROBOTS)
    site.expect("/img/river.png?size=large", "image", "stored", "robots.allowed", unlawful=TAKE_IMAGE)
    site.image("/img/forest.jpg", landscape(22))
    return site


def _robots_status_site(hostname: str, jurisdiction: str, status: int, face_rule: str) -> TestSite:
    allowed = 400 <= status < 500
    reason = "robots.unavailable" if allowed else "robots.unreachable"
    meaning = "allow everything (RFC 9309 §2.3.1.3)" if allowed else "disallow everything (RFC 9309 §2.3.1.4)"
    site = TestSite(hostname, jurisdiction, f"robots.txt answers HTTP {status}.", f"HTTP {status}: {meaning}",
                    jurisdiction_source="cctld")
    site.serve("/robots.txt", Served(f"<html><body>error {status}</body></html>".encode(), status=status))
    if allowed:
        site.page("/", f"robots.txt {status}", links=["/more.html"], images=["/img/a.jpg"], reason=reason)
        site.page("/more.html", "More", images=["/img/b.jpg"], reason=reason)
        site.image("/img/a.jpg", landscape(status), reason=reason)
        site.image("/img/b.jpg", photo("obama3.jpg"), outcome="refused", reason=face_rule, faces=1,
                   unlawful=KEEPS_UK_FACES if jurisdiction == "GB" else KEEPS_EU_FACES)
    else:  # the lawful crawl stops at the home page; the unlawful one takes everything
        site.page("/", f"robots.txt {status}", links=["/more.html"], images=["/img/a.jpg"],
                  outcome="refused", reason=reason, unlawful=IGNORES_ROBOTS_PAGE)
        site.page("/more.html", "More", images=["/img/b.jpg"], outcome=None, reason=None, unlawful=IGNORES_ROBOTS_PAGE)
        site.image("/img/a.jpg", landscape(status), outcome=None, reason=None, unlawful=IGNORES_ROBOTS)
        site.image("/img/b.jpg", photo("obama3.jpg"), outcome=None, reason=None, faces=1,
                   unlawful=KEEPS_UK_FACES if jurisdiction == "GB" else KEEPS_EU_FACES)
    return site


def _unreachable_robots_site() -> TestSite:
    site = TestSite(
        "flaky.example.nl", "NL", "The connection for robots.txt is dropped without an answer.",
        "network error: disallow everything (RFC 9309 §2.3.1.4)",
    )
    site.serve("/robots.txt", Served(abort=True))
    site.page("/", "Flaky", images=["/img/a.jpg"], outcome="refused", reason="robots.unreachable",
              unlawful=IGNORES_ROBOTS_PAGE)
    site.image("/img/a.jpg", landscape(30), outcome=None, reason=None, unlawful=IGNORES_ROBOTS)
    return site


def _down_site() -> TestSite:
    site = TestSite(
        "down.example.pt", "PT", "Nothing listens: every connection is refused.",
        "connection refused: disallow everything (RFC 9309 §2.3.1.4)", down=True,
    )
    site.expect("/", "page", "refused", "robots.unreachable", unlawful=("failed", "fetch.network_error"))
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
    rules.serve("/moved-robots.txt", text("User-agent: *\nDisallow: /hidden/\n"))
    moved.page("/", "Moved", images=["/hidden/obama.jpg", "/img/lake.jpg"])
    moved.image("/hidden/obama.jpg", photo("obama.jpg"), outcome="refused", reason="robots.disallowed", faces=1,
                unlawful=KEEPS_EU_FACES)
    moved.image("/img/lake.jpg", landscape(40))

    chain = TestSite(
        "longchain.example.es", "ES",
        "robots.txt redirects 6 times: more than 5, so it is treated as unavailable.",
        "6 redirects (the last target would disallow everything): unavailable, allow (RFC 9309 §2.3.1.2)",
    )
    chain.serve("/robots.txt", Served(status=301, location="/r1.txt"))
    for hop in range(1, 6):
        chain.serve(f"/r{hop}.txt", Served(status=302, location=f"/r{hop + 1}.txt"))
    chain.serve("/r6.txt", text("User-agent: *\nDisallow: /\n"))
    chain.page("/", "Long chain", images=["/img/coast.jpg"], reason="robots.unavailable")
    chain.image("/img/coast.jpg", landscape(41), reason="robots.unavailable")
    return [moved, rules, chain]


def _cdn_sites() -> list[TestSite]:
    news = TestSite(
        "news.example.com", "UNKNOWN", "A news site whose photos live on two other hosts.",
        "'*': Disallow /drafts/",
    )
    news.serve("/robots.txt", text("User-agent: *\nDisallow: /drafts/\n"))
    news.page("/", "News", links=["/story.html", "/drafts/next.html"],
              images=["http://cdn.example.net/photos/obama3.jpg", "http://static.example.org/img/skyline.jpg",
                      "/img/logo.png"])
    news.page("/story.html", "Story", images=["http://cdn.example.net/photos/biden.jpg"])
    news.page("/drafts/next.html", "Draft", outcome="refused", reason="robots.disallowed", unlawful=IGNORES_ROBOTS_PAGE)
    news.image("/img/logo.png", landscape(50, "PNG"), "image/png")

    cdn = TestSite(
        "cdn.example.net", "UNKNOWN", "An image CDN whose own robots.txt forbids everything.",
        "'*': Disallow /", start=False,
    )
    cdn.serve("/robots.txt", text("User-agent: *\nDisallow: /\n"))
    cdn.image("/photos/obama3.jpg", photo("obama3.jpg"), outcome="refused", reason="robots.disallowed", faces=1,
              unlawful=IGNORES_ROBOTS)
    cdn.image("/photos/biden.jpg", photo("biden.jpg"), outcome="refused", reason="robots.disallowed", faces=1,
              unlawful=IGNORES_ROBOTS)

    static = TestSite(
        "static.example.org", "UNKNOWN", "A second image host that allows crawling.", "'*': Disallow /private/",
        start=False,
    )
    static.serve("/robots.txt", text("User-agent: *\nDisallow: /private/\n"))
    static.image("/img/skyline.jpg", landscape(51))
    return [news, cdn, static]


def _crawl_delay_site() -> TestSite:
    site = TestSite(
        "slow.example.se", "SE", "Asks faircrawl for one request per second.",
        "'faircrawl': Crawl-delay 1",
    )
    site.serve("/robots.txt", text("User-agent: *\nDisallow: /nothing/\n\nUser-agent: faircrawl\nCrawl-delay: 1\n"))
    site.page("/", "Slow", links=["/a.html", "/b.html"], images=["/img/fjord.jpg"])
    site.page("/a.html", "A")
    site.page("/b.html", "B", images=["/img/birch.jpg"])
    site.image("/img/fjord.jpg", landscape(60))
    site.image("/img/birch.jpg", landscape(61))
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
    huge.image("/early/a.jpg", landscape(70), outcome="refused", reason="robots.disallowed", unlawful=IGNORES_ROBOTS)
    huge.image("/late/b.jpg", landscape(71))

    noise = TestSite(
        "noise.example.at", "AT", "robots.txt is binary garbage around one valid group.",
        "garbage, then '*': Disallow /blocked/, then garbage",
    )
    noise.serve("/robots.txt", Served(_noisy_robots, "text/plain"))
    noise.page("/", "Noise", images=["/blocked/a.jpg", "/img/b.jpg"])
    noise.image("/blocked/a.jpg", landscape(72), outcome="refused", reason="robots.disallowed", unlawful=IGNORES_ROBOTS)
    noise.image("/img/b.jpg", landscape(73))
    return [huge, noise]


def _broken_site() -> TestSite:
    site = TestSite(
        "broken.example.com", "UNKNOWN", "Bad inputs: every one must become a clear failed decision.",
        "'*': Allow /",
    )
    site.serve("/robots.txt", text("User-agent: *\nAllow: /\n"))
    site.page("/", "Broken things",
              links=["/loop.html", "/vanishing.html", "/missing.html"],
              images=["/img/fine.jpg", "/img/html-page.jpg", "/img/truncated.jpg", "/img/empty.jpg",
                      "/img/huge.jpg", "/img/bomb.png", "/img/loop.jpg", "/img/missing.jpg",
                      "/img/error.jpg"])
    site.image("/img/fine.jpg", landscape(80))
    site.image("/img/html-page.jpg", b"<!doctype html><html><body>Not an image</body></html>",
               outcome="failed", reason="image.not_an_image", unlawful=None)
    site.image("/img/truncated.jpg", lambda: images.truncated(face_photo("obama.jpg")),
               outcome="failed", reason="image.truncated", unlawful=None)
    site.image("/img/empty.jpg", b"", outcome="failed", reason="image.empty", unlawful=None)
    site.image("/img/huge.jpg", lambda: images.oversized(OVERSIZED_IMAGE_BYTES),
               outcome="failed", reason="fetch.too_large", unlawful=None)
    site.image("/img/bomb.png", images.decompression_bomb, "image/png",
               outcome="failed", reason="image.too_many_pixels", unlawful=None)
    site.serve("/img/loop.jpg", Served(status=302, location="/img/loop-back.jpg"))
    site.serve("/img/loop-back.jpg", Served(status=302, location="/img/loop.jpg"))
    site.expect("/img/loop.jpg", "image", "failed", "fetch.redirect_loop")
    site.image("/img/missing.jpg", b"not found", "text/plain", outcome="failed", reason="fetch.http_error",
               unlawful=None, status=404)
    site.image("/img/error.jpg", b"oops", "text/plain", outcome="failed", reason="fetch.http_error",
               unlawful=None, status=500)
    site.serve("/loop.html", Served(status=301, location="/loop.html"))
    site.expect("/loop.html", "page", "failed", "fetch.redirect_loop")
    site.serve("/vanishing.html", Served(abort=True))
    site.expect("/vanishing.html", "page", "failed", "fetch.network_error")
    site.serve("/missing.html", Served(b"<html>gone</html>", status=404))
    site.expect("/missing.html", "page", "failed", "fetch.http_error")
    return site




def robots_sites() -> list[TestSite]:
    return [
        _open_site(),
        _portraits_site(),
        _gallery_site(),
        _robots_status_site("maintenance.example.de", "DE", 503, ""),
        _robots_status_site("nofile.example.co.uk", "GB", 404, "uk-face-images-need-consent"),
        _robots_status_site("members.example.ie", "IE", 403, "eu-face-images-need-consent"),
        _unreachable_robots_site(),
        _down_site(),
        *_redirect_sites(),
        *_cdn_sites(),
        _crawl_delay_site(),
        *_bad_robots_sites(),
        _broken_site(),
    ]
