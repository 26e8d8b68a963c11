"""Content-addressed image files, kept byte for byte as fetched.

Scrapy's ImagesPipeline re-encodes every JPEG; faircrawl keeps the original
bytes so the stored file is exactly what the site served (and its sha256 is
the content's). Files live at ``<root>/<sha[:2]>/<sha[2:4]>/<sha>.<ext>``.

A file is written to a temporary name beside its target and renamed into
place, so a reader never sees half a file. The temporary name says who is
writing it (``.incoming-<pid>-<start ticks>-<host tag>-<serial>``), so what a
killed crawl left behind can be removed later without touching a live
writer's file (:meth:`ImageStore.remove_abandoned_temporaries`).
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from storage.processes import ProcessIdentity, is_alive, this_process

logger = logging.getLogger(__name__)

EXTENSION_BY_FORMAT = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "WEBP": "webp", "BMP": "bmp", "TIFF": "tif"}
TEMPORARY_PREFIX = ".incoming-"
#: Temporary files from before they were named by process are removed once this old (a write takes milliseconds).
UNNAMED_TEMPORARY_MAX_AGE_SECONDS = 3600.0


def host_tag(hostname: str) -> str:
    """A short, filename-safe stand-in for a host name."""
    return hashlib.sha256(hostname.encode()).hexdigest()[:12]


def temporary_prefix(process: ProcessIdentity) -> str:
    """The name prefix of the temporary files ``process`` writes."""
    return f"{TEMPORARY_PREFIX}{process.pid}-{process.start_ticks or 0}-{host_tag(process.hostname)}-"


def _make_folder(path: str) -> bool:
    """Make ``path`` (and its parent if need be); True when this call made it, so nothing can be in it yet."""
    try:
        os.mkdir(path)
    except FileExistsError:
        return False
    except FileNotFoundError:  # the <sha[:2]> folder is new too
        os.makedirs(os.path.dirname(path), exist_ok=True)
        try:
            os.mkdir(path)
        except FileExistsError:
            return False
    return True


@functools.lru_cache(maxsize=4)
def _own_prefix(pid: int) -> str:
    """This process's prefix, worked out once per pid (a forked child has another)."""
    return temporary_prefix(this_process())


@dataclass(frozen=True, slots=True)
class TemporaryOwner:
    """Who wrote a temporary file, read back from its name."""

    pid: int
    start_ticks: int | None
    host_tag: str

    @classmethod
    def from_name(cls, name: str) -> TemporaryOwner | None:
        parts = name.removeprefix(TEMPORARY_PREFIX).split("-")
        if not name.startswith(TEMPORARY_PREFIX) or len(parts) != 4 or not (parts[0] + parts[1]).isdigit():
            return None
        return cls(int(parts[0]), int(parts[1]) or None, parts[2])


#: One counter per process for temporary names (a fork's child has its own pid, hence its own prefix).
_SERIALS = itertools.count()
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)

FOLDERS = 16**4  # <sha[:2]>/<sha[2:4]>
_HEX = frozenset("0123456789abcdef")


def _folder_number(sha256: str) -> int | None:
    """The folder of a lower-case hex digest as a number below FOLDERS; None for anything else."""
    prefix = sha256[:4]
    return int(prefix, 16) if len(prefix) == 4 and _HEX.issuperset(prefix) else None


class ImageStore:
    """A folder of image files named by their sha256."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._root_text = os.fspath(self.root)
        # Folders known to exist (a crawl writes thousands of files): one bit per <sha[:2]>/<sha[2:4]> folder,
        # 8 KiB for all 65,536 of them, so knowing them costs the same for 100 images as for 10 million
        # (two threads racing on one byte can only lose a bit: one more mkdir).
        self._made = bytearray(FOLDERS // 8)

    def relative_path(self, sha256: str, image_format: str) -> str:
        extension = EXTENSION_BY_FORMAT.get(image_format.upper(), "bin")
        return f"{sha256[:2]}/{sha256[2:4]}/{sha256}.{extension}"

    def put(self, content: bytes, sha256: str, image_format: str) -> str:
        """Write ``content`` atomically unless it is already there; returns the relative path.

        Each system call counts: a crawl writes thousands of files, most into folders it has just made, so a folder
        this call made is not searched for the file, and the bytes go out through the descriptor itself.
        """
        relative = self.relative_path(sha256, image_format)
        target = os.path.join(self._root_text, relative)
        folder_path = os.path.dirname(target)
        folder = _folder_number(sha256)
        known = folder is not None and self._made[folder >> 3] & 1 << (folder & 7)
        made_now = False if known else _make_folder(folder_path)
        if not made_now and os.path.exists(target):
            return relative
        if not known and folder is not None:
            self._made[folder >> 3] |= 1 << (folder & 7)
        handle, temporary = self._create_temporary(folder_path)
        try:
            try:
                unwritten = memoryview(content)
                while unwritten:
                    unwritten = unwritten[os.write(handle, unwritten):]
            finally:
                os.close(handle)
            os.replace(temporary, target)  # a file another writer put there meanwhile has these same bytes
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return relative

    def _create_temporary(self, folder: str) -> tuple[int, str]:
        """A new file named by its writer and a per-process serial number (``tempfile.mkstemp``'s safety:
        O_EXCL, mode 0600; without its random name, which cost a crawl more than the write itself)."""
        prefix = _own_prefix(os.getpid())
        while True:
            path = os.path.join(folder, f"{prefix}{next(_SERIALS)}")
            try:
                return os.open(path, _CREATE_FLAGS, 0o600), path
            except FileExistsError:
                continue  # left by an earlier process with this pid and start time: take the next number

    def read(self, relative: str) -> bytes:
        return (self.root / relative).read_bytes()

    def delete(self, relative: str) -> bool:
        """Remove one file; True when something was removed."""
        target = self.root / relative
        if target.exists():
            target.unlink()
            return True
        return False

    def remove_abandoned_temporaries(self, now: float | None = None) -> list[Path]:
        """Remove temporary files whose writer died on this host; a live writer's, or another host's, stay.

        Unnamed ones (``.incoming-<random>``, from before names said who wrote them) go once they are older
        than :data:`UNNAMED_TEMPORARY_MAX_AGE_SECONDS`. Returns what was removed.
        """
        now = time.time() if now is None else now
        here = host_tag(this_process().hostname)
        removed = []
        for path in self.root.glob(f"*/*/{TEMPORARY_PREFIX}*"):
            owner = TemporaryOwner.from_name(path.name)
            if owner is None:
                try:
                    abandoned = now - path.stat().st_mtime > UNNAMED_TEMPORARY_MAX_AGE_SECONDS
                except FileNotFoundError:
                    continue  # renamed into place meanwhile
            else:
                abandoned = owner.host_tag == here and not is_alive(owner.pid, owner.start_ticks)
            if abandoned:
                path.unlink(missing_ok=True)
                removed.append(path)
        if removed:
            logger.info("removed %d partial image file(s) left by crawls that died", len(removed))
        return removed
