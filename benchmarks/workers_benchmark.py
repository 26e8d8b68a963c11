"""Many workers on one run: throughput with 1, 2, ... worker processes on a shared Redis frontier and PostgreSQL.

    .venv/bin/python -m benchmarks.workers_benchmark [--workers 1,2] [--pages 500] [--images-per-page 2]
                                                      [--redis redis://127.0.0.1:6379/0]
                                                      [--db postgresql+psycopg://postgres@127.0.0.1:5432/test]

Serves the benchmark's generated face-free site (benchmarks/site.py) from its own process, crawls it with
``faircrawl crawl --frontier ... --workers N`` under the robots-only pack (the crawl machinery, no faces), each
run in a fresh PostgreSQL schema and under its own Redis key prefix, and prints for each N: decisions per second
of the run (its own start to finish), CPU seconds per request (launcher and workers), Redis round trips per
request (counted by the workers), PostgreSQL rows per request, and the scaling efficiency
rate(N) / (N x rate(1)). Exit status 0 whatever the figures; 1 when a crawl failed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from benchmarks.crawl_benchmark import BIN, ROOT, start_server, stop_server
from benchmarks.procstats import run_measured
from benchmarks.site import ensure_site


def _schema_url(base: str) -> tuple[str, str]:
    schema = f"faircrawl_bench_{uuid.uuid4().hex[:8]}"
    engine = create_engine(base)
    with engine.begin() as connection:
        connection.execute(text(f'create schema "{schema}"'))
    engine.dispose()
    return f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}", schema


def _drop_schema(base: str, schema: str) -> None:
    engine = create_engine(base)
    with engine.begin() as connection:
        connection.execute(text(f'drop schema "{schema}" cascade'))
    engine.dispose()


def _rows(url: str, run_id: str) -> int:
    engine = create_engine(url)
    with engine.connect() as connection:
        total = sum(int(connection.execute(text(f"select count(*) from {table} where run_id = :r"), {"r": run_id})
                        .scalar_one()) for table in ("decisions", "pages", "images", "sites"))
        total += int(connection.execute(text("select count(*) from image_files")).scalar_one())
    engine.dispose()
    return total


def crawl(workers: int, start_url: str, redis_url: str, db_base: str, server_pid: int) -> dict[str, Any]:
    db_url, schema = _schema_url(db_base)
    work = Path(tempfile.mkdtemp(prefix=f"faircrawl-workers-{workers}-"))
    report_path = work / "report.json"
    command = [str(BIN / "faircrawl"), "crawl", start_url, "--allow-private-hosts", "--frontier", redis_url,
               "--workers", str(workers), "--db", db_url, "--store", str(work / "images"), "--report",
               str(report_path), "--policy", "benchmarks/robots-only"]
    env = {**os.environ, "FAIRCRAWL_PROGRESS_INTERVAL": "0", "FAIRCRAWL_FRONTIER_PREFIX": f"bench-{uuid.uuid4().hex}",
           "FAIRCRAWL_SUPPRESSION_DB": f"sqlite:///{work / 'suppression.db'}", "FAIRCRAWL_KEY_FILE": str(work / "key")}
    try:
        measured = run_measured(command, ROOT, work / "crawl.log", server_pid, env)
        if measured.returncode != 0 or not report_path.exists():
            print((work / "crawl.log").read_text()[-3000:], file=sys.stderr)
            raise SystemExit(f"the {workers}-worker crawl failed (exit {measured.returncode}); log in {work}")
        report = json.loads(report_path.read_text())
        run = report["run"]
        elapsed = (datetime.fromisoformat(run["finished_at"]) - datetime.fromisoformat(run["started_at"])).total_seconds()
        states = run["stats"]["workers"].values()
        requests = sum(int(s.get("requests", 0)) for s in states)
        decisions = len(report["decisions"])
        return {"workers": workers, "decisions": decisions, "requests": requests, "elapsed": elapsed,
                "rate": decisions / elapsed, "cpu_per_request": measured.cpu / max(1, requests),
                "redis_per_request": sum(int(s.get("redis_roundtrips", 0)) for s in states) / max(1, requests),
                "rows_per_request": _rows(db_url, run["id"]) / max(1, requests), "other_load": measured.other_load,
                "wall": measured.wall}
    finally:
        _drop_schema(db_base, schema)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=lambda v: [int(n) for n in v.split(",")], default=[1, 2])
    parser.add_argument("--pages", type=int, default=500)
    parser.add_argument("--images-per-page", type=int, default=2)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--db", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args(argv)
    site = ensure_site(args.pages, args.images_per_page)
    server_dir = Path(tempfile.mkdtemp(prefix="faircrawl-workers-server-"))
    server, port = start_server(site, server_dir / "server.log")
    results = []
    try:
        for workers in args.workers:
            result = crawl(workers, f"http://127.0.0.1:{port}/p/0.html", args.redis, args.db, server.pid)
            results.append(result)
            print(f"  {workers} worker(s): {result['decisions']} decisions in {result['elapsed']:.1f}s = "
                  f"{result['rate']:.1f}/s; CPU {result['cpu_per_request'] * 1000:.1f} ms/request; Redis "
                  f"{result['redis_per_request']:.2f} round trips/request; PostgreSQL {result['rows_per_request']:.2f} "
                  f"rows/request (other load {result['other_load']:.0f} CPU s over {result['wall']:.0f} s)")
    finally:
        stop_server(server)
    base = next((r for r in results if r["workers"] == 1), None)
    for result in results:
        if base is not None and result["workers"] > 1:
            efficiency = result["rate"] / (result["workers"] * base["rate"])
            print(f"scaling efficiency with {result['workers']} workers: {efficiency:.2f} "
                  f"(rate {result['rate']:.1f}/s against {result['workers']} x {base['rate']:.1f}/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
