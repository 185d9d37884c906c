"""Properties of retrieved data over random sandbox users, banks and date ranges, through the API.

Each example registers a fresh link, retrieves through the in-process app and deletes the
link at the end, so examples that draw the same user do not see each other's data.
"""

from __future__ import annotations

import itertools
import string
from datetime import timedelta
from typing import Any

import httpx
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.links.calls import link_body
from tests.retrieval.calls import (
    TODAY,
    by_account,
    count,
    ids,
    money,
    retrieve,
    signed_amount,
    statement_order,
)
from vinculo.connectors.sandbox import DATA_SCENARIOS, RESERVED_USERNAMES
from vinculo.institutions.catalogue import SANDBOX_INSTITUTIONS, find_by_name
from vinculo.sandbox_data import (
    is_brazilian_agency_account,
    is_valid_clabe,
    is_valid_cnpj,
    is_valid_cpf,
    is_valid_curp,
    is_valid_nit,
    is_valid_rfc,
)

BANKS = sorted(
    institution.name for institution in SANDBOX_INSTITUTIONS if institution.type == "bank"
)
# Usernames with a special dataset (full, business, thin file) and generated ones, which get
# the default dataset. Reserved usernames fail or change the login, so none is drawn.
NAMED_USERS = ["bnk100", "user_valid", "business", "business_acme", "thin_file", "thin_ana"]
USERNAMES = st.one_of(
    st.sampled_from(NAMED_USERS),
    st.text(alphabet=string.ascii_lowercase + string.digits + "_", min_size=3, max_size=12).filter(
        lambda name: name not in RESERVED_USERNAMES and name not in DATA_SCENARIOS
    ),
)
DOCUMENT_CHECKS = {
    "CPF": is_valid_cpf,
    "CNPJ": is_valid_cnpj,
    "CURP": is_valid_curp,
    "RFC": is_valid_rfc,
    "NIT": is_valid_nit,
}


def _register_body(institution: str, username: str) -> dict[str, Any]:
    """Return a register body that the institution's login form accepts."""
    entry = find_by_name(institution)
    assert entry is not None, institution
    fields = {field.name for field in entry.form_fields}
    extra: dict[str, Any] = {"institution": institution}
    # Colombian banks require the document type; 001 is the cédula de ciudadanía.
    if entry.country_code == "CO":
        extra["username_type"] = "001"
    if "username2" in fields:
        extra.update(username2="0001", password2="1234")
    return link_body(username, **extra)


def _check_running_balances(transactions: list[dict[str, Any]]) -> None:
    """Each transaction's balance is the previous one moved by its amount, to the cent."""
    for account_id, items in by_account(transactions).items():
        ordered = statement_order(items)
        for previous, current in itertools.pairwise(ordered):
            expected = money(previous["balance"]) + signed_amount(current)
            assert money(current["balance"]) == expected, (account_id, current["id"])


def _check_identifiers(accounts: list[dict[str, Any]], owners: list[dict[str, Any]]) -> None:
    for account in accounts:
        name, value = account["public_identification_name"], account["public_identification_value"]
        if name == "CLABE":
            assert is_valid_clabe(value), value
        if name == "AGENCY/ACCOUNT":
            assert is_brazilian_agency_account(value), value
    for owner in owners:
        document = owner["document_id"]
        check = DOCUMENT_CHECKS.get(document["document_type"])
        if check is not None:
            assert check(document["document_number"]), document


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    institution=st.sampled_from(BANKS),
    username=USERNAMES,
    start=st.integers(min_value=0, max_value=364),
    length=st.integers(min_value=0, max_value=120),
)
@example(institution="erebor_mx_retail", username="bnk100", start=0, length=364)
@example(institution="gringotts_br_retail", username="user_valid", start=30, length=60)
@example(institution="ironbank_co_retail", username="business_acme", start=90, length=30)
async def test_retrieved_data_properties(
    client: httpx.AsyncClient, institution: str, username: str, start: int, length: int
) -> None:
    date_to = TODAY - timedelta(days=start)
    date_from = max(date_to - timedelta(days=length), TODAY - timedelta(days=365))
    first_day, last_day = date_from.isoformat(), date_to.isoformat()
    created = await client.post("/api/links/", json=_register_body(institution, username))
    assert created.status_code == 201, created.text
    link_id = created.json()["id"]
    try:
        first = await retrieve(
            client, "transactions", link_id, date_from=first_day, date_to=last_day
        )
        again = await retrieve(
            client, "transactions", link_id, date_from=first_day, date_to=last_day
        )
        accounts = await retrieve(client, "accounts", link_id)
        owners = await retrieve(client, "owners", link_id)

        for item in first:
            assert first_day <= item["value_date"] <= last_day, item["value_date"]
        _check_running_balances(first)
        for account in accounts:
            current = [item for item in first if item["account"]["id"] == account["id"]]
            if current and date_to == TODAY:
                last = statement_order(current)[-1]
                assert last["balance"] == account["balance"]["current"], account["id"]
        assert ids(again) == ids(first)
        assert await count(client, "transactions", {"link": link_id}) == len(first)
        assert await count(client, "accounts", {"link": link_id}) == len(accounts)
        _check_identifiers(accounts, owners)
    finally:
        deleted = await client.delete(f"/api/links/{link_id}/")
        assert deleted.status_code == 204, deleted.text
