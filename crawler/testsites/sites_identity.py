"""Sites about who faircrawl is: the faces token in robots.txt, and a site that admits only verified crawlers.

``faces-token.example.com`` allows crawling everywhere but forbids face
processing under ``/people/`` to ``faircrawl-faces``: there no face is looked
at, and since its jurisdiction is unknown (the strictest rules need a face
check) those images are refused, face or not. The unlawful pack processes them
anyway and records the breach.

``faircrawl.example`` is the crawler's own home: the bot page the User-Agent
links to and the JWKS key directory that ``Signature-Agent`` names.
``verified.example.com`` admits only requests whose Web Bot Auth signature
verifies against that directory (``crawler.testsites.verified``).
"""

from __future__ import annotations

from crawler.botauth.keys import DIRECTORY_MEDIA_TYPE, DIRECTORY_PATH
from crawler.identity import BOT_PAGE
from crawler.testsites.model import Served, TestSite, landscape, photo, text
from crawler.testsites.sites_rights import variant
from crawler.testsites.verified import admit_verified, key_directory

FACES_ROBOTS = "User-agent: faircrawl-faces\nDisallow: /people/\n\nUser-agent: *\nAllow: /\n"


def _faces_token_site() -> TestSite:
    site = TestSite("faces-token.example.com", "UNKNOWN", "robots.txt forbids face processing (faircrawl-faces) "
                    "under /people/", "'faircrawl-faces': Disallow /people/; '*': Allow /", jurisdiction_source="unknown")
    site.serve("/robots.txt", text(FACES_ROBOTS))
    ignored = ("stored", "faces.token_ignored")
    site.page("/", "Faces token", images=["/people/portrait.jpg", "/people/view.jpg", "/img/portrait.jpg",
                                          "/img/view.jpg"])
    site.image("/people/portrait.jpg", variant("obama3.jpg", 0.7), outcome="refused", reason="faces.token_disallowed",
               faces=1, unlawful=ignored)
    site.image("/people/view.jpg", landscape(800), outcome="refused", reason="faces.token_disallowed", unlawful=ignored)
    site.image("/img/portrait.jpg", photo("biden.jpg"), outcome="refused", reason="fallback-face-images-need-consent",
               faces=1)
    site.image("/img/view.jpg", landscape(801), reason="faces.none")
    return site


def _faces_token_california_site() -> TestSite:
    """California keeps face images without consent, so no face check is needed to decide: kept, never templated."""
    site = TestSite("faces-token-ca.example.com", "US-CA", "faircrawl-faces disallowed everywhere, in California",
                    "'faircrawl-faces': Disallow /; '*': Allow /", jurisdiction_source="site-registry")
    site.serve("/robots.txt", text("User-agent: faircrawl-faces\nDisallow: /\n\nUser-agent: *\nAllow: /\n"))
    site.page("/", "Faces token in California", images=["/img/portrait.jpg"])
    site.image("/img/portrait.jpg", photo("obama3.jpg"), reason="faces.token_disallowed", faces=1,
               unlawful=("stored", "faces.token_ignored"))
    return site


def _home_site() -> TestSite:
    site = TestSite("faircrawl.example", "UNKNOWN", "faircrawl's own site: the bot page and the key directory",
                    "none", start=False)
    site.serve("/bot", Served(lambda: BOT_PAGE.read_bytes(), "text/markdown; charset=utf-8"))
    site.serve(DIRECTORY_PATH, Served(key_directory, DIRECTORY_MEDIA_TYPE, dynamic=True))
    return site


def _verified_site() -> TestSite:
    site = TestSite("verified.example.com", "UNKNOWN", "Admits only verified crawlers (Web Bot Auth signatures)",
                    "'*': Allow / (served to anyone)", jurisdiction_source="unknown", admit=admit_verified)
    site.serve("/robots.txt", text("User-agent: *\nAllow: /\n"))
    site.page("/", "Verified crawlers only", images=["/img/view.jpg"])
    site.image("/img/view.jpg", landscape(802))
    return site


def identity_sites() -> list[TestSite]:
    return [_faces_token_site(), _faces_token_california_site(), _home_site(), _verified_site()]
