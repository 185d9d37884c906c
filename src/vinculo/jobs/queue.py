"""The job queue that services send work to once their unit of work commits.

On PostgreSQL the queue is Procrastinate's tables, shared by every API and worker process. On
SQLite it is Procrastinate's in-memory queue of the one `vinculo serve` process, which also runs
the jobs. Either way the task functions are the same, and a job only names the link to
look at: what to do is read from the link's row when the job runs (see
`vinculo.refreshes.service`), so a job lost or run twice does no harm.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Coroutine, Sequence
from typing import TYPE_CHECKING, Any

import procrastinate
import psycopg
import psycopg_pool
import structlog
from procrastinate import exceptions as procrastinate_exceptions
from procrastinate.testing import InMemoryConnector
from sqlalchemy.engine.url import make_url

from vinculo.db.engine import DatabaseUnavailable, UnitOfWork, database_kind
from vinculo.wire.errors import TooManySessions

if TYPE_CHECKING:
    from vinculo.context import AppContext

logger = structlog.get_logger(__name__)

REFRESH_TASK = "vinculo.refresh_link"
# NOTE: chosen, not measured: retries of an async request that failed because the database
# was out of reach or a login ran on its link, 2, 4, 8... seconds apart, about 17 minutes in all.
REQUEST_RETRIES = procrastinate.RetryStrategy(
    max_attempts=10, exponential_wait=2, retry_exceptions={DatabaseUnavailable, TooManySessions}
)
# Refresh jobs queued per query by the scheduler.
DEFER_BATCH = 100
# Connections in one process's Procrastinate pool. A worker opens one more for LISTEN.
POOL_MIN_SIZE = 1
POOL_MAX_SIZE = 10
# Procrastinate has its pool check each connection with an empty query before handing it out,
# so that one that PostgreSQL closed is replaced. That is one more round trip for each of the
# three queries of a job (defer, fetch, finish). A connection checked this recently is handed
# out unchecked; if it died since, the query fails and the job is retried (see
# `vinculo.jobs.runner`).
RECHECK_AFTER_SECONDS = 2.0
_last_checked: weakref.WeakKeyDictionary[psycopg.AsyncConnection[Any], float] = (
    weakref.WeakKeyDictionary()
)


async def _check_unless_recent(connection: psycopg.AsyncConnection[Any]) -> None:
    now = time.monotonic()
    if now - _last_checked.get(connection, -RECHECK_AFTER_SECONDS) < RECHECK_AFTER_SECONDS:
        return
    await psycopg_pool.AsyncConnectionPool.check_connection(connection)
    _last_checked[connection] = now


def _pool_with_fewer_checks(**arguments: Any) -> psycopg_pool.AsyncConnectionPool:
    return psycopg_pool.AsyncConnectionPool(**{**arguments, "check": _check_unless_recent})


def libpq_conninfo(url: str) -> str:
    """Turn a SQLAlchemy PostgreSQL URL into the libpq URL that psycopg takes."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class JobQueue:
    """Sends jobs to Procrastinate. Nothing is sent until `open` is awaited, so code that never
    starts the queue (tests that call services directly, one-off commands) only loses the
    shortcut: the scheduler of a running server or worker finds the due links anyway."""

    def __init__(self, database_url: str) -> None:
        self.kind = database_kind(database_url)
        connector: procrastinate.BaseConnector
        if self.kind == "postgresql":
            connector = procrastinate.PsycopgConnector(
                conninfo=libpq_conninfo(database_url),
                min_size=POOL_MIN_SIZE,
                max_size=POOL_MAX_SIZE,
                pool_factory=_pool_with_fewer_checks,
                kwargs={"application_name": "vinculo-jobs"},
            )
        else:
            connector = InMemoryConnector()
        self.app = procrastinate.App(connector=connector)
        self.is_open = False
        self._refresh: Any = None
        self._tasks: dict[str, Any] = {}
        self._spawned: set[asyncio.Task[Any]] = set()

    def bind(self, context: AppContext) -> None:
        """Register the task functions, which run with `context`."""
        from vinculo.refreshes.service import refresh_link

        # No retry: a refresh that fails leaves its link due, so the scheduler queues it
        # again. A Procrastinate retry would also collide with that queued job on the
        # queueing lock and leave this one holding the link's job lock.
        @self.app.task(name=REFRESH_TASK, pass_context=True)
        async def refresh(
            job_context: procrastinate.JobContext, tenant_id: str, link_id: str
        ) -> None:
            # Only PostgreSQL's job ids are unique across processes and restarts; the
            # in-memory queue numbers its jobs from 1 in each process.
            job_id = job_context.job.id if self.kind == "postgresql" else None
            try:
                await refresh_link(context, tenant_id, link_id, job_id=job_id)
            except DatabaseUnavailable as exc:
                logger.warning("refresh.database_unavailable", link_id=link_id, error=str(exc))

        self._refresh = refresh
        from vinculo.jobs import async_requests

        retrieve_name = async_requests.RETRIEVE_TASK
        delete_name = async_requests.DELETE_LINK_TASK

        @self.app.task(name=retrieve_name, pass_context=False, retry=REQUEST_RETRIES)
        async def retrieve(**arguments: Any) -> None:
            await async_requests.run_retrieval(context, **arguments)

        @self.app.task(name=delete_name, pass_context=False, retry=REQUEST_RETRIES)
        async def delete_link(**arguments: Any) -> None:
            await async_requests.run_link_deletion(context, **arguments)

        self._tasks = {retrieve_name: retrieve, delete_name: delete_link}

    async def open(self) -> None:
        await self.app.open_async()
        self.is_open = True

    async def close(self) -> None:
        if self._spawned:
            await asyncio.gather(*self._spawned, return_exceptions=True)
        if self.is_open:
            self.is_open = False
            await self.app.close_async()

    async def defer_refresh(self, tenant_id: str, link_id: str) -> bool:
        """Queue a refresh of the link, unless one is already waiting; return whether one was
        queued. Failures are logged, not raised: the link stays due in the database."""
        if not self.is_open:
            return False
        task = self._refresh.configure(lock=f"link:{link_id}", queueing_lock=f"refresh:{link_id}")
        try:
            await task.defer_async(tenant_id=tenant_id, link_id=link_id)
        except procrastinate_exceptions.AlreadyEnqueued:
            return False
        except Exception as exc:
            logger.warning(
                "job.defer_failed",
                task=REFRESH_TASK,
                link_id=link_id,
                error=f"{type(exc).__name__}: {exc}",
            )
            return False
        return True

    async def defer_refreshes(self, links: Sequence[tuple[str, str]]) -> int:
        """Queue a refresh of each (tenant id, link id), `DEFER_BATCH` per query; return how
        many were queued. A batch in which one link's refresh already waits is queued again
        one by one, since the database refuses the whole batch."""
        queued = 0
        for start in range(0, len(links), DEFER_BATCH):
            batch = links[start : start + DEFER_BATCH]
            if not self.is_open:
                break
            jobs = [
                self._refresh.configure(
                    lock=f"link:{link_id}", queueing_lock=f"refresh:{link_id}"
                ).make_new_job(tenant_id=tenant_id, link_id=link_id)
                for tenant_id, link_id in batch
            ]
            try:
                await self.app.job_manager.batch_defer_jobs_async(jobs)
            except procrastinate_exceptions.AlreadyEnqueued:
                for tenant_id, link_id in batch:
                    queued += await self.defer_refresh(tenant_id, link_id)
            except Exception as exc:
                logger.warning(
                    "job.defer_failed", task=REFRESH_TASK, error=f"{type(exc).__name__}: {exc}"
                )
            else:
                queued += len(batch)
        return queued

    async def defer(self, task_name: str, *, lock: str | None, **arguments: Any) -> bool:
        """Queue a job of a task other than refreshes; return False, after logging why, when
        it could not be queued."""
        if not self.is_open:
            logger.warning("job.defer_failed", task=task_name, error="the job queue is not open")
            return False
        task = self._tasks[task_name].configure(lock=lock)
        try:
            await task.defer_async(**arguments)
        except Exception as exc:
            logger.warning("job.defer_failed", task=task_name, error=f"{type(exc).__name__}: {exc}")
            return False
        return True

    def refresh_after_commit(self, uow: UnitOfWork, tenant_id: str, link_id: str) -> None:
        """Queue a refresh of the link once `uow` commits, without waiting for it."""
        if self.is_open:
            uow.after_commit(lambda: self._spawn(self.defer_refresh(tenant_id, link_id)))

    def _spawn(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._spawned.add(task)
        task.add_done_callback(self._spawned.discard)
