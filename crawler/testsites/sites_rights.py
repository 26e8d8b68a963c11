"""Sites for the rights service: a group photo (the person among others) and a slow site to race a deletion.

Both are Californian (faces may be kept and screened), so the lawful pack
stores their faces and a deletion or access request has something to find.
"""

from __future__ import annotations

import io
from collections.abc import Callable

from PIL import Image, ImageOps

from crawler.testsites.model import TestSite, landscape, text
from crawler.testsites.photos import face_photo

ALLOW_ALL = "User-agent: *\nAllow: /\n"


def group_photo(names: tuple[str, ...] = ("obama.jpg", "biden.jpg"), height: int = 700) -> Callable[[], bytes]:
    """Several people side by side in one image: each person's data, so a deletion of one removes it."""
    def make() -> bytes:
        people = []
        for name in names:
            with Image.open(io.BytesIO(face_photo(name))) as original:
                person = original.convert("RGB")
            people.append(person.resize((round(height * person.width / person.height), height)))
        group = Image.new("RGB", (sum(p.width for p in people), height), "white")
        left = 0
        for person in people:
            group.paste(person, (left, 0))
            left += person.width
        out = io.BytesIO()
        group.save(out, "JPEG", quality=90)
        return out.getvalue()
    return make


def variant(name: str, scale: float, mirror: bool = False) -> Callable[[], bytes]:
    """Another copy of a photo (smaller, maybe mirrored): the same person, other bytes."""
    def make() -> bytes:
        with Image.open(io.BytesIO(face_photo(name))) as original:
            picture = original.convert("RGB").resize((round(original.width * scale), round(original.height * scale)))
        if mirror:
            picture = ImageOps.mirror(picture)
        out = io.BytesIO()
        picture.save(out, "JPEG", quality=88)
        return out.getvalue()
    return make


def rights_sites() -> list[TestSite]:
    group = TestSite("group.example.com", "US-CA", "A group photo of two people, and a view (California)",
                     "'*': Allow /", jurisdiction_source="site-registry")
    group.serve("/robots.txt", text(ALLOW_ALL))
    group.page("/", "Group", images=["/img/group.jpg", "/img/view.jpg"])
    group.image("/img/group.jpg", group_photo(), faces=2, reason="ca-public-face-images")
    group.image("/img/view.jpg", landscape(900))

    slow = TestSite("slowfaces.example.com", "US-CA", "Photos of one person, one request a second (Crawl-delay 1)",
                    "'*': Allow /, Crawl-delay: 1", jurisdiction_source="site-registry")
    slow.serve("/robots.txt", text(ALLOW_ALL + "Crawl-delay: 1\n"))
    pictures = [f"/img/p{index}.jpg" for index in range(6)]
    slow.page("/", "Slow portraits", images=pictures)
    for index, path in enumerate(pictures):
        slow.image(path, variant("obama3.jpg", 0.3 + 0.05 * index, mirror=bool(index % 2)), faces=1,
                   reason="ca-public-face-images")
    return [group, slow]


__all__ = ["group_photo", "rights_sites", "variant"]
