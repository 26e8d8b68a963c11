"""The item and the log formatter, unit by unit: an image item with face encodings never prints, pickles or logs
them, whichever of Scrapy's log paths it takes (issue 7, defect 1); and srcset parsing by the HTML standard's
algorithm (defect 7), with the standard's own edge cases."""

from __future__ import annotations

import io
import logging
import pickle
import sys

import numpy as np
import pytest
from scrapy.http import Request, Response

from crawler.items import Encodings, FaceFindings, FetchedImage
from crawler.logformatter import PrivateLogFormatter, _NoItemExceptionMessages
from crawler.spiders.srcset import srcset_urls
from tests.leaks import assert_no_biometric_data, needles

VECTORS = tuple(np.random.default_rng(7).normal(0, 0.1, (2, 128)).astype(np.float32))


def _item() -> FetchedImage:
    item = FetchedImage(url="http://open.example.com/img/obama.jpg", final_url="http://open.example.com/img/obama.jpg",
                        page_url="http://open.example.com/", body=b"\xff\xd8 probe bytes", content_type="image/jpeg")
    item.faces = FaceFindings(2, (), True, "hog", Encodings(VECTORS))
    return item


def test_an_item_with_encodings_shows_only_its_url_and_face_count() -> None:
    item = _item()
    for text in (repr(item), str(item), repr(item.faces), str(item.encodings), f"{item!r} {item.faces}"):
        assert_no_biometric_data("item text", text, needles(VECTORS))
        assert "probe bytes" not in text
    assert "open.example.com/img/obama.jpg" in repr(item) and "faces=2" in repr(item)
    assert "not shown" in repr(item.encodings)


def test_encodings_refuse_to_be_pickled_so_no_spill_or_queue_can_carry_them() -> None:
    with pytest.raises(TypeError, match="not serialised"):
        pickle.dumps(_item().encodings)
    with pytest.raises(TypeError):
        pickle.dumps(_item())


def test_forgetting_encodings_keeps_the_count_and_drops_every_vector() -> None:
    item = _item()
    item.forget_encodings()
    assert item.faces is not None and item.faces.count == 2 and len(item.encodings) == 0


def _log_through_scrapy(entry: dict[str, object], item: object, error: BaseException | None) -> str:
    """Emit a formatter's entry the way Scrapy's scraper does (logformatter_adapter, extra item, exc_info)."""
    from scrapy.utils.log import logformatter_adapter

    logger = logging.getLogger("scrapy.core.scraper")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger.addHandler(handler)
    try:
        level, message, args = logformatter_adapter(entry)  # type: ignore[arg-type]
        exc_info = (type(error), error, error.__traceback__) if error is not None else None
        logger.log(level, message, args, exc_info=exc_info, extra={"item": item})
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


def test_item_error_logs_the_item_s_repr_and_the_exception_without_its_message() -> None:
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.exceptions import DropItem

    item = _item()
    crawler = Crawler(Spider)
    spider = Spider("private")
    spider._set_crawler(crawler)
    formatter = PrivateLogFormatter.from_crawler(crawler)
    quoted = f"bad vector {list(item.encodings[0])}"  # a message that quotes item content
    try:
        raise ValueError(quoted)
    except ValueError as caught:
        error = caught
    response = Response(item.url, request=Request(item.url))
    for entry in (formatter.item_error(item, error, response, spider),
                  formatter.dropped(item, DropItem(quoted), response, spider),
                  formatter.scraped(item, response, spider)):
        logged = _log_through_scrapy(dict(entry), item, error)
        assert_no_biometric_data("scraper log", logged, needles(VECTORS))
        assert "bad vector" not in logged
        assert "FetchedImage http://open.example.com/img/obama.jpg" in logged or entry["level"] == logging.DEBUG
    assert any(isinstance(f, _NoItemExceptionMessages) for f in logging.getLogger("scrapy.core.scraper").filters)
    assert sys.exc_info()[0] is None


def test_the_filter_keeps_the_exception_type_and_frames_of_a_record_about_an_item() -> None:
    message = "0.123456 0.234567 secret"
    try:
        raise RuntimeError(message)
    except RuntimeError as caught:
        record = logging.LogRecord("scrapy.core.scraper", logging.ERROR, __file__, 1, "Error processing %s",
                                   ("<FetchedImage x>",), (RuntimeError, caught, caught.__traceback__))
    record.item = _item()
    assert _NoItemExceptionMessages().filter(record)
    assert record.exc_info is None and "RuntimeError (message not logged)" in record.getMessage()
    assert "secret" not in record.getMessage() and "test_private_items.py" in record.getMessage()


# -- srcset (HTML Living Standard, "parse a srcset attribute") ---------------------------------------------------

SRCSET_CASES = [
    pytest.param("a.jpg", ["a.jpg"], id="one-url"),
    pytest.param("a.jpg 1x, b.jpg 2x", ["a.jpg", "b.jpg"], id="densities"),
    pytest.param("a.jpg 300w, b.jpg 600w", ["a.jpg", "b.jpg"], id="widths"),
    pytest.param("/w_300,h_200/pic.jpg 1x", ["/w_300,h_200/pic.jpg"], id="commas-inside-a-url"),
    pytest.param("a.jpg,b.jpg", ["a.jpg,b.jpg"], id="no-space-after-comma-is-one-url"),
    pytest.param("a.jpg, b.jpg", ["a.jpg", "b.jpg"], id="trailing-comma-ends-a-url"),
    pytest.param(",,, a.jpg 1x,,,", ["a.jpg"], id="leading-and-trailing-commas"),
    pytest.param("a.jpg 1x 2x", [], id="two-densities-dropped"),
    pytest.param("a.jpg 100w 2x", [], id="width-and-density-dropped"),
    pytest.param("a.jpg 0w", [], id="zero-width-dropped"),
    pytest.param("a.jpg -1x", [], id="negative-density-dropped"),
    pytest.param("a.jpg 0x", ["a.jpg"], id="zero-density-allowed"),
    pytest.param("a.jpg 1.5x, b.jpg 1e1x", ["a.jpg", "b.jpg"], id="floats"),
    pytest.param("a.jpg +1x, b.jpg .5x, c.jpg 1.x", [], id="not-valid-floating-point-numbers"),
    pytest.param("a.jpg 100h", [], id="height-without-width-dropped"),
    pytest.param("a.jpg 100w 50h", ["a.jpg"], id="width-and-height"),
    pytest.param("a.jpg foo, b.jpg 1x", ["b.jpg"], id="unknown-descriptor-drops-only-its-candidate"),
    pytest.param("a.jpg (1x, 2x), b.jpg", ["b.jpg"], id="parentheses-hide-commas"),
    pytest.param("a.jpg 1x (unclosed", [], id="unclosed-parenthesis"),
    pytest.param("  \t\n ", [], id="whitespace-only"),
    pytest.param("", [], id="empty"),
]


@pytest.mark.parametrize(("value", "expected"), SRCSET_CASES)
def test_srcset_is_parsed_as_the_html_standard_says(value: str, expected: list[str]) -> None:
    assert srcset_urls(value) == expected


def test_a_hostile_srcset_is_parsed_in_linear_time_and_never_raises() -> None:
    import time

    value = "a.jpg " + "(" * 200_000 + ", " + "x," * 200_000
    started = time.perf_counter()
    assert srcset_urls(value) == []
    assert time.perf_counter() - started < 5
