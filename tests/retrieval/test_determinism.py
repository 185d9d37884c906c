"""Two servers, each on its own SQLite file, return the same bytes for the same retrievals.

Both clocks are fixed at the same instant, so timestamps match and only the ids, which
each server draws at random, differ. The ids are replaced by `<id-N>` in order of first
appearance across the four responses, which also checks that each response refers to the same
link and accounts in the same places.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from tests.links.calls import client_with, create_link, new_api_key
from tests.retrieval.calls import RESOURCES, FrozenClock, build_app, retrieval_body
from vinculo.config import Settings

UUID_BYTES = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@asynccontextmanager
async def _server(settings: Settings, data_dir: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = build_app(settings, data_dir, FrozenClock())
    try:
        async with client_with(app, auth=await new_api_key(app, "tenant")) as client:
            yield client
    finally:
        app.context.database.close()


async def _responses(
    settings: Settings, data_dir: Path, username: str, institution: str
) -> list[bytes]:
    """Register one link and return the raw bodies of its four retrievals over a year."""
    async with _server(settings, data_dir) as client:
        link = await create_link(client, username, institution=institution)
        bodies = []
        for resource in RESOURCES:
            body = retrieval_body(resource, link["id"], days=365)
            response = await client.post(f"/api/{resource}/", json=body)
            assert response.status_code == 201, response.text
            bodies.append(response.content)
    return bodies


def _without_ids(bodies: list[bytes]) -> list[bytes]:
    """Replace each UUID by `<id-N>`, numbered by first appearance across `bodies`."""
    numbers: dict[bytes, int] = {}

    def placeholder(match: re.Match[bytes]) -> bytes:
        number = numbers.setdefault(match.group(), len(numbers))
        return b"<id-%d>" % number

    return [UUID_BYTES.sub(placeholder, body) for body in bodies]


async def test_same_user_same_bytes(settings: Settings, tmp_path: Path) -> None:
    first = await _responses(settings, tmp_path / "one", "bnk100", "erebor_mx_retail")
    second = await _responses(settings, tmp_path / "two", "bnk100", "erebor_mx_retail")

    assert [len(body) for body in first] == [len(body) for body in second]
    assert first != second, "the two servers must draw their own ids"
    for resource, mine, theirs in zip(
        RESOURCES, _without_ids(first), _without_ids(second), strict=True
    ):
        assert mine == theirs, resource


async def test_other_user_other_bytes(settings: Settings, tmp_path: Path) -> None:
    first = await _responses(settings, tmp_path / "one", "bnk100", "gringotts_br_retail")
    second = await _responses(settings, tmp_path / "two", "bnk101", "gringotts_br_retail")

    for resource, mine, theirs in zip(
        RESOURCES, _without_ids(first), _without_ids(second), strict=True
    ):
        assert mine != theirs, resource
