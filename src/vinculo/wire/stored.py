"""Responses assembled from stored JSON bodies, without decoding them.

Accounts, transactions, balances and owners are stored as the JSON they are sent as. A list of
a thousand transactions is then a join of byte strings, with the account spliced into each
transaction, instead of a thousand objects built and encoded again.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec

from vinculo.wire.query import Shape


def embed_account(account_body: bytes, body: bytes) -> msgspec.Raw:
    """Return `body` (a JSON object) with `account_body` added as its `account` key."""
    return msgspec.Raw(account_prefix(account_body) + body[1:])


def account_prefix(account_body: bytes) -> bytes:
    """Return the bytes that `embed_account` puts before the rest of a body.

    A page contains the transactions of a few accounts, so building each account's prefix once
    leaves one concatenation per row.
    """
    return b'{"account":' + account_body + b","


def shaped(shape: Shape, items: Iterable[msgspec.Raw]) -> list[Any]:
    """Apply `fields`/`omit` to stored bodies, decoding them only when the shape needs it."""
    if shape.is_identity:
        return list(items)
    return [shape.apply(msgspec.json.decode(item)) for item in items]
