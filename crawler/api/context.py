"""What every endpoint shares for the server's lifetime: the rights service, the tokens, the limits, the worker."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from crawler.api.ratelimit import RateLimiter
from crawler.api.uploads import UploadLimits
from crawler.api.worker import RequestWorker
from storage.suppression import SuppressionStore


@dataclass(slots=True)
class ApiContext:
    service: Any  # storage.rights.RightsService, holding the server's one PersonSearch (its template index)
    operator_token: str
    limits: UploadLimits
    limiter: RateLimiter
    worker: RequestWorker
    suppression_url: str
    notify: Callable[[str], None] | None = None

    @property
    def database(self) -> Any:
        return self.service.database

    def suppression(self) -> SuppressionStore:
        return SuppressionStore(self.suppression_url, self.service.config.fernet)


def audit_optout(context: ApiContext, action: str, details: dict[str, Any]) -> None:
    """Opt-out changes go in the crawl database's audit log, as with the CLI (ids and counts only)."""
    from storage.audit import append

    append(context.database, action, details)
