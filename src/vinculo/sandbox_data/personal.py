"""One day in the finances of a person: salary, rent, bills, purchases and transfers.

The events of a day depend on the profile's plan, the date and the balances carried in,
never on the date that the caller treats as `today`. Purchases draw from a generator keyed
by the date, and whether an outflow happens depends on the balances alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Final

from vinculo.sandbox_data.cards import CardCycle, Statement
from vinculo.sandbox_data.dates import month_end, paydays
from vinculo.sandbox_data.ledger import Ledger
from vinculo.sandbox_data.merchants import SPENDING_KINDS, SPENDING_MERCHANTS
from vinculo.sandbox_data.models import UserProfile
from vinculo.sandbox_data.money import ZERO, to_money
from vinculo.sandbox_data.names import last_digits
from vinculo.sandbox_data.plans import Recurring, personal_plan
from vinculo.sandbox_data.seeds import derive_rng
from vinculo.sandbox_data.texts import TEXTS, statement_text

# Cash withdrawals: probability per weekday (Monday first) and amounts in MXN before
# scaling by income.
_ATM_PROBABILITY: Final = (0.04, 0.03, 0.04, 0.04, 0.08, 0.08, 0.03)
_ATM_AMOUNTS_MXN: Final = (300, 500, 1000, 1500, 2000)


class PersonalSimulation:
    """Posts one day at a time on the ledgers of a person's accounts."""

    def __init__(
        self,
        profile: UserProfile,
        ledgers: dict[str, Ledger],
        *,
        statements: Iterable[Statement] = (),
        loan_payments: int = 0,
    ) -> None:
        """Start at the accounts' opening, or, to resume a simulation, with the card's bills
        and the number of loan instalments paid so far (see `CardCycle`)."""
        self._seed = profile.seed
        self._plan = personal_plan(profile)
        self._texts = TEXTS[profile.country_code]
        self._merchants = SPENDING_MERCHANTS[self._texts.language]
        self._brand = profile.institution_name.split("_")[0]
        self._kinds = tuple(
            kind for kind in SPENDING_KINDS if self._plan.has_car or not kind.needs_car
        )
        self.checking = ledgers["checking"]
        self.savings = ledgers.get("savings")
        self.loan = ledgers.get("loan")
        card = ledgers.get("credit_card")
        self.card_cycle = (
            CardCycle(card, statement_text(self._texts.card_interest), statements) if card else None
        )
        self._loan_payments = loan_payments

    @property
    def loan_payments(self) -> int:
        """The number of loan instalments paid so far, which numbers the next one."""
        return self._loan_payments

    def run_day(self, day: date) -> None:
        if not self.checking.is_open(day):
            return
        self._salary(day)
        self._loan_disbursement(day)
        self._recurring(day)
        self._loan_instalment(day)
        self._card_payment(day)
        self._savings(day)
        self._purchases(day)
        if self.card_cycle is not None:
            self.card_cycle.close_if_cutting_day(day)

    def _salary(self, day: date) -> None:
        if day not in paydays(day.year, day.month):
            return
        years = day.year - self.checking.account.opened_on.year
        growth = (1 + self._plan.raise_percent / 100) ** years
        self.checking.post(
            "salary",
            "INFLOW",
            self._plan.currency.round(self._plan.salary * growth),
            description=statement_text(self._texts.salary, employer=self._plan.employer),
            category="Income & Payments",
            subcategory="Salary",
        )

    def _loan_disbursement(self, day: date) -> None:
        if self.loan is None or day != self.loan.account.opened_on:
            return
        terms = self.loan.account.loan_data
        assert terms is not None
        fees = sum((fee.value for fee in terms.fees), ZERO)
        self.checking.post(
            "loan-disbursement",
            "INFLOW",
            terms.principal - fees,
            description=statement_text(
                self._texts.loan_disbursement, contract=terms.contract_number
            ),
            category="Credits & Loans",
            subcategory="Personal",
        )

    def _recurring(self, day: date) -> None:
        """Post rent and bills from checking, and subscriptions from the card if open."""
        payments: list[tuple[Recurring, Ledger, str]] = []
        if day.day == self._plan.rent.day:
            rent = self._plan.rent
            payments.append(
                (rent, self.checking, statement_text(self._texts.rent, landlord=rent.counterparty))
            )
        for bill in self._plan.bills:
            if day.day == bill.day:
                payments.append(
                    (
                        bill,
                        self.checking,
                        statement_text(self._texts.bill, biller=bill.counterparty),
                    )
                )
        card = self.card_cycle.ledger if self.card_cycle is not None else None
        for subscription in self._plan.subscriptions:
            if day.day == subscription.day:
                payer = card if card is not None and card.is_open(day) else self.checking
                text = statement_text(self._texts.purchase, merchant=subscription.counterparty)
                payments.append((subscription, payer, text))

        for payment, payer, description in payments:
            if payer.can_pay(payment.amount):
                payer.post(
                    payment.key,
                    "OUTFLOW",
                    payment.amount,
                    description=description,
                    category=payment.category,
                    subcategory=payment.subcategory,
                    merchant=payment.merchant,
                )

    def _loan_instalment(self, day: date) -> None:
        """Pay the monthly instalment from the month after the contract until the loan is repaid."""
        if self.loan is None or day <= self.loan.account.opened_on:
            return
        terms = self.loan.account.loan_data
        assert terms is not None
        amount = min(terms.monthly_payment, self.loan.balance)
        if day.day != terms.payment_day or amount <= 0 or not self.checking.can_pay(amount):
            return
        self._loan_payments += 1
        contract = terms.contract_number
        self.checking.post(
            "loan-payment",
            "OUTFLOW",
            amount,
            description=statement_text(self._texts.loan_payment, contract=contract),
            category="Credits & Loans",
            subcategory="Personal",
        )
        self.loan.post(
            "instalment",
            "INFLOW",
            amount,
            description=statement_text(self._texts.loan_instalment_received, contract=contract),
            category="Credits & Loans",
            subcategory="Personal",
            observations=self._texts.loan_instalment_observation.format(
                number=self._loan_payments, total=terms.number_of_installments_total
            ),
        )

    def _card_payment(self, day: date) -> None:
        """Pay the card bill on its due date, in full or in part, as the checking balance allows."""
        if self.card_cycle is None:
            return
        statement = self.card_cycle.bill_due(day)
        if statement is None:
            return
        amount = min(
            self._payment_intent(statement), self.checking.balance, self.card_cycle.ledger.balance
        )
        amount = to_money(amount)
        if amount <= 0:
            return
        card_number = last_digits(self.card_cycle.ledger.account.number)
        self.checking.post(
            "card-payment",
            "OUTFLOW",
            amount,
            description=statement_text(self._texts.card_payment, number=card_number),
            category="Credits & Loans",
            subcategory="Credit Card",
        )
        self.card_cycle.record_payment(
            statement, amount, statement_text(self._texts.card_payment_received)
        )

    def _payment_intent(self, statement: Statement) -> Decimal:
        """Return what the user means to pay on a bill: all of it, or part of it but at least
        the minimum payment."""
        rng = derive_rng(self._seed, "card-payment", statement.cutting_date.toordinal())
        if rng.random() < self._plan.full_card_payment_probability:
            return statement.outstanding
        share = Decimal(rng.randint(30, 80)) / 100
        partial = max(to_money(statement.outstanding * share), statement.minimum_payment)
        return min(partial, statement.outstanding)

    def _savings(self, day: date) -> None:
        """Move money out of checking once a month, and credit the savings interest.

        With a savings account, the transfer is the plan's monthly amount plus the checking
        balance above the sweep threshold. Without one, only that excess leaves, to the
        user's own account at another bank, so that the checking balance stays plausible.
        """
        savings = self.savings
        if savings is not None and not savings.is_open(day):
            return
        rules = self._plan.currency
        if day.day == self._plan.savings_day:
            amount = self._plan.savings_transfer if savings is not None else ZERO
            excess = self.checking.balance - self._plan.sweep_threshold
            if excess > 0:
                amount += rules.floor_to_step(excess)
            affordable = rules.floor_to_step(
                max(self.checking.balance - self._plan.checking_reserve, ZERO)
            )
            amount = min(amount, affordable)
            if amount >= rules.round_step:
                self._transfer_out(amount, savings)
        if savings is None:
            return
        if day == month_end(day.year, day.month) and savings.balance > 0:
            interest = to_money(savings.balance * self._plan.savings_interest_percent / 1200)
            if interest > 0:
                savings.post(
                    "interest",
                    "INFLOW",
                    interest,
                    description=statement_text(self._texts.savings_interest),
                    category="Income & Payments",
                    subcategory="Interest",
                )

    def _transfer_out(self, amount: Decimal, savings: Ledger | None) -> None:
        if savings is None:
            self.checking.post(
                "to-own-account",
                "OUTFLOW",
                amount,
                description=statement_text(self._texts.to_own_account),
                category="Transfers",
            )
            return
        self.checking.post(
            "to-savings",
            "OUTFLOW",
            amount,
            description=statement_text(
                self._texts.to_savings, number=last_digits(savings.account.number)
            ),
            category="Transfers",
        )
        savings.post(
            "from-checking",
            "INFLOW",
            amount,
            description=statement_text(
                self._texts.from_checking, number=last_digits(self.checking.account.number)
            ),
            category="Transfers",
        )

    def _purchases(self, day: date) -> None:
        """Draw the day's purchases and cash withdrawals and post those the payer can afford.

        The draws never depend on balances, so a skipped purchase does not change the
        purchases that follow it.
        """
        rng = derive_rng(self._seed, "spending", day.toordinal())
        weekday = day.weekday()
        rules = self._plan.currency
        scale = self._plan.spending_scale
        card = self.card_cycle.ledger if self.card_cycle is not None else None
        card_open = card is not None and card.is_open(day)

        for kind in self._kinds:
            if rng.random() >= kind.daily_probability[weekday]:
                continue
            merchants = self._merchants[kind.key]
            merchant = merchants[rng.randrange(len(merchants))]
            amount = rules.draw(rng, kind.low_mxn * scale, kind.high_mxn * scale)
            by_card = card_open and not kind.paid_by_debit
            payer = card if by_card and card is not None else self.checking
            reserve = ZERO if payer is card else self._plan.checking_reserve
            if payer.can_pay(amount, reserve=reserve):
                payer.post(
                    f"purchase-{kind.key}",
                    "OUTFLOW",
                    amount,
                    description=statement_text(
                        self._texts.purchase, merchant=merchant.merchant_name
                    ),
                    category=kind.category,
                    subcategory=kind.subcategory,
                    merchant=merchant,
                )

        if rng.random() < _ATM_PROBABILITY[weekday]:
            notes = _ATM_AMOUNTS_MXN[rng.randrange(len(_ATM_AMOUNTS_MXN))]
            amount = rules.convert(notes * scale, step=rules.round_step)
            if self.checking.can_pay(amount, reserve=self._plan.checking_reserve):
                self.checking.post(
                    "atm",
                    "OUTFLOW",
                    amount,
                    description=statement_text(self._texts.atm, brand=self._brand),
                    category="Withdrawal & ATM",
                )
