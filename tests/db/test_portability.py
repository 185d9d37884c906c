"""Statements whose results could differ between SQLite and PostgreSQL return the same rows."""

from __future__ import annotations

from collections import Counter

import httpx
from sqlalchemy import update

from tests.retrieval.calls import bank_link, list_all, retrieve
from vinculo.app import VinculoApp
from vinculo.clock import Clock
from vinculo.db.models import transactions


async def test_transactions_without_accounting_date_last(
    app: VinculoApp, client: httpx.AsyncClient, clock: Clock
) -> None:
    link = await bank_link(client)
    retrieved = await retrieve(client, "transactions", link["id"], today=clock.now().date())
    day = next(day for day, n in Counter(item["value_date"] for item in retrieved).items() if n > 1)
    query = {"link": link["id"], "value_date": day}
    # The latest booking of the day lists first until its accounting date is gone.
    latest = (await list_all(client, "transactions", query))[0]["id"]
    async with app.context.database.unit_of_work() as uow:
        statement = (
            update(transactions).where(transactions.c.id == latest).values(accounting_date=None)
        )
        await uow.execute(statement)

    listed = await list_all(client, "transactions", query)

    assert len(listed) > 1
    assert listed[-1]["id"] == latest
