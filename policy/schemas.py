"""JSON Schema validation of policy files, turned into lint issues that name file, line and a hint.

Rule files, pack.yaml, test files and the registries are all checked this way:
unknown fields (with a did-you-mean), wrong types and missing fields are caught
by the schema, so the code after it only checks meaning.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from policy.issues import LintIssue
from policy.loading import PathKey, line_of

RULES_DIR = Path(__file__).with_name("rules")
REGISTRY_DIR = Path(__file__).with_name("registry")
_REQUIRED = re.compile(r"^'(?P<name>[^']+)' is a required property$")


@cache
def load_schema(path: Path) -> dict[str, Any]:
    """A schema of ours with its ``#/$defs/...`` references written in place (validating is a third faster)."""
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    inlined: dict[str, Any] = _inline(schema, schema.get("$defs", {}), ())
    return inlined


def _inline(node: Any, definitions: dict[str, Any], expanding: tuple[str, ...]) -> Any:
    if isinstance(node, list):
        return [_inline(item, definitions, expanding) for item in node]
    if not isinstance(node, dict):
        return node
    reference = node.get("$ref")
    if isinstance(reference, str) and reference.startswith("#/$defs/"):
        name = reference.removeprefix("#/$defs/")
        if name in expanding:
            raise ValueError(f"schema definition {name!r} refers to itself; it cannot be inlined")
        rest = {key: value for key, value in node.items() if key != "$ref"}
        return {**_inline(definitions[name], definitions, (*expanding, name)), **_inline(rest, definitions, expanding)}
    return {key: _inline(value, definitions, expanding) for key, value in node.items() if key != "$defs"}


def schema_issues(path: Path | str, document: Any, lines: dict[PathKey, int], schema: dict[str, Any],
                  list_key: str = "rules") -> list[LintIssue]:
    """Every schema error in ``document``, at the line of the value concerned; ``list_key`` items name their id."""
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    misspelt = _misspelt_required(errors)
    issues = []
    for error in errors:
        found = _REQUIRED.match(error.message) if error.validator == "required" else None
        if found and (tuple(error.absolute_path), found["name"]) in misspelt:
            continue  # "unknown field 'reviewd' (did you mean 'reviewed'?)" already says it
        where: PathKey = tuple(error.absolute_path)
        message, hint = error.message, ""
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = set(_properties(error.schema))
            extras = [k for k in error.instance if k not in allowed]
            if extras:
                where = (*where, extras[0])
                close = difflib.get_close_matches(str(extras[0]), sorted(allowed), n=1)
                message = f"unknown field {str(extras[0])!r:.80}"
                hint = (f"did you mean {close[0]!r}? " if close else "") + f"allowed here: {', '.join(sorted(allowed))}"
        elif found:
            described = _properties(error.schema).get(found["name"], {})
            hint = str(described.get("description", "")) if isinstance(described, Mapping) else ""
        elif error.validator == "oneOf" and where and where[-1] in ("purpose", "jurisdiction", "except_jurisdiction"):
            message, hint = f"{where[-1]} must be a name or a list of names", "e.g. jurisdiction: [EU, GB]"
        elif error.validator == "type":
            hint = f"expected {error.validator_value}"
            if error.validator_value == "boolean" and isinstance(error.instance, str):
                hint += ": write true or false without quotes"
        elif error.validator == "const" and isinstance(error.schema, Mapping) and error.schema.get("description"):
            message = f"{where[-1] if where else 'value'} must be {json.dumps(error.validator_value)} here"
            hint = str(error.schema["description"])
        elif error.validator == "format":
            hint = "e.g. 2026-11-01" if error.validator_value == "date" else ""
        issues.append(LintIssue("error", str(path), line_of(lines, where), _shortened(message), hint,
                                _item_id(document, where, list_key)))
    return issues


def _properties(schema: object) -> Mapping[str, Any]:
    """The ``properties`` of a (sub)schema, which jsonschema types as a mapping, a boolean or unset."""
    found = schema.get("properties", {}) if isinstance(schema, Mapping) else {}
    return found if isinstance(found, Mapping) else {}


def _misspelt_required(errors: list[jsonschema.ValidationError]) -> set[tuple[PathKey, str]]:
    """(where, name) of each required field that is missing because an unknown field is its misspelling."""
    misspelt: set[tuple[PathKey, str]] = set()
    for error in errors:
        if error.validator != "additionalProperties" or not isinstance(error.instance, dict):
            continue
        schema = error.schema if isinstance(error.schema, Mapping) else {}
        required = [name for name in schema.get("required", []) if name not in error.instance]
        for extra in (key for key in error.instance if key not in _properties(schema)):
            misspelt.update((tuple(error.absolute_path), close)
                            for close in difflib.get_close_matches(str(extra), required, n=1))
    return misspelt


def _shortened(message: str, limit: int = 300) -> str:
    """Schema messages quote the value; a hostile value can be a megabyte long."""
    return message if len(message) <= limit else message[:limit - 3] + "..."


def _item_id(document: Any, where: PathKey, list_key: str) -> str | None:
    if len(where) < 2 or where[0] != list_key or not isinstance(where[1], int) or not isinstance(document, dict):
        return None
    items = document.get(list_key)
    if isinstance(items, list) and where[1] < len(items) and isinstance(items[where[1]], dict):
        item_id = items[where[1]].get("id")
        return item_id if isinstance(item_id, str) else None
    return None
