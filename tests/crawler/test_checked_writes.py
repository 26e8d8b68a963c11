"""The store stage's last check and write (crawler.pipelines.store._CheckedWrites), with a real suppression list
(SQLite) and a real image store: the revision is asked in a thread, the files are written on the loop's thread."""

from __future__ import annotations

import asyncio
import hashlib
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from PIL import Image

from crawler.items import FetchedImage
from crawler.optouts import OptOutScreen
from crawler.pipelines.store import _CheckedWrites
from crawler.pipelines.validate import validate_image
from storage import ImageStore
from storage.suppression import SuppressionStore


def _png(shade: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (shade, 255 - shade, 90)).save(out, "PNG")
    return out.getvalue()


def _item(shade: int) -> FetchedImage:
    body = _png(shade)
    url = f"http://example.test/img/{shade}.png"
    item = FetchedImage(url, url, "http://example.test/", body, "image/png")
    item.valid = validate_image(body, 10_000_000)
    return item


@pytest.fixture
def suppression(tmp_path: Path) -> Iterator[SuppressionStore]:
    store = SuppressionStore(f"sqlite:///{tmp_path}/suppression.db", Fernet(Fernet.generate_key()))
    yield store
    store.dispose()


async def _store_all(writes: _CheckedWrites, items: list[FetchedImage]) -> list[object]:
    return await asyncio.gather(*(writes.check_then_write(item) for item in items), return_exceptions=True)


def test_images_are_written_once_each_under_their_sha256(tmp_path: Path, suppression: SuppressionStore) -> None:
    images = ImageStore(tmp_path / "images")
    items = [_item(shade) for shade in range(0, 250, 10)]
    results = asyncio.run(_store_all(_CheckedWrites(OptOutScreen(suppression), images, False), items))
    for item, (match, relative) in zip(items, results, strict=True):  # type: ignore[misc]
        assert match is None
        written = (tmp_path / "images" / relative).read_bytes()
        assert written == item.body and hashlib.sha256(written).hexdigest() == item.valid.sha256


def test_an_opt_out_added_after_screening_stops_the_write(tmp_path: Path, suppression: SuppressionStore) -> None:
    images = ImageStore(tmp_path / "images")
    screen = OptOutScreen(suppression)  # loaded now: the list is empty, so both images were screened clean
    kept, opted_out = _item(20), _item(200)
    kept.screened_revision = opted_out.screened_revision = screen.current.revision  # as the screen stage does
    suppression.add_urls([opted_out.url])  # the revision moves before the store stage asks
    results = asyncio.run(_store_all(_CheckedWrites(screen, images, False), [kept, opted_out]))
    assert results[0][0] is None and (tmp_path / "images" / results[0][1]).exists()  # type: ignore[index]
    match, relative = results[1]  # type: ignore[misc]
    assert match is not None and match.matched_by == "url" and relative == ""
    assert not list((tmp_path / "images").rglob(f"{opted_out.valid.sha256}*"))  # never written


def test_an_image_screened_before_another_hop_moved_the_list_on_is_screened_again(
        tmp_path: Path, suppression: SuppressionStore) -> None:
    images = ImageStore(tmp_path / "images")
    screen = OptOutScreen(suppression)
    late = _item(120)
    late.screened_revision = screen.current.revision  # screened while the list was empty
    suppression.add_urls([late.url])
    screen.refresh()  # an earlier hop (or the screen stage) already took the new revision in
    [(match, relative)] = asyncio.run(_store_all(_CheckedWrites(screen, images, False), [late]))
    assert match is not None and match.matched_by == "url" and relative == ""
    assert not list((tmp_path / "images").rglob(f"{late.valid.sha256}*"))


def test_an_unwritable_store_fails_each_image_with_its_error_and_the_next_hop_still_runs(
        tmp_path: Path, suppression: SuppressionStore) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the store's folder should be")
    writes = _CheckedWrites(OptOutScreen(suppression), ImageStore(blocked), False)

    async def twice() -> tuple[list[object], list[object]]:
        first = await _store_all(writes, [_item(1), _item(2)])
        return first, await _store_all(writes, [_item(3)])

    first, second = asyncio.run(twice())
    assert all(isinstance(result, OSError) for result in [*first, *second])  # every future settled, none hangs


def test_a_dry_run_names_the_path_and_writes_nothing(tmp_path: Path, suppression: SuppressionStore) -> None:
    item = _item(77)
    [(match, relative)] = asyncio.run(_store_all(_CheckedWrites(OptOutScreen(suppression),
                                                                ImageStore(tmp_path / "images"), True), [item]))
    assert match is None and relative.endswith(f"{item.valid.sha256}.png")
    assert not (tmp_path / "images").exists() or not list((tmp_path / "images").rglob("*.png"))


def test_a_suppression_list_that_cannot_be_read_fails_the_images_of_the_hop(
        tmp_path: Path, suppression: SuppressionStore) -> None:
    screen = OptOutScreen(suppression)
    suppression.dispose()
    (tmp_path / "suppression.db").unlink()
    (tmp_path / "suppression.db").mkdir()  # the file is gone and a folder stands in its place: unreadable
    results = asyncio.run(_store_all(_CheckedWrites(screen, ImageStore(tmp_path / "images"), False),
                                     [_item(5), _item(6)]))
    assert all(isinstance(result, Exception) for result in results)
    assert not (tmp_path / "images").exists() or not list((tmp_path / "images").rglob("*.png"))
