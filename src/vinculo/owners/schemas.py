"""Wire shapes of the owners resource: the `Owner` object and its request body.

Field names follow the `Owner` schema of Belvo's OpenAPI specification 1.35.0. The name
parts `first_name`, `last_name` and `second_last_name` are deprecated there but still in
Belvo's examples, so they are sent too.
"""

from __future__ import annotations

from datetime import datetime

import msgspec
from msgspec import UNSET, UnsetType

from vinculo.accounts.schemas import ResourceId, SaveData
from vinculo.links.schemas import Secret
from vinculo.wire.query import Page


class DocumentId(msgspec.Struct, kw_only=True):
    """An owner's identity document, such as a CPF, CURP or NIT, and its number."""

    document_type: str | None
    document_number: str | None


class Owner(msgspec.Struct, kw_only=True):
    """The holder of a link's accounts, as Belvo returns it."""

    id: str
    link: str
    internal_identification: str | None
    collected_at: datetime | None
    created_at: datetime
    # Belvo allows at most 128 characters.
    display_name: str | None
    # Belvo allows at most 256 characters.
    email: str | None
    phone_number: str | None
    address: str | None
    document_id: DocumentId | None
    first_name: str | None = None
    last_name: str | None = None
    second_last_name: str | None = None


class OwnersRequest(msgspec.Struct, kw_only=True):
    """Body of `POST /api/owners/`: retrieve the owners of a link."""

    link: ResourceId
    token: Secret | UnsetType = UNSET
    save_data: SaveData = True
    encryption_key: Secret | UnsetType = UNSET


class PaginatedResponseOwner(Page[Owner]):
    """One page of `GET /api/owners/`."""
