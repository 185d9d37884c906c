"""Deterministic bank data of sandbox users: accounts, owners, transactions and balances.

Everything derives from SHA-256 of `institution|username`, so the same user gets the same
data in every process and on every machine. No function here reads the clock: callers
pass `today`, and the days up to `today` are simulated from each account's opening.

    profile = profile_for("erebor_mx_retail", "bnk100")
    checking = profile.accounts[0]
    transactions = transactions_for(
        profile, checking, date(2025, 1, 1), date(2025, 3, 31), today=date(2025, 6, 1)
    )
"""

from vinculo.sandbox_data.accounts import THIN_FILE_HISTORY_DAYS
from vinculo.sandbox_data.bank_numbers import (
    brazilian_account_check_digit,
    clabe_check_digit,
    is_brazilian_agency_account,
    is_luhn_valid,
    is_valid_clabe,
    luhn_check_digit,
)
from vinculo.sandbox_data.documents import (
    cedula_number,
    cnpj_check_digits,
    cpf_check_digits,
    is_cedula_format,
    is_valid_cnpj,
    is_valid_cpf,
    is_valid_nit,
    nit_check_digit,
)
from vinculo.sandbox_data.mexican_documents import (
    curp_check_digit,
    curp_for_person,
    is_curp_format,
    is_rfc_format,
    is_valid_curp,
    is_valid_rfc,
    rfc_check_digit,
    rfc_for_company,
    rfc_for_person,
)
from vinculo.sandbox_data.models import (
    AccountBalance,
    AccountSpec,
    CreditCardBill,
    CreditCardStatus,
    CreditCardTerms,
    Dataset,
    DocumentId,
    InterestRate,
    LoanFee,
    LoanStatus,
    LoanTerms,
    Merchant,
    OwnerSpec,
    TransactionSpec,
    UserProfile,
)
from vinculo.sandbox_data.profiles import dataset_for, profile_for
from vinculo.sandbox_data.statuses import balance_snapshot, credit_card_status, loan_status
from vinculo.sandbox_data.transactions import (
    PENDING_DAYS,
    account_balance,
    daily_balances,
    transactions_for,
)

__all__ = [
    "PENDING_DAYS",
    "THIN_FILE_HISTORY_DAYS",
    "AccountBalance",
    "AccountSpec",
    "CreditCardBill",
    "CreditCardStatus",
    "CreditCardTerms",
    "Dataset",
    "DocumentId",
    "InterestRate",
    "LoanFee",
    "LoanStatus",
    "LoanTerms",
    "Merchant",
    "OwnerSpec",
    "TransactionSpec",
    "UserProfile",
    "account_balance",
    "balance_snapshot",
    "brazilian_account_check_digit",
    "cedula_number",
    "clabe_check_digit",
    "cnpj_check_digits",
    "cpf_check_digits",
    "credit_card_status",
    "curp_check_digit",
    "curp_for_person",
    "daily_balances",
    "dataset_for",
    "is_brazilian_agency_account",
    "is_cedula_format",
    "is_curp_format",
    "is_luhn_valid",
    "is_rfc_format",
    "is_valid_clabe",
    "is_valid_cnpj",
    "is_valid_cpf",
    "is_valid_curp",
    "is_valid_nit",
    "is_valid_rfc",
    "loan_status",
    "luhn_check_digit",
    "nit_check_digit",
    "profile_for",
    "rfc_check_digit",
    "rfc_for_company",
    "rfc_for_person",
    "transactions_for",
]
