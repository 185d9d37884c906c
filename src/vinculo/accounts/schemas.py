"""Wire shapes of the accounts resource: the `Account` object and the retrieval request bodies.

Field names and nullability follow the `Account` schema of Belvo's OpenAPI specification
1.35.0 and its sub-objects. Every key that the specification requires is always sent, as
null where it allows null. Money is a JSON number, dates are `YYYY-MM-DD` and timestamps
are aware UTC `datetime`s, which msgspec writes with a `Z` suffix.

The request types below the `Account` object are shared by the accounts, owners,
transactions and balances resources, because Belvo retrieves all four the same way.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Final, Literal, get_args

import msgspec
from msgspec import UNSET, UnsetType

from vinculo.institutions.schemas import InstitutionType
from vinculo.links.schemas import Secret, SessionId
from vinculo.wire.query import Page

AccountCategory = Literal[
    "CHECKING_ACCOUNT",
    "CREDIT_CARD",
    "INVESTMENT_ACCOUNT",
    "LOAN_ACCOUNT",
    "PENSION_FUND_ACCOUNT",
    "RECEIVABLES_ACCOUNT",
    "SAVINGS_ACCOUNT",
    "UNCATEGORIZED",
]
BalanceType = Literal["ASSET", "LIABILITY"]
InterestRateType = Literal["MONTHLY", "YEARLY"]
FeeType = Literal["OPERATION_FEE", "INSURANCE_FEE", "OTHERS"]


class AccountInstitution(msgspec.Struct, kw_only=True):
    """The institution of an account: its Belvo name, such as `erebor_mx_retail`, and type."""

    name: str
    type: InstitutionType


class AccountBalance(msgspec.Struct, kw_only=True):
    """Current and available balance of an account when it was collected."""

    current: float | None
    available: float | None


class CreditData(msgspec.Struct, kw_only=True):
    """Credit card figures (`credit_data`), with Belvo's deprecated keys sent as well."""

    credit_limit: float | None
    collected_at: datetime | None
    cutting_date: date | None
    next_payment_date: date | None
    minimum_payment: float | None
    no_interest_payment: float | None
    # Annual rate in percent.
    interest_rate: float | None
    end_date: date | None = None
    monthly_payment: float | None = None
    last_payment_date: date | None = None


class InterestRate(msgspec.Struct, kw_only=True):
    """One interest rate of a loan, in percent for the period of `type`."""

    name: str | None
    type: InterestRateType | None
    value: float | None


class Fee(msgspec.Struct, kw_only=True):
    """One fee of a loan, as an amount in the loan's currency."""

    type: FeeType
    value: float


class LoanData(msgspec.Struct, kw_only=True):
    """Loan figures (`loan_data`). Belvo's deprecated loan keys are not sent."""

    collected_at: datetime
    contract_amount: float | None
    principal: float | None
    loan_type: str | None
    # Day of the month, as a string such as "17".
    payment_day: str | None
    outstanding_principal: float | None
    outstanding_balance: float | None
    monthly_payment: float | None
    interest_rates: list[InterestRate] | None
    fees: list[Fee] | None
    number_of_installments_total: int | None
    number_of_installments_outstanding: int | None
    contract_start_date: date | None
    contract_end_date: date
    contract_number: str | None


class FundPublicIdentification(msgspec.Struct, kw_only=True):
    """A public id of a pension fund, such as its CNPJ."""

    name: str
    value: str | None


class FundsData(msgspec.Struct, kw_only=True):
    """One fund that contributes to a pension account."""

    name: str | None
    type: str | None
    public_identifications: list[FundPublicIdentification] | None
    balance: float | None
    percentage: float | None


class ReceivablesData(msgspec.Struct, kw_only=True):
    """Receivables of a receivables account: `current` is `available` plus `anticipated`."""

    current: float | None
    available: float | None
    anticipated: float | None
    collected_at: datetime


class Account(msgspec.Struct, kw_only=True):
    """An account as Belvo returns it, also embedded in full in transactions and balances."""

    id: str
    link: str | None
    institution: AccountInstitution
    collected_at: datetime
    created_at: datetime
    category: AccountCategory | None
    balance_type: BalanceType | None
    # The institution's label for the kind of account, such as "Cuentas de efectivo".
    type: str | None
    name: str | None
    number: str | None
    balance: AccountBalance
    currency: str | None
    # The kind of public id, such as `CLABE` or `AGENCY/ACCOUNT`, and its value.
    public_identification_name: str | None
    public_identification_value: str | None
    last_accessed_at: datetime | None
    credit_data: CreditData | None
    loan_data: LoanData | None
    funds_data: list[FundsData] | None = None
    receivables_data: ReceivablesData | None = None
    # Deprecated by Belvo but still present in its examples.
    bank_product_id: str | None = None
    internal_identification: str | None = None


# A UUID as msgspec decodes it from JSON: 36 characters with hyphens or 32 hex digits, in
# either case. msgspec reports anything else as "Invalid UUID", which
# `vinculo.wire.validation` words as Belvo does: `"<value>" is not a valid UUID.`
ResourceId = uuid.UUID

# The string and integer forms of a boolean that Django REST Framework 3's `BooleanField`
# accepts, because Belvo runs on that framework and some clients send `"save_data": "false"`
# as a string.
# NOTE: the framework also accepts the float 0.0 as false. msgspec cannot declare a float
# literal, so 0.0 is rejected here.
TrueText = Literal[
    "true", "True", "TRUE", "t", "T", "yes", "Yes", "YES", "y", "Y", "on", "On", "ON", "1"
]
FalseText = Literal[
    "false", "False", "FALSE", "f", "F", "no", "No", "NO", "n", "N", "off", "Off", "OFF", "0"
]
SaveData = bool | Literal[TrueText, FalseText] | Literal[0, 1]
_TRUE_TEXTS: Final = frozenset(get_args(TrueText))


def is_save_requested(save_data: SaveData) -> bool:
    """Convert a decoded `save_data` value to the boolean it stands for."""
    if isinstance(save_data, bool):
        return save_data
    if isinstance(save_data, int):
        return save_data == 1
    return save_data in _TRUE_TEXTS


class AccountsRequest(msgspec.Struct, kw_only=True):
    """Body of `POST /api/accounts/`: retrieve the accounts of a link."""

    link: ResourceId
    token: Secret | UnsetType = UNSET
    save_data: SaveData = True
    encryption_key: Secret | UnsetType = UNSET


class ResumeRequest(msgspec.Struct, kw_only=True):
    """Body of `PATCH /api/{accounts,owners,transactions,balances}/`: the MFA token that
    resumes a retrieval paused by a 428 `token_required` response for this link."""

    session: SessionId
    # Null is accepted because belvo-python always sends the key, even without a token.
    token: Secret | UnsetType | None = UNSET
    # Optional in practice, as on `PATCH /api/links/`: the session names its link.
    link: ResourceId | UnsetType = UNSET
    save_data: SaveData = True


class PaginatedResponseAccount(Page[Account]):
    """One page of `GET /api/accounts/`."""
