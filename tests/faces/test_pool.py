"""Face workers die with their parent: a SIGKILLed crawl leaves no 170 MB orphans behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# A parent that starts a real pool, analyses a real photo, prints its workers' pids, then waits to be killed.
PARENT_SCRIPT = """
import asyncio, multiprocessing, time
from crawler.testsites.photos import face_photo
from faces.pool import FacePool

async def main():
    pool = FacePool(workers=2)
    pool.warm_up()
    analysis = await pool.analyse(face_photo("obama.jpg"), encode=False)
    print(analysis.count, *sorted(child.pid for child in multiprocessing.active_children()), flush=True)
    time.sleep(600)

asyncio.run(main())
"""


def _running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's zombie may wait for a reaper, but it holds no memory)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def test_workers_exit_within_seconds_after_their_parent_is_killed(tmp_path: Path) -> None:
    errors = (tmp_path / "stderr").open("w+")
    parent = subprocess.Popen([sys.executable, "-W", "error", "-c", PARENT_SCRIPT], cwd=PROJECT_ROOT,
                              stdout=subprocess.PIPE, stderr=errors, text=True)
    workers: list[int] = []
    try:
        assert parent.stdout is not None
        line = parent.stdout.readline().split()  # the workers inherit this pipe: never wait for its end
        assert line, (tmp_path / "stderr").read_text()
        count, workers = int(line[0]), [int(pid) for pid in line[1:]]
        assert count == 1 and len(workers) == 2 and all(_running(pid) for pid in workers)
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        deadline = time.monotonic() + 5
        while any(_running(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_running(pid) for pid in workers), "face workers outlived their parent"
    finally:
        for pid in workers:  # only the processes this test started, if the assertion failed
            if _running(pid):
                os.kill(pid, signal.SIGKILL)
        parent.kill()
        parent.wait(timeout=10)
        assert parent.stdout is not None
        parent.stdout.close()
        errors.close()
