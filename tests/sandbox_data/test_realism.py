"""Recurring patterns, cross-account consistency and plausible amounts."""

from __future__ import annotations

import re
import statistics
from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_CEILING, Decimal

import pytest

from vinculo.institutions.catalogue import SANDBOX_INSTITUTIONS
from vinculo.sandbox_data import (
    THIN_FILE_HISTORY_DAYS,
    AccountSpec,
    TransactionSpec,
    UserProfile,
    account_balance,
    balance_snapshot,
    credit_card_status,
    daily_balances,
    loan_status,
    profile_for,
    transactions_for,
)
from vinculo.sandbox_data.dates import month_end, paydays
from vinculo.sandbox_data.transactions import PENDING_DAYS

BANKS = [institution.name for institution in SANDBOX_INSTITUTIONS if institution.type == "bank"]
TODAY = date(2025, 12, 31)


def _history(
    profile: UserProfile, account: AccountSpec, today: date = TODAY
) -> list[TransactionSpec]:
    return transactions_for(profile, account, account.opened_on, today, today=today)


def _months(first: date, last: date) -> list[tuple[int, int]]:
    months = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


@pytest.mark.parametrize("institution", BANKS)
def test_salary_on_paydays(institution: str) -> None:
    profile = profile_for(institution, "bnk100")
    checking = profile.accounts[0]
    salary_days = [
        item.value_date for item in _history(profile, checking) if item.subcategory == "Salary"
    ]
    expected = [
        payday
        for year, month in _months(checking.opened_on, TODAY)
        for payday in paydays(year, month)
        if checking.opened_on <= payday <= TODAY
    ]

    assert salary_days == expected
    assert all(day.weekday() < 5 for day in salary_days)


def test_paydays_move_to_friday() -> None:
    # 15 March 2025 is a Saturday and 31 August 2025 a Sunday.
    assert paydays(2025, 3) == (date(2025, 3, 14), date(2025, 3, 31))
    assert paydays(2025, 8) == (date(2025, 8, 15), date(2025, 8, 29))


@pytest.mark.parametrize("institution", BANKS)
def test_rent_on_the_first(institution: str) -> None:
    profile = profile_for(institution, "someone")
    checking = profile.accounts[0]
    rents = [item for item in _history(profile, checking) if item.subcategory == "Rent"]
    expected_days = [
        date(year, month, 1)
        for year, month in _months(checking.opened_on, TODAY)
        if date(year, month, 1) >= checking.opened_on
    ]

    assert [item.value_date for item in rents] == expected_days
    assert len({item.amount for item in rents}) == 1


def test_bills_and_subscriptions_repeat_monthly() -> None:
    profile = profile_for("gringotts_mx_retail", "bnk100")
    recurring = [
        item
        for account in profile.accounts
        for item in _history(profile, account)
        if item.category in {"Bills & Utilities", "Online Platforms & Leisure"}
        or item.subcategory == "Gyms & Fitness"
    ]
    by_description: dict[str, list[TransactionSpec]] = defaultdict(list)
    for item in recurring:
        by_description[item.description].append(item)

    assert len(by_description) >= 6
    for description, items in by_description.items():
        assert len({item.value_date.day for item in items}) == 1, description
        assert len({item.amount for item in items}) == 1, description
        assert len(items) >= 12, description


@pytest.mark.parametrize("institution", BANKS)
@pytest.mark.parametrize("username", ["bnk100", "user_valid"])
def test_full_dataset_has_a_year_of_history(institution: str, username: str) -> None:
    today = date(2025, 7, 1)
    profile = profile_for(institution, username)
    for account in profile.accounts:
        history = _history(profile, account, today)

        assert history, account.role
        assert history[0].value_date <= today - timedelta(days=365), account.role


def test_thin_file_shows_about_three_months() -> None:
    profile = profile_for("erebor_mx_retail", "thin_file")
    checking = profile.accounts[0]
    window_start = TODAY - timedelta(days=THIN_FILE_HISTORY_DAYS - 1)

    visible = transactions_for(profile, checking, date(2020, 1, 1), TODAY, today=TODAY)
    balances = daily_balances(profile, checking, date(2020, 1, 1), TODAY, today=TODAY)

    assert len(profile.accounts) == 1
    assert visible[0].value_date >= window_start
    assert visible[0].value_date <= window_start + timedelta(days=7)
    assert balances[0][0] == window_start
    assert len(balances) == THIN_FILE_HISTORY_DAYS


def test_card_payments_leave_checking() -> None:
    profile = profile_for("erebor_co_retail", "bnk100")
    checking, _, card, _ = profile.accounts
    payments = [item for item in _history(profile, card) if item.type == "INFLOW"]
    debits = [
        item
        for item in _history(profile, checking)
        if item.subcategory == "Credit Card" and item.type == "OUTFLOW"
    ]

    assert len(payments) >= 12
    assert [(item.value_date, item.amount) for item in payments] == [
        (item.value_date, item.amount) for item in debits
    ]


def test_savings_transfers_mirror_checking() -> None:
    profile = profile_for("heimdall_br_retail", "someone")
    checking, savings, _ = profile.accounts
    received = [item for item in _history(profile, savings) if item.category == "Transfers"]
    sent = [
        item
        for item in _history(profile, checking)
        if item.category == "Transfers" and item.type == "OUTFLOW"
    ]

    assert len(received) >= 12
    assert [(item.value_date, item.amount) for item in received] == [
        (item.value_date, item.amount) for item in sent
    ]


def test_savings_interest_at_month_end() -> None:
    profile = profile_for("heimdall_br_retail", "someone")
    savings = profile.accounts[1]
    interest = [item for item in _history(profile, savings) if item.subcategory == "Interest"]

    assert len(interest) >= 12
    assert all(
        item.value_date == month_end(item.value_date.year, item.value_date.month)
        for item in interest
    )


def test_card_bills() -> None:
    profile = profile_for("gringotts_br_retail", "bnk100")
    card = profile.accounts[2]
    terms = card.credit_data
    assert terms is not None
    history = _history(profile, card)
    statuses_by_bill: dict[str, set[str]] = defaultdict(set)
    for item in history:
        bill = item.credit_card_data
        assert bill is not None
        assert re.fullmatch(
            r"(jan|fev|mar|abr|mai|jun|jul|ago|set|out|nov|dez)-20[0-9]{2}", bill.bill_name
        )
        statuses_by_bill[bill.bill_name].add(bill.bill_status)

    open_bills = [name for name, statuses in statuses_by_bill.items() if "OPEN" in statuses]
    closed = [
        item
        for item in history
        if item.credit_card_data and item.credit_card_data.bill_status != "OPEN"
    ]

    assert all(len(statuses) == 1 for statuses in statuses_by_bill.values())
    assert len(open_bills) == 1
    assert history[-1].credit_card_data is not None
    assert history[-1].credit_card_data.bill_status == "OPEN"
    assert history[-1].credit_card_data.bill_amount == account_balance(profile, card, today=TODAY)
    assert {item.credit_card_data.bill_status for item in closed if item.credit_card_data} <= {
        "PAID",
        "CLOSED",
    }


def test_card_status_figures() -> None:
    profile = profile_for("gringotts_mx_retail", "someone")
    card = profile.accounts[2]
    terms = card.credit_data
    assert terms is not None
    for offset in range(0, 62, 3):
        today = date(2025, 9, 1) + timedelta(days=offset)
        status = credit_card_status(profile, card, today=today)
        snapshot = balance_snapshot(profile, card, today=today)

        assert status.cutting_date >= today
        assert status.cutting_date.day == terms.cutting_day
        assert status.next_payment_date >= today
        assert Decimal(0) <= status.minimum_payment <= status.no_interest_payment
        assert snapshot.available == max(terms.credit_limit - snapshot.current, Decimal(0))


def test_loan_instalments() -> None:
    profile = profile_for("ironbank_co_retail", "bnk100")
    checking, _, _, loan = profile.accounts
    terms = loan.loan_data
    assert terms is not None
    instalments = _history(profile, loan)
    status = loan_status(profile, loan, today=TODAY)
    expected_remaining = (status.outstanding_balance / terms.monthly_payment).to_integral_value(
        rounding=ROUND_CEILING
    )
    disbursements = [
        item for item in _history(profile, checking) if item.description.startswith("DESEMBOLSO")
    ]

    assert len(instalments) >= 12
    assert all(item.value_date.day == terms.payment_day for item in instalments)
    assert all(item.amount == terms.monthly_payment for item in instalments)
    assert instalments[0].observations == f"Cuota 1 de {terms.number_of_installments_total}"
    assert status.outstanding_balance == account_balance(profile, loan, today=TODAY)
    assert status.number_of_installments_outstanding == expected_remaining
    assert Decimal(0) < status.outstanding_principal < status.outstanding_balance
    assert status.next_payment_date is not None
    assert status.next_payment_date.day == terms.payment_day
    assert [item.value_date for item in disbursements] == [terms.contract_start_date]
    assert balance_snapshot(profile, loan, today=TODAY).available == status.outstanding_principal


def test_pending_inflows_are_not_available() -> None:
    profile = profile_for("erebor_mx_retail", "bnk100")
    checking = profile.accounts[0]
    today = date(2025, 10, 15)
    recent = transactions_for(profile, checking, today - timedelta(days=10), today, today=today)
    pending_inflows = sum(
        (item.amount for item in recent if item.status == "PENDING" and item.type == "INFLOW"),
        Decimal(0),
    )
    snapshot = balance_snapshot(profile, checking, today=today)

    assert {item.status for item in recent if (today - item.value_date).days <= PENDING_DAYS} == {
        "PENDING"
    }
    assert {item.status for item in recent if (today - item.value_date).days > PENDING_DAYS} == {
        "PROCESSED"
    }
    assert pending_inflows > 0
    assert snapshot.available == snapshot.current - pending_inflows


def test_business_payroll_and_amounts() -> None:
    profile = profile_for("gotham_mx_business", "business")
    operating, payroll = profile.accounts
    payroll_history = _history(profile, payroll)
    funding = [item for item in payroll_history if item.type == "INFLOW"]
    salary_days = {item.value_date for item in payroll_history if item.type == "OUTFLOW"}
    personal = profile_for("gotham_mx_business", "someone")
    business_median = statistics.median(item.amount for item in _history(profile, operating))
    personal_median = statistics.median(
        item.amount for item in _history(personal, personal.accounts[0])
    )

    assert len(funding) >= 24
    assert all(
        any(0 < (day - item.value_date).days <= 3 for day in salary_days) for item in funding
    )
    assert salary_days <= {
        payday
        for year, month in _months(payroll.opened_on, TODAY)
        for payday in paydays(year, month)
    }
    assert any(item.category == "Taxes" for item in _history(profile, operating))
    assert business_median > 10 * personal_median


def test_amounts_follow_the_currency() -> None:
    salaries: dict[str, Decimal] = {}
    for institution in ("erebor_mx_retail", "erebor_co_retail", "erebor_br_retail"):
        medians = []
        for index in range(12):
            profile = profile_for(institution, f"user{index}")
            history = _history(profile, profile.accounts[0])
            medians.append(
                statistics.median(item.amount for item in history if item.subcategory == "Salary")
            )
        salaries[profile.currency] = statistics.median(medians)

    assert Decimal(5_000) < salaries["MXN"] < Decimal(30_000)
    assert 100 < salaries["COP"] / salaries["MXN"] < 400
    assert Decimal("0.15") < salaries["BRL"] / salaries["MXN"] < Decimal("0.5")


def test_descriptions_are_statement_style() -> None:
    profile = profile_for("erebor_br_retail", "bnk100")
    for account in profile.accounts:
        for item in _history(profile, account):
            assert re.fullmatch(r"[A-Z0-9Ñ& ]+", item.description), item.description
            assert re.fullmatch(r"[0-9]{8}", item.reference)
            assert re.fullmatch(r"[A-Z0-9]{24}", item.internal_identification)
            assert item.accounting_date.date() == item.value_date
            assert item.accounting_date.utcoffset() == timedelta(0)


def test_foreign_account_is_rejected() -> None:
    profile = profile_for("erebor_mx_retail", "bnk100")
    other = profile_for("erebor_mx_retail", "someone")

    with pytest.raises(ValueError, match="does not belong to user 'bnk100'"):
        transactions_for(profile, other.accounts[0], date(2025, 1, 1), TODAY, today=TODAY)
    with pytest.raises(ValueError, match="does not belong"):
        daily_balances(profile, other.accounts[2], date(2025, 1, 1), TODAY, today=TODAY)


def test_empty_and_future_ranges() -> None:
    profile = profile_for("erebor_mx_retail", "bnk100")
    checking = profile.accounts[0]
    today = date(2025, 6, 30)

    future = transactions_for(profile, checking, date(2025, 7, 1), date(2025, 12, 31), today=today)
    reversed_range = transactions_for(
        profile, checking, date(2025, 6, 1), date(2025, 5, 1), today=today
    )
    capped = transactions_for(profile, checking, date(2025, 6, 1), date(2025, 12, 31), today=today)

    assert future == []
    assert reversed_range == []
    assert capped
    assert capped[-1].value_date <= today
    assert (
        daily_balances(profile, checking, date(2025, 6, 1), date(2025, 12, 31), today=today)[-1][0]
        == today
    )
