"""Scrapy's log lines, made private and quieter where faircrawl already records the outcome.

Scrapy prints the whole item when one is dropped, scraped or fails in a
pipeline, and an image item carries face encodings between stages: here the
item is shown only through its own ``repr`` (URL, sha256, face count), and an
exception logged with an item keeps its type and frames but not its message,
which could quote item content. A dropped image is a recorded decision, not a
warning, so drops log at debug level.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

from scrapy import logformatter
from scrapy.crawler import Crawler


def safe_exception_text(error: BaseException) -> str:
    """An exception's type and where it was raised, without its message (which may quote data)."""
    frames = traceback.format_tb(error.__traceback__)
    return f"{type(error).__name__} (message not logged)\n" + "".join(frames)


class _NoItemExceptionMessages(logging.Filter):
    """On records about an item, replace the traceback by one without the exception's message."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "item", None) is not None and record.exc_info and record.exc_info[1] is not None:
            record.msg = f"{record.getMessage()}\n{safe_exception_text(record.exc_info[1])}"
            record.args = ()
            record.exc_info = None
            record.exc_text = None
        return True


class PrivateLogFormatter(logformatter.LogFormatter):
    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PrivateLogFormatter:
        scraper_log = logging.getLogger("scrapy.core.scraper")
        if not any(isinstance(f, _NoItemExceptionMessages) for f in scraper_log.filters):
            scraper_log.addFilter(_NoItemExceptionMessages())
        return cls()

    def scraped(self, item: Any, *args: Any, **kwargs: Any) -> logformatter.LogFormatterResult:
        entry = super().scraped(item, *args, **kwargs)
        entry["args"] = {**entry["args"], "item": repr(item)}  # type: ignore[dict-item]
        return entry

    def dropped(self, item: Any, *args: Any, **kwargs: Any) -> logformatter.LogFormatterResult:
        entry = super().dropped(item, *args, **kwargs)
        entry["level"] = logging.DEBUG
        entry["args"] = {**entry["args"], "item": repr(item)}  # type: ignore[dict-item]
        return entry

    def item_error(self, item: Any, *args: Any, **kwargs: Any) -> logformatter.LogFormatterResult:
        entry = super().item_error(item, *args, **kwargs)
        entry["args"] = {"item": repr(item)}
        return entry
