"""The recurring part of a sandbox user's finances: income, rent, bills and habits.

A plan is fixed for the life of the profile. It derives from the user seed alone, with one
generator per concern, so the simulation of any day can read it without state.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from vinculo.sandbox_data.categories import TransactionCategory, TransactionSubcategory
from vinculo.sandbox_data.merchants import BILL_KINDS, BILLERS, SUBSCRIPTIONS, BillKind
from vinculo.sandbox_data.models import Dataset, Merchant, UserProfile
from vinculo.sandbox_data.money import CURRENCY_BY_COUNTRY, CurrencyRules
from vinculo.sandbox_data.people import EMPLOYERS, TRADE_PARTNERS, draw_person
from vinculo.sandbox_data.seeds import derive_rng

# Monthly net income (people) or revenue (companies) in MXN, by dataset.
_INCOME_RANGE_MXN: Final[dict[Dataset, tuple[int, int]]] = {
    Dataset.FULL: (22_000, 60_000),
    Dataset.DEFAULT: (14_000, 45_000),
    Dataset.THIN_FILE: (9_000, 20_000),
    Dataset.BUSINESS: (350_000, 1_200_000),
}
# Spending habits are written for a monthly income of 25,000 MXN and scale with income.
_REFERENCE_INCOME_MXN: Final = 25_000
# Day of the month on which companies pay their monthly taxes.
# NOTE: one fixed day per country, a simplification of the real tax calendars.
_TAX_DAY: Final = {"MX": 17, "CO": 19, "BR": 20}
# NOTE: the yearly raise starts in the January after the account opens, for every user.
_RAISE_PERCENT_RANGE: Final = (3, 7)


def monthly_income_mxn(seed: bytes, dataset: Dataset) -> Decimal:
    """Draw the user's monthly income (or a company's revenue) in MXN, rounded to 100.

    Raises KeyError for `Dataset.NO_DATA`, which has no finances.
    """
    low, high = _INCOME_RANGE_MXN[dataset]
    rng = derive_rng(seed, "income")
    return Decimal(rng.randrange(low, high + 1, 100))


def _fraction(rng: random.Random, low: float, high: float) -> Decimal:
    """Draw a Decimal fraction with 3 places between `low` and `high`."""
    return Decimal(rng.randint(round(low * 1000), round(high * 1000))) / 1000


@dataclass(frozen=True, slots=True)
class Recurring:
    """A payment on a fixed day of every month, with a fixed amount."""

    # Stable name of the payment, part of the transaction ids.
    key: str
    day: int
    amount: Decimal
    counterparty: str
    merchant: Merchant | None
    category: TransactionCategory
    subcategory: TransactionSubcategory | None


@dataclass(frozen=True, slots=True)
class PersonalPlan:
    currency: CurrencyRules
    monthly_income_mxn: Decimal
    # Net salary paid on each of the two monthly paydays, in the year the checking account
    # opened. It grows by `raise_percent` every January.
    salary: Decimal
    raise_percent: Decimal
    employer: str
    rent: Recurring
    bills: tuple[Recurring, ...]
    subscriptions: tuple[Recurring, ...]
    # Multiplier of the spending price ranges.
    spending_scale: Decimal
    has_car: bool
    # Everyday purchases and cash withdrawals from the checking account stop when they
    # would leave less. It exceeds the rent, so everyday spending cannot use up the rent.
    checking_reserve: Decimal
    savings_day: int
    savings_transfer: Decimal
    # The checking balance above which the savings transfer also moves the excess.
    sweep_threshold: Decimal
    savings_interest_percent: Decimal
    # Probability that the user pays a credit card bill in full rather than in part.
    full_card_payment_probability: float


@dataclass(frozen=True, slots=True)
class Employee:
    name: str
    salary: Decimal


@dataclass(frozen=True, slots=True)
class BusinessPlan:
    currency: CurrencyRules
    monthly_revenue: Decimal
    clients: tuple[str, ...]
    suppliers: tuple[str, ...]
    employees: tuple[Employee, ...]
    office_rent: Recurring
    bills: tuple[Recurring, ...]
    tax_day: int
    tax_percent_of_revenue: Decimal
    account_fee: Decimal


def _bill(
    rng: random.Random, country_code: str, rules: CurrencyRules, kind: BillKind, scale: Decimal
) -> Recurring:
    biller = BILLERS[country_code][kind.key]
    return Recurring(
        key=f"bill-{kind.key}",
        day=rng.randint(3, 28),
        amount=rules.draw(rng, kind.low_mxn * scale, kind.high_mxn * scale),
        counterparty=biller.merchant_name,
        merchant=biller,
        category="Bills & Utilities",
        subcategory=kind.subcategory,
    )


# Plans kept for reuse, as many as the simulation keeps checkpoints of
# (`vinculo.sandbox_data.simulation.REMEMBERED_USERS`): a resumed simulation needs its plan
# again. A personal plan took about 2.9 KiB (tracemalloc, 200 users), so about 12 MiB in all.
_CACHED_PLANS = 4096


@functools.lru_cache(maxsize=_CACHED_PLANS)
def personal_plan(profile: UserProfile) -> PersonalPlan:
    """Derive the recurring finances of a person from the profile's seed."""
    seed = profile.seed
    rules = CURRENCY_BY_COUNTRY[profile.country_code]
    income_mxn = monthly_income_mxn(seed, profile.dataset)
    income = rules.convert(income_mxn)
    scale = (income_mxn / _REFERENCE_INCOME_MXN).quantize(Decimal("0.01"))

    salary_rng = derive_rng(seed, "plan", "salary")
    employer = salary_rng.choice(EMPLOYERS[profile.country_code])
    raise_percent = Decimal(salary_rng.randint(*_RAISE_PERCENT_RANGE))

    rent_rng = derive_rng(seed, "plan", "rent")
    landlord = draw_person(rent_rng, profile.country_code, oldest=1950, youngest=1985)
    rent = Recurring(
        key="rent",
        day=1,
        amount=rules.floor_to_step(income * _fraction(rent_rng, 0.2, 0.28)),
        counterparty=landlord.full_name,
        merchant=None,
        category="Bills & Utilities",
        subcategory="Rent",
    )

    bill_rng = derive_rng(seed, "plan", "bills")
    bill_scale = min(max(scale, Decimal("0.8")), Decimal("1.5"))
    bills = tuple(
        _bill(bill_rng, profile.country_code, rules, kind, bill_scale) for kind in BILL_KINDS
    )

    subscription_rng = derive_rng(seed, "plan", "subscriptions")
    chosen = subscription_rng.sample(SUBSCRIPTIONS, subscription_rng.randint(2, 4))
    subscriptions = tuple(
        Recurring(
            key=f"subscription-{subscription.merchant.merchant_name}",
            day=subscription_rng.randint(2, 28),
            amount=subscription.prices[rules.code],
            counterparty=subscription.merchant.merchant_name,
            merchant=subscription.merchant,
            category=subscription.category,
            subcategory=subscription.subcategory,
        )
        for subscription in chosen
    )

    habits_rng = derive_rng(seed, "plan", "habits")
    return PersonalPlan(
        currency=rules,
        monthly_income_mxn=income_mxn,
        salary=rules.round(income / 2),
        raise_percent=raise_percent,
        employer=employer,
        rent=rent,
        bills=bills,
        subscriptions=subscriptions,
        spending_scale=min(max(scale, Decimal("0.4")), Decimal("2.4")),
        has_car=habits_rng.random() < 0.5,
        checking_reserve=rules.floor_to_step(income * Decimal("0.3")),
        savings_day=habits_rng.randint(16, 20),
        savings_transfer=rules.floor_to_step(income * _fraction(habits_rng, 0.04, 0.1)),
        sweep_threshold=rules.floor_to_step(income * 2),
        savings_interest_percent=_fraction(habits_rng, 3.0, 8.0),
        full_card_payment_probability=habits_rng.uniform(0.6, 0.95),
    )


@functools.lru_cache(maxsize=_CACHED_PLANS)
def business_plan(profile: UserProfile) -> BusinessPlan:
    """Derive the recurring finances of a company from the profile's seed."""
    seed = profile.seed
    country_code = profile.country_code
    rules = CURRENCY_BY_COUNTRY[country_code]
    revenue = rules.convert(monthly_income_mxn(seed, profile.dataset))

    partner_rng = derive_rng(seed, "plan", "partners")
    partners = partner_rng.sample(TRADE_PARTNERS[country_code], 8)

    staff_rng = derive_rng(seed, "plan", "employees")
    employees = tuple(
        Employee(
            draw_person(staff_rng, country_code, oldest=1965, youngest=2003).full_name,
            rules.draw(staff_rng, 6_000, 20_000),
        )
        for _ in range(staff_rng.randint(4, 9))
    )

    cost_rng = derive_rng(seed, "plan", "costs")
    landlord = draw_person(cost_rng, country_code, oldest=1950, youngest=1980)
    office_rent = Recurring(
        key="rent",
        day=1,
        amount=rules.floor_to_step(revenue * _fraction(cost_rng, 0.03, 0.06)),
        counterparty=landlord.full_name,
        merchant=None,
        category="Bills & Utilities",
        subcategory="Rent",
    )
    bills = tuple(
        _bill(cost_rng, country_code, rules, kind, Decimal(4))
        for kind in BILL_KINDS
        if kind.key != "water"
    )
    return BusinessPlan(
        currency=rules,
        monthly_revenue=revenue,
        clients=tuple(partners[:5]),
        suppliers=tuple(partners[5:]),
        employees=employees,
        office_rent=office_rent,
        bills=bills,
        tax_day=_TAX_DAY[country_code],
        tax_percent_of_revenue=_fraction(cost_rng, 6.0, 10.0),
        account_fee=rules.convert(350),
    )
