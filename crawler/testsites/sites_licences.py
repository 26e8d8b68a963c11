"""Documents signals point to: RSL 1.0 licences and TDMRep tdm-policy documents (reference §9.1, §9.4).

The crawler must fetch and read them: a licence that prohibits AI training or
asks for payment refuses the image unless a licence is recorded in the terms
registry (``rsl-licensed.example.com`` has one); a licence or policy that
cannot be fetched keeps the most protective reading. Pictures are face-free.
"""

from __future__ import annotations

import json

from crawler.testsites.model import Served, TestSite, landscape, text

RSL_NS = "https://rslstandard.org/rsl"
TDM_CONTEXT = ["http://www.w3.org/ns/odrl.jsonld", "http://www.w3.org/ns/tdmrep.jsonld"]


def rsl_xml(*contents: tuple[str, str], server: str = "") -> Served:
    """An RSL document: (content url, licence XML) pairs."""
    server_attr = f' server="{server}"' if server else ""
    body = "".join(f'<content url="{url}"{server_attr}><license>{lic}</license></content>' for url, lic in contents)
    return Served(f'<rsl xmlns="{RSL_NS}">{body}</rsl>'.encode(), "application/rsl+xml")


def _rsl_sites() -> list[TestSite]:
    site = TestSite("rsl.example.com", "UNKNOWN", "RSL licence named by robots.txt License:",
                    "'*': Allow /; License: /license.xml", jurisdiction_source="unknown")
    site.serve("/robots.txt", text("User-agent: *\nAllow: /\n\nLicense: http://rsl.example.com/license.xml\n"))
    site.serve("/license.xml", rsl_xml(
        ("/", '<permits type="usage">search</permits><prohibits type="usage">ai-train</prohibits>'),
        ("/free/", '<permits type="usage">ai-train search</permits>'),
        ("/paid/", '<permits type="usage">all</permits><payment type="purchase"><amount currency="USD">10</amount>'
                   "</payment>")))
    ignored = ("stored", "ignores-rsl-licence")
    site.page("/", "RSL", images=["/img/a.jpg", "/free/b.jpg", "/paid/c.jpg"])
    site.image("/img/a.jpg", landscape(900), outcome="refused", reason="rsl-prohibits-ai-training", unlawful=ignored)
    site.image("/free/b.jpg", landscape(901), reason="rsl.permitted")
    site.image("/paid/c.jpg", landscape(902), outcome="refused", reason="rsl-licence-required", unlawful=ignored)

    page = TestSite("rsl-page.example.com", "UNKNOWN", "RSL licences in HTML (<link>, inline) and Link headers",
                    "'*': Allow /", jurisdiction_source="unknown")
    page.serve("/robots.txt", text("User-agent: *\nAllow: /\n"))
    page.serve("/rsl.xml", rsl_xml(("/", '<prohibits type="usage">ai-all</prohibits>')))
    page.serve("/token.xml", rsl_xml(("/", '<permits type="usage">ai-train</permits>'),
                                     server="https://rsl-server.example.net/"))
    page.page("/", "RSL link", links=["/inline.html", "/plain.html"], images=["/img/linked.jpg"],
              head_html='<link rel="license" type="application/rsl+xml" href="/rsl.xml">')
    page.image("/img/linked.jpg", landscape(903), outcome="refused", reason="rsl-prohibits-ai-training", unlawful=ignored)
    inline = (f'<script type="application/rsl+xml"><rsl xmlns="{RSL_NS}"><content url="/"><license>'
              '<prohibits type="usage">ai-train</prohibits></license></content></rsl></script>')
    page.page("/inline.html", "RSL inline", images=["/img/inline.jpg"], head_html=inline)
    page.image("/img/inline.jpg", landscape(904), outcome="refused", reason="rsl-prohibits-ai-training", unlawful=ignored)
    page.page("/plain.html", "Images that name their own licence", images=["/img/header.jpg", "/img/gone.jpg",
                                                                             "/img/free.jpg"])
    page.image("/img/header.jpg", landscape(905), outcome="refused", reason="rsl-licence-required", unlawful=ignored,
               headers=(("Link", '</token.xml>; rel="license"; type="application/rsl+xml"'),))
    page.image("/img/gone.jpg", landscape(906), outcome="refused", reason="rsl-prohibits-ai-training", unlawful=ignored,
               headers=(("Link", '</missing.xml>; rel="license"; type="application/rsl+xml"'),))
    page.image("/img/free.jpg", landscape(907))

    licensed = TestSite("rsl-licensed.example.com", "UNKNOWN", "A paid RSL licence that faircrawl holds (terms registry)",
                        "'*': Allow /; License: /license.xml", jurisdiction_source="unknown")
    licensed.serve("/robots.txt", text("User-agent: *\nAllow: /\nLicense: /license.xml\n"))
    licensed.serve("/license.xml", rsl_xml(("/", '<permits type="usage">ai-train</permits>'
                                                 '<payment type="subscription"/>')))
    licensed.page("/", "Licensed by RSL", images=["/img/a.jpg"])
    licensed.image("/img/a.jpg", landscape(908), reason="rsl.licence_required")
    return [site, page, licensed]


def _policy(*permissions: dict[str, object]) -> Served:
    document = {"@context": TDM_CONTEXT, "@type": "Offer", "profile": "http://www.w3.org/ns/tdmrep",
                "uid": "http://tdm-policy.example.com/policies/1",
                "assigner": {"vcard:fn": "Example Press", "vcard:hasEmail": "mailto:rights@example.com"},
                "permission": list(permissions)}
    return Served(json.dumps(document).encode(), "application/ld+json")


def _tdm_policy_site() -> TestSite:
    site = TestSite("tdm-policy.example.com", "UNKNOWN", "TDMRep reservations pointing to tdm-policy documents",
                    "'*': Allow /", jurisdiction_source="unknown")
    site.serve("/robots.txt", text("User-agent: *\nAllow: /\n"))
    base = "http://tdm-policy.example.com/policies"
    rules = [{"location": f"/{folder}/", "tdm-reservation": 1, "tdm-policy": f"{base}/{name}"}
             for folder, name in (("duties", "pay.json"), ("research", "research.json"), ("html", "terms.html"),
                                  ("missing", "gone.json"), ("free", "free.json"))]
    site.serve("/.well-known/tdmrep.json", Served(json.dumps(rules).encode(), "application/json"))
    site.serve("/policies/pay.json", _policy({"action": "tdm:mine", "duty": [{"action": "compensate"}]}))
    site.serve("/policies/research.json", _policy({"action": "tdm:mine", "constraint": [
        {"leftOperand": "purpose", "operator": "eq", "rightOperand": "tdm:research"}]}))
    site.serve("/policies/terms.html", Served(b"<html><body>Ask us.</body></html>"))
    site.serve("/policies/free.json", _policy({"action": "tdm:mine"}))
    reserved = ("stored", "ignores-tdm-reservation")
    site.page("/", "tdm-policy", images=["/duties/a.jpg", "/research/b.jpg", "/html/c.jpg", "/missing/d.jpg",
                                         "/free/e.jpg", "/img/open.jpg"])
    site.image("/duties/a.jpg", landscape(910), outcome="refused", reason="tdm-policy-duties-unmet",
               unlawful=("stored", "ignores-tdm-policy-duties"))
    site.image("/research/b.jpg", landscape(911), outcome="refused", reason="tdm.policy_reserved", unlawful=reserved)
    site.image("/html/c.jpg", landscape(912), outcome="refused", reason="tdm.policy_reserved", unlawful=reserved)
    site.image("/missing/d.jpg", landscape(913), outcome="refused", reason="tdm.policy_reserved", unlawful=reserved)
    # A free offer is read and recorded, but the lawful pack's reservation rule has no exception for it yet.
    site.image("/free/e.jpg", landscape(914), outcome="refused", reason="tdm.policy_permitted", unlawful=reserved)
    site.image("/img/open.jpg", landscape(915))
    return site


def licence_sites() -> list[TestSite]:
    return [*_rsl_sites(), _tdm_policy_site()]
