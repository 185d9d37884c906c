"""Server settings, read once from `VINCULO_*` environment variables (and a `.env` file)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
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
    api_key_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        description="How long a process trusts a verified API key before reading it again, "
        "which bounds how long a revoked key keeps working.",
    )

    log_format: Literal["console", "json"] | None = Field(
        default=None, description="Log renderer; JSON in production mode unless set."
    )
    log_level: str = "INFO"

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'vinculo.db').resolve()}"

    @property
    def is_sandbox(self) -> bool:
        return self.mode == "sandbox"
