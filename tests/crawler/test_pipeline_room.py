"""The image pipeline's room: requests wait while it holds its limit of images and go on as soon as one leaves.

The crawl-level effect (live objects bounded however fast downloads are) is tests/crawler/test_memory.py."""

from __future__ import annotations

import asyncio

from crawler.gates.room import PipelineRoom


def test_a_request_waits_while_the_pipeline_is_full_and_goes_when_an_image_leaves() -> None:
    async def scenario() -> tuple[bool, bool, bool]:
        room = PipelineRoom(2)
        room.enter()
        room.enter()
        waiting = asyncio.ensure_future(room.wait())
        await asyncio.sleep(0.01)
        held = not waiting.done()
        room.leave()
        waited = await asyncio.wait_for(waiting, timeout=1)
        return held, waited, await room.wait()  # room left: no wait

    held, waited, waited_again = asyncio.run(scenario())
    assert held and waited and not waited_again


def test_no_limit_never_waits() -> None:
    async def scenario() -> bool:
        room = PipelineRoom(0)
        for _ in range(1000):
            room.enter()
        return await asyncio.wait_for(room.wait(), timeout=1)

    assert asyncio.run(scenario()) is False
