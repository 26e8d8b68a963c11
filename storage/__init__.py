"""Where what a crawl keeps lives: the database (runs, sites, pages, images,
decisions), the content-addressed image files, and the writer that fills them
without stalling the crawl."""

from storage.database import Database
from storage.errors import DatabaseUnavailableError, KeyFileError, SchemaError, StorageError, WriterError
from storage.image_store import ImageStore
from storage.writer import BackgroundWriter

__all__ = [
    "BackgroundWriter",
    "Database",
    "DatabaseUnavailableError",
    "ImageStore",
    "KeyFileError",
    "SchemaError",
    "StorageError",
    "WriterError",
]
