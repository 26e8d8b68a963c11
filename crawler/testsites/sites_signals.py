"""One site per machine-readable signal family, with every variant the reference names.

The pictures are face-free, so only the signals decide. Each expectation names
the signal code or rule that must explain it; under the unlawful pack the same
images are kept, and the breach rule that records which signal was ignored.
"""

from __future__ import annotations

from collections.abc import Callable

from crawler.testsites import images
from crawler.testsites.c2pa_embed import with_corrupt_c2pa, with_training_mining
from crawler.testsites.metadata import with_hostile_xmp, with_xmp_data_mining
from crawler.testsites.model import Served, TestSite, landscape, text

ALLOW_ALL = "User-agent: *\nAllow: /\n"


def _lazy(build: Callable[[], bytes]) -> Callable[[], bytes]:
    return build


def _xrobots_site() -> TestSite:
    site = TestSite("xrobots.example.com", "UNKNOWN", "X-Robots-Tag headers and robots meta tags, every edge case",
                    "'*': Allow /", jurisdiction_source="unknown")
    site.serve("/robots.txt", text(ALLOW_ALL))
    header_cases = [  # (path, header values, lawful outcome, reason)
        ("noai", ("noai",), "refused", "image-response-opts-out"),
        ("noimageai", ("noimageai",), "refused", "image-response-opts-out"),
        ("noindex", ("noindex",), "refused", "image-response-opts-out"),
        ("none", ("none",), "refused", "image-response-opts-out"),
        ("uppercase", ("NoAI",), "refused", "image-response-opts-out"),
        ("unavailable-after", ("unavailable_after: 25 Jun 2010 15:00:00 PST, noimageai",), "refused",
         "image-response-opts-out"),
        ("scoped-to-faircrawl", ("FairCrawl: noimageai",), "refused", "image-response-opts-out"),
        ("scoped-to-otherbot", ("otherbot: noai, noimageai",), "stored", "robots.allowed"),
        ("rule-then-otherbot", ("noindex, otherbot: noai",), "refused", "image-response-opts-out"),
        ("second-header", ("nosnippet", "noai"), "refused", "image-response-opts-out"),
        ("max-snippet", ("max-snippet: 20, max-image-preview: large",), "stored", "robots.allowed"),
        ("plain", (), "stored", "robots.allowed"),
    ]
    paths = []
    for seed, (name, values, outcome, reason) in enumerate(header_cases):
        path = f"/img/{name}.jpg"
        paths.append(path)
        unlawful = ("stored", "ignores-image-noai" if outcome == "refused" else "keep-every-image")
        site.image(path, landscape(200 + seed), outcome=outcome, reason=reason, unlawful=unlawful,
                   headers=tuple(("X-Robots-Tag", v) for v in values))
    meta_pages = [  # (page, head html, page headers, image outcome, reason)
        ("meta-robots", '<meta name="robots" content="noimageindex">', (), "refused", "page-opts-images-out"),
        ("meta-faircrawl", '<meta name="FairCrawl" content="NoImageAI">', (), "refused", "page-opts-images-out"),
        ("meta-otherbot", '<meta name="otherbot" content="noimageai">', (), "stored", "robots.allowed"),
        ("meta-noindex", '<meta name="robots" content="noindex">', (), "stored", "robots.allowed"),
        ("header-noimageai", "", (("X-Robots-Tag", "noimageai"),), "refused", "page-opts-images-out"),
    ]
    links = []
    for seed, (name, head, headers, outcome, reason) in enumerate(meta_pages):
        links.append(f"/{name}.html")
        site.page(f"/{name}.html", name, images=[f"/pages/{name}.jpg"], head_html=head, headers=headers)
        unlawful = ("stored", "ignores-page-noai" if outcome == "refused" else "keep-every-image")
        site.image(f"/pages/{name}.jpg", landscape(230 + seed), outcome=outcome, reason=reason, unlawful=unlawful)
    links.append("/nofollow.html")
    site.page("/nofollow.html", "nofollow", links=["/behind-nofollow.html"],
              head_html='<meta name="robots" content="nofollow">')
    site.page("/behind-nofollow.html", "Only reachable through a nofollow link", outcome=None, reason=None)
    site.page("/", "X-Robots-Tag", links=links, images=paths)
    return site


def _tdm_site() -> TestSite:
    site = TestSite("tdm.example.com", "UNKNOWN", "TDMRep: tdmrep.json (first match wins), headers, meta tags",
                    "'*': Allow /", jurisdiction_source="unknown")
    site.serve("/robots.txt", text(ALLOW_ALL))
    site.serve("/.well-known/tdmrep.json", Served(
        b'[{"location": "/reserved/open/*.jpg", "tdm-reservation": 0},'
        b' {"location": "/reserved/", "tdm-reservation": 1, "tdm-policy": "http://tdm.example.com/policy.json"},'
        b' {"location": "/reserved/open/late.jpg", "tdm-reservation": 1},'
        b' {"location": "/odd/", "tdm-reservation": 2}]', "application/json"))
    reserved = ("stored", "ignores-tdm-reservation")
    site.page("/", "TDMRep", links=["/meta.html", "/meta-then-header.html"],
              images=["/reserved/a.jpg", "/reserved/open/b.jpg", "/reserved/open/late.jpg", "/odd/c.jpg",
                      "/img/header.jpg", "/img/header-zero.jpg", "/img/free.jpg"])
    site.image("/reserved/a.jpg", landscape(300), outcome="refused", reason="tdm-rights-reserved", unlawful=reserved)
    site.image("/reserved/open/b.jpg", landscape(301))  # the first matching rule says 0
    site.image("/reserved/open/late.jpg", landscape(302))  # a later, more specific rule does not win
    site.image("/odd/c.jpg", landscape(303))  # tdm-reservation 2 is a protocol error: unset
    site.image("/img/header.jpg", landscape(304), outcome="refused", reason="tdm-rights-reserved", unlawful=reserved,
               headers=(("tdm-reservation", "1"), ("tdm-policy", "http://tdm.example.com/policy.json")))
    site.image("/img/header-zero.jpg", landscape(305), headers=(("TDM-Reservation", "0"),))
    site.image("/img/free.jpg", landscape(306))
    site.page("/meta.html", "meta", images=["/meta/d.jpg"], head_html='<meta name="tdm-reservation" content="1">')
    site.image("/meta/d.jpg", landscape(307), outcome="refused", reason="tdm-rights-reserved", unlawful=reserved)
    # the page's header says 1, its meta says 0: meta wins, and the image inherits "not reserved"
    site.page("/meta-then-header.html", "meta over header", images=["/meta/e.jpg"],
              head_html='<meta name="tdm-reservation" content="0">', headers=(("tdm-reservation", "1"),))
    site.image("/meta/e.jpg", landscape(308))
    return site


def _aipref_sites() -> list[TestSite]:
    usage = TestSite("aipref.example.com", "UNKNOWN", "IETF aipref Content-Usage in robots.txt and headers",
                     "Content-Usage: train-ai=n; Content-Usage: /ai-ok/ train-ai=y; Disallow: /never/",
                     jurisdiction_source="unknown")
    usage.serve("/robots.txt", text("User-Agent: *\nAllow: /\nDisallow: /never/\nContent-Usage: train-ai=n\n"
                                    "Content-Usage: /ai-ok/ train-ai=y\n\nUser-Agent: ExampleBot\nAllow: /\n"
                                    "Content-Usage: train-ai=y\n"))
    ignored = ("stored", "ignores-aipref")
    usage.page("/", "aipref", images=["/img/a.jpg", "/ai-ok/b.jpg", "/never/c.jpg"])
    usage.image("/img/a.jpg", landscape(400), outcome="refused", reason="aipref-train-ai-disallowed", unlawful=ignored)
    usage.image("/ai-ok/b.jpg", landscape(401))
    usage.image("/never/c.jpg", landscape(402), outcome="refused", reason="robots.disallowed",
                unlawful=("stored", "ignores-robots-txt"))

    header = TestSite("usage-header.example.com", "UNKNOWN", "Content-Usage response headers",
                      "'*': Allow /", jurisdiction_source="unknown")
    header.serve("/robots.txt", text(ALLOW_ALL))
    header.page("/", "Content-Usage headers", images=["/img/n.jpg", "/img/quoted.jpg", "/img/upper.jpg", "/img/y.jpg"])
    header.image("/img/n.jpg", landscape(410), outcome="refused", reason="aipref-train-ai-disallowed", unlawful=ignored,
                 headers=(("Content-Usage", "train-ai=n, search=y"),))
    header.image("/img/quoted.jpg", landscape(411), headers=(("Content-Usage", 'train-ai="n"'),))  # not a token
    header.image("/img/upper.jpg", landscape(412), headers=(("Content-Usage", "Train-AI=n"),))  # keys are lowercase
    header.image("/img/y.jpg", landscape(413), headers=(("Content-Usage", "train-ai=y"),))

    signal = TestSite("contentsignal.example.com", "UNKNOWN", "Cloudflare Content-Signal in robots.txt",
                      "Content-Signal: search=yes, ai-train=no", jurisdiction_source="unknown")
    signal.serve("/robots.txt", text("User-agent: *\nContent-Signal: search=yes, ai-train=no\nAllow: /\n"))
    signal.page("/", "Content-Signal", images=["/img/a.jpg"])
    signal.image("/img/a.jpg", landscape(420), outcome="refused", reason="content-signal-ai-train-disallowed",
                 unlawful=("stored", "ignores-content-signal"))

    # Cloudflare also sends Content-Signal as a response header (issue 11).
    signal_header = TestSite("contentsignal-header.example.com", "UNKNOWN", "Cloudflare Content-Signal response headers",
                             "'*': Allow /", jurisdiction_source="unknown")
    signal_header.serve("/robots.txt", text(ALLOW_ALL))
    signal_header.page("/", "Content-Signal headers", images=["/img/no.jpg", "/img/yes.jpg"])
    signal_header.image("/img/no.jpg", landscape(421), outcome="refused", reason="content-signal-ai-train-disallowed",
                        unlawful=("stored", "ignores-content-signal"), headers=(("Content-Signal", "search=yes, ai-train=no"),))
    signal_header.image("/img/yes.jpg", landscape(422), headers=(("Content-Signal", "ai-train=yes"),))
    return [usage, header, signal, signal_header]


def _ai_txt_site() -> TestSite:
    site = TestSite("aitxt.example.com", "UNKNOWN", "Spawning ai.txt: no AI training on JPEGs",
                    "'*': Allow / (ai.txt: Disallow *.jpg)", jurisdiction_source="unknown")
    site.serve("/robots.txt", text(ALLOW_ALL))
    site.serve("/ai.txt", text("# Spawning AI\n/\nUser-agent: *\nDisallow: *.jpg\nAllow: *.png\nAllow: /\n"))
    ignored = ("stored", "ignores-ai-txt")
    site.page("/", "ai.txt", images=["/img/a.jpg", "/img/B.JPG", "/img/c.png", "/img/d.jpg?w=100"])
    site.image("/img/a.jpg", landscape(500), outcome="refused", reason="ai-txt-disallows-training", unlawful=ignored)
    site.image("/img/B.JPG", landscape(501), outcome="refused", reason="ai-txt-disallows-training", unlawful=ignored)
    site.image("/img/c.png", landscape(502, "PNG"), "image/png")
    site.expect("/img/d.jpg?w=100", "image", "refused", "ai-txt-disallows-training", unlawful=ignored)
    site.serve("/img/d.jpg", Served(landscape(503), "image/jpeg"))
    return site


def _metadata_site() -> TestSite:
    site = TestSite("metadata.example.com", "UNKNOWN", "IPTC plus:DataMining and C2PA/CAWG training-mining",
                    "'*': Allow /", jurisdiction_source="unknown")
    site.serve("/robots.txt", text(ALLOW_ALL))
    iptc = ("stored", "ignores-iptc-data-mining")
    c2pa = ("stored", "ignores-c2pa-training")
    cases: list[tuple[str, Callable[[], bytes], str, str, str, tuple[str, str]]] = [
        ("iptc-prohibited.jpg", lambda: with_xmp_data_mining(images.landscape(600), "DMI-PROHIBITED-AIMLTRAINING"),
         "image/jpeg", "refused", "iptc-data-mining-prohibited", iptc),
        ("iptc-genai.jpg", lambda: with_xmp_data_mining(images.landscape(601), "DMI-PROHIBITED-GENAIMLTRAINING",
                                                        form="resource"),
         "image/jpeg", "refused", "iptc-data-mining-prohibited", iptc),
        ("iptc-other-prefix.jpg", lambda: with_xmp_data_mining(images.landscape(602), "DMI-PROHIBITED", prefix="ns7",
                                                               form="text"),
         "image/jpeg", "refused", "iptc-data-mining-prohibited", iptc),
        ("iptc-prohibited.png", lambda: with_xmp_data_mining(images.landscape(603, fmt="PNG"), "DMI-PROHIBITED"),
         "image/png", "refused", "iptc-data-mining-prohibited", iptc),
        ("iptc-allowed.jpg", lambda: with_xmp_data_mining(images.landscape(604), "DMI-ALLOWED"),
         "image/jpeg", "stored", "iptc.data_mining", ("stored", "keep-every-image")),
        ("iptc-unspecified.jpg", lambda: with_xmp_data_mining(images.landscape(605), "DMI-UNSPECIFIED"),
         "image/jpeg", "stored", "iptc.data_mining", ("stored", "keep-every-image")),
        ("xmp-hostile.jpg", lambda: with_hostile_xmp(images.landscape(606)),
         "image/jpeg", "refused", "iptc.unreadable", iptc),
        ("c2pa-cawg-not-allowed.jpg", lambda: with_training_mining(
            images.landscape(610), {"cawg.ai_training": {"use": "notAllowed"}}),
         "image/jpeg", "refused", "c2pa-training-not-allowed", c2pa),
        ("c2pa-legacy-not-allowed.jpg", lambda: with_training_mining(
            images.landscape(611), {"c2pa.ai_generative_training": {"use": "notAllowed"}}, label="c2pa.training-mining"),
         "image/jpeg", "refused", "c2pa-training-not-allowed", c2pa),
        ("c2pa-constrained.png", lambda: with_training_mining(
            images.landscape(612, fmt="PNG"), {"cawg.data_mining": {"use": "constrained", "constraint_info": "ask"}}),
         "image/png", "refused", "c2pa-training-not-allowed", c2pa),
        ("c2pa-allowed.jpg", lambda: with_training_mining(
            images.landscape(613), {"cawg.ai_training": {"use": "allowed"}}),
         "image/jpeg", "stored", "c2pa.allowed", ("stored", "keep-every-image")),
        ("c2pa-corrupt.jpg", lambda: with_corrupt_c2pa(with_training_mining(
            images.landscape(614), {"cawg.ai_training": {"use": "notAllowed"}})),
         "image/jpeg", "refused", "c2pa-training-not-allowed", c2pa),
    ]
    for name, build, content_type, outcome, reason, unlawful in cases:
        site.image(f"/img/{name}", _lazy(build), content_type, outcome=outcome, reason=reason, unlawful=unlawful)
    site.page("/", "Embedded metadata", images=[f"/img/{name}" for name, *_ in cases])
    return site


def _licence_site() -> TestSite:
    site = TestSite("licensed.example.com", "UNKNOWN", "A page under CC BY-ND 4.0 (rel=license)", "'*': Allow /",
                    jurisdiction_source="unknown")
    site.serve("/robots.txt", text(ALLOW_ALL))
    site.page("/", "Licensed", images=["/img/a.jpg"], links=["/link.html"],
              extra_html='<a rel="license" href="https://creativecommons.org/licenses/by-nd/4.0/">CC BY-ND 4.0</a>')
    site.image("/img/a.jpg", landscape(700), reason="licence-no-derivatives")
    # The HTTP Link header form (issue 11): the image response itself states its licence.
    site.page("/link.html", "Licensed by Link header", images=["/img/link.jpg"])
    site.image("/img/link.jpg", landscape(701), reason="licence-no-derivatives",
               headers=(("Link", '<https://creativecommons.org/licenses/by-nd/3.0/igo/>; rel="license"'),))
    return site


def signal_sites() -> list[TestSite]:
    return [_xrobots_site(), _tdm_site(), *_aipref_sites(), _ai_txt_site(), _metadata_site(), _licence_site()]
