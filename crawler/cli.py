"""The `faircrawl` command: one entry point, a subcommand per job.

User mistakes (a bad URL, an unreachable database, a missing set-up step)
end with a one-paragraph message and exit status 2, never a traceback.
"""

from __future__ import annotations

import json
import logging
import sys
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click

from crawler import settings as default_settings
from crawler.settings import SettingsError, faircrawl_overrides_from_env

EXIT_USAGE = 2


class UserError(click.ClickException):
    """A mistake the user can fix; printed as 'error: ...' with exit status 2."""

    exit_code = EXIT_USAGE

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.message}", err=True)


def _resolve(flag_value: Any, setting: str, env: dict[str, Any]) -> Any:
    """Flag, then FAIRCRAWL_* environment variable, then the settings module's default."""
    if flag_value is not None:
        return flag_value
    if setting in env:
        return env[setting]
    return getattr(default_settings, setting)


def _environment() -> dict[str, Any]:
    try:
        return faircrawl_overrides_from_env()
    except SettingsError as error:
        raise UserError(str(error)) from None


def _open_database(url: str):  # type: ignore[no-untyped-def]
    from storage import Database, StorageError

    try:
        database = Database(url)
        database.upgrade()
    except StorageError as error:
        raise UserError(str(error)) from None
    return database


def _check_start_urls(urls: tuple[str, ...]) -> list[str]:
    checked = []
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise UserError(f"start URL {url!r} is not an http(s) URL with a host; e.g. http://example.com/")
        checked.append(url)
    return checked


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="faircrawl")
def main() -> None:
    """faircrawl: a consent-aware image crawler with biometric opt-out enforcement."""


# -- crawl ----------------------------------------------------------------------


@main.command()
@click.argument("urls", nargs=-1)
@click.option("--testsites", is_flag=True, help="Crawl the test-site catalog (its hostnames are routed to 127.0.0.1).")
@click.option("--testsites-server", metavar="URL", default=None,
              help="Use a running `faircrawl testsites serve` instead of serving the catalog in-process.")
@click.option("--db", metavar="URL", default=None, help="Database URL (FAIRCRAWL_DB). Default: sqlite:///var/faircrawl.db")
@click.option("--store", metavar="DIR", default=None, help="Folder for image files (FAIRCRAWL_STORE). Default: var/images")
@click.option("--report", "report_path", metavar="FILE", type=click.Path(dir_okay=False), default=None,
              help="Write the run's decisions as JSON to FILE.")
@click.option("--allow-private-hosts", is_flag=True, default=None,
              help="Allow loopback, private and link-local hosts (refused by default).")
@click.option("--product-token", default=None, help="Token matched against robots.txt groups. Default: faircrawl")
@click.option("--policy", "policy_name", metavar="PACK", default=None,
              help="Rule pack: lawful (default), unlawful-demo, or a pack folder or rule file (FAIRCRAWL_POLICY).")
@click.option("--rules", "rule_files", metavar="FILE", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Add a rule file to the pack (repeatable).")
@click.option("--concurrency", type=click.IntRange(1, 512), default=None, help="Concurrent requests (default 32).")
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
def crawl(urls: tuple[str, ...], testsites: bool, testsites_server: str | None, db: str | None,
          store: str | None, report_path: str | None, allow_private_hosts: bool | None,
          product_token: str | None, policy_name: str | None, rule_files: tuple[str, ...],
          concurrency: int | None, verbose: int) -> None:
    """Crawl URLS (or, with --testsites, the whole test-site catalog) and store allowed images."""
    outcome = run_crawl(urls, testsites=testsites, testsites_server=testsites_server, db=db, store=store,
                        report_path=report_path, allow_private_hosts=allow_private_hosts,
                        product_token=product_token, policy_name=policy_name, rule_files=rule_files,
                        concurrency=concurrency, verbose=verbose)
    click.echo(outcome["summary_text"])
    if outcome["report_path"]:
        click.echo(f"report written to {outcome['report_path']}")
    if outcome["status"] != "finished":
        sys.exit(1)


def run_crawl(urls: tuple[str, ...] | list[str], *, testsites: bool = False, testsites_server: str | None = None,
              db: str | None = None, store: str | None = None, report_path: str | None = None,
              allow_private_hosts: bool | None = None, product_token: str | None = None,
              policy_name: str | None = None, rule_files: tuple[str, ...] = (),
              concurrency: int | None = None, verbose: int = 0) -> dict[str, Any]:
    """Run one crawl in this process and return its summary (the CLI's and the demo's core)."""
    env = _environment()
    start_urls = _check_start_urls(tuple(urls))
    if testsites:
        from crawler.testsites import build_catalog, photos_present

        if not photos_present():
            raise UserError("the test sites need the packaged face photos; run `faircrawl testsites fetch-photos` "
                            "(./dev.sh does it during set-up)")
        start_urls = start_urls or build_catalog().start_urls
    if not start_urls:
        raise UserError("nothing to crawl: give start URLs, or --testsites for the test-site catalog")
    db_url = _resolve(db, "FAIRCRAWL_DB", env)
    token = _resolve(product_token, "FAIRCRAWL_PRODUCT_TOKEN", env)
    if not token or not all(c.isalpha() or c in "_-" for c in token):
        raise UserError(f"product token {token!r} must contain only letters, '_' and '-' (RFC 9309 §2.2.1)")
    pack_name = _resolve(policy_name, "FAIRCRAWL_POLICY", env)
    loaded = _load_policy(pack_name, rule_files, testsites)
    if loaded.pack.requires_testsites:
        _check_testsites_only(loaded.pack.name, testsites, start_urls)
    database = _open_database(db_url)
    _suppression_store(None).dispose()  # a wrong key or an unreadable list stops the crawl before it starts
    run_id = uuid.uuid4().hex

    from crawler.recording import create_run
    from storage.retention import expire_templates

    expired = expire_templates(database)
    if expired:
        click.echo(f"{expired} face template(s) past retention deleted before the crawl", err=True)
    create_run(database, run_id, loaded.pack.name, loaded.revision, token, testsites, start_urls,
               loaded.pack.description)
    overrides = {
        "FAIRCRAWL_POLICY": pack_name,
        "FAIRCRAWL_RULES": list(rule_files),
        "FAIRCRAWL_RUN_ID": run_id,
        "FAIRCRAWL_RUN_CREATED": True,
        "FAIRCRAWL_DB": db_url,
        "FAIRCRAWL_STORE": _resolve(store, "FAIRCRAWL_STORE", env),
        "FAIRCRAWL_PRODUCT_TOKEN": token,
        "FAIRCRAWL_TESTSITES": testsites,
        "FAIRCRAWL_TESTSITES_SERVER": _resolve(testsites_server, "FAIRCRAWL_TESTSITES_SERVER", env),
        "FAIRCRAWL_ALLOW_PRIVATE_HOSTS": bool(_resolve(allow_private_hosts, "FAIRCRAWL_ALLOW_PRIVATE_HOSTS", env)),
        **{k: env[k] for k in ("FAIRCRAWL_IMAGE_MAX_BYTES", "FAIRCRAWL_IMAGE_MAX_PIXELS", "FAIRCRAWL_MAX_CRAWL_DELAY",
                               "FAIRCRAWL_PROGRESS_INTERVAL", "FAIRCRAWL_SUPPRESSION_DB", "FAIRCRAWL_MATCH_THRESHOLD",
                               "FAIRCRAWL_FACE_WORKERS", "FAIRCRAWL_FACE_MODEL", "FAIRCRAWL_FACE_MAX_SIDE") if k in env},
        "LOG_LEVEL": ["WARNING", "INFO", "DEBUG"][min(verbose, 2)],
    }
    if concurrency is not None:
        overrides["CONCURRENT_REQUESTS"] = concurrency
        overrides["CONCURRENT_REQUESTS_PER_DOMAIN"] = max(1, concurrency // 2)
    status, finish_reason = _run_scrapy(start_urls, overrides)
    from crawler.recording import finish_run

    finish_run(database, run_id, status, finish_reason, None, only_if_running=True)  # stopped before it opened

    from crawler.report import build_report, format_summary

    report = build_report(database, run_id)
    if report_path:
        path = Path(report_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    database.dispose()
    return {"run_id": run_id, "status": status, "finish_reason": finish_reason,
            "summary_text": format_summary(report), "report_path": report_path, "report": report}


def _load_policy(pack_name: str, rule_files: tuple[str, ...], testsites: bool):  # type: ignore[no-untyped-def]
    """Load and check the policy before anything is fetched: nothing runs under a broken one."""
    from crawler.policy_runtime import registry_paths
    from policy.loading import PolicyError
    from policy.packs import load_policy

    sites, terms = registry_paths(testsites)
    try:
        return load_policy(pack_name, [Path(p) for p in rule_files], sites, terms)
    except PolicyError as error:
        raise UserError(f"{error}\nnothing was crawled; `faircrawl policy lint` shows every problem") from None


def _check_testsites_only(pack: str, testsites: bool, start_urls: list[str]) -> None:
    from crawler.testsites import build_catalog

    catalog = build_catalog()
    outside = [u for u in start_urls if catalog.site(urlsplit(u).hostname or "") is None]
    if not testsites or outside:
        raise UserError(
            f"the {pack!r} pack reproduces Clearview AI's unlawful collection and runs only against the local "
            "test-site catalog: use --testsites" + (f" and catalog URLs only (not {', '.join(outside[:3])})" if outside else ""))


def _run_scrapy(start_urls: list[str], overrides: dict[str, Any]) -> tuple[str, str]:
    from scrapy.crawler import CrawlerProcess
    from scrapy.settings import Settings

    from crawler.spiders.site import SiteSpider

    settings = Settings()
    settings.setmodule(default_settings, priority="project")
    settings.update(overrides, priority="cmdline")
    process = CrawlerProcess(settings)
    if settings.get("LOG_LEVEL") == "WARNING":
        # Each of these outcomes is already a recorded decision with its reason;
        # Scrapy would also print it as a WARNING or ERROR line.
        for noisy in ("scrapy.downloadermiddlewares.retry", "scrapy.core.downloader.handlers.http11"):
            logging.getLogger(noisy).setLevel(logging.CRITICAL)
    crawler = process.create_crawler(SiteSpider)
    process.crawl(crawler, start_urls=start_urls)
    process.start()
    finish_reason = (crawler.stats.get_value("finish_reason") if crawler.stats else None) or "unknown"
    return ("finished" if finish_reason == "finished" else "interrupted"), str(finish_reason)


# -- report ---------------------------------------------------------------------


@main.command()
@click.argument("run_id", required=False)
@click.option("--db", metavar="URL", default=None, help="Database URL (FAIRCRAWL_DB).")
@click.option("--json", "as_json", is_flag=True, help="Print the full JSON report instead of the summary.")
@click.option("--list", "list_runs_flag", is_flag=True, help="List recent runs.")
@click.option("--all", "show_all", is_flag=True, help="Show every refused and failed decision, not the first 10.")
def report(run_id: str | None, db: str | None, as_json: bool, list_runs_flag: bool, show_all: bool) -> None:
    """Summarise a past crawl run (the latest by default) from the database."""
    from crawler.report import RunNotFoundError, build_report, format_summary, latest_run_id, list_runs

    database = _open_database(_resolve(db, "FAIRCRAWL_DB", _environment()))
    if list_runs_flag:
        for run in list_runs(database):
            click.echo(f"{run['id']}  {run['started_at']}  {run['status']:<11} {', '.join(run['start_urls'][:3])}")
        return
    run_id = run_id or latest_run_id(database)
    if run_id is None:
        raise UserError("this database has no crawl runs yet; run `faircrawl crawl --testsites` first")
    try:
        built = build_report(database, run_id)
    except RunNotFoundError as error:
        raise UserError(str(error)) from None
    if as_json:
        click.echo(json.dumps(built, indent=2, ensure_ascii=False))
    else:
        click.echo(format_summary(built, show=10**9 if show_all else 10))


# -- demo -----------------------------------------------------------------------


@main.command()
@click.option("--db", metavar="URL", default=None, help="Database URL (FAIRCRAWL_DB).")
@click.option("--store", metavar="DIR", default=None, help="Folder for image files (FAIRCRAWL_STORE).")
@click.option("--report", "report_path", metavar="FILE", default="var/demo-report.json", show_default=True)
def demo(db: str | None, store: str | None, report_path: str) -> None:
    """Serve the test sites, crawl them under the lawful pack and under the unlawful-demo pack, compare."""
    from crawler.demo import DemoError, format_comparison, run_demo
    from crawler.testsites import photos_present

    env = _environment()
    if not photos_present():
        raise UserError("the test sites need the packaged face photos; run `faircrawl testsites fetch-photos`")
    db_url = _resolve(db, "FAIRCRAWL_DB", env)
    _open_database(db_url)  # a clear error now rather than inside a crawl
    try:
        outcome = run_demo(db_url, _resolve(store, "FAIRCRAWL_STORE", env), Path(report_path))
    except DemoError as error:
        raise UserError(str(error)) from None
    click.echo("")
    click.echo(format_comparison(outcome["comparison"]))
    click.echo(f"\nfull report: {report_path}   |   each run: faircrawl report {outcome['lawful']['run']['id']}  /  "
               f"faircrawl report {outcome['unlawful']['run']['id']}")


# -- test sites -----------------------------------------------------------------


@main.group()
def testsites() -> None:
    """The local test-site catalog: serve it, list its manifests, fetch its photos."""


@testsites.command("serve")
@click.option("--port", type=click.IntRange(0, 65535), default=8780, show_default=True)
@click.option("--host", "interface", default="127.0.0.1", show_default=True, help="Interface to listen on.")
def testsites_serve(port: int, interface: str) -> None:
    """Serve every catalog site on one port (routing by host) until Ctrl-C."""
    from twisted.internet import reactor
    from twisted.internet.error import CannotListenError

    from crawler.testsites import build_catalog, listen, photos_present

    if not photos_present():
        raise UserError("the test sites need the packaged face photos; run `faircrawl testsites fetch-photos`")
    catalog = build_catalog()
    try:
        listening = listen(catalog, port=port, interface=interface)
    except CannotListenError as error:
        raise UserError(f"cannot listen on {interface}:{port} ({error.socketError}); choose another --port") from None
    address = f"http://{interface}:{listening.getHost().port}"
    click.echo(f"serving {len(catalog.sites)} test sites at {address} (Ctrl-C stops)")
    for site in catalog.sites.values():
        state = "down" if site.down else ("start" if site.start else "linked")
        click.echo(f"  {site.hostname:<26} {site.jurisdiction:<6} {state:<6} {site.description}")
    click.echo(f"try:   curl --proxy {address} http://open.example.com/")
    click.echo(f"crawl: faircrawl crawl --testsites --testsites-server {address}")
    reactor.run()  # type: ignore[attr-defined]
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

    from crawler.testsites import PhotosMissingError, fetch_packaged_photos

    try:
        folder = fetch_packaged_photos()
    except (subprocess.CalledProcessError, PhotosMissingError, StopIteration) as error:
        raise UserError(f"could not fetch the packaged face photos: {error}") from None
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
    from policy.loading import PolicyError
    from policy.packs import REGISTRY_DIR, lint_registries, read_pack

    errors = warnings = 0
    for target in _pack_paths(paths):
        try:
            pack = read_pack(target)
        except PolicyError as error:
            raise UserError(str(error)) from None
        for line in shown_issues(pack.issues):
            click.echo(line)
        errors += len(pack.errors)
        warnings += len(pack.issues) - len(pack.errors)
        click.echo(f"{pack.name}: {len(pack.rules)} rules in {len(pack.rule_files)} files, "
                   f"{len(pack.errors)} errors, {len(pack.issues) - len(pack.errors)} warnings")
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
    from policy.loading import PolicyError
    from policy.packs import read_pack
    from policy.testing import run_pack_tests

    failed = False
    for target in _pack_paths(paths):
        try:
            pack = read_pack(target)
        except PolicyError as error:
            raise UserError(str(error)) from None
        if pack.errors:
            for issue in pack.errors:
                click.echo(str(issue))
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
              default=None, help="Explain one purpose only (default: what the crawler would ask).")
@click.option("--page-url", metavar="URL", default=None, help="For an image: the page that embeds it.")
@click.option("--policy", "policy_name", metavar="PACK", default=None, help="Rule pack (default: lawful).")
@click.option("--rules", "rule_files", metavar="FILE", multiple=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--testsites", is_flag=True, help="Reach the test-site catalog's hostnames (served locally).")
@click.option("--no-faces", is_flag=True, help="Do not run face detection on an image.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("-v", "--verbose", is_flag=True, help="Also show the rules that did not match and why.")
def policy_explain(url: str, jurisdiction: str | None, purpose: str | None, page_url: str | None,
                   policy_name: str | None, rule_files: tuple[str, ...], testsites: bool, no_faces: bool,
                   as_json: bool, verbose: bool) -> None:
    """Fetch URL (and its site's robots.txt, tdmrep.json, ai.txt) and show the signals, jurisdiction,
    matching rules, decision, obligations and citations. Stores nothing."""
    from crawler.explain import ExplainError, HttpFetcher, explain, explanation_dict, format_explanation
    from policy.jurisdiction import is_known_code

    env = _environment()
    if jurisdiction and not is_known_code(jurisdiction):
        raise UserError(f"unknown jurisdiction {jurisdiction!r}: use an ISO 3166 code (FR), a subdivision (US-IL), "
                        "EU or UNKNOWN")
    for target in (url, page_url):
        if target:
            _check_start_urls((target,))
    loaded = _load_policy(_resolve(policy_name, "FAIRCRAWL_POLICY", env), rule_files, testsites)
    token = _resolve(None, "FAIRCRAWL_PRODUCT_TOKEN", env)
    stop = None
    proxy = None
    if testsites:
        from crawler.testsites import build_catalog, photos_present
        from crawler.testsites.server import serve_in_thread

        if not photos_present():
            raise UserError("the test sites need the packaged face photos; run `faircrawl testsites fetch-photos`")
        proxy, stop = serve_in_thread(build_catalog())
    try:
        result = explain(url, loaded, token, HttpFetcher(proxy), jurisdiction=jurisdiction, purpose=purpose,
                         page_url=page_url, detect=not no_faces)
    except ExplainError as error:
        raise UserError(str(error)) from None
    finally:
        if stop is not None:
            stop()
    if as_json:
        click.echo(json.dumps(explanation_dict(result), indent=2, ensure_ascii=False))
    else:
        click.echo(format_explanation(result, loaded, verbose))


# -- opt-outs ------------------------------------------------------------------------


@main.group()
def optout() -> None:
    """The suppression list: people, images and URLs that must never be collected."""


def _suppression_store(db: str | None):  # type: ignore[no-untyped-def]
    from storage import StorageError
    from storage.keys import load_key
    from storage.suppression import SuppressionStore

    env = _environment()
    url = db or env.get("FAIRCRAWL_SUPPRESSION_DB") or default_settings.FAIRCRAWL_SUPPRESSION_DB
    try:
        return SuppressionStore(url, load_key())
    except StorageError as error:
        raise UserError(str(error)) from None


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
        raise UserError("give --photo, --image or --url (one kind per entry; repeat the option for several)")
    store = _suppression_store(suppression_db)
    try:
        if photos:
            from storage.suppression import ProbeError

            try:
                entry = store.add_photos([(p, Path(p).read_bytes()) for p in photos], label)
            except ProbeError as error:
                raise UserError(str(error)) from None
            what = f"{len(photos)} face template(s); the photos were not kept"
        elif images:
            from PIL import Image, UnidentifiedImageError

            from crawler.pipelines.validate import perceptual_hash

            values = []
            for image in images:
                try:
                    with Image.open(image) as picture:
                        values.append(perceptual_hash(picture))
                except (UnidentifiedImageError, OSError) as error:
                    raise UserError(f"{image}: not a readable image ({error})") from None
            entry = store.add_image_hashes(values, label)
            what = f"{len(values)} perceptual hash(es)"
        else:
            for url in urls:
                _check_start_urls((url,))
            entry = store.add_urls(list(urls), label)
            what = f"{len(urls)} URL(s)"
    finally:
        store.dispose()
    click.echo(f"opt-out {entry} added: {what}")


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
        raise UserError(str(error.args[0])) from None
    finally:
        store.dispose()
    click.echo(f"opt-out {entry_id} withdrawn; deleted: " + ", ".join(f"{n} from {t}" for t, n in removed.items()))


# -- maintenance ----------------------------------------------------------------------


@main.group()
def maintenance() -> None:
    """Upkeep: expire face templates past their retention."""


@maintenance.command("expire")
@click.option("--db", metavar="URL", default=None, help="Database URL (FAIRCRAWL_DB).")
def maintenance_expire(db: str | None) -> None:
    """Delete persisted face templates whose retention has ended (also done at the start of each crawl)."""
    from storage.retention import expire_templates

    database = _open_database(_resolve(db, "FAIRCRAWL_DB", _environment()))
    removed = expire_templates(database)
    click.echo(f"{removed} face template(s) past retention deleted (audit event recorded)")


# -- places for what comes next ---------------------------------------------------------


def _not_yet(name: str, what: str) -> None:
    @main.command(name, context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
                  help=f"{what} (not built yet).", add_help_option=False)
    def placeholder() -> None:
        raise UserError(f"`faircrawl {name}` ({what.lower()}) is not built yet; see the issue tracker")


_not_yet("rights", "File and track deletion and access requests")
_not_yet("serve", "Serve the HTTP API for rights requests and opt-outs")


if __name__ == "__main__":
    main()
