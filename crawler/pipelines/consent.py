"""Stage 2, consent: may the image be kept, by what it, its page and its site say?

The validate stage has read the image's X-Robots-Tag, TDMRep and Content-Usage
headers, its XMP (IPTC plus:DataMining, licence statements) and C2PA/CAWG
assertions; this stage adds the site's terms and recorded consent and asks the
rule pack for ``collect_image`` before any face is looked at. Whether faces must
then be detected is read off the pack itself: if a rule for this jurisdiction
asks about faces, or allows a face template.

Writes ``item.jurisdiction``, ``item.collect_decision`` and ``item.faces_matter``.
"""

from __future__ import annotations

from crawler.items import FetchedImage
from crawler.pipelines.stage import ImageStage
from crawler.policy_runtime import policy_for
from policy import Outcome
from policy.vocabulary import Purpose


class ConsentPipeline(ImageStage):
    name = "consent"

    def process_item(self, item: FetchedImage) -> FetchedImage:  # nothing to wait for
        runtime = policy_for(self.crawler)
        item.observation.signals.update(runtime.site_signals(item.url, item.page_url))
        jurisdiction = item.jurisdiction or runtime.jurisdiction(item.page_url or item.url)
        item.jurisdiction = jurisdiction
        decision = runtime.decide(Purpose.COLLECT_IMAGE, jurisdiction, item.observation.signals)
        item.collect_decision = decision
        if not decision.allowed:
            self.drop(item, Outcome.REFUSED, *runtime.policy_reasons(decision), decision=decision)
        # Faces are counted where a rule asks about them or a template may be made of them.
        item.faces_matter = runtime.faces_may_matter(jurisdiction.code)
        return item
