"""Running jobs: Procrastinate's worker, the refresh scheduler, and the recovery of jobs that a
dead worker left behind.

`run_jobs` is the whole of a `vinculo worker` process's job work. `JobsInServer` opens the
queue for a `vinculo serve` process and, on SQLite (or when `jobs_in_server` is set), runs
`run_jobs` inside it as well.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from procrastinate.exceptions import ConnectorException, UniqueViolation
from procrastinate.jobs import Job, Status
from procrastinate.manager import JobManager

from vinculo.context import AppContext
from vinculo.jobs.queue import REFRESH_TASK
from vinculo.links import repository as links_repository
from vinculo.links.logins import JOB_HOLDER_PREFIX
from vinculo.refreshes.service import enqueue_due_refreshes
from vinculo.sandbox_api.clock import refresh_shared_clock

logger = structlog.get_logger(__name__)

# Links queued per scheduler round; the next round takes the rest.
SCHEDULER_BATCH = 1000
# How long to wait before starting Procrastinate's worker again after it failed.
WORKER_RESTART_SECONDS = 1.0


def jobs_run_in_server(context: AppContext) -> bool:
    configured = context.settings.jobs_in_server
    return context.jobs.kind == "sqlite" if configured is None else configured


async def run_jobs(context: AppContext) -> None:
    """Run jobs until cancelled: the worker, the scheduler and, on PostgreSQL, the recovery of
    stalled jobs. The queue must be open."""
    settings = context.settings
    loop = asyncio.get_running_loop()
    loops = [
        loop.create_task(_work_forever(context), name="procrastinate-worker"),
        loop.create_task(_schedule_forever(context), name="scheduler"),
    ]
    if context.jobs.kind == "postgresql":
        loops.append(loop.create_task(_recover_forever(context), name="stalled-jobs"))
    logger.info(
        "jobs.started",
        concurrency=settings.worker_concurrency,
        queue=context.jobs.kind,
        scheduler_poll_seconds=settings.scheduler_poll_seconds,
    )
    try:
        await asyncio.gather(*loops)
    finally:
        for task in loops:
            task.cancel()
        # A cancelled gather does not wait for its tasks. Procrastinate's worker, once
        # cancelled, lets its running jobs finish (up to its grace period), and the queue and
        # the database must stay open until then.
        await asyncio.wait(loops)
        logger.info("jobs.stopped")


async def _work_forever(context: AppContext) -> None:
    """Run Procrastinate's worker, and start it again whenever it stops on an error.

    The worker stops when a database call fails, such as when PostgreSQL restarts or ends its
    connections. Its jobs are then left to stall recovery, and the new worker takes new ones.
    """
    settings = context.settings
    stalled_seconds = settings.worker_stalled_seconds
    while True:
        try:
            await context.jobs.app.run_worker_async(
                name="vinculo",
                concurrency=settings.worker_concurrency,
                install_signal_handlers=False,
                delete_jobs="successful",
                update_heartbeat_interval=max(stalled_seconds / 4, 0.25),
                stalled_worker_timeout=stalled_seconds,
                # NOTIFY wakes the worker at once; polling is the fallback if one is lost.
                fetch_job_polling_interval=min(settings.scheduler_poll_seconds, 5.0),
                shutdown_graceful_timeout=settings.webhook_timeout_seconds,
            )
        except Exception as exc:
            logger.error("jobs.worker_failed", error=f"{type(exc).__name__}: {exc}")
            await asyncio.sleep(WORKER_RESTART_SECONDS)
        else:
            return


async def _schedule_forever(context: AppContext) -> None:
    """Queue the refreshes that are due, every `scheduler_poll_seconds`."""
    while True:
        try:
            await refresh_shared_clock(context)
            queued = await enqueue_due_refreshes(context, limit=SCHEDULER_BATCH)
            if queued:
                logger.info("scheduler.queued", refreshes=queued)
        except Exception:
            logger.exception("scheduler.failed")
        await asyncio.sleep(context.settings.scheduler_poll_seconds)


async def _recover_forever(context: AppContext) -> None:
    """Put back in the queue the jobs of workers that stopped sending heartbeats (killed, or
    cut off from the database), so that another worker runs them."""
    stalled_seconds = context.settings.worker_stalled_seconds
    manager = context.jobs.app.job_manager
    while True:
        try:
            stalled = await manager.get_stalled_jobs(seconds_since_heartbeat=stalled_seconds)
        except Exception:
            logger.exception("job.recovery_failed")
            stalled = []
        for job in stalled:
            await _recover(context, manager, job)
        await asyncio.sleep(max(stalled_seconds / 2, 0.5))


async def _recover(context: AppContext, manager: JobManager, job: Job) -> None:
    """Queue a stalled job again; drop it instead when the same refresh is already queued."""
    try:
        try:
            await manager.retry_job(job)
        except UniqueViolation:
            # While the job ran, the scheduler queued another refresh of the same link, and
            # only one may wait. Refreshes read what to do from the link, so that one does the
            # work, and deleting this one releases the link's job lock that it keeps.
            # Release first: a recovery cut off between the two steps then leaves the job
            # stalled, so it is dropped again, rather than the lease held with no job.
            await _release_link_lease(context, job)
            await manager.finish_job(job, status=Status.ABORTED, delete_job=True)
            logger.warning("job.stalled_dropped", job_id=job.id, task=job.task_name, lock=job.lock)
        else:
            logger.warning("job.stalled_retried", job_id=job.id, task=job.task_name)
    except ConnectorException as exc:
        # Most often another worker recovered the job first ("Job was not found or has an
        # invalid status to retry"); otherwise the next round tries again.
        logger.warning("job.recovery_skipped", job_id=job.id, task=job.task_name, error=str(exc))
    except Exception:
        logger.exception("job.recovery_failed", job_id=job.id, task=job.task_name)


async def _release_link_lease(context: AppContext, job: Job) -> None:
    """Release the login lease that a dropped refresh job may still hold on its link, so the
    queued refresh does not wait for the lease to expire."""
    tenant_id, link_id = job.task_kwargs.get("tenant_id"), job.task_kwargs.get("link_id")
    if job.task_name != REFRESH_TASK or not isinstance(tenant_id, str):
        return
    if not isinstance(link_id, str):
        return
    async with context.database.unit_of_work() as uow:
        await links_repository.release_lease_held_by(
            uow, tenant_id, link_id, f"{JOB_HOLDER_PREFIX}{job.id}"
        )


class JobsInServer:
    """Opens the job queue with the server and, where the server runs jobs, runs them."""

    def __init__(self, context: AppContext) -> None:
        self._context = context
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._context.jobs.open()
        if jobs_run_in_server(self._context):
            self._task = asyncio.get_running_loop().create_task(
                run_jobs(self._context), name="jobs"
            )
        elif self._context.jobs.kind == "sqlite":
            logger.warning(
                "jobs.not_run",
                reason="VINCULO_JOBS_IN_SERVER is false, and on SQLite no other process can "
                "run this server's in-memory jobs: refreshes and async requests never run",
            )

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._context.jobs.close()
