"""Check digits and formats of the Mexican, Brazilian and Colombian identifiers.

Each valid example was built by hand, and the arithmetic of one example per algorithm is
written out next to it.
"""

from __future__ import annotations

import random
from datetime import date

import pytest

from vinculo.sandbox_data import (
    brazilian_account_check_digit,
    cedula_number,
    clabe_check_digit,
    cnpj_check_digits,
    cpf_check_digits,
    curp_check_digit,
    curp_for_person,
    is_brazilian_agency_account,
    is_cedula_format,
    is_curp_format,
    is_luhn_valid,
    is_rfc_format,
    is_valid_clabe,
    is_valid_cnpj,
    is_valid_cpf,
    is_valid_curp,
    is_valid_nit,
    is_valid_rfc,
    luhn_check_digit,
    nit_check_digit,
    rfc_check_digit,
    rfc_for_company,
    rfc_for_person,
)
from vinculo.sandbox_data.bank_numbers import build_clabe


def test_clabe_check_digit_hand_example() -> None:
    # digits   0 0 2 1 8 0 0 1 2 3 4 5 6 7 8 9 0
    # weights  3 7 1 3 7 1 3 7 1 3 7 1 3 7 1 3 7
    # last digit of each product:
    #          0 0 2 3 6 0 0 7 2 9 8 5 8 9 8 7 0   sum 74
    # check digit = (10 - 74 % 10) % 10 = 6
    assert clabe_check_digit("00218001234567890") == "6"


@pytest.mark.parametrize(
    ("first17", "check_digit"),
    [
        # Sum of the last digits of the products is 0, so the check digit is 0.
        ("00000000000000000", "0"),
        # 1*3 = 3, the other digits are 0: (10 - 3) % 10 = 7.
        ("10000000000000000", "7"),
        # 1*3 + 1*7 + 1*1 = 11, last digit 1: 10 - 1 = 9.
        ("11100000000000000", "9"),
    ],
)
def test_clabe_check_digit_table(first17: str, check_digit: str) -> None:
    assert clabe_check_digit(first17) == check_digit


def test_clabe_validation() -> None:
    assert is_valid_clabe("002180012345678906")
    assert not is_valid_clabe("002180012345678907")
    assert not is_valid_clabe("00218001234567890")
    assert not is_valid_clabe("00218001234567890A")


def test_build_clabe_rejects_bad_parts() -> None:
    assert build_clabe("002", "180", "01234567890") == "002180012345678906"
    with pytest.raises(ValueError, match="11-digit account number"):
        build_clabe("002", "180", "0123")


def test_clabe_check_digit_rejects_wrong_length() -> None:
    with pytest.raises(ValueError, match="17 digits"):
        clabe_check_digit("123")


def test_cpf_check_digits_hand_example() -> None:
    # First digit: 1*10 + 2*9 + 3*8 + 4*7 + 5*6 + 6*5 + 7*4 + 8*3 + 9*2 = 210.
    # 210 % 11 = 1, below 2, so the digit is 0.
    # Second digit: 1*11 + 2*10 + 3*9 + 4*8 + 5*7 + 6*6 + 7*5 + 8*4 + 9*3 + 0*2 = 255.
    # 255 % 11 = 2, so the digit is 11 - 2 = 9.
    assert cpf_check_digits("123456789") == "09"


def test_cpf_validation() -> None:
    assert is_valid_cpf("123.456.789-09")
    assert is_valid_cpf("12345678909")
    assert not is_valid_cpf("123.456.789-08")
    assert not is_valid_cpf("111.111.111-11")
    assert not is_valid_cpf("123.456.789")


def test_cnpj_check_digits_hand_example() -> None:
    # First digit: weights 5 4 3 2 9 8 7 6 5 4 3 2 on 1 1 2 2 2 3 3 3 0 0 0 1 give 102.
    # 102 % 11 = 3, so the digit is 8.
    # Second digit: weights 6 5 4 3 2 9 8 7 6 5 4 3 2 on the 12 digits and 8 give 120.
    # 120 % 11 = 10, so the digit is 1.
    assert cnpj_check_digits("112223330001") == "81"
    assert is_valid_cnpj("11.222.333/0001-81")
    assert not is_valid_cnpj("11.222.333/0001-82")


def test_nit_check_digit_hand_example() -> None:
    # Digits of 900123456 from the right: 6 5 4 3 2 1 0 0 9, weights 3 7 13 17 19 23 29 37
    # 41: 18 + 35 + 52 + 51 + 38 + 23 + 0 + 0 + 369 = 586. 586 % 11 = 3, so 11 - 3 = 8.
    assert nit_check_digit("900123456") == "8"
    assert is_valid_nit("900123456-8")
    assert not is_valid_nit("900123456-7")
    assert not is_valid_nit("900123456")


def test_rfc_check_digit_hand_example() -> None:
    # Values P=26 E=14 G=16 L=21 9 0 0 3 0 7 K=20 4, weights 13 down to 2:
    # 338 + 168 + 176 + 210 + 81 + 0 + 0 + 18 + 0 + 28 + 60 + 8 = 1087.
    # 1087 % 11 = 9, so the digit is 11 - 9 = 2.
    assert rfc_check_digit("PEGL900307K4") == "2"


def test_rfc_for_person() -> None:
    # Paternal surname's first letter and first inner vowel, maternal surname's first
    # letter, given name's first letter, then the birth date and homoclave.
    rfc = rfc_for_person("Laura", "Pérez", "Gómez", date(1990, 3, 7), "K4")

    assert rfc == "PEGL900307K42"
    assert is_valid_rfc(rfc)


def test_rfc_skips_common_first_given_name() -> None:
    rfc = rfc_for_person("María Fernanda", "Pérez", "Gómez", date(1990, 3, 7), "K4")

    assert rfc.startswith("PEGF")


def test_rfc_replaces_inconvenient_word() -> None:
    # Ignacio Bueno Estrada would open with BUEI, which the registry replaces with BUEX.
    rfc = rfc_for_person("Ignacio", "Bueno", "Estrada", date(1980, 1, 2), "A1")

    assert rfc.startswith("BUEX")
    assert is_valid_rfc(rfc)


def test_rfc_for_company_hand_example() -> None:
    # Significant words Comercializadora, Alfa, Norte give CAN. The check digit runs over
    # " CAN150601Q7" (space = 37): 481 + 144 + 110 + 230 + 9 + 40 + 0 + 36 + 0 + 4 + 81 + 14
    # = 1149, 1149 % 11 = 5, so the digit is 6.
    rfc = rfc_for_company("Comercializadora Alfa del Norte SA de CV", date(2015, 6, 1), "Q7")

    assert rfc == "CAN150601Q76"
    assert is_valid_rfc(rfc)


def test_rfc_format_checks() -> None:
    assert is_rfc_format("PEGL900307K42")
    assert is_rfc_format("CAN150601Q76")
    assert is_rfc_format("PEGL900307K49")
    assert not is_valid_rfc("PEGL900307K49")
    assert not is_rfc_format("PEGL901307K42")
    assert not is_rfc_format("PEGL900230K42")
    assert not is_rfc_format("PEG1900307K42")
    assert not is_rfc_format("pegl900307k42")


def test_curp_check_digit_hand_example() -> None:
    # Values P=26 E=14 G=16 L=21 9 0 0 3 0 7 M=22 D=13 F=15 R=28 M=22 R=28 0, weights 18
    # down to 2: 468 + 238 + 256 + 315 + 126 + 0 + 0 + 33 + 0 + 63 + 176 + 91 + 90 + 140
    # + 88 + 84 + 0 = 2168. (10 - 2168 % 10) % 10 = 2.
    assert curp_check_digit("PEGL900307MDFRMR0") == "2"


def test_curp_for_person() -> None:
    curp = curp_for_person("Laura", "Pérez", "Gómez", date(1990, 3, 7), "M", "DF", "0")

    assert curp == "PEGL900307MDFRMR02"
    assert is_valid_curp(curp)


def test_curp_replaces_enye_with_x() -> None:
    curp = curp_for_person("Luis", "Muñoz", "Ortiz", date(1985, 12, 31), "H", "NL", "0")

    assert curp.startswith("MUOL851231HNL")
    assert curp[13:16] == "XRS"
    assert is_valid_curp(curp)


def test_curp_replaces_inconvenient_word() -> None:
    # The CURP replaces the second letter instead: BUEI becomes BXEI.
    curp = curp_for_person("Ignacio", "Bueno", "Estrada", date(1980, 1, 2), "H", "JC", "3")

    assert curp.startswith("BXEI")
    assert is_valid_curp(curp)


def test_curp_generic_example_validates() -> None:
    # The generic CURP that the IMSS form shows as a placeholder.
    assert is_valid_curp("XEXX010101HNEXXXA4")


def test_curp_differentiator_follows_birth_century() -> None:
    with pytest.raises(ValueError, match="letter from 2000 on"):
        curp_for_person("Laura", "Pérez", "Gómez", date(2001, 3, 7), "M", "DF", "0")

    curp = curp_for_person("Laura", "Pérez", "Gómez", date(2001, 3, 7), "M", "DF", "A")

    assert is_valid_curp(curp)


def test_curp_format_checks() -> None:
    assert is_curp_format("PEGL900307MDFRMR02")
    assert is_curp_format("PEGL900307MDFRMR09")
    assert not is_valid_curp("PEGL900307MDFRMR09")
    assert not is_curp_format("PEGL900307MZZRMR02")
    assert not is_curp_format("PEGL900307XDFRMR02")
    assert not is_curp_format("PEGL901307MDFRMR02")
    assert not is_curp_format("PEGL900307MDFRMR0")


def test_cedula_numbers() -> None:
    rng = random.Random(7)
    young = [cedula_number(rng, 1995) for _ in range(50)]
    older = [cedula_number(rng, 1970) for _ in range(50)]

    assert all(len(number) == 10 and number.startswith("10") for number in young)
    assert all(len(number) == 8 for number in older)
    assert all(is_cedula_format(number) for number in young + older)
    assert not is_cedula_format("0123456")
    assert not is_cedula_format("12345")
    assert not is_cedula_format("12345678901")


def test_luhn_hand_example() -> None:
    # From the right, 7 6 5 4 3 2 1 with every other digit doubled (7->14->5, 5->10->1,
    # 3->6, 1->2): 5 + 6 + 1 + 4 + 6 + 2 + 2 = 26, so the check digit is 4.
    assert luhn_check_digit("1234567") == "4"
    assert is_luhn_valid("12345674")
    assert not is_luhn_valid("12345675")


def test_brazilian_account_check_digit_hand_example() -> None:
    # Digits of 45722 from the right, weights 2 to 6: 2*2 + 2*3 + 7*4 + 5*5 + 4*6 = 87.
    # 87 % 11 = 10, so the digit is 11 - 10 = 1.
    assert brazilian_account_check_digit("45722") == "1"
    assert is_brazilian_agency_account("0444/45722-1")
    assert not is_brazilian_agency_account("0444/45722-0")
    assert not is_brazilian_agency_account("444/45722-1")
