"""Accounts, transactions, balances and owners checked against Belvo's OpenAPI spec 1.35.0.

Every body is validated against the response schema that the spec declares for its operation
and status, and each object against its component schema (`Account`, `Transaction`, `Balance`,
`Owner`) with the keys that clients read made required. The tests skip unless the environment
variable VINCULO_BELVO_SPEC contains the path of the spec's YAML file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.links.calls import VALID_TOKEN, create_link
from tests.retrieval.calls import RESOURCES, bank_link, retrieval_body, retrieve
from tests.wire.spec import BelvoSpec, load_spec, validation_errors

ACCOUNT_KEYS = [
    "id",
    "link",
    "institution",
    "collected_at",
    "created_at",
    "category",
    "balance_type",
    "type",
    "name",
    "number",
    "balance",
    "currency",
    "public_identification_name",
    "public_identification_value",
    "last_accessed_at",
    "credit_data",
    "loan_data",
]
TRANSACTION_KEYS = [
    "id",
    "account",
    "collected_at",
    "created_at",
    "value_date",
    "accounting_date",
    "amount",
    "balance",
    "currency",
    "description",
    "observations",
    "merchant",
    "category",
    "reference",
    "type",
    "status",
    "credit_card_data",
]
BALANCE_KEYS = ["id", "account", "value_date", "balance"]
OWNER_KEYS = [
    "id",
    "link",
    "internal_identification",
    "collected_at",
    "created_at",
    "display_name",
    "email",
    "phone_number",
    "address",
    "document_id",
]
PAGE_KEYS = ["count", "next", "previous", "results"]

COMPONENTS = {
    "accounts": ("Account", ACCOUNT_KEYS),
    "transactions": ("Transaction", TRANSACTION_KEYS),
    "balances": ("Balance", BALANCE_KEYS),
    "owners": ("Owner", OWNER_KEYS),
}
PAGES = {
    "accounts": "AccountsPaginatedResponse",
    "transactions": "TransactionsPaginatedResponse",
    "balances": "BalancesPaginatedResponse",
    "owners": "OwnersPaginatedResponse",
}
# Banks of the three countries, so owners carry a CURP, a CPF and a Colombian cédula or NIT.
LINKS = [
    ("bnk100", {}),
    ("business", {"institution": "gringotts_br_retail"}),
    ("1020304050", {"institution": "erebor_co_retail", "username_type": "001"}),
]


@pytest.fixture(scope="session")
def spec(belvo_spec_path: Path) -> BelvoSpec:
    return load_spec(belvo_spec_path)


def _conforms(instance: Any, schema: dict[str, Any]) -> None:
    errors = validation_errors(instance, schema)
    assert errors == [], errors[:5]


def _check_objects(spec: BelvoSpec, resource: str, items: list[dict[str, Any]]) -> None:
    name, keys = COMPONENTS[resource]
    schema = spec.component(name, required=keys)
    assert items, f"no {resource} to check"
    for item in items:
        _conforms(item, schema)


async def test_validator_rejects_bad_transaction(
    spec: BelvoSpec, client: httpx.AsyncClient
) -> None:
    link = await bank_link(client)
    transaction = (await retrieve(client, "transactions", link["id"]))[0]
    broken = {**transaction, "amount": "153.08", "type": "SIDEWAYS", "value_date": "yesterday"}
    schema = spec.component("Transaction", required=TRANSACTION_KEYS)

    errors = validation_errors(broken, schema)

    assert {error.split(":")[0] for error in errors} == {"['amount']", "['type']", "['value_date']"}


async def _links(client: httpx.AsyncClient) -> list[str]:
    return [(await create_link(client, username, **extra))["id"] for username, extra in LINKS]


@pytest.mark.parametrize("resource", RESOURCES)
async def test_retrieval_response(
    spec: BelvoSpec, client: httpx.AsyncClient, resource: str
) -> None:
    for link_id in await _links(client):
        items = await retrieve(client, resource, link_id, days=365)

        _conforms(items, spec.response(f"/api/{resource}/", "post", 201))
        _check_objects(spec, resource, items)


@pytest.mark.parametrize("resource", RESOURCES)
async def test_unsaved_retrieval_response(
    spec: BelvoSpec, client: httpx.AsyncClient, resource: str
) -> None:
    link = await bank_link(client)

    items = await retrieve(client, resource, link["id"], status=200, save_data=False)

    _conforms(items, spec.response(f"/api/{resource}/", "post", 200))
    _check_objects(spec, resource, items)


@pytest.mark.parametrize("resource", RESOURCES)
async def test_resume_response(spec: BelvoSpec, client: httpx.AsyncClient, resource: str) -> None:
    link = await bank_link(client, "mfa_data")
    body = retrieval_body(resource, link["id"])
    challenge = (await client.post(f"/api/{resource}/", json=body)).json()[0]

    response = await client.patch(
        f"/api/{resource}/", json={"session": challenge["session"], "token": VALID_TOKEN}
    )

    assert response.status_code == 201, response.text
    _conforms(response.json(), spec.response(f"/api/{resource}/", "patch", 201))
    _check_objects(spec, resource, response.json())


@pytest.mark.parametrize("resource", RESOURCES)
async def test_list_and_detail_responses(
    spec: BelvoSpec, client: httpx.AsyncClient, resource: str
) -> None:
    link_ids = await _links(client)
    for link_id in link_ids:
        await retrieve(client, resource, link_id, days=60)

    query: dict[str, str | int] = {"link__in": ",".join(link_ids), "page_size": 2}
    page = (await client.get(f"/api/{resource}/", params=query)).json()
    detail = (await client.get(f"/api/{resource}/{page['results'][0]['id']}/")).json()

    assert page["next"] is not None
    _conforms(page, spec.response(f"/api/{resource}/", "get", 200))
    _conforms(page, spec.component(PAGES[resource], required=PAGE_KEYS))
    _check_objects(spec, resource, page["results"])
    _conforms(detail, spec.response(f"/api/{resource}/{{id}}/", "get", 200))
    _check_objects(spec, resource, [detail])
