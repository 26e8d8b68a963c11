"""Scrapy log lines, quieter where faircrawl already records the outcome.

A dropped image is a recorded decision (failed, with its reason), not a
warning; Scrapy would print one WARNING line per drop.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy import logformatter


class QuietDropsLogFormatter(logformatter.LogFormatter):
    def dropped(self, *args: Any, **kwargs: Any) -> logformatter.LogFormatterResult:
        entry = super().dropped(*args, **kwargs)
        entry["level"] = logging.DEBUG
        return entry
