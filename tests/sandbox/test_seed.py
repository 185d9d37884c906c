"""`vinculo.sandbox.seed` through the in-process app: what it stores, and how re-runs behave."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import UTC, date, datetime, timedelta

import httpx
import msgspec
import pytest

from tests.conftest import client_for, new_key
from vinculo.app import VinculoApp
from vinculo.connectors.base import Fetched, FetchRequest, Resource
from vinculo.connectors.sandbox import SandboxConnector
from vinculo.institutions.schemas import Institution
from vinculo.links.registration import plan_registration
from vinculo.retrieval.service import MAX_RANGE_DAYS
from vinculo.sandbox.seed import (
    LinkSeeded,
    SeedError,
    SeedPlan,
    bank_institutions,
    date_ranges,
    find_banks,
    registration_body,
    seed,
)
from vinculo.sandbox.workers import WorkerPoolConnector
from vinculo.sandbox_data.dates import add_months


async def list_all(client: httpx.AsyncClient, path: str, **params: str) -> list[dict]:
    response = await client.get(path, params={**params, "page_size": "1000"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["next"] is None, "the test expects one page"
    return body["results"]


def test_date_ranges_cover_range_in_allowed_chunks() -> None:
    first, last = date(2024, 3, 1), date(2026, 12, 4)

    ranges = date_ranges(first, last)

    assert ranges[0][1] == last
    assert ranges[-1][0] == first
    for start, end in ranges:
        assert start <= end
        assert (end - start).days <= MAX_RANGE_DAYS
    for newer, older in itertools.pairwise(ranges):
        assert older[1] == newer[0] - timedelta(days=1)


def test_date_ranges_one_year_is_one_request() -> None:
    today = date(2026, 12, 4)

    assert date_ranges(add_months(today, -12), today) == [(date(2025, 12, 4), today)]


@pytest.mark.parametrize("bank", bank_institutions(), ids=lambda bank: bank.name)
def test_registration_body_fits_every_bank(bank: Institution) -> None:
    plan = plan_registration(registration_body(bank, "seed_00001"))

    assert plan.credentials.username == "seed_00001"
    assert plan.access_mode == "recurrent"


def test_find_banks_rejects_other_institutions() -> None:
    with pytest.raises(SeedError, match="unknown_bank"):
        find_banks(["unknown_bank"])
    with pytest.raises(SeedError, match="only banks"):
        find_banks(["tatooine_mx_fiscal"])


def test_plan_spreads_links_over_banks() -> None:
    banks = find_banks(["erebor_mx_retail", "ironbank_co_retail"])
    plan = SeedPlan(tenant="t", links=3, institutions=banks)

    assert [plan.username(number) for number in (1, 2, 3)] == [
        "seed_00001",
        "seed_00002",
        "seed_00003",
    ]
    assert [plan.institution(number).name for number in (1, 2, 3)] == [
        "erebor_mx_retail",
        "ironbank_co_retail",
        "erebor_mx_retail",
    ]


async def test_seed_stores_what_retrieval_returns(app: VinculoApp) -> None:
    banks = find_banks(["erebor_mx_retail", "gringotts_co_retail", "ironbank_br_retail"])
    plan = SeedPlan(tenant="seeded", links=3, institutions=banks, months=3)
    seen: list[LinkSeeded] = []

    totals = await seed(app.context, plan, on_link=seen.append)

    assert totals.created == 3
    assert len(seen) == 3
    async with client_for(app, await new_key(app, "seeded")) as client:
        links = await list_all(client, "/api/links/")
        assert len(links) == 3
        assert {link["institution"] for link in links} == {bank.name for bank in banks}
        stored_transactions = 0
        for link in links:
            accounts = await list_all(client, "/api/accounts/", link=link["id"])
            transactions = await list_all(client, "/api/transactions/", link=link["id"])
            balances = await list_all(client, "/api/balances/", link=link["id"])
            owners = await list_all(client, "/api/owners/", link=link["id"])
            assert accounts
            assert transactions
            assert balances
            assert len(owners) == 1
            stored_transactions += len(transactions)

            today = app.context.clock.now().date()
            retrieved = await client.post(
                "/api/transactions/",
                json={
                    "link": link["id"],
                    "date_from": add_months(today, -3).isoformat(),
                    "date_to": today.isoformat(),
                    "save_data": False,
                },
            )
            assert retrieved.status_code == 200, retrieved.text
            assert {item["id"] for item in retrieved.json()} == {
                item["id"] for item in transactions
            }
    assert stored_transactions == totals.transactions
    assert sum(link.transactions for link in seen) == totals.transactions


async def test_seed_again_skips_complete_links(app: VinculoApp) -> None:
    banks = find_banks(["erebor_mx_retail"])
    plan = SeedPlan(tenant="seeded", links=2, institutions=banks, months=1)
    first = await seed(app.context, plan)
    async with client_for(app, await new_key(app, "seeded")) as client:
        links = await list_all(client, "/api/links/")
        # A link whose last step never ran: its owners are missing.
        incomplete = links[0]["id"]
        owner = (await list_all(client, "/api/owners/", link=incomplete))[0]
        deleted = await client.delete(f"/api/owners/{owner['id']}/")
        assert deleted.status_code == 204

        second = await seed(app.context, plan)

        assert len(await list_all(client, "/api/links/")) == 2
        assert len(await list_all(client, "/api/owners/", link=incomplete)) == 1
        stored = await list_all(client, "/api/transactions/", link=incomplete)
    assert first.created == 2
    assert second.created == 0
    assert second.skipped == 1
    assert second.reused == 1
    assert second.transactions == len(stored)


async def test_seed_with_worker_processes(app: VinculoApp) -> None:
    plan = SeedPlan(tenant="pooled", links=2, institutions=find_banks(["erebor_br_retail"]))
    with WorkerPoolConnector(SandboxConnector, workers=2) as pool:
        context = dataclasses.replace(app.context, connector=pool)
        totals = await seed(context, plan, concurrency=2)

    async with client_for(app, await new_key(app, "pooled")) as client:
        for link in await list_all(client, "/api/links/"):
            assert await list_all(client, "/api/owners/", link=link["id"])
    assert totals.created == 2
    assert totals.transactions > 0


async def test_worker_pool_fetch_equals_local_fetch() -> None:
    local = SandboxConnector()
    collected_at = datetime(2026, 6, 30, 12, tzinfo=UTC)
    request = FetchRequest(
        Resource.TRANSACTIONS, date_from=date(2025, 7, 1), date_to=date(2026, 6, 30)
    )
    credentials = registration_body(find_banks(["erebor_mx_retail"])[0], "seed_00042")
    login = plan_registration(credentials).credentials

    expected = await local.fetch("erebor_mx_retail", login, request, collected_at=collected_at)
    with WorkerPoolConnector(SandboxConnector, workers=1) as pool:
        fetched = await pool.fetch("erebor_mx_retail", login, request, collected_at=collected_at)

    assert isinstance(fetched, Fetched)
    assert fetched == expected
    assert msgspec.json.encode(fetched.transactions) == msgspec.json.encode(
        expected.transactions  # type: ignore[union-attr]
    )
    assert msgspec.json.encode(fetched.accounts) == msgspec.json.encode(
        expected.accounts  # type: ignore[union-attr]
    )
