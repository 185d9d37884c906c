"""Seeds and random generators for the sandbox data.

Every value of a sandbox user derives from one seed, the SHA-256 digest of
`institution|username`. Each concern (an account's plan, one account's day, an owner's
name) gets its own generator, seeded with the SHA-256 digest of the user seed and a list
of labels. A new concern therefore never shifts the draws of an existing one. Neither
`hash()`, the global random state nor the wall clock is used, so the output is the same in
every Python process and on every machine.
"""

from __future__ import annotations

import base64
import hashlib
import random
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Final, TypeVar

if TYPE_CHECKING:
    from _typeshed import SupportsLenAndGetItem

_SEPARATOR: Final = b"|"
_T = TypeVar("_T")


class StableRandom(random.Random):
    """A `random.Random` whose integer draws, choices and samples all come from `random()`.

    Python's `random` documentation guarantees that `random()` repeats its sequence for a
    given seed across versions, but not the algorithms of `randrange`, `choice` or
    `sample`. Building them on `random()` keeps the sandbox data stable across versions.
    """

    def _below(self, count: int) -> int:
        """Return an integer from 0 to `count - 1` (`count` up to 2**53)."""
        if count <= 0:
            raise ValueError(f"empty range for a random draw: {count}")
        return min(int(self.random() * count), count - 1)

    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int:
        if stop is None:
            start, stop = 0, start
        if step <= 0:
            raise ValueError(f"randrange needs a positive step, got {step}")
        return start + step * self._below((stop - start + step - 1) // step)

    def randint(self, a: int, b: int) -> int:
        return a + self._below(b - a + 1)

    def choice(self, seq: SupportsLenAndGetItem[_T]) -> _T:
        return seq[self._below(len(seq))]

    def sample(
        self, population: Sequence[_T], k: int, *, counts: Iterable[int] | None = None
    ) -> list[_T]:
        """Draw `k` distinct elements with a partial Fisher-Yates shuffle.

        `counts` is not supported.
        """
        if counts is not None:
            raise TypeError("StableRandom.sample does not support counts")
        pool = list(population)
        if not 0 <= k <= len(pool):
            raise ValueError(f"sample larger than population: {k} of {len(pool)}")
        for index in range(k):
            swap = index + self._below(len(pool) - index)
            pool[index], pool[swap] = pool[swap], pool[index]
        return pool[:k]


def user_seed(institution_name: str, username: str) -> bytes:
    """Return the 32-byte seed of one end user: SHA-256 of `institution|username`."""
    return hashlib.sha256(f"{institution_name}|{username}".encode()).digest()


def derive_seed(seed: bytes, *labels: str | int) -> bytes:
    """Return the SHA-256 digest of `seed` followed by each label, separated by `|`."""
    digest = hashlib.sha256(seed)
    for label in labels:
        digest.update(_SEPARATOR)
        digest.update(str(label).encode())
    return digest.digest()


def derive_rng(seed: bytes, *labels: str | int) -> StableRandom:
    """Return a generator seeded with the integer value of `derive_seed(seed, *labels)`."""
    return StableRandom(int.from_bytes(derive_seed(seed, *labels), "big"))


def opaque_id(seed: bytes, *labels: str | int, length: int = 24) -> str:
    """Return an upper-case base32 identifier (letters A-Z and digits 2-7) for the labels."""
    encoded = base64.b32encode(derive_seed(seed, *labels)).decode("ascii")
    return encoded[:length]


def digits_from(seed: bytes, *labels: str | int, count: int) -> str:
    """Return `count` decimal digits derived from the seed and labels."""
    number = int.from_bytes(derive_seed(seed, *labels), "big")
    return str(number % 10**count).zfill(count)
