"""crawler/log_levels.py: Scrapy's per-response debug lines make no record unless some handler prints them."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from scrapy import signals
from scrapy.utils.test import get_crawler

from crawler.log_levels import PER_RESPONSE_LOGGERS, PerResponseLogLevels, lowest_handled_level
from crawler.spiders.site import SiteSpider


class _Kept(logging.Handler):
    def __init__(self, level: int) -> None:
        super().__init__(level)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextlib.contextmanager
def only_root_handler() -> Iterator[_Kept]:
    """One WARNING handler on the root logger, as Scrapy installs at the default LOG_LEVEL.

    Entered inside the test: pytest adds its capturing handlers (which take every level) around the test's call.
    """
    root = logging.getLogger()
    saved, saved_level = root.handlers[:], root.level
    handler = _Kept(logging.WARNING)
    root.handlers[:] = [handler]
    root.setLevel(logging.NOTSET)
    try:
        yield handler
    finally:
        root.handlers[:] = saved
        root.setLevel(saved_level)


def _open_and_close(extra: logging.Handler | None = None) -> dict[str, tuple[int, bool, bool]]:
    """Each per-response logger's level, and whether DEBUG and WARNING are enabled, while the spider is open."""
    crawler = get_crawler(SiteSpider, settings_dict={
        "LOG_LEVEL": "WARNING",  # the level of the handler Scrapy's LogCount adds at open
        "EXTENSIONS": {"scrapy.extensions.logstats.LogStats": None}})  # it needs a running reactor
    levels = PerResponseLogLevels.from_crawler(crawler)  # signals hold weak references: keep it alive
    if extra is not None:
        logging.getLogger("scrapy").addHandler(extra)
    try:
        crawler.signals.send_catch_log(signals.spider_opened, spider=None)
        seen = {name: (logging.getLogger(name).level, logging.getLogger(name).isEnabledFor(logging.DEBUG),
                       logging.getLogger(name).isEnabledFor(logging.WARNING)) for name in PER_RESPONSE_LOGGERS}
        crawler.signals.send_catch_log(signals.spider_closed, spider=None, reason="finished")
    finally:
        if extra is not None:
            logging.getLogger("scrapy").removeHandler(extra)
        del levels
    return seen


def test_at_warning_no_debug_record_is_made_and_warnings_still_print() -> None:
    with only_root_handler() as root_handler:
        seen = _open_and_close()
        engine = logging.getLogger("scrapy.core.engine")
        assert engine.level == logging.NOTSET  # restored at close
        engine.warning("still printed")
    assert seen == {name: (logging.WARNING, False, True) for name in PER_RESPONSE_LOGGERS}
    assert [r.getMessage() for r in root_handler.records] == ["still printed"]


def test_under_pytest_capture_nothing_changes() -> None:
    """pytest's capturing handler takes every level, so a test's crawl logs exactly as before."""
    assert {name: level for name, (level, _, _) in _open_and_close().items()} == dict.fromkeys(
        PER_RESPONSE_LOGGERS, logging.NOTSET)


def test_a_handler_that_wants_debug_anywhere_up_the_tree_keeps_every_record() -> None:
    with only_root_handler():
        seen = _open_and_close(extra=_Kept(logging.DEBUG))
    assert seen == {name: (logging.NOTSET, True, True) for name in PER_RESPONSE_LOGGERS}


def test_a_level_someone_set_is_left_alone() -> None:
    engine = logging.getLogger("scrapy.core.engine")
    engine.setLevel(logging.INFO)
    try:
        with only_root_handler():
            seen = _open_and_close()
        assert seen["scrapy.core.engine"] == (logging.INFO, False, True)
        assert engine.level == logging.INFO
    finally:
        engine.setLevel(logging.NOTSET)


def test_the_lowest_level_stops_where_records_stop_propagating() -> None:
    parent, child = logging.getLogger("faircrawl-test-parent"), logging.getLogger("faircrawl-test-parent.child")
    handler = _Kept(logging.ERROR)
    child.addHandler(handler)
    child.propagate = False
    try:
        assert lowest_handled_level(child) == logging.ERROR  # the root's handlers never see its records
        child.propagate = True
        assert lowest_handled_level(child) <= logging.ERROR
    finally:
        child.removeHandler(handler)
        child.propagate = True
        del parent
