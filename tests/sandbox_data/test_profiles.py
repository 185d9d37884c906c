"""Datasets, accounts and owners of sandbox profiles."""

from __future__ import annotations

import re
from datetime import date

import pytest

from vinculo.institutions.catalogue import SANDBOX_INSTITUTIONS
from vinculo.sandbox_data import (
    THIN_FILE_HISTORY_DAYS,
    Dataset,
    dataset_for,
    is_brazilian_agency_account,
    is_cedula_format,
    is_valid_clabe,
    is_valid_cnpj,
    is_valid_cpf,
    is_valid_curp,
    is_valid_nit,
    is_valid_rfc,
    profile_for,
)

BANKS = [institution.name for institution in SANDBOX_INSTITUTIONS if institution.type == "bank"]
NON_BANKS = [institution.name for institution in SANDBOX_INSTITUTIONS if institution.type != "bank"]
CURRENCY_BY_COUNTRY = {"MX": "MXN", "CO": "COP", "BR": "BRL"}


@pytest.mark.parametrize(
    ("username", "dataset"),
    [
        ("bnk100", Dataset.FULL),
        ("user_valid", Dataset.FULL),
        ("thin_file", Dataset.THIN_FILE),
        ("thin_maria", Dataset.THIN_FILE),
        ("business", Dataset.BUSINESS),
        ("business_acme", Dataset.BUSINESS),
        ("no_data", Dataset.NO_DATA),
        ("anything_else", Dataset.DEFAULT),
        ("BNK100", Dataset.DEFAULT),
        ("thinfile", Dataset.DEFAULT),
        ("businesses", Dataset.DEFAULT),
        ("no_data_2", Dataset.DEFAULT),
    ],
)
def test_dataset_for_username(username: str, dataset: Dataset) -> None:
    assert dataset_for(username) is dataset


@pytest.mark.parametrize(
    ("username", "categories"),
    [
        ("bnk100", ["CHECKING_ACCOUNT", "SAVINGS_ACCOUNT", "CREDIT_CARD", "LOAN_ACCOUNT"]),
        ("user_valid", ["CHECKING_ACCOUNT", "SAVINGS_ACCOUNT", "CREDIT_CARD", "LOAN_ACCOUNT"]),
        ("someone", ["CHECKING_ACCOUNT", "SAVINGS_ACCOUNT", "CREDIT_CARD"]),
        ("thin_file", ["CHECKING_ACCOUNT"]),
        ("business", ["CHECKING_ACCOUNT", "CHECKING_ACCOUNT"]),
        ("no_data", []),
    ],
)
@pytest.mark.parametrize("institution", BANKS)
def test_account_categories_by_dataset(
    institution: str, username: str, categories: list[str]
) -> None:
    profile = profile_for(institution, username)

    assert [account.category for account in profile.accounts] == categories


@pytest.mark.parametrize("institution", BANKS)
def test_accounts_are_consistent(institution: str) -> None:
    profile = profile_for(institution, "bnk100")
    ids = [account.internal_identification for account in profile.accounts]

    assert len(set(ids)) == len(ids)
    assert profile.currency == CURRENCY_BY_COUNTRY[profile.country_code]
    for account in profile.accounts:
        assert account.currency == profile.currency
        assert account.balance_type == (
            "LIABILITY" if account.category in {"CREDIT_CARD", "LOAN_ACCOUNT"} else "ASSET"
        )
        assert date(2023, 1, 1) <= account.opened_on <= date(2024, 5, 31)
        assert (account.credit_data is not None) == (account.category == "CREDIT_CARD")
        assert (account.loan_data is not None) == (account.category == "LOAN_ACCOUNT")
        assert profile.account(account.internal_identification) is account


def test_primary_account_opening_window() -> None:
    for institution in BANKS:
        for username in ("bnk100", "someone", "thin_file", "business"):
            primary = profile_for(institution, username).accounts[0]

            assert date(2023, 1, 1) <= primary.opened_on <= date(2023, 10, 1)


def test_unknown_account_lookup_raises() -> None:
    profile = profile_for("erebor_mx_retail", "bnk100")

    with pytest.raises(KeyError, match="no account"):
        profile.account("missing")


@pytest.mark.parametrize("institution", [name for name in BANKS if "_mx_" in name])
def test_mexican_deposit_accounts_have_clabe(institution: str) -> None:
    for account in profile_for(institution, "bnk100").accounts[:2]:
        assert account.public_identification_name == "CLABE"
        assert account.public_identification_value is not None
        assert is_valid_clabe(account.public_identification_value)
        assert account.public_identification_value[6:17] == account.number


@pytest.mark.parametrize("institution", [name for name in BANKS if "_br_" in name])
def test_brazilian_deposit_accounts_have_agency_account(institution: str) -> None:
    for account in profile_for(institution, "bnk100").accounts[:2]:
        assert account.public_identification_name == "AGENCY/ACCOUNT"
        assert account.public_identification_value is not None
        assert is_brazilian_agency_account(account.public_identification_value)


@pytest.mark.parametrize("institution", [name for name in BANKS if "_co_" in name])
def test_colombian_deposit_accounts_have_account_number(institution: str) -> None:
    for account in profile_for(institution, "bnk100").accounts[:2]:
        assert account.public_identification_name == "ACCOUNT"
        assert account.public_identification_value == account.number
        assert re.fullmatch(r"[1-9][0-9]{10}", account.number or "")


def test_credit_card_terms() -> None:
    for institution in BANKS:
        card = profile_for(institution, "bnk100").accounts[2]
        terms = card.credit_data
        assert terms is not None

        assert card.public_identification_name is None
        assert re.fullmatch(r"4[0-9]{5}\*{6}[0-9]{4}", card.number or "")
        assert terms.credit_limit > 0
        assert 3 <= terms.cutting_day <= 27
        assert terms.interest_rate > 0
        assert card.opening_balance == 0


def test_loan_terms_add_up() -> None:
    for institution in BANKS:
        loan = profile_for(institution, "bnk100").accounts[3]
        terms = loan.loan_data
        assert terms is not None
        fees = sum(fee.value for fee in terms.fees)

        assert loan.opening_balance == terms.monthly_payment * terms.number_of_installments_total
        assert terms.contract_amount == loan.opening_balance + fees
        assert terms.principal < loan.opening_balance
        assert terms.contract_start_date == loan.opened_on
        assert terms.contract_end_date.day == terms.payment_day
        assert [rate.type for rate in terms.interest_rates] == ["YEARLY", "MONTHLY"]


@pytest.mark.parametrize("institution", BANKS)
def test_person_owner_documents(institution: str) -> None:
    owner = profile_for(institution, "bnk100").owners[0]
    document = owner.document_id
    country_code = profile_for(institution, "bnk100").country_code

    assert owner.display_name.startswith(owner.first_name or "")
    assert re.fullmatch(r"[a-z]+\.[a-z]+[0-9]{1,2}@[a-z]+\.example", owner.email)
    if country_code == "MX":
        assert document.document_type == "CURP"
        assert is_valid_curp(document.document_number)
        assert [other.document_type for other in owner.other_documents] == ["RFC"]
        rfc = owner.other_documents[0].document_number
        assert len(rfc) == 13
        assert is_valid_rfc(rfc)
        assert rfc[:10] == document.document_number[:10]
        assert re.fullmatch(r"\+52 [0-9]{2} [0-9]{4} [0-9]{4}", owner.phone_number)
    elif country_code == "BR":
        assert document.document_type == "CPF"
        assert is_valid_cpf(document.document_number)
        assert re.fullmatch(r"\+55 [0-9]{2} 9[0-9]{4}-[0-9]{4}", owner.phone_number)
    else:
        assert document.document_type == "CC"
        assert is_cedula_format(document.document_number)
        assert re.fullmatch(r"\+57 3[0-9]{2} [0-9]{3} [0-9]{4}", owner.phone_number)


@pytest.mark.parametrize("institution", BANKS)
def test_business_owner_is_company(institution: str) -> None:
    profile = profile_for(institution, "business_acme")
    owner = profile.owners[0]
    document = owner.document_id

    assert owner.first_name is None
    assert owner.last_name is None
    if profile.country_code == "MX":
        assert document.document_type == "RFC"
        assert len(document.document_number) == 12
        assert is_valid_rfc(document.document_number)
    elif profile.country_code == "BR":
        assert document.document_type == "CNPJ"
        assert is_valid_cnpj(document.document_number)
    else:
        assert document.document_type == "NIT"
        assert is_valid_nit(document.document_number)


def test_thin_file_limits_history() -> None:
    account = profile_for("erebor_mx_retail", "thin_file").accounts[0]

    assert account.history_days == THIN_FILE_HISTORY_DAYS


def test_no_data_has_nothing() -> None:
    profile = profile_for("erebor_mx_retail", "no_data")

    assert profile.accounts == ()
    assert profile.owners == ()


@pytest.mark.parametrize("institution", NON_BANKS)
def test_non_bank_institutions_have_owners_only(institution: str) -> None:
    profile = profile_for(institution, "user_valid")

    assert profile.accounts == ()
    assert len(profile.owners) == 1


def test_unknown_institution_raises() -> None:
    with pytest.raises(LookupError, match="unknown sandbox institution 'nowhere_mx_retail'"):
        profile_for("nowhere_mx_retail", "bnk100")


def test_profiles_differ_by_institution_and_username() -> None:
    first = profile_for("erebor_mx_retail", "someone")
    other_bank = profile_for("gringotts_mx_retail", "someone")
    other_user = profile_for("erebor_mx_retail", "someone_else")

    assert first.seed != other_bank.seed
    assert first.accounts[0].number != other_bank.accounts[0].number
    assert first.owners[0] != other_user.owners[0]
