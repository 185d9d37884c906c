"""structlog set-up: JSON lines in production, readable lines in development, on stderr.

Application events go through structlog's own fast path (no standard-library `logging` call
per event, which cost about 100 µs a line in the request benchmark). Records from libraries
that use `logging` (uvicorn, Alembic, httpx) are rendered by the same processors.
"""

from __future__ import annotations

import logging
import sys

import msgspec
import structlog

from vinculo.config import Settings
from vinculo.wire.request_id import add_request_id


def _json_dumps(event: object, **_: object) -> str:
    return msgspec.json.encode(event, enc_hook=str).decode()


def configure_logging(settings: Settings) -> None:
    """Send structlog events and standard-library records to stderr with one renderer."""
    renderer_name = settings.log_format or ("json" if settings.mode == "production" else "console")
    renderer: structlog.types.Processor
    if renderer_name == "json":
        renderer = structlog.processors.JSONRenderer(serializer=_json_dumps)
    else:
        # logfmt reads well in a terminal and costs half of structlog's ConsoleRenderer, which
        # was the largest single item of a credential update in the request benchmark.
        renderer = structlog.processors.LogfmtRenderer(
            key_order=["timestamp", "level", "event"], bool_as_flag=False
        )
    level = logging.getLevelNamesMapping().get(settings.log_level.upper(), logging.INFO)
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        add_request_id,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    processors = [*shared]
    if level <= logging.DEBUG:
        # The calling module costs a frame inspection per event, so only debug output has it.
        module = structlog.processors.CallsiteParameter.MODULE
        processors.append(structlog.processors.CallsiteParameterAdder({module}))
    processors += [structlog.processors.format_exc_info, renderer]
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.WriteLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Alembic reports every migration step at INFO, on each start and each CLI command.
    logging.getLogger("alembic").setLevel(max(level, logging.WARNING))
    # httpx logs each request at INFO with its whole URL, and a webhook endpoint's URL may carry
    # a token in its query string. The delivery log and `webhook.*` events record each attempt
    # without the URL. Warnings and errors still go through, at every VINCULO_LOG_LEVEL.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
