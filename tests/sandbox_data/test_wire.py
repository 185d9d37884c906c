"""Sandbox data as Belvo wire objects, checked against Belvo's OpenAPI spec 1.35.0.

Every account, a year of transactions, a month of daily balances and the owners of a few
users are encoded with msgspec and decoded to plain JSON. Each object is then validated
against the spec's component schema, with every property of the component made required.
The schema tests
skip unless the environment variable VINCULO_BELVO_SPEC contains the path of the spec's
YAML file. The request body tests run without it.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import msgspec
import pytest

from tests.wire.spec import BelvoSpec, load_spec, validation_errors
from vinculo.accounts.schemas import (
    Account,
    AccountBalance,
    AccountInstitution,
    AccountsRequest,
    CreditData,
    Fee,
    FundPublicIdentification,
    FundsData,
    InterestRate,
    LoanData,
    ReceivablesData,
    ResumeRequest,
    is_save_requested,
)
from vinculo.balances.schemas import Balance, BalancesRequest
from vinculo.institutions.catalogue import find_by_name
from vinculo.owners.schemas import DocumentId, Owner, OwnersRequest
from vinculo.sandbox_data import daily_balances, profile_for, transactions_for
from vinculo.sandbox_data.wire import (
    account_to_wire,
    balance_to_wire,
    owner_to_wire,
    transaction_to_wire,
)
from vinculo.transactions.schemas import (
    CreditCardData,
    Merchant,
    Transaction,
    TransactionsRequest,
)

USERS = [
    ("erebor_mx_retail", "bnk100"),
    ("erebor_br_retail", "bnk100"),
    ("gringotts_co_retail", "someone"),
    ("heimdall_mx_retail", "thin_file"),
    ("gotham_br_business", "business"),
]
TODAY = date(2025, 11, 20)
COLLECTED_AT = datetime(2025, 11, 20, 15, 30, 12, 250000, tzinfo=UTC)
CREATED_AT = COLLECTED_AT + timedelta(seconds=2)
YEAR_START = TODAY - timedelta(days=364)
MONTH_START = TODAY - timedelta(days=29)
ID_NAMESPACE = uuid.UUID("5b0c7f4e-3f0e-4c55-9a39-0d9d2f1c6a10")
LINK_ID = "2ccd5e15-194a-4a19-a45a-e7223c7e6717"

# Keys that Belvo's examples send but the 1.35.0 component schema does not declare.
EXAMPLE_ONLY_KEYS = {"Owner": {"first_name"}}
# Deprecated `loan_data` keys that the sandbox does not send.
UNSENT_LOAN_KEYS = {
    "credit_limit",
    "last_period_balance",
    "interest_rate",
    "limit_day",
    "cutting_day",
    "cutting_date",
    "last_payment_date",
    "no_interest_payment",
}


def wire_id(*parts: str) -> str:
    """Return a stable UUID for the wire object named by `parts`."""
    return str(uuid.uuid5(ID_NAMESPACE, "|".join(parts)))


def to_json(value: msgspec.Struct | list[Any]) -> Any:
    """Encode with msgspec and decode to plain JSON, as a client receives it."""
    return msgspec.json.decode(msgspec.json.encode(value))


@dataclass(frozen=True)
class WireData:
    """One user's accounts, transactions, daily balances and owners as plain JSON."""

    accounts: list[Any]
    # Transactions and daily balances per account, in the order of `accounts`.
    transactions: list[list[Any]]
    balances: list[list[Any]]
    owners: list[Any]


@cache
def wire_data(institution_name: str, username: str) -> WireData:
    """Map one user's sandbox data to wire objects, once per test session."""
    profile = profile_for(institution_name, username)
    institution = find_by_name(institution_name)
    assert institution is not None

    accounts, transactions, balances = [], [], []
    for spec in profile.accounts:
        key = (institution_name, username, spec.internal_identification)
        account = account_to_wire(
            profile,
            spec,
            account_id=wire_id("account", *key),
            link_id=LINK_ID,
            institution=institution,
            collected_at=COLLECTED_AT,
            created_at=CREATED_AT,
            today=TODAY,
        )
        accounts.append(to_json(account))

        year = transactions_for(profile, spec, YEAR_START, TODAY, today=TODAY)
        wire_transactions = [
            transaction_to_wire(
                transaction,
                transaction_id=wire_id("transaction", *key, transaction.internal_identification),
                account=account,
                collected_at=COLLECTED_AT,
                created_at=CREATED_AT,
            )
            for transaction in year
        ]
        transactions.append(to_json(wire_transactions))

        month = daily_balances(profile, spec, MONTH_START, TODAY, today=TODAY)
        wire_balances = [
            balance_to_wire(
                day,
                amount,
                balance_id=wire_id("balance", *key, day.isoformat()),
                account=account,
                collected_at=COLLECTED_AT,
            )
            for day, amount in month
        ]
        balances.append(to_json(wire_balances))

    owners = []
    for owner in profile.owners:
        wire_owner = owner_to_wire(
            owner,
            owner_id=wire_id("owner", institution_name, username, owner.internal_identification),
            link_id=LINK_ID,
            collected_at=COLLECTED_AT,
            created_at=CREATED_AT,
        )
        owners.append(to_json(wire_owner))
    return WireData(accounts, transactions, balances, owners)


@pytest.fixture(scope="module")
def spec(belvo_spec_path: Path) -> BelvoSpec:
    return load_spec(belvo_spec_path)


def list_schema(spec: BelvoSpec, component: str) -> dict[str, Any]:
    """Return a schema for a JSON array of `component`, with every property required."""
    item = spec.component(component, required=spec.component_properties(component))
    return {
        "$schema": item["$schema"],
        "type": "array",
        "items": {"$ref": item["$ref"], "required": item["required"]},
        "components": item["components"],
    }


@pytest.mark.parametrize(("institution_name", "username"), USERS)
def test_accounts_match_spec(spec: BelvoSpec, institution_name: str, username: str) -> None:
    data = wire_data(institution_name, username)

    assert data.accounts
    assert validation_errors(data.accounts, list_schema(spec, "Account")) == []


@pytest.mark.parametrize(("institution_name", "username"), USERS)
def test_transactions_match_spec(spec: BelvoSpec, institution_name: str, username: str) -> None:
    data = wire_data(institution_name, username)
    schema = list_schema(spec, "Transaction")

    assert any(data.transactions)
    for transactions in data.transactions:
        assert validation_errors(transactions, schema) == []


@pytest.mark.parametrize(("institution_name", "username"), USERS)
def test_balances_match_spec(spec: BelvoSpec, institution_name: str, username: str) -> None:
    data = wire_data(institution_name, username)
    schema = list_schema(spec, "Balance")

    assert any(data.balances)
    for balances in data.balances:
        assert validation_errors(balances, schema) == []


@pytest.mark.parametrize(("institution_name", "username"), USERS)
def test_owners_match_spec(spec: BelvoSpec, institution_name: str, username: str) -> None:
    data = wire_data(institution_name, username)

    assert data.owners
    assert validation_errors(data.owners, list_schema(spec, "Owner")) == []


@pytest.mark.parametrize(
    ("struct_type", "component"),
    [
        (Account, "Account"),
        (AccountInstitution, "InstitutionAccount"),
        (AccountBalance, "AccountsBalance"),
        (CreditData, "AccountsCreditData"),
        (LoanData, "AccountsLoanData"),
        (InterestRate, "AccountsLoanDataInterestRate"),
        (Fee, "AccountsLoanDataFees"),
        (FundsData, "AccountsFundsData"),
        (FundPublicIdentification, "AccountsFundsDataPublicIdentifications"),
        (ReceivablesData, "AccountsReceivablesData"),
        (Transaction, "Transaction"),
        (Merchant, "TransactionMerchantData"),
        (CreditCardData, "TransactionCreditCardData"),
        (Balance, "Balance"),
        (Owner, "Owner"),
        (DocumentId, "OwnerDocumentId"),
    ],
)
def test_struct_fields_are_spec_properties(
    spec: BelvoSpec, struct_type: type[msgspec.Struct], component: str
) -> None:
    fields = {field.encode_name for field in msgspec.structs.fields(struct_type)}
    properties = set(spec.component_properties(component))
    unsent = UNSENT_LOAN_KEYS if struct_type is LoanData else set()

    assert fields - properties == EXAMPLE_ONLY_KEYS.get(component, set())
    assert properties - fields == unsent


@pytest.mark.parametrize(("institution_name", "username"), USERS)
def test_transaction_amounts_positive(institution_name: str, username: str) -> None:
    data = wire_data(institution_name, username)

    for transactions in data.transactions:
        for transaction in transactions:
            assert isinstance(transaction["amount"], float)
            assert transaction["amount"] > 0, transaction["internal_identification"]


@pytest.mark.parametrize(("institution_name", "username"), USERS)
def test_account_embedded_in_full(institution_name: str, username: str) -> None:
    data = wire_data(institution_name, username)

    for account, transactions, balances in zip(
        data.accounts, data.transactions, data.balances, strict=True
    ):
        for transaction in transactions:
            assert transaction["account"] == account
        for balance in balances:
            assert balance["account"] == account


@pytest.mark.parametrize(("institution_name", "username"), USERS)
def test_current_balance_is_last_transaction(institution_name: str, username: str) -> None:
    data = wire_data(institution_name, username)

    for account, transactions in zip(data.accounts, data.transactions, strict=True):
        assert transactions, account["name"]
        assert account["balance"]["current"] == transactions[-1]["balance"]


@pytest.mark.parametrize(("institution_name", "username"), USERS)
def test_daily_balances_end_at_current(institution_name: str, username: str) -> None:
    data = wire_data(institution_name, username)

    for account, balances in zip(data.accounts, data.balances, strict=True):
        if account["category"] not in {"CHECKING_ACCOUNT", "SAVINGS_ACCOUNT"}:
            assert balances == []
            continue
        assert [balance["value_date"] for balance in balances] == [
            (MONTH_START + timedelta(days=offset)).isoformat() for offset in range(30)
        ]
        assert balances[-1]["balance"] == account["balance"]["current"]
        for balance in balances:
            assert balance["current_balance"] == balance["balance"]


def test_card_and_loan_figures() -> None:
    data = wire_data("erebor_mx_retail", "bnk100")
    by_category = {account["category"]: account for account in data.accounts}
    card = by_category["CREDIT_CARD"]
    loan = by_category["LOAN_ACCOUNT"]

    assert card["balance_type"] == "LIABILITY"
    assert card["credit_data"]["credit_limit"] > 0
    assert card["balance"]["available"] == pytest.approx(
        max(card["credit_data"]["credit_limit"] - card["balance"]["current"], 0)
    )
    assert card["loan_data"] is None
    assert loan["credit_data"] is None
    assert loan["loan_data"]["outstanding_balance"] == loan["balance"]["current"]
    assert loan["loan_data"]["outstanding_principal"] == loan["balance"]["available"]
    assert loan["loan_data"]["payment_day"].isdigit()


def test_card_transactions_carry_bill() -> None:
    data = wire_data("erebor_mx_retail", "bnk100")
    index = [account["category"] for account in data.accounts].index("CREDIT_CARD")
    transactions = data.transactions[index]

    assert transactions
    for transaction in transactions:
        bill = transaction["credit_card_data"]
        assert bill is not None
        assert bill["collected_at"] == "2025-11-20T15:30:12.250000Z"
        previous = bill["previous_bill_total"]
        if previous is not None:
            assert isinstance(previous, str)
            assert re.fullmatch(r"\d+\.\d{2}", previous), previous
    assert any(
        transaction["credit_card_data"]["previous_bill_total"] for transaction in transactions
    )
    for transaction in data.transactions[0]:
        assert transaction["credit_card_data"] is None


def test_timestamps_encode_as_utc() -> None:
    data = wire_data("erebor_mx_retail", "bnk100")
    account = data.accounts[0]

    assert account["collected_at"] == "2025-11-20T15:30:12.250000Z"
    assert account["created_at"] == "2025-11-20T15:30:14.250000Z"
    assert account["last_accessed_at"] == account["collected_at"]
    assert data.owners[0]["collected_at"] == "2025-11-20T15:30:12.250000Z"


def test_naive_timestamp_rejected() -> None:
    profile = profile_for("erebor_mx_retail", "bnk100")
    institution = find_by_name("erebor_mx_retail")
    assert institution is not None

    with pytest.raises(ValueError, match="collected_at must be an aware datetime"):
        account_to_wire(
            profile,
            profile.accounts[0],
            account_id=wire_id("naive"),
            link_id=LINK_ID,
            institution=institution,
            collected_at=COLLECTED_AT.replace(tzinfo=None),
            created_at=CREATED_AT,
            today=TODAY,
        )


def test_other_institution_rejected() -> None:
    profile = profile_for("erebor_mx_retail", "bnk100")
    other = find_by_name("erebor_br_retail")
    assert other is not None

    with pytest.raises(ValueError, match="does not match"):
        account_to_wire(
            profile,
            profile.accounts[0],
            account_id=wire_id("other"),
            link_id=LINK_ID,
            institution=other,
            collected_at=COLLECTED_AT,
            created_at=CREATED_AT,
            today=TODAY,
        )


# Request bodies ---------------------------------------------------------------------------

STANDARD_REQUESTS = [AccountsRequest, OwnersRequest]
DATED_REQUESTS = [TransactionsRequest, BalancesRequest]
DATED_BODY = {"link": LINK_ID, "date_from": "2025-01-01", "date_to": "2025-03-31"}


def decode(body: dict[str, Any], struct_type: type[msgspec.Struct]) -> Any:
    return msgspec.json.decode(msgspec.json.encode(body), type=struct_type)


@pytest.mark.parametrize("struct_type", STANDARD_REQUESTS)
def test_standard_request_defaults(struct_type: type[msgspec.Struct]) -> None:
    request = decode({"link": LINK_ID}, struct_type)

    assert str(request.link) == LINK_ID
    assert request.save_data is True
    assert request.token is msgspec.UNSET
    assert request.encryption_key is msgspec.UNSET


def test_resume_request_takes_its_link_from_the_session() -> None:
    request = decode({"session": "6e7b283c6efa449c9c028a16b5c249fa"}, ResumeRequest)

    assert request.link is msgspec.UNSET


@pytest.mark.parametrize("struct_type", [*STANDARD_REQUESTS, *DATED_REQUESTS])
def test_request_without_link_rejected(struct_type: type[msgspec.Struct]) -> None:
    body: dict[str, Any] = {
        "session": "6e7b283c6efa449c9c028a16b5c249fa",
        "date_from": "2025-01-01",
        "date_to": "2025-03-31",
    }

    with pytest.raises(msgspec.ValidationError, match="missing required field `link`"):
        decode(body, struct_type)


@pytest.mark.parametrize("struct_type", [*STANDARD_REQUESTS, *DATED_REQUESTS])
@pytest.mark.parametrize("link", ["", "abc", "2ccd5e15-194a-4a19-a45a-e7223c7e671", 42, None])
def test_request_invalid_link_rejected(struct_type: type[msgspec.Struct], link: object) -> None:
    body = {**DATED_BODY, "link": link}

    with pytest.raises(msgspec.ValidationError, match=r"\$\.link"):
        decode(body, struct_type)


@pytest.mark.parametrize("struct_type", DATED_REQUESTS)
def test_dated_request_decodes(struct_type: type[msgspec.Struct]) -> None:
    request = decode(
        {**DATED_BODY, "account": "D4617561-1C01-4B2F-83B6-A594F7B3BC57", "save_data": False},
        struct_type,
    )

    assert request.date_from == date(2025, 1, 1)
    assert request.date_to == date(2025, 3, 31)
    assert str(request.account) == "d4617561-1c01-4b2f-83b6-a594f7b3bc57"
    assert request.save_data is False


@pytest.mark.parametrize("struct_type", DATED_REQUESTS)
@pytest.mark.parametrize("field", ["date_from", "date_to"])
def test_dated_request_missing_date_rejected(struct_type: type[msgspec.Struct], field: str) -> None:
    body = {key: value for key, value in DATED_BODY.items() if key != field}

    with pytest.raises(msgspec.ValidationError, match=f"missing required field `{field}`"):
        decode(body, struct_type)


@pytest.mark.parametrize("struct_type", DATED_REQUESTS)
@pytest.mark.parametrize("field", ["date_from", "date_to"])
@pytest.mark.parametrize(
    "value",
    [
        "2025-1-05",
        "2025-02-30",
        "2025-13-01",
        "05/01/2025",
        "20250105",
        "2025-01-05T00:00:00Z",
        "2025-01-05\n",
        "",
        20250105,
        None,
    ],
)
def test_malformed_date_rejected(
    struct_type: type[msgspec.Struct], field: str, value: object
) -> None:
    body = {**DATED_BODY, field: value}

    with pytest.raises(msgspec.ValidationError, match=rf"\$\.{field}"):
        decode(body, struct_type)


@pytest.mark.parametrize(
    ("save_data", "expected"),
    [(True, True), (False, False), ("true", True), ("false", False), ("0", False), (1, True)],
)
def test_save_data_forms(save_data: object, expected: bool) -> None:
    request = decode({"link": LINK_ID, "save_data": save_data}, AccountsRequest)

    assert is_save_requested(request.save_data) is expected


@pytest.mark.parametrize("save_data", ["maybe", 2, None, [], 0.5])
def test_save_data_invalid_rejected(save_data: object) -> None:
    with pytest.raises(msgspec.ValidationError, match=r"\$\.save_data"):
        decode({"link": LINK_ID, "save_data": save_data}, AccountsRequest)


def test_token_too_long_rejected() -> None:
    with pytest.raises(msgspec.ValidationError, match=r"\$\.token"):
        decode({"link": LINK_ID, "token": "1" * 1025}, AccountsRequest)


def test_resume_request_decodes() -> None:
    request = decode(
        {"session": "6e7b283c6efa449c9c028a16b5c249fa", "link": LINK_ID, "token": "1234ab"},
        ResumeRequest,
    )

    assert request.session == "6e7b283c6efa449c9c028a16b5c249fa"
    assert str(request.link) == LINK_ID
    assert request.token == "1234ab"
    assert request.save_data is True


@pytest.mark.parametrize("session", ["", "6e7b283c", "6E7B283C6EFA449C9C028A16B5C249FA", None])
def test_resume_request_invalid_session_rejected(session: object) -> None:
    with pytest.raises(msgspec.ValidationError, match=r"\$\.session"):
        decode({"session": session, "link": LINK_ID}, ResumeRequest)


def test_resume_request_without_session_rejected() -> None:
    with pytest.raises(msgspec.ValidationError, match="missing required field `session`"):
        decode({"link": LINK_ID}, ResumeRequest)
