"""Checks made before a crawl sends anything, the same for every entry point.

``faircrawl crawl``, ``scrapy crawl site`` (through ``crawler.commands``) and
`policy explain` call :func:`preflight` with the crawl's final settings: the
configuration is in range, the rule pack and registries load, the database
opens (and runs a crashed crawl left ``running`` are marked interrupted), the
suppression list opens with its key, and the image store can be written. Any
problem is a :class:`~policy.errors.FaircrawlError` naming what to fix, so the
caller prints one ``error:`` line and nothing is fetched.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

from crawler.settings import check_settings, setting
from policy.errors import StorageError, UsageError
from policy.packs import LoadedPolicy, load_policy
from storage import Database, ImageStore
from storage.key_guard import load_key_for
from storage.runs import reap_dead_runs


@dataclass(slots=True)
class Preflight:
    policy: LoadedPolicy
    database: Database | None  # None in a dry run


def registry_paths(settings: Any) -> tuple[list[Path], list[Path]]:
    """The site and terms registries in use: the configured ones or the shipped ones, plus the catalog's in test-site mode."""
    from crawler.policy_runtime import registry_paths as paths

    return paths(settings.getbool("FAIRCRAWL_TESTSITES"),
                 [*setting(settings, "FAIRCRAWL_SITES"), *setting(settings, "FAIRCRAWL_SITE_REGISTRIES")],
                 [*setting(settings, "FAIRCRAWL_TERMS"), *setting(settings, "FAIRCRAWL_TERMS_REGISTRIES")])


def load_crawl_policy(settings: Any) -> LoadedPolicy:
    from crawler.policy_runtime import operator_jurisdiction

    operator_jurisdiction(settings)  # a code no rule could name stops the crawl before anything is fetched
    sites, terms = registry_paths(settings)
    return load_policy(setting(settings, "FAIRCRAWL_POLICY"), [Path(p) for p in setting(settings, "FAIRCRAWL_RULES")],
                       sites, terms)


def open_database(url: str, store: Path | None = None, notify: Callable[[str], None] | None = None) -> Database:
    """The crawl database, migrated to the current schema (StorageError with what to do otherwise).

    Runs left ``running`` by a crawl process that died (SIGKILL, power loss) are marked ``interrupted``
    with what they decided, and its partial files in ``store`` are removed; ``notify`` hears of each.
    """
    from storage.rights.service import unfinished_count

    database = Database(url)
    database.upgrade()
    for reaped in reap_dead_runs(database, ImageStore(store) if store is not None else None):
        if notify is not None:
            notify(f"run {reaped.run_id} was left running by a crawl that died; marked interrupted "
                   f"({reaped.finish_reason})")
    unfinished = unfinished_count(database)
    if unfinished and notify is not None:
        notify(f"{unfinished} rights request(s) are not finished: `faircrawl rights list` shows them, "
               "`faircrawl rights resume` completes them")
    return database


def crawl_key(settings: Any, database: Database | None = None) -> Fernet:
    """The key for the suppression list and persisted templates; a new one only while nothing is encrypted."""
    return load_key_for(database=database, suppression_url=setting(settings, "FAIRCRAWL_SUPPRESSION_DB"),
                        key_file=Path(setting(settings, "FAIRCRAWL_KEY_FILE")))


def check_writable_folder(folder: Path, what: str) -> None:
    """Create ``folder`` if needed and prove a file can be written there, before any work depends on it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".faircrawl-write-check-"):
            pass
    except OSError as error:
        raise StorageError(f"cannot write to the {what} {folder} ({error.strerror or error}); "
                           "choose another folder or fix its permissions") from None


def check_report_path(path: Path) -> None:
    """A --report FILE must be writable before the crawl, not found out after it."""
    if path.is_dir():
        raise UsageError(f"--report {path} is a folder; give a file name such as {path / 'report.json'}")
    parent = path.parent
    if parent.exists() and not parent.is_dir():
        raise UsageError(f"--report {path}: {parent} is a file, not a folder")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"--report {path}: cannot create {parent} ({error.strerror or error})") from None
    if path.exists() and not os.access(path, os.W_OK) or not path.exists() and not os.access(parent, os.W_OK):
        raise UsageError(f"--report {path} cannot be written (permission denied); choose another path")


def preflight(settings: Any, *, dry_run: bool = False, notify: Callable[[str], None] | None = None) -> Preflight:
    """Everything a crawl needs, checked; raises FaircrawlError naming the first problem."""
    from crawler.optouts import open_suppression_store

    check_settings(settings)
    policy = load_crawl_policy(settings)
    database = None
    if not dry_run:
        store = Path(setting(settings, "FAIRCRAWL_STORE"))
        database = open_database(setting(settings, "FAIRCRAWL_DB"), store, notify)
        check_writable_folder(store, "image store")
        crawl_key(settings, database)  # made now if nothing is encrypted yet; refused if it went missing
    open_suppression_store(settings).dispose()  # a wrong key or an unreadable list stops the crawl here
    if setting(settings, "FAIRCRAWL_SIGN") and not dry_run:  # the signing key: made now, refused if exposed or damaged
        from crawler.botauth.keys import load_bot_key

        load_bot_key(Path(setting(settings, "FAIRCRAWL_BOT_KEY_FILE")))
    return Preflight(policy, database)


def rights_service(settings: Any, notify: Callable[[str], None] | None = None, archive_dir: Path | None = None,
                   progress: Callable[[str], None] | None = None) -> Any:
    """The rights service over the configured stores (the CLI's and the HTTP server's, built the same way)."""
    from policy.packs import read_pack
    from storage.rights import RightsConfig, RightsService
    from storage.rights.model import RightsPractice

    check_settings(settings)
    practice = RightsPractice.from_pack(read_pack(setting(settings, "FAIRCRAWL_POLICY")).rights_practice)
    store = Path(setting(settings, "FAIRCRAWL_STORE"))
    database = open_database(setting(settings, "FAIRCRAWL_DB"), store, notify)
    var_dir = Path(setting(settings, "FAIRCRAWL_VAR_DIR"))
    return RightsService(RightsConfig(
        database=database, image_store=ImageStore(store), fernet=crawl_key(settings, database),
        suppression_url=setting(settings, "FAIRCRAWL_SUPPRESSION_DB"),
        signing_key_file=Path(setting(settings, "FAIRCRAWL_SIGNING_KEY_FILE")),
        match_threshold=setting(settings, "FAIRCRAWL_MATCH_THRESHOLD"),
        report_dirs=sorted({var_dir, Path(setting(settings, "FAIRCRAWL_SPILL_DIR"))}),
        archive_dir=archive_dir or Path(setting(settings, "FAIRCRAWL_RIGHTS_ARCHIVE_DIR")),
        face_model=setting(settings, "FAIRCRAWL_FACE_MODEL"), face_max_side=setting(settings, "FAIRCRAWL_FACE_MAX_SIDE"),
        max_pixels=setting(settings, "FAIRCRAWL_IMAGE_MAX_PIXELS"),
        face_workers=setting(settings, "FAIRCRAWL_FACE_WORKERS") or None,
        crash_after=setting(settings, "FAIRCRAWL_RIGHTS_CRASH_AFTER"), progress=progress, practice=practice))
