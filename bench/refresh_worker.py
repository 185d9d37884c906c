"""`vinculo worker` with the sandbox bank's data generated once, for `bench.refreshes`.

The sandbox connector generates each user's data in the worker's own process, by simulating
the user's accounts day by day since they opened: about 100 ms of CPU per refresh on the
benchmark's machine, whatever the date range. A real bank does that work on its own machines.
This entry point runs the same worker (`vinculo.jobs.worker.run_worker`, the same settings
from `VINCULO_*`) with a connector that returns the data of one template user for every user.
The data is generated once per request shape and sandbox day, and every fetch still waits
`VINCULO_SANDBOX_FETCH_DELAY_SECONDS`. The refreshes then cost what Vínculo itself does:
opening the credentials, the login lease, storing the data and the webhook events, the queue.

    VINCULO_DATABASE_URL=postgresql://... .venv/bin/python -m bench.refresh_worker
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import date, datetime
from typing import Any

import vinculo.app
from vinculo.config import Settings
from vinculo.connectors.base import Credentials, FetchOutcome, FetchRequest, LoginOutcome
from vinculo.connectors.sandbox import SandboxConnector
from vinculo.context import AppContext
from vinculo.jobs.worker import run_worker_until_stopped
from vinculo.logging import configure_logging

# Any username outside the sandbox's reserved ones logs in and gets generated data.
TEMPLATE_CREDENTIALS = Credentials(username="bench_template", password="bench-password")
_build_context = vinculo.app.build_context


class PreparedDataConnector:
    """A connector that returns the template user's data for every user's fetch.

    The responses reuse the `collected_at` of the first fetch of the day, and the caller gets the
    cached objects themselves, which the refresh service only reads.
    """

    def __init__(self, *, fetch_delay_seconds: float) -> None:
        self._sandbox = SandboxConnector(fetch_delay_seconds=0.0)
        self._fetch_delay_seconds = fetch_delay_seconds
        self._day: date | None = None
        self._results: dict[tuple[str, FetchRequest], asyncio.Future[FetchOutcome]] = {}

    async def login(
        self, institution: str, credentials: Credentials, *, token: str | None = None
    ) -> LoginOutcome:
        return await self._sandbox.login(institution, credentials, token=token)

    async def resume(
        self,
        institution: str,
        credentials: Credentials,
        state: dict[str, Any],
        token: str | None,
    ) -> LoginOutcome:
        return await self._sandbox.resume(institution, credentials, state, token)

    async def fetch(
        self,
        institution: str,
        credentials: Credentials,
        request: FetchRequest,
        *,
        collected_at: datetime,
        token: str | None = None,
        state: dict[str, Any] | None = None,
    ) -> FetchOutcome:
        if self._fetch_delay_seconds:
            await asyncio.sleep(self._fetch_delay_seconds)
        if collected_at.date() != self._day:
            self._day = collected_at.date()
            self._results.clear()
        # The refresh number only selects the failures of reserved usernames.
        key = (institution, dataclasses.replace(request, refresh=None))
        result = self._results.get(key)
        if result is None:
            # Concurrent fetches of the same shape wait for the first one's result.
            result = asyncio.get_running_loop().create_future()
            self._results[key] = result
            try:
                outcome = await self._sandbox.fetch(
                    institution, TEMPLATE_CREDENTIALS, key[1], collected_at=collected_at
                )
            except Exception as exc:
                result.set_exception(exc)
            else:
                result.set_result(outcome)
            finally:
                if not result.done():
                    result.cancel()
                failed = result.cancelled() or result.exception() is not None
                if failed and self._results.get(key) is result:
                    # Not cached: the next fetch of this shape tries again.
                    del self._results[key]
        return await result


def build_context_with_prepared_data(settings: Settings, **options: Any) -> AppContext:
    context = _build_context(settings, **options)
    # Replaced in place: the job queue's task functions hold this context object.
    context.connector = PreparedDataConnector(
        fetch_delay_seconds=settings.sandbox_fetch_delay_seconds
    )
    return context


def main() -> None:
    settings = Settings()
    configure_logging(settings)
    # `run_worker` imports `build_context` from `vinculo.app` when it starts.
    vinculo.app.build_context = build_context_with_prepared_data
    run_worker_until_stopped(settings)


if __name__ == "__main__":
    main()
