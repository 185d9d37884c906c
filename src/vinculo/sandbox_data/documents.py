"""Brazilian and Colombian identifiers.

Brazil: CPF (people) and CNPJ (companies), each with two modulo-11 check digits.
Colombia: the cédula de ciudadanía, which has no check digit, and the NIT (company tax
id) with its check digit.
"""

from __future__ import annotations

import random
import re
from typing import Final


def _mod11_digit(digits: str, weights: list[int]) -> str:
    """Return the Brazilian modulo-11 check digit: 0 when the remainder is below 2."""
    remainder = sum(int(digit) * weight for digit, weight in zip(digits, weights, strict=True)) % 11
    return "0" if remainder < 2 else str(11 - remainder)


def cpf_check_digits(first9: str) -> str:
    """Compute the two CPF check digits of 9 digits.

    The first digit weights the 9 digits 10 down to 2, and the second weights the 9 digits
    and the first check digit 11 down to 2. Each is 11 minus the sum modulo 11, or 0 when
    the remainder is 0 or 1.
    """
    if len(first9) != 9 or not first9.isdigit():
        raise ValueError(f"a CPF check needs 9 digits, got {first9!r}")
    first = _mod11_digit(first9, list(range(10, 1, -1)))
    second = _mod11_digit(first9 + first, list(range(11, 1, -1)))
    return first + second


def format_cpf(digits: str) -> str:
    """Format 11 digits as `123.456.789-09`."""
    return f"{digits[:3]}.{digits[3:6]}.{digits[6:9]}-{digits[9:]}"


def is_valid_cpf(cpf: str) -> bool:
    """Check a CPF, formatted (`123.456.789-09`) or as 11 bare digits.

    Eleven equal digits pass the arithmetic, but the Receita Federal never issues them.
    """
    if not re.fullmatch(r"[0-9]{3}\.?[0-9]{3}\.?[0-9]{3}-?[0-9]{2}", cpf):
        return False
    digits = re.sub(r"\D", "", cpf)
    if len(set(digits)) == 1:
        return False
    return cpf_check_digits(digits[:9]) == digits[9:]


def cnpj_check_digits(first12: str) -> str:
    """Compute the two CNPJ check digits of 12 digits (8 for the company, 4 for the branch)."""
    if len(first12) != 12 or not first12.isdigit():
        raise ValueError(f"a CNPJ check needs 12 digits, got {first12!r}")
    first = _mod11_digit(first12, [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2])
    second = _mod11_digit(first12 + first, [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2])
    return first + second


def format_cnpj(digits: str) -> str:
    """Format 14 digits as `12.345.678/0001-95`."""
    return f"{digits[:2]}.{digits[2:5]}.{digits[5:8]}/{digits[8:12]}-{digits[12:]}"


def is_valid_cnpj(cnpj: str) -> bool:
    """Check a CNPJ, formatted or as 14 bare digits."""
    if not re.fullmatch(r"[0-9]{2}\.?[0-9]{3}\.?[0-9]{3}/?[0-9]{4}-?[0-9]{2}", cnpj):
        return False
    digits = re.sub(r"\D", "", cnpj)
    if len(set(digits)) == 1:
        return False
    return cnpj_check_digits(digits[:12]) == digits[12:]


# DIAN's weights for the NIT check digit, applied from the rightmost digit.
_NIT_WEIGHTS: Final = (3, 7, 13, 17, 19, 23, 29, 37, 41, 43, 47, 53, 59, 67, 71)


def nit_check_digit(number: str) -> str:
    """Compute the check digit of a Colombian NIT of up to 15 digits.

    The digits, from the right, are weighted 3, 7, 13, 17 and so on. The check digit is the sum
    modulo 11 when that is 0 or 1, and 11 minus it otherwise.
    """
    if not number.isdigit() or len(number) > len(_NIT_WEIGHTS):
        raise ValueError(f"a NIT has 1 to 15 digits, got {number!r}")
    total = sum(
        int(digit) * weight for digit, weight in zip(reversed(number), _NIT_WEIGHTS, strict=False)
    )
    remainder = total % 11
    return str(remainder if remainder < 2 else 11 - remainder)


def is_valid_nit(nit: str) -> bool:
    """Check a NIT written as `900123456-8` (with the check digit after the hyphen)."""
    match = re.fullmatch(r"([0-9]{6,15})-([0-9])", nit)
    if match is None:
        return False
    return nit_check_digit(match.group(1)) == match.group(2)


def cedula_number(rng: random.Random, birth_year: int) -> str:
    """Draw a Colombian cédula de ciudadanía number, which has no check digit.

    Cédulas issued since the early 2000s have 10 digits starting with 10. Older ones have
    8 digits. NOTE: the 8-digit range is plausible, not a range known to be issued.
    """
    if birth_year >= 1985:
        return str(rng.randint(1_000_000_000, 1_099_999_999))
    return str(rng.randint(10_000_000, 99_999_999))


def is_cedula_format(number: str) -> bool:
    """Check that a cédula number has 6 to 10 digits and no leading zero."""
    return bool(re.fullmatch(r"[1-9][0-9]{5,9}", number))
