"""The accounts of a sandbox profile: numbers, labels, opening dates and card and loan terms."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Final

from vinculo.sandbox_data.bank_numbers import (
    brazilian_account,
    build_clabe,
    card_number,
    colombian_account_number,
    mask_card_number,
)
from vinculo.sandbox_data.categories import AccountCategory, BalanceType
from vinculo.sandbox_data.dates import add_months
from vinculo.sandbox_data.models import (
    AccountSpec,
    CreditCardTerms,
    Dataset,
    InterestRate,
    LoanFee,
    LoanTerms,
)
from vinculo.sandbox_data.money import CurrencyRules, to_money
from vinculo.sandbox_data.people import City
from vinculo.sandbox_data.seeds import derive_rng, opaque_id
from vinculo.sandbox_data.texts import TEXTS, AccountLabels

# Thin-file users see only this many days of transactions, up to `today`.
THIN_FILE_HISTORY_DAYS: Final = 92
# Every primary account opens in the 273 days from this date (January to September 2023),
# and every other account opens by `_LAST_OPENING_DATE`. Each account books its first
# transaction within a month of opening (a monthly payment, transfer or interest at the
# latest), so any `today` from July 2025 on has at least 12 months of history.
_FIRST_OPENING_DATE: Final = date(2023, 1, 1)
_PRIMARY_OPENING_WINDOW_DAYS: Final = 273
_LAST_OPENING_DATE: Final = date(2024, 5, 31)

# NOTE: made-up CLABE bank codes, not checked against Banxico's list, so they may belong
# to real banks.
_CLABE_BANK_CODES: Final = {
    "erebor": "187",
    "gringotts": "188",
    "gotham": "189",
    "heimdall": "190",
    "ironbank": "191",
}
# NOTE: illustrative CLABE plaza codes for the owner's city, not checked against
# Banxico's plaza table.
_CLABE_PLAZA_CODES: Final = {"Ciudad de México": "180", "Guadalajara": "320", "Monterrey": "580"}

_CARD_MINIMUM_PERCENT: Final = {"MX": Decimal(5), "CO": Decimal(5), "BR": Decimal(15)}
_CARD_INTEREST_RANGE: Final = {"MX": (45, 75), "CO": (24, 28), "BR": (150, 350)}
_LOAN_INTEREST_RANGE: Final = {"MX": (18, 32), "CO": (16, 26), "BR": (24, 48)}


class AccountBuilder:
    """Builds the accounts of one profile, each from its own generator."""

    def __init__(
        self,
        *,
        seed: bytes,
        institution_name: str,
        brand: str,
        country_code: str,
        rules: CurrencyRules,
        city: City,
        income_mxn: Decimal,
        dataset: Dataset,
    ) -> None:
        self._seed = seed
        self._bank = institution_name.split("_")[0]
        self._brand = brand
        self._country_code = country_code
        self._rules = rules
        self._city = city
        self._income_mxn = income_mxn
        self._dataset = dataset
        self._texts = TEXTS[country_code]
        self._primary_opened_on = _FIRST_OPENING_DATE + timedelta(
            days=derive_rng(seed, "account", "primary").randrange(_PRIMARY_OPENING_WINDOW_DAYS)
        )

    def build(self, roles: tuple[str, ...]) -> tuple[AccountSpec, ...]:
        return tuple(self._account(role) for role in roles)

    def _account(self, role: str) -> AccountSpec:
        rng = derive_rng(self._seed, "account", role)
        if role == "credit_card":
            return self._credit_card(rng)
        if role == "loan":
            return self._loan(rng)
        labels = {
            "checking": self._texts.checking,
            "savings": self._texts.savings,
            "operating": self._texts.business_checking,
            "payroll": self._texts.payroll_checking,
        }[role]
        category: AccountCategory = "SAVINGS_ACCOUNT" if role == "savings" else "CHECKING_ACCOUNT"
        opened_on = self._primary_opened_on
        if role == "savings":
            opened_on = self._later_opening(rng, 0, 180)
        opening_range = {
            "checking": (0.6, 1.5),
            "savings": (0.5, 3.0),
            "operating": (0.5, 1.5),
            "payroll": (0.05, 0.15),
        }[role]
        history_days = THIN_FILE_HISTORY_DAYS if self._dataset is Dataset.THIN_FILE else None
        return self._deposit_account(
            rng, role, category, labels, opened_on, opening_range, history_days
        )

    def _later_opening(self, rng: random.Random, low_days: int, high_days: int) -> date:
        """Draw an opening date `low_days` to `high_days` after the primary account's.

        The range is cut at `_LAST_OPENING_DATE`.
        """
        latest = (_LAST_OPENING_DATE - self._primary_opened_on).days
        return self._primary_opened_on + timedelta(
            days=rng.randint(min(low_days, latest), min(high_days, latest))
        )

    def _deposit_account(
        self,
        rng: random.Random,
        role: str,
        category: AccountCategory,
        labels: AccountLabels,
        opened_on: date,
        opening_range: tuple[float, float],
        history_days: int | None,
    ) -> AccountSpec:
        if self._country_code == "MX":
            number = f"{rng.randint(0, 99_999_999_999):011d}"
            public_name = "CLABE"
            public_value = build_clabe(
                _CLABE_BANK_CODES[self._bank], _CLABE_PLAZA_CODES[self._city.name], number
            )
        elif self._country_code == "BR":
            agency, number = brazilian_account(rng)
            public_name, public_value = "AGENCY/ACCOUNT", f"{agency}/{number}"
        else:
            number = colombian_account_number(rng)
            public_name, public_value = "ACCOUNT", number
        low, high = opening_range
        opening_balance = self._rules.draw(
            rng, self._income_mxn * Decimal(str(low)), self._income_mxn * Decimal(str(high))
        )
        return self._spec(
            role=role,
            category=category,
            balance_type="ASSET",
            labels=labels,
            number=number,
            public=(public_name, public_value),
            opened_on=opened_on,
            opening_balance=opening_balance,
            history_days=history_days,
        )

    def _credit_card(self, rng: random.Random) -> AccountSpec:
        pan = card_number(rng, "4" + str(rng.randint(10_000, 99_999)))
        low, high = _CARD_INTEREST_RANGE[self._country_code]
        limit_step = self._rules.round_step * 10
        terms = CreditCardTerms(
            credit_limit=self._rules.convert(
                self._income_mxn * Decimal(rng.randint(80, 200)) / 100, step=limit_step
            ),
            cutting_day=rng.randint(3, 27),
            payment_due_days=20,
            minimum_payment_percent=_CARD_MINIMUM_PERCENT[self._country_code],
            minimum_payment_floor=self._rules.convert(200),
            interest_rate=Decimal(rng.randint(low * 100, high * 100)) / 100,
        )
        return self._spec(
            role="credit_card",
            category="CREDIT_CARD",
            balance_type="LIABILITY",
            labels=self._texts.credit_card,
            number=mask_card_number(pan),
            public=(None, None),
            opened_on=self._later_opening(rng, 30, 365),
            opening_balance=to_money(Decimal(0)),
            credit_data=terms,
        )

    def _loan(self, rng: random.Random) -> AccountSpec:
        start = self._later_opening(rng, 60, 400)
        installments = rng.choice((36, 48, 60))
        low, high = _LOAN_INTEREST_RANGE[self._country_code]
        annual_rate = Decimal(rng.randint(low * 100, high * 100)) / 100
        principal = self._rules.convert(
            self._income_mxn * Decimal(rng.randint(150, 400)) / 100,
            step=self._rules.round_step * 10,
        )

        # French amortization: equal instalments P * r * (1 + r)^n / ((1 + r)^n - 1).
        monthly_rate = annual_rate / 1200
        growth = (1 + monthly_rate) ** installments
        monthly_payment = to_money(principal * monthly_rate * growth / (growth - 1))
        fee = to_money(principal * Decimal("0.015"))
        payment_day = min(start.day, 28)
        contract_number = f"{self._bank[:2].upper()}{rng.randint(0, 9_999_999_999):010d}"

        terms = LoanTerms(
            loan_type=self._texts.loan_type,
            contract_number=contract_number,
            principal=principal,
            contract_amount=monthly_payment * installments + fee,
            monthly_payment=monthly_payment,
            annual_interest_rate=annual_rate,
            interest_rates=(
                InterestRate(self._texts.interest_rate_name, "YEARLY", annual_rate),
                InterestRate(
                    self._texts.interest_rate_name,
                    "MONTHLY",
                    (annual_rate / 12).quantize(Decimal("0.0001")),
                ),
            ),
            fees=(LoanFee("OPERATION_FEE", fee),),
            number_of_installments_total=installments,
            payment_day=payment_day,
            contract_start_date=start,
            contract_end_date=add_months(start, installments, day_of_month=payment_day),
        )
        return self._spec(
            role="loan",
            category="LOAN_ACCOUNT",
            balance_type="LIABILITY",
            labels=self._texts.loan,
            number=f"{rng.randint(0, 999_999_999_999):012d}",
            public=("ACCOUNT_NUMBER", None),
            opened_on=start,
            opening_balance=monthly_payment * installments,
            loan_data=terms,
        )

    def _spec(
        self,
        *,
        role: str,
        category: AccountCategory,
        balance_type: BalanceType,
        labels: AccountLabels,
        number: str,
        public: tuple[str | None, str | None],
        opened_on: date,
        opening_balance: Decimal,
        history_days: int | None = None,
        credit_data: CreditCardTerms | None = None,
        loan_data: LoanTerms | None = None,
    ) -> AccountSpec:
        public_name, public_value = public
        if public_name == "ACCOUNT_NUMBER":
            public_value = number
        digits = "".join(character for character in number if character.isdigit())
        return AccountSpec(
            internal_identification=opaque_id(self._seed, "account", role, "id", length=16),
            role=role,
            category=category,
            balance_type=balance_type,
            type=labels.type,
            name=labels.name.format(brand=self._brand, suffix=digits[-3:]),
            number=number,
            currency=self._rules.code,
            public_identification_name=public_name,
            public_identification_value=public_value,
            opened_on=opened_on,
            opening_balance=opening_balance,
            history_days=history_days,
            credit_data=credit_data,
            loan_data=loan_data,
        )
