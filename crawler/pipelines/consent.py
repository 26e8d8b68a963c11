"""Stage 2, consent: what the image response and the image file say, and whether the policy lets it be kept.

Reads the image's X-Robots-Tag, TDMRep and Content-Usage headers, its XMP
(IPTC plus:DataMining, licence statements) and C2PA/CAWG assertions, adds what
the embedding page passed down, and asks the rule pack for ``collect_image``
before any face is looked at. Whether faces must then be detected is read off
the pack itself: if a rule for this jurisdiction asks about faces, or allows
a face template.
"""

from __future__ import annotations

import asyncio

from crawler.items import FetchedImage
from crawler.pipelines.stage import ImageStage
from crawler.policy_runtime import policy_for
from crawler.sitefiles import origin_of_url
from policy import Outcome
from policy.observe import image_observation
from policy.vocabulary import Purpose


class ConsentPipeline(ImageStage):
    async def process_item(self, item: FetchedImage) -> FetchedImage:
        runtime = policy_for(self.crawler)
        site = runtime.site_files.cached(origin_of_url(item.final_url))
        observed = await asyncio.to_thread(image_observation, item.final_url, item.headers, item.body,
                                           runtime.token, site, item.page_facts)
        item.observation.add(observed)
        item.observation.signals.update(runtime.site_signals(item.url, item.page_url))
        jurisdiction = item.jurisdiction or runtime.jurisdiction(item.page_url or item.url)
        item.jurisdiction = jurisdiction
        decision = runtime.decide(Purpose.COLLECT_IMAGE, jurisdiction, item.observation.signals)
        if not decision.allowed:
            self.drop(item, Outcome.REFUSED, *runtime.policy_reasons(decision), decision=decision)
        item.extra["decision"] = decision
        # Faces are counted where a rule asks about them or a template may be made of them.
        item.extra["faces_matter"] = runtime.faces_may_matter(jurisdiction.code)
        return item
