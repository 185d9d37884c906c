"""Sealing and opening link credentials and MFA session state, and user digests."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass, replace
from typing import Any

import msgspec
import structlog

from vinculo.connectors.base import Credentials, FetchRequest
from vinculo.security.vault import DecryptionFailed, Sealed, Vault
from vinculo.wire.errors import InvalidLink, InvalidValue, SessionExpired

logger = structlog.get_logger(__name__)

CREDENTIALS_KIND = "link_credentials"
SESSION_KIND = "mfa_session"

ENCRYPTION_KEY_MISSING = (
    "This link's credentials are sealed with an encryption_key: send the same encryption_key."
)
CREDENTIALS_UNREADABLE = (
    "The stored credentials of this link cannot be decrypted. Delete the link and register "
    "it again."
)
ENCRYPTION_KEY_WRONG = (
    "The encryption_key does not match the one that sealed this link's credentials."
)


def institution_user_id(
    pepper: bytes, *, tenant_id: str, institution: str, username_type: str | None, username: str
) -> str:
    """Return the 44-character id of one end user at one institution, for one tenant.

    A keyed digest, so equal logins give equal ids (the basis of `duplicated`) while the id
    reveals nothing about the username.
    """
    message = "\x00".join((tenant_id, institution, username_type or "", username)).encode()
    digest = hmac.new(pepper, b"institution_user_id\x00" + message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()


def encode_credentials(credentials: Credentials) -> bytes:
    return msgspec.json.encode(credentials)


def decode_credentials(raw: bytes) -> Credentials:
    return msgspec.json.decode(raw, type=Credentials)


def seal_credentials(
    vault: Vault,
    credentials: Credentials,
    *,
    tenant_id: str,
    link_id: str,
    encryption_key: str | None,
) -> Sealed:
    return vault.seal(
        encode_credentials(credentials),
        tenant_id=tenant_id,
        kind=CREDENTIALS_KIND,
        record_id=link_id,
        encryption_key=encryption_key,
    )


def open_credentials(
    vault: Vault, sealed: Sealed, *, tenant_id: str, link_id: str, encryption_key: str | None
) -> Credentials:
    """Decrypt a link's credentials; a missing or wrong `encryption_key` is a 400."""
    if sealed.client_key_salt is not None and encryption_key is None:
        raise InvalidValue(ENCRYPTION_KEY_MISSING, field="encryption_key")
    try:
        raw = vault.open(
            sealed,
            tenant_id=tenant_id,
            kind=CREDENTIALS_KIND,
            record_id=link_id,
            encryption_key=encryption_key,
        )
    except DecryptionFailed:
        if sealed.client_key_salt is not None:
            raise InvalidValue(ENCRYPTION_KEY_WRONG, field="encryption_key") from None
        # Without a client key only the server's keys are involved, so the row was altered
        # or copied from another link: an integrity alarm, and the link cannot log in again.
        logger.error("link.credentials_unreadable", link_id=link_id, tenant_id=tenant_id)
        raise InvalidLink(CREDENTIALS_UNREADABLE) from None
    return decode_credentials(raw)


@dataclass(frozen=True, slots=True)
class SessionState:
    """The state needed to resume an MFA session, sealed with the server's keys only.

    It contains the credentials in a form the server can read, for at most the session's lifetime,
    because the connector needs them to finish the login. `encryption_key` is kept too when the
    client sent one, so that the stored credentials can be sealed with it once the login ends.
    """

    credentials: Credentials
    connector_state: dict[str, Any]
    encryption_key: str | None = None
    # What a paused data retrieval asked for, so that the PATCH that resumes it fetches the same.
    retrieval: FetchRequest | None = None
    # The server's id of the account that the retrieval is limited to, checked again on resume.
    account_id: str | None = None

    def with_connector_state(self, connector_state: dict[str, Any]) -> SessionState:
        return replace(self, connector_state=connector_state)


def seal_session(
    vault: Vault, state: SessionState, *, tenant_id: str, session_id: str, link_id: str
) -> Sealed:
    """Seal an MFA session's state, bound to its tenant, id and link."""
    return vault.seal(
        msgspec.json.encode(state),
        tenant_id=tenant_id,
        kind=SESSION_KIND,
        record_id=f"{session_id}:{link_id}",
    )


def open_session(
    vault: Vault, sealed: Sealed, *, tenant_id: str, session_id: str, link_id: str
) -> SessionState:
    """Decrypt an MFA session's state; an altered row counts as an expired session."""
    try:
        raw = vault.open(
            sealed, tenant_id=tenant_id, kind=SESSION_KIND, record_id=f"{session_id}:{link_id}"
        )
    except DecryptionFailed:
        logger.error("link.session_unreadable", session=session_id, tenant_id=tenant_id)
        raise SessionExpired() from None
    return msgspec.json.decode(raw, type=SessionState)
