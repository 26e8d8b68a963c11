"""A fan site (California: faces may be kept and screened) where people who may opt out appear again.

With no opt-out on record everything here is kept. The opt-out tests add
one (a probe photo of the person on open.example.com and releases.example.com,
and a perceptual-hash opt-out of a portrait) and check that nothing of them is
stored on any site under the lawful pack, and that it is under unlawful-demo.
"""

from __future__ import annotations

import io
from collections.abc import Callable

from PIL import Image

from crawler.testsites.model import TestSite, landscape, photo, text
from crawler.testsites.photos import face_photo
from crawler.testsites.sites_rights import variant


def _resized_copy(name: str, factor: float, quality: int) -> Callable[[], bytes]:
    """A smaller, recompressed copy: the same picture to a perceptual hash, other bytes to sha256."""
    def build() -> bytes:
        with Image.open(io.BytesIO(face_photo(name))) as picture:
            smaller = picture.convert("RGB").resize((int(picture.width * factor), int(picture.height * factor)))
            out = io.BytesIO()
            smaller.save(out, "JPEG", quality=quality)
            return out.getvalue()
    return build


def optout_sites() -> list[TestSite]:
    site = TestSite("fans.example.com", "US-CA", "A fan site: other photos of people seen elsewhere (California)",
                    "'*': Allow /", jurisdiction_source="site-registry")
    site.serve("/robots.txt", text("User-agent: *\nAllow: /\n"))
    site.page("/", "Fans", images=["/img/speech.jpg", "/img/rally.jpg", "/img/portrait-small.jpg", "/img/park.jpg"])
    site.image("/img/speech.jpg", variant("obama3.jpg", 0.8, mirror=True), faces=1, reason="ca-public-face-images")
    site.image("/img/rally.jpg", photo("obama3.jpg"), faces=1, reason="ca-public-face-images")
    site.image("/img/portrait-small.jpg", _resized_copy("biden.jpg", 0.4, 60), faces=1, reason="ca-public-face-images")
    site.image("/img/park.jpg", landscape(800))
    return [site]
