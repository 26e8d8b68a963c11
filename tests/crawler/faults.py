"""Image pipelines with one stage that fails after doing its work, for the fault-injection tests.

Each fault raises with a message that quotes the item's face encodings when it
has any, the worst thing an exception could carry; the crawl must still record
``internal.error`` for the image and must never write that message anywhere.
Used as ``-s ITEM_PIPELINES={"tests.crawler.faults.<Name>": 300}``.
"""

from __future__ import annotations

import inspect
from typing import Any

from crawler.items import FetchedImage
from crawler.pipelines import (
    ConsentPipeline,
    FacesPipeline,
    ImagePipeline,
    ScreenPipeline,
    StorePipeline,
    ValidatePipeline,
)


def _fail(item: FetchedImage) -> None:
    quoted = " ".join(str(list(vector)) for vector in item.encodings) or repr(item.body[:64])
    raise RuntimeError(f"injected failure holding {quoted}")


def _failing_after(stage: type) -> type:
    class Failing(stage):  # type: ignore[misc, valid-type]
        async def process_item(self, item: FetchedImage) -> Any:
            result = super().process_item(item)
            if inspect.isawaitable(result):
                await result
            _fail(item)

    Failing.__name__ = f"Failing{stage.__name__}"
    return Failing


def _failing_before(stage: type) -> type:
    class Failing(stage):  # type: ignore[misc, valid-type]
        def process_item(self, item: FetchedImage) -> Any:
            _fail(item)

    Failing.__name__ = f"Failing{stage.__name__}"
    return Failing


def _pipeline(position: int, failing: type) -> type:
    stages = list(ImagePipeline.STAGES)
    stages[position] = failing
    return type(f"Pipeline{failing.__name__}", (ImagePipeline,), {"STAGES": tuple(stages)})


FailingValidate = _pipeline(0, _failing_after(ValidatePipeline))
FailingConsent = _pipeline(1, _failing_after(ConsentPipeline))
FailingFaces = _pipeline(2, _failing_after(FacesPipeline))
FailingScreen = _pipeline(3, _failing_after(ScreenPipeline))
FailingStore = _pipeline(4, _failing_before(StorePipeline))
