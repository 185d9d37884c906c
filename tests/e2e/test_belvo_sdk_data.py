"""Accounts, transactions, balances and owners through the unmodified belvo-python 0.39.1 SDK.

The tests share the session's live server with the other e2e tests, so every link here is
registered on `BANK` with a username that no other test uses, and every list filters by link.
A sandbox user can be linked only once per institution, which is why each fixture that
registers a link is module-scoped.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import requests
from belvo.client import Client
from belvo.enums import AccessMode
from belvo.exceptions import RequestError

BANK = "gringotts_mx_retail"
# Users other than the reserved sandbox usernames have a checking, a savings and a card account.
ACCOUNT_CATEGORIES = {"CHECKING_ACCOUNT", "SAVINGS_ACCOUNT", "CREDIT_CARD"}
# The sandbox keeps daily balances for these categories only.
BALANCE_CATEGORIES = {"CHECKING_ACCOUNT", "SAVINGS_ACCOUNT"}
SANDBOX_TOKEN = "123456"
WRONG_TOKEN = "654321"
SESSION_ID = re.compile(r"[a-f0-9]{32}")

HISTORY_DAYS = 182
# Small enough that the transactions of `HISTORY_DAYS` span several pages.
PAGE_SIZE = 25
# The sandbox's `timeout_long_range` user times out on ranges over 90 days.
SHORT_RANGE_DAYS = 30


def utc_today() -> date:
    """Return the server's current date: the sandbox generates data as of the UTC date."""
    return datetime.now(UTC).date()


def first_error(body: Any) -> dict[str, Any]:
    """Return the single error object of Belvo's list envelope."""
    assert isinstance(body, list), body
    assert len(body) == 1, body
    error: dict[str, Any] = body[0]
    return error


def is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for item in items]


def days_between(first: date, last: date) -> set[str]:
    """Return every date from `first` to `last`, both included, in ISO format."""
    return {
        (first + timedelta(days=offset)).isoformat() for offset in range((last - first).days + 1)
    }


def register(sdk: Client, username: str) -> str:
    """Register a single link: a recurrent one would store a year of data in its background
    historical update, and the tests compare lists with what they retrieved themselves."""
    link: dict[str, Any] = sdk.Links.create(
        BANK, username, "pass_valid", access_mode=AccessMode.SINGLE, raise_exception=True
    )
    assert link["status"] == "valid", link
    return str(link["id"])


def expect_not_found(get: Callable[[str], Any], item_id: str) -> None:
    """Check that the SDK's `get` of `item_id` fails with Belvo's 404 `not_found`."""
    with pytest.raises(requests.HTTPError) as raised:
        get(item_id)
    response = raised.value.response
    assert response is not None
    assert response.status_code == 404
    assert first_error(response.json())["code"] == "not_found"


def expect_challenge(raised: pytest.ExceptionInfo[RequestError], link: str) -> str:
    """Check a 428 `token_required` raised by the SDK for `link` and return its session."""
    assert raised.value.status_code == 428
    error = first_error(raised.value.detail)
    assert error["code"] == "token_required"
    assert error["link"] == link
    assert SESSION_ID.fullmatch(error["session"])
    session: str = error["session"]
    return session


# One link with stored data ---------------------------------------------------------------


@pytest.fixture(scope="module")
def today() -> date:
    return utc_today()


@pytest.fixture(scope="module")
def history_start(today: date) -> date:
    return today - timedelta(days=HISTORY_DAYS)


@pytest.fixture(scope="module")
def data_link(sdk: Client) -> str:
    return register(sdk, "sdk_data_user")


@pytest.fixture(scope="module")
def nostore_link(sdk: Client) -> str:
    """A link whose retrievals all send `save_data=False`."""
    return register(sdk, "sdk_data_nostore")


@pytest.fixture(scope="module")
def accounts(sdk: Client, data_link: str) -> list[dict[str, Any]]:
    retrieved: list[dict[str, Any]] = sdk.Accounts.create(data_link, raise_exception=True)
    return retrieved


@pytest.fixture(scope="module")
def accounts_by_category(accounts: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {account["category"]: account for account in accounts}


@pytest.fixture(scope="module")
def transactions(
    sdk: Client, data_link: str, accounts: list[dict[str, Any]], history_start: date, today: date
) -> list[dict[str, Any]]:
    retrieved: list[dict[str, Any]] = sdk.Transactions.create(
        data_link, history_start.isoformat(), date_to=today.isoformat(), raise_exception=True
    )
    return retrieved


@pytest.fixture(scope="module")
def balances(
    sdk: Client, data_link: str, accounts: list[dict[str, Any]], today: date
) -> list[dict[str, Any]]:
    retrieved: list[dict[str, Any]] = sdk.Balances.create(
        data_link,
        (today - timedelta(days=SHORT_RANGE_DAYS)).isoformat(),
        date_to=today.isoformat(),
        raise_exception=True,
    )
    return retrieved


@pytest.fixture(scope="module")
def owners(sdk: Client, data_link: str) -> list[dict[str, Any]]:
    retrieved: list[dict[str, Any]] = sdk.Owners.create(data_link, raise_exception=True)
    return retrieved


# Accounts --------------------------------------------------------------------------------


def test_accounts_create(data_link: str, accounts: list[dict[str, Any]]) -> None:
    assert isinstance(accounts, list)
    assert {account["category"] for account in accounts} == ACCOUNT_CATEGORIES
    assert len(accounts) == len(ACCOUNT_CATEGORIES)
    for account in accounts:
        assert is_uuid(account["id"]), account["id"]
        assert account["link"] == data_link
        assert account["institution"] == {"name": BANK, "type": "bank"}
        assert account["currency"] == "MXN"
        assert isinstance(account["balance"]["current"], float)


def test_accounts_get(sdk: Client, accounts: list[dict[str, Any]]) -> None:
    for account in accounts:
        assert sdk.Accounts.get(account["id"]) == account


def test_accounts_list_pages(sdk: Client, data_link: str, accounts: list[dict[str, Any]]) -> None:
    # Two accounts per page, so the SDK follows `next` once.
    listed = list(sdk.Accounts.list(link=data_link, page_size=2))

    assert sorted(ids(listed)) == sorted(ids(accounts))


def test_accounts_list_category(
    sdk: Client, data_link: str, accounts_by_category: dict[str, dict[str, Any]]
) -> None:
    listed = list(sdk.Accounts.list(link=data_link, category="CHECKING_ACCOUNT"))

    assert ids(listed) == [accounts_by_category["CHECKING_ACCOUNT"]["id"]]


def test_accounts_list_fields(sdk: Client, data_link: str, accounts: list[dict[str, Any]]) -> None:
    listed = list(sdk.Accounts.list(link=data_link, fields="id,category"))

    expected = [{"id": account["id"], "category": account["category"]} for account in accounts]
    assert sorted(listed, key=lambda item: item["id"]) == sorted(expected, key=lambda a: a["id"])


def test_accounts_create_again_keeps_ids(
    sdk: Client, data_link: str, accounts: list[dict[str, Any]]
) -> None:
    again: list[dict[str, Any]] = sdk.Accounts.create(data_link, raise_exception=True)

    assert sorted(ids(again)) == sorted(ids(accounts))
    assert sorted(ids(sdk.Accounts.list(link=data_link))) == sorted(ids(accounts))
    for account in again:
        assert account["created_at"] == next(
            item["created_at"] for item in accounts if item["id"] == account["id"]
        )


# Transactions ----------------------------------------------------------------------------


def test_transactions_create_range(
    transactions: list[dict[str, Any]], history_start: date, today: date
) -> None:
    assert isinstance(transactions, list)
    assert len(transactions) > 2 * PAGE_SIZE
    for transaction in transactions:
        assert history_start.isoformat() <= transaction["value_date"] <= today.isoformat()
        assert transaction["amount"] > 0, transaction
        assert transaction["type"] in {"INFLOW", "OUTFLOW"}
        assert transaction["currency"] == "MXN"
    assert len(set(ids(transactions))) == len(transactions)


def test_transactions_embed_account(
    sdk: Client, accounts: list[dict[str, Any]], transactions: list[dict[str, Any]]
) -> None:
    stored = {account["id"]: sdk.Accounts.get(account["id"]) for account in accounts}

    assert {transaction["account"]["id"] for transaction in transactions} == set(stored)
    for transaction in transactions:
        embedded = transaction["account"]
        assert isinstance(embedded, dict)
        assert set(embedded) == set(stored[embedded["id"]]), embedded
        assert embedded["category"] == stored[embedded["id"]]["category"]
        assert embedded["number"] == stored[embedded["id"]]["number"]


def test_transactions_list_pages(
    sdk: Client, data_link: str, transactions: list[dict[str, Any]]
) -> None:
    listed = ids(list(sdk.Transactions.list(data_link, page_size=PAGE_SIZE)))

    assert len(listed) == len(transactions)
    assert len(set(listed)) == len(listed)
    assert set(listed) == set(ids(transactions))


@pytest.mark.parametrize("flow", ["INFLOW", "OUTFLOW"])
def test_transactions_list_type_range(
    sdk: Client, data_link: str, transactions: list[dict[str, Any]], today: date, flow: str
) -> None:
    first = (today - timedelta(days=120)).isoformat()
    last = (today - timedelta(days=30)).isoformat()
    expected = {
        transaction["id"]
        for transaction in transactions
        if transaction["type"] == flow and first <= transaction["value_date"] <= last
    }
    # The filter must leave some transactions out, or it is not tested.
    assert 0 < len(expected) < len(transactions)

    # A small page, so that the filters must survive in the `next` URLs.
    listed = list(
        sdk.Transactions.list(
            data_link, type=flow, value_date__range=f"{first},{last}", page_size=5
        )
    )

    assert len(listed) == len(expected)
    assert set(ids(listed)) == expected
    assert all(transaction["type"] == flow for transaction in listed)


def test_transactions_get(sdk: Client, transactions: list[dict[str, Any]]) -> None:
    transaction = transactions[0]

    stored = sdk.Transactions.get(transaction["id"])

    assert {key: value for key, value in stored.items() if key != "account"} == {
        key: value for key, value in transaction.items() if key != "account"
    }
    assert stored["account"] == sdk.Accounts.get(transaction["account"]["id"])


def test_transactions_create_again_updates(sdk: Client, today: date) -> None:
    link = register(sdk, "sdk_data_overlap")
    # The SDK fills in `date_to` with the client's date when it is left out.
    recent: list[dict[str, Any]] = sdk.Transactions.create(
        link, (today - timedelta(days=40)).isoformat(), raise_exception=True
    )
    older: list[dict[str, Any]] = sdk.Transactions.create(
        link,
        (today - timedelta(days=60)).isoformat(),
        date_to=(today - timedelta(days=20)).isoformat(),
        raise_exception=True,
    )
    recent_ids = {item["internal_identification"]: item["id"] for item in recent}
    overlap = [item for item in older if item["internal_identification"] in recent_ids]
    assert overlap, "the two ranges must share transactions"

    # A transaction retrieved again keeps its id, so the list has no duplicates.
    for item in overlap:
        assert item["id"] == recent_ids[item["internal_identification"]]
    listed = ids(list(sdk.Transactions.list(link, page_size=PAGE_SIZE)))
    assert len(listed) == len(set(listed))
    assert set(listed) == set(ids(recent)) | set(ids(older))


def test_transactions_create_one_account(
    sdk: Client, data_link: str, accounts_by_category: dict[str, dict[str, Any]], today: date
) -> None:
    card = accounts_by_category["CREDIT_CARD"]["id"]

    retrieved = sdk.Transactions.create(
        data_link,
        (today - timedelta(days=SHORT_RANGE_DAYS)).isoformat(),
        date_to=today.isoformat(),
        account=card,
        raise_exception=True,
    )

    assert retrieved
    assert {transaction["account"]["id"] for transaction in retrieved} == {card}


def test_transactions_create_other_link_account(
    sdk: Client, nostore_link: str, accounts_by_category: dict[str, dict[str, Any]], today: date
) -> None:
    card = accounts_by_category["CREDIT_CARD"]["id"]

    with pytest.raises(RequestError) as raised:
        sdk.Transactions.create(
            nostore_link,
            (today - timedelta(days=SHORT_RANGE_DAYS)).isoformat(),
            date_to=today.isoformat(),
            account=card,
            raise_exception=True,
        )

    assert raised.value.status_code == 400
    error = first_error(raised.value.detail)
    assert error["code"] == "does_not_exist"
    assert error["field"] == "account"


# Balances --------------------------------------------------------------------------------


def test_balances_create(
    accounts_by_category: dict[str, dict[str, Any]], balances: list[dict[str, Any]], today: date
) -> None:
    expected_days = days_between(today - timedelta(days=SHORT_RANGE_DAYS), today)

    assert isinstance(balances, list)
    for category in BALANCE_CATEGORIES:
        account_id = accounts_by_category[category]["id"]
        days = [item["value_date"] for item in balances if item["account"]["id"] == account_id]
        assert sorted(days) == sorted(expected_days), category
    assert len(balances) == len(BALANCE_CATEGORIES) * len(expected_days)
    assert all(isinstance(item["balance"], float) for item in balances)


def test_balances_list_account(
    sdk: Client,
    data_link: str,
    accounts_by_category: dict[str, dict[str, Any]],
    balances: list[dict[str, Any]],
) -> None:
    savings = accounts_by_category["SAVINGS_ACCOUNT"]["id"]
    expected = {item["id"] for item in balances if item["account"]["id"] == savings}

    listed = list(sdk.Balances.list(link=data_link, account=savings, page_size=PAGE_SIZE))

    assert len(listed) == len(expected)
    assert set(ids(listed)) == expected


def test_balances_create_card(
    sdk: Client, data_link: str, accounts_by_category: dict[str, dict[str, Any]], today: date
) -> None:
    # Belvo keeps no daily balances for cards, so the request returns an empty list.
    retrieved = sdk.Balances.create(
        data_link,
        (today - timedelta(days=SHORT_RANGE_DAYS)).isoformat(),
        date_to=today.isoformat(),
        account=accounts_by_category["CREDIT_CARD"]["id"],
        raise_exception=True,
    )

    assert retrieved == []


def test_balances_get(sdk: Client, balances: list[dict[str, Any]]) -> None:
    balance = balances[-1]

    stored = sdk.Balances.get(balance["id"])

    assert stored["id"] == balance["id"]
    assert stored["value_date"] == balance["value_date"]
    assert stored["balance"] == balance["balance"]
    assert stored["account"]["id"] == balance["account"]["id"]


# Owners ----------------------------------------------------------------------------------


def test_owners_create(data_link: str, owners: list[dict[str, Any]]) -> None:
    assert isinstance(owners, list)
    assert len(owners) == 1
    owner = owners[0]
    assert is_uuid(owner["id"])
    assert owner["link"] == data_link
    assert owner["document_id"]["document_type"] == "CURP"
    assert len(owner["document_id"]["document_number"]) == 18


def test_owners_list_get_delete(sdk: Client, data_link: str, owners: list[dict[str, Any]]) -> None:
    owner = owners[0]

    assert list(sdk.Owners.list(link=data_link)) == owners
    assert sdk.Owners.get(owner["id"]) == owner

    assert sdk.Owners.delete(owner["id"]) is True
    expect_not_found(sdk.Owners.get, owner["id"])
    assert list(sdk.Owners.list(link=data_link)) == []
    assert sdk.Owners.delete(owner["id"]) is False


# save_data=False -------------------------------------------------------------------------


def test_save_data_false_stores_nothing(sdk: Client, nostore_link: str, today: date) -> None:
    date_from = (today - timedelta(days=SHORT_RANGE_DAYS)).isoformat()
    date_to = today.isoformat()

    accounts = sdk.Accounts.create(nostore_link, save_data=False, raise_exception=True)
    transactions = sdk.Transactions.create(
        nostore_link, date_from, date_to=date_to, save_data=False, raise_exception=True
    )
    balances = sdk.Balances.create(
        nostore_link, date_from, date_to=date_to, save_data=False, raise_exception=True
    )
    owners = sdk.Owners.create(nostore_link, save_data=False, raise_exception=True)

    assert {account["category"] for account in accounts} == ACCOUNT_CATEGORIES
    assert transactions
    assert all(transaction["account"]["link"] == nostore_link for transaction in transactions)
    assert balances
    assert len(owners) == 1

    assert list(sdk.Accounts.list(link=nostore_link)) == []
    assert list(sdk.Transactions.list(nostore_link)) == []
    assert list(sdk.Balances.list(link=nostore_link)) == []
    assert list(sdk.Owners.list(link=nostore_link)) == []
    expect_not_found(sdk.Accounts.get, accounts[0]["id"])
    expect_not_found(sdk.Transactions.get, transactions[0]["id"])


# Deletion --------------------------------------------------------------------------------


def test_transaction_delete(sdk: Client, today: date) -> None:
    link = register(sdk, "sdk_data_delete_transaction")
    transactions: list[dict[str, Any]] = sdk.Transactions.create(
        link,
        (today - timedelta(days=SHORT_RANGE_DAYS)).isoformat(),
        date_to=today.isoformat(),
        raise_exception=True,
    )
    deleted = transactions[0]["id"]

    assert sdk.Transactions.delete(deleted) is True

    expect_not_found(sdk.Transactions.get, deleted)
    remaining = ids(list(sdk.Transactions.list(link)))
    assert sorted(remaining) == sorted(ids(transactions)[1:])
    assert sdk.Transactions.delete(deleted) is False


def test_account_delete_takes_data(sdk: Client, today: date) -> None:
    link = register(sdk, "sdk_data_delete_account")
    date_from = (today - timedelta(days=SHORT_RANGE_DAYS)).isoformat()
    transactions = sdk.Transactions.create(
        link, date_from, date_to=today.isoformat(), raise_exception=True
    )
    balances = sdk.Balances.create(link, date_from, date_to=today.isoformat(), raise_exception=True)
    sdk.Owners.create(link, raise_exception=True)
    checking = next(
        transaction["account"]
        for transaction in transactions
        if transaction["account"]["category"] == "CHECKING_ACCOUNT"
    )
    kept_transactions = {
        transaction["id"]
        for transaction in transactions
        if transaction["account"]["id"] != checking["id"]
    }
    kept_balances = {
        balance["id"] for balance in balances if balance["account"]["id"] != checking["id"]
    }
    # Both lists must lose something and keep something, or the check below proves nothing.
    assert 0 < len(kept_transactions) < len(transactions)
    assert 0 < len(kept_balances) < len(balances)

    assert sdk.Accounts.delete(checking["id"]) is True

    expect_not_found(sdk.Accounts.get, checking["id"])
    assert checking["id"] not in ids(list(sdk.Accounts.list(link=link)))
    assert set(ids(list(sdk.Transactions.list(link)))) == kept_transactions
    assert list(sdk.Transactions.list(link, account=checking["id"])) == []
    assert set(ids(list(sdk.Balances.list(link=link)))) == kept_balances
    # Belvo deletes the link's owners with any of its accounts.
    assert list(sdk.Owners.list(link=link)) == []


def test_link_delete_takes_data(sdk: Client, today: date) -> None:
    link = register(sdk, "sdk_data_delete_link")
    transactions = sdk.Transactions.create(
        link,
        (today - timedelta(days=SHORT_RANGE_DAYS)).isoformat(),
        date_to=today.isoformat(),
        raise_exception=True,
    )
    owners = sdk.Owners.create(link, raise_exception=True)

    assert sdk.Links.delete(link) is True

    expect_not_found(sdk.Accounts.get, transactions[0]["account"]["id"])
    expect_not_found(sdk.Transactions.get, transactions[0]["id"])
    expect_not_found(sdk.Owners.get, owners[0]["id"])
    assert list(sdk.Accounts.list(link=link)) == []
    assert list(sdk.Transactions.list(link)) == []


# MFA on data requests --------------------------------------------------------------------


@pytest.fixture(scope="module")
def mfa_link(sdk: Client) -> str:
    """A link of `mfa_data`, the sandbox user whose data requests fail with 428 without a token."""
    return register(sdk, "mfa_data")


def test_accounts_resume(sdk: Client, mfa_link: str) -> None:
    with pytest.raises(RequestError) as raised:
        sdk.Accounts.create(mfa_link, raise_exception=True)
    session = expect_challenge(raised, mfa_link)

    resumed = sdk.Accounts.resume(session, token=SANDBOX_TOKEN, link=mfa_link)

    assert isinstance(resumed, list)
    assert {account["category"] for account in resumed} == ACCOUNT_CATEGORIES
    assert all(account["link"] == mfa_link for account in resumed)
    assert sorted(ids(list(sdk.Accounts.list(link=mfa_link)))) == sorted(ids(resumed))


def test_transactions_resume_without_link(sdk: Client, mfa_link: str, today: date) -> None:
    date_from = today - timedelta(days=SHORT_RANGE_DAYS)
    with pytest.raises(RequestError) as raised:
        sdk.Transactions.create(
            mfa_link, date_from.isoformat(), date_to=today.isoformat(), raise_exception=True
        )
    session = expect_challenge(raised, mfa_link)

    # Without `link`, the server finds the link and the date range from the session.
    resumed = sdk.Transactions.resume(session, SANDBOX_TOKEN, raise_exception=True)

    assert isinstance(resumed, list)
    assert resumed
    for transaction in resumed:
        assert transaction["account"]["link"] == mfa_link
        assert date_from.isoformat() <= transaction["value_date"] <= today.isoformat()
    listed = ids(list(sdk.Transactions.list(mfa_link, page_size=PAGE_SIZE)))
    assert sorted(listed) == sorted(ids(resumed))


def test_resume_other_link(sdk: Client, mfa_link: str, data_link: str) -> None:
    with pytest.raises(RequestError) as raised:
        sdk.Accounts.create(mfa_link, raise_exception=True)
    session = expect_challenge(raised, mfa_link)

    with pytest.raises(RequestError) as wrong:
        sdk.Accounts.resume(session, SANDBOX_TOKEN, link=data_link, raise_exception=True)

    assert wrong.value.status_code == 400
    error = first_error(wrong.value.detail)
    assert error["code"] == "invalid"
    assert error["field"] == "link"


def test_resume_wrong_token_then_right(sdk: Client, mfa_link: str) -> None:
    with pytest.raises(RequestError) as raised:
        sdk.Owners.create(mfa_link, raise_exception=True)
    session = expect_challenge(raised, mfa_link)

    with pytest.raises(RequestError) as wrong:
        sdk.Owners.resume(session, WRONG_TOKEN, link=mfa_link, raise_exception=True)
    assert wrong.value.status_code == 400
    assert first_error(wrong.value.detail)["code"] == "login_error"

    # A wrong token leaves the session open, so the user can type the token again.
    resumed = sdk.Owners.resume(session, SANDBOX_TOKEN, link=mfa_link, raise_exception=True)
    assert len(resumed) == 1
    assert resumed[0]["link"] == mfa_link


def test_resume_other_resource(sdk: Client, mfa_link: str, today: date) -> None:
    with pytest.raises(RequestError) as raised:
        sdk.Balances.create(
            mfa_link,
            (today - timedelta(days=SHORT_RANGE_DAYS)).isoformat(),
            date_to=today.isoformat(),
            raise_exception=True,
        )
    session = expect_challenge(raised, mfa_link)

    with pytest.raises(RequestError) as wrong:
        sdk.Accounts.resume(session, SANDBOX_TOKEN, raise_exception=True)
    assert wrong.value.status_code == 400
    error = first_error(wrong.value.detail)
    assert error["code"] == "invalid"
    assert error["field"] == "session"

    # The rejected PATCH did not use up the session.
    resumed = sdk.Balances.resume(session, SANDBOX_TOKEN, raise_exception=True)
    assert resumed
    assert all(item["account"]["link"] == mfa_link for item in resumed)


# Errors ----------------------------------------------------------------------------------


def test_transactions_reversed_dates(sdk: Client, data_link: str, today: date) -> None:
    body = sdk.Transactions.create(
        data_link, today.isoformat(), date_to=(today - timedelta(days=3)).isoformat()
    )

    error = first_error(body)
    assert error["code"] == "invalid"
    assert error["field"] == "date_from"
    assert SESSION_ID.fullmatch(error["request_id"])

    with pytest.raises(RequestError) as raised:
        sdk.Transactions.create(
            data_link,
            today.isoformat(),
            date_to=(today - timedelta(days=3)).isoformat(),
            raise_exception=True,
        )
    assert raised.value.status_code == 400


def test_transactions_range_over_a_year(sdk: Client, data_link: str, today: date) -> None:
    with pytest.raises(RequestError) as raised:
        sdk.Transactions.create(
            data_link,
            (today - timedelta(days=400)).isoformat(),
            date_to=today.isoformat(),
            raise_exception=True,
        )

    assert raised.value.status_code == 400
    assert first_error(raised.value.detail)["code"] == "validation_error"


def test_no_data_unavailable(sdk: Client, today: date) -> None:
    link = register(sdk, "no_data")

    with pytest.raises(RequestError) as accounts:
        sdk.Accounts.create(link, raise_exception=True)
    with pytest.raises(RequestError) as transactions:
        sdk.Transactions.create(
            link,
            (today - timedelta(days=SHORT_RANGE_DAYS)).isoformat(),
            date_to=today.isoformat(),
            raise_exception=True,
        )

    for raised in (accounts, transactions):
        assert raised.value.status_code == 400
        assert first_error(raised.value.detail)["code"] == "unavailable_data"
    assert list(sdk.Accounts.list(link=link)) == []


def test_timeout_long_range(sdk: Client, today: date) -> None:
    link = register(sdk, "timeout_long_range")

    with pytest.raises(RequestError) as raised:
        sdk.Transactions.create(
            link,
            (today - timedelta(days=364)).isoformat(),
            date_to=today.isoformat(),
            raise_exception=True,
        )
    assert raised.value.status_code == 408
    assert first_error(raised.value.detail)["code"] == "request_timeout"
    # The failed retrieval stored nothing, not even the accounts.
    assert list(sdk.Accounts.list(link=link)) == []

    date_from = today - timedelta(days=SHORT_RANGE_DAYS)
    short: list[dict[str, Any]] = sdk.Transactions.create(
        link, date_from.isoformat(), date_to=today.isoformat(), raise_exception=True
    )
    assert short
    assert all(date_from.isoformat() <= item["value_date"] for item in short)
    assert sorted(ids(list(sdk.Transactions.list(link)))) == sorted(ids(short))
