"""The demo: the test-site catalog crawled lawfully and as Clearview did, a person's rights played in both, a report.

One command from a fresh set-up (`faircrawl demo [--out DIR]`): the catalog is
served once on 127.0.0.1; the same crawl runs under ``lawful`` and under
``unlawful-demo`` into two separate stores under DIR (``lawful/`` and
``unlawful/``: database, images, key, suppression list, receipts); a catalog
person (Obama) then asks each store what it holds about him and to delete it
and never collect him again, with a photo no site carries; both stores are
crawled again; and ``report.html`` / ``report.json`` say what each took, what
that breaches, and how each answered him. Each crawl and each request runs in
its own process (Twisted's reactor cannot be restarted in one), exactly as a
user would run it. Running the demo again replaces the previous one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from policy.errors import DemoError

__all__ = ["DemoError", "PACKS", "run_demo", "store_env"]

PACKS = {"lawful": "lawful", "unlawful": "unlawful-demo"}
PERSON_PROBE = "obama2.jpg"  # a photo of the person that no catalog site carries

Say = Callable[[str], None]


def store_env(store: Path, pack: str) -> dict[str, str]:
    """Every place one store writes, inside its own folder (so the two packs' data never mix)."""
    return {"FAIRCRAWL_DB": f"sqlite:///{store}/faircrawl.db", "FAIRCRAWL_STORE": str(store / "images"),
            "FAIRCRAWL_SUPPRESSION_DB": f"sqlite:///{store}/suppression.db",
            "FAIRCRAWL_KEY_FILE": str(store / "faircrawl.key"), "FAIRCRAWL_VAR_DIR": str(store),
            "FAIRCRAWL_SPILL_DIR": str(store), "FAIRCRAWL_SIGNING_KEY_FILE": str(store / "rights-signing.key"),
            "FAIRCRAWL_RIGHTS_ARCHIVE_DIR": str(store / "rights"), "FAIRCRAWL_POLICY": pack}


def _faircrawl(args: list[str], env: dict[str, str], capture: bool = True) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "crawler.cli", *args]
    full_env = {**os.environ, **env}
    if capture:
        return subprocess.run(command, env=full_env, capture_output=True, text=True)
    return subprocess.run(command, env=full_env, stdout=subprocess.PIPE, text=True)


def _crawl(store: Path, pack: str, server: str, total: int, start_urls: list[str]) -> str:
    """One crawl of the catalog (or of ``start_urls`` in it) into ``store``; its progress bar goes to this
    terminal. Returns the run id."""
    report = store / f"crawl-{int(time.time() * 1000)}.json"
    interval = "0.5" if sys.stderr.isatty() else "5"  # a bar redrawn in place; in a log, a line every 5 s
    env = {**store_env(store, pack), "FAIRCRAWL_PROGRESS_TOTAL": str(total), "FAIRCRAWL_PROGRESS_INTERVAL": interval}
    finished = _faircrawl(["crawl", "--testsites", "--testsites-server", server, "--policy", pack,
                           "--report", str(report), *start_urls], env, capture=False)
    if finished.returncode not in (0, 1) or not report.exists():
        raise DemoError(f"the {pack} crawl did not finish (exit {finished.returncode}):\n{finished.stdout[-2000:]}")
    run_id = str(json.loads(report.read_text(encoding="utf-8"))["run"]["id"])
    report.unlink()  # the report is built from the database; a copy here would only be one more store to purge
    return run_id


def _request(store: Path, pack: str, args: list[str]) -> tuple[dict[str, Any], float]:
    """A rights command in the store, timed; returns its JSON answer and the seconds it took."""
    started = time.monotonic()
    done = _faircrawl(["rights", *args, "--json"], store_env(store, pack))
    seconds = round(time.monotonic() - started, 1)
    if done.returncode not in (0, 1) or not done.stdout.strip().startswith("{"):
        raise DemoError(f"`faircrawl rights {' '.join(args)}` failed in the {pack} store:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout), seconds


def _rights_scenario(store: Path, pack: str, probe: Path, say: Say) -> dict[str, Any]:
    """The person asks what is held about him, and to be deleted and never collected again."""
    photo = ["--photo", str(probe), "--jurisdiction", "FR"]
    access, access_seconds = _request(store, pack, ["access", *photo])
    search = access.get("search") or {}
    say(f"  access: {access['status']}, {len(access['images'])} image(s) of him")
    deletion, _ = _request(store, pack, ["delete", *photo, "--optout"])
    removed = sum(s["removed"] for s in deletion.get("stores", []) if s["store"] == "images")
    say(f"  deletion: {deletion['status']}" + (f", {removed} image record(s) removed" if removed else ""))
    receipt, _ = _request(store, pack, ["receipt", deletion["id"]])
    return {"access": access, "deletion": deletion, "receipt_verified": bool(receipt.get("verified")),
            "search_seconds": access_seconds, "search_phases": search.get("seconds", {}),
            "searched": search.get("searched", {}),
            "breaches": sorted({*access.get("breaches", []), *deletion.get("breaches", [])})}


def _after_recrawl(store: Path, pack: str, probe: Path, recrawl: str, scenario: dict[str, Any], say: Say) -> None:
    """After the second crawl (run ``recrawl``): was he collected again? And how often will this store answer him?"""
    photo = ["--photo", str(probe), "--jurisdiction", "FR"]
    again, _ = _request(store, pack, ["access", *photo])
    collected = {image["sha256"] for image in again["images"] if image["run_id"] == recrawl}
    scenario["recollected_images"] = len(collected)
    scenario["recollected"] = f"yes: {len(collected)} image(s) of him collected again" if collected else "no"
    scenario["after_recrawl"] = again
    say(f"  after the second crawl: collected again? {scenario['recollected']}")
    if again["status"] == "completed":
        third, _ = _request(store, pack, ["access", *photo])
        scenario["third_access"] = {"status": third["status"], "refused": third.get("refused")}
        scenario["breaches"] = sorted({*scenario["breaches"], *again.get("breaches", []), *third.get("breaches", [])})
        if third["status"] != "completed":
            say(f"  a third access request this year: {third['status']} ({third.get('refused')})")


def chosen_sites(hosts: list[str]) -> list[str]:
    """Start URLs of the catalog sites named (all of them when none is); an unknown name is a user error."""
    from crawler.testsites import build_catalog

    catalog = build_catalog()
    unknown = [host for host in hosts if catalog.site(host) is None]
    if unknown:
        raise DemoError(f"not a test site: {', '.join(unknown)}; `faircrawl testsites list` names them")
    return [catalog.sites[host.lower()].start_url for host in hosts]


def run_demo(out: Path, say: Say = print, hosts: list[str] | None = None) -> dict[str, Any]:
    """Play the whole demo into ``out`` (over the sites ``hosts`` only, when given: a quicker look); returns the
    comparison written to report.json."""
    from crawler.comparison import compare, load_run
    from crawler.report_html import render
    from crawler.testsites import build_catalog
    from crawler.testsites.photos import face_photo
    from crawler.testsites.server import serve_in_thread
    from storage import Database

    start_urls = chosen_sites(hosts or [])  # an unknown site is refused before the previous demo is replaced
    stores = {side: out / side for side in PACKS}
    for store in stores.values():
        if store.exists():
            shutil.rmtree(store)  # a second demo replaces the first
        store.mkdir(parents=True)
    catalog = build_catalog()
    sites = [catalog.sites[h.lower()] for h in hosts] if hosts else list(catalog.sites.values())
    totals = {pack: sum(1 for site in sites for e in site.expected if e.for_pack(pack)) for pack in PACKS.values()}
    probe = out / "person.jpg"
    probe.write_bytes(face_photo(PERSON_PROBE))
    server, stop = serve_in_thread(build_catalog())
    try:
        runs, scenarios = {}, {}
        for number, (side, pack) in enumerate(PACKS.items(), start=1):
            say(f"faircrawl demo {number}/4: the test-site catalog under the {pack} pack")
            runs[side] = _crawl(stores[side], pack, server, totals[pack], start_urls)
        say("faircrawl demo 3/4: a person asks each store what it holds about him, and to delete him for good")
        for side, pack in PACKS.items():
            say(f" the {pack} store:")
            scenarios[side] = _rights_scenario(stores[side], pack, probe, say)
        say("faircrawl demo 4/4: both stores crawled again")
        for side, pack in PACKS.items():
            recrawl = _crawl(stores[side], pack, server, totals[pack], start_urls)
            _after_recrawl(stores[side], pack, probe, recrawl, scenarios[side], say)
            scenarios[side]["recrawl_run"] = recrawl
    finally:
        stop()
        probe.unlink(missing_ok=True)  # the probe photo is never kept, whatever happened
    for side in PACKS:
        scenarios[side]["search_how"] = ("persisted templates searched in memory and stored faces re-encoded"
                                         if side == "unlawful" else "stored faces re-encoded from their boxes: "
                                         "no biometric index is kept")
    databases = {side: Database(f"sqlite:///{stores[side]}/faircrawl.db") for side in PACKS}
    try:
        comparison = compare(load_run(databases["lawful"], runs["lawful"]),
                             load_run(databases["unlawful"], runs["unlawful"]), _shown_rights(scenarios))
    finally:
        for database in databases.values():
            database.dispose()
    (out / "report.json").write_text(json.dumps(comparison, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out / "report.html").write_text(render(comparison), encoding="utf-8")
    return comparison


def _shown_rights(scenarios: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The rights scenario as the report shows it: counts and outcomes, never what identifies the person's
    photos (no URL, no content hash: the report is shared, his access answer is not)."""
    shown = {}
    for side, scenario in scenarios.items():
        access, deletion = scenario["access"], scenario["deletion"]
        verification = deletion.get("verification") or {}
        shown[side] = {
            "access": {"id": access["id"], "status": access["status"], "images": len(access["images"]),
                       "decisions": len(access["decisions"]), "limited": access.get("limited"),
                       "refused": access.get("refused"),
                       "statement_items": sorted((access.get("statement") or {}).keys())},
            "deletion": {"id": deletion["id"], "status": deletion["status"], "refused": deletion.get("refused"),
                         "stores": [{"store": s["store"], "status": s["status"], "removed": s["removed"]}
                                    for s in deletion.get("stores", [])],
                         "verification": {"passed": verification.get("passed"),
                                          "searched": verification.get("searched")} if verification else None},
            "receipt_verified": scenario["receipt_verified"], "recollected": scenario.get("recollected"),
            "recollected_images": scenario.get("recollected_images"), "recrawl_run": scenario.get("recrawl_run"),
            "third_access": scenario.get("third_access"), "search_seconds": scenario["search_seconds"],
            "search_phases": scenario["search_phases"], "searched": scenario["searched"],
            "search_how": scenario["search_how"], "breaches": scenario["breaches"],
        }
    return shown
