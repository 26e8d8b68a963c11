"""Peak memory against crawl size: the same faircrawl crawl of generated sites of two (or more) sizes.

    .venv/bin/python -m benchmarks.crawl_benchmark --sizes 3000,30000            # the default: ~6k and ~60k responses
    .venv/bin/python -m benchmarks.crawl_benchmark --sizes 3000,30000 --only-sizes [--memory-plain]
    .venv/bin/python -m benchmarks.crawl_benchmark --sizes 10000 --size-images-per-page 10 --only-sizes  # 100k images

Each size is a site of that many pages with ``--size-images-per-page`` images
each (1 by default: pages + images + robots.txt and the site files, so 3,000
pages make ~6,000 responses), crawled once by ``faircrawl crawl`` under
``--memory-policy`` (and by plain Scrapy with ``--memory-plain``). Printed per
size: responses, peak RSS of the largest process, peak RSS of the process tree
(the crawler and its face workers), and RSS per 1,000 responses; then the
growth from the smallest to the largest size. The target is flat memory: the
largest crawl's peak RSS within 10% of the smallest's (a crawl that kept
something per response grows with the crawl: 308 MiB at 6,000 responses and
588 MiB at 18,000 before issue 12).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

FLAT_TARGET = 0.10  # the largest crawl's peak RSS at most this much above the smallest's
DEFAULT_SIZES = "3000,30000"


@dataclass(frozen=True)
class SizeResult:
    tool: str
    pages: int
    images: int
    responses: int
    peak_rss_mib: float  # the largest single process (ru_maxrss)
    tree_rss_mib: float  # the crawler and its worker processes together (sampled)
    wall: float
    other_load: float

    @property
    def per_thousand(self) -> float:
        """Peak tree RSS per 1,000 responses: falls as the crawl grows when memory is flat."""
        return self.tree_rss_mib * 1000 / self.responses if self.responses else 0.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sizes", default=DEFAULT_SIZES,
                        help="memory runs: site sizes in pages, comma-separated (default 3000,30000: ~6k and ~60k "
                             "responses); 'none' skips them")
    parser.add_argument("--size-images-per-page", type=int, default=1, help="images per page of the memory runs")
    parser.add_argument("--memory-policy", default="benchmarks/robots-only",
                        help="rule pack of the memory runs (lawful adds the face workers to the tree RSS)")
    parser.add_argument("--memory-plain", action="store_true", help="also run plain Scrapy at each size")
    parser.add_argument("--only-sizes", action="store_true", help="run only the memory runs, not the speed runs")


def sizes_of(args: argparse.Namespace) -> list[int]:
    text = str(args.sizes).strip().lower()
    return [] if text in {"", "none", "0"} else sorted({int(part) for part in text.split(",") if part.strip()})


def run_sizes(args: argparse.Namespace) -> list[SizeResult]:
    """One crawl per size (and tool), each against its own site served from a separate process."""
    from benchmarks.crawl_benchmark import crawl_faircrawl, crawl_plain, start_server, stop_server
    from benchmarks.site import ensure_site

    results = []
    for pages in sizes_of(args):
        site = ensure_site(pages, args.size_images_per_page, args.seed)
        expected = {"pages": pages, "images": pages * args.size_images_per_page}
        server_dir = Path(tempfile.mkdtemp(prefix="faircrawl-mem-server-"))
        server, port = start_server(site, server_dir / "server.log")
        start_url = f"http://127.0.0.1:{port}/p/0.html"
        try:
            tools = [("plain Scrapy", crawl_plain)] if args.memory_plain else []
            tools.append((f"faircrawl/{Path(args.memory_policy).name}", None))
            for tool, plain in tools:
                work = Path(tempfile.mkdtemp(prefix=f"faircrawl-mem-{pages}-"))
                try:
                    if plain is not None:
                        r = plain(start_url, work, args.concurrency, server.pid, expected)
                    else:
                        r = crawl_faircrawl(start_url, work, args.concurrency, server.pid, expected,
                                            policy=args.memory_policy)
                finally:
                    if not args.keep:
                        shutil.rmtree(work, ignore_errors=True)
                result = SizeResult(tool, pages, expected["images"], r.responses, r.peak_rss_mib, r.tree_rss_mib,
                                    r.wall, r.other_load)
                results.append(result)
                print(f"  size {pages} pages {tool:<26} {r.responses} responses: peak RSS {r.peak_rss_mib:.0f} MiB, "
                      f"tree {r.tree_rss_mib:.0f} MiB (wall {r.wall:.0f}s, other load {r.other_load:.0f} CPU s)"
                      + (f"  [kept {work}]" if args.keep else ""), flush=True)
        finally:
            stop_server(server)
            shutil.rmtree(server_dir, ignore_errors=True)
    return results


def format_sizes(rows: list[SizeResult]) -> str:
    header = (f"{'tool':<26} {'pages':>7} {'images':>7} {'responses':>9} {'peak RSS MiB':>12} {'tree RSS MiB':>12} "
              f"{'MiB per 1k responses':>20}")
    lines = [header, "-" * len(header)]
    for r in rows:
        lines.append(f"{r.tool:<26} {r.pages:>7} {r.images:>7} {r.responses:>9} {r.peak_rss_mib:>12.1f} "
                     f"{r.tree_rss_mib:>12.1f} {r.per_thousand:>20.2f}")
    return "\n".join(lines)


def growth_lines(rows: list[SizeResult]) -> list[str]:
    """Per tool: how much the peak grew from the smallest to the largest crawl, against the flat target."""
    lines = []
    for tool in dict.fromkeys(r.tool for r in rows):
        runs = sorted((r for r in rows if r.tool == tool), key=lambda r: r.responses)
        small, large = runs[0], runs[-1]
        if len(runs) < 2 or not small.peak_rss_mib or large.responses == small.responses:
            continue
        growth = large.peak_rss_mib / small.peak_rss_mib - 1
        tree_growth = large.tree_rss_mib / small.tree_rss_mib - 1 if small.tree_rss_mib else 0.0
        per_response_kib = (large.peak_rss_mib - small.peak_rss_mib) * 1024 / (large.responses - small.responses)
        verdict = "meets" if growth <= FLAT_TARGET else "MISSES"
        lines.append(f"{tool}: {small.responses} -> {large.responses} responses: peak RSS {growth:+.1%}, tree RSS "
                     f"{tree_growth:+.1%} ({per_response_kib * 1000:+.0f} KiB per 1,000 more responses; "
                     f"{verdict} the flat target, within {FLAT_TARGET:.0%})")
    return lines


def report_sizes(args: argparse.Namespace) -> int:
    """Run the memory sizes and print their table; 1 when a crawl failed (as the speed runs)."""
    from benchmarks.crawl_benchmark import BenchmarkError

    if not sizes_of(args):
        return 0
    print(f"\nmemory: sizes {args.sizes} pages x {args.size_images_per_page} image(s), "
          f"policy {args.memory_policy}, concurrency {args.concurrency}")
    try:
        rows = run_sizes(args)
    except BenchmarkError as error:
        print(f"\nERROR: {error}", file=sys.stderr)
        return 1
    print("\npeak RSS = largest process (ru_maxrss); tree RSS = crawler + its worker processes (sampled every 0.25 s)")
    print(format_sizes(rows))
    for line in growth_lines(rows):
        print(line)
    return 0
