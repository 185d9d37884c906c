"""The collaborators a request or job needs besides its input: storage, time, keys, connectors."""

from __future__ import annotations

from dataclasses import dataclass

from vinculo.clock import Clock
from vinculo.config import Settings
from vinculo.connectors.base import Connector
from vinculo.db.engine import Database
from vinculo.jobs.queue import JobQueue
from vinculo.security.vault import Vault
from vinculo.tenants.service import Authenticator


@dataclass(slots=True)
class AppContext:
    """Process-wide collaborators, built once at start-up."""

    settings: Settings
    database: Database
    clock: Clock
    vault: Vault
    pepper: bytes
    authenticator: Authenticator
    connector: Connector
    jobs: JobQueue
