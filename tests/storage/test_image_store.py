"""Partial image files: removed when their writer died on this host, kept while it lives or runs elsewhere.

Issue 7, defect 19 (c).
"""

from __future__ import annotations

import itertools
import os
import subprocess
import time
from pathlib import Path

import pytest

from storage import ImageStore, image_store
from storage.image_store import UNNAMED_TEMPORARY_MAX_AGE_SECONDS, temporary_prefix
from storage.processes import ProcessIdentity, this_process


def _partial(store: Path, name: str, age_seconds: float = 0) -> Path:
    folder = store / "ab" / "cd"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(b"half")
    when = time.time() - age_seconds
    os.utime(path, (when, when))
    return path


def test_only_temporaries_of_dead_writers_on_this_host_are_removed(tmp_path: Path) -> None:
    me = this_process()
    finished = subprocess.Popen(["true"])
    finished.wait()
    dead = ProcessIdentity(finished.pid, me.hostname, 1)
    elsewhere = ProcessIdentity(finished.pid, "another-host", 1)
    reused = ProcessIdentity(me.pid, me.hostname, (me.start_ticks or 0) + 1)  # same pid, another start time
    paths = {
        "dead": _partial(tmp_path, f"{temporary_prefix(dead)}a1"),
        "reused": _partial(tmp_path, f"{temporary_prefix(reused)}b2"),
        "live": _partial(tmp_path, f"{temporary_prefix(me)}c3"),
        "elsewhere": _partial(tmp_path, f"{temporary_prefix(elsewhere)}d4"),
        "unnamed-old": _partial(tmp_path, ".incoming-x1y2z3", UNNAMED_TEMPORARY_MAX_AGE_SECONDS + 60),
        "unnamed-recent": _partial(tmp_path, ".incoming-q9w8e7"),
        "image": _partial(tmp_path, "abcd" + "0" * 60 + ".jpg", 10 * UNNAMED_TEMPORARY_MAX_AGE_SECONDS),
    }

    removed = ImageStore(tmp_path).remove_abandoned_temporaries()

    assert sorted(removed) == sorted([paths["dead"], paths["reused"], paths["unnamed-old"]])
    assert {name for name, path in paths.items() if path.exists()} == {"live", "elsewhere", "unnamed-recent", "image"}


def test_a_write_never_reuses_a_temporary_name_left_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Temporary names are the writer's prefix and a serial number; one already there is skipped, not overwritten."""
    monkeypatch.setattr(image_store, "_SERIALS", itertools.count())
    left = _partial(tmp_path, f"{temporary_prefix(this_process())}0")
    store = ImageStore(tmp_path)
    sha = "abcd" + "1" * 60

    relative = store.put(b"\xff\xd8 the image", sha, "JPEG")

    assert relative == f"ab/cd/{sha}.jpg" and store.read(relative) == b"\xff\xd8 the image"
    assert left.read_bytes() == b"half"  # another writer's partial file is left as it was
    assert sorted(p.name for p in left.parent.iterdir()) == sorted([left.name, f"{sha}.jpg"])
    assert (os.stat(tmp_path / relative).st_mode & 0o777) == 0o600
    assert store.put(b"other bytes", sha, "JPEG") == relative and store.read(relative) == b"\xff\xd8 the image"


def test_a_file_already_there_is_kept_whoever_made_its_folder(tmp_path: Path) -> None:
    """A second store on the same folder (another process, a later run) finds the first one's files and folders."""
    sha = "ef01" + "2" * 60
    first, second = ImageStore(tmp_path), ImageStore(tmp_path)
    relative = first.put(b"first bytes", sha, "PNG")
    assert second.put(b"other bytes", sha, "PNG") == relative  # folder made by another store: the file is looked for
    assert second.read(relative) == b"first bytes"
    beside = "ef01" + "3" * 60  # same folder, which this store did not make and has not seen: written
    assert second.put(b"beside", beside, "PNG") == f"ef/01/{beside}.png" and second.read(f"ef/01/{beside}.png") == b"beside"


def test_large_content_is_written_whole_into_new_folders(tmp_path: Path) -> None:
    content = os.urandom(3 * 1024 * 1024 + 7)
    store = ImageStore(tmp_path / "fresh" / "root")  # neither the root nor any <sha[:2]> folder exists yet
    relative = store.put(content, "9a" + "b" * 62, "JPEG")
    assert store.read(relative) == content
    assert sorted(p.name for p in (tmp_path / "fresh" / "root" / "9a" / "bb").iterdir()) == ["9a" + "b" * 62 + ".jpg"]
