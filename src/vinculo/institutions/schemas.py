"""Wire shapes of the institution resource (Belvo's `Institution` object)."""

from __future__ import annotations

from typing import Literal

import msgspec

from vinculo.wire.query import Page

InstitutionType = Literal["bank", "fiscal", "employment"]
InstitutionStatus = Literal["healthy", "down"]


class FormFieldValue(msgspec.Struct, kw_only=True, omit_defaults=False):
    """One choice of a `select` form field, such as a document type."""

    code: str
    label: str
    validation: str
    validation_message: str
    placeholder: str


class FormField(msgspec.Struct, kw_only=True):
    """One input of the institution's login form."""

    name: str
    type: str
    label: str
    validation: str
    placeholder: str
    validation_message: str
    values: list[FormFieldValue] | msgspec.UnsetType = msgspec.UNSET
    optional: bool = False


class Feature(msgspec.Struct, kw_only=True):
    """A special capability, such as `token_required` for banks that ask for MFA."""

    name: str
    description: str


class Institution(msgspec.Struct, kw_only=True):
    """An institution as `GET /api/institutions/` returns it."""

    id: int
    name: str
    type: InstitutionType
    website: str | None
    display_name: str
    country_codes: list[str]
    country_code: str
    primary_color: str
    logo: str | None
    icon_logo: str | None
    text_logo: str | None
    form_fields: list[FormField]
    features: list[Feature]
    resources: list[str]
    integration_type: Literal["credentials", "openbanking"]
    status: InstitutionStatus

    def field_named(self, name: str) -> FormField | None:
        """Return the login form field called `name`, or None when the form has none."""
        for form_field in self.form_fields:
            if form_field.name == name:
                return form_field
        return None

    @property
    def requires_token(self) -> bool:
        return any(feature.name == "token_required" for feature in self.features)


class PaginatedResponseInstitution(Page[Institution]):
    """One page of `GET /api/institutions/`."""
