"""Requests and checks shared by the tests of accounts, transactions, balances and owners."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from tests.links.calls import create_link
from vinculo.app import VinculoApp, create_app
from vinculo.clock import Clock
from vinculo.config import Settings
from vinculo.db.migrate import upgrade

# The instant at which every test of this folder starts. A fixed "now" makes the generated
# sandbox data, the date rules and the timestamps in responses the same on every run.
NOW = datetime(2026, 6, 15, 15, 0, tzinfo=UTC)
TODAY = NOW.date()

RESOURCES = ("accounts", "transactions", "balances", "owners")
# The resources whose retrieval takes a date range.
DATED = ("transactions", "balances")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
UNKNOWN_ID = "4f1c2a8e-0b7d-4c55-9a31-6d2e8f0b7c19"


class FrozenClock(Clock):
    """A clock fixed at `start` that moves only when a test calls `advance`."""

    def __init__(self, start: datetime = NOW, *, refresh_seconds: float = 1.0) -> None:
        super().__init__(refresh_seconds=refresh_seconds)
        self._start = start

    def now(self) -> datetime:
        return self._start + self.offset


def build_app(settings: Settings, data_dir: Path, clock: Clock) -> VinculoApp:
    """Build an app like the `app` fixture does, on its own SQLite file under `data_dir`."""
    own = settings.model_copy(update={"data_dir": data_dir, "database_url": None})
    upgrade(own.resolved_database_url)
    return create_app(own, clock=clock)


def retrieval_body(
    resource: str, link_id: str, *, days: int = 30, today: date = TODAY, **extra: Any
) -> dict[str, Any]:
    """Return a POST body for `resource`. Dated resources get `date_to` = `today` and
    `date_from` = `days` days earlier. `extra` adds or replaces keys."""
    body: dict[str, Any] = {"link": link_id}
    if resource in DATED:
        body["date_from"] = (today - timedelta(days=days)).isoformat()
        body["date_to"] = today.isoformat()
    body.update(extra)
    return body


async def retrieve(
    client: httpx.AsyncClient,
    resource: str,
    link_id: str,
    *,
    status: int = 201,
    days: int = 30,
    today: date = TODAY,
    **extra: Any,
) -> list[dict[str, Any]]:
    """POST a retrieval, check its status and return the objects in the response."""
    body = retrieval_body(resource, link_id, days=days, today=today, **extra)
    response = await client.post(f"/api/{resource}/", json=body)
    assert response.status_code == status, response.text
    items: list[dict[str, Any]] = response.json()
    return items


async def bank_link(
    client: httpx.AsyncClient, username: str = "bnk100", **overrides: Any
) -> dict[str, Any]:
    """Register a link on the plain sandbox bank (no MFA) and return its body."""
    return await create_link(client, username, **overrides)


async def list_page(
    client: httpx.AsyncClient, resource: str, query: str | dict[str, Any] = ""
) -> dict[str, Any]:
    """GET one page of a list, check that the status is 200 and return the body."""
    response = await client.get(f"/api/{resource}/", params=query)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


async def count(client: httpx.AsyncClient, resource: str, query: str | dict[str, Any] = "") -> int:
    """Return the `count` of a list with the filters of `query`."""
    total: int = (await list_page(client, resource, query))["count"]
    return total


async def list_all(
    client: httpx.AsyncClient, resource: str, query: str | dict[str, Any] = ""
) -> list[dict[str, Any]]:
    """Follow `next` from the first page to the last and return every item.

    Checks that each page reports the same `count` and that the pages add up to it.
    """
    page = await list_page(client, resource, query)
    total = page["count"]
    items: list[dict[str, Any]] = list(page["results"])
    while page["next"] is not None:
        response = await client.get(page["next"])
        assert response.status_code == 200, response.text
        page = response.json()
        assert page["count"] == total, page["count"]
        items.extend(page["results"])
    assert len(items) == total, (len(items), total)
    return items


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for item in items]


def money(value: float) -> Decimal:
    """Read a JSON amount as the exact decimal it was written as, such as 153.08."""
    return Decimal(str(value))


def signed_amount(transaction: dict[str, Any]) -> Decimal:
    """Return the change that a transaction makes to its account's balance.

    For an asset an inflow adds to the balance. For a liability (a card or a loan) the
    balance is the debt, so an inflow (a payment) lowers it and an outflow raises it.
    """
    amount = money(transaction["amount"])
    is_asset = transaction["account"]["balance_type"] == "ASSET"
    adds = (transaction["type"] == "INFLOW") == is_asset
    return amount if adds else -amount


def statement_order(transactions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Sort one account's transactions by value date, then booking time."""
    return sorted(transactions, key=lambda item: (item["value_date"], item["accounting_date"]))


def by_account(items: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Group transactions or balances by the id of their embedded account."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        groups.setdefault(item["account"]["id"], []).append(item)
    return groups


def iso(moment: datetime) -> str:
    """Write a UTC timestamp as responses do: microseconds and a `Z` suffix."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
