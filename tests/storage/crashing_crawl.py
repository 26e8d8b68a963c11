"""A stand-in crawl process for the reaping tests: creates its run, decides, starts an image file, then waits.

Run as ``python -m tests.storage.crashing_crawl DB_URL STORE RUN_ID``; prints ``ready`` once all is
written, then sleeps until it is killed (as a crawl is by SIGKILL or the OOM killer).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from storage import Database
from storage.image_store import temporary_prefix
from storage.models import DecisionRecord
from storage.processes import this_process
from storage.runs import create_run
from tests.storage.rows import decision_row


def main(url: str, store_root: str, run_id: str) -> None:
    database = Database(url)
    create_run(database, run_id, "lawful", "lawful@x", "faircrawl", True, ["http://a.example/"])
    with database.engine.begin() as connection:
        connection.execute(DecisionRecord.__table__.insert(), [
            decision_row(f"{run_id}-1", run_id), decision_row(f"{run_id}-2", run_id),
            decision_row(f"{run_id}-3", run_id, kind="page", outcome="crawled")])
    folder = Path(store_root) / "ab" / "cd"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{temporary_prefix(this_process())}partial").write_bytes(b"the first half of an image")
    print("ready", flush=True)
    time.sleep(600)


if __name__ == "__main__":
    main(*sys.argv[1:4])
