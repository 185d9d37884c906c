"""The owner of a sandbox user's accounts: a person or, for business users, a company."""

from __future__ import annotations

import random
from datetime import date

from vinculo.sandbox_data.documents import (
    cedula_number,
    cnpj_check_digits,
    cpf_check_digits,
    format_cnpj,
    format_cpf,
    nit_check_digit,
)
from vinculo.sandbox_data.mexican_documents import (
    HOMOCLAVE_ALPHABET,
    curp_for_person,
    rfc_for_company,
    rfc_for_person,
)
from vinculo.sandbox_data.models import Dataset, DocumentId, OwnerSpec
from vinculo.sandbox_data.names import slug
from vinculo.sandbox_data.people import (
    BUSINESSES,
    City,
    address,
    draw_person,
    email_for,
    phone_number,
)
from vinculo.sandbox_data.seeds import derive_rng, opaque_id


def _homoclave(rng: random.Random) -> str:
    return "".join(rng.choice(HOMOCLAVE_ALPHABET) for _ in range(2))


def person_owner(seed: bytes, country_code: str, dataset: Dataset) -> tuple[OwnerSpec, City]:
    rng = derive_rng(seed, "owner", 0)
    oldest, youngest = (1996, 2005) if dataset is Dataset.THIN_FILE else (1965, 2001)
    person = draw_person(rng, country_code, oldest=oldest, youngest=youngest)
    other_documents: tuple[DocumentId, ...] = ()
    if country_code == "MX":
        differentiator = (
            str(rng.randint(0, 9)) if person.birth_date.year < 2000 else rng.choice("ABC")
        )
        curp = curp_for_person(
            person.given_names,
            person.paternal_surname,
            person.maternal_surname,
            person.birth_date,
            person.sex,
            person.city.curp_state,
            differentiator,
        )
        rfc = rfc_for_person(
            person.given_names,
            person.paternal_surname,
            person.maternal_surname,
            person.birth_date,
            _homoclave(rng),
        )
        document = DocumentId("CURP", curp)
        other_documents = (DocumentId("RFC", rfc),)
    elif country_code == "BR":
        first9 = f"{rng.randint(1, 999_999_999):09d}"
        document = DocumentId("CPF", format_cpf(first9 + cpf_check_digits(first9)))
    else:
        document = DocumentId("CC", cedula_number(rng, person.birth_date.year))

    owner = OwnerSpec(
        internal_identification=opaque_id(seed, "owner", 0, length=12),
        display_name=person.full_name,
        first_name=person.given_names,
        last_name=person.paternal_surname,
        second_last_name=person.maternal_surname,
        email=email_for(rng, person.given_names, person.paternal_surname),
        phone_number=phone_number(rng, country_code, person.city),
        address=address(rng, country_code, person.city),
        document_id=document,
        other_documents=other_documents,
    )
    return owner, person.city


def company_owner(seed: bytes, country_code: str) -> tuple[OwnerSpec, City]:
    rng = derive_rng(seed, "owner", 0)
    legal_name, trade_name = rng.choice(BUSINESSES[country_code])
    # A person's draw supplies the company's city.
    city = draw_person(rng, country_code, oldest=1960, youngest=1990).city
    incorporated = date(rng.randint(2005, 2020), rng.randint(1, 12), rng.randint(1, 28))
    if country_code == "MX":
        document = DocumentId("RFC", rfc_for_company(legal_name, incorporated, _homoclave(rng)))
    elif country_code == "BR":
        first12 = f"{rng.randint(10_000_000, 99_999_999)}0001"
        document = DocumentId("CNPJ", format_cnpj(first12 + cnpj_check_digits(first12)))
    else:
        number = str(rng.randint(900_000_000, 901_999_999))
        document = DocumentId("NIT", f"{number}-{nit_check_digit(number)}")
    mailbox = "financeiro" if country_code == "BR" else "contacto"
    owner = OwnerSpec(
        internal_identification=opaque_id(seed, "owner", 0, length=12),
        display_name=legal_name,
        first_name=None,
        last_name=None,
        second_last_name=None,
        email=f"{mailbox}@{slug(trade_name)}.example",
        phone_number=phone_number(rng, country_code, city),
        address=address(rng, country_code, city),
        document_id=document,
        other_documents=(),
    )
    return owner, city
