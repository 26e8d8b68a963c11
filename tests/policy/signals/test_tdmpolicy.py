"""TDMRep tdm-policy documents (ODRL 2.2 profile), with the spec's own examples (CG report, "TDM Policy")."""

from __future__ import annotations

import json

import pytest

from policy.signals import tdmpolicy
from policy.signals.tdmpolicy import TdmPolicyStatus

URL = "https://provider.com/policies/policy.json"
HEAD = {"@context": ["http://www.w3.org/ns/odrl.jsonld", "http://www.w3.org/ns/tdmrep.jsonld"], "@type": "Offer",
        "profile": "http://www.w3.org/ns/tdmrep", "uid": "https://provider.com/policies/1"}
ASSIGNER = {"uid": "https://provider.com", "vcard:fn": "Provider", "vcard:hasEmail": "mailto:contact@provider.com",
            "vcard:hasURL": "https://provider.com/tdm/licensing.html"}


def policy(**fields: object) -> tdmpolicy.TdmPolicy:
    return tdmpolicy.parse(json.dumps({**HEAD, **fields}).encode(), "application/ld+json", URL)


SPEC_EXAMPLES = [
    # "Expressing the action of a permission": tdm:mine, nothing else
    pytest.param({"permission": [{"action": "tdm:mine"}]}, "non-research", TdmPolicyStatus.PERMITTED, id="mine"),
    # "Expressing the duty to contact the rightsholder before getting a permission"
    pytest.param({"permission": [{"action": "tdm:mine", "duty": [{"action": "obtainConsent"}]}]}, "non-research",
                 TdmPolicyStatus.LICENCE_REQUIRED, id="obtain-consent"),
    # "Expressing the duty to compensate financially the rightsholder"
    pytest.param({"permission": [{"action": "tdm:mine", "duty": [{"action": "compensate"}]}]}, "non-research",
                 TdmPolicyStatus.LICENCE_REQUIRED, id="compensate"),
    # "Expressing a constraint on the type of usage": research only
    pytest.param({"permission": [{"action": "tdm:mine", "constraint": [
        {"leftOperand": "purpose", "operator": "eq", "rightOperand": "tdm:research"}]}]}, "non-research",
        TdmPolicyStatus.RESERVED, id="research-only-we-are-not"),
    pytest.param({"permission": [{"action": "tdm:mine", "constraint": [
        {"leftOperand": "purpose", "operator": "eq", "rightOperand": "tdm:research"}]}]}, "research",
        TdmPolicyStatus.PERMITTED, id="research-only-for-research"),
    # Full example 2: non-research actors may mine if they pay
    pytest.param({"assigner": ASSIGNER, "permission": [{"action": "tdm:mine", "duty": [{"action": "compensate"}],
                 "constraint": [{"leftOperand": "purpose", "operator": "eq", "rightOperand": "tdm:non-research"}]}]},
                 "non-research", TdmPolicyStatus.LICENCE_REQUIRED, id="full-example-pay-non-research"),
    pytest.param({"permission": [{"action": "tdm:mine", "duty": [{"action": "compensate"}],
                 "constraint": [{"leftOperand": "purpose", "operator": "eq", "rightOperand": "tdm:non-research"}]}]},
                 "research", TdmPolicyStatus.RESERVED, id="non-research-offer-not-for-research"),
    # fail closed
    pytest.param({"permission": [{"action": "tdm:mine", "duty": [{"action": "attribute"}]}]}, "non-research",
                 TdmPolicyStatus.LICENCE_REQUIRED, id="unknown-duty"),
    pytest.param({"permission": [{"action": "tdm:mine", "constraint": [
        {"leftOperand": "spatial", "operator": "eq", "rightOperand": "EU"}]}]}, "non-research",
        TdmPolicyStatus.LICENCE_REQUIRED, id="unknown-constraint"),
    pytest.param({"permission": [{"action": "use"}]}, "non-research", TdmPolicyStatus.RESERVED, id="other-action"),
    pytest.param({"permission": [{"action": "tdm:mine"}], "prohibition": [{"action": "tdm:mine"}]}, "non-research",
                 TdmPolicyStatus.RESERVED, id="prohibition-wins"),
    pytest.param({}, "non-research", TdmPolicyStatus.RESERVED, id="no-permission"),
    pytest.param({"duty": [{"action": "obtainConsent"}], "permission": [{"action": "tdm:mine"}]}, "non-research",
                 TdmPolicyStatus.LICENCE_REQUIRED, id="policy-level-duty"),
]


@pytest.mark.parametrize(("fields", "purpose", "status"), SPEC_EXAMPLES)
def test_spec_examples(fields, purpose, status):
    verdict = policy(**fields).evaluate(purpose)
    assert verdict.status is status, verdict.reason
    assert URL in verdict.reason


def test_duties_and_contact_are_kept_for_asking_consent():
    verdict = policy(assigner=ASSIGNER, permission=[{"action": "tdm:mine", "duty": [{"action": "obtainConsent"}]}]).evaluate()
    assert verdict.duties == ("obtainConsent",) and verdict.contact == "mailto:contact@provider.com"
    assert "terms registry" in verdict.reason


UNUSABLE = [
    pytest.param(b"<html>policy</html>", "text/html", "human-readable", id="html-policy"),
    pytest.param(b"{}", "text/plain", "not application/json", id="wrong-media-type"),
    pytest.param(b"{", "application/json", "not UTF-8 JSON", id="invalid-json"),
    pytest.param(b"\xff\xfe", "application/json", "not UTF-8 JSON", id="binary"),
    pytest.param(b"[" * 10_000 + b"]" * 10_000, "application/json", "nested", id="deep"),
    pytest.param(b"[]", "application/json", "JSON object", id="array"),
    pytest.param(json.dumps({**HEAD, "profile": "x"}).encode(), "application/json", "profile", id="wrong-profile"),
    pytest.param(b" " * (tdmpolicy.TDM_POLICY_PARSE_LIMIT_BYTES + 1), "application/json", "limit", id="huge"),
    pytest.param(None, "application/json", "not a document", id="none-body"),
]


@pytest.mark.parametrize(("body", "media", "why"), UNUSABLE)
def test_unusable_policies_keep_the_reservation(body, media, why):
    verdict = tdmpolicy.parse(body, media, URL).evaluate()
    assert verdict.status is TdmPolicyStatus.RESERVED and why in verdict.reason and "reservation kept" in verdict.reason


def test_cannot_fetch_keeps_the_reservation():
    verdict = tdmpolicy.cannot_fetch(URL, "HTTP 404").evaluate()
    assert verdict.status is TdmPolicyStatus.RESERVED and "HTTP 404" in verdict.reason


def test_media_type_parameters_and_json_accepted():
    body = json.dumps({**HEAD, "permission": {"action": "tdm:mine"}}).encode()
    assert tdmpolicy.parse(body, "application/json; charset=utf-8", URL).evaluate().status is TdmPolicyStatus.PERMITTED
