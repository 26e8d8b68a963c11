"""faircrawl versus plain Scrapy on the same local static site: responses per second, time, memory.

    .venv/bin/python -m benchmarks.crawl_benchmark [--pages 2000] [--images-per-page 2]
                                                   [--concurrency 32] [--repeat 1] [--keep]

One run generates (or reuses) a seeded site, serves it from a separate process
on 127.0.0.1, crawls it with plain Scrapy and with ``faircrawl crawl`` (each a
subprocess, alternating which goes first), and prints medians. The target is
faircrawl >= 0.9x plain Scrapy's responses/s. Exit status is 0 whatever the
ratio (this is a report, not a test); 1 only when a crawl or the server failed.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import memory_benchmark
from benchmarks.procstats import Measured, run_measured
from benchmarks.site import ensure_site
from policy.errors import FaircrawlError

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the venv's bin/, where the `faircrawl` script lives
TARGET_RATIO = 0.9
#: robots-only: the crawl machinery; signals: every consent signal read and decided, no face detection.
DEFAULT_POLICIES = ("benchmarks/robots-only", "benchmarks/signals")
NOISY_SHARE = 0.2  # other load above this share of one CPU over the run gets a warning


class BenchmarkError(FaircrawlError):
    """A crawl or the server failed; the message says which and where its log is."""


@dataclass(frozen=True)
class Result:
    tool: str
    responses: int  # downloader/response_count
    elapsed: float  # Scrapy-side: start_time to spider close
    rate: float  # responses / elapsed
    wall: float
    peak_rss_mib: float
    tree_rss_mib: float
    cpu: float
    server_cpu: float  # near elapsed would mean the server, not the crawler, set the pace
    other_load: float
    analysed: int = 0  # images searched for faces (decisions with an image.faces signal)

    @classmethod
    def of(cls, tool: str, responses: int, elapsed: float, m: Measured, analysed: int = 0) -> Result:
        return cls(tool, responses, elapsed, responses / elapsed if elapsed else 0.0, m.wall,
                   m.peak_rss_mib, m.tree_rss_mib, m.cpu, m.server_cpu, m.other_load, analysed)

    @property
    def faces_rate(self) -> float:
        """Images searched for faces per second of crawl."""
        return self.analysed / self.elapsed if self.elapsed else 0.0


def _failed(tool: str, why: str, log_path: Path) -> BenchmarkError:
    tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-20:]) if log_path.exists() else ""
    return BenchmarkError(f"{tool} crawl failed: {why} (log {log_path})\n{tail}")


def _check_counts(tool: str, found: dict[str, int], expected: dict[str, int]) -> None:
    """A crawl that missed pages or images is not comparable: say so loudly, keep going."""
    for what, count in found.items():
        if count != expected[what]:
            print(f"!!! WARNING: {tool}: {what} = {count}, expected {expected[what]}; "
                  "its figures are not comparable !!!", file=sys.stderr)


def crawl_plain(start_url: str, work: Path, concurrency: int, server_pid: int, expected: dict[str, int]) -> Result:
    stats_path, log_path = work / "plain-stats.json", work / "plain.log"
    command = [sys.executable, "-m", "benchmarks.plain_scrapy_spider", start_url,
               "--store", str(work / "images"), "--stats", str(stats_path), "--concurrency", str(concurrency)]
    measured = run_measured(command, ROOT, log_path, server_pid)
    if measured.returncode != 0 or not stats_path.exists():
        raise _failed("plain Scrapy", f"exit status {measured.returncode}", log_path)
    stats: dict[str, Any] = json.loads(stats_path.read_text())
    _check_counts("plain Scrapy", {"images": stats.get("item_scraped_count", 0),
                                   "pages": stats.get("bench/pages", 0)}, expected)
    return Result.of("plain Scrapy", stats["downloader/response_count"], stats["elapsed_time_seconds"], measured)


def crawl_faircrawl(start_url: str, work: Path, concurrency: int, server_pid: int,
                    expected: dict[str, int], policy: str = "benchmarks/robots-only") -> Result:
    report_path, log_path = work / "report.json", work / "faircrawl.log"
    command = [str(BIN / "faircrawl"), "crawl", start_url, "--allow-private-hosts",
               "--concurrency", str(concurrency), "--db", f"sqlite:///{work / 'bench.db'}",
               "--store", str(work / "images"), "--report", str(report_path), "--policy", policy]
    env = {**os.environ, "FAIRCRAWL_PROGRESS_INTERVAL": "0"}
    measured = run_measured(command, ROOT, log_path, server_pid, env)
    if measured.returncode != 0 or not report_path.exists():
        raise _failed("faircrawl", f"exit status {measured.returncode}", log_path)
    report: dict[str, Any] = json.loads(report_path.read_text())
    stats, summary = report["run"]["stats"], report["summary"]
    _check_counts(f"faircrawl ({policy})", {"images": summary.get("image/stored", 0),
                                            "pages": summary.get("page/crawled", 0)}, expected)
    analysed = sum(1 for d in report["decisions"] if d["kind"] == "image" and "image.faces" in d.get("signals", {}))
    return Result.of(_label(policy), stats["responses"], stats["elapsed_seconds"], measured, analysed)


def _label(policy: str) -> str:
    return f"faircrawl/{Path(policy).name}"


def start_server(root: Path, log_path: Path) -> tuple[subprocess.Popen[bytes], int]:
    """The static server in its own process; returns it and the port it printed."""
    with log_path.open("wb") as log:
        server = subprocess.Popen([sys.executable, "-m", "benchmarks.static_server", str(root)],
                                  cwd=ROOT, stdout=subprocess.PIPE, stderr=log)
    assert server.stdout is not None
    line = server.stdout.readline().strip()  # blocks until listening, or EOF if it died
    if not line.isdigit():
        stop_server(server)
        raise _failed("static server", "did not print its port", log_path)
    return server, int(line)


def stop_server(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    if server.stdout is not None:
        server.stdout.close()


def median_result(results: list[Result]) -> Result:
    """Each figure's median on its own (with one run: that run's figures)."""
    def med(field: str) -> float:
        return statistics.median(getattr(r, field) for r in results)

    return Result(results[0].tool, round(med("responses")), med("elapsed"), med("rate"), med("wall"),
                  med("peak_rss_mib"), med("tree_rss_mib"), med("cpu"), med("server_cpu"), med("other_load"),
                  round(med("analysed")))


def format_table(rows: list[Result]) -> str:
    header = (f"{'tool':<22} {'responses':>9} {'elapsed s':>9} {'responses/s':>11} {'wall s':>7} "
              f"{'peak RSS MiB':>12} {'tree RSS MiB':>12} {'CPU s':>6} {'server CPU s':>12}")
    lines = [header, "-" * len(header)]
    for r in rows:
        lines.append(f"{r.tool:<22} {r.responses:>9} {r.elapsed:>9.2f} {r.rate:>11.1f} {r.wall:>7.2f} "
                     f"{r.peak_rss_mib:>12.1f} {r.tree_rss_mib:>12.1f} {r.cpu:>6.2f} {r.server_cpu:>12.2f}")
    return "\n".join(lines)


def run_all(args: argparse.Namespace, site: Path, expected: dict[str, int]) -> dict[str, list[Result]]:
    """Both crawlers, ``args.repeat`` times each, alternating which goes first; the server lives throughout."""
    crawlers: dict[str, Any] = {"plain Scrapy": crawl_plain}
    for policy in args.policies:
        crawlers[_label(policy)] = functools.partial(crawl_faircrawl, policy=policy)
    results: dict[str, list[Result]] = {name: [] for name in crawlers}
    server_dir = Path(tempfile.mkdtemp(prefix="faircrawl-bench-server-"))
    server, port = start_server(site, server_dir / "server.log")
    start_url = f"http://127.0.0.1:{port}/p/0.html"
    print(f"serving on 127.0.0.1:{port} (pid {server.pid}); concurrency {args.concurrency}, repeat {args.repeat}")
    try:
        for run in range(args.repeat):
            for name in list(crawlers) if run % 2 == 0 else list(reversed(crawlers)):
                work = Path(tempfile.mkdtemp(prefix=f"faircrawl-bench-{name.split()[0].lower().replace('/', '-')}-"))
                try:
                    r = crawlers[name](start_url, work, args.concurrency, server.pid, expected)
                finally:
                    if not args.keep:
                        shutil.rmtree(work, ignore_errors=True)
                results[name].append(r)
                print(f"  run {run + 1}/{args.repeat} {name:<22} {r.responses} responses in {r.elapsed:.2f}s "
                      f"= {r.rate:.1f}/s (wall {r.wall:.2f}s, {r.peak_rss_mib:.0f} MiB, "
                      f"other load {r.other_load:.1f} CPU s)" + (f"  [kept {work}]" if args.keep else ""))
                if r.other_load > NOISY_SHARE * r.wall:
                    print(f"  !!! other processes (or the hypervisor) took {r.other_load:.1f} CPU s during this "
                          f"{r.wall:.0f} s run: figures are noisy; compare the per-run ratios !!!")
    finally:
        stop_server(server)
        shutil.rmtree(server_dir, ignore_errors=True)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--images-per-page", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=1, help="runs per tool, alternating order; medians reported")
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--policies", type=lambda v: v.split(","), default=list(DEFAULT_POLICIES),
                        help="faircrawl rule packs to run, comma-separated (default: benchmarks/robots-only, the "
                             "crawl machinery, and benchmarks/signals, every consent signal read and decided; add "
                             "'lawful' to include face detection on every image)")
    parser.add_argument("--keep", action="store_true", help="keep each crawl's temp folder (log, db, images)")
    memory_benchmark.add_arguments(parser)  # --sizes: peak RSS against crawl size (benchmarks/memory_benchmark.py)
    args = parser.parse_args(argv)
    if args.only_sizes:
        return memory_benchmark.report_sizes(args)

    started = time.perf_counter()
    site = ensure_site(args.pages, args.images_per_page, args.seed)
    expected = {"pages": args.pages, "images": args.pages * args.images_per_page}
    print(f"site: {site} ({expected['pages']} pages, {expected['images']} images; "
          f"ready in {time.perf_counter() - started:.1f}s)")
    try:
        results = run_all(args, site, expected)
    except BenchmarkError as error:
        print(f"\nERROR: {error}", file=sys.stderr)
        return 1

    plain = median_result(results["plain Scrapy"])
    fairs = {name: median_result(runs) for name, runs in results.items() if name != "plain Scrapy"}
    label = f"medians of {args.repeat} runs" if args.repeat > 1 else "one run"
    print(f"\n{label}; responses/s = responses / Scrapy-side elapsed; peak RSS = largest process, "
          "tree RSS = crawler + its worker processes; CPU s includes reaped workers")
    print(format_table([plain, *fairs.values()]))
    for name, fair in fairs.items():
        ratio = fair.rate / plain.rate if plain.rate else 0.0
        verdict = "meets" if ratio >= TARGET_RATIO else "BELOW"
        print(f"\n{name} / plain Scrapy responses/s = {ratio:.2f}x  ({verdict} the >= {TARGET_RATIO}x target)")
        if plain.cpu and plain.responses and fair.responses:  # steadier than rates on a machine others load
            per_response = fair.cpu / fair.responses / (plain.cpu / plain.responses)
            print(f"CPU per response (crawler, threads and workers): {1000 * fair.cpu / fair.responses:.2f} ms, "
                  f"plain Scrapy {1000 * plain.cpu / plain.responses:.2f} ms ({per_response:.2f}x)")
        if args.repeat > 1:  # each pair ran back to back: its ratio shrugs off a machine whose speed drifts
            paired = [f.rate / p.rate for p, f in zip(results["plain Scrapy"], results[name], strict=True)]
            print(f"per-run ratios: {', '.join(f'{r:.2f}' for r in paired)}  (median {statistics.median(paired):.2f}x)")
    searched = {name: runs for name, runs in results.items() if name != "plain Scrapy" and runs[0].analysed}
    if searched:  # a pack that looks for faces on every image: set its pace against the detector's own
        from benchmarks.faces_limit import detector_limit, faces_line, pool_cost, pool_line

        limit = detector_limit(site)
        print(f"\ndetector limit measured on {limit.images} of the site's images (single process, then x cores)")
        print(pool_line(pool_cost(site), limit))
        for name, runs in searched.items():
            rates = [r.faces_rate for r in runs]
            print(f"{name}: {faces_line(statistics.median(rates), limit)}"
                  + (f"; per run {', '.join(f'{r:.1f}' for r in rates)}/s" if len(runs) > 1 else ""))
    return memory_benchmark.report_sizes(args)


if __name__ == "__main__":
    sys.exit(main())
