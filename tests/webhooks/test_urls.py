"""Webhook URL checks: the form of the URL, and public addresses only in production mode."""

from __future__ import annotations

import pytest

from vinculo.webhooks.urls import UnsafeWebhookUrl, check_webhook_url, destination_for

REJECTED_IN_PRODUCTION = [
    "http://127.0.0.1/hook",
    "http://127.1.2.3:8080/hook",
    "http://localhost/hook",
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://0.0.0.0/hook",
    "http://[::]/hook",
    "http://10.1.2.3/hook",
    "http://172.16.0.1/hook",
    "http://192.168.1.1/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fe80::1]/hook",
    "http://[fc00::1]/hook",
    "http://224.0.0.1/hook",
    "http://[ff02::1]/hook",
    "http://100.64.0.1/hook",
    "http://2130706433/hook",
]

REJECTED_ALWAYS = [
    "ftp://93.184.216.34/hook",
    "file:///etc/passwd",
    "93.184.216.34/hook",
    "http:///hook",
    "http://user:password@93.184.216.34/hook",
    "http://93.184.216.34:0/hook",
    "http://93.184.216.34:99999/hook",
    "http://93.184.216.34/ho ok",
    "http://93.184.216.34/hook\r\nX-Injected: 1",
    "https://93.184.216.34/" + "a" * 2048,
]


@pytest.mark.parametrize("url", REJECTED_IN_PRODUCTION)
async def test_private_address_rejected_in_production(url: str) -> None:
    with pytest.raises(UnsafeWebhookUrl):
        await check_webhook_url(url, allow_private=False)


@pytest.mark.parametrize("url", REJECTED_IN_PRODUCTION[:3])
async def test_private_address_allowed_in_sandbox(url: str) -> None:
    await check_webhook_url(url, allow_private=True)


@pytest.mark.parametrize("url", REJECTED_ALWAYS)
async def test_malformed_url_rejected(url: str) -> None:
    with pytest.raises(UnsafeWebhookUrl):
        await check_webhook_url(url, allow_private=True)


async def test_public_address_accepted() -> None:
    # An address literal, so the check needs no DNS query.
    await check_webhook_url("https://93.184.216.34:8443/hook", allow_private=False)
    await check_webhook_url("http://[2606:2800:220:1::1]/hook", allow_private=False)


async def test_delivery_checks_address_again() -> None:
    """A URL stored in sandbox mode is checked again when a production server sends it."""
    with pytest.raises(UnsafeWebhookUrl, match="not a public address"):
        await destination_for("http://localhost:9/hook", allow_private=False)


async def test_address_literal_not_rewritten() -> None:
    destination = await destination_for("https://93.184.216.34/hook", allow_private=False)

    assert destination.url == "https://93.184.216.34/hook"
    assert destination.host_header is None
    assert destination.sni_hostname is None
