"""Sandbox users: which accounts and owners each username gets.

The dataset depends on the username alone (see `dataset_for`), and every value derives
from the seed of `institution|username`. Each account draws from its own generator, keyed
by its role, so adding a role later leaves the other accounts unchanged.
"""

from __future__ import annotations

import functools
from typing import Final

from vinculo.institutions.catalogue import find_by_name
from vinculo.sandbox_data.accounts import AccountBuilder
from vinculo.sandbox_data.models import AccountSpec, Dataset, UserProfile
from vinculo.sandbox_data.money import CURRENCY_BY_COUNTRY
from vinculo.sandbox_data.owners import company_owner, person_owner
from vinculo.sandbox_data.plans import monthly_income_mxn
from vinculo.sandbox_data.seeds import user_seed

_FULL_DATA_USERNAMES: Final = frozenset({"bnk100", "user_valid"})

ROLES_BY_DATASET: Final[dict[Dataset, tuple[str, ...]]] = {
    Dataset.FULL: ("checking", "savings", "credit_card", "loan"),
    Dataset.DEFAULT: ("checking", "savings", "credit_card"),
    Dataset.THIN_FILE: ("checking",),
    Dataset.BUSINESS: ("operating", "payroll"),
    Dataset.NO_DATA: (),
}


def dataset_for(username: str) -> Dataset:
    """Return the dataset of a username. Usernames are case-sensitive."""
    if username == "no_data":
        return Dataset.NO_DATA
    if username in _FULL_DATA_USERNAMES:
        return Dataset.FULL
    if username == "thin_file" or username.startswith("thin_"):
        return Dataset.THIN_FILE
    if username == "business" or username.startswith("business_"):
        return Dataset.BUSINESS
    return Dataset.DEFAULT


# Profiles kept for reuse, as many as the simulation keeps checkpoints of
# (`vinculo.sandbox_data.simulation.REMEMBERED_USERS`). Building one took about 1.6 ms and
# it takes about 3.3 KiB (tracemalloc, 200 users), so about 13 MiB in all.
_CACHED_PROFILES = 4096


@functools.lru_cache(maxsize=_CACHED_PROFILES)
def profile_for(institution_name: str, username: str) -> UserProfile:
    """Build the accounts and owners of one user of a sandbox institution.

    Only banks have accounts: fiscal and employment institutions get the owners alone.
    `no_data` users have neither. Raises LookupError for an unknown institution name.
    """
    institution = find_by_name(institution_name)
    if institution is None:
        raise LookupError(f"unknown sandbox institution {institution_name!r}")
    country_code = institution.country_codes[0]
    rules = CURRENCY_BY_COUNTRY[country_code]
    seed = user_seed(institution_name, username)
    dataset = dataset_for(username)
    if dataset is Dataset.NO_DATA:
        return UserProfile(
            institution_name, username, country_code, rules.code, dataset, seed, (), ()
        )

    if dataset is Dataset.BUSINESS:
        owner, city = company_owner(seed, country_code)
    else:
        owner, city = person_owner(seed, country_code, dataset)

    accounts: tuple[AccountSpec, ...] = ()
    if institution.type == "bank":
        builder = AccountBuilder(
            seed=seed,
            institution_name=institution_name,
            brand=institution.display_name.rsplit(" ", 1)[0],
            country_code=country_code,
            rules=rules,
            city=city,
            income_mxn=monthly_income_mxn(seed, dataset),
            dataset=dataset,
        )
        accounts = builder.build(ROLES_BY_DATASET[dataset])
    return UserProfile(
        institution_name, username, country_code, rules.code, dataset, seed, accounts, (owner,)
    )
