"""What a retrieval stores and returns: `save_data`, re-retrieval, date ranges, one account.

The expected data comes from the sandbox generator (`vinculo.sandbox_data`) itself, which is
deterministic, so the tests compare exact values instead of shapes.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from tests.links.calls import PLAIN_BANK
from tests.retrieval.calls import (
    RESOURCES,
    TODAY,
    bank_link,
    by_account,
    count,
    ids,
    iso,
    list_all,
    money,
    retrieve,
)
from vinculo.clock import Clock
from vinculo.sandbox_data import balance_snapshot, daily_balances, profile_for, transactions_for
from vinculo.sandbox_data.money import to_money

PROFILE = profile_for(PLAIN_BANK, "bnk100")


def _expected_transactions(date_from: date, date_to: date, *, role: str | None = None) -> set[str]:
    """Return the institution's ids of the transactions that bnk100 has in the range."""
    return {
        item.internal_identification
        for account in PROFILE.accounts
        if role is None or account.role == role
        for item in transactions_for(PROFILE, account, date_from, date_to, today=TODAY)
    }


@pytest.fixture
async def link(client: httpx.AsyncClient) -> dict[str, Any]:
    return await bank_link(client)


# save_data ------------------------------------------------------------------------------------


@pytest.mark.parametrize("resource", RESOURCES)
async def test_unsaved_retrieval(
    client: httpx.AsyncClient, clock: Clock, link: dict[str, Any], resource: str
) -> None:
    for save_data in (False, "false", "0"):
        clock.advance(timedelta(minutes=5))

        items = await retrieve(client, resource, link["id"], status=200, save_data=save_data)

        assert len(items) > 0, save_data
        assert await count(client, resource, {"link": link["id"]}) == 0, save_data
        assert await count(client, "accounts", {"link": link["id"]}) == 0, save_data
        after = (await client.get(f"/api/links/{link['id']}/")).json()
        assert after["last_accessed_at"] == iso(clock.now()), save_data


async def test_unsaved_retrieval_keeps_stored(
    client: httpx.AsyncClient, clock: Clock, link: dict[str, Any]
) -> None:
    stored = await retrieve(client, "accounts", link["id"])
    clock.advance(timedelta(days=2))

    unsaved = await retrieve(client, "accounts", link["id"], status=200, save_data=False)

    assert ids(unsaved) == ids(stored)
    assert {item["collected_at"] for item in unsaved} == {iso(clock.now())}
    assert await list_all(client, "accounts", {"link": link["id"]}) == _newest_first(stored)


def _newest_first(accounts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Order accounts as the list does: newest `created_at` first, then by id descending."""
    return sorted(accounts, key=lambda item: (item["created_at"], item["id"]), reverse=True)


# Re-retrieval ---------------------------------------------------------------------------------

# The keys that a new retrieval of the same account may change.
MOVING_ACCOUNT_KEYS = {"balance", "collected_at", "last_accessed_at", "credit_data", "loan_data"}


async def test_reretrieval_keeps_account_ids(
    client: httpx.AsyncClient, clock: Clock, link: dict[str, Any]
) -> None:
    first = await retrieve(client, "accounts", link["id"])
    clock.advance(timedelta(days=3, hours=2))
    later = clock.now().date()

    second = await retrieve(client, "accounts", link["id"])

    assert ids(second) == ids(first)
    for before, after in zip(first, second, strict=True):
        assert (
            after["created_at"]
            == before["created_at"]
            == iso(clock.now() - timedelta(days=3, hours=2))
        )
        assert after["collected_at"] == iso(clock.now())
        assert after["last_accessed_at"] == iso(clock.now())
        unchanged = {key: value for key, value in after.items() if key not in MOVING_ACCOUNT_KEYS}
        assert unchanged == {key: before[key] for key in unchanged}
        spec = PROFILE.account(after["internal_identification"])
        snapshot = balance_snapshot(PROFILE, spec, today=later)
        assert money(after["balance"]["current"]) == to_money(snapshot.current)
        assert money(after["balance"]["available"]) == to_money(snapshot.available)
    assert await list_all(client, "accounts", {"link": link["id"]}) == _newest_first(second)


async def test_reretrieval_keeps_owner_ids(
    client: httpx.AsyncClient, clock: Clock, link: dict[str, Any]
) -> None:
    first = await retrieve(client, "owners", link["id"])
    clock.advance(timedelta(hours=5))

    second = await retrieve(client, "owners", link["id"])

    assert ids(second) == ids(first)
    assert second[0]["created_at"] == first[0]["created_at"]
    assert second[0]["collected_at"] == iso(clock.now())
    assert await count(client, "owners", {"link": link["id"]}) == 1


async def test_overlapping_ranges_no_duplicates(
    client: httpx.AsyncClient, link: dict[str, Any]
) -> None:
    older = await retrieve(
        client, "transactions", link["id"], days=40, today=TODAY - timedelta(days=20)
    )
    newer = await retrieve(client, "transactions", link["id"], days=40)

    by_key_older = {item["internal_identification"]: item["id"] for item in older}
    by_key_newer = {item["internal_identification"]: item["id"] for item in newer}
    shared = by_key_older.keys() & by_key_newer.keys()
    assert len(shared) > 10, "the two ranges share twenty days"
    assert {by_key_older[key] for key in shared} == {by_key_newer[key] for key in shared}
    union = _expected_transactions(TODAY - timedelta(days=60), TODAY)
    assert by_key_older.keys() | by_key_newer.keys() == union
    assert await count(client, "transactions", {"link": link["id"]}) == len(union)


async def test_overlapping_balances_no_duplicates(
    client: httpx.AsyncClient, link: dict[str, Any]
) -> None:
    await retrieve(client, "balances", link["id"], days=30, today=TODAY - timedelta(days=10))
    await retrieve(client, "balances", link["id"], days=30)

    stored = await list_all(client, "balances", {"link": link["id"]})

    days = {(item["account"]["id"], item["value_date"]) for item in stored}
    assert len(days) == len(stored)
    # Checking and savings have a balance on each of the 41 days; cards and loans have none.
    assert len(stored) == 2 * 41


# Answers --------------------------------------------------------------------------------------


async def test_every_retrieval_moves_access_time(
    client: httpx.AsyncClient, clock: Clock, link: dict[str, Any]
) -> None:
    for resource in RESOURCES:
        clock.advance(timedelta(minutes=7))

        await retrieve(client, resource, link["id"], days=2, today=clock.now().date())

        after = (await client.get(f"/api/links/{link['id']}/")).json()
        assert after["last_accessed_at"] == iso(clock.now()), resource


@pytest.mark.parametrize("resource", RESOURCES)
async def test_response_matches_detail(
    client: httpx.AsyncClient, link: dict[str, Any], resource: str
) -> None:
    returned = await retrieve(client, resource, link["id"], days=6)

    for item in returned:
        response = await client.get(f"/api/{resource}/{item['id']}/")

        assert response.json() == item


async def test_transactions_within_range(client: httpx.AsyncClient, link: dict[str, Any]) -> None:
    date_from, date_to = TODAY - timedelta(days=40), TODAY - timedelta(days=20)

    returned = await retrieve(
        client,
        "transactions",
        link["id"],
        date_from=date_from.isoformat(),
        date_to=date_to.isoformat(),
    )

    value_dates = sorted({item["value_date"] for item in returned})
    assert value_dates[0] >= date_from.isoformat()
    assert value_dates[-1] <= date_to.isoformat()
    internal_ids = [item["internal_identification"] for item in returned]
    assert len(internal_ids) == len(set(internal_ids))
    assert set(internal_ids) == _expected_transactions(date_from, date_to)


async def test_transactions_of_one_account(client: httpx.AsyncClient, link: dict[str, Any]) -> None:
    accounts = await retrieve(client, "accounts", link["id"])
    card = next(item for item in accounts if item["category"] == "CREDIT_CARD")

    returned = await retrieve(client, "transactions", link["id"], days=90, account=card["id"])

    assert {item["account"]["id"] for item in returned} == {card["id"]}
    expected = _expected_transactions(TODAY - timedelta(days=90), TODAY, role="credit_card")
    assert {item["internal_identification"] for item in returned} == expected
    assert await count(client, "transactions", {"link": link["id"]}) == len(expected)


async def test_balances_of_one_account(client: httpx.AsyncClient, link: dict[str, Any]) -> None:
    accounts = await retrieve(client, "accounts", link["id"])
    savings = next(item for item in accounts if item["category"] == "SAVINGS_ACCOUNT")
    spec = PROFILE.account(savings["internal_identification"])

    returned = await retrieve(client, "balances", link["id"], days=14, account=savings["id"])

    expected = daily_balances(PROFILE, spec, TODAY - timedelta(days=14), TODAY, today=TODAY)
    assert [(item["value_date"], money(item["balance"])) for item in returned] == [
        (day.isoformat(), to_money(amount)) for day, amount in expected
    ]
    assert {item["account"]["id"] for item in returned} == {savings["id"]}
    assert await count(client, "balances", {"link": link["id"]}) == 15


async def test_daily_balances_match_transactions(
    client: httpx.AsyncClient, link: dict[str, Any]
) -> None:
    transactions = by_account(await retrieve(client, "transactions", link["id"], days=60))
    balances = by_account(await retrieve(client, "balances", link["id"], days=30))

    assert len(balances) == 2, "only checking and savings accounts have daily balances"
    for account_id, days in balances.items():
        history = sorted(
            transactions[account_id], key=lambda item: (item["value_date"], item["accounting_date"])
        )
        for day in days:
            before = [item for item in history if item["value_date"] <= day["value_date"]]
            assert before, "the sixty days of transactions start before the balances"
            assert day["balance"] == before[-1]["balance"], day["value_date"]
            assert day["current_balance"] == day["balance"]
