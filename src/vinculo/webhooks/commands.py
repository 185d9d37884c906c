"""`vinculo webhooks ...`: manage endpoints, read the delivery log, redeliver events.

These commands act on the whole database, like `vinculo keys`: `--tenant` selects a tenant by
name where a command lists or creates, and ids are global.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine.url import make_url

from vinculo.clock import Clock
from vinculo.config import Settings
from vinculo.db.engine import Database, UnitOfWork
from vinculo.db.migrate import check_schema_current
from vinculo.logging import configure_logging
from vinculo.security.keys import load_master_key, verify_master_key
from vinculo.security.vault import Vault
from vinculo.tenants import repository as tenants
from vinculo.webhooks import service
from vinculo.wire.errors import BelvoError

T = TypeVar("T")
# A webhook id (`webhook-id`, the event id) as the outbox creates it: uuid4 hex.
_WEBHOOK_ID = re.compile(r"[0-9a-f]{32}")
# Width of the console that prints a table to a file or a pipe, far above any table's own
# width, so that every cell is printed whole on its row's line.
_UNBOUNDED_WIDTH = 100_000

webhooks_cli = typer.Typer(
    help="Manage webhook endpoints, read the delivery log and redeliver events."
)
console = Console()
err_console = Console(stderr=True)


def _prepare() -> Settings:
    """Read settings, print the database in use and check that its schema is current.

    `vinculo.cli.main` turns a schema that is not current into exit status 2.
    """
    settings = Settings()
    configure_logging(settings)
    url = make_url(settings.resolved_database_url)
    err_console.print(f"Database: {url.render_as_string(hide_password=True)}", soft_wrap=True)
    check_schema_current(settings.resolved_database_url)
    return settings


def print_table(table: Table, output: Console) -> None:
    """Print `table` on `output` with its id columns whole.

    Id columns are `no_wrap` with `overflow="ignore"`, so a terminal narrower than the table
    wraps the other columns instead. A file or a pipe has no width of its own, and Rich would
    assume 80 columns, so there the table is printed at its natural width.
    """
    if output.is_terminal:
        output.print(table, soft_wrap=True)
        return
    unbounded = Console(file=output.file, width=_UNBOUNDED_WIDTH, color_system=None)
    unbounded.print(table, soft_wrap=True)


def _run(settings: Settings, work: Callable[[UnitOfWork], Awaitable[T]]) -> T:
    """Run `work` in one unit of work; a Belvo error exits with its message and status 1."""

    async def run() -> T:
        database = Database(settings.resolved_database_url)
        try:
            async with database.unit_of_work() as uow:
                return await work(uow)
        finally:
            await database.aclose()

    try:
        return asyncio.run(run())
    except BelvoError as exc:
        field = f" ({exc.field})" if exc.field else ""
        err_console.print(f"[bold red]Failed{field}:[/bold red] {exc.message}", soft_wrap=True)
        raise typer.Exit(code=1) from None


async def _tenant_id(uow: UnitOfWork, name: str) -> str:
    row = await tenants.tenant_by_name(uow, name)
    if row is None:
        err_console.print(
            f"[bold red]No tenant named {name!r}.[/bold red] `vinculo keys list` shows the tenants."
        )
        raise typer.Exit(code=1)
    return str(row.id)


@webhooks_cli.command("create")
def webhooks_create(
    tenant: Annotated[str, typer.Option(help="Name of the tenant whose events it receives.")],
    url: Annotated[str, typer.Option(help="http:// or https:// URL that receives the POSTs.")],
    authorization: Annotated[
        str | None,
        typer.Option(
            help="Value sent verbatim as the Authorization header, such as 'Bearer <token>'."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the endpoint as JSON.")] = False,
) -> None:
    """Create a webhook endpoint and print its signing secret once."""
    settings = _prepare()
    master_key = load_master_key(settings)

    async def create(uow: UnitOfWork) -> service.NewEndpoint:
        await verify_master_key(uow, master_key, Clock().now())
        return await service.create_endpoint(
            uow,
            Vault(master_key),
            await _tenant_id(uow, tenant),
            url=url,
            authorization=authorization,
            allow_private=settings.is_sandbox,
            now=Clock().now(),
        )

    endpoint = _run(settings, create)
    if as_json:
        record = {
            "id": endpoint.id,
            "tenant": tenant,
            "url": endpoint.url,
            "has_authorization": endpoint.has_authorization,
            "secret": endpoint.secret,
        }
        typer.echo(json.dumps(record))
        return
    console.print(f"endpoint id:    {endpoint.id}")
    console.print(f"url:            {endpoint.url}", soft_wrap=True)
    console.print(f"signing secret: {endpoint.secret} (printed once; keep it)", soft_wrap=True)


@webhooks_cli.command("list")
def webhooks_list(
    tenant: Annotated[str | None, typer.Option(help="Only this tenant's endpoints.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
) -> None:
    """List webhook endpoints (secrets are never shown again)."""
    settings = _prepare()

    async def load(uow: UnitOfWork) -> list[dict[str, Any]]:
        tenant_id = await _tenant_id(uow, tenant) if tenant else None
        rows = await service.list_endpoints(uow, tenant_id)
        return [
            {
                "id": row.id,
                "tenant_id": row.tenant_id,
                "url": row.url,
                "has_authorization": bool(row.has_authorization),
                "created_at": row.created_at.isoformat(),
            }
            for row in rows
        ]

    records = _run(settings, load)
    if as_json:
        for record in records:
            typer.echo(json.dumps(record))
        return
    table = Table()
    # The id is what `delete` takes, so it must never be cut to fit.
    table.add_column("endpoint id", no_wrap=True, overflow="ignore")
    for name in ("tenant id", "url", "authorization", "created at"):
        table.add_column(name)
    for record in records:
        table.add_row(
            record["id"],
            record["tenant_id"],
            record["url"],
            "yes" if record["has_authorization"] else "no",
            record["created_at"],
        )
    print_table(table, console)


@webhooks_cli.command("delete")
def webhooks_delete(
    endpoint_id: Annotated[str, typer.Argument(help="Id of the endpoint to delete.")],
) -> None:
    """Delete a webhook endpoint with its pending deliveries and its delivery log."""
    settings = _prepare()
    _run(settings, lambda uow: service.delete_endpoint(uow, None, endpoint_id))
    console.print(f"Deleted {endpoint_id}.")


@webhooks_cli.command("deliveries")
def webhooks_deliveries(
    event: Annotated[str | None, typer.Option(help="Only the attempts of this event.")] = None,
    tenant: Annotated[str | None, typer.Option(help="Only this tenant's attempts.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="Rows to show.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
) -> None:
    """Show the delivery log, newest attempt first."""
    settings = _prepare()

    async def load(uow: UnitOfWork) -> list[dict[str, Any]]:
        tenant_id = await _tenant_id(uow, tenant) if tenant else None
        rows = await service.list_attempts(uow, tenant_id, event_id=event, limit=limit)
        return [
            {
                "event_id": row.event_id,
                "endpoint_id": row.endpoint_id,
                "attempt": row.attempt,
                "status_code": row.status_code,
                "error": row.error,
                "latency_ms": row.latency_ms,
                "attempted_at": row.attempted_at.isoformat(),
            }
            for row in rows
        ]

    records = _run(settings, load)
    if as_json:
        for record in records:
            typer.echo(json.dumps(record))
        return
    table = Table()
    # `redeliver` takes the event id and `delete` the endpoint id, so neither may be cut.
    table.add_column("event id", no_wrap=True, overflow="ignore")
    table.add_column("endpoint id", no_wrap=True, overflow="ignore")
    for name in ("attempt", "status", "latency ms", "at"):
        table.add_column(name)
    for record in records:
        status = str(record["status_code"]) if record["status_code"] is not None else ""
        table.add_row(
            record["event_id"],
            record["endpoint_id"],
            str(record["attempt"]),
            status or str(record["error"]),
            str(record["latency_ms"]),
            record["attempted_at"],
        )
    print_table(table, console)


@webhooks_cli.command("redeliver")
def webhooks_redeliver(
    event_id: Annotated[str, typer.Argument(help="The event's webhook_id.")],
) -> None:
    """Send an event again to each of its endpoints, with the same webhook-id.

    A running server sends it within VINCULO_WEBHOOK_POLL_SECONDS.
    """
    if not _WEBHOOK_ID.fullmatch(event_id):
        err_console.print(
            f"[bold red]Failed:[/bold red] {event_id!r} is not a webhook id, which has 32 "
            "hexadecimal characters; `vinculo webhooks deliveries --json` prints them whole.",
            soft_wrap=True,
        )
        raise typer.Exit(code=1)
    settings = _prepare()
    count = _run(settings, lambda uow: service.redeliver(uow, None, event_id, now=Clock().now()))
    noun = "delivery" if count == 1 else "deliveries"
    console.print(f"Scheduled {count} {noun} of {event_id}.")
