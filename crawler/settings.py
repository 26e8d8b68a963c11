"""faircrawl's one settings module: Scrapy settings and FAIRCRAWL_* defaults.

Precedence, highest first: command-line flags, ``FAIRCRAWL_*`` environment
variables (read by :func:`faircrawl_overrides_from_env`), the defaults below.
Groups are by prefix, alphabetical inside a group.
"""

from __future__ import annotations

import os
from typing import Any

from policy.errors import ConfigError

BOT_NAME = "faircrawl"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# -- faircrawl ----------------------------------------------------------------
#: SQLAlchemy URL of the database (FAIRCRAWL_DB); SQLite under ./var by default.
FAIRCRAWL_DB = "sqlite:///var/faircrawl.db"
#: Lift the refusal of loopback, private and link-local hosts (FAIRCRAWL_ALLOW_PRIVATE_HOSTS).
FAIRCRAWL_ALLOW_PRIVATE_HOSTS = False
#: Image responses larger than this many bytes are refused (FAIRCRAWL_IMAGE_MAX_BYTES).
FAIRCRAWL_IMAGE_MAX_BYTES = 20 * 1024 * 1024
#: Images with more pixels are refused from their header, before decoding (FAIRCRAWL_IMAGE_MAX_PIXELS).
FAIRCRAWL_IMAGE_MAX_PIXELS = 40_000_000
#: Largest Crawl-delay honoured; a host asking for more is not crawled (FAIRCRAWL_MAX_CRAWL_DELAY).
FAIRCRAWL_MAX_CRAWL_DELAY = 60.0
#: Page responses larger than this many bytes are not parsed (FAIRCRAWL_PAGE_MAX_BYTES).
FAIRCRAWL_PAGE_MAX_BYTES = 10 * 1024 * 1024
#: Rule pack in force: a shipped pack (lawful, unlawful-demo) or a folder or file (FAIRCRAWL_POLICY).
FAIRCRAWL_POLICY = "lawful"
#: Extra rule files added to the pack (--rules).
FAIRCRAWL_RULES: list[str] = []
#: Site registries (hostname -> jurisdiction); empty means policy/registry/sites.yaml.
FAIRCRAWL_SITE_REGISTRIES: list[str] = []
#: Terms registries (site terms and recorded consent); empty means policy/registry/terms.yaml.
FAIRCRAWL_TERMS_REGISTRIES: list[str] = []
#: The suppression list's own database (FAIRCRAWL_SUPPRESSION_DB), apart from crawl data.
FAIRCRAWL_SUPPRESSION_DB = "sqlite:///var/suppression.db"
#: Two encodings closer than this are the same person (face_recognition's default tolerance).
FAIRCRAWL_MATCH_THRESHOLD = 0.6
#: Face detection: worker processes (0: one per core), model (hog, cnn), largest side before detection.
FAIRCRAWL_FACE_WORKERS = 0
FAIRCRAWL_FACE_MODEL = "hog"
FAIRCRAWL_FACE_MAX_SIDE = 1024
#: The product token matched against robots.txt groups (FAIRCRAWL_PRODUCT_TOKEN).
FAIRCRAWL_PRODUCT_TOKEN = "faircrawl"
#: Seconds between progress lines on stderr; 0 turns them off (FAIRCRAWL_PROGRESS_INTERVAL).
FAIRCRAWL_PROGRESS_INTERVAL = 5.0
#: Largest robots.txt body downloaded; larger ones count as unreachable (parsing reads 500 KiB).
FAIRCRAWL_ROBOTS_MAX_BYTES = 16 * 1024 * 1024
#: Folder for content-addressed image files (FAIRCRAWL_STORE).
FAIRCRAWL_STORE = "var/images"
#: Test-site mode: catalog hostnames are routed to the in-process test-site server.
FAIRCRAWL_TESTSITES = False
#: URL of an already running `faircrawl testsites serve` (FAIRCRAWL_TESTSITES_SERVER);
#: empty means the crawl serves the catalog itself on an ephemeral port.
FAIRCRAWL_TESTSITES_SERVER = ""

# -- Scrapy ---------------------------------------------------------------------
# Scrapy's own robots middleware fails open on 5xx and network errors and never
# expires its cache; faircrawl's RobotsGate replaces it (see crawler/gates).
ROBOTSTXT_OBEY = False
CONCURRENT_ITEMS = 16  # Scrapy's 100 spends more on task churn than on items
CONCURRENT_REQUESTS = 32
CONCURRENT_REQUESTS_PER_DOMAIN = 16
COOKIES_ENABLED = False
DOWNLOAD_DELAY = 0
DOWNLOAD_MAXSIZE = FAIRCRAWL_PAGE_MAX_BYTES
DOWNLOAD_TIMEOUT = 30
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.gates.testsites.TestSiteRouter": 40,
    "crawler.gates.hosts.PrivateHostGate": 60,
    "crawler.gates.consent.ConsentGate": 100,
}
EXTENSIONS = {
    "scrapy.extensions.telnet.TelnetConsole": None,
    "crawler.recording.Recording": 100,
    "crawler.progress.Progress": 500,
}
FEED_EXPORT_ENCODING = "utf-8"
# validate -> consent -> faces -> screen -> store, run in order by one pipeline (crawler/pipelines)
ITEM_PIPELINES = {"crawler.pipelines.ImagePipeline": 300}
LOG_LEVEL = "WARNING"
REDIRECT_MAX_TIMES = 10
REMOTE_CONTROL_ENABLED = False  # Scrapy 2.19's code-executing control server: never in a crawler
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
RETRY_ENABLED = True
RETRY_TIMES = 1
TELNETCONSOLE_ENABLED = False
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
USER_AGENT = "faircrawl/0.1 (+consent-aware image crawler; honours robots.txt)"

_ENV_TYPES: dict[str, type] = {
    "FAIRCRAWL_DB": str,
    "FAIRCRAWL_STORE": str,
    "FAIRCRAWL_PRODUCT_TOKEN": str,
    "FAIRCRAWL_ALLOW_PRIVATE_HOSTS": bool,
    "FAIRCRAWL_IMAGE_MAX_BYTES": int,
    "FAIRCRAWL_IMAGE_MAX_PIXELS": int,
    "FAIRCRAWL_MAX_CRAWL_DELAY": float,
    "FAIRCRAWL_PROGRESS_INTERVAL": float,
    "FAIRCRAWL_TESTSITES_SERVER": str,
    "FAIRCRAWL_POLICY": str,
    "FAIRCRAWL_FACE_WORKERS": int,
    "FAIRCRAWL_FACE_MODEL": str,
    "FAIRCRAWL_FACE_MAX_SIDE": int,
    "FAIRCRAWL_SUPPRESSION_DB": str,
    "FAIRCRAWL_MATCH_THRESHOLD": float,
}


SettingsError = ConfigError  # a FAIRCRAWL_* variable that cannot be read; the message names it


def faircrawl_overrides_from_env(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """FAIRCRAWL_* environment variables, typed; an unreadable one is an error naming it."""
    environ = dict(os.environ) if environ is None else environ
    overrides: dict[str, Any] = {}
    for name, kind in _ENV_TYPES.items():
        raw = environ.get(name)
        if raw is None or raw == "":
            continue
        if kind is bool:
            if raw.lower() not in {"1", "0", "true", "false", "yes", "no"}:
                raise SettingsError(f"{name}={raw!r}: use 1/0, true/false or yes/no")
            overrides[name] = raw.lower() in {"1", "true", "yes"}
            continue
        try:
            overrides[name] = kind(raw)
        except ValueError:
            raise SettingsError(f"{name}={raw!r} is not a valid {kind.__name__}") from None
    return overrides
LOG_FORMATTER = "crawler.logformatter.QuietDropsLogFormatter"
