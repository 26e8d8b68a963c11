"""Read policy YAML files keeping the line of every value, so errors name file and line.

Errors are ``PolicyError`` and ``PolicyFileError`` of the one tree in :mod:`policy.errors`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from policy.errors import PolicyError, PolicyFileError

PathKey = tuple[str | int, ...]


__all__ = ["PathKey", "PolicyError", "PolicyFileError", "line_of", "load_yaml_with_lines"]


def load_yaml_with_lines(path: Path) -> tuple[Any, dict[PathKey, int]]:
    """Parse one YAML file into plain data plus {path-to-value: 1-based line}."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise PolicyFileError(path, 1, f"cannot read the file ({error})") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 1
        raise PolicyFileError(path, line, f"YAML syntax error: {error.problem or error}",
                              "check indentation and quoting on that line") from None
    lines: dict[PathKey, int] = {}
    if node is None:
        return None, lines
    loader = yaml.SafeLoader("")
    try:
        return _build(node, (), lines, path, loader), lines
    finally:
        loader.dispose()


def _build(node: yaml.Node, where: PathKey, lines: dict[PathKey, int], path: Path, loader: yaml.SafeLoader) -> Any:
    lines[where] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node, path, loader)
            if key in result:
                raise PolicyFileError(path, key_node.start_mark.line + 1, f"duplicate key {key!r}",
                                      "each key may appear once in a mapping")
            result[key] = _build(value_node, (*where, key), lines, path, loader)
            lines[(*where, key)] = key_node.start_mark.line + 1  # errors point at the key
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*where, index), lines, path, loader) for index, item in enumerate(node.value)]
    return _scalar(node, path, loader)


def _scalar(node: yaml.Node, path: Path, loader: yaml.SafeLoader) -> Any:
    if not isinstance(node, yaml.ScalarNode):
        raise PolicyFileError(path, node.start_mark.line + 1, "a mapping key must be a plain value")
    return loader.construct_object(node)


def line_of(lines: dict[PathKey, int], where: PathKey) -> int:
    """The line of ``where`` or of its nearest parent that has one."""
    while where and where not in lines:
        where = where[:-1]
    return lines.get(where, 1)
