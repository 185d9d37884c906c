"""Queries on a profile's simulated history: transactions, balances and daily balances.

Every query takes `today`. The history up to `today` is simulated once and cached, and
only two things depend on `today` beyond that cut-off: a transaction's `status` and, for
cards, its bill's status and amount. Each query requests from `history_for` only the
postings from the first day that it reads, so that a recent query can resume the profile's
simulation from its checkpoint (see `vinculo.sandbox_data.simulation`).
"""

from __future__ import annotations

import bisect
from datetime import date, timedelta
from decimal import Decimal
from typing import Final

from vinculo.sandbox_data.cards import cutting_date_on_or_after
from vinculo.sandbox_data.dates import add_months, days_between, month_label
from vinculo.sandbox_data.ledger import Posting
from vinculo.sandbox_data.models import (
    AccountSpec,
    CreditCardBill,
    TransactionSpec,
    UserProfile,
)
from vinculo.sandbox_data.simulation import AccountHistory, recent_histories, simulate
from vinculo.sandbox_data.texts import TEXTS

# A transaction is PENDING while `today - value_date` is at most this many days: on its
# value date and the two days after it.
PENDING_DAYS: Final = 2
_DAILY_BALANCE_CATEGORIES: Final = frozenset({"CHECKING_ACCOUNT", "SAVINGS_ACCOUNT"})


def require_account(profile: UserProfile, account: AccountSpec) -> None:
    """Raise ValueError unless `account` is one of the profile's accounts."""
    if account not in profile.accounts:
        raise ValueError(
            f"account {account.internal_identification!r} does not belong to user "
            f"{profile.username!r} of {profile.institution_name}"
        )


def history_for(
    profile: UserProfile, account: AccountSpec, today: date, *, since: date | None = None
) -> AccountHistory:
    """Return the account's simulated history up to `today`.

    With `since`, the history may leave out the postings before `since`, and the bills
    that only those postings read (see `AccountHistory`). Raises ValueError when the
    account does not belong to the profile.
    """
    require_account(profile, account)
    if since is None:
        return simulate(profile, today)[account.role]
    return recent_histories(profile, today, since)[account.role]


def visible_from(account: AccountSpec, today: date) -> date:
    """Return the first day whose transactions the institution shows on `today`."""
    if account.history_days is None:
        return account.opened_on
    return max(account.opened_on, today - timedelta(days=account.history_days - 1))


def _slice(history: AccountHistory, first: date, last: date) -> tuple[Posting, ...]:
    start = bisect.bisect_left(history.value_dates, first)
    stop = bisect.bisect_right(history.value_dates, last)
    return history.postings[start:stop]


def transactions_for(
    profile: UserProfile,
    account: AccountSpec,
    date_from: date,
    date_to: date,
    *,
    today: date,
) -> list[TransactionSpec]:
    """Return the account's transactions with a value date from `date_from` to
    `min(date_to, today)`, both included, in statement order.

    Statement order is by value date, then by booking time. Thin-file accounts show only
    their last `history_days` days. An empty range returns an empty list.
    """
    first = max(date_from, visible_from(account, today))
    last = min(date_to, today)
    history = history_for(profile, account, today, since=first)
    if first > last:
        return []
    language = TEXTS[profile.country_code].language
    return [
        _transaction(history, posting, today, language) for posting in _slice(history, first, last)
    ]


def _transaction(
    history: AccountHistory, posting: Posting, today: date, language: str
) -> TransactionSpec:
    pending = (today - posting.value_date).days <= PENDING_DAYS
    return TransactionSpec(
        internal_identification=posting.internal_identification,
        value_date=posting.value_date,
        accounting_date=posting.accounting_date,
        amount=posting.amount,
        type=posting.type,
        status="PENDING" if pending else "PROCESSED",
        description=posting.description,
        observations=posting.observations,
        reference=posting.reference,
        category=posting.category,
        subcategory=posting.subcategory,
        merchant=posting.merchant,
        balance=posting.balance,
        currency=history.account.currency,
        credit_card_data=_bill(history, posting.value_date, today, language),
    )


def _bill(
    history: AccountHistory, value_date: date, today: date, language: str
) -> CreditCardBill | None:
    """Describe the bill of a card transaction as of `today`.

    The bill is OPEN until the end of its cutting date, then PAID once payments cover its
    closing balance, and CLOSED otherwise.
    """
    terms = history.account.credit_data
    if terms is None:
        return None
    cutting_date = cutting_date_on_or_after(value_date, terms.cutting_day)
    statement = history.statements.get(cutting_date)
    previous = history.statements.get(add_months(cutting_date, -1, day_of_month=terms.cutting_day))
    previous_total = previous.balance if previous is not None else None
    if cutting_date >= today or statement is None:
        return CreditCardBill(
            bill_name=month_label(cutting_date, language),
            bill_status="OPEN",
            bill_amount=history.final_balance,
            previous_bill_total=previous_total,
        )
    return CreditCardBill(
        bill_name=month_label(cutting_date, language),
        bill_status="PAID" if statement.paid >= statement.balance else "CLOSED",
        bill_amount=statement.balance,
        previous_bill_total=previous_total,
    )


def account_balance(profile: UserProfile, account: AccountSpec, *, today: date) -> Decimal:
    """Return the balance after the account's last transaction up to `today`.

    Before the first transaction it is the opening balance. For cards it is the debt and
    for loans what remains to repay, both positive.
    """
    return history_for(profile, account, today, since=today).final_balance


def pending_inflows(profile: UserProfile, account: AccountSpec, *, today: date) -> Decimal:
    """Return the sum of the account's PENDING inflows on `today`."""
    first = today - timedelta(days=PENDING_DAYS)
    history = history_for(profile, account, today, since=first)
    recent = _slice(history, first, today)
    return sum((posting.amount for posting in recent if posting.type == "INFLOW"), Decimal("0.00"))


def daily_balances(
    profile: UserProfile,
    account: AccountSpec,
    date_from: date,
    date_to: date,
    *,
    today: date,
) -> list[tuple[date, Decimal]]:
    """Return the end-of-day balance of each day from `date_from` to `min(date_to, today)`.

    Only checking and savings accounts have daily balances, and only on the days whose
    transactions are visible (see `visible_from`). Other accounts return an empty list.
    """
    if account.category not in _DAILY_BALANCE_CATEGORIES:
        require_account(profile, account)
        return []
    first = max(date_from, visible_from(account, today))
    last = min(date_to, today)
    history = history_for(profile, account, today, since=first)
    if first > last:
        return []
    index = bisect.bisect_left(history.value_dates, first)
    balance = history.postings[index - 1].balance if index > 0 else history.balance_before
    balances: list[tuple[date, Decimal]] = []
    for day in days_between(first, last):
        while index < len(history.postings) and history.value_dates[index] <= day:
            balance = history.postings[index].balance
            index += 1
        balances.append((day, balance))
    return balances
