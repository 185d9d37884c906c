"""Convert sandbox data to Belvo's wire objects: `Account`, `Transaction`, `Balance`, `Owner`.

The functions are pure. The caller passes the ids that the API assigns, the timestamps of
the retrieval and, for accounts, the `today` whose figures the account shows. Amounts are
rounded half up to cents and sent as floats, because Belvo sends JSON numbers.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import msgspec

from vinculo.accounts.schemas import (
    Account,
    AccountBalance,
    AccountInstitution,
    CreditData,
    Fee,
    InterestRate,
    LoanData,
)
from vinculo.balances.schemas import Balance, BalanceFields
from vinculo.institutions.schemas import Institution
from vinculo.owners.schemas import DocumentId, Owner
from vinculo.sandbox_data.models import (
    AccountSpec,
    CreditCardBill,
    OwnerSpec,
    TransactionSpec,
    UserProfile,
)
from vinculo.sandbox_data.money import to_money
from vinculo.sandbox_data.statuses import balance_snapshot, credit_card_status, loan_status
from vinculo.transactions.schemas import (
    CreditCardData,
    Merchant,
    Transaction,
    TransactionFields,
)


def _money(amount: Decimal) -> float:
    return float(to_money(amount))


def _require_aware(**timestamps: datetime) -> None:
    """Raise ValueError for a naive timestamp, which msgspec would encode without an offset."""
    for name, value in timestamps.items():
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(
                f"{name} must be an aware datetime such as one in UTC, "
                f"got naive {value.isoformat()}"
            )


def account_to_wire(
    profile: UserProfile,
    spec: AccountSpec,
    *,
    account_id: str,
    link_id: str,
    institution: Institution,
    collected_at: datetime,
    created_at: datetime,
    today: date,
) -> Account:
    """Build the `Account` object of one of the profile's accounts as of `today`.

    `last_accessed_at` is `collected_at`, because the retrieval that collects the account
    is the latest successful access to the institution. Raises ValueError when `spec` is
    not one of the profile's accounts, when `institution` is not the profile's
    institution, or when a timestamp is naive.
    """
    _require_aware(collected_at=collected_at, created_at=created_at)
    if institution.name != profile.institution_name:
        raise ValueError(
            f"institution {institution.name!r} does not match the profile's institution "
            f"{profile.institution_name!r}: pass find_by_name(profile.institution_name)"
        )

    snapshot = balance_snapshot(profile, spec, today=today)
    return Account(
        id=account_id,
        link=link_id,
        institution=AccountInstitution(name=institution.name, type=institution.type),
        collected_at=collected_at,
        created_at=created_at,
        category=spec.category,
        balance_type=spec.balance_type,
        type=spec.type,
        name=spec.name,
        number=spec.number,
        balance=AccountBalance(
            current=_money(snapshot.current), available=_money(snapshot.available)
        ),
        currency=spec.currency,
        public_identification_name=spec.public_identification_name,
        public_identification_value=spec.public_identification_value,
        last_accessed_at=collected_at,
        credit_data=_credit_data(profile, spec, collected_at, today),
        loan_data=_loan_data(profile, spec, collected_at, today),
        funds_data=None,
        receivables_data=None,
        bank_product_id=None,
        internal_identification=spec.internal_identification,
    )


def _credit_data(
    profile: UserProfile, spec: AccountSpec, collected_at: datetime, today: date
) -> CreditData | None:
    if spec.credit_data is None:
        return None
    status = credit_card_status(profile, spec, today=today)
    return CreditData(
        credit_limit=_money(status.credit_limit),
        collected_at=collected_at,
        cutting_date=status.cutting_date,
        next_payment_date=status.next_payment_date,
        minimum_payment=_money(status.minimum_payment),
        no_interest_payment=_money(status.no_interest_payment),
        interest_rate=_money(status.interest_rate),
        end_date=None,
        monthly_payment=None,
        last_payment_date=status.last_payment_date,
    )


def _loan_data(
    profile: UserProfile, spec: AccountSpec, collected_at: datetime, today: date
) -> LoanData | None:
    terms = spec.loan_data
    if terms is None:
        return None
    status = loan_status(profile, spec, today=today)
    return LoanData(
        collected_at=collected_at,
        contract_amount=_money(terms.contract_amount),
        principal=_money(terms.principal),
        loan_type=terms.loan_type,
        payment_day=str(terms.payment_day),
        outstanding_principal=_money(status.outstanding_principal),
        outstanding_balance=_money(status.outstanding_balance),
        monthly_payment=_money(terms.monthly_payment),
        interest_rates=[
            InterestRate(name=rate.name, type=rate.type, value=_money(rate.value))
            for rate in terms.interest_rates
        ],
        fees=[Fee(type=fee.type, value=_money(fee.value)) for fee in terms.fees],
        number_of_installments_total=terms.number_of_installments_total,
        number_of_installments_outstanding=status.number_of_installments_outstanding,
        contract_start_date=terms.contract_start_date,
        contract_end_date=terms.contract_end_date,
        contract_number=terms.contract_number,
    )


def transaction_fields(
    spec: TransactionSpec,
    *,
    transaction_id: str,
    collected_at: datetime,
    created_at: datetime,
) -> TransactionFields:
    """Build a transaction's object without its account, as a connector returns it.

    Raises ValueError when a timestamp is naive.
    """
    _require_aware(collected_at=collected_at, created_at=created_at)
    merchant = None
    if spec.merchant is not None:
        merchant = Merchant(
            logo=spec.merchant.logo,
            website=spec.merchant.website,
            merchant_name=spec.merchant.merchant_name,
        )
    return TransactionFields(
        id=transaction_id,
        internal_identification=spec.internal_identification,
        collected_at=collected_at,
        created_at=created_at,
        value_date=spec.value_date,
        accounting_date=spec.accounting_date,
        amount=_money(spec.amount),
        balance=_money(spec.balance),
        currency=spec.currency,
        description=spec.description,
        observations=spec.observations,
        merchant=merchant,
        category=spec.category,
        subcategory=spec.subcategory,
        reference=spec.reference,
        type=spec.type,
        status=spec.status,
        credit_card_data=_credit_card_data(spec.credit_card_data, collected_at),
    )


def transaction_to_wire(
    spec: TransactionSpec,
    *,
    transaction_id: str,
    account: Account,
    collected_at: datetime,
    created_at: datetime,
) -> Transaction:
    """Build the `Transaction` object of one transaction of `account`.

    Raises ValueError when a timestamp is naive.
    """
    fields = transaction_fields(
        spec, transaction_id=transaction_id, collected_at=collected_at, created_at=created_at
    )
    return Transaction(account=account, **msgspec.structs.asdict(fields))


def _credit_card_data(bill: CreditCardBill | None, collected_at: datetime) -> CreditCardData | None:
    if bill is None:
        return None
    previous_total = None
    if bill.previous_bill_total is not None:
        previous_total = str(to_money(bill.previous_bill_total))
    return CreditCardData(
        collected_at=collected_at,
        bill_name=bill.bill_name,
        bill_status=bill.bill_status,
        bill_amount=_money(bill.bill_amount),
        previous_bill_total=previous_total,
    )


def balance_fields(
    value_date: date, amount: Decimal, *, balance_id: str, collected_at: datetime
) -> BalanceFields:
    """Build a daily balance's object without its account, as a connector returns it.

    Raises ValueError when `collected_at` is naive.
    """
    _require_aware(collected_at=collected_at)
    money = _money(amount)
    return BalanceFields(
        id=balance_id,
        value_date=value_date,
        balance=money,
        current_balance=money,
        statement=None,
        collected_at=collected_at,
    )


def balance_to_wire(
    value_date: date,
    amount: Decimal,
    *,
    balance_id: str,
    account: Account,
    collected_at: datetime,
) -> Balance:
    """Build the `Balance` object of `account` at the end of `value_date`.

    Raises ValueError when `collected_at` is naive.
    """
    fields = balance_fields(value_date, amount, balance_id=balance_id, collected_at=collected_at)
    return Balance(account=account, **msgspec.structs.asdict(fields))


def owner_to_wire(
    spec: OwnerSpec,
    *,
    owner_id: str,
    link_id: str,
    collected_at: datetime,
    created_at: datetime,
) -> Owner:
    """Build the `Owner` object of one owner of a link.

    Belvo's owner has one document, so the spec's `other_documents` are not sent. Raises
    ValueError when a timestamp is naive.
    """
    _require_aware(collected_at=collected_at, created_at=created_at)
    return Owner(
        id=owner_id,
        link=link_id,
        internal_identification=spec.internal_identification,
        collected_at=collected_at,
        created_at=created_at,
        display_name=spec.display_name,
        email=spec.email,
        phone_number=spec.phone_number,
        address=spec.address,
        document_id=DocumentId(
            document_type=spec.document_id.document_type,
            document_number=spec.document_id.document_number,
        ),
        first_name=spec.first_name,
        last_name=spec.last_name,
        second_last_name=spec.second_last_name,
    )
