"""faircrawl's one settings module: Scrapy settings and every FAIRCRAWL_* setting with its valid range.

Every entry point reads its configuration from here (``faircrawl ...``, ``scrapy
crawl site`` through ``scrapy.cfg``, the HTTP server), so precedence is the same
everywhere: command-line flags (``-s`` for Scrapy), then ``FAIRCRAWL_*``
environment variables (read below, when this module is imported), then the
defaults in :data:`faircrawl_settings`. A value outside its range is never
used: :func:`check_settings` runs before any crawl starts and
:func:`setting` refuses it wherever a component reads it, so no setting can
switch a protection off without a word.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from faces.images import DEFAULT_MAX_PIXELS
from policy.errors import ConfigError

#: Pillow refuses to open images above this many pixels without a warning (PIL.Image.MAX_IMAGE_PIXELS).
PILLOW_MAX_IMAGE_PIXELS = 89_478_485
_MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Setting:
    """One FAIRCRAWL_* setting: its type, default, valid range and what it does."""

    name: str
    kind: type  # bool | int | float | str | list
    default: Any
    doc: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    pattern: str | None = None
    why: str = ""  # why the range is what it is (shown in the error)
    from_environment: bool = True

    def parse(self, raw: Any) -> Any:
        """A value of the right type from a string (environment, ``-s``) or a typed value; ConfigError if not."""
        if self.kind is bool:
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text not in _BOOLEANS:
                raise ConfigError(f"{self.name}={raw!r}: use 1/0, true/false or yes/no")
            return _BOOLEANS[text]
        if self.kind is list:
            if isinstance(raw, (list, tuple)):
                return [str(v) for v in raw]
            return [part for part in str(raw).split(os.pathsep) if part]
        if self.kind in (int, float):
            if isinstance(raw, bool):
                raise ConfigError(f"{self.name}={raw!r} is not a number")
            try:
                value = self.kind(raw.strip() if isinstance(raw, str) else raw)
            except (TypeError, ValueError):
                raise ConfigError(f"{self.name}={raw!r} is not a valid {self.kind.__name__}{self._range_text()}") from None
            return value
        return str(raw)

    def check(self, value: Any) -> Any:
        """``value`` parsed and checked against the range; ConfigError naming the setting otherwise."""
        value = self.parse(value)
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"{self.name}={value!r} is not a finite number{self._range_text()}")
        if self.minimum is not None and value < self.minimum or self.maximum is not None and value > self.maximum:
            raise ConfigError(f"{self.name}={value!r} is out of range{self._range_text()}")
        if self.choices and value not in self.choices:
            raise ConfigError(f"{self.name}={value!r}: use one of {', '.join(self.choices)}")
        if self.pattern is not None and not re.fullmatch(self.pattern, value):
            raise ConfigError(f"{self.name}={value!r} is not valid{self._range_text()}")
        return value

    def range_text(self) -> str:
        """The valid range as people read it: ``0.6..1``, ``320..4,096``, ``0..`` (empty when unbounded)."""
        if self.minimum is None and self.maximum is None:
            return ""
        return f"{_number(self.minimum)}..{_number(self.maximum)}"

    def _range_text(self) -> str:
        parts = []
        if self.range_text():
            parts.append(f"valid: {self.range_text()}")
        if self.why:
            parts.append(self.why)
        return f" ({'; '.join(parts)})" if parts else ""


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"


_BOOLEANS = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}

#: Every FAIRCRAWL_* setting, alphabetical. Each becomes a module-level setting below.
faircrawl_settings: tuple[Setting, ...] = (
    Setting("FAIRCRAWL_ALLOW_PRIVATE_HOSTS", bool, False,
            "Lift the refusal of loopback, private and link-local hosts (--allow-private-hosts)."),
    Setting("FAIRCRAWL_API_HOST", str, "127.0.0.1", "Interface `faircrawl serve` listens on (--host).",
            pattern=r"\S+", why="an interface address or name"),
    Setting("FAIRCRAWL_API_MAX_FILES", int, 5, "Files one HTTP API upload may carry (photos of a request or opt-out).",
            minimum=1, maximum=20),
    Setting("FAIRCRAWL_API_MAX_UPLOAD_BYTES", int, 10 * _MIB,
            "Largest file one HTTP API upload may carry; a larger body is refused (413) before it is read whole.",
            minimum=1024, maximum=100 * _MIB),
    Setting("FAIRCRAWL_API_PORT", int, 8700, "Port `faircrawl serve` listens on (--port; 0 picks a free one).",
            minimum=0, maximum=65535),
    Setting("FAIRCRAWL_API_RATE_LIMIT", int, 10,
            "Requests and opt-outs one client may file per FAIRCRAWL_API_RATE_WINDOW; more get 429 with Retry-After.",
            minimum=1, maximum=100_000, why="there is no way to switch the limit off"),
    Setting("FAIRCRAWL_API_RATE_WINDOW", float, 60.0, "Seconds over which FAIRCRAWL_API_RATE_LIMIT counts.",
            minimum=1, maximum=86_400),
    Setting("FAIRCRAWL_API_TOKEN_FILE", str, "var/api-token",
            "The operator token's file (mode 0600), made with a random token when FAIRCRAWL_API_TOKEN is unset.",
            pattern=r".+", why="a file path"),
    Setting("FAIRCRAWL_BOT_INFO_URL", str, "http://faircrawl.example/bot",
            "The page the User-Agent links to (docs/bot.md, published by the operator): the tokens and how to verify us.",
            pattern=r"https?://[!-~]+", why="an http(s) URL without spaces"),
    Setting("FAIRCRAWL_BOT_KEY_FILE", str, "var/bot-signing.key",
            "The Ed25519 key that signs every request (Web Bot Auth; mode 0600, made on first use; public key beside it).",
            pattern=r".+", why="a file path"),
    Setting("FAIRCRAWL_DB", str, "sqlite:///var/faircrawl.db",
            "SQLAlchemy URL of the crawl database; PostgreSQL as postgresql+psycopg://user@host/db.",
            pattern=r"\S+", why="a SQLAlchemy URL"),
    Setting("FAIRCRAWL_FACE_MAX_SIDE", int, 1024,
            "Longest side of the whole-image face-detection pass; larger images are also searched in tiles.",
            minimum=320, maximum=4096, why="smaller images hide faces from the detector, larger ones exhaust memory"),
    Setting("FAIRCRAWL_FACE_MODEL", str, "hog", "Face detector: hog, or cnn (about 60x slower).",
            choices=("hog", "cnn")),
    Setting("FAIRCRAWL_FACES_BROKER", str, "",
            "Celery broker for face work (redis://host:6379/0 or amqp://user:pass@host:5672//); empty: the in-process "
            "face workers. Face workers run apart with `faircrawl faces worker --broker URL`.",
            pattern=r"((redis|rediss|amqp|amqps)://\S+)?", why="a redis:// or amqp:// URL, or empty"),
    Setting("FAIRCRAWL_FACES_QUEUE", str, "faircrawl-faces",
            "Celery queue of the face tasks (also the prefix of every key they write in Redis); crawl and workers "
            "must name the same one.", pattern=r"[A-Za-z0-9._-]{1,100}", why="letters, digits, '.', '_', '-'"),
    Setting("FAIRCRAWL_FACES_TIMEOUT", float, 120.0,
            "Seconds a face task may take through the queue; later (or a broker down) the image counts as showing "
            "faces (faces.queue_timeout, faces.queue_unreachable).", minimum=1, maximum=3600),
    Setting("FAIRCRAWL_FACES_TOKEN", str, "faircrawl-faces",
            "The robots.txt product token for face processing: where it is disallowed, no face detection or template runs.",
            pattern=r"[A-Za-z_-]+", why="letters, '_' and '-' only (RFC 9309 §2.2.1)"),
    Setting("FAIRCRAWL_FACE_WORKERS", int, 0, "Face-detection worker processes; 0 means one per core.",
            minimum=0, maximum=64),
    Setting("FAIRCRAWL_FRONTIER", str, "",
            "Redis URL of a shared frontier (--frontier): workers on any machine share one run's queue, duplicate "
            "filter, leases and politeness; empty means the embedded single-process scheduler.",
            pattern=r"(rediss?://\S+)?", why="a redis:// URL, or empty"),
    Setting("FAIRCRAWL_FRONTIER_LEASE", float, 30.0,
            "Seconds a worker holds a request it popped without renewing the lease; a dead worker's requests go "
            "back to the queue after this.", minimum=2, maximum=3600,
            why="shorter leases expire under a busy worker, longer ones delay the retry of a dead worker's requests"),
    Setting("FAIRCRAWL_FRONTIER_MEMORY", int, 1000,
            "Embedded scheduler: requests kept queued in memory; further page requests wait in a private temporary "
            "folder on disk (pickled, removed when the crawl ends), so memory stays flat however large the crawl; 0 "
            "keeps all in memory.", minimum=0),
    Setting("FAIRCRAWL_FRONTIER_PREFIX", str, "faircrawl", "Prefix of every Redis key of the shared frontier.",
            pattern=r"[A-Za-z0-9_.:-]+", why="letters, digits and _ . : - only"),
    Setting("FAIRCRAWL_IMAGE_MAX_BYTES", int, 20 * _MIB, "Image responses larger than this fail (fetch.too_large).",
            minimum=1, maximum=1024 * _MIB),
    Setting("FAIRCRAWL_IMAGE_MAX_PIXELS", int, DEFAULT_MAX_PIXELS,
            "Images with more pixels are refused from their header, before decoding (image.too_many_pixels).",
            minimum=1, maximum=PILLOW_MAX_IMAGE_PIXELS, why="Pillow's own decompression-bomb limit is the ceiling"),
    Setting("FAIRCRAWL_KEY_FILE", str, "var/faircrawl.key",
            "The key file (Fernet, mode 0600) for opt-out data and persisted templates; FAIRCRAWL_KEY holds a key "
            "itself instead.", pattern=r".+", why="a file path"),
    Setting("FAIRCRAWL_MATCH_THRESHOLD", float, 0.6,
            "Two face encodings closer than this are the same person (opt-outs, deletions).",
            minimum=0.6, maximum=1.0,
            why="below face_recognition's 0.6 opted-out people could pass unrecognised; above 1.0 everyone matches"),
    Setting("FAIRCRAWL_MAX_CRAWL_DELAY", float, 60.0, "Largest Crawl-delay honoured; a host asking for more is not crawled.",
            minimum=0, maximum=86_400),
    Setting("FAIRCRAWL_MAX_IMAGES", int, 0, "Image requests per run; 0 means no limit (budget.images).", minimum=0),
    Setting("FAIRCRAWL_MAX_IMAGES_PER_SITE", int, 0, "Image requests per host; 0 means no limit.", minimum=0),
    Setting("FAIRCRAWL_MAX_PAGES", int, 0, "Page requests per run; 0 means no limit (budget.pages).", minimum=0),
    Setting("FAIRCRAWL_MAX_PAGES_PER_SITE", int, 0, "Page requests per host; 0 means no limit.", minimum=0),
    Setting("FAIRCRAWL_OPERATOR_JURISDICTION", str, "",
            "Where the crawl's operator is established (FR, US-CA, EU ...): for faces the stricter of this and the site's "
            "law applies (GDPR Art. 3(1) follows the operator). Empty means UNKNOWN, the strictest (in test-site mode: "
            "the catalog's operator, US-CA).",
            pattern=r"(?i)(UNKNOWN|EU|EEA|UK|[A-Z]{2}(-[A-Z0-9]{1,3})?)?",
            why="an ISO 3166 code (FR), a subdivision (US-IL), EU, EEA or UNKNOWN"),
    Setting("FAIRCRAWL_PAGE_MAX_BYTES", int, 10 * _MIB, "Page responses larger than this fail (fetch.too_large).",
            minimum=1024, maximum=1024 * _MIB),
    Setting("FAIRCRAWL_PIPELINE_IMAGES", int, 64,
            "Images the image pipeline may hold at once (validating, checking, storing); while it holds this many the "
            "crawl fetches no more pages or images, so memory stays bounded however fast downloads are; 0: no limit.",
            minimum=0),
    Setting("FAIRCRAWL_POLICY", str, "lawful",
            "Rule pack in force: lawful, unlawful-demo, or the path of a pack folder or rule file.",
            pattern=r".+", why="a pack name or path"),
    Setting("FAIRCRAWL_PRODUCT_TOKEN", str, "faircrawl", "The product token matched against robots.txt groups.",
            pattern=r"[A-Za-z_-]+", why="letters, '_' and '-' only (RFC 9309 §2.2.1)"),
    Setting("FAIRCRAWL_PROGRESS_INTERVAL", float, 5.0, "Seconds between progress lines on stderr; 0 turns them off.",
            minimum=0, maximum=3600),
    Setting("FAIRCRAWL_PROGRESS_TOTAL", int, 0,
            "How many decisions the crawl will make, when known (the demo knows it for the catalog): shows a bar.",
            minimum=0),
    Setting("FAIRCRAWL_RIGHTS_ARCHIVE_DIR", str, "var/rights",
            "Where access requests write their archive (zip of the answer and the image files); --out overrides.",
            pattern=r".+", why="a folder path"),
    Setting("FAIRCRAWL_RIGHTS_CRASH_AFTER", str, "",
            "Testing aid: a rights command kills itself (SIGKILL) right after this checkpoint or task commits "
            "(received, identified, deleted, verified, compiled, task:<store>), to test resume."),
    Setting("FAIRCRAWL_ROBOTS_MAX_BYTES", int, 16 * _MIB,
            "Largest tdmrep.json or ai.txt downloaded; larger ones count as unreachable (a robots.txt of any size "
            "has its first 500 KiB read and parsed).",
            minimum=500 * 1024, maximum=1024 * _MIB, why="RFC 9309 §2.5: at least 500 KiB must be parsed"),
    Setting("FAIRCRAWL_RULES", list, [], "Extra rule files added to the pack (--rules; os.pathsep-separated)."),
    Setting("FAIRCRAWL_SIGN", bool, True, "Sign every request with HTTP Message Signatures (Web Bot Auth); --no-sign."),
    Setting("FAIRCRAWL_SIGNATURE_AGENT", str, "http://faircrawl.example",
            "The origin whose /.well-known/http-message-signatures-directory publishes the crawler key (Signature-Agent).",
            pattern=r"https?://[A-Za-z0-9.-]+(:[0-9]+)?", why="an http(s) origin, no path"),
    Setting("FAIRCRAWL_SIGNING_KEY_FILE", str, "var/rights-signing.key",
            "The Ed25519 key that signs rights receipts (mode 0600, made on first use; the public key beside it, .pub).",
            pattern=r".+", why="a file path"),
    Setting("FAIRCRAWL_SITES", list, [],
            "Site registries kept outside the code (--sites FILE, repeatable; os.pathsep-separated); with "
            "FAIRCRAWL_SITE_REGISTRIES, empty means policy/registry/sites.yaml."),
    Setting("FAIRCRAWL_SITE_REGISTRIES", list, [],
            "Site registries (host -> jurisdiction); empty means policy/registry/sites.yaml."),
    Setting("FAIRCRAWL_SPILL_DIR", str, "var", "Folder for rows the database could not take (unwritten-<run>.jsonl)."),
    Setting("FAIRCRAWL_STORE", str, "var/images", "Folder for content-addressed image files.",
            pattern=r".+", why="a folder path"),
    Setting("FAIRCRAWL_SUPPRESSION_DB", str, "sqlite:///var/suppression.db",
            "The suppression list's own database, apart from crawl data.", pattern=r"\S+", why="a SQLAlchemy URL"),
    Setting("FAIRCRAWL_TERMS", list, [],
            "Terms registries kept outside the code (--terms FILE, repeatable; os.pathsep-separated); with "
            "FAIRCRAWL_TERMS_REGISTRIES, empty means policy/registry/terms.yaml."),
    Setting("FAIRCRAWL_TERMS_REGISTRIES", list, [],
            "Terms registries (site terms, recorded consent); empty means policy/registry/terms.yaml."),
    Setting("FAIRCRAWL_TESTSITES", bool, False, "Test-site mode: catalog hostnames are routed to the test-site server.",
            from_environment=False),
    Setting("FAIRCRAWL_TESTSITES_SERVER", str, "",
            "URL of a running `faircrawl testsites serve`; empty means the crawl serves the catalog itself.",
            pattern=r"(https?://\S+)?", why="an http(s) URL, or empty"),
    Setting("FAIRCRAWL_VAR_DIR", str, "var",
            "faircrawl's own folder: a deletion also rewrites the reports and spill files faircrawl wrote under it.",
            pattern=r".+", why="a folder path"),
)
_BY_NAME = {spec.name: spec for spec in faircrawl_settings}


def read_environment(environ: Mapping[str, str]) -> tuple[dict[str, Any], list[str]]:
    """FAIRCRAWL_* variables, parsed and checked: the good values, and one problem per bad one."""
    values: dict[str, Any] = {}
    problems: list[str] = []
    for spec in faircrawl_settings:
        raw = environ.get(spec.name)
        if not spec.from_environment or raw is None or raw == "":
            continue
        try:
            values[spec.name] = spec.check(raw)
        except ConfigError as error:
            problems.append(str(error))
    return values, problems


def setting(settings: Any, name: str) -> Any:
    """A FAIRCRAWL_* setting's value from Scrapy settings (or any mapping), checked against its range."""
    spec = _BY_NAME[name]
    value = settings.get(name) if hasattr(settings, "get") else settings[name]
    return spec.check(spec.default if value is None else value)


def check_settings(settings: Any) -> None:
    """Raise ConfigError for the first FAIRCRAWL_* value, from any source, that is malformed or out of range."""
    problems = list(settings.get("FAIRCRAWL_ENVIRONMENT_PROBLEMS") or [])
    if problems:
        raise ConfigError(problems[0])
    for spec in faircrawl_settings:
        setting(settings, spec.name)
    from policy.jurisdiction import is_known_code

    operator = str(setting(settings, "FAIRCRAWL_OPERATOR_JURISDICTION"))
    if operator and not is_known_code(operator):
        raise ConfigError(f"FAIRCRAWL_OPERATOR_JURISDICTION={operator!r} is not a jurisdiction: use an ISO 3166 code "
                          "(FR), a subdivision (US-IL), EU or UNKNOWN")


for _spec in faircrawl_settings:
    globals()[_spec.name] = _spec.default
_environment_values, FAIRCRAWL_ENVIRONMENT_PROBLEMS = read_environment(os.environ)
globals().update(_environment_values)

BOT_NAME = "faircrawl"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"
COMMANDS_MODULE = "crawler.commands"  # `scrapy crawl` checks the configuration as `faircrawl crawl` does

# -- Scrapy ---------------------------------------------------------------------
# Scrapy's own robots middleware fails open on 5xx and network errors and never
# expires its cache; faircrawl's consent gate and site-file cache replace it.
ROBOTSTXT_OBEY = False
# Scrapy's 100 spends more on task churn than on items. 1 was tried (Scrapy starts CONCURRENT_ITEMS tasks per
# response whatever it yields): it saved ~0.3 ms of CPU per response but let image items pile up in the scraper, so
# live objects grew with the crawl (tests/crawler/test_memory.py failed).
CONCURRENT_ITEMS = 16
CONCURRENT_REQUESTS = 32
CONCURRENT_REQUESTS_PER_DOMAIN = 16
COOKIES_ENABLED = False
DOWNLOAD_DELAY = 0
# Every page, image and site-file request carries its own limit (download_maxsize meta) from the
# FAIRCRAWL_*_MAX_BYTES settings; this only bounds anything else.
DOWNLOAD_MAXSIZE = 16 * _MIB
DOWNLOAD_TIMEOUT = 30
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "scrapy.downloadermiddlewares.useragent.UserAgentMiddleware": None,  # crawler.identity names both tokens
    # The same counts without sizing every request and response (crawler/downloader_counts.py), at the same place
    "scrapy.downloadermiddlewares.stats.DownloaderStats": None,
    "crawler.downloader_counts.DownloaderCounts": 850,
    "crawler.gates.room.WaitForPipelineRoom": 20,  # first: a held request takes nothing further
    "crawler.identity.BotIdentity": 30,
    "crawler.gates.testsites.TestSiteRouter": 40,
    "crawler.gates.hosts.PrivateHostGate": 60,
    "crawler.gates.consent.ConsentGate": 100,
    # With FAIRCRAWL_FRONTIER: Crawl-delay and per-host concurrency across workers. Late on the way out so that it is
    # early on the way back: its place is given back before Redirect (600) or Retry (550) turn the answer into a new
    # request, which would end the chain before it.
    "crawler.frontier.politeness.HostSlots": 940,
    "crawler.botauth.middleware.RequestSigner": 950,  # last: after every change to the request
}
EXTENSIONS = {
    "scrapy.extensions.telnet.TelnetConsole": None,
    "crawler.recording.Recording": 100,
    "crawler.progress.Progress": 500,
    "crawler.gc_tuning.CollectorTuning": 550,
    "crawler.log_levels.PerResponseLogLevels": 560,  # no LogRecord for a debug line no handler prints
    "crawler.frontier.leases.Leases": 600,  # with FAIRCRAWL_FRONTIER only; after the recorder (its writer closes first)
}
FEED_EXPORT_ENCODING = "utf-8"
# Scrapy's embedded scheduler, or with FAIRCRAWL_FRONTIER the run's shared Redis frontier (crawler/frontier)
SCHEDULER = "crawler.frontier.scheduler.FrontierSwitch"
# validate -> consent -> faces -> screen -> store, run in order by one pipeline (crawler/pipelines)
ITEM_PIPELINES = {"crawler.pipelines.ImagePipeline": 300}
LOG_FORMATTER = "crawler.logformatter.PrivateLogFormatter"
LOG_LEVEL = "WARNING"
REDIRECT_MAX_TIMES = 10
REMOTE_CONTROL_ENABLED = False  # Scrapy 2.19's code-executing control server: never in a crawler
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
RETRY_ENABLED = True
RETRY_TIMES = 1
TELNETCONSOLE_ENABLED = False
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
URLLENGTH_LIMIT = 2083  # longer URLs get a decision (url.too_long) from the spider instead of a silent drop
USER_AGENT = "faircrawl/0.1 (+http://faircrawl.example/bot; robots.txt tokens: faircrawl, faircrawl-faces)"  # crawler.identity
