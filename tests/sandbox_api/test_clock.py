"""The sandbox clock: reading, moving forward, returning to real time, and input errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.links.calls import check_error
from tests.retrieval.calls import NOW, iso
from vinculo.app import VinculoApp


async def clock_move(client: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/sandbox/clock/", json=body)
    assert response.status_code == 200, response.text
    state: dict[str, Any] = response.json()
    return state


async def test_clock_starts_at_real_time(client: httpx.AsyncClient) -> None:
    response = await client.get("/sandbox/clock/")

    assert response.status_code == 200, response.text
    assert response.json() == {"now": iso(NOW), "offset_seconds": 0.0}


@pytest.mark.parametrize(
    ("advance", "seconds"),
    [
        (3600, 3600),
        (90.5, 90.5),
        ("86400", 86400),
        ("P1D", 86400),
        ("PT6H", 6 * 3600),
        ("P1DT6H30M15S", 86400 + 6 * 3600 + 30 * 60 + 15),
        ("P2W", 14 * 86400),
        ("pt0.5s", 0.5),
        (0, 0),
    ],
)
async def test_clock_advance_formats(
    client: httpx.AsyncClient, advance: Any, seconds: float
) -> None:
    state = await clock_move(client, {"advance": advance})

    assert state["offset_seconds"] == seconds
    assert state["now"] == iso(NOW + timedelta(seconds=seconds))


async def test_clock_advances_add_up(client: httpx.AsyncClient, app: VinculoApp) -> None:
    await clock_move(client, {"advance": "P1D"})
    state = await clock_move(client, {"advance": "PT2H"})

    assert state["offset_seconds"] == 26 * 3600
    assert app.context.clock.now() == NOW + timedelta(hours=26)
    assert (await client.get("/sandbox/clock/")).json() == state


async def test_clock_set(client: httpx.AsyncClient) -> None:
    state = await clock_move(client, {"set": "2026-07-01T00:00:00Z"})

    assert state["now"] == "2026-07-01T00:00:00Z"
    assert state["offset_seconds"] == (datetime(2026, 7, 1, tzinfo=UTC) - NOW).total_seconds()


async def test_clock_set_without_offset_is_utc(client: httpx.AsyncClient) -> None:
    state = await clock_move(client, {"set": "2026-06-20T12:00:00"})

    assert state["now"] == "2026-06-20T12:00:00Z"


async def test_clock_set_to_now_is_accepted(client: httpx.AsyncClient) -> None:
    await clock_move(client, {"advance": "P1D"})
    state = await clock_move(client, {"set": iso(NOW + timedelta(days=1))})

    assert state["offset_seconds"] == 86400


async def test_clock_set_backwards_rejected(client: httpx.AsyncClient) -> None:
    await clock_move(client, {"advance": "P2D"})

    response = await client.post("/sandbox/clock/", json={"set": iso(NOW + timedelta(days=1))})

    item = check_error(response, status=400, code="invalid", field="set")
    assert "only moves forward" in item["message"], item
    assert (await client.get("/sandbox/clock/")).json()["offset_seconds"] == 2 * 86400


@pytest.mark.parametrize(
    "advance", [-1, "-60", "P1M", "P1Y", "P", "PT", "P1DT", "1 day", "", "1e3", True, None]
)
async def test_clock_advance_invalid(client: httpx.AsyncClient, advance: Any) -> None:
    response = await client.post("/sandbox/clock/", json={"advance": advance})

    item = check_error(response, status=400, code=_expected_code(advance), field="advance")
    assert item["message"], item
    assert (await client.get("/sandbox/clock/")).json()["offset_seconds"] == 0


@pytest.mark.parametrize(
    ("advance", "explained"),
    [("P1M", "years or months"), ("P2Y", "years or months"), ("-60", "only moves forward")],
)
async def test_clock_advance_invalid_says_why(
    client: httpx.AsyncClient, advance: str, explained: str
) -> None:
    response = await client.post("/sandbox/clock/", json={"advance": advance})

    item = check_error(response, status=400, code="invalid", field="advance")
    assert explained in item["message"], item


def _expected_code(advance: Any) -> str:
    # Values of the wrong JSON type are rejected while decoding the body, as on /api/.
    if advance is None:
        return "null"
    return "invalid"


async def test_clock_advance_too_far(client: httpx.AsyncClient) -> None:
    response = await client.post("/sandbox/clock/", json={"advance": "P3654D"})

    item = check_error(response, status=400, code="invalid", field="advance")
    assert "3653 days" in item["message"], item


@pytest.mark.parametrize("advance", ["P1000000000D", "PT9999999999999H", "P9999999999W"])
async def test_clock_advance_beyond_timedelta(client: httpx.AsyncClient, advance: str) -> None:
    response = await client.post("/sandbox/clock/", json={"advance": advance})

    item = check_error(response, status=400, code="invalid", field="advance")
    assert "3653 days" in item["message"], item


async def test_clock_set_too_far(client: httpx.AsyncClient) -> None:
    response = await client.post("/sandbox/clock/", json={"set": "2040-01-01T00:00:00Z"})

    check_error(response, status=400, code="invalid", field="set")


async def test_clock_needs_one_field(client: httpx.AsyncClient) -> None:
    neither = await client.post("/sandbox/clock/", json={})
    both = await client.post("/sandbox/clock/", json={"advance": 60, "set": "2026-07-01T00:00:00Z"})

    check_error(neither, status=400, code="required", field="advance")
    check_error(both, status=400, code="invalid", field="set")


async def test_clock_set_not_a_datetime(client: httpx.AsyncClient) -> None:
    response = await client.post("/sandbox/clock/", json={"set": "tomorrow"})

    check_error(response, status=400, code="invalid", field="set")


async def test_clock_delete_returns_to_real_time(
    client: httpx.AsyncClient, app: VinculoApp
) -> None:
    await clock_move(client, {"advance": "P3D"})

    response = await client.delete("/sandbox/clock/")

    assert response.status_code == 200, response.text
    assert response.json() == {"now": iso(NOW), "offset_seconds": 0.0}
    assert app.context.clock.now() == NOW


async def test_clock_can_move_again_after_reset(client: httpx.AsyncClient) -> None:
    await clock_move(client, {"advance": "P3D"})
    await client.delete("/sandbox/clock/")

    state = await clock_move(client, {"advance": "P1D"})

    assert state["offset_seconds"] == 86400


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
async def test_clock_needs_keys(anonymous: httpx.AsyncClient, method: str) -> None:
    response = await anonymous.request(method, "/sandbox/clock/", json={"advance": 60})

    check_error(response, status=401, code="authentication_failed")


async def test_clock_moves_for_every_tenant(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient
) -> None:
    await clock_move(client, {"advance": "PT1H"})

    state = (await other_client.get("/sandbox/clock/")).json()

    assert state["offset_seconds"] == 3600
