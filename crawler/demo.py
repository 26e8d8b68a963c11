"""The demo: the whole test-site catalog crawled lawfully, then as Clearview did, side by side.

Each crawl runs in its own process (Twisted's reactor cannot be restarted in
one process), writes its JSON report, and the comparison says what the
unlawful crawler took that the lawful one refused, and which provisions each
taking breaches.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from policy.errors import DemoError

__all__ = ["DemoError", "compare", "format_comparison", "run_demo"]


def run_pack(pack: str, db: str, store: str, report_path: Path) -> dict[str, Any]:
    command = [sys.executable, "-m", "crawler.cli", "crawl", "--testsites", "--policy", pack, "--db", db,
               "--store", store, "--report", str(report_path)]
    finished = subprocess.run(command, env=os.environ.copy(), stdout=subprocess.PIPE, text=True)
    if finished.returncode not in (0, 1) or not report_path.exists():
        raise DemoError(f"the {pack} crawl did not finish (exit {finished.returncode}):\n{finished.stdout[-2000:]}")
    report: dict[str, Any] = json.loads(report_path.read_text(encoding="utf-8"))
    return report


def compare(lawful: dict[str, Any], unlawful: dict[str, Any]) -> dict[str, Any]:
    """Per site and overall: what each pack kept, and what only the unlawful one took, with breaches."""
    lawful_by_url = {(d["url"], d["kind"]): d for d in lawful["decisions"]}
    sites: dict[str, dict[str, Any]] = defaultdict(lambda: Counter())
    taken_only_unlawfully = []
    for decision in unlawful["decisions"]:
        host = urlsplit(decision["url"]).netloc
        counter = sites[host]
        if decision["kind"] == "image":
            counter["unlawful_stored"] += decision["outcome"] == "stored"
            counter["unlawful_faces"] += decision["outcome"] == "stored" and bool(decision["signals"].get("image.faces"))
        lawful_decision = lawful_by_url.get((decision["url"], decision["kind"]))
        if decision["outcome"] in ("stored", "crawled") and (
                lawful_decision is None or lawful_decision["outcome"] not in ("stored", "crawled")):
            taken_only_unlawfully.append({
                "url": decision["url"], "kind": decision["kind"],
                "lawful": lawful_decision["outcome"] if lawful_decision else "not requested",
                "lawful_because": (lawful_decision or {}).get("policy_summary") or "",
                "breaches": decision.get("breaches") or [],
            })
    for decision in lawful["decisions"]:
        if decision["kind"] == "image":
            counter = sites[urlsplit(decision["url"]).netloc]
            counter["lawful_stored"] += decision["outcome"] == "stored"
            counter["lawful_refused"] += decision["outcome"] == "refused"
            counter["lawful_faces"] += decision["outcome"] == "stored" and bool(decision["signals"].get("image.faces"))
    breaches = Counter(b for item in taken_only_unlawfully for b in item["breaches"])
    return {
        "sites": {host: dict(counts) for host, counts in sorted(sites.items())},
        "taken_only_unlawfully": taken_only_unlawfully,
        "breaches": dict(breaches.most_common()),
        "totals": {
            "lawful_images_stored": lawful["summary"].get("image/stored", 0),
            "unlawful_images_stored": unlawful["summary"].get("image/stored", 0),
            "lawful_faces_stored": sum(c.get("lawful_faces", 0) for c in sites.values()),
            "unlawful_faces_stored": sum(c.get("unlawful_faces", 0) for c in sites.values()),
        },
    }


def format_comparison(comparison: dict[str, Any]) -> str:
    totals = comparison["totals"]
    lines = [
        "side by side: lawful pack vs unlawful-demo pack (Clearview-style), same test sites",
        f"  images kept:        lawful {totals['lawful_images_stored']:>4}   unlawful {totals['unlawful_images_stored']:>4}",
        f"  images with faces:  lawful {totals['lawful_faces_stored']:>4}   unlawful {totals['unlawful_faces_stored']:>4}",
        "",
        f"  {'site':<28} {'lawful kept':>11} {'refused':>8} {'faces':>6}   {'unlawful kept':>13} {'faces':>6}",
    ]
    for host, counts in comparison["sites"].items():
        lines.append(f"  {host:<28} {counts.get('lawful_stored', 0):>11} {counts.get('lawful_refused', 0):>8} "
                     f"{counts.get('lawful_faces', 0):>6}   {counts.get('unlawful_stored', 0):>13} "
                     f"{counts.get('unlawful_faces', 0):>6}")
    lines += ["", f"  what only the unlawful crawler took ({len(comparison['taken_only_unlawfully'])} pages and images), "
                  "by provision breached:"]
    for provision, count in comparison["breaches"].items():
        lines.append(f"    {count:>4}  {provision}")
    return "\n".join(lines)


def run_demo(db: str, store: str, report_path: Path) -> dict[str, Any]:
    work = report_path.parent
    work.mkdir(parents=True, exist_ok=True)
    print("faircrawl demo 1/2: the test-site catalog under the lawful pack", flush=True)
    lawful = run_pack("lawful", db, store, work / "demo-lawful.json")
    print("\nfaircrawl demo 2/2: the same sites under the unlawful-demo pack (what Clearview did)", flush=True)
    unlawful_store = str(Path(store).parent / "unlawful-demo-images")
    unlawful = run_pack("unlawful-demo", db, unlawful_store, work / "demo-unlawful.json")
    comparison = compare(lawful, unlawful)
    report_path.write_text(json.dumps({"lawful": lawful, "unlawful-demo": unlawful, "comparison": comparison},
                                      indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return {"lawful": lawful, "unlawful": unlawful, "comparison": comparison}
