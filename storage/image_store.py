"""Content-addressed image files, kept byte for byte as fetched.

Scrapy's ImagesPipeline re-encodes every JPEG; faircrawl keeps the original
bytes so the stored file is exactly what the site served (and its sha256 is
the content's). Files live at ``<root>/<sha[:2]>/<sha[2:4]>/<sha>.<ext>``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

EXTENSION_BY_FORMAT = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "WEBP": "webp", "BMP": "bmp", "TIFF": "tif"}


class ImageStore:
    """A folder of image files named by their sha256."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._made: set[Path] = set()  # folders known to exist (a crawl writes thousands of files)

    def relative_path(self, sha256: str, image_format: str) -> str:
        extension = EXTENSION_BY_FORMAT.get(image_format.upper(), "bin")
        return f"{sha256[:2]}/{sha256[2:4]}/{sha256}.{extension}"

    def put(self, content: bytes, sha256: str, image_format: str) -> str:
        """Write ``content`` atomically unless it is already there; returns the relative path."""
        relative = self.relative_path(sha256, image_format)
        target = self.root / relative
        if target.exists():
            return relative
        if target.parent not in self._made:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._made.add(target.parent)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(content)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return relative

    def read(self, relative: str) -> bytes:
        return (self.root / relative).read_bytes()

    def delete(self, relative: str) -> bool:
        """Remove one file; True when something was removed."""
        target = self.root / relative
        if target.exists():
            target.unlink()
            return True
        return False
