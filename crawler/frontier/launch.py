"""`faircrawl crawl --frontier URL`: one run crawled by many worker processes, on one machine or many.

The command that creates the run records it in the shared database, lists
its start URLs in Redis and starts ``--workers N`` processes, each the same
command with ``--join RUN_ID``; on another machine ``--join RUN_ID`` adds a
worker to a run already going. Each worker takes requests from the shared
frontier; the last worker to finish, with nothing queued or leased, ends the
run. Workers need one database they all reach: SQLite is refused.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from crawler.frontier.keys import FrontierKeys, connect
from policy.errors import UsageError

#: crawl options a worker gets from the command that starts it: (click parameter, flag, kind)
FORWARDED = (
    ("testsites", "--testsites", "flag"), ("testsites_server", "--testsites-server", "value"),
    ("db", "--db", "value"), ("store", "--store", "value"), ("allow_private_hosts", "--allow-private-hosts", "flag"),
    ("product_token", "--product-token", "value"), ("policy_name", "--policy", "value"),
    ("rule_files", "--rules", "many"), ("site_registries", "--sites", "many"), ("terms_registries", "--terms", "many"),
    ("operator", "--operator-jurisdiction", "value"), ("concurrency", "--concurrency", "value"),
    ("max_pages", "--max-pages", "value"), ("max_images", "--max-images", "value"),
    ("max_pages_per_site", "--max-pages-per-site", "value"), ("max_images_per_site", "--max-images-per-site", "value"),
    ("no_sign", "--no-sign", "flag"),
)


def check_shared_database(db_url: str) -> None:
    """Workers must write to one database: a SQLite file is one machine's, so it is refused."""
    if db_url.split(":", 1)[0].split("+", 1)[0].lower() == "sqlite":
        raise UsageError(f"--frontier needs one database every worker shares, not the SQLite file {db_url}: give "
                         "--db postgresql+psycopg://user@host/db (or FAIRCRAWL_DB)")


def worker_command(params: dict[str, Any], frontier: str, run_id: str, urls: list[str]) -> list[str]:
    """The command line of one worker joining ``run_id`` with the same crawl options."""
    command = [sys.executable, "-m", "crawler.cli", "crawl", *urls, "--frontier", frontier, "--join", run_id]
    for name, flag, kind in FORWARDED:
        value = params.get(name)
        if kind == "flag" and value:
            command.append(flag)
        elif kind == "value" and value is not None:
            command += [flag, str(value)]
        elif kind == "many":
            for item in value or ():
                command += [flag, str(item)]
    if params.get("verbose"):
        command.append("-" + "v" * int(params["verbose"]))
    return command


def worker_states(server: Any, keys: FrontierKeys) -> dict[str, dict[str, Any]]:
    return {(name.decode() if isinstance(name, bytes) else str(name)): json.loads(state)
            for name, state in server.hgetall(keys.workers).items()}


def progress_lines(states: dict[str, dict[str, Any]], elapsed: float) -> list[str]:
    """One progress line per worker, from what each published in Redis."""
    lines = []
    for name, state in sorted(states.items()):
        counts = state.get("counts", {})
        refused = counts.get("page/refused", 0) + counts.get("image/refused", 0)
        failed = counts.get("page/failed", 0) + counts.get("image/failed", 0)
        lines.append(f"[faircrawl] {elapsed:6.1f}s  worker {name} {state.get('state')}: pages crawled "
                     f"{counts.get('page/crawled', 0)}  images stored {counts.get('image/stored', 0)}  refused {refused}"
                     f"  failed {failed}  leased {state.get('held', 0)}  reclaimed {state.get('reclaimed', 0)}")
    return lines


def run_workers(commands: list[list[str]], server: Any, keys: FrontierKeys, interval: float,
                echo: Callable[[str], None], env: dict[str, str] | None = None) -> list[int]:
    """Start the workers, print their progress every ``interval`` seconds (0: never), return their exit codes."""
    worker_env = {**os.environ, **(env or {}), "FAIRCRAWL_PROGRESS_INTERVAL": "0"}
    processes = [subprocess.Popen(command, env={**worker_env, "FAIRCRAWL_WORKER_ID": f"w{index + 1}-{os.getpid()}"})
                 for index, command in enumerate(commands)]
    started = last = time.monotonic()
    while any(process.poll() is None for process in processes):
        time.sleep(0.2)
        if interval and time.monotonic() - last >= interval:
            last = time.monotonic()
            for line in progress_lines(worker_states(server, keys), last - started):
                echo(line)
    return [int(process.returncode) for process in processes]


def serve_catalog() -> tuple[str, Callable[[], None]]:
    """`faircrawl testsites serve` on a free port, for every worker of this machine; its URL and how to stop it."""
    server = subprocess.Popen([sys.executable, "-m", "crawler.cli", "testsites", "serve", "--port", "0"],
                              stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    first = server.stdout.readline()  # "serving N test sites at http://127.0.0.1:PORT (Ctrl-C stops)"
    words = [word for word in first.split() if word.startswith("http://")]
    if not words:
        server.kill()
        raise UsageError(f"the test-site server did not start ({first.strip() or 'no output'})")

    def stop() -> None:
        server.terminate()
        server.wait(timeout=30)
        if server.stdout is not None:
            server.stdout.close()

    return words[0], stop


def open_frontier(frontier: str, prefix: str, run_id: str) -> tuple[Any, FrontierKeys]:
    return connect(frontier), FrontierKeys(prefix, run_id)
