"""Account figures on `today`: the `balance` object, and the card and loan details."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_CEILING, Decimal

from vinculo.sandbox_data.cards import cutting_date_on_or_after, minimum_payment
from vinculo.sandbox_data.dates import add_months
from vinculo.sandbox_data.models import (
    AccountBalance,
    AccountSpec,
    CreditCardStatus,
    LoanStatus,
    LoanTerms,
    UserProfile,
)
from vinculo.sandbox_data.money import ZERO, to_money
from vinculo.sandbox_data.transactions import history_for, pending_inflows


def balance_snapshot(profile: UserProfile, account: AccountSpec, *, today: date) -> AccountBalance:
    """Return the account's current and available balance on `today`.

    `current` is the balance after the last transaction. `available` depends on the kind
    of account:

    - checking and savings: `current` minus the PENDING inflows, which cannot be spent
      yet, and never below zero;
    - credit card: the credit limit minus `current`, and never below zero;
    - loan: the amount that pays the loan off today, the outstanding principal.
    """
    current = history_for(profile, account, today, since=today).final_balance
    if account.credit_data is not None:
        return AccountBalance(current, max(account.credit_data.credit_limit - current, ZERO))
    if account.loan_data is not None:
        return AccountBalance(
            current, loan_status(profile, account, today=today).outstanding_principal
        )
    available = max(current - pending_inflows(profile, account, today=today), ZERO)
    return AccountBalance(current, available)


def credit_card_status(
    profile: UserProfile, account: AccountSpec, *, today: date
) -> CreditCardStatus:
    """Return the `credit_data` figures of a card on `today`.

    While the last closed bill is not yet due, the minimum and no-interest payments are
    what remains to pay on it. After its due date both are zero until the next bill closes.
    Raises ValueError for an account that is not a credit card.
    """
    terms = account.credit_data
    if terms is None:
        raise ValueError(f"account {account.internal_identification!r} is not a credit card")
    # The last bill closed before `today` has a cutting date at most 31 days before it, so a
    # history from `today` on still contains it (see `AccountHistory.statements`).
    history = history_for(profile, account, today, since=today)
    cutting_date = cutting_date_on_or_after(today, terms.cutting_day)
    closed = [statement for cut, statement in history.statements.items() if cut < today]
    last_payment = history.last_inflow_date

    minimum = no_interest = ZERO
    next_payment_date = cutting_date + timedelta(days=terms.payment_due_days)
    if closed and closed[-1].due_date >= today:
        statement = closed[-1]
        next_payment_date = statement.due_date
        no_interest = statement.outstanding
        still_due = max(minimum_payment(terms, statement.balance) - statement.paid, ZERO)
        minimum = min(still_due, no_interest)
    return CreditCardStatus(
        credit_limit=terms.credit_limit,
        cutting_date=cutting_date,
        next_payment_date=next_payment_date,
        minimum_payment=minimum,
        no_interest_payment=no_interest,
        interest_rate=terms.interest_rate,
        last_payment_date=last_payment,
    )


def _remaining_principal(terms: LoanTerms, paid_installments: int) -> Decimal:
    """Return the principal left after `paid_installments` instalments of a French loan."""
    rate = terms.annual_interest_rate / 1200
    growth = (1 + rate) ** paid_installments
    remaining = terms.principal * growth - terms.monthly_payment * (growth - 1) / rate
    return max(to_money(remaining), ZERO)


def loan_status(profile: UserProfile, account: AccountSpec, *, today: date) -> LoanStatus:
    """Return the `loan_data` figures of a loan on `today`.

    The outstanding balance counts whole and partial instalments still to pay. The
    outstanding principal follows the amortization table after the instalments already
    covered. Raises ValueError for an account that is not a loan.
    """
    terms = account.loan_data
    if terms is None:
        raise ValueError(f"account {account.internal_identification!r} is not a loan")
    history = history_for(profile, account, today, since=today)
    outstanding = history.final_balance
    remaining = int((outstanding / terms.monthly_payment).to_integral_value(rounding=ROUND_CEILING))
    paid_installments = terms.number_of_installments_total - remaining
    last_payment = history.last_inflow_date

    next_payment: date | None = None
    if remaining > 0:
        next_payment = add_months(today, 0, day_of_month=terms.payment_day)
        while (
            next_payment < today
            or next_payment <= terms.contract_start_date
            or next_payment == last_payment
        ):
            next_payment = add_months(next_payment, 1, day_of_month=terms.payment_day)
    return LoanStatus(
        outstanding_balance=outstanding,
        outstanding_principal=_remaining_principal(terms, paid_installments) if remaining else ZERO,
        number_of_installments_outstanding=remaining,
        next_payment_date=next_payment,
        last_payment_date=last_payment,
    )
