"""Tenants and their API secret keys."""
