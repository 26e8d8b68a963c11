"""`faircrawl policy explain URL`: fetch what the crawler would, and show how the policy decides. Stores nothing.

It uses the crawler's own pieces (the site-file rules of ``crawler.sitefiles``,
the signal readers of ``policy.observe``, the loaded rule pack), so what it
prints is what a crawl would record. In test-site mode the catalog is served
on a local thread and reached through it as a proxy.
"""

from __future__ import annotations

import io
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from PIL import Image, UnidentifiedImageError

from crawler.sitefiles import next_step, site_files_from
from policy.engine import Decision, PolicyContext
from policy.errors import ExplainError
from policy.jurisdiction import Jurisdiction
from policy.observe import FetchedFile, Observation, PageFacts, SiteFiles, image_observation, page_facts, request_observation
from policy.packs import LoadedPolicy
from policy.vocabulary import Purpose

FETCH_TIMEOUT_SECONDS = 20
MAX_BODY_BYTES = 20 * 1024 * 1024


__all__ = ["ExplainError", "HttpFetcher", "explain", "explanation_dict", "format_explanation"]


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # redirects are followed by hand, as the crawler does


@dataclass(frozen=True, slots=True)
class Fetched:
    url: str
    status: int
    headers: dict[str, list[str]]
    body: bytes


class HttpFetcher:
    """A small synchronous client: optional proxy (test sites), no automatic redirects, a size limit."""

    def __init__(self, proxy: str | None = None) -> None:
        handlers: list[Any] = [_NoRedirects()]
        handlers.append(urllib.request.ProxyHandler({"http": proxy, "https": proxy} if proxy else {}))
        self.opener = urllib.request.build_opener(*handlers)

    def get(self, url: str) -> Fetched:
        request = urllib.request.Request(url, headers={"User-Agent": "faircrawl-explain/0.1"})
        try:
            response = self.opener.open(request, timeout=FETCH_TIMEOUT_SECONDS)
        except urllib.error.HTTPError as error:
            response = error
        headers: dict[str, list[str]] = {}
        for name, value in response.headers.items():
            headers.setdefault(name, []).append(value)
        body = response.read(MAX_BODY_BYTES + 1)
        return Fetched(url, response.status if hasattr(response, "status") else response.code, headers, body)


def _site_file(fetcher: HttpFetcher, first_url: str) -> FetchedFile:
    url, redirects = first_url, 0
    while True:
        try:
            fetched = fetcher.get(url)
        except (OSError, ValueError) as error:
            return FetchedFile(url, "unreachable", None, f"{type(error).__name__}: {error} (fetching {url})")
        location = (fetched.headers.get("Location") or [None])[0]
        step = next_step(first_url, url, fetched.status, location, fetched.body, redirects)
        if isinstance(step, FetchedFile):
            return step
        url, redirects = step, redirects + 1


def fetch_site_files(fetcher: HttpFetcher, url: str) -> SiteFiles:
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    return site_files_from(origin, _site_file(fetcher, f"{origin}/robots.txt"),
                           _site_file(fetcher, f"{origin}/.well-known/tdmrep.json"),
                           _site_file(fetcher, f"{origin}/ai.txt"), 0.0)


@dataclass(slots=True)
class Explanation:
    url: str
    kind: str  # page | image
    jurisdiction: Jurisdiction
    observation: Observation
    decisions: list[tuple[str, Decision]] = field(default_factory=list)
    faces: int | None = None
    notes: list[str] = field(default_factory=list)


def explain(url: str, policy: LoadedPolicy, token: str, fetcher: HttpFetcher, *, jurisdiction: str | None = None,
            purpose: str | None = None, page_url: str | None = None, detect: bool = True) -> Explanation:
    """Everything the crawler would observe about ``url``, and the policy's decisions on it."""
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
        raise ExplainError(f"{url!r} is not an http(s) URL with a host")
    site = fetch_site_files(fetcher, url)
    try:
        fetched = fetcher.get(url)
    except (OSError, ValueError) as error:
        fetched = None
        fetch_error = f"{type(error).__name__}: {error}"
    content_type = ((fetched.headers.get("Content-Type") or [""])[0] if fetched else "").lower()
    is_image = fetched is not None and _looks_like_image(fetched.body, content_type)
    page: PageFacts | None = None
    if page_url:
        page_site = fetch_site_files(fetcher, page_url)
        page_fetched = fetcher.get(page_url)
        page = page_facts(page_url, page_fetched.headers, page_fetched.body.decode("utf-8", "replace"), token, page_site)
    observation = request_observation(site, url, token, is_image=is_image, page=page)
    observation.signals.update(policy.terms.signals_for(page_url or url))
    resolved = policy_jurisdiction(policy, url if not page_url else page_url, page)
    result = Explanation(url, "image" if is_image else "page", resolved, observation)
    if fetched is None:
        result.notes.append(f"the URL itself could not be fetched ({fetch_error}); only pre-fetch signals are known")
    elif 200 <= fetched.status < 300 and not is_image and "html" in content_type:
        facts = page_facts(url, fetched.headers, fetched.body.decode("utf-8", "replace"), token, site)
        observation.add(facts.observation)
        if resolved.source == "unknown" and page is None:
            result.jurisdiction = policy_jurisdiction(policy, url, facts)
    elif is_image and fetched is not None:
        observation.add(image_observation(url, fetched.headers, fetched.body, token, site, page))
        if detect:
            from faces import detect_faces

            try:
                result.faces = detect_faces(fetched.body).count
                observation.signals["image.faces"] = result.faces
            except (OSError, ValueError, RuntimeError) as error:
                result.notes.append(f"face detection failed: {error}")
    elif fetched is not None:
        result.notes.append(f"HTTP {fetched.status} ({content_type or 'no content type'})")
    code = jurisdiction.upper() if jurisdiction else result.jurisdiction.code
    if jurisdiction:
        result.jurisdiction = Jurisdiction(code, "given", "--jurisdiction on the command line")
    purposes = [purpose] if purpose else (
        [Purpose.FETCH_IMAGE, Purpose.COLLECT_IMAGE] + ([Purpose.FACE_TEMPLATE] if result.faces else [])
        if is_image else [Purpose.FETCH_PAGE])
    for name in purposes:
        result.decisions.append((name, policy.engine.decide(PolicyContext(name, code, observation.signals))))
    return result


def policy_jurisdiction(policy: LoadedPolicy, url: str, facts: PageFacts | None) -> Jurisdiction:
    from policy.jurisdiction import resolve

    if facts is None:
        return resolve(url, policy.sites)
    return resolve(url, policy.sites, facts.content_language, facts.html_lang, facts.self_hreflang)


def _looks_like_image(body: bytes, content_type: str) -> bool:
    if content_type.startswith("image/"):
        return True
    try:
        with Image.open(io.BytesIO(body)):
            return True
    except (UnidentifiedImageError, OSError, ValueError):
        return False


def format_explanation(result: Explanation, policy: LoadedPolicy, verbose: bool = False) -> str:
    rules = {rule.id: rule for rule in policy.pack.rules}
    lines = [f"{result.url}  ({result.kind})", f"policy: {policy.revision}",
             f"jurisdiction: {result.jurisdiction.code}  (from {result.jurisdiction.source}: {result.jurisdiction.evidence})"]
    lines.append("signals:")
    for name, value in sorted(result.observation.signals.items()):
        if value is not None:
            lines.append(f"  {name} = {value}")
    lines.append("evidence:")
    for reason in result.observation.reasons:
        lines.append(f"  [{reason.source}] {reason.code}: {reason.detail}")
    for note in result.notes:
        lines.append(f"note: {note}")
    for purpose, decision in result.decisions:
        lines.append(f"{purpose}: {decision.effect.upper()}  - {decision.summary}")
        for rule_id in decision.matched_rules:
            rule = rules[rule_id]
            lines.append(f"  matched {rule.effect:<5} {rule_id}  ({rule.source})")
            lines.append(f"        {rule.description.strip()}")
            if rule.citations:
                lines.append(f"        cites: {'; '.join(rule.citations)}")
            if rule.breaches:
                lines.append(f"        breaches: {'; '.join(rule.breaches)}")
        if decision.obligations:
            lines.append(f"  obligations: {dict(decision.obligations)}")
        if verbose:
            for trace in decision.trace:
                if not trace.matched:
                    lines.append(f"  not matched {trace.rule_id}: {trace.why}")
    return "\n".join(lines)


def explanation_dict(result: Explanation) -> dict[str, Any]:
    return {
        "url": result.url, "kind": result.kind,
        "jurisdiction": {"code": result.jurisdiction.code, "source": result.jurisdiction.source,
                         "evidence": result.jurisdiction.evidence},
        "signals": {k: sorted(v) if isinstance(v, (set, frozenset)) else v for k, v in result.observation.signals.items()},
        "evidence": [r.as_dict() for r in result.observation.reasons],
        "faces": result.faces, "notes": result.notes,
        "decisions": [{"purpose": p, "effect": d.effect, "summary": d.summary, "matched_rules": list(d.matched_rules),
                       "obligations": dict(d.obligations), "citations": list(d.citations), "breaches": list(d.breaches),
                       "trace": [{"rule": t.rule_id, "matched": t.matched, "why": t.why} for t in d.trace]}
                      for p, d in result.decisions],
    }
