"""What the spider hands to the item pipelines."""

from __future__ import annotations

from dataclasses import dataclass, field

from policy import Reason


@dataclass(slots=True)
class FetchedImage:
    """An image response, with the reasons gathered while fetching it."""

    url: str  # as first requested
    final_url: str  # after redirects
    page_url: str | None
    body: bytes
    content_type: str | None
    reasons: list[Reason] = field(default_factory=list)
