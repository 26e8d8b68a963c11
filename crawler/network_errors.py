"""Readable one-line descriptions of download failures.

Scrapy wraps Twisted failures in lists inside its own exceptions
(``DownloadFailedError([<Failure ConnectionLost ...>])``); a reader needs
"ConnectionLost: Connection to the other side was lost".
"""

from __future__ import annotations

from twisted.python.failure import Failure


def describe_error(error: BaseException) -> str:
    cause = error.__cause__
    reasons = getattr(cause, "reasons", None)  # Twisted's ResponseFailed & co.
    if isinstance(reasons, list) and reasons:
        return "; ".join(describe_error(f.value) for f in reasons if isinstance(f, Failure) and f.value is not None)
    if cause is not None and str(error) == str(cause):
        return describe_error(cause)
    message = str(error).strip().rstrip(".")
    name = type(error).__name__
    return f"{name}: {message}" if message else name
