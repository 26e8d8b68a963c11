"""The image bytes' work in a worker process gives exactly what reading them in the crawl process gives."""

from __future__ import annotations

import asyncio

import pytest

from crawler.imagework import ImageFileResult, ImageWorkPool, read_image
from crawler.pipelines.validate import validate_image
from crawler.testsites import images
from crawler.testsites.c2pa_embed import with_corrupt_c2pa, with_training_mining
from crawler.testsites.metadata import with_hostile_xmp, with_xmp_data_mining
from policy.errors import ImageError
from policy.observe import image_observation, read_image_file

LIMIT = 40_000_000
JPEG = images.landscape(7)
BODIES = {
    "plain": JPEG,
    "xmp-prohibited": with_xmp_data_mining(JPEG, "DMI-PROHIBITED-AIMLTRAINING"),
    "xmp-hostile": with_hostile_xmp(JPEG),
    "c2pa-not-allowed": with_training_mining(JPEG, {"cawg.ai_training": {"use": "notAllowed"}}),
    "c2pa-corrupt": with_corrupt_c2pa(JPEG),
    "png": images.landscape(8, fmt="PNG"),
    "truncated": images.truncated(JPEG),
    "empty": b"",
    "html": b"<!doctype html><p>not an image</p>",
}


def _in_workers(bodies: list[bytes]) -> list[ImageFileResult]:
    async def run() -> list[ImageFileResult]:
        pool = ImageWorkPool(LIMIT, workers=1)
        try:
            return list(await asyncio.gather(*(pool.read(body) for body in bodies)))
        finally:
            pool.close()

    return asyncio.run(run())


def test_a_worker_reads_every_image_as_this_process_does() -> None:
    results = dict(zip(BODIES, _in_workers(list(BODIES.values())), strict=True))
    for name, body in BODIES.items():
        here, there = read_image(body, LIMIT), results[name]
        assert there == here, name
        if here.refused is None:
            assert there.valid == validate_image(body, LIMIT)
            assert there.file_facts == read_image_file(body)
        else:
            with pytest.raises(ImageError) as refused:
                validate_image(body, LIMIT)
            assert there.refused == (refused.value.code, refused.value.detail)
    assert results["truncated"].refused is not None and results["empty"].refused == ("image.empty", results[
        "empty"].refused[1])


def test_the_observation_from_worker_facts_is_the_one_read_in_place() -> None:
    headers = {"Content-Type": ["image/jpeg"], "X-Robots-Tag": ["noai"]}
    for name, result in zip(BODIES, _in_workers(list(BODIES.values())), strict=True):
        if result.file_facts is None:
            continue
        body = BODIES[name]
        in_place = image_observation("http://a.example/i.jpg", headers, body, "faircrawl", None, None)
        from_worker = image_observation("http://a.example/i.jpg", headers, body, "faircrawl", None, None,
                                        file_facts=result.file_facts)
        assert from_worker == in_place, name
    prohibited = read_image_file(BODIES["xmp-prohibited"])
    assert prohibited.iptc.prohibits_ai_training
    assert read_image_file(BODIES["c2pa-not-allowed"]).c2pa.prohibits_ai_training


def test_a_batch_keeps_each_image_with_its_own_answer() -> None:
    bodies = [images.landscape(seed) for seed in range(40)]  # more than one batch
    results = _in_workers(bodies)
    assert [r.valid.sha256 for r in results if r.valid] == [validate_image(b, LIMIT).sha256 for b in bodies]


def test_a_pool_that_cannot_work_fails_the_images_not_the_loop() -> None:
    async def run() -> BaseException | None:
        pool = ImageWorkPool(LIMIT, workers=1)
        pool.close()
        pool._pool().shutdown(wait=True)  # a pool that refuses work
        try:
            await pool.read(JPEG)
        except BaseException as error:  # noqa: BLE001
            return error
        return None

    assert isinstance(asyncio.run(run()), RuntimeError)


def test_a_worker_that_dies_fails_its_images_and_the_next_batch_gets_a_new_one() -> None:
    import os
    import signal

    async def run() -> tuple[BaseException | None, ImageFileResult]:
        pool = ImageWorkPool(LIMIT, workers=1)
        try:
            await pool.read(JPEG)  # the worker is up
            executor = pool._executor
            assert executor is not None
            for process in list(executor._processes.values()):  # type: ignore[attr-defined]
                os.kill(process.pid, signal.SIGKILL)
            failed: BaseException | None = None
            try:
                await pool.read(JPEG)
            except BaseException as error:  # noqa: BLE001
                failed = error
            return failed, await pool.read(JPEG)
        finally:
            pool.close()

    failed, later = asyncio.run(run())
    assert failed is not None  # the image in the dead worker's pool failed (the stage records internal.error)
    assert later == read_image(JPEG, LIMIT)


def test_workers_spawned_under_the_faircrawl_script_do_not_run_it_again(tmp_path) -> None:
    """A spawned worker re-runs the launching script unless told otherwise: under `faircrawl` it must not import
    the CLI (with Scrapy) just to decode images or find faces."""
    import subprocess
    import sys

    from tests.conftest import PROJECT_ROOT

    script = tmp_path / "faircrawl"  # named like the console script, which is what the guard looks for
    script.write_text(
        "import multiprocessing, sys\n"
        "from concurrent.futures import ProcessPoolExecutor\n"
        "from crawler.cli import _lean_worker_start\n"
        "if sys.argv[1] == 'lean':\n"
        "    _lean_worker_start()\n"
        "if __name__ == '__main__':\n"
        "    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context('spawn')) as pool:\n"
        "        print(pool.submit(eval, \"'crawler.cli' in __import__('sys').modules\").result())\n")
    env = {"PYTHONPATH": str(PROJECT_ROOT), "PATH": "/usr/bin:/bin"}
    answers = {mode: subprocess.run([sys.executable, str(script), mode], capture_output=True, text=True, env=env,
                                    timeout=120, cwd=tmp_path) for mode in ("plain", "lean")}
    assert answers["plain"].stdout.strip() == "True", answers["plain"].stderr[-2000:]  # the default, which we avoid
    assert answers["lean"].stdout.strip() == "False", answers["lean"].stderr[-2000:]
