"""The JSON body of a webhook event, in Belvo's aggregation shape, and sandbox default data."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Literal

import msgspec

WebhookType = Literal[
    "ACCOUNTS",
    "TRANSACTIONS",
    "OWNERS",
    "BILLS",
    "LINK",
    "INVESTMENTS",
    "INVESTMENT_TRANSACTIONS",
]
ProcessType = Literal["historical_update", "recurrent_update"]


class WebhookPayload(msgspec.Struct, kw_only=True):
    """Belvo's core payload; every key is present, with null where Belvo would send null."""

    webhook_id: str
    webhook_type: str
    webhook_code: str
    link_id: str | None
    request_id: str | None
    external_id: str | None
    process_type: str | None
    data: dict[str, Any]


def encode_payload(payload: WebhookPayload) -> bytes:
    return msgspec.json.encode(payload)


def default_process_type(webhook_code: str) -> ProcessType:
    """Belvo sends `historical_update` events from the historical workflow, others from
    refreshes of recurrent links."""
    return "historical_update" if webhook_code == "historical_update" else "recurrent_update"


def default_data(webhook_type: str, webhook_code: str, *, today: date) -> dict[str, Any]:
    """Return example `data` for a sandbox event of this type and code.

    The keys of the `historical_update` and `LINK` events are the ones Belvo documents. Belvo
    does not document the keys of `new_*_available`, so `new_<resource>` with a count is
    Vínculo's choice. Unknown combinations get `{}`.
    """
    if webhook_type == "LINK" and webhook_code == "invalid_credentials":
        return {
            "error_code": "login_error",
            "error_message": "Invalid credentials provided to login to the institution",
            "status": 400,
        }
    if webhook_type == "LINK" and webhook_code == "token_required":
        return {
            "error_code": "token_required",
            "error_message": "A MFA token is required by the institution to login",
            "status": 428,
        }
    if webhook_type == "TRANSACTIONS" and webhook_code == "historical_update":
        return {
            "total_transactions": 120,
            "total_inflow_transactions": 40,
            "total_outflow_transactions": 80,
            "first_transaction_date": (today - timedelta(days=364)).isoformat(),
            "last_transaction_date": today.isoformat(),
        }
    totals = {"ACCOUNTS": "accounts", "OWNERS": "owners", "BILLS": "bills"}
    resource = totals.get(webhook_type)
    if resource is not None and webhook_code == "historical_update":
        return {f"total_{resource}": 1}
    news = {
        ("ACCOUNTS", "new_accounts_available"): "new_accounts",
        ("TRANSACTIONS", "new_transactions_available"): "new_transactions",
        ("OWNERS", "new_owners_available"): "new_owners",
        ("BILLS", "new_bills_available"): "new_bills",
        ("INVESTMENTS", "new_investments_available"): "new_investments",
        (
            "INVESTMENT_TRANSACTIONS",
            "new_investment_transactions_available",
        ): "new_investment_transactions",
    }
    key = news.get((webhook_type, webhook_code))
    if key is not None:
        return {key: 1}
    return {}
