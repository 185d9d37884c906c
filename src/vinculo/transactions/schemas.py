"""Wire shapes of the transactions resource: the `Transaction` object and its request body.

Field names and nullability follow the `Transaction` schema of Belvo's OpenAPI specification
1.35.0. Every key that the specification requires is always sent, as null where it allows
null.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

import msgspec
from msgspec import UNSET, UnsetType

from vinculo.accounts.schemas import Account, ResourceId, SaveData
from vinculo.links.schemas import Secret

# The sandbox data declares the full category and subcategory enumerations of the
# specification, so the wire shape reuses them.
from vinculo.sandbox_data.categories import TransactionCategory, TransactionSubcategory
from vinculo.wire.query import Page

TransactionType = Literal["INFLOW", "OUTFLOW"]
TransactionStatus = Literal["PENDING", "PROCESSED", "UNCATEGORIZED"]
BillStatus = Literal["PAID", "CLOSED", "OPEN", "FUTURE"]


class Merchant(msgspec.Struct, kw_only=True):
    """The merchant of a transaction, with URLs of its logo and website."""

    logo: str | None
    website: str | None
    merchant_name: str


class CreditCardData(msgspec.Struct, kw_only=True):
    """The credit card bill that a card transaction appears on."""

    collected_at: datetime | None
    # Month and year of the bill, such as `apr-2020`. The format depends on the institution.
    bill_name: str | None
    bill_status: BillStatus | None
    bill_amount: float | None
    # A string with two decimals, such as "9614.30", unlike the other amounts.
    previous_bill_total: str | None


class TransactionFields(msgspec.Struct, kw_only=True):
    """A transaction without its account: what a connector returns and the server stores.

    The server embeds the stored account in its responses (see `Transaction`).
    """

    id: str
    internal_identification: str | None
    collected_at: datetime | None
    created_at: datetime
    value_date: date | None
    accounting_date: datetime | None
    # Always positive, because `type` gives the direction.
    amount: float | None
    # The account's balance right after this transaction.
    balance: float | None
    currency: str | None
    description: str | None
    observations: str | None
    merchant: Merchant | None
    category: TransactionCategory | None
    subcategory: TransactionSubcategory | None
    reference: str | None
    type: TransactionType | None
    status: TransactionStatus | None
    credit_card_data: CreditCardData | None


class Transaction(TransactionFields, kw_only=True):
    """A transaction as Belvo returns it, with its account embedded in full."""

    account: Account


class TransactionsRequest(msgspec.Struct, kw_only=True):
    """Body of `POST /api/transactions/`: retrieve a link's transactions of a date range.

    `date_from` and `date_to` are both included. The struct checks only their `YYYY-MM-DD`
    format. The caller checks that `date_from` is not after `date_to` and that `date_to`
    is not in the future, because both rules need the request's date.
    """

    link: ResourceId
    date_from: date
    date_to: date
    # Only this account's transactions, when set.
    account: ResourceId | UnsetType = UNSET
    token: Secret | UnsetType = UNSET
    save_data: SaveData = True
    encryption_key: Secret | UnsetType = UNSET


class PaginatedResponseTransaction(Page[Transaction]):
    """One page of `GET /api/transactions/`."""
