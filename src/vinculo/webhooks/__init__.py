"""Webhooks: per-tenant endpoints, an outbox of events, and signed delivery with retries."""
