"""The `vinculo worker` process: jobs, the refresh scheduler, webhook delivery and retention.

Any number of worker processes, on any number of machines, share PostgreSQL's job queue.
SIGTERM or SIGINT stops a worker after its running jobs finish, up to a grace period. A worker
that dies without stopping leaves its jobs to the others once its heartbeat is stale.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal

import structlog

from vinculo.config import Settings
from vinculo.jobs.runner import run_jobs
from vinculo.links.retention import run_retention_forever
from vinculo.security.keys import load_master_key, verify_master_key
from vinculo.webhooks.delivery import run_deliveries_forever

logger = structlog.get_logger(__name__)


class WorkerNeedsPostgres(Exception):
    """`vinculo worker` was started on a SQLite database."""


def run_worker_until_stopped(settings: Settings) -> None:
    """Run `run_worker` on uvloop where it is installed, as uvicorn runs `vinculo serve`.

    A worker makes dozens of database round trips per refresh, and uvloop's transports cost
    less per round trip than asyncio's own event loop.
    """
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop does not build on every platform
        asyncio.run(run_worker(settings))
        return
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(run_worker(settings))


async def run_worker(settings: Settings) -> None:
    """Run a worker until SIGTERM or SIGINT."""
    from vinculo.app import build_context

    context = build_context(settings)
    if context.jobs.kind != "postgresql":
        raise WorkerNeedsPostgres(
            "vinculo worker needs PostgreSQL (VINCULO_DATABASE_URL=postgresql://...). "
            "On SQLite, vinculo serve runs the jobs itself."
        )
    try:
        async with context.database.unit_of_work() as uow:
            await verify_master_key(uow, load_master_key(settings), context.clock.now())
        await context.jobs.open()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        loops = [
            loop.create_task(run_jobs(context), name="jobs"),
            loop.create_task(run_deliveries_forever(context), name="webhook-delivery"),
            loop.create_task(run_retention_forever(context), name="retention"),
        ]
        logger.info("worker.started", concurrency=settings.worker_concurrency)
        stopping = loop.create_task(stop.wait())
        await asyncio.wait([stopping, *loops], return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        crashed = [task for task in loops if task.done() and not task.cancelled()]
        for task in loops:
            task.cancel()
        for task in loops:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for task in crashed:
            # The loops run until cancelled, so one that ended raised.
            task.result()
        logger.info("worker.stopped")
    finally:
        await context.jobs.close()
        await context.database.aclose()
