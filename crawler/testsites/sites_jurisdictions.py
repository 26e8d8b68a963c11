"""One site per jurisdiction, each with a face photo and a face-free picture, and one per resolution step.

Every site's robots.txt allows everything, so what differs is only the law of
its jurisdiction and how that jurisdiction was found: the site registry, the
country-code TLD, Content-Language, <html lang>, a self-referencing hreflang,
or nothing at all (unknown: the strictest rules).
"""

from __future__ import annotations

from crawler.testsites.model import TAKE_IMAGE, Served, TestSite, landscape, page_html, photo, text

ALLOW_ALL = "User-agent: *\nAllow: /\n"


def _site(hostname: str, jurisdiction: str, source: str, description: str, face_outcome: str, face_rule: str,
          face: str, seed: int, unlawful_face: tuple[str, str] = TAKE_IMAGE, lang: str = "en",
          headers: tuple[tuple[str, str], ...] = (), head_html: str = "") -> TestSite:
    site = TestSite(hostname, jurisdiction, description, "'*': Allow /", jurisdiction_source=source)
    site.serve("/robots.txt", text(ALLOW_ALL))
    site.page("/", description, images=["/img/person.jpg", "/img/view.jpg"], lang=lang, headers=headers,
              head_html=head_html)
    site.image("/img/person.jpg", photo(face), outcome=face_outcome, reason=face_rule, faces=1, unlawful=unlawful_face)
    site.image("/img/view.jpg", landscape(seed))
    return site


def jurisdiction_sites() -> list[TestSite]:
    keeps_eu = ("stored", "keeps-faces-eu")
    sites = [
        _site("chicago.example.com", "US-IL", "site-registry", "Chicago photo club (Illinois, BIPA)",
              "refused", "il-face-images-need-release", "obama3.jpg", 100),
        _site("austin.example.com", "US-TX", "site-registry", "Austin street photos (Texas, CUBI)",
              "refused", "tx-face-images-need-consent", "biden.jpg", 101),
        _site("seattle.example.com", "US-WA", "site-registry", "Seattle portraits (Washington, RCW 19.373)",
              "refused", "wa-face-images-need-consent", "obama3.jpg", 102),
        _site("toronto.example.ca", "CA", "cctld", "Toronto gallery (Canada, PIPEDA)",
              "refused", "canada-face-images-need-consent", "obama.jpg", 103),
        _site("sydney.example.com.au", "AU", "cctld", "Sydney gallery (Australia, Privacy Act)",
              "refused", "australia-face-images-need-consent", "biden.jpg", 104),
        _site("lyon.example.fr", "FR", "cctld", "Lyon portraits (France, GDPR)",
              "refused", "eu-face-images-need-consent", "obama.jpg", 105, unlawful_face=keeps_eu),
        _site("london.example.co.uk", "GB", "cctld", "London portraits (UK GDPR)",
              "refused", "uk-face-images-need-consent", "obama3.jpg", 106,
              unlawful_face=("stored", "keeps-faces-uk")),
        _site("releases.example.com", "US-IL", "site-registry",
              "Stock photos whose models signed written releases (terms registry: consent recorded)",
              "stored", "il-face-images-with-release", "obama.jpg", 107),
        _site("nowhere.example.com", "UNKNOWN", "unknown", "A .com site that says nothing about where it is",
              "refused", "fallback-face-images-need-consent", "biden.jpg", 108),
        _site("wien.example.com", "AT", "content-language", "Vienna portraits (Content-Language: de-AT)",
              "refused", "eu-face-images-need-consent", "obama.jpg", 109, unlawful_face=keeps_eu,
              headers=(("Content-Language", "de-AT"),), lang="de"),
        _site("montreal.example.net", "CA", "html-lang", "Montreal portraits (<html lang=fr-CA>)",
              "refused", "canada-face-images-need-consent", "obama3.jpg", 110, lang="fr-CA"),
        _site("auckland.example.org", "NZ", "hreflang", "Auckland portraits (self-referencing hreflang en-NZ)",
              "refused", "fallback-face-images-need-consent", "obama3.jpg", 111, lang="",
              head_html='<link rel="alternate" hreflang="en-NZ" href="http://auckland.example.org/">'),
    ]
    noscrape = TestSite("noscrape.example.com", "UNKNOWN", "Terms forbid automated collection (terms registry)",
                        "'*': Allow /", jurisdiction_source="unknown")
    noscrape.serve("/robots.txt", text(ALLOW_ALL))
    noscrape.page("/", "No scraping", images=["/img/a.jpg"], outcome="refused", reason="terms-forbid-scraping",
                  unlawful=("crawled", "ignores-site-terms"))
    noscrape.image("/img/a.jpg", landscape(112), outcome=None, reason=None, unlawful=("stored", "ignores-site-terms"))
    noscrape.serve("/terms.html", Served(page_html("Terms", [], [], "<p>No automated collection.</p>").encode()))
    return [*sites, noscrape]
