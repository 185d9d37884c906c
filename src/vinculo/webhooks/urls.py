"""Webhook URL checks: http(s) only, and in production mode public addresses only.

A webhook URL is chosen by a tenant but fetched by the server, so without these checks a tenant
could make the server POST to its own loopback interface, to a cloud metadata address or to
the private network behind it (server-side request forgery).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

MAX_URL_LENGTH = 2048

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeWebhookUrl(ValueError):
    """A webhook URL that the server must not call. The message gives the reason."""


@dataclass(frozen=True, slots=True)
class Destination:
    """The target of one delivery: the URL to request and, when pinned, the host to name."""

    url: str
    # The original host name when `url` was rewritten to the address it resolved to.
    host_header: str | None = None
    sni_hostname: str | None = None


def parse_webhook_url(url: str) -> SplitResult:
    """Check the form of a webhook URL; raise `UnsafeWebhookUrl` with the reason."""
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeWebhookUrl(f"The URL is longer than {MAX_URL_LENGTH} characters.")
    if any(ord(character) <= 0x20 or ord(character) == 0x7F for character in url):
        raise UnsafeWebhookUrl("The URL contains spaces or control characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeWebhookUrl(f"The URL is invalid: {exc}.") from None
    if parts.scheme not in ("http", "https"):
        raise UnsafeWebhookUrl("Enter an http:// or https:// URL.")
    if not parts.hostname:
        raise UnsafeWebhookUrl("The URL has no host.")
    if parts.username is not None or parts.password is not None:
        raise UnsafeWebhookUrl(
            "The URL contains a user name or password; send credentials as the authorization "
            "value instead."
        )
    if port == 0:
        raise UnsafeWebhookUrl("The URL's port must be between 1 and 65535.")
    return parts


def is_public_address(address: IPAddress) -> bool:
    """Return whether `address` is a global unicast address (not loopback, private,
    link-local, unspecified, multicast or reserved)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        # ::ffff:127.0.0.1 reaches 127.0.0.1; Python 3.11 does not unwrap it for `is_global`.
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


async def resolve_public_addresses(host: str, port: int) -> list[IPAddress]:
    """Resolve `host` and return its addresses; raise `UnsafeWebhookUrl` unless every one of
    them is public."""
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses: list[IPAddress] = [literal]
    else:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise UnsafeWebhookUrl(f"The host {host!r} cannot be resolved: {exc}.") from None
        # An IPv6 scope ("fe80::1%eth0") is dropped: the address alone decides.
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    if not addresses:
        raise UnsafeWebhookUrl(f"The host {host!r} has no address.")
    for address in addresses:
        if not is_public_address(address):
            raise UnsafeWebhookUrl(
                f"The host {host!r} resolves to {address}, which is not a public address; "
                "production mode only calls public addresses."
            )
    return addresses


def _default_port(parts: SplitResult) -> int:
    return parts.port or (443 if parts.scheme == "https" else 80)


async def check_webhook_url(url: str, *, allow_private: bool) -> None:
    """Check a webhook URL before storing it; raise `UnsafeWebhookUrl` with the reason."""
    parts = parse_webhook_url(url)
    if not allow_private:
        assert parts.hostname is not None
        await resolve_public_addresses(parts.hostname, _default_port(parts))


async def destination_for(url: str, *, allow_private: bool) -> Destination:
    """Check `url` again at delivery time and return where to connect.

    In production mode the host is resolved here and the request goes to the first resolved
    address, with the original name in `Host` and in TLS SNI (so the certificate is still
    checked against the name). Connecting to the checked address, instead of resolving again
    in the HTTP client, is what stops a DNS answer that changes between check and connection
    (DNS rebinding).
    """
    parts = parse_webhook_url(url)
    host = parts.hostname
    assert host is not None
    if allow_private:
        return Destination(url)
    addresses = await resolve_public_addresses(host, _default_port(parts))
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return Destination(url)
    address = addresses[0]
    shown = f"[{address}]" if address.version == 6 else str(address)
    netloc = shown if parts.port is None else f"{shown}:{parts.port}"
    pinned = parts._replace(netloc=netloc).geturl()
    host_header = host if parts.port is None else f"{host}:{parts.port}"
    return Destination(
        pinned,
        host_header=host_header,
        sni_hostname=host if parts.scheme == "https" else None,
    )
