"""Read policy YAML files safely, keeping the line of every value, so errors name file and line.

Policy files (rule packs, their tests, registries) are written by people and
may be hostile, so the loader refuses what a policy never needs: anchors and
aliases (a "billion laughs" file expands to gigabytes), the ``<<`` merge key,
tags other than the standard scalar ones, nesting deeper than
``MAX_DEPTH``, more than ``MAX_NODES`` values and files over
``MAX_FILE_BYTES``. The limits are checked on PyYAML's event stream, before
the composer (which recurses) builds anything. Dates are kept as the text
written (JSON Schema has no date type); a value its tag cannot construct,
such as an impossible date, is an error.

Every problem is a ``PolicyFileError`` (see :mod:`policy.errors`) with the file,
the line and a hint; nothing else escapes.
"""

from __future__ import annotations

import os
import stat
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
MAX_NODES = 200_000

_STANDARD = "tag:yaml.org,2002:"
_SCALAR_TAGS = frozenset(_STANDARD + name for name in ("str", "int", "float", "bool", "null", "timestamp"))
_COLLECTION_TAGS = frozenset({_STANDARD + "seq", _STANDARD + "map"})
_MERGE_TAG = _STANDARD + "merge"
_VALUE_TAG = _STANDARD + "value"  # a plain "=": read as the text it is
_TIMESTAMP_TAG = _STANDARD + "timestamp"
# The C parser when PyYAML has it (faster, same events and marks); the limits apply either way.
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

__all__ = ["MAX_DEPTH", "MAX_FILE_BYTES", "MAX_NODES", "PathKey", "PolicyError", "PolicyFileError", "line_of",
           "load_yaml_with_lines", "read_policy_text"]


def load_yaml_with_lines(path: Path) -> tuple[Any, dict[PathKey, int]]:
    """Parse one YAML file into plain data plus {path-to-value: 1-based line}."""
    text = read_policy_text(path)
    _check_events(text, path)
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as error:
        raise _syntax_error(path, error) from None
    lines: dict[PathKey, int] = {}
    if node is None:
        return None, lines
    constructor = yaml.SafeLoader("")
    try:
        return _build(node, (), lines, path, constructor), lines
    finally:
        constructor.dispose()


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


def _check_events(text: str, path: Path) -> None:
    """Refuse anchors, aliases, foreign tags, deep nesting and too many values before anything is composed."""
    parser = _Loader(text)
    depth = nodes = 0
    try:
        while parser.check_event():
            event = parser.get_event()
            line = event.start_mark.line + 1 if event.start_mark else 1
            if isinstance(event, yaml.AliasEvent) or (isinstance(event, yaml.NodeEvent) and event.anchor is not None):
                raise PolicyFileError(path, line, "anchors (&name) and aliases (*name) are not allowed in policy files",
                                      "write each value out in full")
            if not isinstance(event, (yaml.ScalarEvent, yaml.CollectionStartEvent)):
                if isinstance(event, yaml.CollectionEndEvent):
                    depth -= 1
                continue
            nodes += 1
            if nodes > MAX_NODES:
                raise PolicyFileError(path, line, f"more than {MAX_NODES} values in one file",
                                      "split it into several files")
            allowed = _SCALAR_TAGS if isinstance(event, yaml.ScalarEvent) else _COLLECTION_TAGS
            if event.tag not in (None, "!") and event.tag not in allowed:
                raise PolicyFileError(path, line, f"the tag {_short_tag(event.tag)} is not allowed in policy files",
                                      "remove the tag; only plain text, numbers, true/false, null and dates are used")
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise _too_deep(path, line)
    except yaml.MarkedYAMLError as error:
        if "nesting depth" in str(error.problem):  # libyaml's own limit, met while it scans ahead
            raise _too_deep(path, _syntax_error(path, error).line) from None
        raise _syntax_error(path, error) from None
    except yaml.YAMLError as error:  # a ReaderError: a character YAML does not allow
        position = getattr(error, "position", 0)
        raise PolicyFileError(path, text[:position].count("\n") + 1, f"a character YAML does not allow ({error})",
                              "remove control characters from the file") from None
    finally:
        parser.dispose()


def _too_deep(path: Path, line: int) -> PolicyFileError:
    return PolicyFileError(path, line, f"mappings and lists nested deeper than {MAX_DEPTH} levels",
                           "a rule needs about five levels; flatten the file")


def _syntax_error(path: Path, error: yaml.MarkedYAMLError) -> PolicyFileError:
    mark = error.problem_mark or error.context_mark
    return PolicyFileError(path, mark.line + 1 if mark else 1, f"YAML syntax error: {error.problem or error}",
                           "check indentation and quoting on that line")


def _build(node: yaml.Node, where: PathKey, lines: dict[PathKey, int], path: Path, constructor: yaml.SafeLoader) -> Any:
    lines[where] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node, path, constructor)
            if key in result:
                raise PolicyFileError(path, key_node.start_mark.line + 1, f"duplicate key {key!r}",
                                      "each key may appear once in a mapping")
            result[key] = _build(value_node, (*where, key), lines, path, constructor)
            lines[(*where, key)] = key_node.start_mark.line + 1  # errors point at the key
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*where, index), lines, path, constructor) for index, item in enumerate(node.value)]
    return _scalar(node, path, constructor)


def _scalar(node: yaml.Node, path: Path, constructor: yaml.SafeLoader) -> Any:
    line = node.start_mark.line + 1
    if not isinstance(node, yaml.ScalarNode):
        raise PolicyFileError(path, line, "a mapping key must be a plain value")
    if node.tag == _MERGE_TAG:
        raise PolicyFileError(path, line, "the merge key '<<' is not allowed in policy files",
                              "write the keys out in full")
    if node.tag == _VALUE_TAG:
        return node.value
    if node.tag not in _SCALAR_TAGS:  # the events were checked; the resolver gives nothing else
        raise PolicyFileError(path, line, f"the tag {_short_tag(node.tag)} is not allowed in policy files")
    try:
        value = constructor.construct_object(node)
    except Exception as error:  # noqa: BLE001 - int(), float(), date() and friends raise anything on bad text
        raise PolicyFileError(path, line, f"{_short_tag(node.tag)} value {node.value!r:.60} cannot be read "
                              f"({type(error).__name__})", "fix the value, or quote it to make it text") from None
    return node.value if node.tag == _TIMESTAMP_TAG else value


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_STANDARD):] if tag.startswith(_STANDARD) else tag


def line_of(lines: dict[PathKey, int], where: PathKey) -> int:
    """The line of ``where`` or of its nearest parent that has one."""
    while where and where not in lines:
        where = where[:-1]
    return lines.get(where, 1)
