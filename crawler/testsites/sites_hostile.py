"""The hostile sites of the catalog: inputs that once lost a decision, leaked a protection or crashed a stage.

Each one is a regression scenario from the integrity review (issue 7), with the
outcome both packs must record: comma-laden CDN ``srcset`` URLs, a URL longer
than browsers accept, hostile and innumerable robots directives, a page over
the page-size limit once configured, unreadable tdmrep.json files, a robots.txt
redirected to loopback, a registry host written in Unicode, two copies of one
face photo at different sizes (their templates must stay their own), and a
contact sheet of 500 small faces that a downscaled search cannot see.
"""

from __future__ import annotations

import io
from collections.abc import Callable

from PIL import Image

from crawler.testsites.model import Served, TestSite, landscape, photo, text
from crawler.testsites.photos import face_photo

ALLOW_ALL = "User-agent: *\nAllow: /\n"
TAKE_IMAGE = ("stored", "keep-every-image")
#: Longer than URLLENGTH_LIMIT (2,083, what browsers accept).
LONG_IMAGE_PATH = "/img/" + "a" * 2100 + ".jpg"
#: A page body over 1 MiB, the limit the page-size test configures (the default is 10 MiB).
BIG_PAGE_BYTES = 2 * 1024 * 1024
MANY_DIRECTIVES = 10_003


def resized(name: str, scale: float) -> Callable[[], bytes]:
    """A smaller copy of a face photo: same picture (same perceptual hash), other bytes and other face boxes."""
    def make() -> bytes:
        with Image.open(io.BytesIO(face_photo(name))) as original:
            small = original.convert("RGB").resize((round(original.width * scale), round(original.height * scale)))
            out = io.BytesIO()
            small.save(out, "JPEG", quality=90)
            return out.getvalue()
    return make


def contact_sheet(name: str = "obama.jpg", columns: int = 25, rows: int = 20, face_px: int = 33,
                  size: tuple[int, int] = (2500, 2000)) -> Callable[[], bytes]:
    """A 2500x2000 sheet of 500 copies of one face, each about 33 px: invisible once scaled to 1024 px."""
    def make() -> bytes:
        with Image.open(io.BytesIO(face_photo(name))) as original:
            portrait = original.convert("RGB")
        # the face of obama.jpg sits in its upper middle; crop around it with some margin
        width, height = portrait.size
        face = portrait.crop((int(width * 0.2), int(height * 0.12), int(width * 0.8), int(height * 0.6)))
        tile = face.resize((face_px * 2, round(face_px * 2 * face.height / face.width)))
        sheet = Image.new("RGB", size, (235, 235, 235))
        step_x, step_y = size[0] // columns, size[1] // rows
        for row in range(rows):
            for column in range(columns):
                sheet.paste(tile, (column * step_x, row * step_y))
        out = io.BytesIO()
        sheet.save(out, "JPEG", quality=92)
        return out.getvalue()
    return make


def _hostile_site() -> TestSite:
    site = TestSite("hostile.example.com", "UNKNOWN", "Hostile pages: each once lost a decision or crashed a stage",
                    "'*': Allow /", jurisdiction_source="unknown")
    site.serve("/robots.txt", text(ALLOW_ALL))
    site.page("/", "Hostile inputs", links=["/srcset.html", "/long.html", "/tokens.html", "/many.html", "/big.html"],
              images=["/img/sheet.jpg"])
    # 500 faces of about 33 px: searched at full resolution, they are faces (strictest rules: not kept)
    site.image("/img/sheet.jpg", contact_sheet(), faces=500, outcome="refused",
               reason="fallback-face-images-need-consent", unlawful=TAKE_IMAGE)
    # srcset candidates whose URLs contain commas, as image CDNs write them
    site.page("/srcset.html", "srcset with commas",
              extra_html='<img src="/img/plain.jpg" srcset="/cdn/w_300,h_200/pic.jpg 300w, '
                         '/cdn/w_600,h_400/pic.jpg 600w,/cdn/c_fill,g_face/x.jpg 2x">')
    site.image("/img/plain.jpg", landscape(500))
    site.image("/cdn/w_300,h_200/pic.jpg", landscape(501))
    site.image("/cdn/w_600,h_400/pic.jpg", landscape(502))
    site.image("/cdn/c_fill,g_face/x.jpg", landscape(503))
    # a URL longer than any browser accepts: not requested, but decided
    site.page("/long.html", "A very long image URL", images=[LONG_IMAGE_PATH])
    site.expect(LONG_IMAGE_PATH, "image", "refused", "url.too_long", unlawful=("refused", "url.too_long"))
    # directives made of hostile tokens: reason codes come from a fixed vocabulary
    site.page("/tokens.html", "Hostile directives", images=["/img/tokens.jpg"],
              headers=(("X-Robots-Tag", "\u00ff\u00fe\u00e3(noindex, ;;;:, bot\u00e9: x"),),
              head_html='<meta name="robots" content="n\u00f8index, <script>, %00">')
    site.image("/img/tokens.jpg", landscape(504))
    # ten thousand directives: the decision keeps at most 50 reasons and counts the rest
    many = ", ".join(f"x{index}" for index in range(MANY_DIRECTIVES))
    site.page("/many.html", "Too many directives", head_html=f'<meta name="robots" content="{many}">')
    # over the page-size limit once FAIRCRAWL_PAGE_MAX_BYTES is set below it (crawled by default)
    site.serve("/big.html", Served(("<!doctype html><html><body>" + "x" * BIG_PAGE_BYTES + "</body></html>").encode()))
    site.expect("/big.html", "page", "crawled", "robots.allowed", unlawful=("crawled", "take-every-page-and-image"))
    return site


def _twins_site() -> TestSite:
    """The same photo at two sizes (one perceptual hash), where templates persist: each copy keeps its own boxes.

    Crawl-delay spaces the requests, so the full-size copy is analysed before the half-size one arrives (the
    case where an analysis reused by perceptual hash once put the full-size boxes under the small copy).
    """
    site = TestSite("twins.example.com", "US-IL", "One portrait at two sizes, released for templates (terms registry)",
                    "'*': Allow /, Crawl-delay: 1", jurisdiction_source="site-registry")
    site.serve("/robots.txt", text(ALLOW_ALL + "Crawl-delay: 1\n"))
    site.page("/", "Twins", links=["/more.html"], images=["/img/full.jpg"])
    site.page("/more.html", "The same, smaller", images=["/img/half.jpg"])
    site.image("/img/full.jpg", photo("obama.jpg"), faces=1, reason="il-face-images-with-release")
    site.image("/img/half.jpg", resized("obama.jpg", 0.5), faces=1, reason="il-face-images-with-release")
    return site


def _broken_tdmrep_sites() -> list[TestSite]:
    """A tdmrep.json that exists but cannot be read is a reservation, as an unreachable one is."""
    reserved = ("stored", "ignores-tdm-reservation")
    sites: list[TestSite] = []
    for host, body, what in (
        ("badjson-tdm.example.com", b'[{"location": "/", "tdm-reservation": 0', "invalid JSON"),
        ("bigtdm.example.com", b"[" + b'{"location": "/x", "tdm-reservation": 0},' * 60_000 + b"{}]",
         "a 2.5 MB tdmrep.json, over the parse limit"),
        ("deeptdm.example.com", b"[" * 100_000 + b"]" * 100_000, "100,000 nested arrays"),
    ):
        site = TestSite(host, "UNKNOWN", f"tdmrep.json that cannot be read ({what}): reservation assumed",
                        "'*': Allow /", jurisdiction_source="unknown")
        site.serve("/robots.txt", text(ALLOW_ALL))
        site.serve("/.well-known/tdmrep.json", Served(body, "application/json"))
        site.page("/", what, images=["/img/a.jpg"])
        site.image("/img/a.jpg", landscape(510 + len(sites)), outcome="refused", reason="tdm-rights-reserved",
                   unlawful=reserved)
        sites.append(site)
    return sites


def _loopback_robots_site() -> TestSite:
    """robots.txt redirected to a loopback address: the hop is refused, so robots.txt is unreachable."""
    site = TestSite("sneaky.example.com", "UNKNOWN", "robots.txt redirects to 127.0.0.1 (an SSRF attempt)",
                    "301 to http://127.0.0.1:9/robots.txt: refused, unreachable, disallow everything",
                    jurisdiction_source="unknown")
    site.serve("/robots.txt", Served(status=301, location="http://127.0.0.1:9/robots.txt"))
    site.page("/", "Sneaky", images=["/img/a.jpg"], outcome="refused", reason="robots.unreachable",
              unlawful=("crawled", "ignores-robots-txt"))
    site.image("/img/a.jpg", landscape(520), outcome=None, reason=None, unlawful=("stored", "ignores-robots-txt"))
    return site


def _unicode_host_site() -> TestSite:
    """The terms registry names it in Unicode (bücher.example.com); the crawler sees the IDNA form."""
    site = TestSite("xn--bcher-kva.example.com", "UNKNOWN",
                    "Terms forbid scraping; the registry writes the host in Unicode (bücher.example.com)",
                    "'*': Allow /", jurisdiction_source="unknown")
    site.serve("/robots.txt", text(ALLOW_ALL))
    site.page("/", "Bücher", images=["/img/portrait.jpg"], outcome="refused", reason="terms-forbid-scraping",
              unlawful=("crawled", "ignores-site-terms"))
    site.image("/img/portrait.jpg", photo("biden.jpg"), faces=1, outcome=None, reason=None,
               unlawful=("stored", "ignores-site-terms"))
    return site


def hostile_sites() -> list[TestSite]:
    return [_hostile_site(), _twins_site(), *_broken_tdmrep_sites(), _loopback_robots_site(), _unicode_host_site()]
