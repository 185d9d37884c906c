"""Text normalization shared by identifiers, statements and web addresses."""

from __future__ import annotations

import re
import unicodedata


def normalize_name(text: str) -> str:
    """Upper-case `text` and strip accents, keeping Ñ, letters, digits, & and spaces.

    Any other character becomes a space.
    """
    upper = text.upper().replace("Ñ", "\0")
    stripped = "".join(
        character
        for character in unicodedata.normalize("NFD", upper)
        if unicodedata.category(character) != "Mn"
    ).replace("\0", "Ñ")
    return re.sub(r"[^A-Z0-9Ñ& ]", " ", stripped).strip()


def ascii_lower(text: str) -> str:
    """Return `text` in lower-case ASCII letters, digits and spaces."""
    return normalize_name(text).replace("Ñ", "N").replace("&", " ").lower()


def last_digits(number: str | None) -> str:
    """Return the last four digits of an account or card number, ignoring other characters."""
    return "".join(character for character in number or "" if character.isdigit())[-4:]


def slug(name: str) -> str:
    """Return `name` as lower-case ASCII words joined by hyphens."""
    return "-".join(ascii_lower(name).split())
