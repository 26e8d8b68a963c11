"""The `faircrawl` command: one entry point, a subcommand per job.

Every command reads the configuration of ``crawler.settings`` (flags, then
FAIRCRAWL_* variables, then defaults). A mistake the user can fix is a
:class:`~policy.errors.FaircrawlError` anywhere below; the one handler here
prints it as ``error: ...`` and exits with status 2, never a traceback.
"""

from __future__ import annotations

import json
import logging
import sys
import uuid
from pathlib import Path
from typing import Any

import click
from scrapy.settings import Settings

from crawler import settings as default_settings
from crawler.settings import check_settings, setting
from policy.errors import FaircrawlError, PolicyError, StorageError, UsageError

EXIT_USAGE = 2


class _ErrorExit(click.ClickException):
    """Printed as 'error: ...' with exit status 2."""

    exit_code = EXIT_USAGE

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.message}", err=True)


class FaircrawlGroup(click.Group):
    """The one place a FaircrawlError becomes an `error:` line and exit status 2, for every subcommand."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except FaircrawlError as error:
            raise _ErrorExit(str(error)) from None


def crawl_settings(**overrides: Any) -> Settings:
    """Scrapy settings from ``crawler.settings`` (defaults and FAIRCRAWL_* variables) plus flags that were given."""
    settings = Settings()
    settings.setmodule(default_settings, priority="project")
    settings.update({name: value for name, value in overrides.items() if value is not None}, priority="cmdline")
    return settings


def _notify(message: str) -> None:
    click.echo(message, err=True)


def _open_database(db: str | None) -> Any:
    """The configured database (--db or FAIRCRAWL_DB), after marking runs of dead crawls and removing their partial
    files in the configured image store."""
    from crawler.startup import open_database

    settings = crawl_settings(FAIRCRAWL_DB=db)
    return open_database(setting(settings, "FAIRCRAWL_DB"), Path(setting(settings, "FAIRCRAWL_STORE")), _notify)


def _check_start_urls(urls: tuple[str, ...] | list[str], what: str = "start URL") -> list[str]:
    from crawler.spiders.site import parsed_http_url

    for url in urls:
        problem = parsed_http_url(url)
        if problem is not None:
            raise UsageError(f"{what} {url!r}: {problem}; e.g. http://example.com/")
    return list(urls)


@click.group(cls=FaircrawlGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="faircrawl")
def main() -> None:
    """faircrawl: a consent-aware image crawler with biometric opt-out enforcement."""
    _lean_worker_start()
    problems = default_settings.FAIRCRAWL_ENVIRONMENT_PROBLEMS
    if problems:
        raise _ErrorExit(problems[0])


def _lean_worker_start() -> None:
    """Worker processes (image work, faces) are spawned; by default each would first run this console script again,
    importing the CLI with Scrapy and everything it reaches (about 40 MiB per worker) before the few modules it
    needs. The script has nothing a worker needs, so the script's ``__main__`` stops naming its file."""
    launcher = sys.modules.get("__main__")
    if launcher is not None and getattr(launcher, "__spec__", None) is None and \
            Path(getattr(launcher, "__file__", "") or "").name == "faircrawl":
        del launcher.__file__


# -- crawl ----------------------------------------------------------------------


def _registry_options(function: Any) -> Any:
    """--sites, --terms (repeatable) and --operator-jurisdiction, shared by crawl and policy explain."""
    for option in reversed((
        click.option("--sites", "site_registries", metavar="FILE", multiple=True, type=click.Path(dir_okay=False),
                     help="A site registry of your own (repeatable; FAIRCRAWL_SITES). Default: the shipped one."),
        click.option("--terms", "terms_registries", metavar="FILE", multiple=True, type=click.Path(dir_okay=False),
                     help="A terms registry of your own (repeatable; FAIRCRAWL_TERMS). Default: the shipped one."),
        click.option("--operator-jurisdiction", "operator", metavar="CODE", default=None,
                     help="Where the operator is established (FAIRCRAWL_OPERATOR_JURISDICTION). Default: UNKNOWN, "
                          "the strictest (test-site mode: the catalog's, US-CA)."),
    )):
        function = option(function)
    return function


def _registry_settings(sites: tuple[str, ...], terms: tuple[str, ...], operator: str | None) -> dict[str, Any]:
    return {"FAIRCRAWL_SITES": list(sites) or None, "FAIRCRAWL_TERMS": list(terms) or None,
            "FAIRCRAWL_OPERATOR_JURISDICTION": operator}


@main.command()
@click.argument("urls", nargs=-1)
@click.option("--testsites", is_flag=True, help="Crawl the test-site catalog (its hostnames are routed to 127.0.0.1).")
@click.option("--testsites-server", metavar="URL", default=None,
              help="Use a running `faircrawl testsites serve` instead of serving the catalog in-process.")
@click.option("--db", metavar="URL", default=None, help="Database URL (FAIRCRAWL_DB). Default: sqlite:///var/faircrawl.db")
@click.option("--store", metavar="DIR", default=None, help="Folder for image files (FAIRCRAWL_STORE). Default: var/images")
@click.option("--report", "report_path", metavar="FILE", type=click.Path(), default=None,
              help="Write the run's decisions as JSON to FILE.")
@click.option("--allow-private-hosts", is_flag=True, default=None,
              help="Allow loopback, private and link-local hosts (refused by default).")
@click.option("--product-token", default=None, help="Token matched against robots.txt groups. Default: faircrawl")
@click.option("--policy", "policy_name", metavar="PACK", default=None,
              help="Rule pack: lawful (default), unlawful-demo, or a pack folder or rule file (FAIRCRAWL_POLICY).")
@click.option("--rules", "rule_files", metavar="FILE", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Add a rule file to the pack (repeatable).")
@_registry_options
@click.option("--concurrency", type=click.IntRange(1, 512), default=None, help="Concurrent requests (default 32).")
@click.option("--max-pages", type=click.IntRange(0), default=None, help="Page requests for the run; 0: no limit.")
@click.option("--max-images", type=click.IntRange(0), default=None, help="Image requests for the run; 0: no limit.")
@click.option("--max-pages-per-site", type=click.IntRange(0), default=None, help="Page requests per host; 0: no limit.")
@click.option("--max-images-per-site", type=click.IntRange(0), default=None, help="Image requests per host; 0: no limit.")
@click.option("--no-sign", "no_sign", is_flag=True, default=False,
              help="Do not sign requests (Web Bot Auth, FAIRCRAWL_SIGN); sites that admit only verified crawlers refuse them.")
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
@click.option("--frontier", metavar="REDIS_URL", default=None,
              help="Share the run through this Redis (FAIRCRAWL_FRONTIER): many workers, one PostgreSQL --db.")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="With --frontier: worker processes to start on this machine (default 1).")
@click.option("--join", "join_run", metavar="RUN_ID", default=None,
              help="With --frontier: add this process as a worker of a run already started.")
def crawl(urls: tuple[str, ...], testsites: bool, testsites_server: str | None, db: str | None,
          store: str | None, report_path: str | None, allow_private_hosts: bool | None,
          product_token: str | None, policy_name: str | None, rule_files: tuple[str, ...],
          site_registries: tuple[str, ...], terms_registries: tuple[str, ...], operator: str | None,
          concurrency: int | None, max_pages: int | None, max_images: int | None, max_pages_per_site: int | None,
          max_images_per_site: int | None, no_sign: bool, verbose: int, frontier: str | None, workers: int | None,
          join_run: str | None) -> None:
    """Crawl URLS (or, with --testsites, the whole test-site catalog) and store allowed images."""
    if frontier is None and (workers is not None or join_run is not None):
        raise UsageError("--workers and --join need --frontier redis://host:6379/0 (the run's shared frontier)")
    shared = {"frontier": frontier, "join": join_run, "workers": workers or 1,
              "params": click.get_current_context().params} if frontier is not None else None
    outcome = run_crawl(urls, testsites=testsites, testsites_server=testsites_server, db=db, store=store, shared=shared,
                        report_path=report_path, allow_private_hosts=allow_private_hosts,
                        product_token=product_token, policy_name=policy_name, rule_files=rule_files,
                        concurrency=concurrency, verbose=verbose, sign=False if no_sign else None,
                        registries=_registry_settings(site_registries, terms_registries, operator),
                        budgets={"FAIRCRAWL_MAX_PAGES": max_pages, "FAIRCRAWL_MAX_IMAGES": max_images,
                                 "FAIRCRAWL_MAX_PAGES_PER_SITE": max_pages_per_site,
                                 "FAIRCRAWL_MAX_IMAGES_PER_SITE": max_images_per_site})
    click.echo(outcome["summary_text"])
    if outcome["report_error"]:
        raise StorageError(outcome["report_error"])
    if outcome["report_path"]:
        click.echo(f"report written to {outcome['report_path']}")
    if outcome["status"] == "failed":
        click.echo(f"error: the crawl failed: {outcome['finish_reason']}", err=True)
    if outcome["status"] != "finished":
        sys.exit(1)


def run_crawl(urls: tuple[str, ...] | list[str], *, testsites: bool = False, testsites_server: str | None = None,
              db: str | None = None, store: str | None = None, report_path: str | None = None,
              allow_private_hosts: bool | None = None, product_token: str | None = None,
              policy_name: str | None = None, rule_files: tuple[str, ...] = (),
              concurrency: int | None = None, verbose: int = 0,
              budgets: dict[str, int | None] | None = None, sign: bool | None = None,
              registries: dict[str, Any] | None = None, shared: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run one crawl in this process and return its summary (the CLI's and the demo's core).

    With ``shared`` (--frontier): start its workers, or with ``join`` be one (crawler.frontier.launch)."""
    from crawler.startup import check_report_path, load_crawl_policy, preflight
    from storage.connecting import translated
    from storage.retention import expire_templates
    from storage.runs import create_run, finish_run

    start_urls = _check_start_urls(urls)
    if testsites:
        from crawler.testsites import build_catalog, photos_present

        if not photos_present():
            raise UsageError("the test sites need the packaged face photos; run `faircrawl testsites fetch-photos` "
                             "(./dev.sh does it during set-up)")
        start_urls = start_urls or build_catalog().start_urls
    if not start_urls and not (shared and shared["join"]):  # a worker joining a run may take its start URLs
        raise UsageError("nothing to crawl: give start URLs, or --testsites for the test-site catalog")
    settings = crawl_settings(
        FAIRCRAWL_DB=db, FAIRCRAWL_STORE=store, FAIRCRAWL_PRODUCT_TOKEN=product_token, FAIRCRAWL_POLICY=policy_name,
        FAIRCRAWL_RULES=list(rule_files) or None, FAIRCRAWL_TESTSITES=testsites,
        FAIRCRAWL_TESTSITES_SERVER=testsites_server, FAIRCRAWL_ALLOW_PRIVATE_HOSTS=allow_private_hosts,
        FAIRCRAWL_SIGN=sign, FAIRCRAWL_FRONTIER=(shared or {}).get("frontier"),
        LOG_LEVEL=["WARNING", "INFO", "DEBUG"][min(verbose, 2)], **(budgets or {}),
        **(registries or {}),
        **({"CONCURRENT_REQUESTS": concurrency, "CONCURRENT_REQUESTS_PER_DOMAIN": max(1, concurrency // 2)}
           if concurrency is not None else {}))
    check_settings(settings)
    if report_path:
        check_report_path(Path(report_path))
    try:
        loaded = load_crawl_policy(settings)
    except PolicyError as error:
        raise PolicyError(f"{error}\nnothing was crawled; `faircrawl policy lint` shows every problem") from None
    if loaded.pack.requires_testsites:
        _check_testsites_only(loaded.pack.name, testsites, start_urls)
    if shared is not None:
        from crawler.frontier.launch import check_shared_database

        check_shared_database(setting(settings, "FAIRCRAWL_DB"))
        from crawler.frontier.keys import connect

        connect(shared["frontier"]).close()  # an unreachable Redis: one error line before anything else
    database = preflight(settings, notify=_notify).database
    assert database is not None
    if shared is not None:
        return _shared_crawl(shared, settings, database, loaded, start_urls, testsites, report_path)
    run_id = uuid.uuid4().hex
    expired = expire_templates(database)
    if expired:
        click.echo(f"{expired} face template(s) past retention deleted before the crawl", err=True)
    token = setting(settings, "FAIRCRAWL_PRODUCT_TOKEN")
    create_run(database, run_id, loaded.pack.name, loaded.revision, token, testsites, start_urls,
               loaded.pack.description)
    settings.update({"FAIRCRAWL_RUN_ID": run_id, "FAIRCRAWL_RUN_CREATED": True}, priority="cmdline")
    status, finish_reason, _ = _run_scrapy(start_urls, settings)
    with translated(database.target):  # a database gone or full after the crawl: one clear error, rows spilled
        finish_run(database, run_id, status, finish_reason, None, only_if_running=True)  # stopped before it opened
        head, summary_text, report_error = _report_and_summary(database, run_id, report_path)
    status, finish_reason = head["run"]["status"], head["run"]["finish_reason"]  # as the run recorded it
    database.dispose()
    return {"run_id": run_id, "status": status, "finish_reason": finish_reason, "report_error": report_error,
            "summary_text": summary_text, "report_path": report_path}


def _report_and_summary(database: Any, run_id: str, report_path: str | None) -> tuple[dict[str, Any], str, str | None]:
    """The run's head, its summary text, and why the report file could not be written (None if it was).

    The JSON report is streamed from the database, and the summary counted on the way, so neither holds the
    run's decisions in memory whatever its size."""
    from crawler.report import SummaryTally, format_summary, report_head, write_report

    head = report_head(database, run_id)
    tally: SummaryTally | None = None
    report_error = None
    if report_path:
        tally = SummaryTally()
        try:
            with Path(report_path).open("w", encoding="utf-8") as out:
                write_report(database, run_id, out, tally)
        except OSError as error:
            tally = None  # counted only part of the way: the summary reads the database again
            report_error = (f"cannot write the report to {report_path} ({error.strerror or error}); nothing is "
                            f"lost: `faircrawl report {run_id} --json` prints it from the database")
    return head, format_summary(database, run_id, head=head, tally=tally), report_error


def _shared_crawl(shared: dict[str, Any], settings: Settings, database: Any, loaded: Any, start_urls: list[str],
                  testsites: bool, report_path: str | None) -> dict[str, Any]:
    """--frontier: be a worker of the run (--join), or create the run and start --workers processes."""
    from crawler.frontier import launch
    from storage.runs import RunStatus, create_run, finish_run, merge_run_stats, run_exists, run_start_urls

    frontier, join = shared["frontier"], shared["join"]
    run_id = join or uuid.uuid4().hex
    server, keys = launch.open_frontier(frontier, setting(settings, "FAIRCRAWL_FRONTIER_PREFIX"), run_id)
    settings.update({"FAIRCRAWL_RUN_ID": run_id, "FAIRCRAWL_RUN_CREATED": True}, priority="cmdline")
    if join:
        if not run_exists(database, run_id):
            raise UsageError(f"--join {run_id}: no such run in {setting(settings, 'FAIRCRAWL_DB')}; `faircrawl report "
                             "--list --db ...` lists the runs")
        status, finish_reason, crawler = _run_scrapy(start_urls or run_start_urls(database, run_id), settings)
        recorder = getattr(crawler, "_faircrawl_recorder", None)
        counts = recorder.final_stats if recorder is not None else {}
        database.dispose()
        summary = f"worker of run {run_id}: {finish_reason}; " + ", ".join(
            f"{k} {v}" for k, v in sorted(counts.items()) if "/" in k)
        return {"run_id": run_id, "status": status, "finish_reason": finish_reason, "report_error": None,
                "summary_text": summary, "report_path": None}
    token = setting(settings, "FAIRCRAWL_PRODUCT_TOKEN")
    create_run(database, run_id, loaded.pack.name, loaded.revision, token, testsites, start_urls,
               loaded.pack.description)
    from crawler.frontier.starts import queue_start_urls

    queue_start_urls(server, keys, start_urls)
    _notify(f"run {run_id}: {shared['workers']} worker(s) on {frontier}; more with "
            f"`faircrawl crawl --frontier {frontier} --db ... --join {run_id}`")
    params = dict(shared["params"])
    stop_server = None
    if testsites and not params.get("testsites_server"):  # one catalog server for every worker of this machine
        params["testsites_server"], stop_server = launch.serve_catalog()
    try:
        commands = [launch.worker_command(params, frontier, run_id, [])
                    for _ in range(shared["workers"])]
        codes = launch.run_workers(commands, server, keys, setting(settings, "FAIRCRAWL_PROGRESS_INTERVAL"), _notify)
    finally:
        if stop_server is not None:
            stop_server()
    final_states = launch.worker_states(server, keys)
    for line in launch.progress_lines(final_states, 0.0):
        _notify(line)
    if any(codes):
        _notify(f"worker exit codes: {codes}")
    drained = not (server.zcard(keys.queue) or server.zcard(keys.inflight))
    finish_run(database, run_id, RunStatus.INTERRUPTED,
               "the workers stopped before the frontier was empty" if not drained
               else f"every worker ended without finishing the run (exit codes {codes})", None, only_if_running=True)
    merge_run_stats(database, run_id, {"workers": final_states})  # every worker's last word, now that all stopped
    head, summary_text, report_error = _report_and_summary(database, run_id, report_path)
    database.dispose()
    return {"run_id": run_id, "status": head["run"]["status"], "finish_reason": head["run"]["finish_reason"],
            "report_error": report_error, "summary_text": summary_text, "report_path": report_path}


def _check_testsites_only(pack: str, testsites: bool, start_urls: list[str]) -> None:
    from urllib.parse import urlsplit

    from crawler.testsites import build_catalog

    catalog = build_catalog()
    outside = [u for u in start_urls if catalog.site(urlsplit(u).hostname or "") is None]
    if not testsites or outside:
        raise UsageError(
            f"the {pack!r} pack reproduces Clearview AI's unlawful collection and runs only against the local "
            "test-site catalog: use --testsites" + (f" and catalog URLs only (not {', '.join(outside[:3])})" if outside else ""))


def _run_scrapy(start_urls: list[str], settings: Settings, spider: Any = None,
                **spider_arguments: Any) -> tuple[str, str, Any]:
    """Run one crawl in this process (Twisted's reactor cannot run twice: one crawl per process)."""
    from scrapy.crawler import CrawlerProcess

    from crawler.spiders.site import SiteSpider

    process = CrawlerProcess(settings)
    if settings.get("LOG_LEVEL") == "WARNING":
        # Each of these outcomes is already a recorded decision with its reason;
        # Scrapy would also print it as a WARNING or ERROR line.
        for noisy in ("scrapy.downloadermiddlewares.retry", "scrapy.core.downloader.handlers.http11"):
            logging.getLogger(noisy).setLevel(logging.CRITICAL)
    crawler = process.create_crawler(spider or SiteSpider)
    process.crawl(crawler, start_urls=start_urls, **spider_arguments)
    process.start()
    finish_reason = (crawler.stats.get_value("finish_reason") if crawler.stats else None) or "unknown"
    return ("finished" if finish_reason == "finished" else "interrupted"), str(finish_reason), crawler


# -- report ---------------------------------------------------------------------


@main.command()
@click.argument("run_id", required=False)
@click.option("--db", metavar="URL", default=None, help="Database URL (FAIRCRAWL_DB).")
@click.option("--json", "as_json", is_flag=True, help="Print the full JSON report instead of the summary.")
@click.option("--list", "list_runs_flag", is_flag=True, help="List recent runs.")
@click.option("--all", "show_all", is_flag=True, help="Show every refused and failed decision, not the first 10.")
@click.option("--compare", "compare_runs", nargs=2, metavar="RUN_A RUN_B", default=None,
              help="Compare a lawful run with an unlawful-demo run: writes report.html and report.json.")
@click.option("--with-db", "more_dbs", metavar="URL", multiple=True,
              help="Another database to find a --compare run in (the demo keeps each pack's data apart).")
@click.option("--out", "out_dir", metavar="DIR", default=None, help="Folder for the --compare report (default: var).")
def report(run_id: str | None, db: str | None, as_json: bool, list_runs_flag: bool, show_all: bool,
           compare_runs: tuple[str, str] | None, more_dbs: tuple[str, ...], out_dir: str | None) -> None:
    """Summarise a past crawl run (the latest by default) from the database, or compare two runs."""
    from crawler.report import latest_run_id, list_runs, report_head, summary_lines, write_report

    if compare_runs:
        _compare_report(compare_runs, db, more_dbs, out_dir)
        return
    database = _open_database(db)
    if list_runs_flag:
        for run in list_runs(database):
            click.echo(f"{run['id']}  {run['started_at']}  {run['status']:<11} {', '.join(run['start_urls'][:3])}")
        return
    run_id = run_id or latest_run_id(database)
    if run_id is None:
        raise UsageError("this database has no crawl runs yet; run `faircrawl crawl --testsites` first")
    report_head(database, run_id)  # an unknown run: one clear error before anything is printed
    if as_json:  # streamed: the same JSON for a run of any size
        write_report(database, run_id, sys.stdout)
    else:
        for line in summary_lines(database, run_id, show=10**9 if show_all else 10):
            click.echo(line)


def _compare_report(runs: tuple[str, str], db: str | None, more_dbs: tuple[str, ...], out_dir: str | None) -> None:
    from crawler.comparison import compare, find_run, load_run
    from crawler.report_html import render
    from crawler.startup import check_writable_folder, open_database

    settings = crawl_settings(FAIRCRAWL_DB=db)
    databases = [open_database(url, notify=_notify) for url in (setting(settings, "FAIRCRAWL_DB"), *more_dbs)]
    lawful, unlawful = (load_run(find_run(databases, run_id), run_id) for run_id in runs)
    comparison = compare(lawful, unlawful)
    out = Path(out_dir or setting(settings, "FAIRCRAWL_VAR_DIR"))
    check_writable_folder(out, "report folder")
    (out / "report.json").write_text(json.dumps(comparison, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out / "report.html").write_text(render(comparison), encoding="utf-8")
    click.echo(f"report: {out / 'report.html'}  (and {out / 'report.json'})")


# -- demo -----------------------------------------------------------------------


@main.command()
@click.option("--out", "out_dir", metavar="DIR", default="var/demo", show_default=True,
              help="Where the two stores and the report go (a second demo replaces the first).")
@click.option("--site", "sites", metavar="HOST", multiple=True,
              help="Only this catalog site (repeatable): a quicker look than the whole catalog.")
def demo(out_dir: str, sites: tuple[str, ...]) -> None:
    """The main job: the test sites crawled lawfully and as Clearview did, a person's rights played in both, a report."""
    from crawler.demo import run_demo
    from crawler.startup import check_writable_folder
    from crawler.testsites import photos_present

    if not photos_present():
        raise UsageError("the test sites need the packaged face photos; run `faircrawl testsites fetch-photos`")
    out = Path(out_dir)
    check_writable_folder(out, "demo folder")
    comparison = run_demo(out, lambda line: click.echo(line, err=True), list(sites))
    totals = comparison["totals"]
    click.echo(f"\nlawful: {totals['lawful']['images_stored']} images kept ({totals['lawful']['images_with_faces']} "
               f"with faces, {totals['lawful']['templates_persisted']} templates); Clearview-style: "
               f"{totals['unlawful']['images_stored']} images ({totals['unlawful']['images_with_faces']} with faces, "
               f"{totals['unlawful']['templates_persisted']} templates)")
    click.echo(f"report: {out / 'report.html'}  (and {out / 'report.json'})")


# -- test sites -----------------------------------------------------------------


@main.group()
def testsites() -> None:
    """The local test-site catalog: serve it, list its manifests, fetch its photos."""


@testsites.command("serve")
@click.option("--port", type=click.IntRange(0, 65535), default=8780, show_default=True)
@click.option("--host", "interface", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--access-log", metavar="FILE", type=click.Path(dir_okay=False), default=None,
              help="Append a 'unix-time host path' line per request to FILE (to count what crawlers fetched).")
def testsites_serve(port: int, interface: str, access_log: str | None) -> None:
    """Serve every catalog site on one port (routing by host) until Ctrl-C."""
    from twisted.internet import reactor
    from twisted.internet.error import CannotListenError

    from crawler.testsites import build_catalog, listen, photos_present

    if not photos_present():
        raise UsageError("the test sites need the packaged face photos; run `faircrawl testsites fetch-photos`")
    catalog = build_catalog()
    try:
        listening = listen(catalog, port=port, interface=interface, access_log=access_log)
    except CannotListenError as error:
        raise UsageError(f"cannot listen on {interface}:{port} ({error.socketError}); choose another --port") from None
    address = f"http://{interface}:{listening.getHost().port}"
    click.echo(f"serving {len(catalog.sites)} test sites at {address} (Ctrl-C stops)")
    for site in catalog.sites.values():
        state = "down" if site.down else ("start" if site.start else "linked")
        click.echo(f"  {site.hostname:<26} {site.jurisdiction:<6} {state:<6} {site.description}")
    click.echo(f"try:   curl --proxy {address} http://open.example.com/")
    click.echo(f"crawl: faircrawl crawl --testsites --testsites-server {address}")
    running: Any = reactor  # twisted's reactor is typed through zope interfaces
    running.run()
    click.echo("stopped")


@testsites.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the manifests as JSON.")
def testsites_list(as_json: bool) -> None:
    """Show each site's manifest: jurisdiction, robots.txt and expected outcomes."""
    from crawler.testsites import build_catalog

    catalog = build_catalog()
    if as_json:
        click.echo(json.dumps(catalog.manifest(), indent=2))
        return
    for site in catalog.sites.values():
        click.echo(f"{site.hostname} ({site.jurisdiction}): {site.description}")
        click.echo(f"  robots.txt: {site.robots}")
        for expected in site.expected:
            lawful = f"{expected.outcome} [{expected.reason}]" if expected.outcome else "not requested"
            unlawful = f"{expected.unlawful_outcome} [{expected.unlawful_reason}]"
            click.echo(f"  {expected.kind:<5} {expected.url}\n        lawful: {lawful}   unlawful-demo: {unlawful}")


@testsites.command("fetch-photos")
def testsites_fetch_photos() -> None:
    """Download the face_recognition sdist from the package index and extract its face photos."""
    import subprocess

    from crawler.testsites import fetch_packaged_photos

    try:
        folder = fetch_packaged_photos()
    except (subprocess.CalledProcessError, StopIteration) as error:
        raise UsageError(f"could not fetch the packaged face photos: {error}") from None
    click.echo(f"face photos ready in {folder}")


# -- policy ---------------------------------------------------------------------


@main.group()
def policy() -> None:
    """For compliance engineers: lint, test and explain rule packs."""


def _pack_paths(paths: tuple[str, ...]) -> list[str]:
    from policy.packs import SHIPPED_PACKS

    return list(paths) or list(SHIPPED_PACKS)


@policy.command("lint")
@click.argument("paths", nargs=-1)
@click.option("--sites", "site_registries", metavar="FILE", multiple=True, help="Check this site registry (repeatable).")
@click.option("--terms", "terms_registries", metavar="FILE", multiple=True, help="Check this terms registry (repeatable).")
def policy_lint(paths: tuple[str, ...], site_registries: tuple[str, ...], terms_registries: tuple[str, ...]) -> None:
    """Check rule packs (names or folders or files; default: the shipped packs) and the registries (default: shipped)."""
    from policy.issues import shown_issues
    from policy.packs import REGISTRY_DIR, lint_registries, read_pack
    from policy.provisions import PROVISIONS_FILE, known_provisions

    errors = warnings = 0
    for target in _pack_paths(paths):
        pack = read_pack(target)
        for line in shown_issues(pack.issues):
            click.echo(line)
        errors += len(pack.errors)
        warnings += len(pack.issues) - len(pack.errors)
        click.echo(f"{pack.name}: {len(pack.rules)} rules in {len(pack.rule_files)} files, "
                   f"{len(pack.errors)} errors, {len(pack.issues) - len(pack.errors)} warnings")
    provisions = known_provisions()
    for line in shown_issues(provisions.issues):
        click.echo(line)
    errors += sum(issue.severity == "error" for issue in provisions.issues)
    unverified = sum(p.unverified is not None for p in provisions.by_id.values())
    click.echo(f"provisions: {len(provisions.by_id)} known ({unverified} not confirmed by the reference), "
               f"{PROVISIONS_FILE}")
    site_registries = site_registries or tuple(setting(crawl_settings(), "FAIRCRAWL_SITES"))
    terms_registries = terms_registries or tuple(setting(crawl_settings(), "FAIRCRAWL_TERMS"))
    if not paths or site_registries or terms_registries:
        issues = lint_registries([Path(p) for p in site_registries] or [REGISTRY_DIR / "sites.yaml"],
                                 [Path(p) for p in terms_registries] or [REGISTRY_DIR / "terms.yaml"])
        for line in shown_issues(issues):
            click.echo(line)
        registry_errors = sum(issue.severity == "error" for issue in issues)
        errors += registry_errors
        click.echo(f"registries: {registry_errors} errors, {len(issues) - registry_errors} warnings" if issues
                   else "registries: sites.yaml and terms.yaml are valid")
    if errors:
        sys.exit(1)


@policy.command("test")
@click.argument("paths", nargs=-1)
@click.option("-v", "--verbose", is_flag=True, help="List every case, not only failures.")
def policy_test(paths: tuple[str, ...], verbose: bool) -> None:
    """Run the table-driven cases next to the rules; fail on a failed case or when no case ran."""
    from policy.issues import shown_issues
    from policy.packs import read_pack
    from policy.testing import run_pack_tests

    failed = False
    for target in _pack_paths(paths):
        pack = read_pack(target)
        if pack.errors:
            for line in shown_issues(pack.errors):
                click.echo(line)
            click.echo(f"{pack.name}: not tested, the pack has errors (run `faircrawl policy lint`)")
            failed = True
            continue
        report = run_pack_tests(pack)
        for error in report.errors:
            click.echo(str(error))
        for result in report.results:
            if not result.passed:
                click.echo(f"FAIL {result.path}:{result.line} {result.name}")
                for problem in result.problems:
                    click.echo(f"     {problem}")
            elif verbose:
                click.echo(f"ok   {result.name}")
        passed = len(report.results) - len(report.failed)
        click.echo(f"{pack.name}: {passed} passed, {len(report.failed)} failed")
        if report.uncovered_rules:
            click.echo(f"{pack.name}: rules no case covers: {', '.join(report.uncovered_rules)}")
        if not report.results:
            click.echo(f"{pack.name}: no test ran (put cases in {target}/tests/*.yaml)")
        failed = failed or not report.ok
    if failed:
        sys.exit(1)


@policy.command("explain")
@click.argument("url")
@click.option("--jurisdiction", metavar="CODE", default=None, help="Decide as if the site were in CODE (FR, US-IL, ...).")
@click.option("--purpose", type=click.Choice(["fetch_page", "fetch_image", "collect_image", "face_template"]),
              default=None, help="Show one purpose only (default: every purpose the crawl asked about).")
@click.option("--page-url", metavar="URL", default=None, help="For an image: the page that embeds it.")
@click.option("--policy", "policy_name", metavar="PACK", default=None, help="Rule pack (default: lawful).")
@click.option("--rules", "rule_files", metavar="FILE", multiple=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--testsites", is_flag=True, help="Reach the test-site catalog's hostnames (served locally).")
@_registry_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("-v", "--verbose", is_flag=True, help="Also show the rules that did not match and why.")
def policy_explain(url: str, jurisdiction: str | None, purpose: str | None, page_url: str | None,
                   policy_name: str | None, rule_files: tuple[str, ...], testsites: bool,
                   site_registries: tuple[str, ...], terms_registries: tuple[str, ...], operator: str | None,
                   as_json: bool, verbose: bool) -> None:
    """Fetch URL as a crawl would (its site files, its page) and print the decision record the crawl would make,
    with the signals, jurisdiction, matching rules, obligations and citations. Stores nothing."""
    from crawler.explain import ExplainTarget, explain_targets, explanation_dict, format_explanation
    from policy.jurisdiction import is_known_code

    if jurisdiction and not is_known_code(jurisdiction):
        raise UsageError(f"unknown jurisdiction {jurisdiction!r}: use an ISO 3166 code (FR), a subdivision (US-IL), "
                         "EU or UNKNOWN")
    _check_start_urls((url,), "URL")
    if page_url:
        _check_start_urls((page_url,), "--page-url")
    if testsites:
        from crawler.testsites import photos_present

        if not photos_present():
            raise UsageError("the test sites need the packaged face photos; run `faircrawl testsites fetch-photos`")
    settings = crawl_settings(FAIRCRAWL_POLICY=policy_name, FAIRCRAWL_RULES=list(rule_files) or None,
                              FAIRCRAWL_TESTSITES=testsites,
                              **_registry_settings(site_registries, terms_registries, operator))
    check_settings(settings)
    explained = explain_targets([ExplainTarget(url, page_url)], settings, jurisdiction=jurisdiction)[0]
    if as_json:
        click.echo(json.dumps(explanation_dict(explained, purpose), indent=2, ensure_ascii=False))
    else:
        click.echo(format_explanation(explained, purpose, verbose))


# -- opt-outs ------------------------------------------------------------------------


@main.group()
def optout() -> None:
    """The suppression list: people, images and URLs that must never be collected."""


def _suppression_store(suppression_db: str | None) -> Any:
    from crawler.optouts import open_suppression_store

    return open_suppression_store(crawl_settings(FAIRCRAWL_SUPPRESSION_DB=suppression_db))


@optout.command("add")
@click.option("--photo", "photos", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="A photo showing exactly one face: its template is kept, the photo is not. Repeatable.")
@click.option("--image", "images", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="An image never to collect, matched by perceptual hash (no face processing). Repeatable.")
@click.option("--url", "urls", multiple=True, help="An image or page URL never to collect. Repeatable.")
@click.option("--label", default=None, help="A note for the entry (stored encrypted).")
@click.option("--suppression-db", metavar="URL", default=None, help="FAIRCRAWL_SUPPRESSION_DB")
def optout_add(photos: tuple[str, ...], images: tuple[str, ...], urls: tuple[str, ...], label: str | None,
               suppression_db: str | None) -> None:
    """Add one opt-out entry from probe photos, images or URLs (one kind per entry)."""
    kinds = [k for k, v in (("--photo", photos), ("--image", images), ("--url", urls)) if v]
    if len(kinds) != 1:
        raise UsageError("give --photo, --image or --url (one kind per entry; repeat the option for several)")
    for url in urls:
        _check_start_urls((url,), "--url")
    max_pixels = setting(crawl_settings(), "FAIRCRAWL_IMAGE_MAX_PIXELS")
    values = [_image_hash(image, max_pixels) for image in images]  # every file checked before anything is added
    probes = [(p, Path(p).read_bytes()) for p in photos]
    store = _suppression_store(suppression_db)
    try:
        if photos:
            entry = store.add_photos(probes, label)
            what = f"{len(photos)} face template(s); the photos were not kept"
        elif images:
            entry = store.add_image_hashes(values, label)
            what = f"{len(values)} perceptual hash(es)"
        else:
            entry = store.add_urls(list(urls), label)
            what = f"{len(urls)} URL(s)"
    finally:
        store.dispose()
    _audit_optout("optout.added", {"entry": entry, "kind": kinds[0].lstrip("-"),
                                   "items": len(photos) or len(values) or len(urls)})
    click.echo(f"opt-out {entry} added: {what}")


def _image_hash(path: str, max_pixels: int) -> int:
    """The perceptual hash of an image file, decoded through the crawl's own guarded loader."""
    from crawler.pipelines.validate import validate_image
    from policy.errors import ImageError

    try:
        return validate_image(Path(path).read_bytes(), max_pixels).perceptual_hash
    except ImageError as error:
        raise UsageError(f"{path}: {error.detail}") from None


@optout.command("list")
@click.option("--suppression-db", metavar="URL", default=None, help="FAIRCRAWL_SUPPRESSION_DB")
def optout_list(suppression_db: str | None) -> None:
    """List opt-out entries (withdrawn ones keep only a tombstone)."""
    store = _suppression_store(suppression_db)
    try:
        entries = store.entries()
    finally:
        store.dispose()
    if not entries:
        click.echo("no opt-outs")
    for entry in entries:
        state = f"withdrawn {entry.withdrawn_at:%Y-%m-%d %H:%M}" if entry.withdrawn_at else f"{entry.items} item(s)"
        click.echo(f"{entry.id}  {entry.kind:<5}  added {entry.created_at:%Y-%m-%d %H:%M}  {state}  {entry.label or ''}")


@optout.command("withdraw")
@click.argument("entry_id")
@click.option("--suppression-db", metavar="URL", default=None, help="FAIRCRAWL_SUPPRESSION_DB")
def optout_withdraw(entry_id: str, suppression_db: str | None) -> None:
    """Withdraw an opt-out: its templates, hashes and URLs are deleted."""
    store = _suppression_store(suppression_db)
    try:
        removed = store.withdraw(entry_id)
    except LookupError as error:
        raise UsageError(str(error.args[0])) from None
    finally:
        store.dispose()
    _audit_optout("optout.withdrawn", {"entry": entry_id, **removed})
    click.echo(f"opt-out {entry_id} withdrawn; deleted: " + ", ".join(f"{n} from {t}" for t, n in removed.items()))


def _audit_optout(action: str, details: dict[str, Any]) -> None:
    """Opt-out changes go in the audit log of the crawl database (entry ids and counts, never what was listed)."""
    from storage.audit import append

    database = _open_database(None)
    try:
        append(database, action, details)
    finally:
        database.dispose()


# -- faces -------------------------------------------------------------------------------


@main.group()
def faces() -> None:
    """Face workers on a task queue (Celery), scaled apart from the crawl's own processes."""


@faces.command("worker")
@click.option("--broker", metavar="URL", default=None,
              help="Celery broker: redis://127.0.0.1:6379/0 or amqp://guest:guest@127.0.0.1:5672// "
                   "(FAIRCRAWL_FACES_BROKER).")
@click.option("--queue", metavar="NAME", default=None,
              help="Queue to take face tasks from (FAIRCRAWL_FACES_QUEUE). Default: faircrawl-faces")
@click.option("--concurrency", type=click.IntRange(1, 64), default=None,
              help="Worker processes (FAIRCRAWL_FACE_WORKERS; default one per core).")
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
def faces_worker(broker: str | None, queue: str | None, concurrency: int | None, verbose: int) -> None:
    """Analyse the faces of crawls sent to the queue until stopped (Ctrl-C, SIGTERM).

    Start it where the models fit (about 170 MB per process), pointed at the broker the crawls use
    (FAIRCRAWL_FACES_BROKER): it needs no key, database or image store, and encodings leave it only sealed to the
    crawl run that asked.
    """
    from faces.analyser import FacesUnavailable
    from faces.queue import check_broker, run_worker

    settings = crawl_settings(FAIRCRAWL_FACES_BROKER=broker, FAIRCRAWL_FACES_QUEUE=queue,
                              FAIRCRAWL_FACE_WORKERS=concurrency)
    check_settings(settings)
    broker_url = setting(settings, "FAIRCRAWL_FACES_BROKER")
    if not broker_url:
        raise UsageError("no broker to take face tasks from: give --broker redis://HOST:6379/0 (or amqp://...), "
                         "or set FAIRCRAWL_FACES_BROKER")
    queue_name = setting(settings, "FAIRCRAWL_FACES_QUEUE")
    try:
        check_broker(broker_url, queue_name)
    except FacesUnavailable as error:
        raise UsageError(f"--broker {_shown_url(broker_url)}: {error.detail}; start the broker or fix the URL") from None
    _notify(f"face worker on {_shown_url(broker_url)}, queue {queue_name}; Ctrl-C to stop")
    run_worker(broker_url, queue_name, setting(settings, "FAIRCRAWL_FACE_WORKERS") or None,
               ("WARNING", "INFO", "DEBUG")[min(verbose, 2)])


def _shown_url(url: str) -> str:
    """A broker URL without its password (it may be printed)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


# -- maintenance ----------------------------------------------------------------------


@main.group()
def maintenance() -> None:
    """Upkeep: expire face templates past their retention."""


@maintenance.command("expire")
@click.option("--db", metavar="URL", default=None, help="Database URL (FAIRCRAWL_DB).")
def maintenance_expire(db: str | None) -> None:
    """Delete persisted face templates whose retention has ended (also done at the start of each crawl)."""
    from storage.retention import expire_templates

    database = _open_database(db)
    removed = expire_templates(database)
    click.echo(f"{removed} face template(s) past retention deleted (audit event recorded)")


# -- rights ------------------------------------------------------------------------------


@main.group()
def rights() -> None:
    """Deletion and access requests: by photo, image URL or page URL; as often as asked, for data of any age."""


def _service(db: str | None, store: str | None, archive: str | None = None) -> Any:
    from crawler.startup import rights_service

    return rights_service(crawl_settings(FAIRCRAWL_DB=db, FAIRCRAWL_STORE=store), _notify,
                          Path(archive) if archive else None, progress=_notify)


def _identifiers(function: Any) -> Any:
    """The options that say who a request is about, shared by `rights delete` and `rights access`."""
    for option in reversed([
        click.option("--photo", "photos", multiple=True, type=click.Path(exists=True, dir_okay=False),
                     help="A photo of the person alone (exactly one face); never kept. Repeatable."),
        click.option("--url", "urls", multiple=True, help="The URL of an image of the person. Repeatable."),
        click.option("--page-url", "page_urls", multiple=True, help="A page whose images show the person. Repeatable."),
        click.option("--jurisdiction", metavar="CODE", default=None,
                     help="The person's jurisdiction (FR, US-CA, ...): sets the deadline; default UNKNOWN (the "
                          "shortest deadline)."),
        click.option("--db", metavar="URL", default=None, help="Database URL (FAIRCRAWL_DB)."),
        click.option("--store", metavar="DIR", default=None, help="Image store (FAIRCRAWL_STORE)."),
        click.option("--json", "as_json", is_flag=True, help="Print one JSON object."),
    ]):
        function = option(function)
    return function


def _request_json(outcome: Any) -> dict[str, Any]:
    row = outcome.row
    return {key: row[key] for key in ("id", "kind", "status", "jurisdiction", "due", "created_at", "completed_at")} | {
        "failure": row["failure"], "overdue": row["overdue"], "reached": row["reached"], "refused": row["refused"],
        "breaches": row["breaches"]}


def _status_json(outcome: Any) -> dict[str, Any]:
    """What `rights status --json` prints (and each element of `rights list --json`)."""
    return {**_request_json(outcome), "tasks": outcome.tasks, "verification": outcome.row["verification"]}


def _file_and_run(kind: str, photos: tuple[str, ...], urls: tuple[str, ...], page_urls: tuple[str, ...],
                  jurisdiction: str | None, db: str | None, store: str | None, optout: bool = False,
                  archive: str | None = None) -> Any:
    from storage.rights import RequestKind

    for url in (*urls, *page_urls):
        _check_start_urls((url,), "URL")
    probes = [(path, Path(path).read_bytes()) for path in photos]
    service = _service(db, store, archive)
    request_id = service.file(RequestKind(kind), photos=probes, urls=urls, page_urls=page_urls,
                              jurisdiction=jurisdiction, optout=optout)
    _notify(f"{kind} request {request_id} received (due {service.outcome(request_id).row['due']})")
    return service.run(request_id)


def _finish(outcome: Any, shown: dict[str, Any], as_json: bool, text: str) -> None:
    click.echo(json.dumps(shown, indent=2, ensure_ascii=False) if as_json else text)
    if outcome.status != "completed":
        sys.exit(1)


@rights.command("delete")
@_identifiers
@click.option("--optout", is_flag=True, help="Also never collect the person again (their face stays opted out).")
def rights_delete(photos: tuple[str, ...], urls: tuple[str, ...], page_urls: tuple[str, ...], jurisdiction: str | None,
                  db: str | None, store: str | None, as_json: bool, optout: bool) -> None:
    """Delete everything held about a person from every store, verify it, and sign a receipt."""
    outcome = _file_and_run("deletion", photos, urls, page_urls, jurisdiction, db, store, optout)
    row = outcome.row
    shown = {**_request_json(outcome),
             "stores": [{"store": t["store"], "status": t["status"], "removed": t["removed"], "items": t["items"]}
                        for t in outcome.tasks],
             "verification": row["verification"]}
    removed = ", ".join(f"{t['removed']} from {t['store']}" for t in outcome.tasks if t["removed"])
    lines = [f"deletion request {row['id']}: {row['status']} (due {row['due']})",
             f"  removed: {removed or 'nothing held'}"]
    if row["verification"]:
        lines.append(f"  verification: {'passed' if row['verification']['passed'] else 'FAILED'}")
    if row["failure"]:
        lines.append(f"  failed: {row['failure']} (`faircrawl rights resume {row['id']}` retries)")
    if row["status"] == "completed":
        lines.append(f"  receipt: faircrawl rights receipt {row['id']}")
    text = "\n".join(lines)
    _finish(outcome, shown, as_json, text)


@rights.command("access")
@_identifiers
@click.option("--out", "archive", metavar="DIR", default=None,
              help="Folder for the archive (zip of the answer and the image files). Default: var/rights")
def rights_access(photos: tuple[str, ...], urls: tuple[str, ...], page_urls: tuple[str, ...], jurisdiction: str | None,
                  db: str | None, store: str | None, as_json: bool, archive: str | None) -> None:
    """Everything held about a person, whatever its age: images, faces, decisions, earlier requests, and why."""
    outcome = _file_and_run("access", photos, urls, page_urls, jurisdiction, db, store, archive=archive)
    row = outcome.row
    answered = row["access"] or {}
    shown = {**_request_json(outcome), "images": answered.get("images", []), "decisions": answered.get("decisions", []),
             "requests": answered.get("requests", []), "statement": answered.get("statement"),
             "opt_outs": answered.get("opt_outs", []), "limited": answered.get("limited"),
             "search": answered.get("search"), "archive": answered.get("archive")}
    lines = [f"access request {row['id']}: {row['status']} (due {row['due']})",
             f"  {len(shown['images'])} image(s), {len(shown['decisions'])} decision(s), "
             f"{len(shown['requests'])} earlier request(s)"]
    lines += [f"    {i['url']}  (faces {i['faces']}, template {'held' if i['template_held'] else 'none'}; "
              f"{'; '.join(i['found_by'])})" for i in shown["images"]]
    if shown["archive"]:
        lines.append(f"  archive: {shown['archive']}")
    if row["failure"]:
        lines.append(f"  failed: {row['failure']} (`faircrawl rights resume {row['id']}` retries)")
    _finish(outcome, shown, as_json, "\n".join(lines))


@rights.command("status")
@click.argument("request_id")
@click.option("--db", metavar="URL", default=None, help="Database URL (FAIRCRAWL_DB).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def rights_status(request_id: str, db: str | None, as_json: bool) -> None:
    """Where a request is: its checkpoint, its deadline, what each store's task removed."""
    outcome = _service(db, None).outcome(request_id)
    shown = _status_json(outcome)
    if as_json:
        click.echo(json.dumps(shown, indent=2, ensure_ascii=False))
        return
    row = outcome.row
    click.echo(f"{row['kind']} request {row['id']}: {row['status']}, due {row['due']}"
               + (" (OVERDUE)" if row["overdue"] else "") + (f"; failed: {row['failure']}" if row["failure"] else ""))
    for task in outcome.tasks:
        click.echo(f"  {task['store']:<16} {task['status']:<9} removed {task['removed']}")


@rights.command("list")
@click.option("--overdue", is_flag=True, help="Only requests past their due date and not completed.")
@click.option("--db", metavar="URL", default=None, help="Database URL (FAIRCRAWL_DB).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def rights_list(overdue: bool, db: str | None, as_json: bool) -> None:
    """Every request (or the overdue ones), oldest first."""
    outcomes = _service(db, None).list(overdue=overdue)
    if as_json:
        click.echo(json.dumps([_status_json(o) for o in outcomes], indent=2, ensure_ascii=False))
        return
    if not outcomes:
        click.echo("no rights requests" + (" overdue" if overdue else ""))
    for outcome in outcomes:
        row = outcome.row
        click.echo(f"{row['id']}  {row['kind']:<8} {row['status']:<10} due {row['due']}"
                   + ("  OVERDUE" if row["overdue"] else ""))


@rights.command("receipt")
@click.argument("request_id", required=False)
@click.option("--public-key", "public_key", is_flag=True, help="Print the public key that checks receipts (PEM).")
@click.option("--db", metavar="URL", default=None, help="Database URL (FAIRCRAWL_DB).")
@click.option("--json", "as_json", is_flag=True, help="Print the signed receipt as JSON.")
def rights_receipt(request_id: str | None, public_key: bool, db: str | None, as_json: bool) -> None:
    """The signed receipt of a completed request (or, with --public-key, the key that checks it)."""
    from storage.rights.receipts import public_key_file

    if public_key:
        service = _service(db, None)
        service.signing_key()
        key_file = service.config.signing_key_file
        click.echo(public_key_file(key_file).read_text(encoding="ascii"), nl=False)
        return
    if not request_id:
        raise UsageError("give a request id (`faircrawl rights list` shows them), or --public-key")
    receipt = _service(db, None).receipt(request_id)
    if as_json:
        click.echo(json.dumps({k: receipt[k] for k in ("receipt", "signature", "key_id", "public_key", "verified")},
                              indent=2, ensure_ascii=False))
    else:
        click.echo(receipt["text"])
        click.echo(f"  signature check with faircrawl's public key: {'valid' if receipt['verified'] else 'INVALID'}")


@rights.command("resume")
@click.argument("request_id", required=False)
@click.option("--db", metavar="URL", default=None, help="Database URL (FAIRCRAWL_DB).")
@click.option("--store", metavar="DIR", default=None, help="Image store (FAIRCRAWL_STORE).")
def rights_resume(request_id: str | None, db: str | None, store: str | None) -> None:
    """Complete one unfinished request, or every one, from the checkpoint where each stopped."""
    outcomes = _service(db, store).resume(request_id)
    if not outcomes:
        click.echo("no unfinished rights requests")
    for outcome in outcomes:
        row = outcome.row
        click.echo(f"{row['kind']} request {row['id']}: {row['status']}" + (f" ({row['failure']})" if row["failure"] else ""))
    if any(o.status != "completed" for o in outcomes):
        sys.exit(1)


# -- audit ---------------------------------------------------------------------------------


@main.group()
def audit() -> None:
    """The hash-chained audit log of what faircrawl changed."""


@audit.command("verify")
@click.option("--db", metavar="URL", default=None, help="Database URL (FAIRCRAWL_DB).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def audit_verify(db: str | None, as_json: bool) -> None:
    """Check the chain: names the first entry that was changed, removed or reordered (exit status 1)."""
    from storage.audit import verify

    check = verify(_open_database(db))
    if as_json:
        click.echo(json.dumps(check.as_dict(), indent=2))
    elif check.intact:
        click.echo(f"audit log intact: {check.entries} entries, each following the one before")
    else:
        click.echo(f"audit log BROKEN at entry {check.first_bad}: {check.problem}")
    if not check.intact:
        sys.exit(1)


# -- crawler identity ---------------------------------------------------------------------


@main.group()
def bot() -> None:
    """faircrawl's identity: the key that signs its requests (Web Bot Auth)."""


@bot.command("directory")
def bot_directory() -> None:
    """Print the JWKS key directory, to publish at <FAIRCRAWL_SIGNATURE_AGENT>/.well-known/http-message-signatures-directory."""
    from crawler.botauth.keys import directory, load_bot_key

    settings = crawl_settings()
    check_settings(settings)
    key = load_bot_key(Path(setting(settings, "FAIRCRAWL_BOT_KEY_FILE")))
    click.echo(json.dumps(directory([key.public_key()]), indent=2))


# -- serve ---------------------------------------------------------------------------------


@main.command()
@click.option("--host", default=None, help="Interface to listen on (FAIRCRAWL_API_HOST). Default: 127.0.0.1")
@click.option("--port", type=click.IntRange(0, 65535), default=None,
              help="Port (FAIRCRAWL_API_PORT; 0 picks a free one). Default: 8700")
@click.option("--db", metavar="URL", default=None, help="Database URL (FAIRCRAWL_DB).")
@click.option("--store", metavar="DIR", default=None, help="Image store (FAIRCRAWL_STORE).")
def serve(host: str | None, port: int | None, db: str | None, store: str | None) -> None:
    """Serve the HTTP API for rights requests and opt-outs, and the privacy tester's page, until Ctrl-C."""
    from crawler.api.server import serve as run_server

    run_server(crawl_settings(FAIRCRAWL_API_HOST=host, FAIRCRAWL_API_PORT=port, FAIRCRAWL_DB=db, FAIRCRAWL_STORE=store),
               _notify, click.echo)


if __name__ == "__main__":
    main()
