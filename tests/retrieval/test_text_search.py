"""Substring filters on names: every Unicode letter ignores case, and a NUL is rejected."""

from __future__ import annotations

import httpx

from tests.links.calls import error_items
from tests.retrieval.calls import bank_link, count, retrieve
from vinculo.sandbox_data import profile_for

INSTITUTION = "erebor_mx_retail"


def _user_with_accented_capital() -> tuple[str, str]:
    """Return a username whose owner's name has a capital letter outside ASCII, and that
    letter's word."""
    for number in range(500):
        username = f"accent_{number}"
        name = profile_for(INSTITUTION, username).owners[0].display_name
        for word in name.split():
            if not word[0].isascii() and word[0].isupper():
                return username, word
    raise AssertionError("no sandbox owner with an accented capital in 500 usernames")


async def test_icontains_folds_accented_capitals(client: httpx.AsyncClient) -> None:
    username, word = _user_with_accented_capital()
    link = await bank_link(client, username, institution=INSTITUTION)
    await retrieve(client, "owners", link["id"])
    query = {"link": link["id"]}

    exact_case = await count(client, "owners", {**query, "display_name__icontains": word})
    lower_case = await count(client, "owners", {**query, "display_name__icontains": word.lower()})
    upper_case = await count(client, "owners", {**query, "display_name__icontains": word.upper()})

    assert exact_case == 1
    assert lower_case == 1
    assert upper_case == 1


async def test_icontains_rejects_nul(client: httpx.AsyncClient) -> None:
    for resource, parameter in (
        ("accounts", "name__icontains"),
        ("owners", "display_name__icontains"),
    ):
        response = await client.get(f"/api/{resource}/", params={parameter: "\x00zzz"})

        [item] = error_items(response, 400)
        assert item["code"] == "invalid"
        assert item["message"] == "Null characters are not allowed."
        assert item["field"] == parameter
