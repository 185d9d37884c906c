"""List filters of accounts, transactions, balances and owners (Django-filter lookups).

Each resource lists the data of two links: `bnk100` on a Mexican bank, retrieved at the frozen
"now", and a default user on a Brazilian bank, retrieved an hour later. Every filter case
compares the ids that the API lists with the ids that a Python predicate picks from the full
list, so a filter that matches too much or too little fails.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests.links.calls import check_error
from tests.retrieval.calls import (
    NOW,
    RESOURCES,
    bank_link,
    iso,
    list_all,
    retrieve,
)
from vinculo.clock import Clock

Item = dict[str, Any]
Predicate = Callable[[Item], bool]
LATER = NOW + timedelta(hours=1)
HALFWAY = iso(NOW + timedelta(minutes=30))


@dataclass(frozen=True)
class Stored:
    """Both links and everything they stored, as the unfiltered lists return it."""

    mexican: str
    brazilian: str
    items: dict[str, list[Item]]

    @property
    def both(self) -> str:
        return f"{self.mexican},{self.brazilian}"


@pytest.fixture
async def stored(client: httpx.AsyncClient, clock: Clock) -> Stored:
    mexican = await bank_link(client)
    brazilian = await bank_link(client, "filter_user", institution="gringotts_br_retail")
    for resource in RESOURCES:
        await retrieve(client, resource, mexican["id"], days=45)
    clock.advance(LATER - NOW)
    for resource in RESOURCES:
        await retrieve(client, resource, brazilian["id"], days=45, today=clock.now().date())
    both = f"{mexican['id']},{brazilian['id']}"
    items = {
        resource: await list_all(client, resource, {"link__in": both}) for resource in RESOURCES
    }
    return Stored(mexican["id"], brazilian["id"], items)


def _ids(items: list[Item]) -> set[str]:
    return {item["id"] for item in items}


async def _check_cases(
    client: httpx.AsyncClient,
    resource: str,
    base: str,
    items: list[Item],
    cases: list[tuple[str, Predicate]],
) -> None:
    """List with each case's query string and compare with the items its predicate picks."""
    for query, predicate in cases:
        expected = {item["id"] for item in items if predicate(item)}
        listed = await list_all(client, resource, f"{base}&{query}" if base else query)

        assert expected, f"{query}: the case selects nothing, so it checks nothing"
        assert _ids(listed) == expected, query


def _middle(values: list[Any]) -> Any:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


async def test_account_filters(client: httpx.AsyncClient, stored: Stored) -> None:
    accounts = stored.items["accounts"]
    first, second, card = accounts[0], accounts[1], _one(accounts, category="CREDIT_CARD")
    clabe = _one(accounts, public_identification_name="CLABE")
    available = _middle([item["balance"]["available"] for item in accounts])
    current = _middle([item["balance"]["current"] for item in accounts])
    low, high = sorted([accounts[0]["balance"]["current"], accounts[-1]["balance"]["current"]])
    cases: list[tuple[str, Predicate]] = [
        (f"link={stored.mexican}", lambda a: a["link"] == stored.mexican),
        (f"link__in={stored.both}", lambda a: True),
        (f"link__in={stored.mexican}&link__in={stored.brazilian}", lambda a: True),
        (f"id={first['id']}", lambda a: a["id"] == first["id"]),
        (f"id__in={first['id']},{second['id']}", lambda a: a["id"] in {first["id"], second["id"]}),
        (
            f"id__in={first['id']}&id__in={card['id']}",
            lambda a: a["id"] in {first["id"], card["id"]},
        ),
        (f"balance__available__gte={available}", lambda a: a["balance"]["available"] >= available),
        (f"balance__available__lt={available}", lambda a: a["balance"]["available"] < available),
        (f"balance__current={current}", lambda a: a["balance"]["current"] == current),
        (f"balance__current__gt={current}", lambda a: a["balance"]["current"] > current),
        (f"balance__current__lte={current}", lambda a: a["balance"]["current"] <= current),
        (f"balance__current__range={low},{high}", lambda a: low <= a["balance"]["current"] <= high),
        ("category=CREDIT_CARD", lambda a: a["category"] == "CREDIT_CARD"),
        (
            "category__in=CHECKING_ACCOUNT,LOAN_ACCOUNT",
            lambda a: a["category"] in {"CHECKING_ACCOUNT", "LOAN_ACCOUNT"},
        ),
        (f"created_at__gte={HALFWAY}", lambda a: a["created_at"] == iso(LATER)),
        (f"created_at__lt={HALFWAY}", lambda a: a["created_at"] == iso(NOW)),
        (f"created_at__range={iso(NOW)},{HALFWAY}", lambda a: a["created_at"] == iso(NOW)),
        (f"created_at__lte={NOW.date()}", lambda a: True),
        ("currency=BRL", lambda a: a["currency"] == "BRL"),
        ("currency__in=MXN,COP", lambda a: a["currency"] == "MXN"),
        ("institution=gringotts_br_retail", lambda a: a["link"] == stored.brazilian),
        ("institution__in=erebor_mx_retail,nope", lambda a: a["link"] == stored.mexican),
        (f"name={card['name']}", lambda a: a["name"] == card["name"]),
        ("name__icontains=AHORRO", lambda a: "ahorro" in a["name"].lower()),
        (f"number={card['number']}", lambda a: a["number"] == card["number"]),
        (
            f"number__in={card['number']},{first['number']}",
            lambda a: a["number"] in {card["number"], first["number"]},
        ),
        ("public_identification_name=CLABE", lambda a: a["public_identification_name"] == "CLABE"),
        (
            f"public_identification_value={clabe['public_identification_value']}",
            lambda a: a["id"] == clabe["id"],
        ),
        (f"type={card['type']}", lambda a: a["type"] == card["type"]),
        (
            f"type__in={card['type']},{first['type']}",
            lambda a: a["type"] in {card["type"], first["type"]},
        ),
        (
            f"internal_identification={second['internal_identification']}",
            lambda a: a["id"] == second["id"],
        ),
        ("unknown_parameter=1", lambda a: True),
    ]

    await _check_cases(client, "accounts", "", accounts, cases)


def _one(items: list[Item], **wanted: Any) -> Item:
    return next(item for item in items if all(item[key] == value for key, value in wanted.items()))


async def test_transaction_filters(client: httpx.AsyncClient, stored: Stored) -> None:
    transactions = stored.items["transactions"]
    base = f"link__in={stored.both}"
    sample = transactions[len(transactions) // 3]
    other = transactions[-1]
    card = _one(transactions, account=_one(stored.items["accounts"], category="CREDIT_CARD"))
    bill = card["credit_card_data"]["bill_name"]
    amount = _middle([item["amount"] for item in transactions])
    day = sample["value_date"]
    first_day = min(item["value_date"] for item in transactions)
    checking = _one(stored.items["accounts"], link=stored.mexican, category="CHECKING_ACCOUNT")
    savings_type = _one(stored.items["accounts"], category="SAVINGS_ACCOUNT")["type"]
    current = checking["balance"]["current"]

    def account(item: Item) -> Item:
        return item["account"]  # type: ignore[no-any-return]

    cases: list[tuple[str, Predicate]] = [
        (f"link={stored.mexican}", lambda t: account(t)["link"] == stored.mexican),
        (f"id={sample['id']}", lambda t: t["id"] == sample["id"]),
        (f"id__in={sample['id']},{other['id']}", lambda t: t["id"] in {sample["id"], other["id"]}),
        (f"account={checking['id']}", lambda t: account(t)["id"] == checking["id"]),
        (
            f"account__in={checking['id']}&account__in={card['account']['id']}",
            lambda t: account(t)["id"] in {checking["id"], card["account"]["id"]},
        ),
        (
            f"account__balance__current__gte={current}",
            lambda t: account(t)["balance"]["current"] >= current,
        ),
        (
            f"account__balance__available__lt={current}",
            lambda t: account(t)["balance"]["available"] < current,
        ),
        (f"account_type={savings_type}", lambda t: account(t)["type"] == savings_type),
        (
            f"account_type__in={savings_type},{checking['type']}",
            lambda t: account(t)["type"] in {savings_type, checking["type"]},
        ),
        ("institution=gringotts_br_retail", lambda t: account(t)["link"] == stored.brazilian),
        ("institution__in=erebor_mx_retail", lambda t: account(t)["link"] == stored.mexican),
        (f"accounting_date__gte={day}", lambda t: t["accounting_date"][:10] >= day),
        (f"accounting_date__lt={day}", lambda t: t["accounting_date"][:10] < day),
        (
            f"accounting_date__range={first_day},{day}",
            lambda t: first_day <= t["accounting_date"][:10] <= day,
        ),
        (f"amount={sample['amount']}", lambda t: t["amount"] == sample["amount"]),
        (f"amount__gt={amount}", lambda t: t["amount"] > amount),
        (f"amount__lte={amount}", lambda t: t["amount"] <= amount),
        (f"amount__range=100,{amount}", lambda t: 100 <= t["amount"] <= amount),
        (f"collected_at__gte={HALFWAY}", lambda t: t["collected_at"] == iso(LATER)),
        (f"created_at__lt={HALFWAY}", lambda t: t["created_at"] == iso(NOW)),
        (f"credit_card_data__bill_name={bill}", lambda t: _bill(t) == bill),
        (f"credit_card_data__bill_name__in={bill},nope", lambda t: _bill(t) == bill),
        ("currency=BRL", lambda t: t["currency"] == "BRL"),
        ("currency__in=MXN", lambda t: t["currency"] == "MXN"),
        (f"reference={sample['reference']}", lambda t: t["reference"] == sample["reference"]),
        (
            f"reference__in={sample['reference']},{other['reference']}",
            lambda t: t["reference"] in {sample["reference"], other["reference"]},
        ),
        ("status=PENDING", lambda t: t["status"] == "PENDING"),
        ("status__in=PENDING,PROCESSED", lambda t: True),
        ("type=INFLOW", lambda t: t["type"] == "INFLOW"),
        ("type__in=OUTFLOW&type__in=INFLOW", lambda t: True),
        (
            f"type=OUTFLOW&amount__gte={amount}",
            lambda t: t["type"] == "OUTFLOW" and t["amount"] >= amount,
        ),
        (f"value_date={day}", lambda t: t["value_date"] == day),
        (f"value_date__gt={day}", lambda t: t["value_date"] > day),
        (f"value_date__lte={day}", lambda t: t["value_date"] <= day),
        (f"value_date__range={first_day},{day}", lambda t: first_day <= t["value_date"] <= day),
    ]

    await _check_cases(client, "transactions", base, transactions, cases)


def _bill(transaction: Item) -> str | None:
    data = transaction["credit_card_data"]
    return None if data is None else data["bill_name"]


async def test_balance_filters(client: httpx.AsyncClient, stored: Stored) -> None:
    balances = stored.items["balances"]
    sample = balances[len(balances) // 2]
    other = balances[-1]
    account = sample["account"]
    figure = _middle([item["balance"] for item in balances])
    day = sample["value_date"]
    first_day = min(item["value_date"] for item in balances)
    cases: list[tuple[str, Predicate]] = [
        (f"link={stored.brazilian}", lambda b: b["account"]["link"] == stored.brazilian),
        (f"link__in={stored.both}", lambda b: True),
        (f"id={sample['id']}", lambda b: b["id"] == sample["id"]),
        (f"id__in={sample['id']},{other['id']}", lambda b: b["id"] in {sample["id"], other["id"]}),
        (f"account={account['id']}", lambda b: b["account"]["id"] == account["id"]),
        (
            f"account__in={account['id']}&account__in={other['account']['id']}",
            lambda b: b["account"]["id"] in {account["id"], other["account"]["id"]},
        ),
        (f"account__type={account['type']}", lambda b: b["account"]["type"] == account["type"]),
        (f"account_type__in={account['type']}", lambda b: b["account"]["type"] == account["type"]),
        (f"balance={sample['balance']}", lambda b: b["balance"] == sample["balance"]),
        (f"balance__gte={figure}", lambda b: b["balance"] >= figure),
        (f"balance__lt={figure}", lambda b: b["balance"] < figure),
        (f"balance__range=0,{figure}", lambda b: 0 <= b["balance"] <= figure),
        (f"current_balance__gt={figure}", lambda b: b["current_balance"] > figure),
        ("currency=MXN", lambda b: b["account"]["currency"] == "MXN"),
        ("currency__in=BRL,COP", lambda b: b["account"]["currency"] == "BRL"),
        ("institution=erebor_mx_retail", lambda b: b["account"]["link"] == stored.mexican),
        ("institution__in=gringotts_br_retail", lambda b: b["account"]["link"] == stored.brazilian),
        (f"value_date={day}", lambda b: b["value_date"] == day),
        (f"value_date__gte={day}", lambda b: b["value_date"] >= day),
        (f"value_date__lt={day}", lambda b: b["value_date"] < day),
        (f"value_date__range={first_day},{day}", lambda b: first_day <= b["value_date"] <= day),
    ]

    await _check_cases(client, "balances", "", balances, cases)


async def test_owner_filters(client: httpx.AsyncClient, stored: Stored) -> None:
    owners = stored.items["owners"]
    first, second = owners
    fragment = first["display_name"].split()[0][1:].upper()
    cases: list[tuple[str, Predicate]] = [
        (f"link={stored.mexican}", lambda o: o["link"] == stored.mexican),
        (f"link__in={stored.mexican}&link__in={stored.brazilian}", lambda o: True),
        (f"id={second['id']}", lambda o: o["id"] == second["id"]),
        (f"id__in={first['id']},{second['id']}", lambda o: True),
        (f"created_at__gte={HALFWAY}", lambda o: o["created_at"] == iso(LATER)),
        (f"created_at__lte={HALFWAY}", lambda o: o["created_at"] == iso(NOW)),
        (f"created_at__range={iso(NOW)},{iso(LATER)}", lambda o: True),
        (
            f"display_name__icontains={fragment}",
            lambda o: fragment.lower() in o["display_name"].lower(),
        ),
        (f"email={second['email']}", lambda o: o["email"] == second["email"]),
    ]

    await _check_cases(client, "owners", "", owners, cases)


MALFORMED = [
    ("accounts", "link", "abc", '"abc" is not a valid UUID.'),
    ("accounts", "id__in", "abc", '"abc" is not a valid UUID.'),
    ("accounts", "balance__current__gte", "x", "Enter a number."),
    (
        "accounts",
        "balance__available__range",
        "1",
        "Enter a range as two values separated by a comma.",
    ),
    (
        "accounts",
        "category",
        "NOPE",
        "Select a valid choice. NOPE is not one of the available choices.",
    ),
    (
        "accounts",
        "created_at__gte",
        "yesterday",
        "Enter a valid date (YYYY-MM-DD) or ISO-8601 date-time.",
    ),
    ("transactions", "value_date", "2026-13-01", "Enter a valid date."),
    ("transactions", "amount__lt", "abc", "Enter a number."),
    (
        "transactions",
        "type__in",
        "INFLOW,SIDEWAYS",
        "Select a valid choice. SIDEWAYS is not one of the available choices.",
    ),
    ("transactions", "account__in", "zz", '"zz" is not a valid UUID.'),
    ("balances", "value_date__gte", "06/01/2026", "Enter a valid date."),
    ("balances", "balance__range", "1,2,3", "Enter a range as two values separated by a comma."),
    ("owners", "created_at__lt", "soon", "Enter a valid date (YYYY-MM-DD) or ISO-8601 date-time."),
    ("owners", "link__in", "x", '"x" is not a valid UUID.'),
]


async def test_malformed_filter_value(client: httpx.AsyncClient) -> None:
    link = await bank_link(client)

    for resource, parameter, value, message in MALFORMED:
        params = {parameter: value}
        if resource == "transactions":
            params["link"] = link["id"]
        response = await client.get(f"/api/{resource}/", params=params)

        check_error(response, status=400, code="invalid", message=message, field=parameter)


@pytest.mark.parametrize("query", ["", "link=", "account=4f1c2a8e-0b7d-4c55-9a31-6d2e8f0b7c19"])
async def test_transactions_list_needs_link(client: httpx.AsyncClient, query: str) -> None:
    response = await client.get(f"/api/transactions/?{query}")

    check_error(
        response, status=400, code="required", message="This field is required.", field="link"
    )
