"""Turn a rejected request body into Belvo's field errors (`required`, `null`, `blank`, ...).

Request bodies are declared as msgspec Structs, and Litestar decodes them. When decoding fails,
msgspec reports only the first problem, while Belvo (a Django REST Framework service) lists
every faulty field. `body_errors` therefore checks the raw body again field by field and words
each problem the way Django REST Framework does.
"""

from __future__ import annotations

import re
import typing
from typing import Any

import msgspec

from vinculo.wire.errors import ErrorItem

_LENGTH_AT_LEAST = re.compile(r"of length >= (\d+)")
_LENGTH_AT_MOST = re.compile(r"of length <= (\d+)")
_ENUM_VALUE = re.compile(r"^Invalid enum value '(.*)'(?: - at `.*`)?$")

_TYPE_MESSAGES = {
    "str": "Not a valid string.",
    "bool": "Must be a valid boolean.",
    "int": "A valid integer is required.",
    "float": "A valid number is required.",
    "object": "Invalid data. Expected a dictionary.",
}


def json_type_name(value: Any) -> str:
    """Name `value`'s JSON type the way Django REST Framework messages do (`str`, `list`)."""
    return type(value).__name__


def body_errors(raw: bytes, struct_type: type[msgspec.Struct]) -> list[ErrorItem]:
    """List every Belvo field error of `raw` against `struct_type`, in field order."""
    try:
        payload = msgspec.json.decode(raw) if raw.strip() else {}
    except msgspec.DecodeError as exc:
        return [ErrorItem("parse_error", f"JSON parse error - {exc}")]
    if not isinstance(payload, dict):
        return [
            ErrorItem(
                "invalid",
                f"Invalid data. Expected a dictionary, but got {json_type_name(payload)}.",
            )
        ]

    errors: list[ErrorItem] = []
    for struct_field in msgspec.structs.fields(struct_type):
        name = struct_field.encode_name
        if name not in payload:
            if struct_field.required:
                errors.append(ErrorItem("required", "This field is required.", name))
            continue
        value = payload[name]
        try:
            msgspec.convert(value, struct_field.type)
        except msgspec.ValidationError as exc:
            errors.append(field_error(name, value, struct_field.type, str(exc)))
    if not errors:
        # The struct's own checks passed field by field, so the body as a whole is at fault.
        errors.append(ErrorItem("invalid", "Invalid request body."))
    return errors


def field_error(name: str, value: Any, field_type: Any, detail: str) -> ErrorItem:
    """Word one msgspec validation failure of field `name` as Django REST Framework does."""
    custom_message = _custom_message(field_type)
    if value is None:
        return ErrorItem("null", "This field may not be null.", name)
    if value == "" and _LENGTH_AT_LEAST.search(detail):
        return ErrorItem("blank", "This field may not be blank.", name)
    if _accepts_bool(field_type) and detail.startswith(("Invalid enum value", "Expected `")):
        # A boolean that also takes Django REST Framework's spellings ("true", "0"...).
        return ErrorItem("invalid", "Must be a valid boolean.", name)
    if match := _ENUM_VALUE.search(detail):
        # For a list, msgspec names the bad item, which is what the message should show.
        return ErrorItem("invalid_choice", f'"{match.group(1)}" is not a valid choice.', name)
    if "matching regex" in detail:
        return ErrorItem("invalid", custom_message or "Enter a valid value.", name)
    if match := _LENGTH_AT_LEAST.search(detail):
        count = int(match.group(1))
        if isinstance(value, list):
            return ErrorItem("empty", "This list may not be empty.", name)
        return ErrorItem("min_length", f"Ensure this field has at least {count} characters.", name)
    if match := _LENGTH_AT_MOST.search(detail):
        count = int(match.group(1))
        return ErrorItem(
            "max_length", f"Ensure this field has no more than {count} characters.", name
        )
    if "Invalid UUID" in detail:
        return ErrorItem("invalid", f'"{value}" is not a valid UUID.', name)
    if "Invalid date" in detail or "encoded date" in detail or "`date`" in detail:
        return ErrorItem(
            "invalid",
            "Date has wrong format. Use one of these formats instead: YYYY-MM-DD.",
            name,
        )
    if detail.startswith("Expected `array`"):
        return ErrorItem(
            "not_a_list",
            f'Expected a list but got type "{json_type_name(value)}".',
            name,
        )
    if custom_message:
        return ErrorItem("invalid", custom_message, name)
    expected = detail.removeprefix("Expected `").split("`", 1)[0]
    return ErrorItem("invalid", _TYPE_MESSAGES.get(expected, "Invalid value."), name)


def _accepts_bool(field_type: Any) -> bool:
    return field_type is bool or bool in typing.get_args(field_type)


def _custom_message(field_type: Any) -> str | None:
    """Return the `message` a field's `msgspec.Meta(extra=...)` sets, if any."""
    for candidate in (field_type, *typing.get_args(field_type)):
        for metadata in getattr(candidate, "__metadata__", ()):
            if isinstance(metadata, msgspec.Meta) and metadata.extra:
                message = metadata.extra.get("message")
                if isinstance(message, str):
                    return message
    return None
