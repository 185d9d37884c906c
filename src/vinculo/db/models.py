"""Tables. Every row that belongs to a customer carries `tenant_id`."""

from __future__ import annotations

from datetime import date, datetime
from typing import cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from vinculo.db.types import UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Tenant(Base):
    """A customer of the server; every API key, link and datum belongs to exactly one."""

    __tablename__ = "tenants"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ApiKey(Base):
    """A secret key pair; only an HMAC of the password is stored."""

    __tablename__ = "api_keys"

    secret_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    principal_id: Mapped[str] = mapped_column(String(36))
    secret_digest: Mapped[bytes] = mapped_column(LargeBinary(32))
    label: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Link(Base):
    """An end user's login at one institution."""

    __tablename__ = "links"
    __table_args__ = (
        UniqueConstraint("tenant_id", "institution_user_id"),
        Index(None, "tenant_id", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    institution: Mapped[str] = mapped_column(String(64))
    access_mode: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    refresh_rate: Mapped[str | None] = mapped_column(String(8))
    created_by: Mapped[str] = mapped_column(String(36))
    external_id: Mapped[str | None] = mapped_column(String(255))
    institution_user_id: Mapped[str] = mapped_column(String(44))
    credentials_storage: Mapped[str] = mapped_column(String(8))
    stale_in: Mapped[str | None] = mapped_column(String(8))
    fetch_resources: Mapped[list[str]] = mapped_column(JSON)
    fetch_historical: Mapped[bool] = mapped_column(Boolean)
    last_accessed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    credentials_expire_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # While set and in the future, a login on this link is running in some process.
    login_lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Who holds that lease: `request` (a client's login or retrieval), or `refresh`, followed
    # by `:<job id>` when a job runs the refresh.
    login_lease_holder: Mapped[str | None] = mapped_column(String(32))
    # When the scheduler next refreshes the link; null for links it does not refresh.
    next_refresh_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    # Set until the link's historical update (a full refresh with its webhooks) has run.
    historical_update_pending: Mapped[bool] = mapped_column(Boolean, default=False)
    # The request id of the `POST .../refresh/` that asked for the pending refresh, if any.
    refresh_request_id: Mapped[str | None] = mapped_column(String(32))
    last_refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The last `POST .../refresh/` that was accepted; the cooldown counts from it.
    refresh_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Background refreshes run so far, historical updates included.
    refresh_count: Mapped[int] = mapped_column(Integer, default=0)


class LinkCredentials(Base):
    """A link's credentials, sealed with the link's data key (see `security.vault`)."""

    __tablename__ = "link_credentials"

    link_id: Mapped[str] = mapped_column(
        ForeignKey("links.id", ondelete="CASCADE"), primary_key=True
    )
    tenant_id: Mapped[str] = mapped_column(String(36))
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    # Set when the client sealed the credentials a second time with its `encryption_key`.
    client_key_salt: Mapped[bytes | None] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class MfaSession(Base):
    """An open MFA challenge (a 428 response) and the sealed state needed to resume it."""

    __tablename__ = "mfa_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(36))
    link_id: Mapped[str] = mapped_column(ForeignKey("links.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    client_key_salt: Mapped[bytes | None] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Account(Base):
    """An account collected from the institution of a link.

    `body` is the account's wire JSON as last collected. The columns beside it repeat the
    values that list filters compare, so a list never decodes the bodies it skips.
    """

    __tablename__ = "accounts"
    __table_args__ = (
        UniqueConstraint("link_id", "internal_identification"),
        Index(None, "tenant_id", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(36))
    link_id: Mapped[str] = mapped_column(ForeignKey("links.id", ondelete="CASCADE"), index=True)
    # The institution's own id of the account: a new retrieval updates the row that has it.
    internal_identification: Mapped[str] = mapped_column(String(100))
    institution: Mapped[str] = mapped_column(String(64))
    category: Mapped[str | None] = mapped_column(String(32))
    type: Mapped[str | None] = mapped_column(String(128))
    name: Mapped[str | None] = mapped_column(String(255))
    number: Mapped[str | None] = mapped_column(String(64))
    currency: Mapped[str | None] = mapped_column(String(3))
    public_identification_name: Mapped[str | None] = mapped_column(String(64))
    public_identification_value: Mapped[str | None] = mapped_column(String(128))
    bank_product_id: Mapped[str | None] = mapped_column(String(64))
    balance_current: Mapped[float | None] = mapped_column(Float)
    balance_available: Mapped[float | None] = mapped_column(Float)
    collected_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    body: Mapped[bytes] = mapped_column(LargeBinary)


class Transaction(Base):
    """A transaction of an account. `body` is its wire JSON without the embedded account."""

    __tablename__ = "transactions"
    __table_args__ = (
        UniqueConstraint("account_id", "internal_identification"),
        # The list order (newest value date first) for one link, so a page is an index range.
        # It starts with `link_id` so that deleting a link finds its rows without a scan.
        Index("ix_transactions_link_order", "link_id", "value_date", "accounting_date", "id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(36))
    link_id: Mapped[str] = mapped_column(ForeignKey("links.id", ondelete="CASCADE"))
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    internal_identification: Mapped[str] = mapped_column(String(100))
    value_date: Mapped[date] = mapped_column(Date)
    accounting_date: Mapped[datetime | None] = mapped_column(UTCDateTime())
    amount: Mapped[float | None] = mapped_column(Float)
    currency: Mapped[str | None] = mapped_column(String(3))
    reference: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[str | None] = mapped_column(String(16))
    type: Mapped[str | None] = mapped_column(String(8))
    bill_name: Mapped[str | None] = mapped_column(String(32))
    collected_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    body: Mapped[bytes] = mapped_column(LargeBinary)


class Balance(Base):
    """An account's balance at the end of one day, without the embedded account in `body`."""

    __tablename__ = "balances"
    __table_args__ = (
        UniqueConstraint("account_id", "value_date"),
        Index("ix_balances_link_order", "link_id", "value_date", "id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(36))
    link_id: Mapped[str] = mapped_column(ForeignKey("links.id", ondelete="CASCADE"))
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    value_date: Mapped[date] = mapped_column(Date)
    balance: Mapped[float | None] = mapped_column(Float)
    currency: Mapped[str | None] = mapped_column(String(3))
    collected_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    body: Mapped[bytes] = mapped_column(LargeBinary)


class Owner(Base):
    """A holder of a link's accounts. `body` is the owner's wire JSON."""

    __tablename__ = "owners"
    __table_args__ = (
        UniqueConstraint("link_id", "internal_identification"),
        Index(None, "tenant_id", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(36))
    link_id: Mapped[str] = mapped_column(ForeignKey("links.id", ondelete="CASCADE"), index=True)
    internal_identification: Mapped[str] = mapped_column(String(100))
    display_name: Mapped[str | None] = mapped_column(String(128))
    email: Mapped[str | None] = mapped_column(String(256))
    collected_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    body: Mapped[bytes] = mapped_column(LargeBinary)


class KeyCheck(Base):
    """A digest of a server key, to notice a server started with a different key."""

    __tablename__ = "key_checks"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    digest: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WebhookEndpoint(Base):
    """A URL that receives a tenant's webhook events.

    The signing secret and the optional `Authorization` value are sealed with the vault, because
    the server must read them back to sign and send each delivery.
    """

    __tablename__ = "webhook_endpoints"
    __table_args__ = (Index(None, "tenant_id", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(2048))
    secret_wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    secret_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    authorization_wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    authorization_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WebhookEvent(Base):
    """The outbox: one event, written in the transaction of the change it describes.

    `id` is the event's `webhook_id` and its `webhook-id` header. `body` is the exact JSON that
    every delivery sends, so retries sign and send the same bytes.
    """

    __tablename__ = "webhook_events"
    __table_args__ = (Index(None, "tenant_id", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    webhook_type: Mapped[str] = mapped_column(String(32))
    webhook_code: Mapped[str] = mapped_column(String(64))
    link_id: Mapped[str | None] = mapped_column(String(36))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WebhookDelivery(Base):
    """The delivery state of one event to one endpoint; the delivery task claims due rows."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "endpoint_id"),
        Index(None, "state", "next_attempt_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(36))
    event_id: Mapped[str] = mapped_column(ForeignKey("webhook_events.id", ondelete="CASCADE"))
    endpoint_id: Mapped[str] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True
    )
    # pending, delivered or failed.
    state: Mapped[str] = mapped_column(String(16))
    # Every attempt ever made, which numbers the delivery log.
    attempts: Mapped[int] = mapped_column(Integer)
    # Failed attempts since the event was enqueued or redelivered, which pick the next wait.
    failures: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # While set and in the future, some process is sending this delivery.
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lease_id: Mapped[str | None] = mapped_column(String(32))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WebhookAttempt(Base):
    """The delivery log: one row per HTTP attempt, with its outcome and latency."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (
        Index(None, "event_id", "attempt"),
        Index(None, "tenant_id", "attempted_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(36))
    delivery_id: Mapped[str] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[str] = mapped_column(String(32))
    endpoint_id: Mapped[str] = mapped_column(String(36))
    attempt: Mapped[int] = mapped_column(Integer)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(255))
    latency_ms: Mapped[int] = mapped_column(Integer)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SandboxClock(Base):
    """The sandbox clock's offset from real time, shared by every server process.

    One row at most, with `id` 1. `version` grows on every change, so a process applies a
    stored offset only when it changed (see `vinculo.clock.Clock.apply_stored`).
    """

    __tablename__ = "sandbox_clock"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    offset_microseconds: Mapped[int] = mapped_column(BigInteger)
    version: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class InstitutionStatus(Base):
    """An institution that the sandbox control API set `down` for one tenant.

    Only `down` is stored: an institution without a row is `healthy`.
    """

    __tablename__ = "institution_statuses"

    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    institution: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


# Core tables for the repositories' statements, typed as `Table` for the type checker.
tenants = cast(Table, Tenant.__table__)
api_keys = cast(Table, ApiKey.__table__)
links = cast(Table, Link.__table__)
link_credentials = cast(Table, LinkCredentials.__table__)
mfa_sessions = cast(Table, MfaSession.__table__)
key_checks = cast(Table, KeyCheck.__table__)
accounts = cast(Table, Account.__table__)
transactions = cast(Table, Transaction.__table__)
balances = cast(Table, Balance.__table__)
owners = cast(Table, Owner.__table__)
webhook_endpoints = cast(Table, WebhookEndpoint.__table__)
webhook_events = cast(Table, WebhookEvent.__table__)
webhook_deliveries = cast(Table, WebhookDelivery.__table__)
webhook_attempts = cast(Table, WebhookAttempt.__table__)
sandbox_clock = cast(Table, SandboxClock.__table__)
institution_statuses = cast(Table, InstitutionStatus.__table__)
