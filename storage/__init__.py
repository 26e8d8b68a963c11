"""Where what a crawl keeps lives: the database (runs, sites, pages, images,
decisions), the content-addressed image files, the writer that fills them
without stalling the crawl, and the lifecycle of each run."""

from storage.database import Database
from storage.errors import DatabaseUnavailableError, KeyFileError, SchemaError, StorageError, WriterError
from storage.image_store import ImageStore
from storage.runs import ReapedRun, RunStatus, create_run, finish_run, reap_dead_runs
from storage.writer import BackgroundWriter

__all__ = [
    "BackgroundWriter",
    "Database",
    "DatabaseUnavailableError",
    "ImageStore",
    "KeyFileError",
    "ReapedRun",
    "RunStatus",
    "SchemaError",
    "StorageError",
    "WriterError",
    "create_run",
    "finish_run",
    "reap_dead_runs",
]
