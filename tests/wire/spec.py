"""Belvo's OpenAPI 3.0 schemas translated to JSON Schema (draft 2020-12) for response checks.

OpenAPI 3.0 schemas differ from JSON Schema in a few ways that matter here: `nullable: true`
adds `null` to the allowed types (and to an `enum`), `$ref` ignores its sibling keywords, and
`example` is an OpenAPI annotation. References stay as `#/components/schemas/...` pointers:
each schema built here carries the translated `components` section, so they resolve inside
the same document.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator, FormatChecker

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"

# OpenAPI-only keywords with no JSON Schema meaning, so dropping them changes no validation result.
_OPENAPI_ONLY = frozenset({"example", "nullable", "xml", "externalDocs", "discriminator"})
_SCHEMA_LISTS = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})
_SCHEMA_VALUES = frozenset({"items", "not", "additionalProperties"})
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def _is_date_time(value: object) -> bool:
    """Check an RFC 3339 timestamp, because the installed jsonschema has no date-time checker."""
    if not isinstance(value, str):
        return True
    if not _RFC3339.match(value):
        return False
    # Python 3.11 parses "Z" but not a lower-case "z", which RFC 3339 also allows.
    datetime.fromisoformat(value.upper())
    return True


FORMAT_CHECKER = FormatChecker()
FORMAT_CHECKER.checks("date-time", raises=ValueError)(_is_date_time)


def to_json_schema(node: Any) -> Any:
    """Translate one OpenAPI 3.0 schema object, and every schema inside it, to JSON Schema."""
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        # OpenAPI 3.0 ignores the siblings of `$ref`, while JSON Schema 2020-12 applies them.
        return {"$ref": node["$ref"]}

    result: dict[str, Any] = {}
    for key, value in node.items():
        if key in _OPENAPI_ONLY:
            continue
        if key == "properties":
            result[key] = {name: to_json_schema(schema) for name, schema in value.items()}
        elif key in _SCHEMA_LISTS:
            result[key] = [to_json_schema(schema) for schema in value]
        elif key in _SCHEMA_VALUES and isinstance(value, dict):
            result[key] = to_json_schema(value)
        else:
            result[key] = value

    if node.get("nullable") is True:
        result = _allow_null(result)
    return result


def _allow_null(schema: dict[str, Any]) -> dict[str, Any]:
    if "type" not in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    allowed = {**schema, "type": [*types, "null"] if "null" not in types else types}
    if "enum" in allowed and None not in allowed["enum"]:
        allowed["enum"] = [*allowed["enum"], None]
    return allowed


class BelvoSpec:
    """One Belvo OpenAPI document, with its component schemas translated once."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        raw_schemas: dict[str, Any] = document["components"]["schemas"]
        self.components = {
            "schemas": {name: to_json_schema(schema) for name, schema in raw_schemas.items()}
        }

    def has_component(self, name: str) -> bool:
        return name in self.components["schemas"]

    def component_properties(self, name: str) -> list[str]:
        return list(self.components["schemas"][name].get("properties", {}))

    def component(self, name: str, *, required: Iterable[str] = ()) -> dict[str, Any]:
        """Return a schema document for component `name`, also requiring the keys `required`.

        Belvo's component schemas list no required keys, so every key a client relies on is
        made required here explicitly.
        """
        if not self.has_component(name):
            raise KeyError(f"Belvo's spec has no component schema named {name!r}")
        schema = self._document({"$ref": f"#/components/schemas/{name}"})
        keys = list(required)
        if keys:
            schema["required"] = keys
        return schema

    def response(self, path: str, method: str, status: int) -> dict[str, Any]:
        """Return the JSON response schema that the spec declares for one operation and status."""
        operation = self.document["paths"][path][method.lower()]
        response = operation["responses"][str(status)]
        content_schema = response["content"]["application/json"]["schema"]
        return self._document(to_json_schema(content_schema))

    def declares(self, path: str, method: str, status: int) -> bool:
        operation = self.document["paths"][path][method.lower()]
        return str(status) in operation["responses"]

    def _document(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {"$schema": DRAFT_2020_12, **schema, "components": self.components}


def validation_errors(instance: Any, schema: dict[str, Any]) -> list[str]:
    """List every way `instance` breaks `schema`, as readable lines (empty when it conforms)."""
    validator = Draft202012Validator(schema, format_checker=FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(instance), key=lambda error: list(error.path))
    return [f"{list(error.absolute_path)}: {error.message}" for error in errors]


@cache
def load_spec(path: Path) -> BelvoSpec:
    """Parse Belvo's OpenAPI YAML at `path` once per test session."""
    with path.open(encoding="utf-8") as handle:
        document = yaml.safe_load(handle)
    return BelvoSpec(document)
