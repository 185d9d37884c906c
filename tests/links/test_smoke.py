"""A first pass over the links API through the in-process app."""

from __future__ import annotations

import httpx

from tests.support.server import LiveServer


async def test_register_and_get(client: httpx.AsyncClient) -> None:
    body = {"institution": "erebor_mx_retail", "username": "user_valid", "password": "pass_valid"}
    created = await client.post("/api/links/", json=body)
    assert created.status_code == 201, created.text
    link_id = created.json()["id"]

    fetched = await client.get(f"/api/links/{link_id}")
    assert fetched.status_code == 200
    assert fetched.json()["status"] == "valid"


def test_live_server_root(live_server: LiveServer) -> None:
    response = httpx.get(
        f"{live_server.url}/api/", auth=(live_server.secret_id, live_server.secret_password)
    )
    assert response.status_code == 200
