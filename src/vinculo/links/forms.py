"""Checks of submitted credentials against an institution's login form (`form_fields`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from msgspec import UNSET

from vinculo.connectors.base import Credentials
from vinculo.institutions import catalogue
from vinculo.institutions.schemas import FormField, Institution
from vinculo.wire.errors import DoesNotExist, ErrorItem, InstitutionDown, ValidationFailed

RECURRENT_ENCRYPTION_KEY = (
    "Recurrent links cannot use an encryption_key: their refreshes run without the client, "
    "so the server must be able to read the credentials."
)


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def form_errors(
    institution: Institution, submitted: Mapping[str, str | None], *, require_all: bool
) -> list[ErrorItem]:
    """List the problems of `submitted` against the institution's form.

    `require_all` is true on registration, where every non-optional field must be present; an
    update only checks the fields it sends. Fields the form does not have are ignored.
    """
    errors: list[ErrorItem] = []
    for form_field in institution.form_fields:
        value = submitted.get(form_field.name)
        if value is None:
            if require_all and not form_field.optional and form_field.name != "token":
                errors.append(ErrorItem("required", "This field is required.", form_field.name))
            continue
        error = _field_error(form_field, value)
        if error is not None:
            errors.append(error)
    return errors


def _field_error(form_field: FormField, value: str) -> ErrorItem | None:
    if form_field.type == "select" and form_field.values:
        choice = next((item for item in form_field.values if item.code == value), None)
        if choice is None:
            return ErrorItem("invalid_choice", f'"{value}" is not a valid choice.', form_field.name)
        return None
    # fullmatch: a `$` at the end of a form's pattern would otherwise accept a trailing newline.
    if form_field.validation and not _compiled(form_field.validation).fullmatch(value):
        return ErrorItem("invalid", form_field.validation_message, form_field.name)
    return None


def used_fields(institution: Institution) -> frozenset[str]:
    """Names of the credentials stored for this institution: its form's fields.

    Fiscal institutions also keep the e.firma `certificate` and `private_key`.
    """
    names = {form_field.name for form_field in institution.form_fields}
    if institution.type == "fiscal":
        names |= {"certificate", "private_key"}
    return frozenset(names)


def find_institution(name: str) -> Institution:
    institution = catalogue.find_by_name(name)
    if institution is None:
        raise DoesNotExist(f"Object with name={name} does not exist.", field="institution")
    if institution.status == "down":
        raise InstitutionDown()
    return institution


def unset_to_none(value: Any) -> Any:
    return None if value is UNSET else value


def check_certificate_pair(certificate: str | None, private_key: str | None) -> None:
    if (certificate is None) != (private_key is None):
        missing = "private_key" if private_key is None else "certificate"
        raise ValidationFailed(
            [
                ErrorItem(
                    "required",
                    "certificate and private_key must be sent together.",
                    missing,
                )
            ]
        )


def stored_credentials(institution: Institution, values: Mapping[str, str | None]) -> Credentials:
    """Keep only the credentials this institution's form uses."""
    wanted = used_fields(institution)
    kept = {name: value for name, value in values.items() if name in wanted}
    return Credentials(
        username=str(values["username"]),
        password=kept.get("password"),
        username2=kept.get("username2"),
        username3=kept.get("username3"),
        password2=kept.get("password2"),
        username_type=kept.get("username_type"),
        certificate=kept.get("certificate"),
        private_key=kept.get("private_key"),
    )
