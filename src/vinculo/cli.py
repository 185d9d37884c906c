"""The `vinculo` command: serve, migrate, manage API keys, and seed a sandbox database."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import gc
import json
import os
import shlex
import sqlite3
import sys
import time
from typing import Annotated, Any

import pydantic
import sqlalchemy.exc
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from sqlalchemy.engine.url import make_url

from vinculo.clock import Clock
from vinculo.config import Settings
from vinculo.connectors.sandbox import SandboxConnector
from vinculo.db.engine import Database, DatabaseUnavailable, database_kind
from vinculo.db.migrate import (
    SchemaNotCurrent,
    check_schema_current,
    current_revisions,
    upgrade,
)
from vinculo.logging import configure_logging
from vinculo.sandbox.seed import (
    DEFAULT_MONTHS,
    LinkSeeded,
    SeedError,
    SeedPlan,
    SeedTotals,
    bank_institutions,
    concurrency_for,
    find_banks,
    seed,
)
from vinculo.sandbox.workers import WorkerPoolConnector
from vinculo.security.keys import (
    KeyConfigurationError,
    MasterKeyMismatch,
    load_master_key,
    pepper_from,
    verify_master_key,
)
from vinculo.tenants import repository as tenants_repository
from vinculo.tenants import service as tenants
from vinculo.webhooks.commands import print_table, webhooks_cli

# SQLSTATEs of failed PostgreSQL connections that get their own hint. 3D000 means that the
# database named in the URL does not exist, and 53300 that the server has no free connection.
_INVALID_CATALOG_NAME = "3D000"
_TOO_MANY_CONNECTIONS = "53300"

cli = typer.Typer(
    help="Vínculo: a self-hosted server that speaks the Belvo aggregation API.",
    pretty_exceptions_show_locals=False,
)
keys_cli = typer.Typer(help="Create, list and revoke API secret keys.")
cli.add_typer(keys_cli, name="keys")
sandbox_cli = typer.Typer(help="Sandbox tools: fill the database with generated links and data.")
cli.add_typer(sandbox_cli, name="sandbox")
cli.add_typer(webhooks_cli, name="webhooks")
console = Console()
err_console = Console(stderr=True)


def _settings() -> Settings:
    settings = Settings()
    configure_logging(settings)
    return settings


def _announce_database(settings: Settings) -> None:
    """Print which database a command works on, since it depends on the current folder."""
    url = make_url(settings.resolved_database_url)
    # soft_wrap: a path cut at the terminal width could not be copied.
    err_console.print(f"Database: {url.render_as_string(hide_password=True)}", soft_wrap=True)


@cli.command()
def migrate() -> None:
    """Apply database migrations to the configured database."""
    settings = _settings()
    _announce_database(settings)
    url = settings.resolved_database_url
    before = current_revisions(url)
    upgrade(url)
    after = ", ".join(sorted(current_revisions(url)))
    if before and ", ".join(sorted(before)) == after:
        console.print(f"Database is already at the latest revision ({after}).")
    else:
        console.print(
            f"Migrated the database from {', '.join(sorted(before)) or 'empty'} to {after}."
        )


async def _ensure_sandbox_key(settings: Settings) -> tenants.NewApiKey | None:
    """Check the master key; on an empty database in sandbox mode, create the sandbox key."""
    database = Database(settings.resolved_database_url)
    try:
        master_key = load_master_key(settings)
        pepper = pepper_from(settings, master_key)
        async with database.unit_of_work() as uow:
            await verify_master_key(uow, master_key, Clock().now())
            if not settings.is_sandbox or await tenants.has_any_tenant(uow):
                return None
            password = settings.sandbox_secret_password
            return await tenants.create_api_key(
                uow,
                pepper=pepper,
                clock=Clock(),
                tenant_name=tenants.SANDBOX_TENANT,
                label="created on first start",
                secret_id=settings.sandbox_secret_id,
                secret_password=password.get_secret_value() if password else None,
            )
    finally:
        await database.aclose()


def _print_sandbox_key(key: tenants.NewApiKey, base_url: str) -> None:
    console.print("[bold]Sandbox API key[/bold] (printed once; keep it):")
    console.print(f"  secret id:       {key.secret_id}")
    console.print(f"  secret password: {key.secret_password}")
    console.print(
        f"  Python SDK:      Client({key.secret_id!r}, '<password>', '{base_url}')",
        soft_wrap=True,
    )


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port to listen on.")] = None,
) -> None:
    """Migrate the database, then serve the API (SQLite and sandbox institutions by default)."""
    import uvicorn

    from vinculo.app import create_app

    settings = _settings()
    _announce_database(settings)
    upgrade(settings.resolved_database_url)
    new_key = asyncio.run(_ensure_sandbox_key(settings))
    bind_host = host or settings.host
    bind_port = settings.port if port is None else port
    if new_key is not None:
        _print_sandbox_key(new_key, f"http://{bind_host}:{bind_port}")
    app = create_app(settings)
    # Objects alive after start-up live until shutdown; keeping them out of the collector's
    # generations makes each full collection, and so the latency tail, shorter.
    gc.freeze()
    uvicorn.run(
        app,
        host=bind_host,
        port=bind_port,
        access_log=False,
        log_config=None,
        server_header=False,
    )


@cli.command()
def worker(
    concurrency: Annotated[
        int | None,
        typer.Option(help="Jobs run at the same time; defaults to VINCULO_WORKER_CONCURRENCY."),
    ] = None,
) -> None:
    """Run background jobs from PostgreSQL: refreshes, scheduler, webhook delivery, retention."""
    from vinculo.jobs.worker import WorkerNeedsPostgres, run_worker_until_stopped

    settings = _settings()
    if concurrency is not None:
        settings = Settings(worker_concurrency=concurrency)
    _announce_database(settings)
    if database_kind(settings.resolved_database_url) != "postgresql":
        err_console.print(
            "vinculo worker needs PostgreSQL (VINCULO_DATABASE_URL=postgresql://...). "
            "On SQLite, vinculo serve runs the jobs itself.",
            soft_wrap=True,
        )
        raise typer.Exit(2)
    upgrade(settings.resolved_database_url)
    try:
        run_worker_until_stopped(settings)
    except WorkerNeedsPostgres as exc:
        err_console.print(str(exc), soft_wrap=True)
        raise typer.Exit(2) from None


@keys_cli.command("create")
def keys_create(
    tenant: Annotated[str, typer.Option(help="Tenant that owns the key; created if new.")] = (
        tenants.SANDBOX_TENANT
    ),
    label: Annotated[str | None, typer.Option(help="A note to tell keys apart.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the key as JSON.")] = False,
) -> None:
    """Create a secret key and print its id and password once."""
    settings = _settings()
    _announce_database(settings)
    check_schema_current(settings.resolved_database_url)

    async def create() -> tenants.NewApiKey:
        database = Database(settings.resolved_database_url)
        try:
            master_key = load_master_key(settings)
            pepper = pepper_from(settings, master_key)
            async with database.unit_of_work() as uow:
                await verify_master_key(uow, master_key, Clock().now())
            async with database.unit_of_work() as uow:
                return await tenants.create_api_key(
                    uow, pepper=pepper, clock=Clock(), tenant_name=tenant, label=label
                )
        finally:
            await database.aclose()

    key = asyncio.run(create())
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "tenant": key.tenant_name,
                    "tenant_id": key.tenant_id,
                    "secret_id": key.secret_id,
                    "secret_password": key.secret_password,
                }
            )
        )
        return
    console.print(f"tenant:          {key.tenant_name}")
    console.print(f"secret id:       {key.secret_id}")
    console.print(f"secret password: {key.secret_password}")


@keys_cli.command("list")
def keys_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print the keys as JSON lines.")] = False,
) -> None:
    """List secret keys (ids only; passwords are never stored)."""
    settings = _settings()
    _announce_database(settings)
    check_schema_current(settings.resolved_database_url)

    async def load() -> list[tuple[str, str, str, str, str]]:
        database = Database(settings.resolved_database_url)
        try:
            async with database.unit_of_work() as uow:
                rows = await tenants.list_api_keys(uow)
        finally:
            await database.aclose()
        return [
            (
                row.secret_id,
                row.tenant_name,
                row.label or "",
                row.created_at.isoformat(),
                "revoked" if row.revoked_at else "active",
            )
            for row in rows
        ]

    rows = asyncio.run(load())
    if as_json:
        for secret_id, tenant, label, created_at, state in rows:
            record = {
                "secret_id": secret_id,
                "tenant": tenant,
                "label": label,
                "created_at": created_at,
                "state": state,
            }
            typer.echo(json.dumps(record))
        return
    table = Table()
    # The id is what `keys revoke` takes, so it must never be cut to fit the terminal.
    table.add_column("secret id", no_wrap=True, overflow="ignore")
    for name in ("tenant", "label", "created at", "state"):
        table.add_column(name)
    for row in rows:
        table.add_row(*row)
    print_table(table, console)


@keys_cli.command("revoke")
def keys_revoke(secret_id: Annotated[str, typer.Argument(help="Secret key id to revoke.")]) -> None:
    """Revoke a secret key; requests with it fail within VINCULO_API_KEY_CACHE_SECONDS."""
    settings = _settings()
    _announce_database(settings)
    check_schema_current(settings.resolved_database_url)

    async def revoke() -> tuple[bool, Any]:
        database = Database(settings.resolved_database_url)
        try:
            async with database.unit_of_work() as uow:
                if await tenants.revoke_api_key(uow, secret_id, Clock()):
                    return True, None
                return False, await tenants_repository.api_key_by_id(uow, secret_id)
        finally:
            await database.aclose()

    revoked, existing = asyncio.run(revoke())
    if not revoked:
        if existing is None:
            console.print(f"No key with id {secret_id}; `vinculo keys list` shows the ids.")
        else:
            console.print(f"Key {secret_id} is already revoked.")
        raise typer.Exit(code=1)
    console.print(f"Revoked {secret_id}.")


@sandbox_cli.command("seed")
def sandbox_seed(
    links: Annotated[int, typer.Option(min=1, help="Number of links to register and fill.")],
    tenant: Annotated[str, typer.Option(help="Tenant that owns the links; created if new.")] = (
        tenants.SANDBOX_TENANT
    ),
    institution: Annotated[
        list[str] | None,
        typer.Option(
            help="A sandbox bank to register links on; repeat it for several. "
            "Default: every bank of the catalogue. Links take the banks in turn."
        ),
    ] = None,
    months: Annotated[
        int,
        typer.Option(
            min=1, help="Months of transactions and daily balances to retrieve, up to today."
        ),
    ] = DEFAULT_MONTHS,
    workers: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="Processes that generate the sandbox data; 0 generates it in this process. "
            "Default: one per CPU.",
        ),
    ] = None,
) -> None:
    """Register sandbox links and store their accounts, transactions, balances and owners.

    Link n logs in as user seed_0000n, so each link has its own deterministic data and a second
    run finds the same users: links it completed are skipped, and the others retrieved again.
    """
    settings = Settings()
    if "log_level" not in settings.model_fields_set:
        # One INFO line per retrieval would bury the progress bar; VINCULO_LOG_LEVEL wins.
        settings = settings.model_copy(update={"log_level": "WARNING"})
    configure_logging(settings)
    if not settings.is_sandbox:
        err_console.print(
            "[bold red]Cannot seed:[/bold red] `vinculo sandbox seed` runs only in sandbox mode, "
            f"and VINCULO_MODE is {settings.mode!r}."
        )
        raise typer.Exit(code=2)
    try:
        plan = SeedPlan(
            tenant=tenant,
            links=links,
            institutions=find_banks(institution) if institution else bank_institutions(),
            months=months,
        )
    except SeedError as exc:
        err_console.print(f"[bold red]Cannot seed:[/bold red] {exc}")
        raise typer.Exit(code=2) from None
    _announce_database(settings)
    # Unlike the `keys` and `webhooks` commands, the seed migrates, because it fills a new
    # database for a demo or a benchmark in one step, as `serve` would start it.
    upgrade(settings.resolved_database_url)
    # On an empty database, create the key that `serve` would print on its first start,
    # because `serve` creates none once the seed has created a tenant.
    new_key = asyncio.run(_ensure_sandbox_key(settings))
    if new_key is not None:
        _print_sandbox_key(new_key, f"http://{settings.host}:{settings.port}")
    worker_count = (os.cpu_count() or 1) if workers is None else workers

    started = time.perf_counter()
    try:
        totals = asyncio.run(_run_seed(settings, plan, workers=worker_count))
    except SeedError as exc:
        err_console.print(f"[bold red]Seeding stopped:[/bold red] {exc}")
        raise typer.Exit(code=1) from None
    elapsed = time.perf_counter() - started
    console.print(
        f"Seeded {totals.links:,} links for tenant {plan.tenant!r} ({totals.created:,} new, "
        f"{totals.reused:,} retrieved again, {totals.skipped:,} skipped as complete): "
        f"{totals.accounts:,} accounts, {totals.transactions:,} transactions, "
        f"{totals.balances:,} balances, {totals.owners:,} owners in {elapsed:.1f} s "
        f"({totals.links / elapsed:,.1f} links/s, {totals.transactions / elapsed:,.0f} "
        "transactions/s).",
        soft_wrap=True,
    )


async def _run_seed(settings: Settings, plan: SeedPlan, *, workers: int) -> SeedTotals:
    from vinculo.app import build_context

    context = build_context(settings)
    async with context.database.unit_of_work() as uow:
        await verify_master_key(uow, load_master_key(settings), context.clock.now())
    pool: WorkerPoolConnector | None = None
    concurrency = 1
    if workers > 0:
        factory = functools.partial(
            SandboxConnector, slow_login_seconds=settings.sandbox_slow_login_seconds
        )
        pool = WorkerPoolConnector(factory, workers=workers)
        context = dataclasses.replace(context, connector=pool)
        concurrency = concurrency_for(workers)
    columns = (
        TextColumn("Seeding links"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[transactions]:,} transactions"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    try:
        with Progress(*columns, console=err_console) as progress:
            task = progress.add_task("seed", total=plan.links, transactions=0)
            transactions = 0

            def advance(seeded: LinkSeeded) -> None:
                nonlocal transactions
                transactions += seeded.transactions
                progress.update(task, advance=1, transactions=transactions)

            return await seed(context, plan, concurrency=concurrency, on_link=advance)
    finally:
        if pool is not None:
            pool.close()
        await context.database.aclose()


def main() -> None:
    """Run the CLI; configuration and storage failures print one clear line, not a traceback."""
    try:
        cli()
    except pydantic.ValidationError as exc:
        for error in exc.errors():
            name = "VINCULO_" + "_".join(str(part) for part in error["loc"]).upper()
            # The value is not printed: it may be a key or a password.
            err_console.print(
                f"[bold red]Invalid setting {name}:[/bold red] {error['msg']}.", soft_wrap=True
            )
        sys.exit(2)
    except KeyConfigurationError as exc:
        err_console.print(f"[bold red]Invalid master key:[/bold red] {exc}")
        sys.exit(2)
    except MasterKeyMismatch as exc:
        err_console.print(f"[bold red]Wrong master key:[/bold red] {exc}")
        sys.exit(2)
    except (sqlite3.OperationalError, sqlalchemy.exc.OperationalError) as exc:
        err_console.print(
            f"[bold red]Cannot use the database:[/bold red] {exc}. Check that the data folder "
            "exists and is writable, or set VINCULO_DATA_DIR / VINCULO_DATABASE_URL."
        )
        sys.exit(2)
    except DatabaseUnavailable as exc:
        err_console.print(
            f"[bold red]Cannot use the database:[/bold red] {escape(str(exc))}. "
            f"{_postgres_hint(exc)}",
            soft_wrap=True,
        )
        sys.exit(2)
    except SchemaNotCurrent as exc:
        err_console.print(f"[bold red]{escape(str(exc))}[/bold red]", soft_wrap=True)
        sys.exit(2)


def _postgres_hint(exc: DatabaseUnavailable) -> str:
    """Return what to do about a failed PostgreSQL connection, from the driver's SQLSTATE."""
    sqlstate = _sqlstate(exc)
    if sqlstate == _INVALID_CATALOG_NAME:
        return f"Create it first, for example with `{_createdb_command()}`."
    if sqlstate == _TOO_MANY_CONNECTIONS:
        return (
            "The server has no free connection, so raise its max_connections or lower "
            "VINCULO_DATABASE_POOL_SIZE (docs/refreshes.md counts what each process opens)."
        )
    return (
        "Check that the PostgreSQL server in VINCULO_DATABASE_URL is running and accepts "
        "connections."
    )


def _sqlstate(exc: BaseException) -> str | None:
    """Return the SQLSTATE of the driver error behind `exc`, or None if there is none.

    `DatabaseUnavailable` chains SQLAlchemy's error, whose `orig` wraps asyncpg's own error.
    """
    pending: list[BaseException] = [exc]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        sqlstate = getattr(current, "sqlstate", None)
        if isinstance(sqlstate, str):
            return sqlstate
        linked = (current.__cause__, current.__context__, getattr(current, "orig", None))
        pending += [error for error in linked if isinstance(error, BaseException)]
    return None


def _createdb_command() -> str:
    """Return the `createdb` command that creates the database of VINCULO_DATABASE_URL."""
    url = make_url(Settings().resolved_database_url)
    command = ["createdb"]
    if url.host:
        command += ["-h", url.host]
    if url.port:
        command += ["-p", str(url.port)]
    if url.username:
        command += ["-U", url.username]
    command.append(url.database or "NAME")
    return shlex.join(command)
