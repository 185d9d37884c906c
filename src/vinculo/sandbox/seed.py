"""Fill a sandbox database with links and their data: `vinculo sandbox seed`.

Every link is registered and its data retrieved through the same service functions as
`POST /api/links/` and `POST /api/{accounts,transactions,balances,owners}/`, so the rows are
exactly what the API stores. Link number `n` is the user `seed_0000n` on the `n`-th bank of
the plan, taken in turn, so each link gets its own deterministic data and a second run finds
the same users again.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import msgspec
from litestar.datastructures import MultiDict
from sqlalchemy import text

from vinculo.connectors.base import Resource
from vinculo.context import AppContext
from vinculo.institutions.catalogue import SANDBOX_INSTITUTIONS, find_by_name
from vinculo.institutions.schemas import Institution
from vinculo.links import repository as links_repository
from vinculo.links.registration import register
from vinculo.links.schemas import LinkRegisterRequest
from vinculo.owners import service as owners_service
from vinculo.retrieval.service import MAX_RANGE_DAYS, RetrievalInput, retrieve
from vinculo.sandbox_data.dates import add_months
from vinculo.tenants import service as tenants
from vinculo.tenants.service import Principal
from vinculo.wire.errors import BelvoError, Duplicated
from vinculo.wire.query import PageRequest

USERNAME_PREFIX = "seed_"
DEFAULT_MONTHS = 12
# Login form values that every sandbox bank accepts, by field name. The username is the
# seed's own, and `username_type` takes the first code of the form's choices.
FORM_VALUES = {"password": "seed-password", "username2": "0001", "password2": "1234"}
# The `created_by` of seeded links: a principal id that depends only on the tenant, so every
# seed run of one tenant writes the same value.
SEED_PRINCIPAL_NAMESPACE = uuid.UUID("6f1d3c1e-8a4b-4c55-9f55-3f0c2f7d9a10")
# Links in flight per data-generating process: while one link's data is being stored, the
# process generates another's.
LINKS_PER_WORKER = 4
# The generator caches the simulated history of its last 8 users
# (`vinculo.sandbox_data.simulation`). With no more links in flight than that, no user's
# history is simulated twice, whichever worker the user lands on.
MAX_LINKS_IN_FLIGHT = 8
# SQLite checkpoints the WAL into the database file every 1,000 pages (4 MB) by default, and
# a link seeded with 36 months stores about 3.8 MB. Checkpointing every 20,000 pages took a
# 200-link seed from 50 s to 42 s (two runs each, 2 vCPUs). `vinculo.db.sqlite` keeps
# SQLite's default, which the seed puts back when it ends.
SEED_WAL_AUTOCHECKPOINT_PAGES = 20_000
DEFAULT_WAL_AUTOCHECKPOINT_PAGES = 1_000


class SeedError(Exception):
    """A seed that cannot run (an unknown institution, a bank-less plan) or that failed."""


def bank_institutions() -> tuple[Institution, ...]:
    """Return the catalogue's banks, the institutions that have accounts and transactions."""
    return tuple(institution for institution in SANDBOX_INSTITUTIONS if institution.type == "bank")


def find_banks(names: Sequence[str]) -> tuple[Institution, ...]:
    """Return the named banks of the catalogue, raising SeedError for any other name."""
    banks: list[Institution] = []
    for name in names:
        institution = find_by_name(name)
        if institution is None:
            raise SeedError(f"Unknown institution {name!r}: see `GET /api/institutions/`.")
        if institution.type != "bank":
            raise SeedError(
                f"Institution {name!r} is of type {institution.type!r}; only banks have "
                "accounts and transactions to seed."
            )
        banks.append(institution)
    return tuple(banks)


@dataclass(frozen=True, slots=True)
class SeedPlan:
    """A seed run's plan: `links` users spread over `institutions`, with `months` of history."""

    tenant: str
    links: int
    institutions: tuple[Institution, ...]
    months: int = DEFAULT_MONTHS

    def __post_init__(self) -> None:
        if self.links < 1:
            raise SeedError(f"The number of links must be at least 1, got {self.links}.")
        if self.months < 1:
            raise SeedError(f"The number of months must be at least 1, got {self.months}.")
        if not self.institutions:
            raise SeedError("The plan names no institution.")

    def username(self, number: int) -> str:
        return f"{USERNAME_PREFIX}{number:05d}"

    def institution(self, number: int) -> Institution:
        return self.institutions[(number - 1) % len(self.institutions)]


@dataclass(frozen=True, slots=True)
class LinkSeeded:
    """The counts that seeding one link stored. A link that a previous run completed stores
    nothing and is marked `skipped`."""

    username: str
    created: bool
    skipped: bool
    accounts: int = 0
    transactions: int = 0
    balances: int = 0
    owners: int = 0


@dataclass(slots=True)
class SeedTotals:
    """The sums over a seed run's links."""

    created: int = 0
    reused: int = 0
    skipped: int = 0
    accounts: int = 0
    transactions: int = 0
    balances: int = 0
    owners: int = 0

    @property
    def links(self) -> int:
        return self.created + self.reused + self.skipped

    def add(self, link: LinkSeeded) -> None:
        if link.skipped:
            self.skipped += 1
        elif link.created:
            self.created += 1
        else:
            self.reused += 1
        self.accounts += link.accounts
        self.transactions += link.transactions
        self.balances += link.balances
        self.owners += link.owners


def concurrency_for(workers: int) -> int:
    """Return how many links to seed at a time with `workers` data-generating processes."""
    return max(1, min(LINKS_PER_WORKER * workers, MAX_LINKS_IN_FLIGHT))


def date_ranges(first: date, last: date) -> list[tuple[date, date]]:
    """Split `first`..`last` (both included) into the longest ranges that one retrieval
    accepts, newest first."""
    ranges = []
    end = last
    while end >= first:
        start = max(first, end - timedelta(days=MAX_RANGE_DAYS))
        ranges.append((start, end))
        end = start - timedelta(days=1)
    return ranges


def registration_body(institution: Institution, username: str) -> LinkRegisterRequest:
    """Build the `POST /api/links/` body that logs `username` in to a sandbox bank."""
    values = {"institution": institution.name, "username": username}
    for form_field in institution.form_fields:
        if form_field.name in FORM_VALUES:
            values[form_field.name] = FORM_VALUES[form_field.name]
        elif form_field.name == "username_type" and not form_field.optional:
            assert form_field.values, "a required select field lists its choices"
            values["username_type"] = form_field.values[0].code
    # Converted, not constructed, so the body passes the same checks as a request's JSON.
    return msgspec.convert(values, LinkRegisterRequest)


async def seed_principal(context: AppContext, tenant_name: str) -> Principal:
    """Create tenant `tenant_name` if needed; return the principal that seeded links name."""
    async with context.database.unit_of_work() as uow:
        tenant_id = await tenants.ensure_tenant(uow, tenant_name, context.clock)
    principal_id = str(uuid.uuid5(SEED_PRINCIPAL_NAMESPACE, tenant_id))
    return Principal(tenant_id=tenant_id, principal_id=principal_id, secret_id="")


async def seed_link(
    context: AppContext, principal: Principal, plan: SeedPlan, number: int
) -> LinkSeeded:
    """Register link `number` of the plan and retrieve its accounts, transactions, balances
    and owners, storing them.

    When the user already has a link, the link is reused: it is skipped if it has owners,
    which are retrieved last, and otherwise retrieved again, which updates what it stored.
    """
    username = plan.username(number)
    institution = plan.institution(number)
    created = True
    try:
        link_id = (await register(context, principal, registration_body(institution, username))).id
    except Duplicated as exc:
        created = False
        link_id = await _existing_link(context, principal, exc)
        if await _has_owners(context, principal, link_id):
            return LinkSeeded(username, created=False, skipped=True)

    today = context.clock.now().date()
    link = uuid.UUID(link_id)
    accounts = await _retrieve(context, principal, Resource.ACCOUNTS, link)
    transactions = balances = 0
    for date_from, date_to in date_ranges(add_months(today, -plan.months), today):
        transactions += await _retrieve(
            context, principal, Resource.TRANSACTIONS, link, date_from, date_to
        )
        balances += await _retrieve(context, principal, Resource.BALANCES, link, date_from, date_to)
    owners = await _retrieve(context, principal, Resource.OWNERS, link)
    return LinkSeeded(
        username,
        created=created,
        skipped=False,
        accounts=accounts,
        transactions=transactions,
        balances=balances,
        owners=owners,
    )


async def _retrieve(
    context: AppContext,
    principal: Principal,
    resource: Resource,
    link: uuid.UUID,
    date_from: date | None = None,
    date_to: date | None = None,
) -> int:
    body = RetrievalInput(
        link=link,
        token=None,
        save=True,
        encryption_key=None,
        date_from=date_from,
        date_to=date_to,
    )
    return len((await retrieve(context, principal, resource, body)).items)


async def _existing_link(context: AppContext, principal: Principal, error: Duplicated) -> str:
    user_id = error.extra["institution_user_id"]
    async with context.database.unit_of_work() as uow:
        row = await links_repository.get_link_by_user(uow, principal.tenant_id, user_id)
    if row is None:
        # Deleted between the registration and this read: a second run will register it.
        raise error
    return str(row.id)


async def _has_owners(context: AppContext, principal: Principal, link_id: str) -> bool:
    async with context.database.unit_of_work() as uow:
        count, _ = await owners_service.list_owners(
            uow, principal, MultiDict({"link": link_id}), PageRequest(number=1, size=1)
        )
    return count > 0


async def seed(
    context: AppContext,
    plan: SeedPlan,
    *,
    concurrency: int = 1,
    on_link: Callable[[LinkSeeded], None] | None = None,
) -> SeedTotals:
    """Seed every link of `plan`, `concurrency` links at a time; call `on_link` after each.

    Links run concurrently only to overlap the connector's work with storage: the database
    takes one writer at a time. The first failure stops the run. Links finished before it
    stay stored, and a second run skips them.
    """
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, got {concurrency}")
    principal = await seed_principal(context, plan.tenant)
    async with _fewer_checkpoints(context):
        return await _seed_links(context, plan, principal, concurrency, on_link)


async def _seed_links(
    context: AppContext,
    plan: SeedPlan,
    principal: Principal,
    concurrency: int,
    on_link: Callable[[LinkSeeded], None] | None,
) -> SeedTotals:
    totals = SeedTotals()
    numbers: Iterator[int] = iter(range(1, plan.links + 1))

    async def run_links() -> None:
        # Each runner takes the next link number when it is free, so a slow link holds up
        # only its own runner.
        for number in numbers:
            try:
                seeded = await seed_link(context, principal, plan, number)
            except BelvoError as exc:
                raise SeedError(
                    f"Seeding user {plan.username(number)} on {plan.institution(number).name} "
                    f"failed with {exc.code}: {exc.message}"
                ) from exc
            totals.add(seeded)
            if on_link is not None:
                on_link(seeded)

    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(min(concurrency, plan.links)):
                group.create_task(run_links())
    except BaseExceptionGroup as group:
        # The task group wraps the first failure, and stops the other runners.
        failures = [error for error in group.exceptions if isinstance(error, SeedError)]
        if len(failures) == len(group.exceptions):
            raise failures[0] from failures[0].__cause__
        raise
    return totals


@contextlib.asynccontextmanager
async def _fewer_checkpoints(context: AppContext) -> AsyncIterator[None]:
    """Checkpoint a SQLite database's WAL less often while the block runs."""
    if context.database.kind != "sqlite":
        yield
        return
    await _set_wal_autocheckpoint(context, SEED_WAL_AUTOCHECKPOINT_PAGES)
    try:
        yield
    finally:
        await _set_wal_autocheckpoint(context, DEFAULT_WAL_AUTOCHECKPOINT_PAGES)


async def _set_wal_autocheckpoint(context: AppContext, pages: int) -> None:
    # The setting belongs to a connection, and only a unit of work that writes runs on the
    # connection whose commits trigger checkpoints.
    async with context.database.unit_of_work() as uow:
        await uow.execute(text(f"PRAGMA wal_autocheckpoint = {int(pages)}"))
