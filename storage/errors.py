"""Errors the storage layer reports to users (never with a traceback).

    StorageError
    ├── DatabaseUnavailableError   the URL is wrong or the server cannot be reached
    └── SchemaError                the database holds a schema newer than this code
"""


class StorageError(Exception):
    """A storage problem with a message that says what to do."""


class DatabaseUnavailableError(StorageError):
    pass


class SchemaError(StorageError):
    pass
