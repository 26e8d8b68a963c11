"""Stage 4, screen: is this a person (or an image, or a URL) on the suppression list?

Checked by URL, by perceptual hash (resized and recompressed copies), and by
face (the encodings the faces stage computed, compared in memory). Under a
pack that honours opt-outs a match drops the image, leaving only the decision
(which opt-out entry, how it matched, never a vector). The unlawful-demo pack
ignores opt-outs, as Clearview did: the match is recorded as a breach instead.
"""

from __future__ import annotations

import asyncio
from typing import Any

from scrapy.crawler import Crawler

from crawler.items import FetchedImage
from crawler.optouts import OptOutMatch, OptOutScreen, screen_for
from crawler.pipelines.stage import ImageStage
from crawler.policy_runtime import policy_for
from policy import Outcome, Reason
from storage.suppression import SuppressionList

OPT_OUT_IGNORED = "GDPR Art. 21 (objection to processing ignored)"


def match_image(screen: OptOutScreen, item: FetchedImage, suppression: SuppressionList) -> OptOutMatch | None:
    """The image against ``suppression``: by its URLs, its perceptual hash and its encodings (screen and store)."""
    assert item.valid is not None
    return screen.match([item.url, item.final_url], item.valid.perceptual_hash, tuple(item.encodings), suppression)


def blocked_reason(match: OptOutMatch) -> Reason:
    return Reason("opt-out", f"optout.{match.matched_by}_match",
                  f"on the suppression list ({match.detail}): not stored in any form",
                  {"optout_id": match.optout_id, "matched_by": match.matched_by})


class ScreenPipeline(ImageStage):
    name = "screen"

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.ignores_opt_outs = policy_for(crawler).loaded.pack.ignores_opt_outs
        screen_for(crawler)  # open the list (and check its key) when the crawl is built, not at the first image

    def process_item(self, item: FetchedImage) -> Any:
        screen = screen_for(self.crawler)
        if screen.fresh(1.0):
            return self._screen(item, screen.current)  # the list was checked within the last second
        return self._refresh_then_screen(item)

    async def _refresh_then_screen(self, item: FetchedImage) -> FetchedImage:
        suppression = await asyncio.to_thread(screen_for(self.crawler).refresh)
        return self._screen(item, suppression)

    def _screen(self, item: FetchedImage, suppression: SuppressionList) -> FetchedImage:
        screen = screen_for(self.crawler)
        assert item.valid is not None
        item.screened_revision = suppression.revision
        faces = item.faces.count if item.faces is not None else 0
        if item.observation.signals.get("robots.faces_allowed") is False and not self.ignores_opt_outs:
            faces = 1  # face processing forbidden by robots.txt: faces assumed, none can be screened
        match = match_image(screen, item, suppression)
        if match is None and faces and not item.encodings and suppression.template_owners and not self.ignores_opt_outs:
            self.drop(item, Outcome.REFUSED, Reason(
                "opt-out", "optout.unscreenable",
                "the image shows faces but no template may be computed here (no consent recorded, and the person's "
                "residence is unknown), so it cannot be screened against opt-outs by face: not kept"))
        if match is None:
            item.observation.reasons.append(Reason("opt-out", "optout.screened",
                                                   f"screened against suppression list revision {suppression.revision}: "
                                                   "no match" + (" (faces by template)" if item.encodings else "")))
            return item
        self.crawler.stats.inc_value(f"faircrawl/optout/{'ignored' if self.ignores_opt_outs else 'blocked'}")
        if not self.ignores_opt_outs:
            self.drop(item, Outcome.REFUSED, blocked_reason(match))
        item.observation.reasons.append(Reason("opt-out", "optout.ignored",
                                               f"on the suppression list ({match.detail}) but this pack ignores opt-outs",
                                               {"optout_id": match.optout_id, "matched_by": match.matched_by}))
        item.breaches = (*item.breaches, OPT_OUT_IGNORED)
        return item
