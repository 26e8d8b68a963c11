"""What the spider hands to the item pipelines."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from policy.engine import Decision
from policy.jurisdiction import Jurisdiction
from policy.observe import Observation, PageFacts


@dataclass(slots=True)
class FetchedImage:
    """An image response with everything observed and decided while fetching it."""

    url: str  # as first requested
    final_url: str  # after redirects
    page_url: str | None
    body: bytes
    content_type: str | None
    headers: dict[str, list[str]] = field(default_factory=dict)
    observation: Observation = field(default_factory=Observation)
    jurisdiction: Jurisdiction | None = None
    page_facts: PageFacts | None = None
    fetch_decision: Decision | None = None
    fetched_at: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)
