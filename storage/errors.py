"""The storage layer's errors; they belong to the one tree drawn in :mod:`policy.errors`."""

from policy.errors import DatabaseUnavailableError, KeyFileError, SchemaError, StorageError, WriterError

__all__ = ["DatabaseUnavailableError", "KeyFileError", "SchemaError", "StorageError", "WriterError"]
