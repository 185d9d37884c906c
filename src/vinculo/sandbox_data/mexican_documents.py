"""Mexican identifiers: the RFC (tax id) and the CURP (population registry key).

A person's RFC has 13 characters and a company's 12. Both end with a check digit, and
both open with letters taken from the name, like the CURP's 18 characters.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Final, Literal

from vinculo.sandbox_data.names import normalize_name


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Character values of the RFC check digit: digits, A-N, &, O-Z, space, Ñ (0 to 38).
_RFC_ALPHABET: Final = "0123456789ABCDEFGHIJKLMN&OPQRSTUVWXYZ Ñ"
# Character values of the CURP check digit: digits, A-N, Ñ, O-Z (0 to 36).
_CURP_ALPHABET: Final = "0123456789ABCDEFGHIJKLMNÑOPQRSTUVWXYZ"
# Characters of the two-character RFC homoclave, without 0 and O, which read alike.
HOMOCLAVE_ALPHABET: Final = "123456789ABCDEFGHIJKLMNPQRSTUVWXYZ"

# Birth state codes of the CURP. NE is a person born abroad.
CURP_STATE_CODES: Final = _word_set(
    "AS BC BS CC CL CM CS CH DF DG GT GR HG JC MC MN MS NT NL OC PL QT QR SP SL SR TC TS TL "
    "VZ YN ZS NE"
)

_DATE_PART: Final = r"[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])"
_RFC_PATTERN: Final = re.compile(rf"^[A-ZÑ&]{{3,4}}{_DATE_PART}[A-Z0-9]{{2}}[0-9A]$")
_CURP_PATTERN: Final = re.compile(
    rf"^[A-Z][AEIOUX][A-Z]{{2}}{_DATE_PART}[HM][A-Z]{{2}}[B-DF-HJ-NP-TV-Z]{{3}}[0-9A-Z][0-9]$"
)

_VOWELS: Final = frozenset("AEIOU")
# Words that the first four letters of an RFC or CURP must not spell. The registries
# replace one letter with X: the fourth in an RFC, the second in a CURP.
# NOTE: a subset of the official lists, enough for the names of the sandbox catalogue.
_INCONVENIENT_WORDS: Final = _word_set(
    "BUEI BUEY CACA CACO CAGA CAGO CAKA CAKO COGE COJA COJE COJI COJO CULO FETO GUEY JOTO "
    "KACA KACO KAGA KAGO KAKA KOGE KOJO KULO MAME MAMO MEAR MEAS MEON MION MOCO MULA PEDA "
    "PEDO PENE PUTA PUTO QULO RATA RUIN"
)
# Particles that name keys skip in surnames.
_NAME_PARTICLES: Final = _word_set(
    "DA DAS DE DEL DER DI DIE DD EL LA LOS LAS LE LES MAC MC VAN VON Y"
)
# Legal-form words and particles that a company RFC skips.
_COMPANY_NOISE: Final = _word_set(
    "SA CV DE RL S A C V R L SAPI SAB SC AC CIA COMPANIA SOCIEDAD ANONIMA THE AND OF EL LA "
    "LOS LAS DEL Y"
)
# A first given name that the name key skips when the person has another one.
_COMMON_FIRST_NAMES: Final = frozenset({"JOSE", "J", "MARIA", "MA", "M"})


def _words(text: str, skip: frozenset[str]) -> list[str]:
    return [word for word in normalize_name(text).split() if word not in skip]


def _first_internal(word: str, *, vowel: bool) -> str:
    """Return the first vowel (or consonant) after the first letter of `word`, or X."""
    for character in word[1:]:
        if character.isalpha() and (character in _VOWELS) == vowel:
            return character
    return "X"


def _key_given_name(given_names: str) -> str:
    names = _words(given_names, _NAME_PARTICLES)
    if len(names) > 1 and names[0] in _COMMON_FIRST_NAMES:
        return names[1]
    return names[0]


def _person_name_key(given_names: str, paternal_surname: str, maternal_surname: str | None) -> str:
    """Return the four letters that open a person's RFC and CURP, before word filtering.

    NOTE: the special rules for one- or two-letter surnames are not implemented.
    """
    paternal = "".join(_words(paternal_surname, _NAME_PARTICLES))
    maternal = "".join(_words(maternal_surname or "", _NAME_PARTICLES))
    key_name = _key_given_name(given_names)
    if not maternal:
        return paternal[:2] + key_name[:2]
    return paternal[0] + _first_internal(paternal, vowel=True) + maternal[0] + key_name[0]


def _yymmdd(day: date) -> str:
    return day.strftime("%y%m%d")


def _has_valid_date(code: str, offset: int) -> bool:
    """Check that the yymmdd at `offset` is a real date in either the 1900s or the 2000s."""
    year, month, day = (
        int(code[offset : offset + 2]),
        int(code[offset + 2 : offset + 4]),
        int(code[offset + 4 : offset + 6]),
    )
    for century in (1900, 2000):
        try:
            date(century + year, month, day)
        except ValueError:
            continue
        return True
    return False


def rfc_check_digit(first12: str) -> str:
    """Compute the RFC check digit of the first 12 characters.

    A company RFC has 11 characters before its check digit, so prefix it with a space.
    Each character's value (see `_RFC_ALPHABET`) is weighted 13 down to 2, and the digit is
    11 minus the sum modulo 11, written 0 for 11 and A for 10.
    """
    if len(first12) != 12:
        raise ValueError(f"an RFC check digit needs 12 characters, got {first12!r}")
    total = sum(
        _RFC_ALPHABET.index(character) * (13 - index) for index, character in enumerate(first12)
    )
    remainder = 11 - total % 11
    return {11: "0", 10: "A"}.get(remainder, str(remainder))


def rfc_for_person(
    given_names: str,
    paternal_surname: str,
    maternal_surname: str | None,
    birth_date: date,
    homoclave: str,
) -> str:
    """Build a 13-character RFC from a person's name, birth date and 2-character homoclave.

    SAT derives the homoclave from the full name. The sandbox passes any two characters of
    `HOMOCLAVE_ALPHABET` instead, so the result is format-valid but not the one SAT issues.
    """
    key = _person_name_key(given_names, paternal_surname, maternal_surname)
    if key in _INCONVENIENT_WORDS:
        key = key[:3] + "X"
    first12 = key + _yymmdd(birth_date) + homoclave
    return first12 + rfc_check_digit(first12)


def rfc_for_company(legal_name: str, incorporation_date: date, homoclave: str) -> str:
    """Build a 12-character company RFC.

    The three letters are the initials of the first three significant words, or, for
    two words, the first initial and two letters of the second, or, for one word, its
    first three letters. Legal-form words (S.A., C.V.) and particles are skipped.
    """
    words = _words(legal_name.split(",")[0], _COMPANY_NOISE)
    if len(words) >= 3:
        letters = words[0][0] + words[1][0] + words[2][0]
    elif len(words) == 2:
        letters = words[0][0] + words[1][:2]
    else:
        letters = (words[0] + "XX")[:3]
    first11 = letters + _yymmdd(incorporation_date) + homoclave
    return first11 + rfc_check_digit(" " + first11)


def is_rfc_format(rfc: str) -> bool:
    """Check the RFC layout (letters, a real yymmdd date, homoclave), not its check digit."""
    return bool(_RFC_PATTERN.match(rfc)) and _has_valid_date(rfc, len(rfc) - 9)


def is_valid_rfc(rfc: str) -> bool:
    """Check the RFC layout and its check digit."""
    if not is_rfc_format(rfc):
        return False
    first12 = rfc[:-1].rjust(12)
    return rfc_check_digit(first12) == rfc[-1]


def curp_check_digit(first17: str) -> str:
    """Compute the CURP check digit of the first 17 characters.

    Each character's value (see `_CURP_ALPHABET`) is weighted 18 down to 2, and the digit
    is 10 minus the sum modulo 10, written 0 for 10.
    """
    if len(first17) != 17:
        raise ValueError(f"a CURP check digit needs 17 characters, got {first17!r}")
    total = sum(
        _CURP_ALPHABET.index(character) * (18 - index) for index, character in enumerate(first17)
    )
    return str((10 - total % 10) % 10)


def curp_for_person(
    given_names: str,
    paternal_surname: str,
    maternal_surname: str | None,
    birth_date: date,
    sex: Literal["H", "M"],
    state_code: str,
    differentiator: str,
) -> str:
    """Build an 18-character CURP with its check digit.

    `differentiator` is RENAPO's 17th character, which distinguishes people with the same
    first 16 characters: a digit for births up to 1999 and a letter from 2000 on.
    """
    if state_code not in CURP_STATE_CODES:
        raise ValueError(f"unknown CURP state code {state_code!r}")
    expected_kind = str.isdigit if birth_date.year < 2000 else str.isalpha
    if len(differentiator) != 1 or not expected_kind(differentiator):
        raise ValueError(
            f"invalid CURP differentiator {differentiator!r} for a birth in {birth_date.year}: "
            "use a digit before 2000 and a letter from 2000 on"
        )
    key = _person_name_key(given_names, paternal_surname, maternal_surname).replace("Ñ", "X")
    if key in _INCONVENIENT_WORDS:
        key = key[0] + "X" + key[2:]
    paternal = "".join(_words(paternal_surname, _NAME_PARTICLES)).replace("Ñ", "X")
    maternal = "".join(_words(maternal_surname or "", _NAME_PARTICLES)).replace("Ñ", "X")
    key_name = _key_given_name(given_names).replace("Ñ", "X")
    consonants = "".join(
        _first_internal(word, vowel=False) if word else "X"
        for word in (paternal, maternal, key_name)
    )
    first17 = key + _yymmdd(birth_date) + sex + state_code + consonants + differentiator
    return first17 + curp_check_digit(first17)


def is_curp_format(curp: str) -> bool:
    """Check the CURP layout, its state code and its date, not its check digit."""
    return (
        bool(_CURP_PATTERN.match(curp))
        and curp[11:13] in CURP_STATE_CODES
        and _has_valid_date(curp, 4)
    )


def is_valid_curp(curp: str) -> bool:
    """Check the CURP layout and its check digit."""
    return is_curp_format(curp) and curp_check_digit(curp[:17]) == curp[17]
