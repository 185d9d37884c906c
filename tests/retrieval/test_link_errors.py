"""Retrieval errors that come from the link's state or from the institution.

A failed retrieval must store nothing and leave the link's `last_accessed_at` alone, so most
tests also check the lists and the link afterwards.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from tests.links.calls import FISCAL, MFA_BANK, check_error, link_body, start_mfa
from tests.retrieval.calls import (
    DATED,
    RESOURCES,
    bank_link,
    count,
    retrieval_body,
    retrieve,
)
from vinculo.app import VinculoApp
from vinculo.clock import Clock
from vinculo.db.models import links
from vinculo.links.retention import apply_retention

INVALID_LINK = "The link has been invalidated. You may need to update link credentials"
UNCONFIRMED_LINK = "The link creation has not been completed yet"
EXPIRED_CREDENTIALS = "The credentials of this link have expired"
UNSUPPORTED = "The resource you are trying to access is not supported by this institution"
TOO_MANY_SESSIONS = (
    "Impossible to login, a session is already opened with the institution for these credentials"
)
REQUEST_TIMEOUT = (
    "The request timed out, you can retry asking for less data by changing your query parameters"
)
UNAVAILABLE_DATA = "The institution did not return any data for the request."
KEY_MISSING = (
    "This link's credentials are sealed with an encryption_key: send the same encryption_key."
)
KEY_WRONG = "The encryption_key does not match the one that sealed this link's credentials."


async def _post(client: httpx.AsyncClient, resource: str, link_id: str, **extra: Any) -> Any:
    return await client.post(f"/api/{resource}/", json=retrieval_body(resource, link_id, **extra))


async def _assert_untouched(client: httpx.AsyncClient, link: dict[str, Any]) -> None:
    """Check that nothing was stored for `link` and that its access time did not move."""
    for resource in RESOURCES:
        assert await count(client, resource, {"link": link["id"]}) == 0, resource
    after = (await client.get(f"/api/links/{link['id']}/")).json()
    assert after["last_accessed_at"] == link["last_accessed_at"]


# The link's status ----------------------------------------------------------------------------


async def test_invalid_link(app: VinculoApp, client: httpx.AsyncClient, clock: Clock) -> None:
    link = await bank_link(client)
    async with app.context.database.unit_of_work() as uow:
        await uow.execute(update(links).where(links.c.id == link["id"]).values(status="invalid"))
    clock.advance(timedelta(hours=1))

    for resource in RESOURCES:
        response = await _post(client, resource, link["id"])

        check_error(response, status=400, code="invalid_link", message=INVALID_LINK)
    await _assert_untouched(client, link)


async def test_unconfirmed_link(client: httpx.AsyncClient) -> None:
    challenge = await start_mfa(client)

    for resource in RESOURCES:
        response = await _post(client, resource, challenge["link"])

        check_error(response, status=400, code="unconfirmed_link", message=UNCONFIRMED_LINK)
    for resource in RESOURCES:
        assert await count(client, resource, {"link": challenge["link"]}) == 0, resource


async def test_nostore_link_expired(client: httpx.AsyncClient, clock: Clock) -> None:
    # Belvo only lets a single link skip storing its credentials when it fetches at once.
    link = await bank_link(
        client,
        access_mode="single",
        credentials_storage="nostore",
        fetch_resources=["ACCOUNTS", "OWNERS"],
        fetch_historical=True,
    )
    clock.advance(timedelta(minutes=1))

    for resource in RESOURCES:
        response = await _post(client, resource, link["id"])

        check_error(response, status=404, code="expired_credentials", message=EXPIRED_CREDENTIALS)
    await _assert_untouched(client, link)


async def test_storage_period_lapsed(client: httpx.AsyncClient, clock: Clock) -> None:
    link = await bank_link(client, access_mode="single", credentials_storage="1d")
    clock.advance(timedelta(days=1))

    for resource in RESOURCES:
        response = await _post(client, resource, link["id"], today=clock.now().date())

        check_error(response, status=404, code="expired_credentials", message=EXPIRED_CREDENTIALS)
    await _assert_untouched(client, link)


async def test_storage_period_lapsed_after_retention(
    app: VinculoApp, client: httpx.AsyncClient, clock: Clock
) -> None:
    link = await bank_link(client, access_mode="single", credentials_storage="1d")
    clock.advance(timedelta(days=1, seconds=1))
    # The server runs retention every minute: it drops the credentials and marks the link
    # invalid. The error must not depend on whether it ran yet.
    async with app.context.database.unit_of_work() as uow:
        await apply_retention(uow, clock.now())

    for resource in RESOURCES:
        response = await _post(client, resource, link["id"], today=clock.now().date())

        check_error(response, status=404, code="expired_credentials", message=EXPIRED_CREDENTIALS)


async def test_storage_period_not_yet_lapsed(client: httpx.AsyncClient, clock: Clock) -> None:
    link = await bank_link(client, access_mode="single", credentials_storage="1d")
    clock.advance(timedelta(days=1) - timedelta(seconds=1))

    accounts = await retrieve(client, "accounts", link["id"])

    assert len(accounts) == 4


# What the institution offers ------------------------------------------------------------------

FISCAL_BODY = link_body("XAXX010101000", institution=FISCAL)


async def test_fiscal_institution_unsupported(client: httpx.AsyncClient) -> None:
    created = await client.post("/api/links/", json=FISCAL_BODY)
    assert created.status_code == 201, created.text

    for resource in RESOURCES:
        response = await _post(client, resource, created.json()["id"])

        check_error(response, status=400, code="unsupported_operation", message=UNSUPPORTED)
    await _assert_untouched(client, created.json())


async def test_gig_platform_owners_only(client: httpx.AsyncClient) -> None:
    link = await bank_link(client, "gig_worker", institution="goonies_mx_gig")

    for resource in ("accounts", *DATED):
        response = await _post(client, resource, link["id"])

        check_error(response, status=400, code="unsupported_operation", message=UNSUPPORTED)
    owners = await retrieve(client, "owners", link["id"])
    assert [owner["link"] for owner in owners] == [link["id"]]
    assert await count(client, "accounts", {"link": link["id"]}) == 0


# Credentials sealed with the client's key -----------------------------------------------------


@pytest.mark.parametrize("resource", RESOURCES)
async def test_encryption_key_needed(client: httpx.AsyncClient, resource: str) -> None:
    link = await bank_link(client, access_mode="single", encryption_key="client-key-1")

    missing = await _post(client, resource, link["id"])
    wrong = await _post(client, resource, link["id"], encryption_key="client-key-2")
    await _assert_untouched(client, link)
    right = await _post(client, resource, link["id"], encryption_key="client-key-1")

    check_error(missing, status=400, code="invalid", message=KEY_MISSING, field="encryption_key")
    check_error(wrong, status=400, code="invalid", message=KEY_WRONG, field="encryption_key")
    assert right.status_code == 201, right.text
    assert await count(client, resource, {"link": link["id"]}) == len(right.json())


async def test_encryption_key_ignored_without_seal(client: httpx.AsyncClient) -> None:
    link = await bank_link(client)

    response = await _post(client, "accounts", link["id"], encryption_key="not-needed")

    assert response.status_code == 201, response.text


# One login per link at a time -----------------------------------------------------------------


async def test_second_retrieval_too_many_sessions(client: httpx.AsyncClient) -> None:
    link = await bank_link(client, "login_slow")

    first, second = await asyncio.gather(
        _post(client, "accounts", link["id"]), _post(client, "owners", link["id"])
    )

    statuses = sorted([first.status_code, second.status_code])
    assert statuses == [201, 400], [first.text, second.text]
    rejected = first if first.status_code == 400 else second
    check_error(rejected, status=400, code="too_many_sessions", message=TOO_MANY_SESSIONS)


async def test_update_during_retrieval_rejected(client: httpx.AsyncClient) -> None:
    link = await bank_link(client, "login_slow")

    retrieval = asyncio.create_task(_post(client, "transactions", link["id"]))
    await asyncio.sleep(0.1)
    update_response = await client.put(f"/api/links/{link['id']}/", json={"password": "new"})
    retrieved = await retrieval

    check_error(update_response, status=400, code="too_many_sessions", message=TOO_MANY_SESSIONS)
    assert retrieved.status_code == 201, retrieved.text
    after = await _post(client, "owners", link["id"])
    assert after.status_code == 201, after.text


# Failures of the institution ------------------------------------------------------------------


@pytest.mark.parametrize("resource", DATED)
async def test_long_range_times_out(client: httpx.AsyncClient, resource: str) -> None:
    link = await bank_link(client, "timeout_long_range")

    # `date_to - date_from` of 91 days, one more than the sandbox user returns in time.
    response = await _post(client, resource, link["id"], days=91)

    check_error(response, status=408, code="request_timeout", message=REQUEST_TIMEOUT)
    await _assert_untouched(client, link)
    for days in (90, 30):
        assert len(await retrieve(client, resource, link["id"], days=days)) > 0, days


async def test_timeout_user_accounts_work(client: httpx.AsyncClient) -> None:
    link = await bank_link(client, "timeout_long_range")

    assert len(await retrieve(client, "accounts", link["id"])) == 3


async def test_no_data_unavailable(client: httpx.AsyncClient, clock: Clock) -> None:
    link = await bank_link(client, "no_data")
    clock.advance(timedelta(hours=1))

    for resource in RESOURCES:
        response = await _post(client, resource, link["id"])

        check_error(response, status=400, code="unavailable_data", message=UNAVAILABLE_DATA)
    await _assert_untouched(client, link)


async def test_mfa_bank_data_without_token(client: httpx.AsyncClient) -> None:
    # An MFA user completed the challenge at registration, so data requests log in without one.
    body = link_body("mfa_default", institution=MFA_BANK, token="123456")
    created = await client.post("/api/links/", json=body)
    assert created.status_code == 201, created.text

    accounts = await retrieve(client, "accounts", created.json()["id"])

    assert len(accounts) == 3
