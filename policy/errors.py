"""Every error faircrawl reports, in one tree (httpx's ``_exceptions.py`` is the model).

A ``FaircrawlError`` is a problem the user can act on: the CLI prints its
message as one ``error: ...`` line and exits with status 2, the HTTP API turns
it into a JSON error. Anything else that escapes is a bug. Messages name the
file, line, URL or setting concerned and say what to do; they never carry
image bytes, face encodings or probe photos.

    FaircrawlError
    ├── UsageError                  a command-line mistake (bad URL, missing option, unwritable report path)
    ├── ConfigError                 a FAIRCRAWL_* setting or variable that is malformed or out of range
    ├── PolicyError                 a rule pack or registry that must not be used
    │   └── PolicyFileError         one file: syntax, shape, limits; carries path, line and a hint
    ├── ImageError                  image bytes faircrawl will not decode; ``code`` is the reason code
    ├── ProbeError                  a probe photo that cannot be used (unreadable, not exactly one face)
    ├── StorageError                the database, the image store or the key
    │   ├── DatabaseUnavailableError    wrong URL, server down, not a database, corrupt file
    │   ├── SchemaError                 a schema newer than this code
    │   ├── KeyFileError                the encryption key is missing, malformed, exposed or not the data's
    │   └── WriterError                 the background writer could not keep rows (they are spilled, not lost)
    ├── RunNotFoundError            no such crawl run
    ├── ExplainError                a URL `policy explain` cannot explain
    ├── DemoError                   the demo could not finish a step
    └── PhotosMissingError          the packaged face photos are not set up

This module imports nothing, so every package (``faces/`` included) can use it.
"""

from __future__ import annotations

from pathlib import Path


class FaircrawlError(Exception):
    """A problem the user can fix; ``str()`` is the whole message."""


class UsageError(FaircrawlError):
    pass


class ConfigError(FaircrawlError):
    """A setting that cannot be used; the message names it and its valid range."""


class PolicyError(FaircrawlError):
    """A policy that must not be used; the message says what to fix."""


class PolicyFileError(PolicyError):
    def __init__(self, path: Path | str, line: int, problem: str, hint: str = "") -> None:
        self.path, self.line, self.problem, self.hint = str(path), line, problem, hint
        super().__init__(f"{self.path}:{line}: {problem}" + (f" (hint: {hint})" if hint else ""))


class ImageError(FaircrawlError):
    """Bytes that are not an image faircrawl will decode; ``code`` is a reason code such as ``image.truncated``."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


class ProbeError(FaircrawlError):
    """A probe photo that cannot be used; the message names it and says why."""


class StorageError(FaircrawlError):
    """A storage problem with a message that says what to do."""


class DatabaseUnavailableError(StorageError):
    pass


class SchemaError(StorageError):
    pass


class KeyFileError(StorageError):
    """The key is missing, malformed, readable by others, or not the one the data was encrypted with."""


class WriterError(StorageError):
    """The background writer failed; what it could not write is in the spill file named in the message."""


class RunNotFoundError(FaircrawlError):
    pass


class ExplainError(FaircrawlError):
    pass


class DemoError(FaircrawlError):
    pass


class PhotosMissingError(FaircrawlError):
    pass
