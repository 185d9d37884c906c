"""Account and card numbers: Mexican CLABE, Brazilian agency/account, Colombian accounts."""

from __future__ import annotations

import random
import re
from typing import Final

# CLABE check digit weights, repeated over the first 17 digits.
_CLABE_WEIGHTS: Final = (3, 7, 1)


def clabe_check_digit(first17: str) -> str:
    """Compute the 18th digit of a CLABE from the first 17.

    Each digit is multiplied by 3, 7, 1, 3, 7, 1, ... and only the last digit of each
    product is kept. The check digit is 10 minus the last digit of their sum, modulo 10.
    """
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError(f"a CLABE check digit needs 17 digits, got {first17!r}")
    total = sum(int(digit) * _CLABE_WEIGHTS[index % 3] % 10 for index, digit in enumerate(first17))
    return str((10 - total % 10) % 10)


def is_valid_clabe(clabe: str) -> bool:
    """Check that `clabe` has 18 digits and a correct check digit."""
    return bool(re.fullmatch(r"[0-9]{18}", clabe)) and clabe_check_digit(clabe[:17]) == clabe[17]


def build_clabe(bank_code: str, plaza_code: str, account_number: str) -> str:
    """Join a 3-digit bank code, a 3-digit plaza code and an 11-digit account number.

    Banxico assigns the bank and plaza codes, and the sandbox banks use made-up ones.
    """
    first17 = bank_code + plaza_code + account_number
    if len(bank_code) != 3 or len(plaza_code) != 3 or len(account_number) != 11:
        raise ValueError(
            "a CLABE needs a 3-digit bank code, a 3-digit plaza code and an 11-digit "
            f"account number, got {bank_code!r}, {plaza_code!r}, {account_number!r}"
        )
    return first17 + clabe_check_digit(first17)


def brazilian_account_check_digit(number: str) -> str:
    """Compute a modulo-11 check digit for a Brazilian account number.

    The digits, from the right, are weighted 2 to 9 and then 2 again. The digit is 11
    minus the sum modulo 11, with 10 and 11 written 0. Each Brazilian bank has its own rule,
    and this is a common one.
    """
    if not number.isdigit():
        raise ValueError(f"an account number has only digits, got {number!r}")
    total = sum(int(digit) * (2 + index % 8) for index, digit in enumerate(reversed(number)))
    remainder = 11 - total % 11
    return "0" if remainder >= 10 else str(remainder)


def brazilian_account(rng: random.Random) -> tuple[str, str]:
    """Draw an agency (4 digits) and an account number such as `45722-1`."""
    agency = f"{rng.randint(1, 9999):04d}"
    digits = f"{rng.randint(10_000, 99_999_999)}"
    return agency, f"{digits}-{brazilian_account_check_digit(digits)}"


def is_brazilian_agency_account(value: str) -> bool:
    """Check an `AGENCY/ACCOUNT` value such as `0444/45722-1`, including its check digit."""
    match = re.fullmatch(r"([0-9]{4})/([0-9]{5,8})-([0-9])", value)
    if match is None:
        return False
    return brazilian_account_check_digit(match.group(2)) == match.group(3)


def colombian_account_number(rng: random.Random) -> str:
    """Draw an 11-digit Colombian account number.

    Colombian banks use 9 to 16 digits and no shared check digit, so any 11 digits that
    do not start with 0 look plausible.
    """
    return str(rng.randint(10_000_000_000, 99_999_999_999))


def luhn_check_digit(partial: str) -> str:
    """Compute the Luhn check digit that completes a card number."""
    if not partial.isdigit():
        raise ValueError(f"a card number has only digits, got {partial!r}")
    total = 0
    for index, digit in enumerate(reversed(partial)):
        value = int(digit)
        if index % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def is_luhn_valid(number: str) -> bool:
    return number.isdigit() and len(number) > 1 and luhn_check_digit(number[:-1]) == number[-1]


def card_number(rng: random.Random, issuer_prefix: str) -> str:
    """Draw a 16-digit card number that starts with `issuer_prefix` and passes Luhn."""
    body_length = 15 - len(issuer_prefix)
    body = issuer_prefix + "".join(str(rng.randint(0, 9)) for _ in range(body_length))
    return body + luhn_check_digit(body)


def mask_card_number(number: str) -> str:
    """Show the first six and last four digits, as card statements do: `415231******1234`."""
    return number[:6] + "*" * (len(number) - 10) + number[-4:]
