"""Properties of generated histories over random usernames, banks, dates and ranges."""

from __future__ import annotations

import string
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from vinculo.institutions.catalogue import SANDBOX_INSTITUTIONS
from vinculo.sandbox_data import (
    AccountSpec,
    TransactionSpec,
    UserProfile,
    account_balance,
    daily_balances,
    is_brazilian_agency_account,
    is_valid_clabe,
    is_valid_cpf,
    is_valid_curp,
    profile_for,
    transactions_for,
)
from vinculo.sandbox_data.transactions import visible_from

BANKS = sorted(
    institution.name for institution in SANDBOX_INSTITUTIONS if institution.type == "bank"
)
USERNAMES = st.text(alphabet=string.ascii_letters + string.digits + "_", min_size=1, max_size=16)
TODAYS = st.dates(min_value=date(2024, 9, 1), max_value=date(2026, 12, 31))
# Each example simulates up to four years of a profile, so the example counts stay small.
PROPERTY_SETTINGS = settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def _signed(account: AccountSpec, transaction: TransactionSpec) -> Decimal:
    """Return the change that `transaction` makes to the account's balance."""
    adds = (transaction.type == "INFLOW") == (account.balance_type == "ASSET")
    return transaction.amount if adds else -transaction.amount


def _full_history(profile: UserProfile, account: AccountSpec, today: date) -> list[TransactionSpec]:
    return transactions_for(profile, account, account.opened_on, today, today=today)


@PROPERTY_SETTINGS
@given(username=USERNAMES, institution=st.sampled_from(BANKS), today=TODAYS)
@example(username="bnk100", institution="erebor_mx_retail", today=date(2026, 3, 31))
@example(username="business", institution="gotham_co_business", today=date(2025, 8, 14))
@example(username="thin_file", institution="erebor_br_retail", today=date(2025, 10, 1))
def test_running_balances_reconcile(username: str, institution: str, today: date) -> None:
    profile = profile_for(institution, username)
    for account in profile.accounts:
        history = _full_history(profile, account, today)
        balance = account.opening_balance
        if history and visible_from(account, today) > account.opened_on:
            # The visible window starts after the opening, so the first visible transaction
            # supplies the balance before it.
            balance = history[0].balance - _signed(account, history[0])

        for transaction in history:
            balance += _signed(account, transaction)
            assert transaction.balance == balance
            assert transaction.amount > 0
            assert transaction.amount == transaction.amount.quantize(Decimal("0.01"))
            assert transaction.currency == account.currency
        assert account_balance(profile, account, today=today) == balance
        if account.balance_type == "ASSET":
            assert all(transaction.balance >= 0 for transaction in history)


@PROPERTY_SETTINGS
@given(
    username=USERNAMES,
    institution=st.sampled_from(BANKS),
    today=TODAYS,
    start_offset=st.integers(min_value=0, max_value=900),
    length=st.integers(min_value=0, max_value=400),
    overlap=st.integers(min_value=0, max_value=60),
)
@example(
    username="user_valid",
    institution="ironbank_mx_retail",
    today=date(2025, 12, 1),
    start_offset=500,
    length=365,
    overlap=30,
)
def test_ranges_are_slices_of_one_history(
    username: str, institution: str, today: date, start_offset: int, length: int, overlap: int
) -> None:
    profile = profile_for(institution, username)
    for account in profile.accounts:
        history = _full_history(profile, account, today)
        ids = [transaction.internal_identification for transaction in history]
        date_from = today - timedelta(days=start_offset)
        date_to = date_from + timedelta(days=length)

        requested = transactions_for(profile, account, date_from, date_to, today=today)
        next_from = date_to - timedelta(days=overlap)
        next_range = transactions_for(
            profile, account, next_from, next_from + timedelta(days=90), today=today
        )

        assert len(set(ids)) == len(ids)
        assert all(date_from <= item.value_date <= min(date_to, today) for item in requested)
        assert requested == [
            item for item in history if date_from <= item.value_date <= min(date_to, today)
        ]
        shared = {item.internal_identification for item in requested} & {
            item.internal_identification for item in next_range
        }
        assert [item for item in requested if item.internal_identification in shared] == [
            item for item in next_range if item.internal_identification in shared
        ]
        assert [item.value_date for item in history] == sorted(item.value_date for item in history)
        assert [item.accounting_date for item in history] == sorted(
            item.accounting_date for item in history
        )


@PROPERTY_SETTINGS
@given(username=USERNAMES, institution=st.sampled_from(BANKS))
def test_identifiers_are_valid(username: str, institution: str) -> None:
    profile = profile_for(institution, username)
    for account in profile.accounts:
        value = account.public_identification_value
        if account.public_identification_name == "CLABE":
            assert value is not None
            assert is_valid_clabe(value)
        if account.public_identification_name == "AGENCY/ACCOUNT":
            assert value is not None
            assert is_brazilian_agency_account(value)
    for owner in profile.owners:
        if owner.document_id.document_type == "CPF":
            assert is_valid_cpf(owner.document_id.document_number)
        if owner.document_id.document_type == "CURP":
            assert is_valid_curp(owner.document_id.document_number)


@PROPERTY_SETTINGS
@given(
    username=USERNAMES,
    institution=st.sampled_from(BANKS),
    today=TODAYS,
    start_offset=st.integers(min_value=0, max_value=400),
)
def test_daily_balances_match_transactions(
    username: str, institution: str, today: date, start_offset: int
) -> None:
    profile = profile_for(institution, username)
    date_from = today - timedelta(days=start_offset)
    for account in profile.accounts:
        balances = daily_balances(profile, account, date_from, today, today=today)
        if account.category not in {"CHECKING_ACCOUNT", "SAVINGS_ACCOUNT"}:
            assert balances == []
            continue
        history = _full_history(profile, account, today)
        first_day = max(date_from, visible_from(account, today))

        assert [day for day, _ in balances] == [
            first_day + timedelta(days=index) for index in range((today - first_day).days + 1)
        ]
        for day, balance in balances:
            booked = [item for item in history if item.value_date <= day]
            if booked:
                assert balance == booked[-1].balance
        if balances:
            assert balances[-1][1] == account_balance(profile, account, today=today)
