"""The ASGI application: Litestar routes under `/api/`, wrapped for request ids and paths."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import structlog
from litestar import Litestar, Request, Router, get
from litestar.enums import ScopeType
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from vinculo import __version__
from vinculo.accounts.router import AccountsController
from vinculo.balances.router import BalancesController
from vinculo.clock import Clock
from vinculo.config import Settings
from vinculo.connectors.sandbox import SandboxConnector
from vinculo.context import AppContext
from vinculo.db.engine import Database
from vinculo.institutions.router import InstitutionsController
from vinculo.jobs.queue import JobQueue
from vinculo.jobs.runner import JobsInServer
from vinculo.links.fast_routes import LINK_ROUTES
from vinculo.links.retention import RetentionTask
from vinculo.links.router import LinksController
from vinculo.logging import configure_logging
from vinculo.owners.router import OwnersController
from vinculo.sandbox_api.router import create_sandbox_router
from vinculo.security.keys import load_master_key, pepper_from
from vinculo.security.vault import Vault
from vinculo.tenants.service import Authenticator
from vinculo.transactions.router import TransactionsController
from vinculo.webhooks.delivery import WebhookDeliveryTask
from vinculo.webhooks.router import webhook_routers
from vinculo.wire.auth import ApiKeyMiddleware
from vinculo.wire.fast_path import FastPath, FastRoute
from vinculo.wire.handlers import EXCEPTION_HANDLERS
from vinculo.wire.openapi import UNAUTHORIZED
from vinculo.wire.request_id import SCOPE_KEY, current_request_id, new_request_id

logger = structlog.get_logger(__name__)

_REPEATED_SLASHES = re.compile(r"/{2,}")
MAX_BODY_BYTES = 1024 * 1024


@get("/", summary="Check the secret keys and list the API's resources", responses=UNAUTHORIZED)
async def api_root(request: Request[Any, Any, Any]) -> dict[str, str]:
    """Return links to the resources. Belvo's SDKs call it to log in: any 2xx means valid keys."""
    base = str(request.base_url).rstrip("/") + "/api"
    return {
        name: f"{base}/{name}/"
        for name in ("institutions", "links", "accounts", "transactions", "balances", "owners")
    }


def build_context(settings: Settings, *, clock: Clock | None = None) -> AppContext:
    """Create the process-wide collaborators from settings."""
    master_key = load_master_key(settings)
    pepper = pepper_from(settings, master_key)
    jobs = JobQueue(settings.resolved_database_url)
    context = AppContext(
        settings=settings,
        database=Database(settings.resolved_database_url, pool_size=settings.database_pool_size),
        clock=clock or Clock(),
        vault=Vault(master_key),
        pepper=pepper,
        authenticator=Authenticator(pepper=pepper, cache_seconds=settings.api_key_cache_seconds),
        connector=SandboxConnector(
            slow_login_seconds=settings.sandbox_slow_login_seconds,
            fetch_delay_seconds=settings.sandbox_fetch_delay_seconds,
        ),
        jobs=jobs,
    )
    jobs.bind(context)
    return context


def create_litestar(context: AppContext) -> Litestar:
    api = Router(
        path="/api",
        route_handlers=[
            api_root,
            InstitutionsController,
            LinksController,
            AccountsController,
            TransactionsController,
            BalancesController,
            OwnersController,
        ],
        middleware=[ApiKeyMiddleware],
        security=[{"basicAuth": []}],
    )
    openapi = OpenAPIConfig(
        title="Vínculo",
        version=__version__,
        description="A self-hosted server that speaks the Belvo aggregation API.",
        path="/docs",
        render_plugins=[ScalarRenderPlugin()],
        components=Components(
            security_schemes={
                "basicAuth": SecurityScheme(
                    type="http",
                    scheme="basic",
                    description="Secret key id as the user name, secret password as password.",
                )
            }
        ),
    )
    retention = RetentionTask(context)
    webhook_delivery = WebhookDeliveryTask(context)
    jobs = JobsInServer(context)
    app = Litestar(
        route_handlers=[
            api,
            create_sandbox_router(context.settings),
            *webhook_routers(context.settings),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=openapi,
        on_startup=[retention.start, webhook_delivery.start, jobs.start],
        on_shutdown=[jobs.stop, retention.stop, webhook_delivery.stop, context.database.aclose],
        debug=False,
        # Link bodies are a few kilobytes even with a certificate and a private key.
        request_max_body_size=MAX_BODY_BYTES,
        logging_config=None,
    )
    app.state.context = context
    return app


class VinculoApp:
    """Outer ASGI layer: a request id on every response and log line, tolerant paths, HEAD.

    It runs before routing, so even a 404 for an unknown URL carries the request id. Repeated
    slashes are collapsed because an SDK given a base URL ending in `/` requests `//api/...`.
    Requests on `fast_routes` skip Litestar's request handling (see `vinculo.wire.fast_path`).
    """

    def __init__(
        self,
        litestar: Litestar,
        context: AppContext,
        *,
        fast_routes: Sequence[FastRoute] = LINK_ROUTES,
    ) -> None:
        self.litestar = litestar
        self.context = context
        self._app: ASGIApp = litestar
        self.fast_path = FastPath(litestar, context, fast_routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self._app(scope, receive, send)
            return
        request_id = new_request_id()
        scope[SCOPE_KEY] = request_id  # type: ignore[literal-required]
        path = scope["path"]
        if "//" in path:
            scope["path"] = _REPEATED_SLASHES.sub("/", path)
            scope["raw_path"] = scope["path"].encode()
        header = (b"x-request-id", request_id.encode())
        # HEAD is GET without the body, as HTTP defines it; the routes declare only GET.
        is_head = scope["method"] == "HEAD"
        if is_head:
            # A copy: the server keeps its own scope, where the method is still HEAD.
            scope = {**scope, "method": "GET"}

        async def send_with_request_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), header]
            elif is_head and message["type"] == "http.response.body":
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        token = current_request_id.set(request_id)
        try:
            app = self.fast_path.match(scope) or self._app
            await app(scope, receive, send_with_request_id)
        finally:
            current_request_id.reset(token)


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> VinculoApp:
    """Build the ASGI application, configuring logging first if nothing did.

    structlog's own default renders exceptions with the local variables of every frame, which
    can include keys; `configure_logging` renders plain tracebacks.
    """
    settings = settings or Settings()
    if not structlog.is_configured():
        configure_logging(settings)
    context = build_context(settings, clock=clock)
    return VinculoApp(create_litestar(context), context)
