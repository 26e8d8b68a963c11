"""The faces product token: may face detection or a template run on this image at all?

A site addresses ``faircrawl-faces`` (``FAIRCRAWL_FACES_TOKEN``) in robots.txt to
allow crawling but forbid face processing, as Google-Extended does for AI use
(reference §9.3). The image's own host decides, for the URL as requested and
after redirects; robots.txt that is unreachable forbids it (RFC 9309 §2.3.1.4).
"""

from __future__ import annotations

from crawler.items import FetchedImage
from crawler.policy_runtime import CrawlPolicy
from crawler.sitefiles import origin_of_url
from policy import Reason
from policy.guard import ROBOTS, read_guarded
from policy.robots import RobotsTxt, RobotsVerdict, purpose_verdict

#: What a pack that ignores opt-outs breaches when it processes faces anyway.
FACES_TOKEN_IGNORED = "RFC 9309 §2.2.1 (faircrawl-faces disallow ignored)"


async def faces_refusal(runtime: CrawlPolicy, item: FetchedImage, own_answer: bool = False) -> Reason | None:
    """Why robots.txt forbids face processing of the image (for any URL it had), or None.

    ``own_answer``: for a pack that fetched the image although crawling is disallowed (it ignores robots.txt),
    only the faces token's own answer, so the breach recorded is the one that happened.
    """
    for url in dict.fromkeys((item.url, item.final_url)):
        site = await runtime.site_files.get(origin_of_url(url))
        verdict = _verdict(runtime, site.robots, url, own_answer)
        if not verdict.allowed:
            evidence: dict[str, object] = {"robots_url": site.robots_url, "token": runtime.faces_token, "url": url[:300]}
            if verdict.rule is not None:
                evidence |= {"line": verdict.rule.line_number, "rule": verdict.rule.text}
            return Reason("robots.txt", "faces.token_disallowed",
                          verdict.explanation, evidence)
    return None


def _verdict(runtime: CrawlPolicy, robots: RobotsTxt, url: str, own_answer: bool) -> RobotsVerdict:
    """The faces token's verdict; a checker that fails reads as disallowed (policy.guard)."""
    def check() -> RobotsVerdict:
        if own_answer and not robots.check(url, runtime.token).allowed:
            return robots.check(url, runtime.faces_token)
        return purpose_verdict(robots, url, runtime.token, runtime.faces_token)

    return read_guarded([], ROBOTS, check)
