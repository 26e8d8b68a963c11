"""Issue 11 signals as the crawler observes them: Content-Signal and Link headers, legacy aipref labels.

Site files are assembled as the crawler assembles them (``crawler.sitefiles.site_files_from``); the
lawful pack decides, so each test shows what a crawl would do with the response.
"""

from __future__ import annotations

from datetime import UTC, datetime

from crawler.sitefiles import site_files_from
from crawler.testsites.images import landscape
from policy.engine import PolicyContext
from policy.observe import FetchedFile, Observation, SiteFiles, image_observation, page_facts
from policy.packs import load_policy
from policy.vocabulary import REASON_CODES

ORIGIN = "http://photos.example.fr"
IMAGE = f"{ORIGIN}/gallery/lake.jpg"
PAGE = f"{ORIGIN}/gallery/"
TOKEN = "faircrawl"
NOW = datetime(2026, 12, 1, tzinfo=UTC)
JPEG = landscape(3, size=(64, 48))


def site(robots: bytes = b"User-agent: *\nAllow: /\n") -> SiteFiles:
    absent = [FetchedFile(f"{ORIGIN}{p}", "absent", None, "HTTP 404") for p in ("/.well-known/tdmrep.json", "/ai.txt")]
    return site_files_from(ORIGIN, FetchedFile(f"{ORIGIN}/robots.txt", "found", robots, "HTTP 200"), *absent, 0.0)


def decide(purpose: str, observation: Observation) -> str:
    signals = {"terms.scraping": "permitted", "terms.biometric": "unknown", "consent.biometric": False,
               "image.faces": 0, **observation.signals}
    return load_policy("lawful").engine.decide(PolicyContext(purpose, "FR", signals)).effect


def test_content_signal_response_header_refuses_training_use():
    observation = image_observation(IMAGE, {"Content-Signal": ["search=yes, ai-train=no"]}, JPEG, TOKEN, site(), None, NOW)
    assert observation.signals["content_signal.ai_train"] == "no"
    reason = next(r for r in observation.reasons if r.code == "content_signal.ai_train_no")
    assert "Content-Signal header" in reason.detail
    assert decide("collect_image", observation) == "deny"


def test_content_signal_header_combines_most_restrictively_with_robots():
    robots = b"User-agent: *\nContent-Signal: ai-train=no\nAllow: /\n"
    observation = image_observation(IMAGE, {"content-signal": [b"ai-train=yes"]}, JPEG, TOKEN, site(robots), None, NOW)
    assert observation.signals["content_signal.ai_train"] == "no"
    allowed = image_observation(IMAGE, {"Content-Signal": ["ai-train=yes"]}, JPEG, TOKEN, site(), None, NOW)
    assert allowed.signals["content_signal.ai_train"] == "yes"


def test_legacy_label_is_recorded_in_the_decision():
    observation = image_observation(IMAGE, {"Content-Usage": ["train-genai=n"]}, JPEG, TOKEN, site(), None, NOW)
    legacy = [r for r in observation.reasons if r.code == "aipref.legacy_label"]
    assert legacy and "legacy label seen: train-genai=n" in legacy[0].detail
    assert observation.signals["aipref.train_ai"] is None  # ignored, as vocab-07 requires
    assert "aipref.legacy_label" in REASON_CODES


def test_link_header_licence_reaches_the_image_observation():
    headers = {"Link": ['<https://creativecommons.org/licenses/by-nc-nd/4.0/>; rel="license"']}
    observation = image_observation(IMAGE, headers, JPEG, TOKEN, site(), None, NOW)
    assert observation.signals["license.kinds"] == ["cc-by-nc-nd-4.0"]
    assert observation.signals["license.noncommercial"] is True
    assert any(r.code == "licence.cc-by-nc-nd-4.0" and "link-header" in r.detail for r in observation.reasons)


def test_link_header_licence_on_a_page_is_inherited_by_its_images():
    headers = {"Link": ["<https://creativecommons.org/licenses/by/3.0/igo/>; rel=license"]}
    page = page_facts(PAGE, headers, "<html><body><img src='lake.jpg'></body></html>", TOKEN, site(), NOW)
    observation = image_observation(IMAGE, {}, JPEG, TOKEN, site(), page, NOW)
    assert observation.signals["license.kinds"] == ["cc-by-3.0"]


# -- RSL and tdm-policy documents, once the crawler has fetched them ------------------------------

from policy.observe import rsl_observation, tdm_policy_observation  # noqa: E402
from policy.signals import rsl, tdmpolicy  # noqa: E402

RSL_NS = 'xmlns="https://rslstandard.org/rsl"'


def test_rsl_most_protective_document_decides():
    free = rsl.parse(f'<rsl {RSL_NS}><content url="/"><license><payment type="free"/></license></content></rsl>', "a")
    paid = rsl.parse(f'<rsl {RSL_NS}><content url="/"><license><payment type="training"/></license></content></rsl>', "b")
    observation = rsl_observation([free, paid], IMAGE)
    assert observation.signals["rsl.ai_train"] == "licence_required"
    assert [r.code for r in observation.reasons] == ["rsl.licence_required"]
    assert rsl_observation([free, rsl.cannot_fetch("c", "HTTP 500")], IMAGE).signals["rsl.ai_train"] == "prohibited"
    assert rsl_observation([], IMAGE).signals["rsl.ai_train"] is None


def test_tdm_policy_observation_records_duties_and_contact():
    body = ('{"@context": ["http://www.w3.org/ns/odrl.jsonld", "http://www.w3.org/ns/tdmrep.jsonld"], "@type": "Offer",'
            ' "profile": "http://www.w3.org/ns/tdmrep", "assigner": {"vcard:hasEmail": "mailto:tdm@example.fr"},'
            ' "permission": [{"action": "tdm:mine", "duty": [{"action": "obtainConsent"}]}]}')
    observation = tdm_policy_observation(tdmpolicy.parse(body, "application/ld+json", "https://example.fr/p.json"))
    assert observation.signals["tdm.policy_status"] == "licence_required"
    reason = observation.reasons[0]
    assert reason.code == "tdm.policy_licence_required" and reason.evidence["duties"] == ["obtainConsent"]
    assert reason.code in REASON_CODES
    assert tdm_policy_observation(None).signals["tdm.policy_status"] is None


def test_lenient_robots_line_is_recorded_in_the_decision_reason():
    from policy.observe import request_observation

    observation = request_observation(site(b"User-agent: *\ndisallow /gallery/\n"), IMAGE, TOKEN, is_image=True)
    reason = next(r for r in observation.reasons if r.source == "robots.txt")
    assert reason.code == "robots.disallowed" and "lenient parse" in reason.detail
    assert reason.evidence["lenient_parse_lines"] == [2]


# -- XMP licence statements (reference §6 and §8.1 item 6) -----------------------------------------

from crawler.testsites.metadata import with_xmp_data_mining  # noqa: E402


def test_xmp_web_statement_that_is_not_creative_commons_is_kept_as_an_unknown_licence():
    terms = "https://photos.example.fr/licensing/terms.html"
    image = with_xmp_data_mining(JPEG, "DMI-UNSPECIFIED", web_statement=terms)
    observation = image_observation(IMAGE, {}, image, TOKEN, site(), None, NOW)
    assert observation.signals["license.kinds"] == ["unknown"]
    assert observation.signals["license.noncommercial"] is False
    assert any(r.code == "licence.unknown" and terms in r.detail and "(xmp)" in r.detail for r in observation.reasons)


def test_xmp_licensor_url_is_recorded_as_where_a_licence_may_be_acquired():
    shop = "https://photos.example.fr/buy?id=7"
    by = "https://creativecommons.org/licenses/by/4.0/"
    image = with_xmp_data_mining(JPEG, "DMI-UNSPECIFIED", web_statement=by, licensor_url=shop)
    observation = image_observation(IMAGE, {}, image, TOKEN, site(), None, NOW)
    assert observation.signals["license.kinds"] == ["cc-by-4.0"]
    assert observation.signals["license.acquire_pages"] == [shop]
    assert [r.code for r in observation.reasons if r.source == "licence"] == ["licence.cc-by-4.0", "licence.acquire_page"]


def test_acquire_license_page_alone_grants_no_licence():
    html = ('<script type="application/ld+json">{"@context": "https://schema.org", "@type": "ImageObject", '
            f'"contentUrl": "{IMAGE}", "acquireLicensePage": "{ORIGIN}/buy"}}</script><img src="lake.jpg">')
    page = page_facts(PAGE, {}, html, TOKEN, site(), NOW)
    observation = image_observation(IMAGE, {}, JPEG, TOKEN, site(), page, NOW)
    assert observation.signals["license.acquire_pages"] == [f"{ORIGIN}/buy"]
    assert observation.signals["license.kinds"] is None and observation.signals["license.noncommercial"] is None
    assert "licence.acquire_page" in REASON_CODES
