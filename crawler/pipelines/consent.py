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

from typing import Any

from crawler.items import FetchedImage
from crawler.linked import needs_documents
from crawler.pipelines.stage import ImageStage
from crawler.policy_runtime import policy_for
from crawler.sitefiles import origin_of_url
from policy import Outcome
from policy.vocabulary import Purpose


class ConsentPipeline(ImageStage):
    name = "consent"

    def process_item(self, item: FetchedImage) -> Any:
        runtime = policy_for(self.crawler)
        item.observation.signals.update(runtime.site_signals(item.url, item.page_url))
        if needs_documents(item.headers, item.final_url, item.observation.signals):
            return self._read_documents(item)
        return self._decide(item)  # nothing to wait for

    async def _read_documents(self, item: FetchedImage) -> FetchedImage:
        """The image response names its own RSL licence or tdm-policy: read them with the site's and the page's."""
        runtime = policy_for(self.crawler)
        site = await runtime.site_files.get(origin_of_url(item.final_url))
        item.observation.add(await runtime.linked.observe(site, item.final_url, item.observation.signals,
                                                          item.page_facts, item.headers))
        return self._decide(item)

    def _decide(self, item: FetchedImage) -> FetchedImage:
        runtime = policy_for(self.crawler)
        jurisdiction = item.jurisdiction or runtime.jurisdiction(item.page_url or item.url)
        item.jurisdiction = jurisdiction
        decision = runtime.decide(Purpose.COLLECT_IMAGE, jurisdiction, item.observation.signals)
        item.collect_decision = decision
        if not decision.allowed:
            self.drop(item, Outcome.REFUSED, *runtime.policy_reasons(decision), decision=decision)
        # Faces are counted where a rule asks about them or a template may be made of them.
        item.faces_matter = runtime.faces_may_matter(jurisdiction.code)
        return item
