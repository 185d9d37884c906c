"""Server settings, read once from `VINCULO_*` environment variables (and a `.env` file)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, NonNegativeFloat, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATA_DIR = Path(".vinculo")


class Settings(BaseSettings):
    """Every setting of a Vínculo process; `os.environ` is read only here."""

    model_config = SettingsConfigDict(env_prefix="VINCULO_", env_file=".env", extra="ignore")

    mode: Literal["sandbox", "production"] = "sandbox"
    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; defaults to a SQLite file `vinculo.db` in `data_dir`.",
    )
    database_pool_size: int = Field(
        default=20,
        ge=1,
        le=500,
        description="PostgreSQL connections that one process opens at most, each kept open "
        "for reuse once opened. Ignored on SQLite.",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    public_url: str | None = Field(
        default=None,
        description="Base URL used in pagination links; defaults to the request's own host.",
    )

    master_key: SecretStr | None = Field(
        default=None,
        description="Base64 of 32 bytes that wraps every link's data key; "
        "without it a key file `master.key` in `data_dir` is used (created on first run).",
    )
    secret_pepper: SecretStr | None = Field(
        default=None,
        description="Server-side key of the HMAC over API secrets and institution user ids; "
        "derived from the master key when unset.",
    )

    sandbox_secret_id: str | None = Field(
        default=None, description="Fixes the id of the sandbox API key created on first start."
    )
    sandbox_secret_password: SecretStr | None = Field(
        default=None,
        description="Fixes the password of the sandbox API key created on first start.",
    )

    mfa_session_seconds: int = Field(
        default=600, ge=30, le=9600, description="Lifetime of an MFA session (428 `expiry`)."
    )
    login_lease_seconds: int = Field(
        default=300,
        ge=5,
        description="How long one login on a link blocks a second one (`too_many_sessions`) "
        "if the process running it dies before releasing it.",
    )
    sandbox_slow_login_seconds: float = Field(default=1.0, ge=0)
    sandbox_fetch_delay_seconds: float = Field(
        default=0.0,
        ge=0,
        le=60,
        description="How long the sandbox banks take to respond to each data request, to try "
        "timeouts and worker concurrency.",
    )
    api_key_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        description="How long a process trusts a verified API key before reading it again, "
        "which bounds how long a revoked key keeps working.",
    )

    webhook_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="How long one webhook POST may take, connecting included, before it "
        "counts as a failed attempt.",
    )
    webhook_retry_schedule: list[NonNegativeFloat] = Field(
        default=[5, 30, 120, 600, 3600, 21600],
        min_length=1,
        description="Seconds to wait before each retry of a failed webhook delivery (a JSON "
        "list); retries past its end wait as long as its last entry.",
    )
    webhook_max_attempts: int = Field(
        default=8,
        ge=1,
        le=100,
        description="Attempts per webhook delivery, the first included, before it is marked "
        "failed.",
    )
    webhook_poll_seconds: float = Field(
        default=1.0,
        gt=0,
        le=3600,
        description="How often the delivery task looks for webhook deliveries that are due.",
    )
    webhook_lease_seconds: float = Field(
        default=60.0,
        gt=0,
        description="How long a claimed webhook delivery stays reserved for the process "
        "that claimed it, so another process may retry it if that one dies.",
    )

    jobs_in_server: bool | None = Field(
        default=None,
        description="Run refreshes and other jobs inside `vinculo serve`. Unset: yes on SQLite, "
        "whose job queue lives in the server's memory; no on PostgreSQL, where `vinculo "
        "worker` processes run them.",
    )
    worker_concurrency: int = Field(
        default=50,
        ge=1,
        le=1000,
        description="Jobs that one worker runs at the same time. Refreshes mostly wait for "
        "banks, so this can be well above the number of cores.",
    )
    scheduler_poll_seconds: float = Field(
        default=5.0,
        gt=0,
        le=3600,
        description="How often workers look for links whose refresh is due.",
    )
    worker_stalled_seconds: float = Field(
        default=30.0,
        ge=1,
        description="How long a worker may miss its heartbeat before the jobs it was running "
        "are given to another worker (after a crash or a `kill -9`).",
    )
    refresh_wait_seconds: float = Field(
        default=30.0,
        ge=0,
        le=600,
        description="How long a client's login or retrieval waits for a background refresh "
        "running on the same link before it answers `too_many_sessions`.",
    )
    refresh_cooldown_seconds: int = Field(
        default=600,
        ge=0,
        description="How long after an accepted `POST /api/links/{id}/refresh/` another one "
        "answers 409 `link_refreshed`.",
    )

    log_format: Literal["console", "json"] | None = Field(
        default=None, description="Log renderer; JSON in production mode unless set."
    )
    log_level: str = "INFO"

    @model_validator(mode="after")
    def _lease_outlasts_timeout(self) -> Settings:
        # A lease that ends while its POST may still run would let a second process send the
        # same delivery at the same time.
        if self.webhook_lease_seconds <= self.webhook_timeout_seconds:
            raise ValueError(
                f"webhook_lease_seconds ({self.webhook_lease_seconds}) must be greater than "
                f"webhook_timeout_seconds ({self.webhook_timeout_seconds})"
            )
        return self

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'vinculo.db').resolve()}"

    @property
    def is_sandbox(self) -> bool:
        return self.mode == "sandbox"
