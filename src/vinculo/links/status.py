"""The link status machine: one transition table, checked on every status change."""

from __future__ import annotations

from enum import StrEnum


class LinkStatus(StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    UNCONFIRMED = "unconfirmed"
    TOKEN_REQUIRED = "token_required"


class LinkEvent(StrEnum):
    """An event in the life of a link's login."""

    # Register, resume or credential update logged in.
    LOGIN_SUCCEEDED = "login_succeeded"
    # Registration returned a 428 (one more for each step of a multi-step MFA).
    REGISTRATION_CHALLENGED = "registration_challenged"
    # A refresh with the stored credentials was rejected by the institution.
    REFRESH_REJECTED = "refresh_rejected"
    # A refresh with the stored credentials needs a fresh MFA token.
    REFRESH_CHALLENGED = "refresh_challenged"
    # The `credentials_storage` period ran out.
    CREDENTIALS_EXPIRED = "credentials_expired"


class InvalidTransition(Exception):
    """An event that the link's current status does not allow."""


_ANY_CREATED = (
    LinkStatus.VALID,
    LinkStatus.INVALID,
    LinkStatus.UNCONFIRMED,
    LinkStatus.TOKEN_REQUIRED,
)

# (status before, event) -> status after; `None` is a link that does not exist yet.
TRANSITIONS: dict[tuple[LinkStatus | None, LinkEvent], LinkStatus] = {
    (None, LinkEvent.LOGIN_SUCCEEDED): LinkStatus.VALID,
    (None, LinkEvent.REGISTRATION_CHALLENGED): LinkStatus.UNCONFIRMED,
    (LinkStatus.UNCONFIRMED, LinkEvent.REGISTRATION_CHALLENGED): LinkStatus.UNCONFIRMED,
    **{(status, LinkEvent.LOGIN_SUCCEEDED): LinkStatus.VALID for status in _ANY_CREATED},
    (LinkStatus.VALID, LinkEvent.REFRESH_REJECTED): LinkStatus.INVALID,
    (LinkStatus.TOKEN_REQUIRED, LinkEvent.REFRESH_REJECTED): LinkStatus.INVALID,
    (LinkStatus.VALID, LinkEvent.REFRESH_CHALLENGED): LinkStatus.TOKEN_REQUIRED,
    (LinkStatus.TOKEN_REQUIRED, LinkEvent.REFRESH_CHALLENGED): LinkStatus.TOKEN_REQUIRED,
    **{(status, LinkEvent.CREDENTIALS_EXPIRED): LinkStatus.INVALID for status in _ANY_CREATED},
}


def next_status(current: LinkStatus | None, event: LinkEvent) -> LinkStatus:
    """Return the status after `event`; raise `InvalidTransition` if the table forbids it."""
    try:
        return TRANSITIONS[(current, event)]
    except KeyError:
        raise InvalidTransition(f"a {current or 'new'} link cannot take event {event}") from None
