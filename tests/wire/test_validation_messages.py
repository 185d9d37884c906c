"""Body errors for dates and Django-style booleans use Django REST Framework's wording."""

from __future__ import annotations

from vinculo.transactions.schemas import TransactionsRequest
from vinculo.wire.validation import body_errors

LINK = "6ba4f25b-f4b2-44cc-9e65-4b06911fca46"


def test_malformed_date_message() -> None:
    raw = f'{{"link": "{LINK}", "date_from": "2025-1-5", "date_to": "2025-01-06"}}'.encode()

    [error] = body_errors(raw, TransactionsRequest)

    assert error.field == "date_from"
    assert error.message == "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."


def test_bad_boolean_message() -> None:
    raw = (
        f'{{"link": "{LINK}", "date_from": "2025-01-05", "date_to": "2025-01-06",'
        ' "save_data": "maybe"}'
    ).encode()

    [error] = body_errors(raw, TransactionsRequest)

    assert error.code == "invalid"
    assert error.field == "save_data"
    assert error.message == "Must be a valid boolean."
