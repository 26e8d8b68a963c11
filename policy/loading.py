"""Read policy YAML files safely, keeping the line of every value, so errors name file and line.

Policy files (rule packs, their tests, registries) are written by people and
may be hostile, so the loader refuses what a policy never needs: anchors and
aliases (a "billion laughs" file expands to gigabytes), the ``<<`` merge key,
tags other than the standard scalar ones, nesting deeper than
``MAX_DEPTH``, more than ``MAX_NODES`` values and files over
``MAX_FILE_BYTES``. Data is built straight from PyYAML's event stream with
the limits checked on each event, so PyYAML's composer (which recurses, and
shares aliased nodes) never runs. Dates are kept as the text
written (JSON Schema has no date type); a value its tag cannot construct,
such as an impossible date, is an error.

Every problem is a ``PolicyFileError`` (see :mod:`policy.errors`) with the file,
the line and a hint; nothing else escapes.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from policy.errors import PolicyError, PolicyFileError

PathKey = tuple[str | int, ...]

#: Largest policy file read; the shipped ones are a few KiB.
MAX_FILE_BYTES = 2 * 1024 * 1024
#: Deepest nesting of mappings and lists; a rule needs five levels.
MAX_DEPTH = 64
#: Values (scalars, mappings and lists) per file; a rule has about fifteen.
MAX_NODES = 100_000

_STANDARD = "tag:yaml.org,2002:"
_SCALAR_TAGS = frozenset(_STANDARD + name for name in ("str", "int", "float", "bool", "null", "timestamp"))
_COLLECTION_TAGS = frozenset({_STANDARD + "seq", _STANDARD + "map"})
_MERGE_TAG = _STANDARD + "merge"
_VALUE_TAG = _STANDARD + "value"  # a plain "=": read as the text it is
_TIMESTAMP_TAG = _STANDARD + "timestamp"
_STR_TAG = _STANDARD + "str"
_MEMO_MAX_CHARS = 64
# The C parser when PyYAML has it (faster, same events and marks); the limits apply either way.
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

__all__ = ["MAX_DEPTH", "MAX_FILE_BYTES", "MAX_NODES", "PathKey", "PolicyError", "PolicyFileError", "line_of",
           "load_yaml_with_lines", "read_policy_text"]


def load_yaml_with_lines(path: Path) -> tuple[Any, dict[PathKey, int]]:
    """Parse one YAML file into plain data plus {path-to-value: 1-based line} (the key's line in a mapping)."""
    text = read_policy_text(path)
    return _Builder(path).build(text)


def read_policy_text(path: Path) -> str:
    """The text of a regular file of at most ``MAX_FILE_BYTES``, as UTF-8."""
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise PolicyFileError(path, 1, "not a regular file", "a policy file is a YAML file; remove or rename this")
        if info.st_size > MAX_FILE_BYTES:
            raise _too_large(path)
        with open(path, "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise PolicyFileError(path, 1, f"cannot read the file ({error.strerror or type(error).__name__})",
                              "check that it exists, is readable and is not a link to itself") from None
    if len(raw) > MAX_FILE_BYTES:
        raise _too_large(path)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise PolicyFileError(path, raw[:error.start].count(b"\n") + 1, "the file is not UTF-8 text",
                              "save it as UTF-8") from None


def _too_large(path: Path) -> PolicyFileError:
    return PolicyFileError(path, 1, f"the file is over the {MAX_FILE_BYTES // (1024 * 1024)} MiB limit for policy files",
                           "split it into several rule files")


class _Builder:
    """Plain data straight from PyYAML's events, checked as they come: nothing is composed, nothing recurses.

    A mapping or list being filled is a frame on a stack; each scalar is resolved
    (``true``, ``3``, ``2026-11-01``) and constructed like PyYAML's SafeLoader does.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines: dict[PathKey, int] = {}
        self.stack: list[_Frame] = []
        self.root: Any = None
        self.nodes = 0
        self.documents = 0
        self.scalars: dict[tuple[str | None, str, tuple[bool, bool]], Any] = {}
        self.constructor = yaml.SafeLoader("")
        # PyYAML's resolver, typed here: (node kind, scalar text, (plain, quoted) implicit) -> tag.
        self.resolve: Callable[[type[yaml.Node], str, tuple[bool, bool]], str] = self.constructor.resolve

    def build(self, text: str) -> tuple[Any, dict[PathKey, int]]:
        try:
            for event in yaml.parse(text, Loader=_Loader):
                self._take(event)
        except yaml.MarkedYAMLError as error:
            if "nesting depth" in str(error.problem):  # libyaml's own limit, met while it scans ahead
                raise _too_deep(self.path, _syntax_error(self.path, error).line) from None
            raise _syntax_error(self.path, error) from None
        except yaml.YAMLError as error:  # a ReaderError: a character YAML does not allow
            position = getattr(error, "position", 0)
            raise PolicyFileError(self.path, text[:position].count("\n") + 1,
                                  f"a character YAML does not allow ({error})",
                                  "remove control characters from the file") from None
        finally:
            self.constructor.dispose()
        return self.root, self.lines

    def _take(self, event: yaml.Event) -> None:
        line = event.start_mark.line + 1 if event.start_mark else 1
        if isinstance(event, yaml.NodeEvent):
            if isinstance(event, yaml.AliasEvent) or event.anchor is not None:
                raise PolicyFileError(self.path, line, "anchors (&name) and aliases (*name) are not allowed in "
                                      "policy files", "write each value out in full")
            self.nodes += 1
            if self.nodes > MAX_NODES:
                raise PolicyFileError(self.path, line, f"more than {MAX_NODES} values in one file",
                                      "split it into several files")
            if isinstance(event, yaml.ScalarEvent):
                self._place(self._scalar(event, line), line, is_scalar=True)
            elif isinstance(event, yaml.CollectionStartEvent):
                self._open(event, line)
        elif isinstance(event, yaml.CollectionEndEvent):
            self.stack.pop()
        elif isinstance(event, yaml.DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                raise PolicyFileError(self.path, line, "YAML syntax error: a second document ('---') in the file",
                                      "a policy file holds one YAML document")

    def _open(self, event: yaml.CollectionStartEvent, line: int) -> None:
        if event.tag not in (None, "!") and event.tag not in _COLLECTION_TAGS:
            raise _foreign_tag(self.path, line, event.tag)
        if len(self.stack) >= MAX_DEPTH:
            raise _too_deep(self.path, line)
        container: dict[Any, Any] | list[Any] = {} if isinstance(event, yaml.MappingStartEvent) else []
        where = self._place(container, line, is_scalar=False)
        self.stack.append(_Frame(container, where))

    def _place(self, value: Any, line: int, *, is_scalar: bool) -> PathKey:
        """Put ``value`` where the parser is: the root, a list's next item, a mapping's key or its value."""
        if not self.stack:
            self.root = value
            self.lines[()] = line
            return ()
        frame = self.stack[-1]
        if isinstance(frame.container, list):
            where: PathKey = (*frame.where, len(frame.container))
            frame.container.append(value)
            self.lines[where] = line
            return where
        if not frame.has_key:
            if not is_scalar:
                raise PolicyFileError(self.path, line, "a mapping key must be a plain value")
            if value in frame.container:
                raise PolicyFileError(self.path, line, f"duplicate key {value!r:.80}",
                                      "each key may appear once in a mapping")
            frame.key, frame.key_line, frame.has_key = value, line, True
            return frame.where
        where = (*frame.where, frame.key)
        frame.container[frame.key] = value
        self.lines[where] = frame.key_line  # errors point at the key
        frame.has_key = False
        return where

    def _scalar(self, event: yaml.ScalarEvent, line: int) -> Any:
        """The value of a scalar, as SafeLoader would construct it (dates stay text); short ones are memoised."""
        key = (event.tag, event.value, event.implicit)
        if key in self.scalars:
            return self.scalars[key]
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.resolve(yaml.ScalarNode, event.value, event.implicit)
            if tag == _MERGE_TAG:
                raise PolicyFileError(self.path, line, "the merge key '<<' is not allowed in policy files",
                                      "write the keys out in full")
            if tag == _VALUE_TAG:  # a plain "=": YAML 1.1's value key, meant as text
                tag = _STR_TAG
        if tag not in _SCALAR_TAGS:
            raise _foreign_tag(self.path, line, tag)
        value: Any = event.value  # text, and dates kept as the text written
        if tag != _STR_TAG:
            node = yaml.ScalarNode(tag, event.value, style=event.style)  # marks unused: errors carry our line
            try:
                constructed = self.constructor.construct_object(node)
            except Exception as error:  # noqa: BLE001 - int(), float(), date() and friends raise anything on bad text
                raise PolicyFileError(self.path, line, f"{_short_tag(tag)} value {event.value!r:.60} cannot be read "
                                      f"({type(error).__name__})", "fix the value, or quote it to make it text") from None
            if tag != _TIMESTAMP_TAG:
                value = constructed
        if len(event.value) <= _MEMO_MAX_CHARS:
            self.scalars[key] = value
        return value


class _Frame:
    """A mapping or list being filled, where it sits, and (for a mapping) the key waiting for its value."""

    __slots__ = ("container", "has_key", "key", "key_line", "where")

    def __init__(self, container: dict[Any, Any] | list[Any], where: PathKey) -> None:
        self.container = container
        self.where = where
        self.key: Any = None
        self.key_line = 0
        self.has_key = False


def _foreign_tag(path: Path, line: int, tag: str) -> PolicyFileError:
    return PolicyFileError(path, line, f"the tag {_short_tag(tag)} is not allowed in policy files",
                           "remove the tag; only plain text, numbers, true/false, null and dates are used")


def _too_deep(path: Path, line: int) -> PolicyFileError:
    return PolicyFileError(path, line, f"mappings and lists nested deeper than {MAX_DEPTH} levels",
                           "a rule needs about five levels; flatten the file")


def _syntax_error(path: Path, error: yaml.MarkedYAMLError) -> PolicyFileError:
    mark = error.problem_mark or error.context_mark
    return PolicyFileError(path, mark.line + 1 if mark else 1, f"YAML syntax error: {error.problem or error}",
                           "check indentation and quoting on that line")


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_STANDARD):] if tag.startswith(_STANDARD) else tag


def line_of(lines: dict[PathKey, int], where: PathKey) -> int:
    """The line of ``where`` or of its nearest parent that has one."""
    while where and where not in lines:
        where = where[:-1]
    return lines.get(where, 1)
